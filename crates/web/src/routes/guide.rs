//! The classification guide's page (A13.1): the version in force read as tables, a form over
//! its structure with a preview of what an edit changes, the text itself for those who prefer
//! it, and every earlier version.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use domain::openlist::classification::Guide;
use domain::openlist::vocab::{ConditionKind, OpenType};

use crate::ctx::{Ctx, FormPost};
use crate::dataset_form::FormValues;
use crate::error::{AppError, AppResult, ErrorCode, FieldError};
use crate::guide_form::{self, GuideChange};
use crate::i18n::Lang;
use crate::labels::Labels;
use crate::page::{PageCtx, html, when};
use crate::state::AppState;
use app::vocab;

/// A guide as a page reads it.
pub struct GuideView {
    title: String,
    method: String,
    dimensions: Vec<DimensionView>,
}

pub struct DimensionView {
    name: String,
    description: String,
    /// (level, open type it allows, measures, suggested conditions).
    levels: Vec<(String, String, String, Vec<String>)>,
}

/// A text field of the form.
pub struct In {
    name: String,
    id: String,
    value: String,
    error: Option<String>,
}

/// A choice of the form.
pub struct Sel {
    name: String,
    id: String,
    /// (value, label, chosen)
    options: Vec<(String, String, bool)>,
    error: Option<String>,
}

pub struct LevelRow {
    code: In,
    name_zh: In,
    name_en: In,
    open_type: Sel,
    measures: In,
    conditions: In,
}

pub struct DimensionRow {
    number: usize,
    code: In,
    name_zh: In,
    name_en: In,
    description: In,
    levels: Vec<LevelRow>,
    levels_error: Option<String>,
}

pub struct ExampleRow {
    number: usize,
    title: In,
    open_type: Sel,
    explanation: In,
    /// (dimension, its level chosen)
    levels: Vec<(String, Sel)>,
}

/// A dimension an example grades, as typed in the form: (code, name, its levels as (code,
/// name)).
type Graded = (String, String, Vec<(String, String)>);

/// A change an edit makes, as the preview lists it.
pub struct ChangeView {
    at: String,
    field: String,
    before: String,
    after: String,
}

#[derive(Template)]
#[template(path = "console/guide.html")]
struct GuidePage<'a> {
    page: PageCtx<'a>,
    /// The version shown, and whether it is the one in force.
    version: i64,
    current: bool,
    /// The version the edit starts from: saving over a newer one is refused.
    base_version: i64,
    toml: String,
    versions: Vec<(i64, String)>,
    /// Problems of the whole guide, and those of the text.
    errors: Vec<String>,
    readable: Option<GuideView>,
    /// A preview of unsaved changes: what they change, in order.
    preview: Option<Vec<ChangeView>>,
    title_zh: In,
    title_en: In,
    method: In,
    dimensions: Vec<DimensionRow>,
    examples: Vec<ExampleRow>,
    /// The text editor was the one used (it opens, and its problems show there).
    text_mode: bool,
}

/// Each condition kind with its labels in both languages, as the form's lines name them.
fn condition_kinds(state: &AppState) -> Vec<(ConditionKind, String, String)> {
    ConditionKind::ALL
        .iter()
        .map(|k| {
            let key = format!("condition.{}", k.as_str());
            let label = |lang| state.messages.get(lang, &key).to_owned();
            (*k, label(Lang::Zh), label(Lang::En))
        })
        .collect()
}

