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
    b.screenshot("home").await;
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
        b.text_now("button.copy").await.as_deref() == Some("已复制")
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

async fn sign_in(b: &Browser, demo: &Demo, email: &str) {
    b.client.goto(&demo.at("/login")).await.unwrap();
    b.fill("email", email).await;
    b.fill("password", DEMO_PASSWORD).await;
    b.click_to(Locator::Css("form.form button[type=submit]"), "/")
        .await;
}

async fn sign_out(b: &Browser) {
    b.click_to(Locator::Css("form[action='/logout'] button"), "/")
        .await;
}

async fn choose(b: &Browser, id: &str, value: &str) {
    let select = b.client.find(Locator::Id(id)).await;
    let select = select.unwrap_or_else(|e| panic!("no select #{id}: {e}"));
    select.select_by_value(value).await.unwrap();
}

/// A provider's editor adds an entry through the console, the operator returns the ticket with
/// a reason, the editor corrects and resubmits, the operator accepts, and the entry is public.
#[tokio::test]
async fn an_entry_goes_from_the_provider_console_through_review_to_the_public_list() {
    let demo = Demo::start().await;
    let b = Browser::open("zh-CN").await;
    let c = &b.client;
    let save = || Locator::Id("save");

    sign_in(&b, &demo, "transport-editor@demo.kaifang.example").await;
    b.click_to(Locator::LinkText("工作台"), "/console").await;
    b.click_to(
        Locator::LinkText("上海市交通委员会"),
        "/console/orgs/sh-transport",
    )
    .await;
    b.click_to(
        Locator::LinkText("新建开放清单条目"),
        "/console/orgs/sh-transport/datasets/new",
    )
    .await;

    b.fill("name", "上海市公共自行车租赁点位").await;
    b.fill("summary", "全市公共自行车租赁点的位置和车位数。")
        .await;
    choose(&b, "domain", "transport").await;
    b.fill("keywords", "自行车，租赁").await;
    choose(&b, "update_frequency", "monthly").await;
    b.fill("license", "上海市公共数据开放平台数据使用协议")
        .await;
    for (dimension, level) in [
        ("security_level", "general"),
        ("personal_information", "none"),
        ("trade_secret", "none"),
        ("legal_restriction", "none"),
        ("processing_demand", "ordinary"),
        ("access_pattern", "one_off"),
    ] {
        choose(&b, &format!("grading-{dimension}"), level).await;
    }
    b.click(Locator::Css("input[name=open_type][value=unconditional]"))
        .await;
    b.click(Locator::Css("input[name=formats][value=csv]"))
        .await;
    b.fill("time_range-start", "2024-13-45").await;
    b.fill("data_items-0--name", "site_name").await;
    b.fill("data_items-0--label", "点位名称").await;
    choose(&b, "data_items-0--field_type", "text").await;
    let catalogue = c
        .find(Locator::Id("data_items-0--catalogue_item"))
        .await
        .unwrap();
    catalogue.select_by_index(1).await.unwrap();
    b.fill("contact-name", "数据开放工作联系人").await;
    b.fill("contact-phone", "021-5550-0000").await;

    // A date that does not exist: the form comes back with the error at the field and
    // everything typed kept; nothing is saved.
    b.click(save()).await;
    b.find_soon(Locator::Id("time_range-start-error")).await;
    assert_eq!(b.value_of("name").await, "上海市公共自行车租赁点位");
    assert_eq!(b.value_of("data_items-0--label").await, "点位名称");
    b.screenshot("console-form-errors").await;
    let date = c.find(Locator::Id("time_range-start")).await.unwrap();
    date.clear().await.unwrap();
    date.send_keys("2024-01-01").await.unwrap();
    b.click(save()).await;
    b.find_soon(Locator::Css("p.notice[role=status]")).await;
    let edit_path = c.current_url().await.unwrap().path().to_owned();
    assert!(edit_path.ends_with("/edit"), "{edit_path}");

    // Saved as a draft, but a data item without a description stops publishing: the problem
    // is listed at the top and shown next to the field.
    assert!(
        c.find(Locator::Id("data_items-0--description-error"))
            .await
            .is_ok()
    );
    b.fill("publish-reason", "新增公共自行车数据").await;
    b.click(Locator::Id("submit-ticket")).await;
    b.find_soon(Locator::Id("problems")).await;
    assert!(b.text("#problems").await.contains("数据项缺少说明"));

    b.fill("data_items-0--description", "租赁点的对外名称。")
        .await;
    b.click(save()).await;
    b.find_soon(Locator::Css("p.notice[role=status]")).await;
    if c.find(Locator::Id("problems")).await.is_ok() {
        panic!("problems left: {}", b.text("#problems").await);
    }
    b.fill("publish-reason", "新增公共自行车数据").await;
    b.click(Locator::Id("submit-ticket")).await;
    let state = b.find_soon(Locator::Id("ticket-state")).await;
    assert_eq!(state.text().await.unwrap(), "待审核");
    let ticket = c.current_url().await.unwrap().path().to_owned();
    sign_out(&b).await;

    // The operator finds it in the queue and returns it with a reason of A11.3.
    sign_in(&b, &demo, "operator@demo.kaifang.example").await;
    b.click_to(Locator::LinkText("工作台"), "/console").await;
    b.click_to(Locator::LinkText("待审核的工单"), "/console/tickets")
        .await;
    b.click_to(Locator::LinkText("上海市公共自行车租赁点位"), &ticket)
        .await;
    assert!(
        b.text("dl.proposal")
            .await
            .contains("上海市公共自行车租赁点位")
    );
    b.screenshot("ticket-review").await;
    // Returning without a reason is refused and changes nothing.
    b.fill("return-text", "请补充数据来源说明。").await;
    b.click(Locator::Id("return")).await;
    b.find_soon(Locator::Css("div.error[role=alert]")).await;
    assert_eq!(b.text("#ticket-state").await, "待审核");
    assert_eq!(b.value_of("return-text").await, "请补充数据来源说明。");
    b.click(Locator::Css(
        "input[name=reasons][value=incomplete_information]",
    ))
    .await;
    b.click(Locator::Id("return")).await;
    eventually("the ticket to be returned", || async {
        b.text_now("#ticket-state").await.as_deref() == Some("已退回")
    })
    .await;
    sign_out(&b).await;

    // The editor corrects the entry and submits the ticket again.
    sign_in(&b, &demo, "transport-editor@demo.kaifang.example").await;
    c.goto(&demo.at(&ticket)).await.unwrap();
    assert!(b.text("ol.events").await.contains("提供信息不全"));
    b.click_to(Locator::LinkText("查看条目"), &edit_path).await;
    let summary = c.find(Locator::Id("summary")).await.unwrap();
    summary
        .send_keys("数据来源于公共自行车运营单位。")
        .await
        .unwrap();
    b.click(save()).await;
    b.find_soon(Locator::Css("p.notice[role=status]")).await;
    c.goto(&demo.at(&ticket)).await.unwrap();
    b.fill("resubmit-reason", "已补充数据来源。").await;
    b.click(Locator::Id("resubmit")).await;
    eventually("the ticket to wait for review again", || async {
        b.text_now("#ticket-state").await.as_deref() == Some("待审核")
    })
    .await;
    sign_out(&b).await;

    // The operator accepts; the entry is on the public list and can be found.
    sign_in(&b, &demo, "operator@demo.kaifang.example").await;
    c.goto(&demo.at(&ticket)).await.unwrap();
    assert!(
        b.text("dl.proposal")
            .await
            .contains("数据来源于公共自行车运营单位。")
    );
    b.click(Locator::Id("accept")).await;
    eventually("the ticket to be accepted", || async {
        b.text_now("#ticket-state").await.as_deref() == Some("已通过")
    })
    .await;
    sign_out(&b).await;

    c.goto(&demo.at("/datasets?q=公共自行车")).await.unwrap();
    eventually("the new entry to be searchable", || async {
        c.refresh().await.unwrap();
        b.source().await.contains("上海市公共自行车租赁点位")
    })
    .await;
    b.click(Locator::LinkText("上海市公共自行车租赁点位")).await;
    b.find_soon(Locator::Id("citation")).await;
    assert!(b.text("h1").await.contains("上海市公共自行车租赁点位"));
    b.screenshot("published-entry").await;
    b.close().await;
}

