//! `/api/v1` for conditional opening (A18–A19): applications, their materials and the
//! completeness review, and the work orders providers decide.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use chrono::NaiveDate;
use domain::access::{AgreementState, ApplicationState, WorkOrderState};
use domain::application::{ApplicationForm, Request};
use domain::ids::{AgreementId, ApplicationId, DatasetId, OrgId, TokenId, UserId, WorkOrderId};
use domain::roles::AccountKind;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use store::access::{
    ApplicationFilter, ApplicationRecord, MaterialRecord, WorkOrderFilter, WorkOrderRecord,
};
use store::agreements::AgreementRecord;
use store::orgs::OrgRecord;
use store::paging::Paged;

use crate::contract::Rfc3339;
use crate::ctx::{ApiJson, Ctx, Params};
use crate::error::{AppError, AppResult, ErrorCode, FieldError};
use crate::paging::Next;
use crate::state::AppState;

/// A file uploaded with an application.
#[derive(Debug, Serialize, JsonSchema)]
pub struct MaterialView {
    pub id: String,
    /// The entry whose list requires it; null for the security pledge.
    pub dataset: Option<DatasetId>,
    /// The required material's name, or `security_pledge`.
    pub material: String,
    pub name: String,
    pub media_type: String,
    pub size: i64,
    pub sha256: String,
    /// Where to download it.
    pub url: String,
}

/// One submission and how the completeness review ended it.
#[derive(Debug, Serialize, JsonSchema)]
pub struct RoundView {
    pub round: i64,
    pub submitted_at: Rfc3339,
    /// accepted, returned or withdrawn; null while under review.
    pub outcome: Option<String>,
    /// Why it was returned, all at once.
    pub reasons: Vec<String>,
    pub decided_at: Option<Rfc3339>,
}

/// A work order as its applicant sees it in the application.
#[derive(Debug, Serialize, JsonSchema)]
pub struct WorkOrderSummary {
    pub id: WorkOrderId,
    pub organization: OrgId,
    pub state: WorkOrderState,
    /// The last working day the provider has to decide (A19.2).
    pub due_on: NaiveDate,
    /// Counted on weekends alone into a year whose holidays are not yet known.
    pub due_provisional: bool,
    /// The provider's decision, once made (A19.3): what was granted, or every reason.
    pub decision: Option<PublishedDecision>,
    /// The agreements to sign or signed, the latest version first.
    pub agreements: Vec<AgreementSummary>,
}

/// A decision as published to the applicant.
#[derive(Debug, Serialize, JsonSchema)]
pub struct PublishedDecision {
    /// approved or refused.
    pub outcome: String,
    pub grants: Vec<app::access::Grant>,
    pub reasons: Vec<String>,
    pub decided_at: Option<Rfc3339>,
}

