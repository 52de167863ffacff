//! The entry form: creating and editing open-list entries, and the tickets that publish,
//! change or remove them (A9.1, A11.1, A11.2).

use askama::Template;
use axum::extract::{Extension, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use domain::openlist::classification::Guide;
use domain::openlist::ticket::TicketKind;
use domain::openlist::vocab::{
    ConditionKind, DatasetStatus, EntrySource, FieldType, OpenType, RelationKind, SHANGHAI_AREAS,
    UpdateFrequency,
};
use domain::policy::{Action, Resource};
use serde::Deserialize;
use store::datasets::DatasetRecord;
use store::orgs::OrgRecord;

use crate::ctx::{Ctx, FormPost, Params};
use crate::dataset_form::FormValues;
use crate::error::{AppError, AppResult, ErrorCode, FieldError};
use crate::i18n::Lang;
use crate::labels::Labels;
use crate::page::PageCtx;
use crate::page::html;
use crate::state::AppState;
use app::openlist::{check_for_publish, create_draft, update_draft};
use app::tickets::{self, TicketInput};

use super::{field_id, field_label, message};
use axum::extract::RawQuery;

/// A problem as the form shows it: where, and what to do.
pub struct Problem {
    anchor: String,
    message: String,
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
    /// The quality gate's rules on the item's values (A16.1).
    required: Choice,
    key: Choice,
    allowed: Input,
    min: Input,
    max: Input,
    pattern: Input,
    format: Input,
    check: Choice,
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
    /// The row version the form was filled in from: saving it over a newer one is refused.
    row_version: String,
    /// A published entry changes through a ticket: the form asks for its reason.
    via_ticket: bool,
    /// What just happened, said at the top of the form.
    notice: Option<String>,
    /// The problems are those that stop publishing, not those that stop saving.
    publish_check: bool,
    problems: Vec<Problem>,
    name: Input,
    summary: Input,
    name_en: Input,
    summary_en: Input,
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
    notice: Notice,
}

/// What the form says happened before it was shown.
enum Notice {
    None,
    Saved,
    /// A new entry was prepared from this many unopened catalogue items.
    Prepared(usize),
    /// A new entry's data items were inferred from the file named, this many.
    Inferred {
        file: String,
        items: usize,
    },
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
    let yes_no = vec![
        (String::new(), pctx.t("console.rule_no")),
        ("yes".to_owned(), pctx.t("console.rule_yes")),
    ];
    let mut checks = vec![(String::new(), pctx.t("console.rule_no_check"))];
    checks.extend(domain::openlist::rules::ValueCheck::ALL.iter().map(|c| {
        (
            c.as_str().to_owned(),
            pctx.t(&format!("value_check.{}", c.as_str())),
        )
    }));
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
                required: f.choice(&key("rules.required"), yes_no.clone()),
                key: f.choice(&key("rules.key"), yes_no.clone()),
                allowed: f.input(&key("rules.allowed")),
                min: f.input(&key("rules.min")),
                max: f.input(&key("rules.max")),
                pattern: f.input(&key("rules.pattern")),
                format: f.input(&key("rules.format")),
                check: f.choice(&key("rules.check"), checks.clone()),
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
        row_version: match (spec.values.get("row_version"), spec.dataset) {
            ("", Some(d)) => d.row_version.to_string(),
            (posted, _) => posted.to_owned(),
        },
        via_ticket,
        notice: match spec.notice {
            Notice::None => None,
            Notice::Saved => Some(pctx.t("console.saved")),
            Notice::Prepared(n) => Some(pctx.tf("console.prepared", "n", &n.to_string())),
            Notice::Inferred { file, items } => Some(pctx.tfs(
                "from_file.inferred",
                &[("items", items.to_string()), ("file", file.clone())],
            )),
        },
        publish_check: spec.publish_check,
        problems,
        name: f.input("name"),
        summary: f.input("summary"),
        name_en: f.input("name_en"),
        summary_en: f.input("summary_en"),
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

/// The form again, refused with its problems and what was sent.
async fn refused(
    state: &AppState,
    ctx: &Ctx,
    org: &OrgRecord,
    dataset: Option<&DatasetRecord>,
    values: FormValues,
    errors: Vec<FieldError>,
    publish_check: bool,
) -> AppResult<Response> {
    let spec = FormSpec {
        org,
        dataset,
        values,
        errors,
        publish_check,
        notice: Notice::None,
    };
    form_page(state, ctx, StatusCode::UNPROCESSABLE_ENTITY, spec).await
}

/// The form of a new entry. With `items` (ids of the provider's catalogue items that no entry
/// opens yet), the entry is prepared from them (A12.1): one data item per catalogue item,
/// linked to it, and the source set to de-identified unopened data, so that publishing waits
/// for the provider to say how the data was de-identified and graded. Ids that are not this
/// provider's unopened items are left out.
pub async fn new_entry(
    State(state): State<AppState>,
    ctx: Ctx,
    Extension(org): Extension<OrgRecord>,
    RawQuery(raw): RawQuery,
) -> AppResult<Response> {
    let mut values = FormValues::default();
    values.set_default("spatial.areas", "shanghai");
    let wanted: Vec<String> = form_urlencoded::parse(raw.unwrap_or_default().as_bytes())
        .filter(|(k, _)| k == "items")
        .map(|(_, v)| v.into_owned())
        .collect();
    let mut prepared = 0;
    if !wanted.is_empty() {
        let usage = state.store.catalogue_usage(org.id).await?;
        let unopened = state
            .store
            .catalogue(org.id)
            .await?
            .into_iter()
            .filter(|c| !usage.contains_key(&c.id) && wanted.contains(&c.id.to_string()));
        for (i, c) in unopened.enumerate() {
            prefill_item(
                &mut values,
                i,
                [
                    ("name", machine_name(&c.code)),
                    ("label", c.name),
                    ("field_type", "text".into()),
                    ("description", c.description),
                    ("catalogue_item", c.id.to_string()),
                ],
            );
            prepared += 1;
        }
        if prepared > 0 {
            values.set_default("source", EntrySource::Deidentified.as_str());
        }
    }
    let spec = FormSpec {
        org: &org,
        dataset: None,
        values,
        errors: Vec::new(),
        publish_check: false,
        notice: if prepared > 0 {
            Notice::Prepared(prepared)
        } else {
            Notice::None
        },
    };
    form_page(&state, &ctx, StatusCode::OK, spec).await
}

#[derive(Template)]
#[template(path = "console/from_file.html")]
struct FromFilePage<'a> {
    page: PageCtx<'a>,
    org_slug: String,
    org_name: String,
    errors: Vec<String>,
}

async fn from_file_page(
    state: &AppState,
    ctx: &Ctx,
    org: &OrgRecord,
    status: StatusCode,
    errors: Vec<String>,
) -> AppResult<Response> {
    let labels = crate::labels::Labels::load(state, ctx.lang).await?;
    let view = FromFilePage {
        page: PageCtx::new(
            state,
            ctx,
            &format!("/console/orgs/{}/datasets/from-file", org.slug),
        ),
        org_name: labels.org(&org.slug),
        org_slug: org.slug.clone(),
        errors,
    };
    html(status, view)
}

/// `GET /console/orgs/{org}/datasets/from-file`: a new entry made from a file — the file to
/// suggest its data items from.
pub async fn from_file_form(
    State(state): State<AppState>,
    ctx: Ctx,
    Extension(org): Extension<OrgRecord>,
) -> AppResult<Response> {
    from_file_page(&state, &ctx, &org, StatusCode::OK, Vec::new()).await
}

/// `POST /console/orgs/{org}/datasets/from-file`: the file's data items, each column's type
/// inferred over every row, filled into a new entry's form for the provider to check and save.
/// The file is not kept: its data is uploaded on the entry's data page once the entry is open.
pub async fn from_file(
    State(state): State<AppState>,
    ctx: Ctx,
    Extension(org): Extension<OrgRecord>,
    req: axum::extract::Request,
) -> AppResult<Response> {
    use axum::extract::FromRequest;
    let mut form = axum::extract::Multipart::from_request(req, &state)
        .await
        .map_err(|_| AppError::new(ErrorCode::MalformedRequest))?;
    let suggest = async |fields: std::collections::HashMap<String, String>,
                         name: String,
                         file: axum::extract::multipart::Field<'_>| {
        let encoding = fields
            .get("encoding")
            .map(String::as_str)
            .filter(|e| !e.trim().is_empty());
        let inferred =
            app::infer::items_from_upload(&state.app, &ctx.caller, org.id, &name, encoding, file)
                .await;
        let items = match inferred {
            Ok(items) => items,
            Err(e) => {
                let messages = AppError::from(e)
                    .into_field_errors()?
                    .iter()
                    .map(|f| state.messages.field(ctx.lang, f.code, f.detail.as_deref()))
                    .collect();
                return from_file_page(
                    &state,
                    &ctx,
                    &org,
                    StatusCode::UNPROCESSABLE_ENTITY,
                    messages,
                )
                .await;
            }
        };
        let mut values = FormValues::default();
        values.set_default("spatial.areas", "shanghai");
        for (i, item) in items.iter().enumerate() {
            prefill_item(
                &mut values,
                i,
                [
                    ("name", item.name.clone()),
                    ("label", item.label.clone()),
                    ("field_type", item.field_type.as_str().into()),
                ],
            );
        }
        let spec = FormSpec {
            org: &org,
            dataset: None,
            values,
            errors: Vec::new(),
            publish_check: false,
            notice: Notice::Inferred {
                file: name,
                items: items.len(),
            },
        };
        form_page(&state, &ctx, StatusCode::OK, spec).await
    };
    crate::ctx::with_file_after_token(&ctx, &mut form, suggest).await
}

