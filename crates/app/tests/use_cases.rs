//! Every use case called directly, without HTTP: what the CLI and background jobs will do.
//! Each runs on a fresh SQLite platform; the audit chain must verify after every scenario.

mod common;

use std::sync::Arc;

use kaifang_app as app;

use app::accounts::{self, NewToken, Registration, StaffAccount};
use app::articles::{self, ArticleInput};
use app::catalogue;
use app::openlist::{check_for_publish, create_draft, update_draft};
use app::orgs::{self, NewOrg};
use app::review_cycles::Decision;
use app::tickets::{self, ResubmitInput, ReturnInput, TicketInput};
use app::vocab::{self, DomainInput, ExceptionInput, FormatInput, GlossaryInput};
use app::{App, Caller, ErrorCode, Via};
use app::{review_cycles, uploads};
use domain::clock::{Clock, ManualClock, Timestamp};
use domain::openlist::dataset::DatasetMeta;
use domain::openlist::review_cycle::CycleState;
use domain::openlist::ticket::{TicketKind, TicketState};
use domain::openlist::vocab::DatasetStatus;
use domain::roles::{Actor, OrgRole, PlatformRole};
use serde_json::json;
use store::audit::Verification;

const PASSWORD: &str = "correct-horse-42";

struct World {
    app: App,
    _db: common::TestDb,
}

async fn world() -> World {
    let clock = Arc::new(ManualClock::new(Timestamp(1_780_000_000_000)));
    let db = common::database(clock.now()).await;
    let app = App::new(
        db.store.clone(),
        db.blobs.clone(),
        clock,
        app::Config::default(),
    );
    World { app, _db: db }
}

impl World {
    /// A caller acting as `user` through a signed-in session.
    async fn signed_in(&self, user: domain::ids::UserId) -> Caller {
        Caller {
            actor: Actor::User(self.app.store.actor(user).await.unwrap()),
            via: Via::Session {
                token_hash: "test".into(),
            },
            client_addr: Some("192.0.2.1".into()),
        }
    }

    async fn staff(&self, email: &str, role: PlatformRole) -> Caller {
        let user = accounts::create_staff(
            &self.app,
            &Caller::cli(Actor::Anonymous),
            StaffAccount {
                email: email.into(),
                name: "平台工作人员".into(),
                role,
                password: PASSWORD.into(),
            },
        )
        .await
        .unwrap();
        self.signed_in(user.id).await
    }

    async fn person(&self, email: &str) -> domain::ids::UserId {
        accounts::register(
            &self.app,
            &Caller::anonymous(Some("192.0.2.9".into())),
            Registration {
                kind: "natural_person".into(),
                email: email.into(),
                password: PASSWORD.into(),
                display_name: "张三".into(),
                legal_name: None,
                uscc: None,
            },
        )
        .await
        .unwrap()
        .id
    }

    async fn chain_intact(&self) {
        assert!(matches!(
            self.app.store.verify_audit(None).await.unwrap(),
            Verification::Intact { .. }
        ));
    }
}

fn meta(name: &str, items: &[String]) -> DatasetMeta {
    serde_json::from_value(json!({
        "name": name,
        "summary": "本市公交线路及站点的基础信息，按月更新。",
        "domain": "transport",
        "keywords": ["公交"],
        "data_items": [
            { "name": "line_name", "label": "线路名称", "field_type": "text",
              "description": "公交线路的对外名称。", "catalogue_item": items[0] },
        ],
        "formats": ["csv"],
        "open_type": "unconditional",
        "grading": {
            "security_level": "general", "personal_information": "none", "trade_secret": "none",
            "legal_restriction": "none", "processing_demand": "ordinary", "access_pattern": "one_off",
        },
        "update_frequency": "monthly",
        "spatial": { "areas": ["shanghai"] },
        "contact": { "name": "数据管理处", "phone": "021-00000000" },
        "license": "本平台数据使用协议",
    }))
    .unwrap()
}

