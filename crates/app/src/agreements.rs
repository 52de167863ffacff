//! Data use agreements (A20.1) and delivery under them (A21.1). An approval generates the
//! agreement from the provider's template (or the platform's): the parties, the entries and
//! items granted with their calls a day, the scenario, the period, the security measures. Each
//! side signs on the platform after typing its password again; what it signs is the text's
//! SHA-256 as it read it, which goes into the audit chain, so a changed text cannot be signed.
//! The second signature makes the agreement active; the applicant then holds a credential —
//! an API token that reads what the agreement grants and does nothing else — which the
//! provider or the operator can suspend or revoke at once.

use domain::access::{AgreementState, Party, Signatures, StepError};
use domain::clock::Timestamp;
use domain::ids::{AgreementId, TokenId};
use domain::notice::{Notice, NoticeKind};
use domain::policy::{Action, Resource};
use serde_json::json;
use sha2::{Digest, Sha256};
use store::access::WorkOrderRecord;
use store::agreements::{self as records, AgreementRecord};
use store::tokens::{self, TokenRecord};

use crate::access::{Decision, Grant};
use crate::caller::{Caller, Via};
use crate::error::{Error, ErrorCode, FieldError, Result};
use crate::notify::{self, Outbox};
use crate::secrets::{hash_secret, new_api_token};
use crate::{App, passwords};

/// The platform's agreement template, used by providers without their own.
pub const DEFAULT_TEMPLATE: &str = include_str!("../templates/agreement.md");

/// The placeholders a template may use, each written `{{name}}`.
pub const PLACEHOLDERS: &[&str] = &[
    "agreement_id",
    "version",
    "provider",
    "applicant",
    "applicant_identity",
    "grants",
    "scenarios",
    "purpose",
    "period_start",
    "period_end",
    "security_measures",
    "date",
];

/// The placeholders every template must use: the agreement must state the exact items and
/// quotas, the scenarios, the period and the security measures (A20.1).
pub const REQUIRED_PLACEHOLDERS: &[&str] = &[
    "grants",
    "scenarios",
    "period_start",
    "period_end",
    "security_measures",
];

/// The longest template, in characters.
pub const MAX_TEMPLATE_CHARS: usize = 20_000;

/// The placeholders `template` names, in order.
fn placeholders_in(template: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else {
            break;
        };
        found.push(after[..end].trim().to_owned());
        rest = &after[end + 2..];
    }
    found
}

/// The template an organization's agreements are generated from: its own, or the platform's.
pub async fn template(app: &App, org: domain::ids::OrgId) -> Result<(String, bool)> {
    Ok(match app.store.agreement_template(org).await? {
        Some(text) => (text, false),
        None => (DEFAULT_TEMPLATE.to_owned(), true),
    })
}

/// Saves `org`'s agreement template (its admins or the operator): bounded, naming only known
/// placeholders and every required one. Audited; agreements already generated keep their text.
pub async fn save_template(
    app: &App,
    caller: &Caller,
    org: domain::ids::OrgId,
    text: &str,
) -> Result<()> {
    caller.authorize(Action::EditAgreementTemplate, Resource::Organization(org))?;
    let mut errors: Vec<FieldError> = FieldError::text(
        "text",
        text,
        domain::bounded::Limit::lines(MAX_TEMPLATE_CHARS),
    )
    .into_iter()
    .collect();
    let named = placeholders_in(text);
    if let Some(unknown) = named.iter().find(|n| !PLACEHOLDERS.contains(&n.as_str())) {
        errors.push(FieldError {
            field: "text".into(),
            code: "unknown_placeholder",
            detail: Some(unknown.clone()),
        });
    }
    for required in REQUIRED_PLACEHOLDERS {
        if !named.iter().any(|n| n == required) {
            errors.push(FieldError {
                field: "text".into(),
                code: "missing_placeholder",
                detail: Some((*required).to_owned()),
            });
        }
    }
    if !errors.is_empty() {
        return Err(Error::invalid(errors));
    }
    let now = app.clock.now();
    let by = caller.user()?.id.to_string();
    let before = app.store.agreement_template(org).await?;
    let mut tx = app.store.begin_write().await?;
    records::save_template(&mut tx, org, text, &by, now).await?;
    let mut ev = caller.event(
        now,
        "agreement_template.save",
        "organization",
        org.to_string(),
    );
    ev.before = before.map(|t| json!({ "sha256": digest(&t) }));
    ev.after = Some(json!({ "sha256": digest(text) }));
    tx.audit(ev).await?;
    tx.commit().await?;
    Ok(())
}