/// An application for conditional data (A18.2).
#[derive(Debug, Serialize, JsonSchema)]
pub struct ApplicationView {
    pub id: ApplicationId,
    pub applicant: UserId,
    pub state: ApplicationState,
    pub form: ApplicationForm,
    /// Submissions so far.
    pub round: i64,
    /// Send it back with the next change, so a save never overwrites a newer one.
    pub row_version: i64,
    pub materials: Vec<MaterialView>,
    pub rounds: Vec<RoundView>,
    pub work_orders: Vec<WorkOrderSummary>,
    pub created_at: Rfc3339,
    pub updated_at: Rfc3339,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct ApplicationList {
    pub applications: Vec<ApplicationView>,
    pub next: Next,
}

fn material_view(base: &str, m: MaterialRecord) -> MaterialView {
    MaterialView {
        url: format!("{base}/materials/{}", m.id),
        id: m.id,
        dataset: m.dataset_id,
        material: m.material,
        name: m.name,
        media_type: m.media_type,
        size: m.size,
        sha256: m.sha256,
    }
}

async fn application_json(state: &AppState, a: &ApplicationRecord) -> AppResult<ApplicationView> {
    let base = format!("/api/v1/applications/{}", a.id);
    let materials = state.store.materials(a.id).await?;
    let rounds = state.store.rounds(a.id).await?;
    let orders = state.store.work_orders_of(a.id).await?;
    let mut agreements = Vec::with_capacity(orders.len());
    for w in &orders {
        agreements.push(agreement_summaries(state.store.agreements_of(w.id).await?));
    }
    Ok(ApplicationView {
        id: a.id,
        applicant: a.applicant_id,
        state: a.state,
        form: a.form.clone(),
        round: a.round,
        row_version: a.row_version,
        materials: materials
            .into_iter()
            .map(|m| material_view(&base, m))
            .collect(),
        rounds: rounds
            .into_iter()
            .map(|r| RoundView {
                round: r.round,
                submitted_at: r.submitted_at.into(),
                outcome: r.outcome,
                reasons: r.reasons,
                decided_at: Rfc3339::of(r.decided_at),
            })
            .collect(),
        work_orders: orders
            .into_iter()
            .zip(agreements)
            .map(|(w, agreements)| WorkOrderSummary {
                id: w.id,
                organization: w.org_id,
                state: w.state,
                due_on: w.due_on,
                due_provisional: w.due_provisional,
                decision: app::access::Decision::of(&w).map(|d| PublishedDecision {
                    outcome: d.outcome,
                    grants: d.grants,
                    reasons: d.reasons,
                    decided_at: Rfc3339::of(w.decided_at),
                }),
                agreements,
            })
            .collect(),
        created_at: a.created_at.into(),
        updated_at: a.updated_at.into(),
    })
}

async fn list_json(
    state: &AppState,
    list: Paged<ApplicationRecord>,
) -> AppResult<Json<ApplicationList>> {
    let mut applications = Vec::with_capacity(list.items.len());
    for a in &list.items {
        applications.push(application_json(state, a).await?);
    }
    Ok(Json(ApplicationList {
        applications,
        next: Next::of(&list.next),
    }))
}

/// A form to save.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FormInput {
    form: ApplicationForm,
    /// The `row_version` the form was read at; a newer saved one refuses the save.
    #[serde(default)]
    row_version: Option<i64>,
}

/// `POST /api/v1/applications`: a draft.
pub async fn create(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiJson(input): ApiJson<FormInput>,
) -> AppResult<Response> {
    let a = app::access::create(&state.app, &ctx.caller, input.form).await?;
    Ok((
        StatusCode::CREATED,
        Json(application_json(&state, &a).await?),
    )
        .into_response())
}

#[derive(Deserialize, JsonSchema)]
pub struct ListQuery {
    /// Per page, 1 to 1000 (more is clamped); 100 when not given.
    limit: Option<i64>,
    /// The `next` cursor of the page before.
    after: Option<String>,
}

/// `GET /api/v1/applications`: the caller's own, the latest change first.
pub async fn mine(
    State(state): State<AppState>,
    ctx: Ctx,
    Params(q): Params<ListQuery>,
) -> AppResult<Json<ApplicationList>> {
    let user = ctx.caller.user()?.id;
    let page = crate::paging::requested(q.limit, q.after.as_deref())?;
    let list = state
        .store
        .applications(
            &ApplicationFilter {
                applicant: Some(user),
                state: None,
            },
            &page,
        )
        .await?;
    list_json(&state, list).await
}

/// `GET /api/v1/completeness-queue`: submitted applications, the longest waiting first.
pub async fn queue(
    State(state): State<AppState>,
    Params(q): Params<ListQuery>,
) -> AppResult<Json<ApplicationList>> {
    let page = crate::paging::requested(q.limit, q.after.as_deref())?;
    let list = state
        .store
        .applications(
            &ApplicationFilter {
                applicant: None,
                state: Some(ApplicationState::Submitted),
            },
            &page,
        )
        .await?;
    list_json(&state, list).await
}

