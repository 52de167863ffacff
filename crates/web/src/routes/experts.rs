//! Expert review (A19.2) on the web: the provider sends a work order to experts from its page
//! or through `/api/v1`; each expert sees their assignments, the request they are about, and
//! files an opinion; the provider reads the opinions on the work order.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Json};
use chrono::NaiveDate;
use domain::access::WorkOrderState;
use domain::ids::{AssignmentId, UserId, WorkOrderId};
use domain::policy::{Action, Resource};
use schemars::JsonSchema;
use serde::Serialize;
use store::access::WorkOrderRecord;
use store::experts::AssignmentRecord;

use crate::contract::Rfc3339;
use crate::ctx::{ApiJson, Ctx, FormPost};
use crate::error::{AppError, AppResult};
use crate::page::{PageCtx, html};
use crate::state::AppState;

/// An expert's opinion as filed.
#[derive(Debug, Serialize, JsonSchema)]
pub struct OpinionView {
    /// approve, narrow or refuse.
    pub recommendation: String,
    pub opinion: String,
    pub filed_at: Rfc3339,
}

/// A work order given to one expert.
#[derive(Debug, Serialize, JsonSchema)]
pub struct AssignmentView {
    pub id: AssignmentId,
    pub work_order: WorkOrderId,
    pub expert: UserId,
    pub expert_name: String,
    pub question: String,
    /// The opinion is due by the end of this day.
    pub due_on: NaiveDate,
    pub assigned_at: Rfc3339,
    /// Null until filed.
    pub opinion: Option<OpinionView>,
}

/// An assignment with the request it is about, as its expert reads it.
#[derive(Debug, Serialize, JsonSchema)]
pub struct AssignmentDetail {
    #[serde(flatten)]
    pub assignment: AssignmentView,
    /// The work order's state: an opinion is filed while it is in expert review.
    pub work_order_state: WorkOrderState,
    pub request: RequestView,
}

