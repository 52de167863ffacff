use std::time::Duration;

use fantoccini::Locator;

use crate::support::*;

/// Waits until `check` holds for the page, for pages that change after a click.
async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    for _ in 0..50 {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{what} did not happen");
}

#[tokio::test]
async fn a_visitor_searches_opens_a_dataset_and_copies_its_citation() {
    let demo = Demo::start().await;
    let b = Browser::open("zh-CN").await;
    let c = &b.client;

    c.goto(&demo.at("/")).await.unwrap();
    b.fill("home-q", "公交").await;
    b.click_to(
        Locator::Css("form.searchbar button[type=submit]"),
        "/datasets",
    )
    .await;
    let url = c.current_url().await.unwrap();
    assert_eq!(url.path(), "/datasets");
    assert!(
        url.query().unwrap_or("").contains("q=%E5%85%AC%E4%BA%A4"),
        "{url}"
    );
    let count = b.text("#result-count").await;
    assert!(
        count.starts_with("共找到") && !count.contains(" 0 "),
        "{count}"
    );
    b.screenshot("search-results").await;

    // A facet narrows the search and stays in the address.
    b.click_to(
        Locator::XPath("//aside//a[contains(., '无条件开放')]"),
        "/datasets",
    )
    .await;
    let url = c.current_url().await.unwrap();
    assert!(
        url.query().unwrap().contains("open_type=unconditional"),
        "{url}"
    );
    assert!(b.source().await.contains("value=\"公交\""));

    // The first hit opens its dataset page, with the entry's data items and citation.
    let first = c.find(Locator::Css("ol.hits h2 a")).await.unwrap();
    let name = first.text().await.unwrap();
    let href = first.attr("href").await.unwrap().unwrap();
    b.click_to(Locator::Css("ol.hits h2 a"), &href).await;
    assert_eq!(b.text("h1").await, name);
    assert!(b.text("#access + p").await.contains("无条件开放"));
    let items = c
        .find_all(Locator::Css("section[aria-labelledby=items] tbody tr"))
        .await
        .unwrap();
    assert!(!items.is_empty());
    let citation = c
        .find(Locator::Id("citation"))
        .await
        .unwrap()
        .prop("value")
        .await
        .unwrap()
        .unwrap_or_default();
    assert!(
        citation.contains(&name) && citation.contains("[DS]"),
        "{citation}"
    );
    b.screenshot("dataset").await;

    // The copy button exists only with JavaScript, and says when it has copied.
    let copy = c.find(Locator::Css("button.copy")).await.unwrap();
    assert!(copy.is_displayed().await.unwrap());
    copy.click().await.unwrap();
    eventually("the copy button to say it copied", || async {
        b.text("button.copy").await == "已复制"
    })
    .await;
    b.close().await;
}

#[tokio::test]
async fn a_resident_registers_signs_in_and_creates_an_api_token_in_english() {
    let demo = Demo::start().await;
    let b = Browser::open("en").await;
    let c = &b.client;
    let submit = || Locator::Css("form.form button[type=submit]");

    c.goto(&demo.at("/")).await.unwrap();
    let html = c.find(Locator::Css("html")).await.unwrap();
    assert_eq!(html.attr("lang").await.unwrap().as_deref(), Some("en"));
    b.click_to(Locator::LinkText("Register"), "/register").await;

    // A bad form first: every error is shown next to its field and what was typed stays.
    b.fill("email", "li.lei@example").await;
    b.fill("password", "short").await;
    b.fill("display_name", "Li Lei").await;
    b.click(submit()).await;
    b.find_soon(Locator::Id("email-error")).await;
    b.find_soon(Locator::Id("password-error")).await;
    assert_eq!(b.value_of("display_name").await, "Li Lei");
    assert_eq!(b.value_of("email").await, "li.lei@example");
    b.screenshot("register-errors").await;

    c.find(Locator::Id("email"))
        .await
        .unwrap()
        .clear()
        .await
        .unwrap();
    b.fill("email", "li.lei@example.cn").await;
    b.fill("password", "a-long-passphrase-2026").await;
    b.click_to(submit(), "/login").await;

    b.fill("email", "li.lei@example.cn").await;
    b.fill("password", "a-long-passphrase-2026").await;
    b.click_to(submit(), "/").await;
    b.click_to(Locator::LinkText("My account"), "/account")
        .await;

    b.fill("token-name", "my analysis").await;
    b.click(Locator::Css("form[action='/account/tokens'] button"))
        .await;
    let secret = b
        .find_soon(Locator::Id("new-token"))
        .await
        .text()
        .await
        .unwrap();
    assert!(secret.starts_with("kf_"), "{secret}");
    assert!(b.source().await.contains("my analysis"));
    b.screenshot("account-token").await;
    b.close().await;
}