fn guide_view(page: &PageCtx, labels: &Labels, g: &Guide) -> GuideView {
    let either = |zh: &str, en: &str| labels.either(zh, en).0;
    GuideView {
        title: either(&g.title_zh, &g.title_en),
        method: g.method_zh.clone(),
        dimensions: g
            .dimensions
            .iter()
            .map(|d| DimensionView {
                name: either(&d.name_zh, &d.name_en),
                description: d.description_zh.clone(),
                levels: d
                    .levels
                    .iter()
                    .map(|l| {
                        (
                            either(&l.name_zh, &l.name_en),
                            page.t(&format!("open_type.{}", l.open_type.as_str())),
                            l.measures_zh.clone(),
                            l.conditions
                                .iter()
                                .map(|c| {
                                    format!(
                                        "{}：{}",
                                        labels.named("condition", c.kind.as_str()),
                                        c.text_zh
                                    )
                                })
                                .collect(),
                        )
                    })
                    .collect(),
            })
            .collect(),
    }
}

/// Builds the form's fields from `v`, each with its problem.
struct FormBuilder<'p, 'a> {
    page: &'p PageCtx<'a>,
    v: &'p FormValues,
    errors: &'p [(String, String)],
}

impl FormBuilder<'_, '_> {
    fn error(&self, name: &str) -> Option<String> {
        crate::page::message_at(self.errors, name).map(str::to_owned)
    }

    fn input(&self, name: String) -> In {
        In {
            id: crate::routes::console::field_id(&name),
            value: self.v.get(&name).to_owned(),
            error: self.error(&name),
            name,
        }
    }

    fn choice(&self, name: String, options: &[(String, String)]) -> Sel {
        let chosen = self.v.get(&name).to_owned();
        let mut all = vec![(
            String::new(),
            self.page.t("console.choose"),
            chosen.is_empty(),
        )];
        all.extend(
            options
                .iter()
                .map(|(value, label)| (value.clone(), label.clone(), *value == chosen)),
        );
        Sel {
            id: crate::routes::console::field_id(&name),
            error: self.error(&name),
            options: all,
            name,
        }
    }
}

/// The rows to show of `part`: those sent, and one empty row to add another.
fn shown_rows(v: &FormValues, part: &str, max: usize) -> usize {
    (v.rows(part) + 1).min(max)
}

/// An edit the page comes back with: as typed, with its problems or its preview.
#[derive(Default)]
struct Edit {
    /// The form as sent; none for the text editor, or for the guide shown.
    values: Option<FormValues>,
    /// The guide's text and the version it was edited from.
    toml: Option<(String, Option<i64>)>,
    errors: Vec<FieldError>,
    /// The guide in force and the edited one, when previewing.
    preview: Option<(Guide, Guide)>,
    text_mode: bool,
}