/// What was applied for, as an expert weighs it (the applicant's identity included: fairness
/// among applicants is one of the criteria).
#[derive(Debug, Serialize, JsonSchema)]
pub struct RequestView {
    pub applicant: String,
    pub entries: Vec<RequestEntryView>,
    pub purpose: String,
    pub period_start: NaiveDate,
    pub period_end: NaiveDate,
    pub calls_per_day: u64,
    pub security_measures: String,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct RequestEntryView {
    pub name: String,
    /// (field name, label) of each data item asked for.
    pub items: Vec<(String, String)>,
    pub scenario: String,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct AssignmentList {
    pub assignments: Vec<AssignmentView>,
}

/// A referral's answer: the work order's state and its assignments.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ReferralView {
    pub work_order: WorkOrderId,
    pub state: WorkOrderState,
    pub assignments: Vec<AssignmentView>,
}

async fn assignment_view(state: &AppState, a: &AssignmentRecord) -> AppResult<AssignmentView> {
    let expert = state.store.user(a.expert_id).await?;
    Ok(named_view(a, expert.display_name))
}

/// `a` as shown, its expert called `expert_name`.
fn named_view(a: &AssignmentRecord, expert_name: String) -> AssignmentView {
    AssignmentView {
        id: a.id,
        work_order: a.work_order_id,
        expert: a.expert_id,
        expert_name,
        question: a.question.clone(),
        due_on: a.due_on,
        assigned_at: a.assigned_at.into(),
        opinion: a.opinion.as_ref().map(|o| OpinionView {
            recommendation: o.recommendation.clone(),
            opinion: o.text.clone(),
            filed_at: o.filed_at.into(),
        }),
    }
}

/// The caller's own assignments, those awaiting an opinion first.
async fn own_assignments(state: &AppState, ctx: &Ctx) -> AppResult<Vec<AssignmentView>> {
    let me = state.store.user(ctx.caller.user()?.id).await?;
    Ok(state
        .store
        .assignments_for(me.id)
        .await?
        .iter()
        .map(|a| named_view(a, me.display_name.clone()))
        .collect())
}

async fn request_view(state: &AppState, w: &WorkOrderRecord) -> AppResult<RequestView> {
    let user = state.store.user(w.applicant_id).await?;
    let mut entries = Vec::new();
    for e in &w.requested.entries {
        let d = state.store.dataset(&e.dataset.to_string()).await.ok();
        let label = |item: &str| {
            d.as_ref()
                .and_then(|d| d.meta.data_items.iter().find(|i| i.name == item))
                .map(|i| i.label.clone())
                .unwrap_or_default()
        };
        entries.push(RequestEntryView {
            name: d.as_ref().map(|d| d.meta.name.clone()).unwrap_or_default(),
            items: e.items.iter().map(|i| (i.clone(), label(i))).collect(),
            scenario: e.scenario.clone(),
        });
    }
    let r = &w.requested;
    Ok(RequestView {
        applicant: user.legal_name.unwrap_or(user.display_name),
        entries,
        purpose: r.purpose.clone(),
        period_start: r.period.0,
        period_end: r.period.1,
        calls_per_day: r.calls_per_day,
        security_measures: r.security_measures.clone(),
    })
}

/// `POST /api/v1/work-orders/{order}/experts`.
pub async fn refer(
    State(state): State<AppState>,
    ctx: Ctx,
    Extension(w): Extension<WorkOrderRecord>,
    ApiJson(input): ApiJson<app::experts::ReferralInput>,
) -> AppResult<Json<ReferralView>> {
    let (w, list) = app::experts::refer(&state.app, &ctx.caller, w, input).await?;
    let mut assignments = Vec::with_capacity(list.len());
    for a in &list {
        assignments.push(assignment_view(&state, a).await?);
    }
    Ok(Json(ReferralView {
        work_order: w.id,
        state: w.state,
        assignments,
    }))
}

/// `GET /api/v1/me/assignments`: the caller's assignments, those awaiting an opinion first.
pub async fn list(State(state): State<AppState>, ctx: Ctx) -> AppResult<Json<AssignmentList>> {
    Ok(Json(AssignmentList {
        assignments: own_assignments(&state, &ctx).await?,
    }))
}

async fn detail(
    state: &AppState,
    a: &AssignmentRecord,
    w: &WorkOrderRecord,
) -> AppResult<AssignmentDetail> {
    Ok(AssignmentDetail {
        assignment: assignment_view(state, a).await?,
        work_order_state: w.state,
        request: request_view(state, w).await?,
    })
}

/// `GET /api/v1/assignments/{assignment}`.
pub async fn show(
    State(state): State<AppState>,
    Extension(a): Extension<AssignmentRecord>,
    Extension(w): Extension<WorkOrderRecord>,
) -> AppResult<Json<AssignmentDetail>> {
    Ok(Json(detail(&state, &a, &w).await?))
}

/// `POST /api/v1/assignments/{assignment}/opinion`.
pub async fn opinion(
    State(state): State<AppState>,
    ctx: Ctx,
    Extension(a): Extension<AssignmentRecord>,
    Extension(w): Extension<WorkOrderRecord>,
    ApiJson(input): ApiJson<app::experts::OpinionInput>,
) -> AppResult<Json<AssignmentDetail>> {
    let a = app::experts::give_opinion(&state.app, &ctx.caller, a, &w, input).await?;
    let w = state.store.work_order(&w.id.to_string()).await?;
    Ok(Json(detail(&state, &a, &w).await?))
}

/// The expert review part of a work order's page: the opinions, and the experts one may
/// send it to.
pub(super) struct ExpertPart {
    pub assignments: Vec<AssignmentView>,
    /// (id, name) of every expert account.
    pub experts: Vec<(String, String)>,
}

pub(super) async fn expert_part(
    state: &AppState,
    ctx: &Ctx,
    w: &WorkOrderRecord,
) -> AppResult<ExpertPart> {
    let internal = ctx
        .authorize(Action::ViewOrgInternal, Resource::Organization(w.org_id))
        .is_ok();
    let mut assignments = Vec::new();
    if internal {
        for a in state.store.assignments_of(w.id).await? {
            assignments.push(assignment_view(state, &a).await?);
        }
    }
    let refers = w.state == WorkOrderState::InReview
        && ctx
            .authorize(Action::DecideWorkOrder, Resource::WorkOrder(w.facts()))
            .is_ok();
    let experts = if refers {
        state
            .store
            .experts()
            .await?
            .into_iter()
            .filter(|(id, _, _)| *id != w.applicant_id)
            .filter(|(id, _, _)| !assignments.iter().any(|a| a.expert == *id))
            .map(|(id, name, _)| (id.to_string(), name))
            .collect()
    } else {
        Vec::new()
    };
    Ok(ExpertPart {
        assignments,
        experts,
    })
}

/// `POST /console/work-orders/{order}/experts`.
pub async fn refer_form(
    State(state): State<AppState>,
    ctx: Ctx,
    Extension(w): Extension<WorkOrderRecord>,
    form: FormPost,
) -> AppResult<Response> {
    let v = &form.values;
    let experts = v
        .all("experts")
        .into_iter()
        .map(|e| {
            e.parse()
                .map_err(|_| AppError::field("experts", "not_an_expert"))
        })
        .collect::<AppResult<Vec<UserId>>>();
    let due_on = NaiveDate::parse_from_str(v.get("due_on").trim(), "%Y-%m-%d")
        .map_err(|_| AppError::field("due_on", "invalid_date"));
    let result = match (experts, due_on) {
        (Ok(experts), Ok(due_on)) => {
            let input = app::experts::ReferralInput {
                experts,
                due_on,
                question: v.get("question").to_owned(),
            };
            app::experts::refer(&state.app, &ctx.caller, w.clone(), input)
                .await
                .map(|_| ())
                .map_err(AppError)
        }
        (Err(e), _) | (_, Err(e)) => Err(e),
    };
    match result {
        Ok(()) => Ok(Redirect::to(&format!("/console/work-orders/{}", w.id)).into_response()),
        Err(e) => super::applications::order_refusal(&state, &ctx, &w, e).await,
    }
}

#[derive(Template)]
#[template(path = "console/expert_list.html")]
struct ListPage<'a> {
    page: PageCtx<'a>,
    rows: Vec<AssignmentView>,
}