/// `template` with each `{{name}}` of `values` replaced, in one pass: a value that itself
/// contains `{{…}}` is written as it is, never expanded again. Unknown names stay as written.
pub fn render(template: &str, values: &[(&str, String)]) -> String {
    let mut out = String::with_capacity(template.len() + 512);
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        match after.find("}}") {
            Some(end) => {
                let name = after[..end].trim();
                match values.iter().find(|(k, _)| *k == name) {
                    Some((_, v)) => out.push_str(v),
                    None => out.push_str(&rest[start..start + 2 + end + 2]),
                }
                rest = &after[end + 2..];
            }
            None => {
                out.push_str(&rest[start..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

/// SHA-256 of `text`, hex: what each side signs.
pub fn digest(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// The grants kept with an agreement.
pub fn grants_of(a: &AgreementRecord) -> Vec<Grant> {
    serde_json::from_value(a.grants.clone()).unwrap_or_default()
}

/// The rows a grant delivers, as the agreement states them: `；仅限 district 等于 黄浦区` for
/// each filter, nothing when every row is granted.
fn rows_clause(rows: &[domain::access::RowFilter]) -> String {
    use domain::access::RowOp;
    let conditions: Vec<String> = rows
        .iter()
        .map(|f| {
            let op = match f.op {
                RowOp::Eq => "等于",
                RowOp::In => "属于",
                RowOp::Gte => "不小于",
                RowOp::Lte => "不大于",
            };
            format!("{} {op} {}", f.field, f.values.join("、"))
        })
        .collect();
    if conditions.is_empty() {
        String::new()
    } else {
        format!("；仅限 {} 的记录", conditions.join("，且 "))
    }
}

/// How a grant is delivered, as the agreement states it: nothing for rows through the API.
fn delivery_clause(g: &Grant, threshold: u64) -> String {
    use domain::access::Delivery;
    match (g.delivery, g.privacy_budget) {
        (Delivery::Rows, _) => String::new(),
        (Delivery::Sandbox, None) => format!(
            "；以数据沙箱方式交付：数据不出平台，仅返回聚合统计结果，记录数少于 {threshold} 条的分组不予返回"
        ),
        (Delivery::Sandbox, Some(b)) => format!(
            "；以数据沙箱方式交付：数据不出平台，仅返回加入差分隐私噪声的聚合统计结果，记录数少于 {threshold} 条的分组不予返回，隐私预算 ε 共 {}",
            b.epsilon()
        ),
    }
}

/// The agreement a decision to approve `w` leads to, version `version`, not yet signed.
pub async fn generate(
    app: &App,
    w: &WorkOrderRecord,
    decision: &Decision,
    version: i64,
    now: Timestamp,
) -> Result<AgreementRecord> {
    let user = app.store.user(w.applicant_id).await?;
    let org = app.store.org(&w.org_id.to_string()).await?;
    let (template, _) = template(app, w.org_id).await?;
    let mut lines = Vec::new();
    let mut scenarios = Vec::new();
    for g in &decision.grants {
        let d = app.store.dataset(&g.dataset.to_string()).await.ok();
        let name = d.as_ref().map(|d| d.meta.name.clone()).unwrap_or_default();
        // Each item by its Chinese label, with the field name the data carries.
        let items: Vec<String> = g
            .items
            .iter()
            .map(|item| {
                let label = d.as_ref().and_then(|d| {
                    d.meta
                        .data_items
                        .iter()
                        .find(|i| &i.name == item)
                        .map(|i| i.label.clone())
                });
                match label {
                    Some(label) => format!("{label}（{item}）"),
                    None => item.clone(),
                }
            })
            .collect();
        lines.push(format!(
            "- {name}（{}）：数据项 {}；每日调用不超过 {} 次；{} 至 {}{}{}",
            g.dataset,
            items.join("、"),
            g.calls_per_day,
            g.period_start,
            g.period_end,
            rows_clause(&g.rows),
            delivery_clause(g, app.config.data.privacy.sandbox_threshold)
        ));
        if let Some(e) = w.requested.entries.iter().find(|e| e.dataset == g.dataset)
            && !scenarios.contains(&e.scenario)
        {
            scenarios.push(e.scenario.clone());
        }
    }
    let start = decision
        .grants
        .iter()
        .map(|g| g.period_start)
        .min()
        .unwrap_or(w.requested.period.0);
    let end = decision
        .grants
        .iter()
        .map(|g| g.period_end)
        .max()
        .unwrap_or(w.requested.period.1);
    let id = AgreementId::new();
    let identity = match (&user.legal_name, &user.uscc) {
        (Some(name), Some(code)) => format!("{name}，统一社会信用代码 {code}"),
        _ => format!("自然人，账号 {}", user.email),
    };
    let text = render(
        &template,
        &[
            ("agreement_id", id.to_string()),
            ("version", version.to_string()),
            ("provider", org.name_zh.clone()),
            (
                "applicant",
                user.legal_name.clone().unwrap_or(user.display_name),
            ),
            ("applicant_identity", identity),
            ("grants", lines.join("\n")),
            ("scenarios", scenarios.join("；")),
            ("purpose", w.requested.purpose.clone()),
            ("period_start", start.to_string()),
            ("period_end", end.to_string()),
            ("security_measures", w.requested.security_measures.clone()),
            ("date", now.to_cst().date_naive().to_string()),
        ],
    );
    Ok(AgreementRecord {
        id,
        work_order_id: w.id,
        application_id: w.application_id,
        org_id: w.org_id,
        applicant_id: w.applicant_id,
        version,
        state: AgreementState::AwaitingSignatures,
        sha256: digest(&text),
        text,
        grants: serde_json::to_value(&decision.grants).expect("grants serialize"),
        period_start: start,
        period_end: end,
        applicant_signed_at: None,
        provider_signed_at: None,
        provider_signed_by: None,
        credential_id: None,
        created_at: now,
        updated_at: now,
    })
}

fn step_error(e: StepError) -> Error {
    match e {
        StepError::NotYours { .. } => ErrorCode::Forbidden.into(),
        StepError::TextChanged => ErrorCode::AgreementTextChanged.into(),
        StepError::AlreadySigned(_) => ErrorCode::AlreadySigned.into(),
        StepError::WrongState { .. } => ErrorCode::InvalidTransition.into(),
    }
}

fn changed(e: store::StoreError) -> Error {
    match e {
        store::StoreError::Conflict("agreement_changed") => ErrorCode::InvalidTransition.into(),
        other => other.into(),
    }
}

/// A credential issued to the applicant: its record and its secret, shown this once.
#[derive(Debug, Clone)]
pub struct Credential {
    pub record: TokenRecord,
    pub secret: String,
}

/// The end of `a`'s last day of use (24:00 China Standard Time).
fn period_end(a: &AgreementRecord) -> Timestamp {
    let next = a.period_end.succ_opt().unwrap_or(a.period_end);
    let midnight = next
        .and_hms_opt(0, 0, 0)
        .expect("midnight")
        .and_local_timezone(domain::clock::china_standard_time())
        .single()
        .expect("a fixed offset has one local time");
    Timestamp(midnight.timestamp_millis())
}

/// A new credential for `a` (the old one, if any, revoked in the same transaction).
async fn issue(tx: &mut store::WriteTx, a: &AgreementRecord, now: Timestamp) -> Result<Credential> {
    if let Some(old) = a.credential_id {
        tokens::revoke_credential(tx, old, now).await?;
    }
    let secret = new_api_token();
    let record = TokenRecord {
        id: TokenId::new(),
        user_id: a.applicant_id,
        name: format!("数据交付凭证 {}", a.id),
        prefix: secret.chars().take(10).collect(),
        created_at: now,
        expires_at: Some(period_end(a)),
        revoked_at: None,
        scope: domain::roles::TokenScope {
            read_only: true,
            org: None,
            agreement: Some(a.id),
        },
    };
    tokens::insert(tx, &record, &hash_secret(&secret)).await?;
    Ok(Credential { record, secret })
}

/// One side signs `a` (A20.1): the caller types their password again and names the SHA-256
/// of the text they read. The second signature makes the agreement active; when the applicant
/// signs last, their credential comes back with it (its secret shown this once).
pub async fn sign(
    app: &App,
    caller: &Caller,
    a: AgreementRecord,
    password: String,
    read_sha256: &str,
) -> Result<(AgreementRecord, Option<Credential>)> {
    caller.authorize(Action::SignAgreement, Resource::Agreement(a.facts()))?;
    // A person signs, at a browser or at the machine: a token cannot sign (nor mint a
    // credential by signing).
    if !matches!(caller.via, Via::Session { .. } | Via::Cli) {
        return Err(ErrorCode::SessionRequired.into());
    }
    let user = caller.user()?.id;
    let now = app.clock.now();
    let cfg = &app.config;
    let key = format!("agreement-sign:{user}");
    let window = app.store.hit(&key, now, cfg.login_window_secs).await?;
    if window.hits > cfg.login_max_failures {
        return Err(crate::accounts::too_many(
            now,
            window.ends(cfg.login_window_secs),
        ));
    }
    let stored = app.store.password_hash(user).await?;
    if !passwords::verify(password, Some(stored)).await {
        return Err(Error::invalid(vec![FieldError::new(
            "password",
            "wrong_password",
        )]));
    }
    app.store.give_back(&key).await?;
    let party = if user == a.applicant_id {
        Party::Applicant
    } else {
        Party::Provider
    };
    let signed = Signatures {
        applicant: a.applicant_signed_at.is_some(),
        provider: a.provider_signed_at.is_some(),
    };
    let from = a.state;
    let (next, _) = from
        .sign(party, signed, read_sha256.trim(), &a.sha256)
        .map_err(step_error)?;
    let mut after = AgreementRecord {
        state: next,
        updated_at: now,
        ..a
    };
    match party {
        Party::Applicant => after.applicant_signed_at = Some(now),
        _ => {
            after.provider_signed_at = Some(now);
            after.provider_signed_by = Some(user.to_string());
        }
    }
    let mut tx = app.store.begin_write().await?;
    let mut changed_too = Vec::new();
    let credential = if next.delivers() {
        changed_too = supersede_earlier(app, &mut tx, &after, now).await?;
        let c = issue(&mut tx, &after, now).await?;
        after.credential_id = Some(c.record.id);
        Some(c)
    } else {
        None
    };
    records::update(&mut tx, &after, from, (signed.applicant, signed.provider))
        .await
        .map_err(changed)?;
    let mut ev = caller.event(now, "agreement.sign", "agreement", after.id.to_string());
    ev.after = Some(json!({
        "party": party, "sha256": after.sha256, "version": after.version, "state": after.state,
    }));
    tx.audit(ev).await?;
    let mut outbox = Outbox::default();
    if let Some(c) = &credential {
        let mut ev = caller.event(
            now,
            "credential.issue",
            "api_token",
            c.record.id.to_string(),
        );
        ev.after = Some(json!({ "agreement": after.id, "expires_at": c.record.expires_at }));
        tx.audit(ev).await?;
        let mut sides = notify::deciders(app, after.org_id).await?;
        sides.push(after.applicant_id);
        outbox.to(
            sides,
            &Notice::new(
                NoticeKind::AgreementActive,
                format!("/agreements/{}", after.id),
            )
            .with("period_end", after.period_end.to_string()),
        );
        outbox.write(&mut tx, now).await?;
    }
    tx.commit().await?;
    app.agreements.forget(after.id);
    for id in changed_too {
        app.agreements.forget(id);
    }
    outbox.send(app);
    // Only the applicant ever sees the credential's secret.
    Ok((after, credential.filter(|_| party == Party::Applicant)))
}

/// A new version coming into force replaces the versions of its work order still in force:
/// each is superseded and its credential revoked, in the same transaction (A20.1).
async fn supersede_earlier(
    app: &App,
    tx: &mut store::WriteTx,
    new: &AgreementRecord,
    now: Timestamp,
) -> Result<Vec<AgreementId>> {
    let mut superseded = Vec::new();
    for old in app.store.agreements_of(new.work_order_id).await? {
        if old.id == new.id
            || !matches!(
                old.state,
                AgreementState::Active | AgreementState::Suspended
            )
        {
            continue;
        }
        let from = old.state;
        let next = from.supersede(Party::System).map_err(step_error)?;
        if let Some(c) = old.credential_id {
            tokens::revoke_credential(tx, c, now).await?;
        }
        let signed = (
            old.applicant_signed_at.is_some(),
            old.provider_signed_at.is_some(),
        );
        let after = AgreementRecord {
            state: next,
            updated_at: now,
            ..old
        };
        records::update(tx, &after, from, signed)
            .await
            .map_err(changed)?;
        let mut ev = store::AuditEvent::system(
            now,
            "system",
            "agreement.supersede",
            "agreement",
            after.id.to_string(),
        );
        ev.after = Some(json!({ "by_version": new.version, "by": new.id }));
        tx.audit(ev).await?;
        superseded.push(after.id);
    }
    Ok(superseded)
}

/// What a provider changes of an agreement in force: the grants, narrower or as applied for,
/// never wider than the application (A19.2), and why.
#[derive(Debug, Clone, serde::Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RevisionInput {
    /// Per entry; entries left out get what was applied for.
    #[serde(default)]
    pub grants: Vec<crate::access::GrantInput>,
    pub reason: String,
}

/// The provider changes `a`'s terms: a new version, generated from the template, that both
/// sides sign again (A20.1). The version in force keeps delivering until the new one is
/// signed by both, which supersedes it.
pub async fn revise(
    app: &App,
    caller: &Caller,
    a: &AgreementRecord,
    input: RevisionInput,
) -> Result<AgreementRecord> {
    caller.authorize(Action::ReviseAgreement, Resource::Agreement(a.facts()))?;
    let reason = input.reason.trim();
    let mut errors: Vec<FieldError> = FieldError::text("reason", reason, domain::bounded::TEXT)
        .into_iter()
        .collect();
    if reason.is_empty() {
        errors.push(FieldError::new("reason", "required"));
    }
    let w = app.store.work_order(&a.work_order_id.to_string()).await?;
    let granted = match crate::access::granted(app, &w.requested, &input.grants).await? {
        Ok(g) => g,
        Err(e) => {
            errors.extend(e.fields);
            Vec::new()
        }
    };
    if !errors.is_empty() {
        return Err(Error::invalid(errors));
    }
    if !matches!(a.state, AgreementState::Active | AgreementState::Suspended) {
        return Err(ErrorCode::InvalidTransition.into());
    }
    let versions = app.store.agreements_of(a.work_order_id).await?;
    if versions
        .iter()
        .any(|v| v.state == AgreementState::AwaitingSignatures)
    {
        // One change at a time: the pending version is signed or revised first.
        return Err(ErrorCode::InvalidTransition.into());
    }
    let version = versions
        .iter()
        .map(|v| v.version)
        .max()
        .unwrap_or(a.version)
        + 1;
    let decided = Decision::of(&w).ok_or(ErrorCode::InvalidTransition)?;
    let decision = Decision {
        grants: granted,
        ..decided
    };
    let now = app.clock.now();
    let new = generate(app, &w, &decision, version, now).await?;
    let mut tx = app.store.begin_write().await?;
    records::insert(&mut tx, &new).await?;
    let mut ev = caller.event(now, "agreement.revise", "agreement", new.id.to_string());
    ev.before = Some(json!({ "agreement": a.id, "version": a.version, "grants": a.grants }));
    ev.after = Some(json!({
        "version": new.version, "sha256": new.sha256, "grants": new.grants, "reason": reason,
    }));
    tx.audit(ev).await?;
    let mut sides = notify::deciders(app, new.org_id).await?;
    sides.push(new.applicant_id);
    let provider = app.store.org(&new.org_id.to_string()).await?.name_zh;
    let mut outbox = Outbox::default();
    outbox.to(
        sides,
        &Notice::new(
            NoticeKind::AgreementToSign,
            format!("/agreements/{}", new.id),
        )
        .with("provider", provider),
    );
    outbox.write(&mut tx, now).await?;
    tx.commit().await?;
    outbox.send(app);
    Ok(new)
}

/// The applicant takes a new credential for an active agreement (the old one stops working):
/// when the provider signed last, or a secret was lost.
pub async fn reissue(
    app: &App,
    caller: &Caller,
    a: AgreementRecord,
) -> Result<(AgreementRecord, Credential)> {
    caller.authorize(Action::TakeCredential, Resource::Agreement(a.facts()))?;
    if !matches!(caller.via, Via::Session { .. }) {
        return Err(ErrorCode::SessionRequired.into());
    }
    if a.state != AgreementState::Active {
        return Err(ErrorCode::InvalidTransition.into());
    }
    let now = app.clock.now();
    let signed = (
        a.applicant_signed_at.is_some(),
        a.provider_signed_at.is_some(),
    );
    let mut tx = app.store.begin_write().await?;
    let c = issue(&mut tx, &a, now).await?;
    let after = AgreementRecord {
        credential_id: Some(c.record.id),
        updated_at: now,
        ..a
    };
    records::update(&mut tx, &after, AgreementState::Active, signed)
        .await
        .map_err(changed)?;
    let mut ev = caller.event(
        now,
        "credential.issue",
        "api_token",
        c.record.id.to_string(),
    );
    ev.after = Some(json!({ "agreement": after.id, "expires_at": c.record.expires_at }));
    tx.audit(ev).await?;
    tx.commit().await?;
    app.agreements.forget(after.id);
    Ok((after, c))
}

/// The provider or the operator stops, restarts or ends delivery at once (A21.1).
pub async fn control(
    app: &App,
    caller: &Caller,
    a: AgreementRecord,
    step: &str,
    reason: &str,
) -> Result<AgreementRecord> {
    caller.authorize(Action::ManageDelivery, Resource::Agreement(a.facts()))?;
    let reason = reason.trim();
    let mut errors: Vec<FieldError> = FieldError::text("reason", reason, domain::bounded::TEXT)
        .into_iter()
        .collect();
    if reason.is_empty() {
        errors.push(FieldError::new("reason", "required"));
    }
    let user = caller.user()?;
    let party = if user.role_in(a.org_id).is_some() {
        Party::Provider
    } else {
        Party::Operator
    };
    let from = a.state;
    let next = match step {
        "suspend" => from.suspend(party),
        "resume" => from.resume(party),
        "revoke" => from.revoke(party),
        _ => return Err(Error::field("step", "invalid_step")),
    }
    .map_err(step_error)?;
    if !errors.is_empty() {
        return Err(Error::invalid(errors));
    }
    let now = app.clock.now();
    let signed = (
        a.applicant_signed_at.is_some(),
        a.provider_signed_at.is_some(),
    );
    let after = AgreementRecord {
        state: next,
        updated_at: now,
        ..a
    };
    let mut tx = app.store.begin_write().await?;
    if next == AgreementState::Revoked
        && let Some(c) = after.credential_id
    {
        tokens::revoke_credential(&mut tx, c, now).await?;
    }
    records::update(&mut tx, &after, from, signed)
        .await
        .map_err(changed)?;
    let mut ev = caller.event(
        now,
        match next {
            AgreementState::Suspended => "agreement.suspend",
            AgreementState::Revoked => "agreement.revoke",
            _ => "agreement.resume",
        },
        "agreement",
        after.id.to_string(),
    );
    ev.before = Some(json!({ "state": from }));
    ev.after = Some(json!({ "state": next, "reason": reason }));
    tx.audit(ev).await?;
    let mut sides = notify::deciders(app, after.org_id).await?;
    sides.push(after.applicant_id);
    let mut outbox = Outbox::default();
    outbox.to(
        sides,
        &Notice::new(
            match next {
                AgreementState::Suspended => NoticeKind::DeliverySuspended,
                AgreementState::Revoked => NoticeKind::DeliveryRevoked,
                _ => NoticeKind::DeliveryResumed,
            },
            format!("/agreements/{}", after.id),
        )
        .with("reason", reason),
    );
    outbox.write(&mut tx, now).await?;
    tx.commit().await?;
    // Delivery stops (or starts again) at once on this server.
    app.agreements.forget(after.id);
    outbox.send(app);
    Ok(after)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_filled_once_and_values_are_never_expanded_again() {
        let out = render(
            "甲方：{{provider}}；乙方：{{ applicant }}；{{unknown}}；{{",
            &[
                ("provider", "市交通委".into()),
                ("applicant", "{{provider}}研究所".into()),
            ],
        );
        assert_eq!(
            out,
            "甲方：市交通委；乙方：{{provider}}研究所；{{unknown}}；{{"
        );
    }

    #[test]
    fn the_default_template_uses_only_known_placeholders_and_each_of_them() {
        let found = placeholders_in(DEFAULT_TEMPLATE);
        assert!(found.contains(&"grants".to_owned()));
        for f in &found {
            assert!(PLACEHOLDERS.contains(&f.as_str()), "{f}");
        }
        for p in PLACEHOLDERS {
            assert!(found.iter().any(|f| f == p), "{p} unused");
        }
    }

    #[test]
    fn placeholders_are_read_in_order_trimmed_and_an_unclosed_one_is_not_one() {
        assert_eq!(
            placeholders_in("甲 {{ provider }}，乙 {{applicant}}；{{ 未完"),
            ["provider", "applicant"]
        );
    }

    #[test]
    fn the_digest_is_sha256_of_the_text() {
        // SHA-256 of "abc" (FIPS 180-2, appendix B.1).
        assert_eq!(
            digest("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}

/// One day of calls under an agreement, as its two sides see it (A29.1, A30.1).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
pub struct DayUse {
    /// The day in China Standard Time.
    pub day: chrono::NaiveDate,
    /// Calls answered.
    pub calls: i64,
    /// Calls refused (outside the grant, the period or the day's quota).
    pub refused: i64,
    /// Records answered.
    pub records: i64,
    /// The data items the answered calls returned.
    pub items: Vec<String>,
}

/// The days a usage report covers.
pub const USAGE_DAYS: i64 = 30;
/// The most rows of the usage log a report reads.
const USAGE_ROWS: i64 = 200_000;

/// The calls made under `a` over the last [`USAGE_DAYS`] days, per day, newest first.
pub async fn usage(app: &App, a: &AgreementRecord) -> Result<Vec<DayUse>> {
    let since = app.clock.now().plus_seconds(-USAGE_DAYS * 86_400);
    let rows = app
        .store
        .agreement_usage(&a.id.to_string(), since, USAGE_ROWS)
        .await?;
    let mut days: std::collections::BTreeMap<
        chrono::NaiveDate,
        (DayUse, std::collections::BTreeSet<String>),
    > = std::collections::BTreeMap::new();
    for r in rows {
        let day = r.minute.to_cst().date_naive();
        let (d, items) = days.entry(day).or_insert_with(|| {
            (
                DayUse {
                    day,
                    calls: 0,
                    refused: 0,
                    records: 0,
                    items: Vec::new(),
                },
                Default::default(),
            )
        });
        if r.status < 400 {
            d.calls += r.calls;
            d.records += r.rows;
            items.extend(
                r.fields
                    .split(',')
                    .filter(|f| !f.is_empty())
                    .map(str::to_owned),
            );
        } else {
            d.refused += r.calls;
        }
    }
    Ok(days
        .into_values()
        .rev()
        .map(|(mut d, items)| {
            d.items = items.into_iter().collect();
            d
        })
        .collect())
}

/// A filing of conditional data handed over outside the platform (A21.1).
#[derive(Debug, Clone, serde::Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OfflineInput {
    /// Why the data could not be delivered on the platform.
    pub reason: String,
    /// Who received it: a person and their organization.
    pub recipient: String,
    /// SHA-256 of the file handed over, 64 hexadecimal digits.
    pub sha256: String,
    #[serde(default)]
    pub file_name: Option<String>,
    #[serde(default)]
    pub size: Option<i64>,
}

/// Files an offline delivery under `a`, which must be active: offline delivery exists only
/// with a filing, which the regulator sees (A21.1). The regulators are told.
pub async fn file_offline(
    app: &App,
    caller: &Caller,
    a: &AgreementRecord,
    input: OfflineInput,
) -> Result<records::OfflineRecord> {
    caller.authorize(Action::ManageDelivery, Resource::Agreement(a.facts()))?;
    let reason = input.reason.trim();
    let recipient = input.recipient.trim();
    let sha256 = input.sha256.trim().to_ascii_lowercase();
    let file_name = input
        .file_name
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty());
    let mut errors = Vec::new();
    for (field, text, limit) in [
        ("reason", reason, domain::bounded::TEXT),
        ("recipient", recipient, domain::bounded::NAME),
    ] {
        if text.is_empty() {
            errors.push(FieldError::new(field, "required"));
        }
        errors.extend(FieldError::text(field, text, limit));
    }
    if sha256.len() != 64 || !sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
        errors.push(FieldError::new("sha256", "invalid_sha256"));
    }
    if let Some(n) = file_name {
        errors.extend(FieldError::text("file_name", n, domain::bounded::NAME));
    }
    if input.size.is_some_and(|s| s < 0) {
        errors.push(FieldError::new("size", "invalid_value"));
    }
    if !errors.is_empty() {
        return Err(Error::invalid(errors));
    }
    // Delivery of any kind is under an agreement in force.
    if a.state != AgreementState::Active {
        return Err(ErrorCode::InvalidTransition.into());
    }
    let now = app.clock.now();
    let filing = records::OfflineRecord {
        id: uuid::Uuid::now_v7().to_string(),
        agreement_id: a.id,
        org_id: a.org_id,
        filed_by: caller.user()?.id,
        reason: reason.to_owned(),
        recipient: recipient.to_owned(),
        sha256,
        file_name: file_name.map(str::to_owned),
        size: input.size,
        filed_at: now,
    };
    let mut tx = app.store.begin_write().await?;
    records::insert_offline(&mut tx, &filing).await?;
    let mut ev = caller.event(
        now,
        "agreement.offline_delivery",
        "agreement",
        a.id.to_string(),
    );
    ev.after = Some(json!({
        "filing": filing.id, "reason": filing.reason, "recipient": filing.recipient,
        "sha256": filing.sha256, "file_name": filing.file_name, "size": filing.size,
    }));
    tx.audit(ev).await?;
    let mut outbox = Outbox::default();
    outbox.to(
        notify::regulators(app).await?,
        &Notice::new(NoticeKind::OfflineDelivery, "/console/oversight").with(
            "provider",
            app.store.org(&a.org_id.to_string()).await?.name_zh,
        ),
    );
    outbox.write(&mut tx, now).await?;
    tx.commit().await?;
    outbox.send(app);
    Ok(filing)
}
