//! The provider console (A25.1) and the operator's ticket desk (A25.2) as HTML pages: an
//! organization's open list, the entry form with every problem next to its field, tickets with
//! their diff, and accepting or returning them. The pages call the same services as `/api/v1`.

use askama::Template;
use axum::extract::{Extension, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use domain::openlist::classification::Guide;
use domain::openlist::ticket::{ReturnReason, TicketKind, TicketState};
use domain::openlist::vocab::{
    ConditionKind, DatasetStatus, EntrySource, FieldType, OpenType, RelationKind, SHANGHAI_AREAS,
    UpdateFrequency,
};
use domain::policy::{Action, Resource};
use serde::Deserialize;
use store::datasets::DatasetRecord;
use store::orgs::OrgRecord;
use store::tickets::TicketRecord;

use super::pages::html;
use crate::ctx::{Ctx, FormPost, Upload};
use crate::dataset_form::FormValues;
use crate::error::{AppError, AppResult, FieldError};
use crate::i18n::Lang;
use crate::labels::Labels;
use crate::openlist::{check_for_publish, create_draft, update_draft};
use crate::page::PageCtx;
use crate::state::AppState;
use crate::tickets::{self, AttachmentInput, ResubmitInput, ReturnInput, TicketInput};

/// A problem as the form shows it: where, and what to do.
pub struct Problem {
    anchor: String,
    message: String,
}

fn field_id(key: &str) -> String {
    key.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect()
}

/// A problem of a form in the visitor's language, with the value it is about where that helps.
pub(super) fn message(state: &AppState, lang: Lang, e: &FieldError) -> String {
    let key = format!("field.{}", e.code);
    let text = state.messages.get(lang, &key);
    match &e.detail {
        Some(d)
            if e.code.starts_with("unknown_")
                || matches!(e.code, "invalid_grading" | "invalid_guide") =>
        {
            format!("{text} ({d})")
        }
        _ => text.to_owned(),
    }
}

pub struct Input {
    name: String,
    id: String,
    value: String,
    errors: Vec<String>,
}

pub struct Opt {
    value: String,
    label: String,
    selected: bool,
}

pub struct Choice {
    input: Input,
    options: Vec<Opt>,
}

pub struct ItemRow {
    name: Input,
    label: Input,
    field_type: Choice,
    unit: Input,
    description: Input,
    catalogue_item: Choice,
}

pub struct ConditionRow {
    kind: Choice,
    text: Input,
}

pub struct MaterialRow {
    name: Input,
    description: Input,
}

pub struct RelationRow {
    kind: Choice,
    dataset: Input,
    note: Input,
}

/// Builds the form's fields from what was sent (or stored) and the problems found.
struct Fields<'a> {
    state: &'a AppState,
    lang: Lang,
    values: &'a FormValues,
    errors: &'a [FieldError],
}

impl Fields<'_> {
    /// Problems at `key` itself, or at one of its values (`formats[1]` belongs to `formats`).
    fn errors_at(&self, key: &str) -> Vec<String> {
        let group = format!("{key}[");
        self.errors
            .iter()
            .filter(|e| {
                e.field == key
                    || e.field
                        .strip_prefix(&group)
                        .is_some_and(|rest| rest.ends_with(']') && !rest.contains('.'))
            })
            .map(|e| message(self.state, self.lang, e))
            .collect()
    }

    fn input(&self, key: &str) -> Input {
        Input {
            name: key.to_owned(),
            id: field_id(key),
            value: self.values.get(key).to_owned(),
            errors: self.errors_at(key),
        }
    }

    fn choice(&self, key: &str, options: Vec<(String, String)>) -> Choice {
        Choice {
            options: options
                .into_iter()
                .map(|(value, label)| Opt {
                    selected: self.values.has(key, &value),
                    value,
                    label,
                })
                .collect(),
            input: self.input(key),
        }
    }
}

fn named<T: Copy>(
    labels: &Labels,
    family: &str,
    all: &[T],
    code: fn(T) -> &'static str,
) -> Vec<(String, String)> {
    all.iter()
        .map(|v| (code(*v).to_owned(), labels.named(family, code(*v))))
        .collect()
}

#[derive(Template)]
#[template(path = "console/dataset_form.html")]
struct DatasetFormPage<'a> {
    page: PageCtx<'a>,
    title: String,
    action: String,
    org: String,
    /// Set when editing a stored entry.
    dataset: Option<String>,
    /// A published entry changes through a ticket: the form asks for its reason.
    via_ticket: bool,
    saved: bool,
    /// The problems are those that stop publishing, not those that stop saving.
    publish_check: bool,
    problems: Vec<Problem>,
    name: Input,
    summary: Input,
    keywords: Input,
    domain: Choice,
    formats: Choice,
    open_type: Choice,
    grading: Vec<(String, String, Choice)>,
    grading_errors: Vec<String>,
    update_frequency: Choice,
    time_start: Input,
    time_end: Input,
    time_errors: Vec<String>,
    areas: Choice,
    spatial_note: Input,
    contact_name: Input,
    contact_phone: Input,
    contact_email: Input,
    contact_errors: Vec<String>,
    license: Input,
    source: Choice,
    source_note: Input,
    items: Vec<ItemRow>,
    items_errors: Vec<String>,
    conditions: Vec<ConditionRow>,
    conditions_errors: Vec<String>,
    materials: Vec<MaterialRow>,
    materials_errors: Vec<String>,
    relations: Vec<RelationRow>,
    ticket_reason: Input,
    /// Problems with the explanation document of a change ticket.
    document_errors: Vec<String>,
    remove_reason: Input,
    remove_document_errors: Vec<String>,
}