/// Every page of the navigation opens in both languages, for a visitor and for the operator,
/// with the page's language declared and a heading; the policies and news of the demo are
/// among them.
#[tokio::test]
async fn every_page_of_the_navigation_opens_in_both_languages() {
    let demo = Demo::start().await;
    for lang in ["zh-CN", "en"] {
        let b = Browser::open(lang).await;
        let c = &b.client;
        for signed_in in [false, true] {
            if signed_in {
                sign_in(&b, &demo, "operator@demo.kaifang.example").await;
                c.goto(&demo.at("/console")).await.unwrap();
            } else {
                c.goto(&demo.at("/")).await.unwrap();
            }
            let mut links = Vec::new();
            for a in c
                .find_all(Locator::Css("header nav a, main a"))
                .await
                .unwrap()
            {
                if let Some(href) = a.attr("href").await.unwrap()
                    && href.starts_with('/')
                    && !href.starts_with("/lang/")
                    && !links.contains(&href)
                {
                    links.push(href);
                }
            }
            assert!(links.len() > 5, "{links:?}");
            for href in &links {
                c.goto(&demo.at(href)).await.unwrap();
                let html = c.find(Locator::Css("html")).await.unwrap();
                assert_eq!(
                    html.attr("lang").await.unwrap().as_deref(),
                    Some(lang),
                    "{href}"
                );
                let h1 = b.text_now("h1").await.unwrap_or_default();
                assert!(!h1.is_empty(), "{href} has no heading");
                assert!(
                    !h1.contains("出错") && !h1.contains("went wrong"),
                    "{href}: {h1}"
                );
            }
        }
        b.close().await;
    }
}

