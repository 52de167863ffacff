//! What the public sees of an entry (docs/decisions/0009-what-the-public-sees.md): the grading
//! is internal to the provider and the operator; the open type and its conditions are public.

use domain::roles::PlatformRole;
use reqwest::StatusCode;
use serde_json::Value;

use crate::openlist::{good_meta, provider_with_catalogue, publish};
use crate::support::*;

async fn text(c: &reqwest::Client, url: String) -> String {
    let res = c.get(url).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    res.text().await.unwrap()
}

#[tokio::test]
async fn the_grading_of_an_entry_is_never_shown_to_the_public() {
    let app = spawn_app().await;
    let (editor, items) = provider_with_catalogue(&app, "sh-transport").await;
    let op = app
        .user_with("op@example.cn", Some(PlatformRole::Operator), None)
        .await;
    let id = publish(&app, &editor, &op, good_meta("上海市公交线路站点", &items)).await;
    // The dimension codes and the level codes the good metadata grades with.
    let secrets = [
        "security_level",
        "personal_information",
        "trade_secret",
        "processing_demand",
    ];

    let anonymous = client();
    for path in [
        format!("/api/v1/datasets/{id}"),
        format!("/api/v1/datasets/{id}/versions"),
        "/api/v1/datasets?q=公交".to_owned(),
        format!("/api/3/action/package_show?id={id}"),
        "/api/3/action/package_search?q=公交".to_owned(),
        "/api/3/action/current_package_list_with_resources".to_owned(),
        format!("/datasets/{id}"),
    ] {
        let body = text(&anonymous, app.at(&path)).await;
        for secret in secrets {
            assert!(!body.contains(secret), "{path} shows {secret}");
        }
    }
    // A registered person who is not of the provider sees the public view too.
    app.register("resident@example.cn").await;
    let resident = app.login("resident@example.cn").await;
    let body = text(&resident.client, app.at(&format!("/api/v1/datasets/{id}"))).await;
    assert!(!body.contains("security_level"));

    // The provider's members and the operator see the whole entry.
    for who in [&editor, &op] {
        let full: Value = who
            .get_json(app.at(&format!("/api/v1/datasets/{id}")))
            .await;
        assert_eq!(full["metadata"]["grading"]["security_level"], "general");
    }
    // The open type stays public.
    let public: Value = anonymous
        .get(app.at(&format!("/api/v1/datasets/{id}")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(public["metadata"]["open_type"], "unconditional");
}