struct FormSpec<'a> {
    org: &'a OrgRecord,
    dataset: Option<&'a DatasetRecord>,
    values: FormValues,
    errors: Vec<FieldError>,
    publish_check: bool,
    saved: bool,
}

async fn form_page(
    state: &AppState,
    ctx: &Ctx,
    status: StatusCode,
    spec: FormSpec<'_>,
) -> AppResult<Response> {
    let labels = Labels::load(state, ctx.lang).await?;
    let vocab_domains = state.store.domains().await?;
    let formats = state.store.formats().await?;
    let catalogue = state.store.catalogue(spec.org.id).await?;
    let (_, guide): (i64, Guide) = state.store.current_guide().await?;
    let f = Fields {
        state,
        lang: ctx.lang,
        values: &spec.values,
        errors: &spec.errors,
    };
    let en = ctx.lang == Lang::En;
    let path = match spec.dataset {
        Some(d) => format!("/console/datasets/{}/edit", d.id),
        None => format!("/console/orgs/{}/datasets/new", spec.org.slug),
    };
    let pctx = PageCtx::new(state, ctx, &path);
    let problems = spec
        .errors
        .iter()
        .map(|e| Problem {
            anchor: field_id(&e.field),
            message: format!(
                "{}: {}",
                field_label(&pctx, &e.field),
                message(state, ctx.lang, e)
            ),
        })
        .collect();
    let via_ticket = spec
        .dataset
        .is_some_and(|d| d.status != DatasetStatus::Draft);

    let rows = |part: &str, extra: usize, min: usize| (spec.values.rows(part) + extra).max(min);
    let field_types = named(&labels, "field_type", FieldType::ALL, FieldType::as_str);
    let mut catalogue_options = vec![(String::new(), pctx.t("console.not_linked"))];
    catalogue_options.extend(
        catalogue
            .iter()
            .map(|c| (c.id.to_string(), format!("{} {}", c.code, c.name))),
    );
    let items = (0..rows("data_items", 2, 3))
        .map(|i| {
            let key = |field: &str| format!("data_items[{i}].{field}");
            ItemRow {
                name: f.input(&key("name")),
                label: f.input(&key("label")),
                field_type: f.choice(&key("field_type"), field_types.clone()),
                unit: f.input(&key("unit")),
                description: f.input(&key("description")),
                catalogue_item: f.choice(&key("catalogue_item"), catalogue_options.clone()),
            }
        })
        .collect();
    let condition_kinds = named(
        &labels,
        "condition",
        ConditionKind::ALL,
        ConditionKind::as_str,
    );
    let conditions = (0..rows("conditions", 1, 2))
        .map(|i| ConditionRow {
            kind: f.choice(&format!("conditions[{i}].kind"), condition_kinds.clone()),
            text: f.input(&format!("conditions[{i}].text")),
        })
        .collect();
    let materials = (0..rows("materials", 1, 2))
        .map(|i| MaterialRow {
            name: f.input(&format!("materials[{i}].name")),
            description: f.input(&format!("materials[{i}].description")),
        })
        .collect();
    let relation_kinds = named(&labels, "relation", RelationKind::ALL, RelationKind::as_str);
    let relations = (0..rows("relations", 1, 1))
        .map(|i| RelationRow {
            kind: f.choice(&format!("relations[{i}].kind"), relation_kinds.clone()),
            dataset: f.input(&format!("relations[{i}].dataset")),
            note: f.input(&format!("relations[{i}].note")),
        })
        .collect();
    let grading = guide
        .dimensions
        .iter()
        .map(|d| {
            let mut options = vec![(String::new(), pctx.t("console.choose"))];
            options.extend(d.levels.iter().map(|l| {
                let name = if en { &l.name_en } else { &l.name_zh };
                let permits = labels.named("open_type", l.open_type.as_str());
                (l.code.clone(), format!("{name} → {permits}"))
            }));
            let name = if en {
                d.name_en.clone()
            } else {
                d.name_zh.clone()
            };
            (
                name,
                d.description_zh.clone(),
                f.choice(&format!("grading.{}", d.code), options),
            )
        })
        .collect();
    let mut frequency = vec![(String::new(), pctx.t("console.choose"))];
    frequency.extend(named(
        &labels,
        "frequency",
        UpdateFrequency::ALL,
        UpdateFrequency::as_str,
    ));
    let mut domains = vec![(String::new(), pctx.t("console.choose"))];
    domains.extend(vocab_domains.iter().map(|d| {
        (
            d.code.clone(),
            if en {
                d.name_en.clone()
            } else {
                d.name_zh.clone()
            },
        )
    }));

    let view = DatasetFormPage {
        title: match spec.dataset {
            Some(d) => d.meta.name.clone(),
            None => pctx.t("console.new_entry"),
        },
        action: match spec.dataset {
            Some(d) => format!("/console/datasets/{}", d.id),
            None => format!("/console/orgs/{}/datasets", spec.org.slug),
        },
        org: labels.org(&spec.org.slug),
        dataset: spec.dataset.map(|d| d.id.to_string()),
        via_ticket,
        saved: spec.saved,
        publish_check: spec.publish_check,
        problems,
        name: f.input("name"),
        summary: f.input("summary"),
        keywords: f.input("keywords"),
        domain: f.choice("domain", domains),
        formats: f.choice(
            "formats",
            formats
                .iter()
                .map(|x| (x.code.clone(), x.name.clone()))
                .collect(),
        ),
        open_type: f.choice(
            "open_type",
            named(&labels, "open_type", OpenType::ALL, OpenType::as_str),
        ),
        grading,
        grading_errors: f.errors_at("grading"),
        update_frequency: f.choice("update_frequency", frequency),
        time_start: f.input("time_range.start"),
        time_end: f.input("time_range.end"),
        time_errors: f.errors_at("time_range"),
        areas: f.choice(
            "spatial.areas",
            SHANGHAI_AREAS
                .iter()
                .map(|(code, _, _)| (code.to_string(), labels.area(code)))
                .collect(),
        ),
        spatial_note: f.input("spatial.note"),
        contact_name: f.input("contact.name"),
        contact_phone: f.input("contact.phone"),
        contact_email: f.input("contact.email"),
        contact_errors: f.errors_at("contact"),
        license: f.input("license"),
        source: f.choice(
            "source",
            named(&labels, "source", EntrySource::ALL, EntrySource::as_str),
        ),
        source_note: f.input("source_note"),
        items,
        items_errors: f.errors_at("data_items"),
        conditions,
        conditions_errors: f.errors_at("conditions"),
        materials,
        materials_errors: f.errors_at("materials"),
        relations,
        ticket_reason: f.input("ticket_reason"),
        document_errors: f.errors_at("attachments"),
        remove_reason: f.input("remove_reason"),
        remove_document_errors: f.errors_at("remove_document"),
        page: pctx,
    };
    html(status, view)
}