#[tokio::test]
async fn accounts_organizations_members_and_tokens() {
    let w = world().await;
    let sysadmin = w.staff("root@example.cn", PlatformRole::Sysadmin).await;
    // The same e-mail again is refused with its code.
    let again = accounts::create_staff(
        &w.app,
        &Caller::cli(Actor::Anonymous),
        StaffAccount {
            email: "root@example.cn".into(),
            name: "x".into(),
            role: PlatformRole::Sysadmin,
            password: PASSWORD.into(),
        },
    )
    .await
    .unwrap_err();
    assert_eq!(again.code, ErrorCode::EmailTaken);

    let org = orgs::create(
        &w.app,
        &sysadmin,
        NewOrg {
            slug: "sh-transport".into(),
            name_zh: "市交通委".into(),
            name_en: "Transport".into(),
            kind: "bureau".into(),
            uscc: None,
        },
    )
    .await
    .unwrap();
    let alice = w.person("alice@example.cn").await;
    let (id, role) = accounts::set_member(
        &w.app,
        &sysadmin,
        &org,
        "alice@example.cn",
        "provider_admin",
    )
    .await
    .unwrap();
    assert_eq!((id, role), (alice, OrgRole::ProviderAdmin));
    let err = accounts::remove_member(&w.app, &sysadmin, &org, alice)
        .await
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::LastAdmin);

    let bob = w.person("bob@example.cn").await;
    accounts::grant_platform_role(&w.app, &sysadmin, bob, PlatformRole::Operator)
        .await
        .unwrap();
    assert_eq!(
        w.app.store.actor(bob).await.unwrap().platform_roles,
        vec![PlatformRole::Operator]
    );

    let signed = accounts::login(
        &w.app,
        &Caller::anonymous(Some("192.0.2.9".into())),
        "alice@example.cn",
        PASSWORD.into(),
    )
    .await
    .unwrap();
    assert_eq!(signed.user.id, alice);
    let wrong = accounts::login(
        &w.app,
        &Caller::anonymous(Some("192.0.2.9".into())),
        "alice@example.cn",
        "not-her-password-1".into(),
    )
    .await
    .err()
    .expect("a wrong password is refused");
    assert_eq!(wrong.code, ErrorCode::InvalidCredentials);

    let alice_session = w.signed_in(alice).await;
    let token = accounts::create_token(
        &w.app,
        &alice_session,
        NewToken {
            name: "同步脚本".into(),
            expires_in_days: None,
            access: None,
            organization: None,
        },
    )
    .await
    .unwrap();
    // A token never mints tokens.
    let by_token = Caller {
        via: Via::ApiToken,
        ..alice_session.clone()
    };
    let err = accounts::create_token(
        &w.app,
        &by_token,
        NewToken {
            name: "子令牌".into(),
            expires_in_days: None,
            access: None,
            organization: None,
        },
    )
    .await
    .err()
    .expect("a token cannot mint tokens");
    assert_eq!(err.code, ErrorCode::SessionRequired);
    accounts::revoke_token(&w.app, &alice_session, &token.record.id.to_string())
        .await
        .unwrap();
    accounts::logout(&w.app, &alice_session).await.unwrap();
    w.chain_intact().await;
}