/// Fills data item `i` of a new entry's form with `fields` (name, value), where nothing was
/// sent for them.
fn prefill_item<const N: usize>(values: &mut FormValues, i: usize, fields: [(&str, String); N]) {
    for (field, value) in fields {
        values.set_default(&format!("data_items[{i}].{field}"), value);
    }
}

/// A field name for files and APIs from a catalogue code: its last part, lower case, letters,
/// digits and underscores ("BUSLINE-LINE_NAME" → "line_name").
fn machine_name(code: &str) -> String {
    let last = code.rsplit(['-', '.', '/']).next().unwrap_or(code);
    last.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect()
}

pub async fn create_entry(
    State(state): State<AppState>,
    ctx: Ctx,
    Extension(org): Extension<OrgRecord>,
    form: FormPost,
) -> AppResult<Response> {
    let values = form.values;
    let result = match values.to_meta() {
        Ok(meta) => create_draft(&state.app, &ctx.caller, &org, meta).await,
        Err(errors) => Err(app::Error::invalid(errors)),
    };
    match result {
        Ok(d) => {
            Ok(Redirect::to(&format!("/console/datasets/{}/edit?saved=1", d.id)).into_response())
        }
        Err(e) => {
            let errors = e.into_field_errors()?;
            refused(&state, &ctx, &org, None, values, errors, false).await
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
    Params(q): Params<Saved>,
) -> AppResult<Response> {
    // Who may read the organization's entries but not change them (a reviewer, the regulator,
    // the operator) reads the entry, rather than a form whose buttons would be refused.
    if ctx
        .authorize(Action::EditOpenList, Resource::Dataset(d.facts()))
        .is_err()
    {
        return Ok(Redirect::to(&format!("/datasets/{}", d.id)).into_response());
    }
    let errors = if d.status == DatasetStatus::Draft {
        check_for_publish(&state.app, &d, &d.meta)
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
        notice: if q.saved.is_some() {
            Notice::Saved
        } else {
            Notice::None
        },
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
            return refused(&state, &ctx, &org, Some(&d), values, errors, false).await;
        }
    };
    let result = if d.status == DatasetStatus::Draft {
        let expected = values.get("row_version").parse().ok();
        update_draft(&state.app, &ctx.caller, d.clone(), &org, meta, expected)
            .await
            .map(|d| format!("/console/datasets/{}/edit?saved=1", d.id))
    } else {
        let attachments = match crate::ctx::attachments(&form.files, "document") {
            Ok(a) => a,
            Err(errors) => {
                return refused(&state, &ctx, &org, Some(&d), values, errors, false).await;
            }
        };
        let input = TicketInput {
            kind: TicketKind::Modify,
            reason: values.get("ticket_reason").to_owned(),
            proposed: Some(meta),
            attachments,
        };
        tickets::submit(&state.app, &ctx.caller, &d, &org, input)
            .await
            .map(|t| format!("/console/tickets/{}", t.id))
    };
    match result {
        Ok(next) => Ok(Redirect::to(&next).into_response()),
        Err(e) => {
            let errors = at_fields(e.into_field_errors()?, &[("reason", "ticket_reason")]);
            refused(&state, &ctx, &org, Some(&d), values, errors, false).await
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
/// Asks for a published entry to be taken off the open list: a "remove" ticket, which needs
/// a document explaining why (A11.2).
pub async fn remove_entry(
    State(state): State<AppState>,
    ctx: Ctx,
    Extension(d): Extension<DatasetRecord>,
    Extension(org): Extension<OrgRecord>,
    form: FormPost,
) -> AppResult<Response> {
    let submitted = match crate::ctx::attachments(&form.files, "remove_document") {
        Ok(attachments) => {
            let input = TicketInput {
                kind: TicketKind::Remove,
                reason: form.values.get("remove_reason").to_owned(),
                proposed: None,
                attachments,
            };
            tickets::submit(&state.app, &ctx.caller, &d, &org, input).await
        }
        Err(errors) => Err(app::Error::invalid(errors)),
    };
    match submitted {
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
            refused(&state, &ctx, &org, Some(&d), values, errors, false).await
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
    match tickets::submit(&state.app, &ctx.caller, &d, &org, input).await {
        Ok(t) => Ok(Redirect::to(&format!("/console/tickets/{}", t.id)).into_response()),
        Err(e) => {
            let errors = e.into_field_errors()?;
            let mut values = FormValues::from_meta(&d.meta);
            values.set_default("ticket_reason", reason);
            refused(&state, &ctx, &org, Some(&d), values, errors, true).await
        }
    }
}