/// The label of the form field a problem is at, for the list at the top of the form.
fn field_label(page: &PageCtx, field: &str) -> String {
    let top = field.split(['.', '[']).next().unwrap_or(field);
    let label = page.t(&format!("meta.{top}"));
    match field
        .strip_prefix("data_items[")
        .and_then(|r| r.split(']').next())
    {
        Some(n) => {
            let row = n.parse::<usize>().map(|i| i + 1).unwrap_or(0);
            page.tf("console.item_n", "n", &row.to_string())
        }
        None if label.starts_with("meta.") => field.to_owned(),
        None => label,
    }
}

pub async fn new_entry(
    State(state): State<AppState>,
    ctx: Ctx,
    Extension(org): Extension<OrgRecord>,
) -> AppResult<Response> {
    let mut values = FormValues::default();
    values.set_default("spatial.areas", "shanghai");
    let spec = FormSpec {
        org: &org,
        dataset: None,
        values,
        errors: Vec::new(),
        publish_check: false,
        saved: false,
    };
    form_page(&state, &ctx, StatusCode::OK, spec).await
}

pub async fn create_entry(
    State(state): State<AppState>,
    ctx: Ctx,
    Extension(org): Extension<OrgRecord>,
    form: FormPost,
) -> AppResult<Response> {
    let values = form.values;
    let result = match values.to_meta() {
        Ok(meta) => create_draft(&state, &ctx, &org, meta).await,
        Err(errors) => Err(AppError::invalid(errors)),
    };
    match result {
        Ok(d) => {
            Ok(Redirect::to(&format!("/console/datasets/{}/edit?saved=1", d.id)).into_response())
        }
        Err(e) => {
            let errors = e.into_field_errors()?;
            let spec = FormSpec {
                org: &org,
                dataset: None,
                values,
                errors,
                publish_check: false,
                saved: false,
            };
            form_page(&state, &ctx, StatusCode::UNPROCESSABLE_ENTITY, spec).await
        }
    }
}

#[derive(Deserialize)]
pub struct Saved {
    #[serde(default)]
    saved: Option<String>,
}

/// The form of a stored entry. For a draft it also lists what still stops publishing, next to
/// the fields, so the provider can fix it before asking.
pub async fn edit_entry(
    State(state): State<AppState>,
    ctx: Ctx,
    Extension(d): Extension<DatasetRecord>,
    Extension(org): Extension<OrgRecord>,
    Query(q): Query<Saved>,
) -> AppResult<Response> {
    let errors = if d.status == DatasetStatus::Draft {
        check_for_publish(&state, &d, &d.meta)
            .await?
            .into_iter()
            .map(Into::into)
            .collect()
    } else {
        Vec::new()
    };
    let spec = FormSpec {
        org: &org,
        dataset: Some(&d),
        values: FormValues::from_meta(&d.meta),
        errors,
        publish_check: d.status == DatasetStatus::Draft,
        saved: q.saved.is_some(),
    };
    form_page(&state, &ctx, StatusCode::OK, spec).await
}

