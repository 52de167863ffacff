//! The demo's applications for conditional data, one in each state, made through the same use
//! cases as the pages (A18–A21): a draft, one awaiting the completeness review, one returned
//! with its reasons, one accepted and waiting for the transport commission's decision, one
//! refused, one approved with its agreement to sign, and one whose agreement both sides signed,
//! whose credential the demo prints so that it can be tried at once; and two sandbox
//! agreements of the resident's, one exact and one with a privacy budget (A21.2).

use anyhow::Context;
use std::collections::BTreeSet;

use app::{App, Caller};
use domain::application::{ApplicationForm, EntryRequest, SECURITY_PLEDGE};
use domain::openlist::vocab::{ConditionKind, DatasetStatus, OpenType};
use domain::roles::Actor;
use store::datasets::DatasetRecord;

use crate::demo::DEMO_PASSWORD;

/// A one-page PDF standing in for a scanned document.
const PDF: &[u8] = b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n";

async fn caller(app: &App, email: &str) -> anyhow::Result<Caller> {
    let user = app.store.user_by_email(email).await?;
    Ok(Caller::cli(Actor::User(app.store.actor(user.id).await?)))
}

/// The transport commission's conditional entries on the open list.
async fn entries(app: &App) -> anyhow::Result<Vec<DatasetRecord>> {
    let org = app.store.org("sh-transport").await?;
    let page = store::paging::Page::first(500);
    Ok(app
        .store
        .datasets_of(org.id, Some(DatasetStatus::Published), &page)
        .await?
        .items
        .into_iter()
        .filter(|d| d.meta.open_type == OpenType::Conditional && !d.meta.data_items.is_empty())
        .collect())
}

fn form_for(d: &DatasetRecord, purpose: &str, today: chrono::NaiveDate) -> ApplicationForm {
    let items: BTreeSet<String> = d
        .meta
        .data_items
        .iter()
        .take(3)
        .map(|i| i.name.clone())
        .collect();
    let scenario = d
        .meta
        .conditions
        .iter()
        .find(|c| c.kind == ConditionKind::Scenario)
        .map(|c| c.text.trim().to_owned())
        .unwrap_or_else(|| "城市运行研究".to_owned());
    ApplicationForm {
        entries: vec![EntryRequest {
            dataset: d.id,
            items,
            scenario,
        }],
        purpose: purpose.to_owned(),
        period_start: Some(today),
        period_end: today.checked_add_days(chrono::Days::new(364)),
        calls_per_day: Some(2_000),
        security_measures: "数据存放于单位内网专用服务器，专人管理、访问留痕；成果仅含统计结果。"
            .to_owned(),
    }
}

async fn attach_all(
    app: &App,
    who: &Caller,
    a: &store::access::ApplicationRecord,
    d: &DatasetRecord,
) -> anyhow::Result<()> {
    let upload = |name: String| async move {
        let chunks =
            futures_util::stream::iter([Ok::<_, std::io::Error>(bytes::Bytes::from_static(PDF))]);
        app::uploads::upload(app, who, &name, chunks).await
    };
    let pledge = upload("安全承诺书.pdf".to_owned()).await?;
    app::access::attach(app, who, a, None, SECURITY_PLEDGE, &pledge.id).await?;
    for m in &d.meta.materials {
        let u = upload(format!("{}.pdf", m.name)).await?;
        app::access::attach(app, who, a, Some(d.id), &m.name, &u.id).await?;
    }
    Ok(())
}

/// An application of `who` for `d`, with every material, submitted.
async fn submitted(
    app: &App,
    who: &Caller,
    d: &DatasetRecord,
    purpose: &str,
) -> anyhow::Result<store::access::ApplicationRecord> {
    let today = app.clock.now().to_cst().date_naive();
    submitted_form(app, who, d, form_for(d, purpose, today)).await
}

async fn submitted_form(
    app: &App,
    who: &Caller,
    d: &DatasetRecord,
    form: ApplicationForm,
) -> anyhow::Result<store::access::ApplicationRecord> {
    let a = app::access::create(app, who, form).await?;
    attach_all(app, who, &a, d).await?;
    Ok(app::access::submit(app, who, a).await?)
}

fn criteria() -> domain::access::Criteria {
    domain::access::Criteria {
        fairness: "与同类申请同等对待，按受理顺序审核。".into(),
        scenario_value: "用于公共出行服务研究，公共价值较高。".into(),
        combination_risk: "所申请数据项不含个人信息，与其他数据融合的风险低。".into(),
    }
}