/// The main pages meet WCAG 2.1 A and AA as axe-core checks them (contrast, labels, names,
/// landmarks, language), for a visitor and in the provider console, and reflow without a
/// horizontal scroll: on a desktop, on the same desktop zoomed to 200 % (a 1280 × 1000 window at
/// 200 % lays out as 640 × 500 CSS pixels, drawn twice as large), and on a 360 px wide phone.
#[tokio::test]
async fn the_main_pages_pass_the_wcag_checks_on_desktop_and_phone() {
    let demo = Demo::start().await;
    let b = Browser::open("zh-CN").await;
    let c = &b.client;
    c.goto(&demo.at("/datasets?q=公交")).await.unwrap();
    let dataset = c
        .find(Locator::Css("ol.hits h2 a"))
        .await
        .unwrap()
        .attr("href")
        .await
        .unwrap()
        .unwrap();
    let news = {
        c.goto(&demo.at("/news")).await.unwrap();
        let a = c.find(Locator::Css("ul.articles a")).await.unwrap();
        a.attr("href").await.unwrap().unwrap()
    };
    let public = [
        "/",
        "/datasets?q=公交",
        dataset.as_str(),
        "/orgs",
        "/orgs/sh-transport",
        "/domains",
        "/domains/transport",
        "/news",
        news.as_str(),
        "/login",
        "/register",
        "/password/forgot",
        "/pages/about",
        "/pages/terms",
        "/pages/privacy",
        "/pages/contact",
        "/pages/accessibility",
        "/developers",
    ];
    // The provider's data page of the same entry (a transport entry, the editor's).
    let data_page = format!("/console{dataset}/data");
    let console = [
        "/console",
        data_page.as_str(),
        "/console/orgs/sh-transport",
        "/console/orgs/sh-transport/datasets/new",
        "/console/orgs/sh-transport/datasets/from-file",
        "/console/orgs/sh-transport/catalogue",
        "/console/orgs/sh-transport/reviews",
        "/account",
        "/account/password",
    ];
    let operator = ["/console/quality", "/console/calendar?from=2026-12-21"];
    for (width, height) in [(1280, 1000), (640, 500), (360, 740)] {
        c.set_window_size(width, height).await.unwrap();
        let mut problems = Vec::new();
        let mut check = async |path: &str| {
            c.goto(&demo.at(path)).await.unwrap();
            for v in b.accessibility_violations().await {
                problems.push(format!("{width}px {path}: {v}"));
            }
            if let Some(o) = b.horizontal_overflow().await {
                problems.push(format!("{width}px {path}: {o}"));
            }
            if let Some(t) = b.small_chart_text().await {
                problems.push(format!("{width}px {path}: chart text {t}"));
            }
        };
        for path in public {
            check(path).await;
        }
        sign_in(&b, &demo, "transport-editor@demo.kaifang.example").await;
        for path in console {
            check(path).await;
        }
        if width == 360 {
            c.goto(&demo.at(&dataset)).await.unwrap();
            b.screenshot("phone-dataset").await;
        }
        sign_out(&b).await;
        sign_in(&b, &demo, "operator@demo.kaifang.example").await;
        for path in operator {
            check(path).await;
        }
        sign_out(&b).await;
        assert!(problems.is_empty(), "{}", problems.join("\n"));
    }
    // The elder-friendly display passes the same checks (适老化).
    c.goto(&demo.at("/display/elder?next=/")).await.unwrap();
    assert!(b.source().await.contains("class=\"elder\""));
    for (width, height) in [(1280, 1000), (360, 740)] {
        c.set_window_size(width, height).await.unwrap();
        let mut problems = Vec::new();
        for path in public {
            c.goto(&demo.at(path)).await.unwrap();
            for v in b.accessibility_violations().await {
                problems.push(format!("elder {width}px {path}: {v}"));
            }
            if let Some(o) = b.horizontal_overflow().await {
                problems.push(format!("elder {width}px {path}: {o}"));
            }
        }
        if width == 360 {
            c.goto(&demo.at("/")).await.unwrap();
            b.screenshot("phone-home-elder").await;
        }
        assert!(problems.is_empty(), "{}", problems.join("\n"));
    }
    b.close().await;
}

/// Pages by (name, path).
type Pages<'a> = &'a [(&'a str, &'a str)];