/// Saves a draft, or proposes the change of a published entry as a "modify" ticket (A11.1).
pub async fn save_entry(
    State(state): State<AppState>,
    ctx: Ctx,
    Extension(d): Extension<DatasetRecord>,
    Extension(org): Extension<OrgRecord>,
    form: FormPost,
) -> AppResult<Response> {
    let values = form.values;
    let meta = match values.to_meta() {
        Ok(meta) => meta,
        Err(errors) => {
            let spec = FormSpec {
                org: &org,
                dataset: Some(&d),
                values,
                errors,
                publish_check: false,
                saved: false,
            };
            return form_page(&state, &ctx, StatusCode::UNPROCESSABLE_ENTITY, spec).await;
        }
    };
    let result = if d.status == DatasetStatus::Draft {
        update_draft(&state, &ctx, d.clone(), &org, meta)
            .await
            .map(|d| format!("/console/datasets/{}/edit?saved=1", d.id))
    } else {
        let input = TicketInput {
            kind: TicketKind::Modify,
            reason: values.get("ticket_reason").to_owned(),
            proposed: Some(meta),
            attachments: documents(&form.files, "document"),
        };
        tickets::submit(&state, &ctx, &d, &org, input)
            .await
            .map(|t| format!("/console/tickets/{}", t.id))
    };
    match result {
        Ok(next) => Ok(Redirect::to(&next).into_response()),
        Err(e) => {
            let errors = at_fields(e.into_field_errors()?, &[("reason", "ticket_reason")]);
            let spec = FormSpec {
                org: &org,
                dataset: Some(&d),
                values,
                errors,
                publish_check: false,
                saved: false,
            };
            form_page(&state, &ctx, StatusCode::UNPROCESSABLE_ENTITY, spec).await
        }
    }
}

/// A ticket's problems at the names of the form's own fields.
fn at_fields(errors: Vec<FieldError>, names: &[(&str, &str)]) -> Vec<FieldError> {
    errors
        .into_iter()
        .map(|mut e| {
            if let Some((_, to)) = names.iter().find(|(from, _)| *from == e.field) {
                e.field = (*to).to_owned();
            }
            e
        })
        .collect()
}

/// The files sent in the form field `field`, as ticket attachments.
fn documents(files: &[Upload], field: &str) -> Vec<AttachmentInput> {
    files
        .iter()
        .filter(|f| f.field == field)
        .map(AttachmentInput::from_upload)
        .collect()
}

/// Asks for a published entry to be taken off the open list: a "remove" ticket, which needs
/// a document explaining why (A11.2).
pub async fn remove_entry(
    State(state): State<AppState>,
    ctx: Ctx,
    Extension(d): Extension<DatasetRecord>,
    Extension(org): Extension<OrgRecord>,
    form: FormPost,
) -> AppResult<Response> {
    let input = TicketInput {
        kind: TicketKind::Remove,
        reason: form.values.get("remove_reason").to_owned(),
        proposed: None,
        attachments: documents(&form.files, "remove_document"),
    };
    match tickets::submit(&state, &ctx, &d, &org, input).await {
        Ok(t) => Ok(Redirect::to(&format!("/console/tickets/{}", t.id)).into_response()),
        Err(e) => {
            let errors = at_fields(
                e.into_field_errors()?,
                &[
                    ("reason", "remove_reason"),
                    ("attachments", "remove_document"),
                ],
            );
            let mut values = FormValues::from_meta(&d.meta);
            values.set_default("remove_reason", form.values.get("remove_reason"));
            let spec = FormSpec {
                org: &org,
                dataset: Some(&d),
                values,
                errors,
                publish_check: false,
                saved: false,
            };
            form_page(&state, &ctx, StatusCode::UNPROCESSABLE_ENTITY, spec).await
        }
    }
}

/// Asks for a draft to be published: an "add" ticket for the operator (A11.1).
pub async fn publish_entry(
    State(state): State<AppState>,
    ctx: Ctx,
    Extension(d): Extension<DatasetRecord>,
    Extension(org): Extension<OrgRecord>,
    form: FormPost,
) -> AppResult<Response> {
    let reason = form.values.get("ticket_reason").to_owned();
    let input = TicketInput {
        kind: TicketKind::Add,
        reason: reason.clone(),
        proposed: None,
        attachments: Vec::new(),
    };
    match tickets::submit(&state, &ctx, &d, &org, input).await {
        Ok(t) => Ok(Redirect::to(&format!("/console/tickets/{}", t.id)).into_response()),
        Err(e) => {
            let errors = e.into_field_errors()?;
            let mut values = FormValues::from_meta(&d.meta);
            values.set_default("ticket_reason", reason);
            let spec = FormSpec {
                org: &org,
                dataset: Some(&d),
                values,
                errors,
                publish_check: true,
                saved: false,
            };
            form_page(&state, &ctx, StatusCode::UNPROCESSABLE_ENTITY, spec).await
        }
    }
}

pub struct EntryRow {
    id: String,
    name: String,
    status: String,
    status_code: String,
    open_type: String,
    updated: String,
}

pub struct TicketRow {
    id: String,
    dataset: String,
    org: String,
    kind: String,
    state: String,
    state_code: String,
    updated: String,
}