#[tokio::test]
async fn an_entry_goes_from_draft_through_its_ticket_to_the_open_list() {
    let w = world().await;
    let sysadmin = w.staff("root@example.cn", PlatformRole::Sysadmin).await;
    let operator = w.staff("op@example.cn", PlatformRole::Operator).await;
    let org = orgs::create(
        &w.app,
        &sysadmin,
        NewOrg {
            slug: "sh-transport".into(),
            name_zh: "市交通委".into(),
            name_en: "Transport".into(),
            kind: "bureau".into(),
            uscc: None,
        },
    )
    .await
    .unwrap();
    let editor_id = w.person("editor@example.cn").await;
    accounts::set_member(&w.app, &sysadmin, &org, "editor@example.cn", "editor")
        .await
        .unwrap();
    let editor = w.signed_in(editor_id).await;

    let rows = catalogue::parse_csv(
        "code,name,description,source_system\nBUS-LINE,公交线路,线路,公交系统\n",
    )
    .unwrap();
    assert_eq!(
        catalogue::import(&w.app, &editor, &org, rows)
            .await
            .unwrap(),
        (1, 0)
    );
    let items: Vec<String> = w
        .app
        .store
        .catalogue(org.id)
        .await
        .unwrap()
        .iter()
        .map(|i| i.id.to_string())
        .collect();

    let draft = create_draft(&w.app, &editor, &org, meta("上海市公交线路", &items))
        .await
        .unwrap();
    let edited = update_draft(
        &w.app,
        &editor,
        draft.clone(),
        &org,
        meta("上海市公交线路信息", &items),
        Some(draft.row_version),
    )
    .await
    .unwrap();
    // An edit from the old version is refused.
    let stale = update_draft(
        &w.app,
        &editor,
        edited.clone(),
        &org,
        meta("上海市公交线路（旧）", &items),
        Some(draft.row_version),
    )
    .await
    .unwrap_err();
    assert_eq!(stale.code, ErrorCode::EditConflict);
    assert!(
        check_for_publish(&w.app, &edited, &edited.meta)
            .await
            .unwrap()
            .is_empty()
    );

    let t = tickets::submit(
        &w.app,
        &editor,
        &edited,
        &org,
        TicketInput {
            kind: TicketKind::Add,
            reason: "新增开放".into(),
            proposed: None,
            attachments: vec![],
        },
    )
    .await
    .unwrap();
    let t = tickets::give_back(
        &w.app,
        &operator,
        t,
        ReturnInput {
            reasons: vec!["incomplete_information".into()],
            text: "请补充摘要".into(),
        },
    )
    .await
    .unwrap();
    assert_eq!(t.state, TicketState::Returned);
    let t = tickets::resubmit(
        &w.app,
        &editor,
        t,
        ResubmitInput {
            reason: Some("已补充".into()),
            proposed: None,
            attachments: vec![],
        },
    )
    .await
    .unwrap();
    // An operator who works for the provider does not decide its ticket.
    let insider_id = w.person("insider@example.cn").await;
    accounts::grant_platform_role(&w.app, &sysadmin, insider_id, PlatformRole::Operator)
        .await
        .unwrap();
    accounts::set_member(&w.app, &sysadmin, &org, "insider@example.cn", "editor")
        .await
        .unwrap();
    let insider = w.signed_in(insider_id).await;
    let err = tickets::accept(&w.app, &insider, t.clone(), "同意")
        .await
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::Forbidden);
    // Nor does a provider's editor, from the command line or anywhere else.
    let err = tickets::accept(&w.app, &editor, t.clone(), "同意")
        .await
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::Forbidden);
    let t = tickets::accept(&w.app, &operator, t, "同意").await.unwrap();
    assert_eq!(t.state, TicketState::Accepted);
    let published = w.app.store.dataset(&edited.id.to_string()).await.unwrap();
    assert_eq!(published.status, DatasetStatus::Published);
    assert_eq!(published.published_version, Some(1));

    catalogue::record_data_update(&w.app, &editor, &published)
        .await
        .unwrap();
    catalogue::mark_reviewed(&w.app, &editor, &published, "已复核")
        .await
        .unwrap();
    let err = catalogue::delete_item(&w.app, &editor, &org, items[0].parse().unwrap())
        .await
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::CatalogueItemInUse);

    // A second ticket, cancelled by its provider.
    let t = tickets::submit(
        &w.app,
        &editor,
        &published,
        &org,
        TicketInput {
            kind: TicketKind::Modify,
            reason: "更新摘要".into(),
            proposed: Some(meta("上海市公交线路信息（修订）", &items)),
            attachments: vec![],
        },
    )
    .await
    .unwrap();
    let t = tickets::cancel(&w.app, &editor, t).await.unwrap();
    assert_eq!(t.state, TicketState::Cancelled);

    // The year's annual review: the entry was confirmed this year, so the provider submits it;
    // the operator who works for the provider cannot decide it, the other operator accepts it.
    let year = domain::openlist::review_cycle::year_of(w.app.clock.now());
    let view = review_cycles::cycle(&w.app, &editor, &org, year)
        .await
        .unwrap();
    assert_eq!((view.reviewed, view.entries.len()), (1, 1));
    let c = review_cycles::submit(&w.app, &editor, &org, year, "已复核")
        .await
        .unwrap();
    assert_eq!(c.state, CycleState::Submitted);
    let err = review_cycles::decide(&w.app, &insider, &org, year, Decision::Accept, "")
        .await
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::Forbidden);
    let c = review_cycles::decide(&w.app, &operator, &org, year, Decision::Accept, "")
        .await
        .unwrap();
    assert_eq!(c.state, CycleState::Accepted);
    w.chain_intact().await;
}