pub async fn show(
    State(state): State<AppState>,
    Extension(a): Extension<ApplicationRecord>,
) -> AppResult<Json<ApplicationView>> {
    Ok(Json(application_json(&state, &a).await?))
}

pub async fn update(
    State(state): State<AppState>,
    ctx: Ctx,
    Extension(a): Extension<ApplicationRecord>,
    ApiJson(input): ApiJson<FormInput>,
) -> AppResult<Json<ApplicationView>> {
    let a = app::access::update(&state.app, &ctx.caller, a, input.form, input.row_version).await?;
    Ok(Json(application_json(&state, &a).await?))
}

/// A material to attach: an upload of the caller's (`POST /api/v1/uploads`).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AttachInput {
    /// The entry whose list requires the material; left out for the security pledge.
    #[serde(default)]
    dataset: Option<DatasetId>,
    /// The material's name as the entry lists it, or `security_pledge`.
    material: String,
    /// The upload's id.
    upload: String,
}

pub async fn attach(
    State(state): State<AppState>,
    ctx: Ctx,
    Extension(a): Extension<ApplicationRecord>,
    ApiJson(input): ApiJson<AttachInput>,
) -> AppResult<Response> {
    let m = app::access::attach(
        &state.app,
        &ctx.caller,
        &a,
        input.dataset,
        &input.material,
        &input.upload,
    )
    .await?;
    let base = format!("/api/v1/applications/{}", a.id);
    Ok((StatusCode::CREATED, Json(material_view(&base, m))).into_response())
}