#[derive(Template)]
#[template(path = "console/org.html")]
struct OrgPage<'a> {
    page: PageCtx<'a>,
    org: String,
    slug: String,
    can_edit: bool,
    /// (status code, label, count, selected) for the status filter.
    statuses: Vec<(String, String, usize, bool)>,
    entries: Vec<EntryRow>,
    tickets: Vec<TicketRow>,
    reviews_due: usize,
}

#[derive(Deserialize)]
pub struct StatusFilter {
    #[serde(default)]
    status: Option<String>,
}

fn date(t: domain::clock::Timestamp) -> String {
    t.to_cst().format("%Y-%m-%d").to_string()
}

async fn ticket_rows(
    state: &AppState,
    labels: &Labels<'_>,
    list: Vec<TicketRecord>,
) -> AppResult<Vec<TicketRow>> {
    let mut rows = Vec::with_capacity(list.len());
    for t in list {
        let d = state.store.dataset(&t.dataset_id.to_string()).await?;
        let org = state.store.org(&t.org_id.to_string()).await?;
        rows.push(TicketRow {
            id: t.id.to_string(),
            dataset: t
                .proposed
                .as_ref()
                .map(|m| m.name.clone())
                .unwrap_or(d.meta.name),
            org: labels.org(&org.slug),
            kind: labels.named("ticket_kind", t.kind.as_str()),
            state: labels.named("ticket_state", t.state.as_str()),
            state_code: t.state.as_str().to_owned(),
            updated: date(t.updated_at),
        });
    }
    Ok(rows)
}

/// An organization's dashboard: its open list by status, its tickets, its reviews due.
pub async fn org_page(
    State(state): State<AppState>,
    ctx: Ctx,
    Extension(org): Extension<OrgRecord>,
    Query(q): Query<StatusFilter>,
) -> AppResult<Response> {
    let labels = Labels::load(&state, ctx.lang).await?;
    let all = state.store.datasets_of(org.id, None).await?;
    let wanted: Option<DatasetStatus> = q
        .status
        .as_deref()
        .filter(|s| !s.is_empty())
        .and_then(|s| s.parse().ok());
    let statuses = DatasetStatus::ALL
        .iter()
        .map(|s| {
            let n = all.iter().filter(|d| d.status == *s).count();
            (
                s.as_str().to_owned(),
                labels.named("status", s.as_str()),
                n,
                wanted == Some(*s),
            )
        })
        .collect();
    let entries = all
        .iter()
        .filter(|d| wanted.is_none_or(|w| d.status == w))
        .map(|d| EntryRow {
            id: d.id.to_string(),
            name: d.meta.name.clone(),
            status: labels.named("status", d.status.as_str()),
            status_code: d.status.as_str().to_owned(),
            open_type: labels.named("open_type", d.meta.open_type.as_str()),
            updated: date(d.updated_at),
        })
        .collect();
    let mut list = state.store.tickets(Some(org.id), None, None).await?;
    list.sort_by_key(|t| (!t.state.is_open(), std::cmp::Reverse(t.updated_at)));
    list.truncate(50);
    let tickets = ticket_rows(&state, &labels, list).await?;
    let year_ago = state.clock.now().plus_seconds(-365 * 86_400);
    let reviews_due = state
        .store
        .datasets_due_for_review(org.id, year_ago)
        .await?
        .len();
    let view = OrgPage {
        org: labels.org(&org.slug),
        slug: org.slug.clone(),
        can_edit: ctx
            .authorize(Action::EditOpenList, Resource::Organization(org.id))
            .is_ok(),
        statuses,
        entries,
        tickets,
        reviews_due,
        page: PageCtx::new(&state, &ctx, &format!("/console/orgs/{}", org.slug)),
    };
    html(StatusCode::OK, view)
}

#[derive(Template)]
#[template(path = "console/index.html")]
struct ConsoleIndex<'a> {
    page: PageCtx<'a>,
    orgs: Vec<(String, String)>,
    /// The platform's desks this person may use: (link, label).
    desks: Vec<(&'static str, String)>,
}

/// The platform-wide pages of the workspace, and the action each needs.
const DESKS: &[(&str, Action, &str)] = &[
    ("/console/tickets", Action::ReviewTickets, "console.queue"),
    (
        "/console/articles",
        Action::PublishArticles,
        "console.articles",
    ),
    ("/console/guide", Action::EditGuide, "operator.guide"),
    (
        "/console/vocabularies",
        Action::ManageVocabularies,
        "operator.vocabularies",
    ),
    ("/console/people", Action::ListUsers, "operator.people"),
    ("/console/audit", Action::ViewAudit, "operator.audit"),
];

/// Where a signed-in person's work is: their organizations' consoles and the platform's desks
/// their roles open.
pub async fn index(State(state): State<AppState>, ctx: Ctx) -> AppResult<Response> {
    let user = ctx.user()?;
    let labels = Labels::load(&state, ctx.lang).await?;
    let mut orgs = Vec::new();
    for m in &user.memberships {
        let org = state.store.org(&m.org.to_string()).await?;
        orgs.push((labels.org(&org.slug), format!("/console/orgs/{}", org.slug)));
    }
    let page = PageCtx::new(&state, &ctx, "/console");
    let desks = DESKS
        .iter()
        .filter(|(_, action, _)| ctx.authorize(*action, Resource::Platform).is_ok())
        .map(|(href, _, label)| (*href, page.t(label)))
        .collect();
    let view = ConsoleIndex { orgs, desks, page };
    html(StatusCode::OK, view)
}