#[tokio::test]
async fn vocabularies_the_guide_and_articles() {
    let w = world().await;
    let sysadmin = w.staff("root@example.cn", PlatformRole::Sysadmin).await;
    let operator = w.staff("op@example.cn", PlatformRole::Operator).await;
    vocab::save_format(
        &w.app,
        &operator,
        "docx".into(),
        FormatInput {
            name: "DOCX".into(),
            media_type: "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
                .into(),
            openness: 2,
            proprietary: true,
        },
    )
    .await
    .unwrap();
    vocab::save_glossary(
        &w.app,
        &operator,
        "AQI".into(),
        GlossaryInput {
            explanation_zh: "空气质量指数".into(),
            explanation_en: "Air quality index".into(),
        },
    )
    .await
    .unwrap();
    vocab::save_domain(
        &w.app,
        &operator,
        "tourism".into(),
        DomainInput {
            name_zh: "文化旅游".into(),
            name_en: "Tourism".into(),
            group: "livelihood".into(),
        },
    )
    .await
    .unwrap();
    let (base, _) = w.app.store.current_guide().await.unwrap();
    let text = w.app.store.guide_version(Some(base)).await.unwrap().body;
    let v = vocab::save_guide(&w.app, &operator, &text, Some(base))
        .await
        .unwrap();
    assert_eq!(v, base + 1);
    let stale = vocab::save_guide(&w.app, &operator, &text, Some(base))
        .await
        .unwrap_err();
    assert_eq!(stale.code, ErrorCode::EditConflict);

    // A proprietary format is allowed for one entry with a reason.
    let org = orgs::create(
        &w.app,
        &sysadmin,
        NewOrg {
            slug: "sh-ecology".into(),
            name_zh: "市生态环境局".into(),
            name_en: "Ecology".into(),
            kind: "bureau".into(),
            uscc: None,
        },
    )
    .await
    .unwrap();
    let admin = w.person("admin@example.cn").await;
    accounts::set_member(
        &w.app,
        &sysadmin,
        &org,
        "admin@example.cn",
        "provider_admin",
    )
    .await
    .unwrap();
    let admin = w.signed_in(admin).await;
    let mut m = meta("上海市空气质量日报", &["none".into()]);
    m.data_items[0].catalogue_item = None;
    let d = create_draft(&w.app, &admin, &org, m).await.unwrap();
    vocab::grant_format_exception(
        &w.app,
        &operator,
        &d,
        ExceptionInput {
            format: "docx".into(),
            reason: "历史报表仅有此格式".into(),
        },
    )
    .await
    .unwrap();
    assert!(
        w.app
            .store
            .format_exceptions(&d.id.to_string())
            .await
            .unwrap()
            .contains("docx")
    );

    // A file streamed in as an upload, attached by its id.
    let chunks = futures_util::stream::iter(
        ["%PDF-1.4\n", "平台上线说明"].map(|c| Ok::<_, std::io::Error>(bytes::Bytes::from(c))),
    );
    let upload = uploads::upload(&w.app, &operator, "说明.pdf", chunks)
        .await
        .unwrap();
    assert_eq!(upload.media_type, "application/pdf");
    let a = articles::create(
        &w.app,
        &operator,
        &ArticleInput {
            kind: "news".into(),
            title: "平台上线".into(),
            body: "正文".into(),
            publish: true,
            attachments: vec![tickets::AttachmentInput {
                upload: upload.id.clone(),
            }],
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let files = w
        .app
        .store
        .attachments(store::attachments::Owner::Article(a.id))
        .await
        .unwrap();
    assert_eq!(files[0].sha256, upload.sha256);
    let updated = articles::update(
        &w.app,
        &operator,
        a.clone(),
        &ArticleInput {
            kind: "news".into(),
            title: "平台正式上线".into(),
            body: "正文".into(),
            publish: true,
            row_version: Some(a.row_version),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(updated.row_version, a.row_version + 1);
    w.chain_intact().await;
}