async fn render(
    state: &AppState,
    ctx: &Ctx,
    status: StatusCode,
    version: Option<i64>,
    edit: Edit,
) -> AppResult<Response> {
    let Edit {
        values,
        toml,
        errors,
        preview,
        text_mode,
    } = edit;
    let shown = state.store.guide_version(version).await?;
    let all = state.store.guide_versions().await?;
    let newest = all.iter().map(|v| v.version).max().unwrap_or(shown.version);
    let page = PageCtx::new(state, ctx, "/console/guide");
    let labels = Labels::load(state, ctx.lang).await?;
    let kinds = condition_kinds(state);
    let shown_guide = Guide::from_toml(&shown.body).ok();
    let values = values.unwrap_or_else(|| {
        shown_guide
            .as_ref()
            .map(|g| guide_form::form_of(g, &kinds))
            .unwrap_or_default()
    });
    let messages: Vec<(String, String)> = errors
        .iter()
        .map(|e| (e.field.clone(), super::console::message(state, ctx.lang, e)))
        .collect();
    let readable = match &preview {
        Some((_, after)) => Some(guide_view(&page, &labels, after)),
        None if errors.is_empty() => shown_guide.as_ref().map(|g| guide_view(&page, &labels, g)),
        None => None,
    };
    let preview = preview.map(|(before, after)| {
        guide_form::changes(&before, &after)
            .into_iter()
            .map(|c| change_view(&page, &before, &after, c))
            .collect()
    });

    let b = FormBuilder {
        page: &page,
        v: &values,
        errors: &messages,
    };
    let open_types: Vec<(String, String)> = OpenType::ALL
        .iter()
        .map(|o| {
            (
                o.as_str().to_owned(),
                page.t(&format!("open_type.{}", o.as_str())),
            )
        })
        .collect();
    let dimension_rows = shown_rows(&values, "dimensions", guide_form::MAX_DIMENSIONS);
    let dimensions: Vec<DimensionRow> = (0..dimension_rows)
        .map(|i| {
            let p = format!("dimensions[{i}]");
            let levels_part = format!("{p}.levels");
            DimensionRow {
                number: i + 1,
                code: b.input(format!("{p}.code")),
                name_zh: b.input(format!("{p}.name_zh")),
                name_en: b.input(format!("{p}.name_en")),
                description: b.input(format!("{p}.description_zh")),
                levels: (0..shown_rows(&values, &levels_part, guide_form::MAX_LEVELS))
                    .map(|j| {
                        let q = format!("{levels_part}[{j}]");
                        LevelRow {
                            code: b.input(format!("{q}.code")),
                            name_zh: b.input(format!("{q}.name_zh")),
                            name_en: b.input(format!("{q}.name_en")),
                            open_type: b.choice(format!("{q}.open_type"), &open_types),
                            measures: b.input(format!("{q}.measures_zh")),
                            conditions: b.input(format!("{q}.conditions")),
                        }
                    })
                    .collect(),
                levels_error: b.error(&levels_part),
            }
        })
        .collect();
    // The dimensions an example grades, with their levels, as typed in the form.
    let graded: Vec<Graded> = (0..dimension_rows)
        .filter_map(|i| {
            let p = format!("dimensions[{i}]");
            let code = values.get(&format!("{p}.code")).trim().to_owned();
            if code.is_empty() {
                return None;
            }
            let levels_part = format!("{p}.levels");
            let levels = (0..values.rows(&levels_part))
                .filter_map(|j| {
                    let q = format!("{levels_part}[{j}]");
                    let level = values.get(&format!("{q}.code")).trim().to_owned();
                    (!level.is_empty())
                        .then(|| (level, values.get(&format!("{q}.name_zh")).to_owned()))
                })
                .collect();
            Some((code, values.get(&format!("{p}.name_zh")).to_owned(), levels))
        })
        .collect();
    let examples = (0..shown_rows(&values, "examples", guide_form::MAX_EXAMPLES))
        .map(|k| {
            let p = format!("examples[{k}]");
            ExampleRow {
                number: k + 1,
                title: b.input(format!("{p}.title_zh")),
                open_type: b.choice(format!("{p}.open_type"), &open_types),
                explanation: b.input(format!("{p}.explanation_zh")),
                levels: graded
                    .iter()
                    .map(|(code, name, levels)| {
                        (name.clone(), b.choice(format!("{p}.levels.{code}"), levels))
                    })
                    .collect(),
            }
        })
        .collect();
    let general: Vec<String> = messages
        .iter()
        .filter(|(f, _)| f == "toml" || f == "dimensions" || f == "examples")
        .map(|(_, m)| m.clone())
        .collect();
    let view = GuidePage {
        version: shown.version,
        current: shown.version == newest,
        base_version: toml
            .as_ref()
            .and_then(|(_, base)| *base)
            .unwrap_or(shown.version),
        toml: toml.map(|(text, _)| text).unwrap_or(shown.body),
        versions: all
            .iter()
            .rev()
            .map(|v| (v.version, when(v.created_at)))
            .collect(),
        errors: general,
        readable,
        preview,
        title_zh: b.input("title_zh".into()),
        title_en: b.input("title_en".into()),
        method: b.input("method_zh".into()),
        dimensions,
        examples,
        text_mode,
        page,
    };
    html(status, view)
}