#[derive(Template)]
#[template(path = "console/queue.html")]
struct QueuePage<'a> {
    page: PageCtx<'a>,
    tickets: Vec<TicketRow>,
}

/// The operator's queue: tickets waiting for a decision, oldest first.
pub async fn queue(State(state): State<AppState>, ctx: Ctx) -> AppResult<Response> {
    let labels = Labels::load(&state, ctx.lang).await?;
    let list = state
        .store
        .tickets(None, None, Some(TicketState::Submitted))
        .await?;
    let view = QueuePage {
        tickets: ticket_rows(&state, &labels, list).await?,
        page: PageCtx::new(&state, &ctx, "/console/tickets"),
    };
    html(StatusCode::OK, view)
}

pub struct ChangeRow {
    field: String,
    before: String,
    after: String,
}

pub struct EventRow {
    at: String,
    event: String,
    reasons: Vec<String>,
    text: String,
}

#[derive(Template)]
#[template(path = "console/ticket.html")]
struct TicketPage<'a> {
    page: PageCtx<'a>,
    id: String,
    dataset: String,
    dataset_href: String,
    org: String,
    kind: String,
    state: String,
    state_code: String,
    reason: String,
    changes: Vec<ChangeRow>,
    events: Vec<EventRow>,
    can_review: bool,
    can_resubmit: bool,
    reasons: Vec<(String, String, bool)>,
    errors: Vec<String>,
    return_text: String,
}