/// Every public page and the provider's and the operator's main pages, at 1280 px and 390 px,
/// as `build-output/screenshots/pages/<width>-<name>.png` (scripts/screenshots.sh copies them
/// into docs/screenshots for docs/screenshots.md). Each page must open without an error.
#[tokio::test]
async fn screenshots_of_the_main_pages_of_every_party() {
    let demo = Demo::start().await;
    let b = Browser::open("zh-CN").await;
    let c = &b.client;
    c.goto(&demo.at("/datasets?q=公交")).await.unwrap();
    let dataset = c
        .find(Locator::Css("ol.hits h2 a"))
        .await
        .unwrap()
        .attr("href")
        .await
        .unwrap()
        .unwrap();
    let public = [
        ("home", "/"),
        ("search", "/datasets?q=公交"),
        ("dataset", dataset.as_str()),
        ("providers", "/orgs"),
        ("provider", "/orgs/sh-transport"),
        ("domains", "/domains"),
        ("domain", "/domains/transport"),
        ("news", "/news"),
        ("login", "/login"),
        ("register", "/register"),
        ("forgot-password", "/password/forgot"),
        ("about", "/pages/about"),
        ("terms", "/pages/terms"),
        ("privacy", "/pages/privacy"),
        ("contact", "/pages/contact"),
        ("accessibility", "/pages/accessibility"),
        ("developers", "/developers"),
    ];
    let resident = [
        ("resident-workbench", "/console"),
        ("resident-account", "/account"),
        ("resident-password", "/account/password"),
        ("resident-applications", "/applications"),
    ];
    let data_page = format!("/console{dataset}/data");
    let provider = [
        ("console", "/console"),
        ("provider-data", data_page.as_str()),
        ("provider-console", "/console/orgs/sh-transport"),
        (
            "provider-new-entry",
            "/console/orgs/sh-transport/datasets/new",
        ),
        (
            "provider-new-entry-from-file",
            "/console/orgs/sh-transport/datasets/from-file",
        ),
        ("provider-catalogue", "/console/orgs/sh-transport/catalogue"),
        ("provider-reviews", "/console/orgs/sh-transport/reviews"),
        (
            "provider-work-orders",
            "/console/orgs/sh-transport/work-orders",
        ),
    ];
    let operator = [
        ("operator-queue", "/console/tickets"),
        ("operator-review-cycles", "/console/review-cycles"),
        ("operator-guide", "/console/guide"),
        ("operator-vocabularies", "/console/vocabularies"),
        ("operator-people", "/console/people"),
        ("operator-jobs", "/console/jobs"),
        ("operator-quality", "/console/quality"),
        ("operator-calendar", "/console/calendar?from=2026-12-21"),
        ("operator-articles", "/console/articles"),
        ("operator-applications", "/console/applications"),
        ("operator-oversight", "/console/oversight"),
    ];
    let expert = [("expert-desk", "/console/expert")];
    let parties: [(Option<&str>, Pages); 5] = [
        (None, &public),
        (Some("resident@demo.kaifang.example"), &resident),
        (Some("transport-editor@demo.kaifang.example"), &provider),
        (Some("operator@demo.kaifang.example"), &operator),
        (Some("expert@demo.kaifang.example"), &expert),
    ];
    for (width, height) in [(1280, 900), (390, 844)] {
        c.set_window_size(width, height).await.unwrap();
        for (account, pages) in &parties {
            if let Some(email) = account {
                sign_in(&b, &demo, email).await;
            }
            for (name, path) in pages.iter() {
                c.goto(&demo.at(path)).await.unwrap();
                let title = c.title().await.unwrap();
                assert!(
                    !title.contains("出错了") && !title.is_empty(),
                    "{path}: {title}"
                );
                b.screenshot(&format!("pages/{width}-{name}")).await;
            }
            if account.is_some() {
                sign_out(&b).await;
            }
        }
    }
    b.close().await;
}

/// Issue 10: data items, conditions, materials and relations are added and removed on the
/// page, without saving, and what was typed in the other rows stays.
#[tokio::test]
async fn repeating_rows_are_added_and_removed_on_the_page() {
    let demo = Demo::start().await;
    let b = Browser::open("zh-CN").await;
    let c = &b.client;
    sign_in(&b, &demo, "transport-editor@demo.kaifang.example").await;
    c.goto(&demo.at("/console/orgs/sh-transport/datasets/new"))
        .await
        .unwrap();
    let rows = |set: &'static str| async move {
        c.find_all(Locator::Css(&format!("#{set} > .row")))
            .await
            .unwrap()
    };
    let before = rows("data_items").await.len();
    b.fill("data_items-0--name", "site_name").await;
    b.click(Locator::Css("#data_items > button.add-row")).await;
    assert_eq!(rows("data_items").await.len(), before + 1);
    // The new row is numbered after the last and starts empty.
    let new_name = format!("data_items-{before}--name");
    assert_eq!(b.value_of(&new_name).await, "");
    let named = c.find(Locator::Id(&new_name)).await.unwrap();
    assert_eq!(
        named.attr("name").await.unwrap().as_deref(),
        Some(format!("data_items[{before}].name").as_str())
    );
    b.fill(&new_name, "site_code").await;
    b.screenshot("console-form-rows").await;

    // Removing the first row keeps the others as typed and numbers them again.
    let first = rows("data_items").await.remove(0);
    first
        .find(Locator::Css("button.remove-row"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    assert_eq!(rows("data_items").await.len(), before);
    assert_eq!(b.value_of(&new_name).await, "site_code");
    assert!(c.find(Locator::Id("data_items-0--name")).await.is_err());
    assert_eq!(
        b.text("#data_items > .row:first-of-type > legend").await,
        "第 1 个数据项"
    );

    // A related entry is found by its name; the choices carry identifiers.
    b.fill("relations-0--dataset", "公交").await;
    eventually("choices of related entries", || async {
        c.find_all(Locator::Css("#dataset-choices option"))
            .await
            .is_ok_and(|o| !o.is_empty())
    })
    .await;
    let option = c
        .find(Locator::Css("#dataset-choices option"))
        .await
        .unwrap();
    let label = option.attr("label").await.unwrap().unwrap_or_default();
    let value = option.attr("value").await.unwrap().unwrap_or_default();
    assert!(label.contains("公交"), "{label}");
    let res = reqwest::get(demo.at(&format!("/api/v1/datasets/{value}")))
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "{value} is an entry's identifier");

    for set in ["conditions", "materials", "relations"] {
        let n = rows(set).await.len();
        b.click(Locator::Css(&format!("#{set} > button.add-row")))
            .await;
        assert_eq!(rows(set).await.len(), n + 1, "{set}");
    }
    assert!(b.accessibility_violations().await.is_empty());

    // The API page's examples name where this platform answers, though it was started on
    // whatever port was free.
    c.goto(&demo.at("/developers")).await.unwrap();
    assert!(b.source().await.contains(&demo.at("/api/v1/datasets")));
}