/// `GET /console/expert`: the expert's assignments.
pub async fn list_page(State(state): State<AppState>, ctx: Ctx) -> AppResult<Response> {
    let rows = own_assignments(&state, &ctx).await?;
    html(
        StatusCode::OK,
        ListPage {
            page: PageCtx::new(&state, &ctx, "/console/expert"),
            rows,
        },
    )
}

#[derive(Template)]
#[template(path = "access/assignment.html")]
struct AssignmentPage<'a> {
    page: PageCtx<'a>,
    d: AssignmentDetail,
    /// Whether the opinion form is shown.
    files: bool,
    errors: Vec<(String, String)>,
}

async fn render_assignment(
    state: &AppState,
    ctx: &Ctx,
    a: &AssignmentRecord,
    w: &WorkOrderRecord,
    status: StatusCode,
    errors: Vec<(String, String)>,
) -> AppResult<Response> {
    let files = a.opinion.is_none()
        && w.state == WorkOrderState::ExpertReview
        && ctx
            .authorize(Action::GiveOpinion, Resource::Assignment(a.facts(w)))
            .is_ok();
    html(
        status,
        AssignmentPage {
            page: PageCtx::new(state, ctx, &format!("/console/expert/assignments/{}", a.id)),
            d: detail(state, a, w).await?,
            files,
            errors,
        },
    )
}

/// `GET /console/expert/assignments/{assignment}`.
pub async fn assignment_page(
    State(state): State<AppState>,
    ctx: Ctx,
    Extension(a): Extension<AssignmentRecord>,
    Extension(w): Extension<WorkOrderRecord>,
) -> AppResult<Response> {
    render_assignment(&state, &ctx, &a, &w, StatusCode::OK, Vec::new()).await
}

/// `POST /console/expert/assignments/{assignment}/opinion`.
pub async fn opinion_form(
    State(state): State<AppState>,
    ctx: Ctx,
    Extension(a): Extension<AssignmentRecord>,
    Extension(w): Extension<WorkOrderRecord>,
    form: FormPost,
) -> AppResult<Response> {
    let input = app::experts::OpinionInput {
        recommendation: form.values.get("recommendation").to_owned(),
        opinion: form.values.get("opinion").to_owned(),
    };
    match app::experts::give_opinion(&state.app, &ctx.caller, a.clone(), &w, input).await {
        Ok(a) => Ok(Redirect::to(&format!("/console/expert/assignments/{}", a.id)).into_response()),
        Err(e) => {
            let page = PageCtx::new(&state, &ctx, "/console/expert");
            let errors = super::applications::messages(&page, AppError(e))?;
            render_assignment(
                &state,
                &ctx,
                &a,
                &w,
                StatusCode::UNPROCESSABLE_ENTITY,
                errors,
            )
            .await
        }
    }
}