fn shown(v: &Option<serde_json::Value>) -> String {
    match v {
        None | Some(serde_json::Value::Null) => "—".to_owned(),
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

async fn ticket_page(
    state: &AppState,
    ctx: &Ctx,
    t: &TicketRecord,
    status: StatusCode,
    errors: Vec<String>,
    chosen: &[String],
    return_text: &str,
) -> AppResult<Response> {
    let labels = Labels::load(state, ctx.lang).await?;
    let d = state.store.dataset(&t.dataset_id.to_string()).await?;
    let org = state.store.org(&t.org_id.to_string()).await?;
    let pctx = PageCtx::new(state, ctx, &format!("/console/tickets/{}", t.id));
    let changes = tickets::changes(t, &d)
        .into_iter()
        .map(|c| ChangeRow {
            field: field_label(&pctx, &c.path),
            before: shown(&c.before),
            after: shown(&c.after),
        })
        .collect();
    let events = state
        .store
        .ticket_events(t.id)
        .await?
        .into_iter()
        .map(|e| EventRow {
            at: e.at.to_cst().format("%Y-%m-%d %H:%M").to_string(),
            event: labels.named("ticket_event", &e.event),
            reasons: e
                .reasons
                .iter()
                .map(|r| labels.named("return_reason", r.as_str()))
                .collect(),
            text: e.text,
        })
        .collect();
    let on_org = Resource::Organization(t.org_id);
    let view = TicketPage {
        id: t.id.to_string(),
        dataset: t
            .proposed
            .as_ref()
            .map(|m| m.name.clone())
            .unwrap_or_else(|| d.meta.name.clone()),
        dataset_href: format!("/console/datasets/{}/edit", d.id),
        org: labels.org(&org.slug),
        kind: labels.named("ticket_kind", t.kind.as_str()),
        state: labels.named("ticket_state", t.state.as_str()),
        state_code: t.state.as_str().to_owned(),
        reason: t.reason.clone(),
        changes,
        events,
        can_review: t.state == TicketState::Submitted
            && ctx.authorize(Action::ReviewTickets, on_org).is_ok(),
        can_resubmit: t.state == TicketState::Returned
            && ctx.authorize(Action::EditOpenList, on_org).is_ok(),
        reasons: ReturnReason::ALL
            .iter()
            .map(|r| {
                (
                    r.as_str().to_owned(),
                    labels.named("return_reason", r.as_str()),
                    chosen.iter().any(|c| c == r.as_str()),
                )
            })
            .collect(),
        errors,
        return_text: return_text.to_owned(),
        page: pctx,
    };
    html(status, view)
}

pub async fn show_ticket(
    State(state): State<AppState>,
    ctx: Ctx,
    Extension(t): Extension<TicketRecord>,
) -> AppResult<Response> {
    ticket_page(&state, &ctx, &t, StatusCode::OK, Vec::new(), &[], "").await
}

pub async fn accept_ticket(
    State(state): State<AppState>,
    ctx: Ctx,
    Extension(t): Extension<TicketRecord>,
    form: FormPost,
) -> AppResult<Response> {
    let values = form.values;
    let t = tickets::accept(&state, &ctx, t, values.get("text")).await?;
    Ok(Redirect::to(&format!("/console/tickets/{}", t.id)).into_response())
}

/// Returns a ticket with the reasons of A11.3 ticked; without one, the page says so and keeps
/// what was typed.
pub async fn return_ticket(
    State(state): State<AppState>,
    ctx: Ctx,
    Extension(t): Extension<TicketRecord>,
    form: FormPost,
) -> AppResult<Response> {
    let values = form.values;
    let reasons: Vec<String> = values
        .all("reasons")
        .into_iter()
        .map(str::to_owned)
        .collect();
    let text = values.get("text").to_owned();
    let input = ReturnInput {
        reasons: reasons.clone(),
        text: text.clone(),
    };
    match tickets::give_back(&state, &ctx, t.clone(), input).await {
        Ok(t) => Ok(Redirect::to(&format!("/console/tickets/{}", t.id)).into_response()),
        Err(e) => {
            let errors = e.into_field_errors()?;
            let messages = errors
                .iter()
                .map(|e| message(&state, ctx.lang, e))
                .collect();
            ticket_page(
                &state,
                &ctx,
                &t,
                StatusCode::UNPROCESSABLE_ENTITY,
                messages,
                &reasons,
                &text,
            )
            .await
        }
    }
}

/// Sends a returned ticket again. For a new entry the proposal is the draft as it is now, with
/// the provider's corrections.
pub async fn resubmit_ticket(
    State(state): State<AppState>,
    ctx: Ctx,
    Extension(t): Extension<TicketRecord>,
    form: FormPost,
) -> AppResult<Response> {
    let values = form.values;
    let d = state.store.dataset(&t.dataset_id.to_string()).await?;
    let proposed =
        (t.kind == TicketKind::Add && d.status == DatasetStatus::Draft).then(|| d.meta.clone());
    let reason = Some(values.get("reason").trim().to_owned()).filter(|r| !r.is_empty());
    let input = ResubmitInput {
        reason,
        proposed,
        attachments: Vec::new(),
    };
    match tickets::resubmit(&state, &ctx, t.clone(), input).await {
        Ok(t) => Ok(Redirect::to(&format!("/console/tickets/{}", t.id)).into_response()),
        Err(e) => {
            let errors = e.into_field_errors()?;
            let messages = errors
                .iter()
                .map(|e| message(&state, ctx.lang, e))
                .collect();
            ticket_page(
                &state,
                &ctx,
                &t,
                StatusCode::UNPROCESSABLE_ENTITY,
                messages,
                &[],
                "",
            )
            .await
        }
    }
}

pub struct CatalogueRow {
    code: String,
    name: String,
    description: String,
    source_system: String,
}

#[derive(Template)]
#[template(path = "console/catalogue.html")]
struct CataloguePage<'a> {
    page: PageCtx<'a>,
    org: String,
    slug: String,
    can_edit: bool,
    items: Vec<CatalogueRow>,
    csv: String,
    /// (added, updated) after an import.
    imported: Option<(String, String)>,
    errors: Vec<String>,
}

#[derive(Deserialize)]
pub struct Imported {
    #[serde(default)]
    added: Option<String>,
    #[serde(default)]
    updated: Option<String>,
}

async fn catalogue_page(
    state: &AppState,
    ctx: &Ctx,
    org: &OrgRecord,
    status: StatusCode,
    csv: String,
    imported: Option<(String, String)>,
    errors: Vec<String>,
) -> AppResult<Response> {
    let labels = Labels::load(state, ctx.lang).await?;
    let items = state
        .store
        .catalogue(org.id)
        .await?
        .into_iter()
        .map(|c| CatalogueRow {
            code: c.code,
            name: c.name,
            description: c.description,
            source_system: c.source_system,
        })
        .collect();
    let view = CataloguePage {
        org: labels.org(&org.slug),
        slug: org.slug.clone(),
        can_edit: ctx
            .authorize(Action::EditOpenList, Resource::Organization(org.id))
            .is_ok(),
        items,
        csv,
        imported,
        errors,
        page: PageCtx::new(state, ctx, &format!("/console/orgs/{}/catalogue", org.slug)),
    };
    html(status, view)
}

/// The organization's public data catalogue (A9.5), and a form to import items as CSV.
pub async fn catalogue(
    State(state): State<AppState>,
    ctx: Ctx,
    Extension(org): Extension<OrgRecord>,
    Query(q): Query<Imported>,
) -> AppResult<Response> {
    let imported = q.added.zip(q.updated);
    catalogue_page(
        &state,
        &ctx,
        &org,
        StatusCode::OK,
        String::new(),
        imported,
        Vec::new(),
    )
    .await
}

/// Imports pasted (or, with JavaScript, chosen) CSV: all rows or none, every bad row named.
pub async fn import_catalogue(
    State(state): State<AppState>,
    ctx: Ctx,
    Extension(org): Extension<OrgRecord>,
    form: FormPost,
) -> AppResult<Response> {
    let csv = form.values.get("csv").to_owned();
    let result = match crate::catalogue::parse_csv(&csv) {
        Ok(rows) => crate::catalogue::import(&state, &ctx, &org, rows).await,
        Err(e) => Err(e),
    };
    match result {
        Ok((added, updated)) => Ok(Redirect::to(&format!(
            "/console/orgs/{}/catalogue?added={added}&updated={updated}",
            org.slug
        ))
        .into_response()),
        Err(e) => {
            let errors = e.into_field_errors()?;
            let messages = errors
                .iter()
                .map(|e| format!("{}: {}", e.field, message(&state, ctx.lang, e)))
                .collect();
            catalogue_page(
                &state,
                &ctx,
                &org,
                StatusCode::UNPROCESSABLE_ENTITY,
                csv,
                None,
                messages,
            )
            .await
        }
    }
}

#[derive(Template)]
#[template(path = "console/reviews.html")]
struct ReviewsPage<'a> {
    page: PageCtx<'a>,
    org: String,
    slug: String,
    can_edit: bool,
    entries: Vec<EntryRow>,
}

