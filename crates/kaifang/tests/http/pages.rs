use reqwest::StatusCode;

use crate::support::*;

#[tokio::test]
async fn register_form_shows_every_error_next_to_its_field_and_keeps_input() {
    let app = spawn_app().await;
    let browser = client();
    let form = browser
        .get(app.at("/register"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = form_csrf(&form);
    let res = browser
        .post(app.at("/register"))
        .form(&[
            ("_csrf", csrf.as_str()),
            ("kind", "organization"),
            ("email", "wang@example"),
            ("password", "short"),
            ("display_name", "王经理"),
            ("legal_name", "示范公司"),
            ("uscc", "123456"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = res.text().await.unwrap();
    for id in ["email-error", "password-error", "uscc-error"] {
        assert!(html.contains(&format!("id=\"{id}\"")), "{id} missing");
    }
    assert!(!html.contains("id=\"display_name-error\""));
    assert!(html.contains("value=\"wang@example\"") && html.contains("value=\"王经理\""));
    assert!(html.contains("统一社会信用代码无效"));
    assert_eq!(app.count("users").await, 0);
}

#[tokio::test]
async fn forms_without_the_csrf_token_are_refused() {
    let app = spawn_app().await;
    app.register("form@example.cn").await;
    let res = client()
        .post(app.at("/login"))
        .form(&[("email", "form@example.cn"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(error_code(&res), "csrf_failed");
    assert_eq!(app.count("sessions").await, 0);
}

#[tokio::test]
async fn a_visitor_signs_in_with_the_form_and_creates_a_token_on_the_account_page() {
    let app = spawn_app().await;
    app.register("page@example.cn").await;
    let browser = client();

    // The account page sends a visitor to sign in first, and back afterwards.
    let res = browser.get(app.at("/account")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(res.headers()["location"], "/login?next=/account");

    let login = browser
        .get(app.at("/login?next=/account"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let res = browser
        .post(app.at("/login"))
        .form(&[
            ("_csrf", form_csrf(&login).as_str()),
            ("email", "page@example.cn"),
            ("password", PASSWORD),
            ("next", "/account"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(res.headers()["location"], "/account");

    let account = browser
        .get(app.at("/account"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(account.contains("page@example.cn"));
    // The form says how long a token lives when no days are given (tokens always expire).
    assert!(account.contains("留空则为 90 天"), "{account}");
    let res = browser
        .post(app.at("/account/tokens"))
        .form(&[
            ("_csrf", form_csrf(&account).as_str()),
            ("name", "数据同步"),
            ("expires_in_days", "30"),
            ("read_only", "1"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let html = res.text().await.unwrap();
    assert!(
        html.contains("<span class=\"badge\">只读</span>"),
        "the list marks read-only tokens"
    );
    let marker = "<code id=\"new-token\">";
    let start = html.find(marker).unwrap() + marker.len();
    let secret = html[start..].split('<').next().unwrap();
    assert_eq!(
        client()
            .get(app.at("/api/v1/me"))
            .bearer_auth(secret)
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );

    // Shown once: the page does not show it again.
    let again = browser
        .get(app.at("/account"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!again.contains(secret));
}

#[tokio::test]
async fn pages_switch_language_and_remember_it() {
    let app = spawn_app().await;
    let browser = client();
    let zh = browser.get(app.at("/")).send().await.unwrap();
    assert!(
        zh.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("frame-ancestors 'none'")
    );
    assert!(zh.text().await.unwrap().contains("lang=\"zh-CN\""));
    let res = browser
        .get(app.at("/lang/en?next=/login"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["location"], "/login");
    let en = browser
        .get(app.at("/login"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(en.contains("lang=\"en\"") && en.contains("Sign in"));
    // An off-site `next` is not followed.
    let res = browser
        .get(app.at("/lang/zh-CN?next=//evil.example"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["location"], "/");
}

/// Issue 10: a successful registration led to the sign-in page without a word.
#[tokio::test]
async fn a_registration_that_worked_says_so_on_the_sign_in_page() {
    let app = spawn_app().await;
    let browser = client();
    let form = browser
        .get(app.at("/register"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = form_csrf(&form);
    let res = browser
        .post(app.at("/register"))
        .form(&[
            ("_csrf", csrf.as_str()),
            ("kind", "natural_person"),
            ("email", "li@example.cn"),
            ("password", "Huangpu-river-ferry-2026"),
            ("display_name", "李明"),
        ])
        .send()
        .await
        .unwrap();
    assert!(res.status().is_redirection(), "{}", res.status());
    let to = res.headers()["location"].to_str().unwrap().to_owned();
    let html = browser
        .get(app.at(&to))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("注册成功。请用刚才的电子邮箱和密码登录。"),
        "{html}"
    );
    // Not on a plain visit of the sign-in page.
    let (_, plain) = app.page(&browser, "/login").await;
    assert!(!plain.contains("注册成功"));
}

/// Issue 10: an elder-friendly display (适老化), switched on every page and remembered.
#[tokio::test]
async fn the_elder_friendly_display_is_switched_on_every_page_and_remembered() {
    let app = spawn_app().await;
    let (_, home) = app.page(&client(), "/").await;
    assert!(home.contains("href=\"/display/elder?next=/\""), "{home}");
    assert!(!home.contains("class=\"elder\""));
    let res = client()
        .get(app.at("/display/elder?next=/datasets"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(res.headers()["location"], "/datasets");
    let cookie = res.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(
        cookie.starts_with("kf_display=elder;") && cookie.contains("Max-Age="),
        "{cookie}"
    );
    let with_cookie = |path: &str| {
        client()
            .get(app.at(path))
            .header("cookie", "kf_display=elder")
            .send()
    };
    let html = with_cookie("/datasets")
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("<body class=\"elder\">"));
    assert!(
        html.contains("href=\"/display/standard?next=/datasets\""),
        "{html}"
    );
    // Only a local page to go back to, and only the two displays.
    let res = client()
        .get(app.at("/display/elder?next=//evil.example/"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["location"], "/");
    let res = client().get(app.at("/display/huge")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
}

/// Issue 10: what a Chinese government website carries at its foot, each a setting of the
/// deployment, shown only when set.
#[tokio::test]
async fn the_footer_carries_the_government_website_identification_when_set() {
    let plain = spawn_app().await;
    let (_, html) = plain.page(&client(), "/").await;
    assert!(!html.contains("主办单位") && !html.contains("beian.miit.gov.cn"));

    let mut config = test_config();
    config.site = web::SiteInfo {
        sponsor: Some("上海市经济和信息化委员会".into()),
        organizer: Some("上海市大数据中心".into()),
        contact: Some("021-00000000".into()),
        site_code: Some("3100000000".into()),
        party_gov_mark_url: Some("https://bszs.conac.cn/sitename?method=show&id=0".into()),
        icp_record: Some("沪ICP备00000000号".into()),
        police_record: Some("沪公网安备 00000000000000号".into()),
    };
    let app = spawn_app_with(config).await;
    for path in ["/", "/datasets", "/login"] {
        let (_, html) = app.page(&client(), path).await;
        for shown in [
            "主办单位：上海市经济和信息化委员会",
            "承办单位：上海市大数据中心",
            "网站标识码：3100000000",
            "href=\"https://beian.miit.gov.cn/\"",
            "沪ICP备00000000号",
            "沪公网安备 00000000000000号",
            "党政机关网站标识",
        ] {
            assert!(html.contains(shown), "{path}: {shown}");
        }
    }
}

/// Issue 10: a resident's or a company's workbench is about their own business on the
/// platform, not about organizations they are not a member of.
#[tokio::test]
async fn the_workbench_speaks_to_residents_and_companies_as_themselves() {
    let app = spawn_app().await;
    app.register("resident@example.cn").await;
    let resident = app.login("resident@example.cn").await;
    let (status, html) = app.page(&resident.client, "/console").await;
    assert_eq!(status, StatusCode::OK);
    for shown in [
        "我的数据申请",
        "我的反馈与投诉",
        "我的数据需求",
        "href=\"/account/password\"",
    ] {
        assert!(html.contains(shown), "{shown}");
    }
    for staff in ["我的单位", "加入任何单位", "平台管理"] {
        assert!(!html.contains(staff), "{staff}");
    }

    app.register_company("data@company.cn").await;
    let company = app.login("data@company.cn").await;
    let (_, html) = app.page(&company.client, "/console").await;
    assert!(html.contains("以 示范数据科技有限公司 的身份"), "{html}");

    // Staff see their organizations and desks instead.
    let op = app
        .user_with(
            "op@example.cn",
            Some(domain::roles::PlatformRole::Operator),
            None,
        )
        .await;
    let (_, html) = app.page(&op.client, "/console").await;
    assert!(html.contains("平台管理") && !html.contains("我的数据申请"));
}

/// Issue 10: a chart and the list of its numbers are not both shown at full size: the list is
/// folded under the chart, and open where the chart is not drawn (the elder-friendly display).
#[tokio::test]
async fn the_numbers_of_a_chart_are_folded_under_it_unless_the_chart_is_hidden() {
    let app = spawn_app().await;
    let (_, home) = app.page(&client(), "/").await;
    let figures = home.matches("<details class=\"figures\"><summary>").count();
    assert_eq!(figures, 2, "{home}");
    for chart in home.match_indices("<figure class=\"chart\"") {
        let after = &home[chart.0..];
        let details = after.find("<details class=\"figures\"").unwrap();
        let counts = after.find("<ul class=\"counts\">").unwrap();
        assert!(details < counts, "the numbers come folded after the chart");
    }
    let elder = client()
        .get(app.at("/"))
        .header("cookie", "kf_display=elder")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(elder.matches("<details class=\"figures\" open>").count(), 2);
}