/// A change as the preview reads it: where, by names; values by their labels.
fn change_view(page: &PageCtx, before: &Guide, after: &Guide, c: GuideChange) -> ChangeView {
    let dimension = |code: &str| {
        after
            .dimensions
            .iter()
            .chain(&before.dimensions)
            .find(|d| d.code == code)
    };
    let mut steps = Vec::new();
    let mut within = None;
    for (kind, key) in &c.at {
        match *kind {
            "dimension" => {
                within = dimension(key);
                let name = within.map(|d| d.name_zh.as_str()).unwrap_or(key);
                steps.push(page.tf("guide.at_dimension", "name", name));
            }
            "level" => {
                let name = within
                    .and_then(|d| d.levels.iter().find(|l| l.code == *key))
                    .or_else(|| {
                        within
                            .and_then(|d| before.dimensions.iter().find(|b| b.code == d.code))
                            .and_then(|d| d.levels.iter().find(|l| l.code == *key))
                    })
                    .map(|l| l.name_zh.as_str())
                    .unwrap_or(key);
                steps.push(page.tf("guide.at_level", "name", name));
            }
            _ => steps.push(page.tf("guide.at_example", "name", key)),
        }
    }
    let value = |v: Option<String>| match v {
        None => "—".to_owned(),
        Some(v) if c.field == "open_type" => page.t(&format!("open_type.{v}")),
        Some(v) => v,
    };
    ChangeView {
        at: steps.join(" › "),
        field: page.t(&format!("guide.field.{}", c.field)),
        before: value(c.before),
        after: value(c.after),
    }
}

pub async fn page(State(state): State<AppState>, ctx: Ctx) -> AppResult<Response> {
    render(&state, &ctx, StatusCode::OK, None, Edit::default()).await
}

pub async fn version(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(version): Path<String>,
) -> AppResult<Response> {
    let version: i64 = version.parse().map_err(|_| ErrorCode::NotFound)?;
    render(&state, &ctx, StatusCode::OK, Some(version), Edit::default()).await
}

/// Previews or saves an edit, made in the form or as text. Nothing is saved by a preview, nor
/// by an edit with problems: the page comes back with them, and with everything as typed.
pub async fn save(State(state): State<AppState>, ctx: Ctx, form: FormPost) -> AppResult<Response> {
    let v = form.values;
    let base = v.get("base_version").parse().ok();
    let preview = v.has("preview", "1");
    // The text editor's form, or an older client that sends the text alone.
    let text_mode = v.has("mode", "text") || !v.all("toml").is_empty();
    let (toml, values) = if text_mode {
        (v.get("toml").to_owned(), None)
    } else {
        let kinds = condition_kinds(&state);
        match guide_form::guide_from_form(&v, &kinds) {
            Ok(guide) => match toml::to_string(&guide) {
                Ok(text) => (text, Some(v)),
                Err(e) => {
                    tracing::error!(error = %e, "a guide could not be written as TOML");
                    return Err(ErrorCode::Internal.into());
                }
            },
            Err(errors) => {
                let edit = Edit {
                    values: Some(v),
                    errors,
                    ..Edit::default()
                };
                return render(&state, &ctx, StatusCode::UNPROCESSABLE_ENTITY, None, edit).await;
            }
        }
    };
    // A preview checks the guide and shows what it would change; saving checks and saves it.
    let outcome = if preview {
        vocab::check_guide(&toml).map(Some)
    } else {
        vocab::save_guide(&state.app, &ctx.caller, &toml, base)
            .await
            .map(|_| None)
    };
    let mut edit = Edit {
        values,
        toml: Some((toml, base)),
        text_mode,
        ..Edit::default()
    };
    let status = match outcome {
        Ok(None) => return Ok(Redirect::to("/console/guide").into_response()),
        Ok(Some(after)) => {
            let (_, before) = state.store.current_guide().await?;
            edit.preview = Some((before, after));
            StatusCode::OK
        }
        Err(e) => {
            edit.errors = AppError::from(e).into_field_errors()?;
            StatusCode::UNPROCESSABLE_ENTITY
        }
    };
    render(&state, &ctx, status, None, edit).await
}