/// The annual review (A10.1): entries not reviewed for a year, each to confirm as it is or to
/// change through a ticket.
pub async fn reviews(
    State(state): State<AppState>,
    ctx: Ctx,
    Extension(org): Extension<OrgRecord>,
) -> AppResult<Response> {
    let labels = Labels::load(&state, ctx.lang).await?;
    let year_ago = state.clock.now().plus_seconds(-365 * 86_400);
    let entries = state
        .store
        .datasets_due_for_review(org.id, year_ago)
        .await?
        .iter()
        .map(|d| EntryRow {
            id: d.id.to_string(),
            name: d.meta.name.clone(),
            status: labels.named("status", d.status.as_str()),
            status_code: d.status.as_str().to_owned(),
            open_type: labels.named("open_type", d.meta.open_type.as_str()),
            updated: d
                .last_reviewed_at
                .map(date)
                .unwrap_or_else(|| date(d.updated_at)),
        })
        .collect();
    let view = ReviewsPage {
        org: labels.org(&org.slug),
        slug: org.slug.clone(),
        can_edit: ctx
            .authorize(Action::EditOpenList, Resource::Organization(org.id))
            .is_ok(),
        entries,
        page: PageCtx::new(&state, &ctx, &format!("/console/orgs/{}/reviews", org.slug)),
    };
    html(StatusCode::OK, view)
}

pub async fn review_entry(
    State(state): State<AppState>,
    ctx: Ctx,
    Extension(d): Extension<DatasetRecord>,
    Extension(org): Extension<OrgRecord>,
    form: FormPost,
) -> AppResult<Response> {
    let note = form.values.get("note").to_owned();
    crate::catalogue::mark_reviewed(&state, &ctx, &d, &note).await?;
    Ok(Redirect::to(&format!("/console/orgs/{}/reviews", org.slug)).into_response())
}

#[derive(Template)]
#[template(path = "console/members.html")]
struct MembersPage<'a> {
    page: PageCtx<'a>,
    org: String,
    slug: String,
    can_manage: bool,
    /// (email, name, role label)
    members: Vec<(String, String, String)>,
    roles: Vec<(&'static str, String, bool)>,
    email: String,
    errors: Vec<(String, String)>,
}

impl MembersPage<'_> {
    fn error(&self, field: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|(f, _)| f == field)
            .map(|(_, m)| m.as_str())
    }
}

async fn members_page(
    state: &AppState,
    ctx: &Ctx,
    org: &OrgRecord,
    status: StatusCode,
    form: (&str, &str),
    errors: &[FieldError],
) -> AppResult<Response> {
    let labels = Labels::load(state, ctx.lang).await?;
    let pctx = PageCtx::new(state, ctx, &format!("/console/orgs/{}/members", org.slug));
    let members = state
        .store
        .members(org.id)
        .await?
        .into_iter()
        .map(|m| (m.email, m.display_name, pctx.t(&format!("role.{}", m.role))))
        .collect();
    let roles = domain::roles::OrgRole::ALL
        .iter()
        .map(|r| {
            (
                r.as_str(),
                pctx.t(&format!("role.{r}")),
                form.1 == r.as_str(),
            )
        })
        .collect();
    let view = MembersPage {
        org: labels.org(&org.slug),
        slug: org.slug.clone(),
        can_manage: ctx
            .authorize(Action::ManageMembers, Resource::Organization(org.id))
            .is_ok(),
        members,
        roles,
        email: form.0.to_owned(),
        errors: errors
            .iter()
            .map(|e| (e.field.clone(), message(state, ctx.lang, e)))
            .collect(),
        page: pctx,
    };
    html(status, view)
}

/// The organization's members and their roles; its administrators add people by email.
pub async fn members(
    State(state): State<AppState>,
    ctx: Ctx,
    Extension(org): Extension<OrgRecord>,
) -> AppResult<Response> {
    members_page(&state, &ctx, &org, StatusCode::OK, ("", "editor"), &[]).await
}

pub async fn set_member(
    State(state): State<AppState>,
    ctx: Ctx,
    Extension(org): Extension<OrgRecord>,
    form: FormPost,
) -> AppResult<Response> {
    let (email, role) = (form.values.get("email"), form.values.get("role"));
    match crate::accounts::set_member(&state, &ctx, &org, email, role).await {
        Ok(_) => Ok(Redirect::to(&format!("/console/orgs/{}/members", org.slug)).into_response()),
        Err(e) => {
            let errors = e.into_field_errors()?;
            members_page(
                &state,
                &ctx,
                &org,
                StatusCode::UNPROCESSABLE_ENTITY,
                (email, role),
                &errors,
            )
            .await
        }
    }
}