pub async fn detach(
    State(state): State<AppState>,
    ctx: Ctx,
    Extension(a): Extension<ApplicationRecord>,
    Path((_, id)): Path<(String, String)>,
) -> AppResult<StatusCode> {
    app::access::detach(&state.app, &ctx.caller, &a, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn send_material(state: &AppState, m: MaterialRecord) -> AppResult<Response> {
    let content = state
        .app
        .blobs
        .get(&m.sha256)
        .await
        .map_err(store::StoreError::from)?;
    crate::render::download(
        store::attachments::AttachmentInfo {
            id: m.id,
            name: m.name,
            media_type: m.media_type,
            size: m.size,
            sha256: m.sha256,
            created_at: m.created_at,
        },
        content,
    )
}

pub async fn material(
    State(state): State<AppState>,
    Extension(a): Extension<ApplicationRecord>,
    Path((_, id)): Path<(String, String)>,
) -> AppResult<Response> {
    let m = state
        .store
        .materials(a.id)
        .await?
        .into_iter()
        .find(|m| m.id == id)
        .ok_or_else(|| AppError::new(ErrorCode::NotFound))?;
    send_material(&state, m).await
}

pub async fn submit(
    State(state): State<AppState>,
    ctx: Ctx,
    Extension(a): Extension<ApplicationRecord>,
) -> AppResult<Json<ApplicationView>> {
    let a = app::access::submit(&state.app, &ctx.caller, a).await?;
    Ok(Json(application_json(&state, &a).await?))
}

pub async fn withdraw(
    State(state): State<AppState>,
    ctx: Ctx,
    Extension(a): Extension<ApplicationRecord>,
) -> AppResult<Json<ApplicationView>> {
    let a = app::access::withdraw(&state.app, &ctx.caller, a).await?;
    Ok(Json(application_json(&state, &a).await?))
}

pub async fn accept(
    State(state): State<AppState>,
    ctx: Ctx,
    Extension(a): Extension<ApplicationRecord>,
) -> AppResult<Json<ApplicationView>> {
    let (a, _) = app::access::accept(&state.app, &ctx.caller, a).await?;
    Ok(Json(application_json(&state, &a).await?))
}

/// Every reason the application is incomplete, at once.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReturnInput {
    reasons: Vec<String>,
}

pub async fn give_back(
    State(state): State<AppState>,
    ctx: Ctx,
    Extension(a): Extension<ApplicationRecord>,
    ApiJson(input): ApiJson<ReturnInput>,
) -> AppResult<Json<ApplicationView>> {
    let a = app::access::give_back(&state.app, &ctx.caller, a, input.reasons).await?;
    Ok(Json(application_json(&state, &a).await?))
}

/// Who applied, as the provider needs to know to decide (A19.2).
#[derive(Debug, Serialize, JsonSchema)]
pub struct ApplicantView {
    pub id: UserId,
    pub display_name: String,
    pub kind: AccountKind,
    /// An organization's registered name.
    pub legal_name: Option<String>,
    /// An organization's 统一社会信用代码.
    pub uscc: Option<String>,
}

/// What was applied for of one entry.
#[derive(Debug, Serialize, JsonSchema)]
pub struct RequestedEntry {
    pub dataset: DatasetId,
    pub name: String,
    pub items: Vec<String>,
    pub scenario: String,
}

/// A provider's work order (A19.2).
#[derive(Debug, Serialize, JsonSchema)]
pub struct WorkOrderView {
    pub id: WorkOrderId,
    pub application: ApplicationId,
    pub organization: OrgId,
    pub applicant: ApplicantView,
    pub state: WorkOrderState,
    pub entries: Vec<RequestedEntry>,
    pub purpose: String,
    pub period_start: NaiveDate,
    pub period_end: NaiveDate,
    pub calls_per_day: u64,
    pub security_measures: String,
    /// The materials of its entries and the security pledge.
    pub materials: Vec<MaterialView>,
    pub created_at: Rfc3339,
    /// The last working day to decide; the deadline is its end (A19.2).
    pub due_on: NaiveDate,
    /// Counted on weekends alone into a year whose holidays are not yet known: it will be
    /// counted again when the year is loaded.
    pub due_provisional: bool,
    /// Working days left after today (0 on the last day; negative once overdue).
    pub working_days_left: i64,
    pub overdue: bool,
    /// The decision with the criteria weighed, once made.
    pub decision: Option<app::access::Decision>,
    pub decided_at: Option<Rfc3339>,
    /// The agreements an approval led to, the latest version first.
    pub agreements: Vec<AgreementSummary>,
}

/// An agreement as a list shows it.
#[derive(Debug, Serialize, JsonSchema)]
pub struct AgreementSummary {
    pub id: AgreementId,
    pub version: i64,
    pub state: AgreementState,
    pub url: String,
}

fn agreement_summaries(list: Vec<AgreementRecord>) -> Vec<AgreementSummary> {
    list.into_iter()
        .map(|a| AgreementSummary {
            url: format!("/api/v1/agreements/{}", a.id),
            id: a.id,
            version: a.version,
            state: a.state,
        })
        .collect()
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct WorkOrderList {
    pub work_orders: Vec<WorkOrderView>,
    pub next: Next,
}

/// The materials a work order's provider may read: its entries' and the pledge.
fn order_materials(w: &WorkOrderRecord, all: Vec<MaterialRecord>) -> Vec<MaterialRecord> {
    all.into_iter()
        .filter(|m| match m.dataset_id {
            None => true,
            Some(d) => w.requested.entries.iter().any(|e| e.dataset == d),
        })
        .collect()
}

/// Applicants and entry names read once for a whole list of work orders.
#[derive(Default)]
struct Lookups {
    users: std::collections::HashMap<UserId, store::users::UserRecord>,
    names: std::collections::HashMap<DatasetId, String>,
}

impl Lookups {
    async fn user(&mut self, state: &AppState, id: UserId) -> AppResult<store::users::UserRecord> {
        if let Some(u) = self.users.get(&id) {
            return Ok(u.clone());
        }
        let u = state.store.user(id).await?;
        self.users.insert(id, u.clone());
        Ok(u)
    }

    async fn name(&mut self, state: &AppState, id: DatasetId) -> AppResult<String> {
        if let Some(n) = self.names.get(&id) {
            return Ok(n.clone());
        }
        let name = match state.store.dataset(&id.to_string()).await {
            Ok(d) => d.meta.name,
            Err(store::StoreError::NotFound) => String::new(),
            Err(err) => return Err(err.into()),
        };
        self.names.insert(id, name.clone());
        Ok(name)
    }
}

async fn order_json(
    state: &AppState,
    calendar: &domain::calendar::Calendar,
    w: &WorkOrderRecord,
) -> AppResult<WorkOrderView> {
    order_json_with(state, calendar, w, &mut Lookups::default()).await
}

async fn order_json_with(
    state: &AppState,
    calendar: &domain::calendar::Calendar,
    w: &WorkOrderRecord,
    lookups: &mut Lookups,
) -> AppResult<WorkOrderView> {
    let user = lookups.user(state, w.applicant_id).await?;
    let base = format!("/api/v1/work-orders/{}", w.id);
    let materials = order_materials(w, state.store.materials(w.application_id).await?);
    let Request {
        entries,
        purpose,
        period,
        calls_per_day,
        security_measures,
    } = &w.requested;
    let mut requested = Vec::with_capacity(entries.len());
    for e in entries {
        let name = lookups.name(state, e.dataset).await?;
        requested.push(RequestedEntry {
            dataset: e.dataset,
            name,
            items: e.items.iter().cloned().collect(),
            scenario: e.scenario.clone(),
        });
    }
    let today = state.app.clock.now().to_cst().date_naive();
    let left = calendar.working_days_left(today, w.due_on);
    Ok(WorkOrderView {
        id: w.id,
        application: w.application_id,
        organization: w.org_id,
        applicant: ApplicantView {
            id: user.id,
            display_name: user.display_name,
            kind: user.kind,
            legal_name: user.legal_name,
            uscc: user.uscc,
        },
        state: w.state,
        entries: requested,
        purpose: purpose.clone(),
        period_start: period.0,
        period_end: period.1,
        calls_per_day: *calls_per_day,
        security_measures: security_measures.clone(),
        materials: materials
            .into_iter()
            .map(|m| material_view(&base, m))
            .collect(),
        created_at: w.created_at.into(),
        due_on: w.due_on,
        due_provisional: w.due_provisional,
        working_days_left: left,
        overdue: w.state.is_open() && today > w.due_on,
        decision: app::access::Decision::of(w),
        decided_at: Rfc3339::of(w.decided_at),
        agreements: agreement_summaries(state.store.agreements_of(w.id).await?),
    })
}

#[derive(Deserialize, JsonSchema)]
pub struct InboxQuery {
    /// in_review, expert_review, approved, refused; `open` (the default) for those still to
    /// decide, `all` for every one.
    state: Option<String>,
    /// Per page, 1 to 1000 (more is clamped); 100 when not given.
    limit: Option<i64>,
    /// The `next` cursor of the page before.
    after: Option<String>,
}

/// `GET /api/v1/orgs/{org}/work-orders`: a provider's inbox, the nearest deadline first.
pub async fn inbox(
    State(state): State<AppState>,
    Extension(org): Extension<OrgRecord>,
    Params(q): Params<InboxQuery>,
) -> AppResult<Json<WorkOrderList>> {
    let mut filter = WorkOrderFilter {
        org: Some(org.id),
        ..Default::default()
    };
    match q.state.as_deref().map(str::trim) {
        None | Some("" | "open") => filter.open = true,
        Some("all") => {}
        Some(s) => {
            filter.state =
                Some(s.parse().map_err(|_| {
                    AppError::invalid(vec![FieldError::new("state", "invalid_status")])
                })?)
        }
    }
    let page = crate::paging::requested(q.limit, q.after.as_deref())?;
    let list = state.store.work_orders(&filter, &page).await?;
    let (calendar, _) = app::calendar::calendar(&state.app).await?;
    let mut work_orders = Vec::with_capacity(list.items.len());
    let mut lookups = Lookups::default();
    for w in &list.items {
        work_orders.push(order_json_with(&state, &calendar, w, &mut lookups).await?);
    }
    Ok(Json(WorkOrderList {
        work_orders,
        next: Next::of(&list.next),
    }))
}

pub async fn work_order(
    State(state): State<AppState>,
    Extension(w): Extension<WorkOrderRecord>,
) -> AppResult<Json<WorkOrderView>> {
    let (calendar, _) = app::calendar::calendar(&state.app).await?;
    Ok(Json(order_json(&state, &calendar, &w).await?))
}

pub async fn work_order_material(
    State(state): State<AppState>,
    Extension(w): Extension<WorkOrderRecord>,
    Path((_, id)): Path<(String, String)>,
) -> AppResult<Response> {
    let m = order_materials(&w, state.store.materials(w.application_id).await?)
        .into_iter()
        .find(|m| m.id == id)
        .ok_or_else(|| AppError::new(ErrorCode::NotFound))?;
    send_material(&state, m).await
}

/// `POST /api/v1/work-orders/{order}/decision`.
pub async fn decide(
    State(state): State<AppState>,
    ctx: Ctx,
    Extension(w): Extension<WorkOrderRecord>,
    ApiJson(input): ApiJson<app::access::DecisionInput>,
) -> AppResult<Json<WorkOrderView>> {
    let w = app::access::decide(&state.app, &ctx.caller, w, input).await?;
    let (calendar, _) = app::calendar::calendar(&state.app).await?;
    Ok(Json(order_json(&state, &calendar, &w).await?))
}

/// A data use agreement (A20.1).
#[derive(Debug, Serialize, JsonSchema)]
pub struct AgreementView {
    pub id: AgreementId,
    pub work_order: WorkOrderId,
    pub application: ApplicationId,
    pub organization: OrgId,
    pub applicant: UserId,
    pub version: i64,
    pub state: AgreementState,
    /// The text each side signs, frozen.
    pub text: String,
    /// SHA-256 of `text` (hex): send it back when signing, to sign exactly what was read.
    pub sha256: String,
    pub grants: Vec<app::access::Grant>,
    pub period_start: NaiveDate,
    pub period_end: NaiveDate,
    pub applicant_signed_at: Option<Rfc3339>,
    pub provider_signed_at: Option<Rfc3339>,
    /// The credential delivering under it, once issued (never its secret).
    pub credential: Option<TokenId>,
    /// The printable page.
    pub print_url: String,
}

fn agreement_view(a: &AgreementRecord) -> AgreementView {
    AgreementView {
        id: a.id,
        work_order: a.work_order_id,
        application: a.application_id,
        organization: a.org_id,
        applicant: a.applicant_id,
        version: a.version,
        state: a.state,
        text: a.text.clone(),
        sha256: a.sha256.clone(),
        grants: app::agreements::grants_of(a),
        period_start: a.period_start,
        period_end: a.period_end,
        applicant_signed_at: Rfc3339::of(a.applicant_signed_at),
        provider_signed_at: Rfc3339::of(a.provider_signed_at),
        credential: a.credential_id,
        print_url: format!("/agreements/{}", a.id),
    }
}

pub async fn agreement(Extension(a): Extension<AgreementRecord>) -> Json<AgreementView> {
    Json(agreement_view(&a))
}

/// A signature: the password typed again, and the SHA-256 of the text as read.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SignInput {
    password: String,
    sha256: String,
}

/// A credential issued under an agreement: its secret is shown this once.
#[derive(Debug, Serialize, JsonSchema)]
pub struct CredentialView {
    pub id: TokenId,
    /// Send it as `Authorization: Bearer …` to the records API, downloads and SQL.
    pub token: String,
    pub expires_at: Option<Rfc3339>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct Signed {
    pub agreement: AgreementView,
    /// When the applicant's signature made the agreement active.
    pub credential: Option<CredentialView>,
}

fn credential_view(c: app::agreements::Credential) -> CredentialView {
    CredentialView {
        id: c.record.id,
        token: c.secret,
        expires_at: Rfc3339::of(c.record.expires_at),
    }
}

pub async fn sign(
    State(state): State<AppState>,
    ctx: Ctx,
    Extension(a): Extension<AgreementRecord>,
    ApiJson(input): ApiJson<SignInput>,
) -> AppResult<Json<Signed>> {
    let (a, credential) =
        app::agreements::sign(&state.app, &ctx.caller, a, input.password, &input.sha256).await?;
    Ok(Json(Signed {
        agreement: agreement_view(&a),
        credential: credential.map(credential_view),
    }))
}

pub async fn reissue(
    State(state): State<AppState>,
    ctx: Ctx,
    Extension(a): Extension<AgreementRecord>,
) -> AppResult<Response> {
    let (_, c) = app::agreements::reissue(&state.app, &ctx.caller, a).await?;
    Ok((StatusCode::CREATED, Json(credential_view(c))).into_response())
}

/// Stop, restart or end delivery at once, with the reason.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ControlInput {
    /// suspend, resume or revoke.
    step: String,
    reason: String,
}

pub async fn control(
    State(state): State<AppState>,
    ctx: Ctx,
    Extension(a): Extension<AgreementRecord>,
    ApiJson(input): ApiJson<ControlInput>,
) -> AppResult<Json<AgreementView>> {
    let a =
        app::agreements::control(&state.app, &ctx.caller, a, &input.step, &input.reason).await?;
    Ok(Json(agreement_view(&a)))
}

/// `POST /api/v1/agreements/{agreement}/revise`: the new version, to sign.
pub async fn revise(
    State(state): State<AppState>,
    ctx: Ctx,
    Extension(a): Extension<AgreementRecord>,
    ApiJson(input): ApiJson<app::agreements::RevisionInput>,
) -> AppResult<(StatusCode, Json<AgreementView>)> {
    let new = app::agreements::revise(&state.app, &ctx.caller, &a, input).await?;
    Ok((StatusCode::CREATED, Json(agreement_view(&new))))
}

/// An offline delivery as filed.
#[derive(Debug, Serialize, JsonSchema)]
pub struct OfflineView {
    pub id: String,
    pub agreement: AgreementId,
    pub reason: String,
    pub recipient: String,
    pub sha256: String,
    pub file_name: Option<String>,
    pub size: Option<i64>,
    pub filed_at: Rfc3339,
}

/// `POST /api/v1/agreements/{agreement}/offline-deliveries`.
pub async fn file_offline(
    State(state): State<AppState>,
    ctx: Ctx,
    Extension(a): Extension<AgreementRecord>,
    ApiJson(input): ApiJson<app::agreements::OfflineInput>,
) -> AppResult<(StatusCode, Json<OfflineView>)> {
    let o = app::agreements::file_offline(&state.app, &ctx.caller, &a, input).await?;
    Ok((
        StatusCode::CREATED,
        Json(OfflineView {
            id: o.id,
            agreement: o.agreement_id,
            reason: o.reason,
            recipient: o.recipient,
            sha256: o.sha256,
            file_name: o.file_name,
            size: o.size,
            filed_at: o.filed_at.into(),
        }),
    ))
}

/// The calls made under an agreement, per day (A29.1, A30.1).
#[derive(Debug, Serialize, JsonSchema)]
pub struct AgreementUsage {
    pub agreement: AgreementId,
    /// The last 30 days with calls, newest first.
    pub days: Vec<app::agreements::DayUse>,
}

/// `GET /api/v1/agreements/{agreement}/usage`.
pub async fn usage(
    State(state): State<AppState>,
    Extension(a): Extension<AgreementRecord>,
) -> AppResult<Json<AgreementUsage>> {
    Ok(Json(AgreementUsage {
        agreement: a.id,
        days: app::agreements::usage(&state.app, &a).await?,
    }))
}
