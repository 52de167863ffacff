//! Changing a password and setting a new one through a link sent by e-mail (issue 10), read
//! from a real SMTP conversation.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::mailbox::Mailbox;
use crate::support::*;

const NEW_PASSWORD: &str = "Suzhou-creek-bridge-77";

async fn me(s: &Session, app: &TestApp) -> StatusCode {
    s.client
        .get(app.at("/api/v1/me"))
        .send()
        .await
        .unwrap()
        .status()
}

async fn login_status(app: &TestApp, email: &str, password: &str) -> StatusCode {
    client()
        .post(app.at("/api/v1/auth/login"))
        .json(&json!({ "email": email, "password": password }))
        .send()
        .await
        .unwrap()
        .status()
}

#[tokio::test]
async fn a_password_change_needs_the_old_one_and_ends_every_other_session() {
    let app = spawn_app().await;
    let email = "li@example.cn";
    app.register(email).await;
    let (here, elsewhere) = (app.login(email).await, app.login(email).await);
    let token: Value = here
        .post_json(app.at("/api/v1/me/tokens"), json!({ "name": "脚本" }))
        .await
        .json()
        .await
        .unwrap();
    let token = token["token"].as_str().unwrap().to_owned();

    let (status, form) = app.page(&here.client, "/account/password").await;
    assert_eq!(status, StatusCode::OK);
    for field in ["current_password", "new_password", "confirm_password"] {
        assert!(form.contains(&format!("name=\"{field}\"")), "{field}");
    }
    let (_, account) = app.page(&here.client, "/account").await;
    assert!(account.contains("href=\"/account/password\""));

    // Each wrong form is refused at its field, and changes nothing.
    let change = |current: &'static str, new: &'static str, confirm: &'static str| {
        let here = here.clone();
        let url = app.at("/account/password");
        async move {
            let res = here
                .post_form(
                    url,
                    &[
                        ("current_password", current),
                        ("new_password", new),
                        ("confirm_password", confirm),
                    ],
                )
                .await;
            (res.status(), res.text().await.unwrap())
        }
    };
    for (current, new, confirm, field, message) in [
        (
            "wrong-password-1",
            NEW_PASSWORD,
            NEW_PASSWORD,
            "current_password",
            "当前密码不正确",
        ),
        (
            PASSWORD,
            NEW_PASSWORD,
            "Suzhou-creek-bridge-78",
            "confirm_password",
            "两次输入的新密码不一致",
        ),
        (
            PASSWORD,
            PASSWORD,
            PASSWORD,
            "new_password",
            "新密码不能与当前密码相同",
        ),
        (
            PASSWORD,
            "12345678901",
            "12345678901",
            "new_password",
            "字母",
        ),
    ] {
        let (status, html) = change(current, new, confirm).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{field}");
        assert!(
            html.contains(&format!("id=\"{field}-error\"")),
            "{field}: {html}"
        );
        assert!(html.contains(message), "{message}");
        // The typed passwords are never sent back.
        assert!(!html.contains(new) || new == PASSWORD, "{field}");
    }
    assert_eq!(me(&elsewhere, &app).await, StatusCode::OK);
    assert_eq!(login_status(&app, email, PASSWORD).await, StatusCode::OK);

    // A token, which may have leaked, cannot change the password.
    let res = client()
        .post(app.at("/api/v1/me/password"))
        .bearer_auth(&token)
        .json(&json!({ "current_password": PASSWORD, "new_password": NEW_PASSWORD }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(error_code(&res), "session_required");

    let (status, _) = change(PASSWORD, NEW_PASSWORD, NEW_PASSWORD).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, account) = app.page(&here.client, "/account?password_changed=1").await;
    assert!(account.contains("密码已修改"));
    // This session stays; every other one (two, with the check above) ended; tokens stay.
    assert_eq!(me(&here, &app).await, StatusCode::OK);
    assert_eq!(me(&elsewhere, &app).await, StatusCode::UNAUTHORIZED);
    let res = client()
        .get(app.at("/api/v1/me"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        login_status(&app, email, PASSWORD).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        login_status(&app, email, NEW_PASSWORD).await,
        StatusCode::OK
    );

    // The same through the API, which says how many sessions ended.
    let third = app.login_with(email, NEW_PASSWORD).await;
    let res = here
        .post_json(
            app.at("/api/v1/me/password"),
            json!({ "current_password": NEW_PASSWORD, "new_password": PASSWORD }),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["other_sessions_ended"], 2);
    assert_eq!(me(&third, &app).await, StatusCode::UNAUTHORIZED);

    // Guessing the old password is throttled like signing in.
    let mut last = StatusCode::OK;
    for _ in 0..8 {
        last = change("guess-password-9", NEW_PASSWORD, NEW_PASSWORD)
            .await
            .0;
    }
    assert_eq!(last, StatusCode::TOO_MANY_REQUESTS);
    let count = |action: &str| {
        let filter = store::audit::AuditFilter {
            action: Some(action.to_owned()),
            limit: 100,
            ..Default::default()
        };
        let store = app.store.clone();
        async move { store.list_audit(&filter).await.unwrap().len() }
    };
    assert_eq!(count("auth.password_change").await, 2);
    assert!(count("auth.password_change_failed").await >= 2);
}

fn mail_config(mailbox: &Mailbox) -> web::WebConfig {
    let mut config = test_config();
    config.smtp = Some(app::mail::SmtpSettings {
        host: "127.0.0.1".into(),
        port: Some(mailbox.port),
        security: app::mail::SmtpSecurity::None,
        username: None,
        password: None,
        from: "开放平台 <noreply@kaifang.example>".into(),
    });
    config
}

/// The path and query of the reset link in a message, on the test's server.
fn link_in(text: &str) -> String {
    let start = text.find("/password/reset?token=").expect("a reset link");
    text[start..].split_whitespace().next().unwrap().to_owned()
}

async fn ask_for_link(app: &TestApp, email: &str) -> (StatusCode, String) {
    let res = post_visitor_form(app, &client(), "/password/forgot", &[("email", email)]).await;
    (res.status(), res.text().await.unwrap())
}

#[tokio::test]
async fn a_link_sent_by_mail_sets_a_new_password_once_and_ends_every_session() {
    let mut mailbox = Mailbox::start().await;
    let app = spawn_app_with(mail_config(&mailbox)).await;
    let email = "zhang@example.cn";
    app.register(email).await;
    let before = app.login(email).await;

    let (_, login) = app.page(&client(), "/login").await;
    assert!(login.contains("href=\"/password/forgot\""));

    // The answer is the same whether or not the address is registered; only one gets mail.
    let (status, unknown) = ask_for_link(&app, "nobody@example.cn").await;
    assert_eq!(status, StatusCode::OK);
    assert!(mailbox.nothing_arrives().await);
    let (status, known) = ask_for_link(&app, "  Zhang@Example.CN ").await;
    assert_eq!(status, StatusCode::OK);
    let notice = |html: &str| {
        let at = html.find("class=\"notice\"").expect("a notice");
        html[at..at + html[at..].find("</p>").unwrap()].to_owned()
    };
    assert_eq!(notice(&unknown), notice(&known));
    let mail = mailbox.next().await;
    assert_eq!(mail.to, [email]);
    assert_eq!(mail.subject, "设置新密码");
    assert!(mail.text.contains("30 分钟"), "{}", mail.text);
    let link = link_in(&mail.text);

    // A bad form leaves the link usable.
    let (status, page) = app.page(&client(), &link).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("name=\"new_password\""));
    let browser = client();
    for (new, confirm, field) in [
        ("short", "short", "new_password"),
        (NEW_PASSWORD, "Suzhou-creek-bridge-78", "confirm_password"),
    ] {
        let token = link.split("token=").nth(1).unwrap();
        let res = post_visitor_form(
            &app,
            &browser,
            &link,
            &[
                ("token", token),
                ("new_password", new),
                ("confirm_password", confirm),
            ],
        )
        .await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{field}");
        let html = res.text().await.unwrap();
        assert!(html.contains(&format!("id=\"{field}-error\"")), "{field}");
    }
    let token = link.split("token=").nth(1).unwrap().to_owned();
    let set = |token: String| {
        let (app, browser, link) = (&app, &browser, &link);
        async move {
            post_visitor_form(
                app,
                browser,
                link,
                &[
                    ("token", &token),
                    ("new_password", NEW_PASSWORD),
                    ("confirm_password", NEW_PASSWORD),
                ],
            )
            .await
        }
    };
    let res = set(token.clone()).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(res.headers()["location"], "/login?reset=1");
    let (_, login) = app.page(&client(), "/login?reset=1").await;
    assert!(login.contains("密码已重新设置"));
    assert_eq!(me(&before, &app).await, StatusCode::UNAUTHORIZED);
    assert_eq!(
        login_status(&app, email, PASSWORD).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        login_status(&app, email, NEW_PASSWORD).await,
        StatusCode::OK
    );

    // The link worked once.
    let (status, page) = app.page(&client(), &link).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(page.contains("已使用或已过期"), "{page}");
    let (_, form) = app.page(&browser, "/password/forgot").await;
    let res = browser
        .post(app.at("/password/reset"))
        .form(&[
            ("_csrf", form_csrf(&form).as_str()),
            ("token", token.as_str()),
            ("new_password", "Another-pass-word-5"),
            ("confirm_password", "Another-pass-word-5"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        login_status(&app, email, NEW_PASSWORD).await,
        StatusCode::OK
    );

    // A link dies after half an hour.
    ask_for_link(&app, email).await;
    let late = link_in(&mailbox.next().await.text);
    app.clock.advance_seconds(31 * 60);
    assert_eq!(app.page(&client(), &late).await.0, StatusCode::BAD_REQUEST);

    // Nobody can flood a mailbox: three live links at most.
    for _ in 0..5 {
        assert_eq!(ask_for_link(&app, email).await.0, StatusCode::OK);
    }
    for _ in 0..3 {
        mailbox.next().await;
    }
    assert!(mailbox.nothing_arrives().await);

    // An address that is not one is said so.
    let (status, html) = ask_for_link(&app, "not an address").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("id=\"email-error\""));
}

#[tokio::test]
async fn without_mail_the_reset_page_says_whom_to_ask() {
    let app = spawn_app().await;
    app.register("wu@example.cn").await;
    let (status, page) = app.page(&client(), "/password/forgot").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("未配置电子邮件") && page.contains("href=\"/pages/contact\""));
    assert!(!page.contains("name=\"email\""));
    let (_, en) = {
        let res = client()
            .get(app.at("/password/forgot"))
            .header("accept-language", "en")
            .send()
            .await
            .unwrap();
        (res.status(), res.text().await.unwrap())
    };
    assert!(en.contains("sends no e-mail"));
    // A reset link that was never sent is not one.
    let (status, _) = app.page(&client(), "/password/reset?token=made-up").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}