/// Seeds the applications once (none exist yet); returns the credential of the signed
/// agreement, to print.
pub async fn seed(app: &App) -> anyhow::Result<Option<String>> {
    let any = app
        .store
        .applications(
            &store::access::ApplicationFilter::default(),
            &store::paging::Page::first(1),
        )
        .await?;
    if !any.items.is_empty() {
        return Ok(None);
    }
    let entries = entries(app).await?;
    let (Some(first), Some(second)) = (entries.first(), entries.get(1).or(entries.first())) else {
        return Ok(None);
    };
    let resident = caller(app, "resident@demo.kaifang.example").await?;
    let company = caller(app, "company@demo.kaifang.example").await?;
    let operator = caller(app, "operator@demo.kaifang.example").await?;
    let reviewer = caller(app, "transport-reviewer@demo.kaifang.example").await?;
    let today = app.clock.now().to_cst().date_naive();

    // A draft, not yet complete.
    let mut draft = form_for(second, "", today);
    draft.security_measures.clear();
    app::access::create(app, &resident, draft).await?;
    // Awaiting the completeness review.
    submitted(
        app,
        &resident,
        second,
        "研究早晚高峰公交运行规律，用于出行服务改进课题。",
    )
    .await?;
    // Returned with every reason at once.
    let a = submitted(app, &company, first, "开发实时公交到站提醒应用。").await?;
    app::access::give_back(
        app,
        &operator,
        a,
        vec![
            "主体资格证明不清晰，请上传加盖公章的营业执照扫描件。".into(),
            "应用场景说明未写明服务对象和使用的数据项。".into(),
        ],
    )
    .await?;
    // Accepted: a work order counting down in the transport commission's inbox.
    let a = submitted(
        app,
        &resident,
        first,
        "分析公交线网覆盖与居民出行需求的匹配程度。",
    )
    .await?;
    app::access::accept(app, &operator, a).await?;
    // Refused by the provider, with its reasons.
    let a = submitted(app, &company, second, "向第三方广告平台提供客流画像。").await?;
    let (_, orders) = app::access::accept(app, &operator, a).await?;
    for w in orders {
        let decision = app::access::DecisionInput {
            outcome: "refuse".into(),
            criteria: criteria(),
            grants: Vec::new(),
            reasons: vec![
                "拟用途为向第三方提供数据画像，超出本数据集允许的应用场景。".into(),
                "安全措施未说明数据不向第三方提供的管控方式。".into(),
            ],
        };
        app::access::decide(app, &reviewer, w, decision).await?;
    }
    // Approved, its agreement awaiting the applicant's signature.
    let a = submitted(
        app,
        &resident,
        second,
        "城市运行研究：公交准点率与道路拥堵的关系。",
    )
    .await?;
    let (_, orders) = app::access::accept(app, &operator, a).await?;
    for w in orders {
        app::access::decide(app, &reviewer, w, approve()).await?;
    }
    // Sent to two experts: one opinion filed, one awaited.
    let a = submitted(
        app,
        &company,
        second,
        "一次性申请全年全量客流明细，用于城市交通大模型训练。",
    )
    .await?;
    let (_, orders) = app::access::accept(app, &operator, a).await?;
    let expert = caller(app, "expert@demo.kaifang.example").await?;
    let expert2 = caller(app, "expert2@demo.kaifang.example").await?;
    for w in orders {
        let input = app::experts::ReferralInput {
            experts: vec![expert.user()?.id, expert2.user()?.id],
            due_on: w.due_on,
            question: "一次性大规模申请，请评估多源数据融合风险与场景价值。".into(),
        };
        let (w, list) = app::experts::refer(app, &reviewer, w, input).await?;
        // The data security expert has answered; the demo's expert account has yet to.
        if let Some(theirs) = list.into_iter().nth(1) {
            let opinion = app::experts::OpinionInput {
                recommendation: "narrow".into(),
                opinion: "建议仅开放线路与站点层面的汇总数据项，期限缩短至六个月。".into(),
            };
            app::experts::give_opinion(app, &expert2, theirs, &w, opinion).await?;
        }
    }
    // Approved and signed by both: active, with a working credential. An arrival-time app
    // serving many riders declares a high volume of calls.
    let mut form = form_for(first, "开发实时公交到站提醒应用，服务本市公交乘客。", today);
    form.calls_per_day = Some(1_000_000);
    let a = submitted_form(app, &company, first, form).await?;
    let (_, orders) = app::access::accept(app, &operator, a).await?;
    let mut secret = None;
    for w in orders {
        let w = app::access::decide(app, &reviewer, w, approve()).await?;
        let agreement = app.store.agreements_of(w.id).await?.remove(0);
        let sha = agreement.sha256.clone();
        let (agreement, _) =
            app::agreements::sign(app, &reviewer, agreement, DEMO_PASSWORD.into(), &sha).await?;
        let (_, credential) =
            app::agreements::sign(app, &company, agreement, DEMO_PASSWORD.into(), &sha).await?;
        secret = credential.map(|c| c.secret);
        // A delivery off the platform, filed for the regulator to see.
        let agreement = app.store.agreements_of(w.id).await?.remove(0);
        let filing = app::agreements::OfflineInput {
            reason: "接收方生产网络与互联网隔离，以加密移动硬盘交付。".into(),
            recipient: "王工（某出行科技公司数据安全部）".into(),
            sha256: "9f2b5c0d6e1a4b7c8d3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c".into(),
            file_name: Some("公交到站数据-2026Q4.zip".into()),
            size: Some(48_213_504),
        };
        app::agreements::file_offline(app, &reviewer, &agreement, filing).await?;
    }
    // Two sandboxes (A21.2) for the resident's research: every data item of an entry, in
    // aggregates only — one exact, one with a privacy budget.
    for (d, budget, purpose) in [
        (first, None, "研究客流的时空分布规律，仅需分组统计结果。"),
        (
            second,
            Some(1.0),
            "评估线路客流的区域差异，以差分隐私方式获取统计结果。",
        ),
    ] {
        let mut form = form_for(d, purpose, today);
        form.entries[0].items = d.meta.data_items.iter().map(|i| i.name.clone()).collect();
        let a = submitted_form(app, &resident, d, form).await?;
        let (_, orders) = app::access::accept(app, &operator, a).await?;
        for w in orders {
            let mut decision = approve();
            decision.grants = vec![app::access::GrantInput {
                dataset: d.id,
                delivery: Some(domain::access::Delivery::Sandbox),
                privacy_budget: budget,
                ..Default::default()
            }];
            let w = app::access::decide(app, &reviewer, w, decision).await?;
            let agreement = app.store.agreements_of(w.id).await?.remove(0);
            let sha = agreement.sha256.clone();
            let (agreement, _) =
                app::agreements::sign(app, &reviewer, agreement, DEMO_PASSWORD.into(), &sha)
                    .await?;
            app::agreements::sign(app, &resident, agreement, DEMO_PASSWORD.into(), &sha).await?;
        }
    }
    Ok(secret.map(|s| format!("{s}  ->  /api/v1/datasets/{}/records", first.id)))
}