/// Issue 11's journey: a provider uploads a GBK-encoded CSV on the entry's data page, sees it
/// read (as GBK) and refused with the line and value to fix, uploads the fixed file and it is
/// published; the public page then shows the new version.
#[tokio::test]
async fn a_provider_uploads_a_gbk_file_reads_its_report_fixes_it_and_publishes() {
    let demo = Demo::start().await;
    // The demo's bus stops, as a file in the shape the entry declares: its own CSV download.
    let found: serde_json::Value = reqwest::get(demo.at("/api/v1/datasets?q=公交站点位置"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let dataset = found["results"][0]["id"].as_str().unwrap().to_owned();
    let csv = reqwest::get(demo.at(&format!("/datasets/{dataset}/download?format=csv")))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csv = csv.trim_start_matches('\u{feff}');
    let lines: Vec<&str> = csv.lines().take(31).collect();
    let header: Vec<&str> = lines[0].split(',').collect();
    // A decimal column (a coordinate), by the records API's description of the fields.
    let fields: serde_json::Value =
        reqwest::get(demo.at(&format!("/api/v1/datasets/{dataset}/records?limit=1")))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
    let decimal = fields["fields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["type"] == "decimal")
        .map(|f| f["name"].as_str().unwrap().to_owned())
        .expect("a decimal field");
    let at = header
        .iter()
        .position(|h| *h == decimal)
        .expect("the download's header names the fields");
    // Line 4 of the file gets a word where a number belongs.
    let mut broken: Vec<String> = lines.iter().map(|l| (*l).to_owned()).collect();
    let mut cells: Vec<&str> = lines[3].split(',').collect();
    cells[at] = "不是数字";
    broken[3] = cells.join(",");
    let gbk = |text: &str| encoding_rs::GBK.encode(text).0.into_owned();
    let dir = tempfile::tempdir().unwrap();
    let bad_file = dir.path().join("公交站点-有误.csv");
    let good_file = dir.path().join("公交站点.csv");
    std::fs::write(&bad_file, gbk(&(broken.join("\n") + "\n"))).unwrap();
    std::fs::write(&good_file, gbk(&(lines.join("\n") + "\n"))).unwrap();

    let b = Browser::open("zh-CN").await;
    let c = &b.client;
    sign_in(&b, &demo, "transport-editor@demo.kaifang.example").await;
    let page = format!("/console/datasets/{dataset}/data");
    let upload = async |file: &std::path::Path| {
        c.goto(&demo.at(&page)).await.unwrap();
        let input = c.find(Locator::Id("file")).await.unwrap();
        input.send_keys(file.to_str().unwrap()).await.unwrap();
        b.click_to(Locator::Css("form[enctype] button[type=submit]"), &page)
            .await;
    };
    // The page follows the reading (it refreshes itself) until the verdict.
    let verdict = async || {
        for _ in 0..300 {
            if let Some(badge) = b.text_now("#report ~ p .badge").await
                && badge != "读取中"
            {
                return badge;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        panic!("no verdict");
    };

    upload(&bad_file).await;
    assert_eq!(verdict().await, "未通过：请修改后重新上传");
    let report = b.source().await;
    // Detected, and named as the encoding choice names it.
    assert!(
        report.contains("按 GBK 读取") || report.contains("按 GB18030 读取"),
        "{report}"
    );
    // The example names the line and the value to fix.
    assert!(report.contains("<td>4</td>"), "the line");
    assert!(report.contains("<code>不是数字</code>"), "the value");
    b.screenshot("journey-upload-refused").await;

    upload(&good_file).await;
    assert_eq!(verdict().await, "已发布");
    b.screenshot("journey-upload-published").await;
    c.goto(&demo.at(&format!("/datasets/{dataset}")))
        .await
        .unwrap();
    let public = b.source().await;
    assert!(public.contains("第 2 版，共 30 行"), "the new version");
}

/// Issue 12's journey, every party in turn: a resident applies from a conditional dataset's
/// page (items, scenario, period, materials), the operator accepts it as complete, the
/// provider's reviewer finds the work order in the inbox by deadline and approves it, both
/// sides sign the agreement with their passwords, and the credential shown once reads the
/// granted data through the records API.
#[tokio::test]
async fn an_application_goes_from_apply_to_a_working_credential_through_every_party() {
    let demo = Demo::start().await;
    let found: serde_json::Value = reqwest::get(demo.at("/api/v1/datasets?q=公交车辆实时位置"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let dataset = found["results"][0]["id"].as_str().unwrap().to_owned();
    let dir = tempfile::tempdir().unwrap();
    let pdf = dir.path().join("材料.pdf");
    std::fs::write(
        &pdf,
        b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n",
    )
    .unwrap();
    let b = Browser::open("zh-CN").await;
    let c = &b.client;
    let mut problems = Vec::new();

    // The resident applies.
    sign_in(&b, &demo, "resident@demo.kaifang.example").await;
    c.goto(&demo.at(&format!("/datasets/{dataset}")))
        .await
        .unwrap();
    b.click_to(Locator::LinkText("申请使用"), "/applications/new")
        .await;
    let boxes = c
        .find_all(Locator::Css("input[type=checkbox]"))
        .await
        .unwrap();
    for cb in boxes.iter().take(2) {
        cb.click().await.unwrap();
    }
    // The period starts today in Shanghai, as the platform counts days (the credential is
    // used at once, so it must not start tomorrow).
    let today = chrono::Utc::now()
        .with_timezone(&domain::clock::china_standard_time())
        .date_naive();
    c.execute(
        "const s = document.querySelector('select[name^=scenario]'); s.selectedIndex = 1;\
         document.getElementById('period_start').value = arguments[0];\
         document.getElementById('period_end').value = arguments[1];",
        vec![
            serde_json::json!(today.to_string()),
            serde_json::json!((today + chrono::Days::new(180)).to_string()),
        ],
    )
    .await
    .unwrap();
    b.fill("purpose", "研究公交运行规律，用于出行服务改进。")
        .await;
    b.fill("calls_per_day", "500").await;
    b.fill("security_measures", "专人专机处理，访问留痕。")
        .await;
    c.find(Locator::Css(
        "form[action='/applications'] button[type=submit]",
    ))
    .await
    .unwrap()
    .click()
    .await
    .unwrap();
    b.find_soon(Locator::Id("materials")).await;
    let application = c.current_url().await.unwrap().path().to_owned();
    // Each required material and the pledge, one upload at a time.
    for _ in 0..10 {
        let left = c
            .find_all(Locator::Css("#material option"))
            .await
            .unwrap()
            .len();
        if left == 0 {
            break;
        }
        c.find(Locator::Id("file"))
            .await
            .unwrap()
            .send_keys(pdf.to_str().unwrap())
            .await
            .unwrap();
        c.find(Locator::Css("form[action$='/materials'] button"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        eventually("the material is listed", async || {
            c.find_all(Locator::Css("#material option"))
                .await
                .map(|o| o.len() < left)
                .unwrap_or(false)
        })
        .await;
    }
    b.screenshot("access-applicant-materials").await;
    problems.extend(b.accessibility_violations().await);
    c.find(Locator::Css("form[action$='/submit'] button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    eventually("the application is submitted", async || {
        b.text_now(".meta .badge").await.as_deref() == Some("待完整性审核")
    })
    .await;
    sign_out(&b).await;

    // The operator accepts it as complete.
    sign_in(&b, &demo, "operator@demo.kaifang.example").await;
    c.goto(&demo.at("/console/applications")).await.unwrap();
    b.screenshot("access-operator-queue").await;
    problems.extend(b.accessibility_violations().await);
    b.click_to(
        Locator::Css(&format!("a[href='{application}']")),
        &application,
    )
    .await;
    c.find(Locator::Css("form[action$='/accept'] button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let order = b.find_soon(Locator::Css("a.order-link")).await;
    let order = order.attr("href").await.unwrap().unwrap();
    sign_out(&b).await;

    // The provider's reviewer finds it in the inbox and approves it.
    sign_in(&b, &demo, "transport-reviewer@demo.kaifang.example").await;
    c.goto(&demo.at("/console/orgs/sh-transport/work-orders"))
        .await
        .unwrap();
    b.screenshot("access-provider-inbox").await;
    problems.extend(b.accessibility_violations().await);
    assert!(b.source().await.contains("剩余 10 个工作日"));
    b.click_to(Locator::Css(&format!("a[href='{order}']")), &order)
        .await;
    // A large request: the reviewer first asks an expert, by today.
    c.find(Locator::Css("input[name=experts]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.execute(
        "document.getElementById('expert-due').value = arguments[0];",
        vec![serde_json::json!(today.to_string())],
    )
    .await
    .unwrap();
    b.fill("expert-question", "请评估多源数据融合风险。").await;
    // The form comes back to the work order, now listing the expert review.
    b.click(Locator::Css("form[action$='/experts'] button"))
        .await;
    b.find_soon(Locator::Id("expert-review")).await;
    assert!(b.source().await.contains("待提交"), "the opinion awaited");
    sign_out(&b).await;

    // The expert (the first listed: the data security expert) files an opinion.
    sign_in(&b, &demo, "expert2@demo.kaifang.example").await;
    c.goto(&demo.at("/console/expert")).await.unwrap();
    b.screenshot("access-expert-desk").await;
    problems.extend(b.accessibility_violations().await);
    let assignment = c
        .find(Locator::Css("table a"))
        .await
        .unwrap()
        .attr("href")
        .await
        .unwrap()
        .unwrap();
    c.goto(&demo.at(&assignment)).await.unwrap();
    assert!(b.source().await.contains("请评估多源数据融合风险。"));
    c.find(Locator::Css("input[name=recommendation][value=approve]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    b.fill("opinion-text", "场景明确，数据项最少够用，同意开放。")
        .await;
    problems.extend(b.accessibility_violations().await);
    b.click(Locator::Css("form[action$='/opinion'] button"))
        .await;
    b.find_soon(Locator::Id("filed-opinion")).await;
    b.screenshot("access-expert-opinion").await;
    sign_out(&b).await;

    // Back with the reviewer, who reads the opinion and approves.
    sign_in(&b, &demo, "transport-reviewer@demo.kaifang.example").await;
    c.goto(&demo.at(&order)).await.unwrap();
    assert!(
        b.source()
            .await
            .contains("场景明确，数据项最少够用，同意开放。")
    );
    b.fill("fairness", "与同类申请同等对待。").await;
    b.fill("scenario_value", "出行服务研究，公共价值高。").await;
    b.fill("combination_risk", "不含个人信息，融合风险低。")
        .await;
    problems.extend(b.accessibility_violations().await);
    c.find(Locator::Css("button[value=approve]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let agreement = b
        .find_soon(Locator::Css("a[href^='/agreements/']"))
        .await
        .attr("href")
        .await
        .unwrap()
        .unwrap();
    let sign = async |email: &str| {
        sign_in(&b, &demo, email).await;
        c.goto(&demo.at(&agreement)).await.unwrap();
        b.fill("password", DEMO_PASSWORD).await;
        b.click_to(
            Locator::Css("form[action$='/sign'] button"),
            &format!("{agreement}/sign"),
        )
        .await;
    };
    sign_out(&b).await;
    sign("transport-reviewer@demo.kaifang.example").await;
    sign_out(&b).await;

    // The resident signs last and is shown the credential once.
    sign("resident@demo.kaifang.example").await;
    b.screenshot("access-agreement-credential").await;
    problems.extend(b.accessibility_violations().await);
    let secret = b.text("code.secret").await;
    assert!(secret.starts_with("kf_"), "{secret}");
    let answer: serde_json::Value = reqwest::Client::new()
        .get(demo.at(&format!("/api/v1/datasets/{dataset}/records?limit=3")))
        .bearer_auth(&secret)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let record = answer["records"][0].as_object().expect("a record");
    assert_eq!(record.len(), 2, "the two items ticked: {record:?}");
    c.goto(&demo.at(&application)).await.unwrap();
    b.screenshot("access-applicant-timeline").await;
    assert!(b.source().await.contains("生效中"));
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    b.close().await;
}

/// The hrefs of the page's links whose address contains `part`.
async fn links(b: &Browser, part: &str) -> Vec<String> {
    let found = b
        .client
        .execute(
            "return Array.from(document.querySelectorAll('a')).map(a => a.getAttribute('href'))",
            vec![],
        )
        .await
        .unwrap();
    let mut out: Vec<String> = found
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|h| h.as_str())
        .filter(|h| h.contains(part))
        .map(str::to_owned)
        .collect();
    out.dedup();
    out
}

/// The privacy guard as each party meets it (A21.2, A22.1, A14.1): the demo's resident finds
/// the exact sandbox among their agreements, asks a grouped count and sees the groups answered
/// and those suppressed marked, then a query for records refused; the operator opens the
/// conditional entry's privacy page; a visitor finds its sample section and downloads the
/// sample. Every page passes the WCAG checks at desktop and phone widths.
#[tokio::test]
async fn the_sandbox_the_privacy_page_and_the_sample_work_for_each_party() {
    let demo = Demo::start().await;
    let found: serde_json::Value = reqwest::get(demo.at("/api/v1/datasets?q=公交车辆实时位置"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let dataset = found["results"][0]["id"].as_str().unwrap().to_owned();
    let b = Browser::open("zh-CN").await;
    let c = &b.client;
    let mut problems = Vec::new();
    sign_in(&b, &demo, "resident@demo.kaifang.example").await;

    // The resident's sandboxes, from their applications' agreements.
    c.goto(&demo.at("/applications")).await.unwrap();
    let mut sandboxes = Vec::new();
    for application in links(&b, "/applications/0").await {
        c.goto(&demo.at(&application)).await.unwrap();
        for agreement in links(&b, "/agreements/").await {
            if agreement.ends_with("/pdf") {
                continue;
            }
            c.goto(&demo.at(&agreement)).await.unwrap();
            sandboxes.extend(links(&b, "/sandbox").await);
        }
    }
    sandboxes.sort();
    sandboxes.dedup();
    assert_eq!(
        sandboxes.len(),
        2,
        "the demo's two sandboxes: {sandboxes:?}"
    );
    let mut exact = None;
    for s in &sandboxes {
        c.goto(&demo.at(s)).await.unwrap();
        if c.find(Locator::Id("epsilon")).await.is_err() {
            exact = Some(s.clone());
        }
    }
    let exact = exact.expect("an exact sandbox");

    // Rows up to 2024-01-10 14:00 are the first 230 of the demo's file: lines 1–14 hold ten of
    // them each, lines 15–24 nine.
    c.goto(&demo.at(&exact)).await.unwrap();
    c.find(Locator::Id("sql"))
        .await
        .unwrap()
        .clear()
        .await
        .unwrap();
    b.fill(
        "sql",
        "SELECT line_name, count(*) AS 次数 FROM \"上海市公交车辆实时位置\" \
         WHERE report_time < '2024-01-10 14:00:00' GROUP BY line_name ORDER BY line_name",
    )
    .await;
    b.click(Locator::Css("form.form button[type=submit]")).await;
    b.find_soon(Locator::Css("table.answer")).await;
    let answered = c
        .find_all(Locator::Css("table.answer tbody tr:not(.suppressed)"))
        .await
        .unwrap();
    assert_eq!(answered.len(), 14);
    assert!(
        b.text("table.answer tr.suppressed")
            .await
            .contains("已抑制 10 组")
    );
    assert!(b.text("table.answer tbody").await.contains("10"));
    b.screenshot("sandbox-answer").await;
    for v in b.accessibility_violations().await {
        problems.push(format!("sandbox answer: {v}"));
    }
    c.find(Locator::Id("sql"))
        .await
        .unwrap()
        .clear()
        .await
        .unwrap();
    b.fill(
        "sql",
        "SELECT vehicle_no, lng, lat FROM \"上海市公交车辆实时位置\"",
    )
    .await;
    b.click(Locator::Css("form.form button[type=submit]")).await;
    b.find_soon(Locator::Css(".problems")).await;
    assert!(b.text(".problems").await.contains("沙箱只返回聚合结果"));
    assert!(b.text("table").await.contains("已拒绝"), "the log shows it");
    for (width, height) in [(1280, 1000), (360, 740)] {
        c.set_window_size(width, height).await.unwrap();
        c.goto(&demo.at(&exact)).await.unwrap();
        for v in b.accessibility_violations().await {
            problems.push(format!("{width}px sandbox: {v}"));
        }
        if let Some(o) = b.horizontal_overflow().await {
            problems.push(format!("{width}px sandbox: {o}"));
        }
    }
    c.set_window_size(1280, 1000).await.unwrap();
    sign_out(&b).await;

    // The operator's privacy page of the same entry, with its sample builder.
    sign_in(&b, &demo, "operator@demo.kaifang.example").await;
    let privacy = format!("/console/datasets/{dataset}/privacy");
    c.goto(&demo.at(&privacy)).await.unwrap();
    assert!(
        b.source().await.contains("id=\"sample\""),
        "the sample builder"
    );
    b.screenshot("privacy-operator").await;
    for v in b.accessibility_violations().await {
        problems.push(format!("privacy page: {v}"));
    }
    sign_out(&b).await;

    // A visitor: the sample section of the public page, and the sample itself.
    let page = format!("/datasets/{dataset}");
    eventually("the sample is published", || async {
        c.goto(&demo.at(&page)).await.unwrap();
        b.source()
            .await
            .contains(&format!("/datasets/{dataset}/sample?format=csv"))
    })
    .await;
    for v in b.accessibility_violations().await {
        problems.push(format!("public page with its sample: {v}"));
    }
    let sample = reqwest::get(demo.at(&format!("/datasets/{dataset}/sample?format=csv")))
        .await
        .unwrap();
    assert_eq!(sample.status(), reqwest::StatusCode::OK);
    let text = sample.text().await.unwrap();
    assert!(text.lines().count() > 10, "{text}");
    b.close().await;
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
