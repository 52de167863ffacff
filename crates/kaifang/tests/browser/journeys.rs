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
    c.find(Locator::LinkText("数据目录"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let q = c.find(Locator::Id("q")).await.unwrap();
    q.send_keys("公交").await.unwrap();
    c.find(Locator::Css("form.searchbar button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
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
    c.find(Locator::XPath("//aside//a[contains(., '无条件开放')]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let url = c.current_url().await.unwrap();
    assert!(
        url.query().unwrap().contains("open_type=unconditional"),
        "{url}"
    );
    assert!(b.source().await.contains("value=\"公交\""));

    // The first hit opens its dataset page, with the entry's data items and citation.
    let first = c.find(Locator::Css("ol.hits h2 a")).await.unwrap();
    let name = first.text().await.unwrap();
    first.click().await.unwrap();
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

    c.goto(&demo.at("/")).await.unwrap();
    assert_eq!(
        c.find(Locator::Css("html"))
            .await
            .unwrap()
            .attr("lang")
            .await
            .unwrap()
            .as_deref(),
        Some("en")
    );
    c.find(Locator::LinkText("Register"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    // A bad form first: every error is shown and what was typed stays.
    c.find(Locator::Id("email"))
        .await
        .unwrap()
        .send_keys("li.lei@example")
        .await
        .unwrap();
    c.find(Locator::Id("password"))
        .await
        .unwrap()
        .send_keys("short")
        .await
        .unwrap();
    c.find(Locator::Id("display_name"))
        .await
        .unwrap()
        .send_keys("Li Lei")
        .await
        .unwrap();
    c.find(Locator::Css("form.form button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    assert!(c.find(Locator::Id("email-error")).await.is_ok());
    assert!(c.find(Locator::Id("password-error")).await.is_ok());
    let kept = c
        .find(Locator::Id("display_name"))
        .await
        .unwrap()
        .prop("value")
        .await
        .unwrap();
    assert_eq!(kept.as_deref(), Some("Li Lei"));
    b.screenshot("register-errors").await;

    let email = c.find(Locator::Id("email")).await.unwrap();
    email.clear().await.unwrap();
    email.send_keys("li.lei@example.cn").await.unwrap();
    c.find(Locator::Id("password"))
        .await
        .unwrap()
        .send_keys("a-long-passphrase-2026")
        .await
        .unwrap();
    c.find(Locator::Css("form.form button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    assert_eq!(c.current_url().await.unwrap().path(), "/login");

    c.find(Locator::Id("email"))
        .await
        .unwrap()
        .send_keys("li.lei@example.cn")
        .await
        .unwrap();
    c.find(Locator::Id("password"))
        .await
        .unwrap()
        .send_keys("a-long-passphrase-2026")
        .await
        .unwrap();
    c.find(Locator::Css("form.form button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.find(Locator::LinkText("My account"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    assert_eq!(c.current_url().await.unwrap().path(), "/account");

    c.find(Locator::Id("token-name"))
        .await
        .unwrap()
        .send_keys("my analysis")
        .await
        .unwrap();
    c.find(Locator::Css("form[action='/account/tokens'] button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let secret = b.text("#new-token").await;
    assert!(secret.starts_with("kf_"), "{secret}");
    assert!(b.source().await.contains("my analysis"));
    b.screenshot("account-token").await;
    b.close().await;
}