fn approve() -> app::access::DecisionInput {
    app::access::DecisionInput {
        outcome: "approve".into(),
        criteria: criteria(),
        grants: Vec::new(),
        reasons: Vec::new(),
    }
}

/// Adds `n` open work orders to the transport commission's inbox, each from an application of
/// the demo's company accepted on the platform's behalf, due over the next weeks: the inbox
/// at a scale the benchmark measures. Written straight to the store, in batches.
pub async fn open_work_orders(app: &App, n: usize) -> anyhow::Result<usize> {
    let entries = entries(app).await?;
    let d = entries
        .first()
        .context("no conditional entry with data items: run `kaifang demo` first")?;
    let company = app
        .store
        .user_by_email("company@demo.kaifang.example")
        .await?;
    let now = app.clock.now();
    let today = now.to_cst().date_naive();
    let form = form_for(d, "基准测试：待审核的数据申请。", today);
    let request = domain::application::Request {
        entries: form.entries.clone(),
        purpose: form.purpose.clone(),
        period: (
            form.period_start.unwrap_or(today),
            form.period_end.unwrap_or(today),
        ),
        calls_per_day: form.calls_per_day.unwrap_or(1),
        security_measures: form.security_measures.clone(),
    };
    let mut made = 0;
    while made < n {
        let mut tx = app.store.begin_write().await?;
        for i in made..(made + 1_000).min(n) {
            let a = store::access::ApplicationRecord {
                id: domain::ids::ApplicationId::new(),
                applicant_id: company.id,
                state: domain::access::ApplicationState::Accepted,
                form: form.clone(),
                round: 1,
                created_at: now,
                updated_at: now,
                row_version: 1,
            };
            store::access::insert_application(&mut tx, &a).await?;
            let w = store::access::WorkOrderRecord {
                id: domain::ids::WorkOrderId::new(),
                application_id: a.id,
                org_id: d.org_id,
                applicant_id: company.id,
                state: domain::access::WorkOrderState::InReview,
                requested: request.clone(),
                created_at: now,
                due_on: today + chrono::Days::new((i % 28) as u64),
                due_provisional: false,
                decision: None,
                decided_by: None,
                decided_at: None,
                updated_at: now,
            };
            store::access::insert_work_order(&mut tx, &w).await?;
        }
        let done = (made + 1_000).min(n);
        tx.audit(store::AuditEvent::system(
            now,
            "system",
            "bench.work_orders",
            "organization",
            d.org_id.to_string(),
        ))
        .await?;
        tx.commit().await?;
        made = done;
    }
    Ok(made)
}
