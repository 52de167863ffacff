//! The data of an entry as its public page shows it (A16.2, A17.1): the current version with
//! its last update and downloads, a preview of its rows — filtered by words or one field, sorted
//! by any column, paged — statistics and charts per column from the version's profile, and the
//! history of published versions.

use data::profile::ColumnProfile;
use data::query::{DEFAULT_LIMIT, MAX_OFFSET};
use domain::openlist::vocab::FieldType;
use store::data_versions::{DataVersion, VersionState};
use store::datasets::DatasetRecord;

use crate::charts;
use crate::ctx::Ctx;
use crate::page::PageCtx;
use crate::state::AppState;

/// Rows one preview page shows.
pub const PREVIEW_ROWS: usize = 20;

/// What the preview was asked for, from the page's query string.
#[derive(Debug, Default, Clone, serde::Deserialize)]
pub struct PreviewParams {
    #[serde(default)]
    pub q: String,
    #[serde(default)]
    pub sort: String,
    #[serde(default)]
    pub page: Option<usize>,
    /// One field to filter on, equal to `value`.
    #[serde(default)]
    pub field: String,
    #[serde(default)]
    pub value: String,
}

pub struct ColumnHead {
    pub name: String,
    pub label: String,
    /// Where clicking the header sorts by it (again: the other way).
    pub sort_href: String,
    /// "ascending" or "descending" when the preview is sorted by this column.
    pub sorted: Option<&'static str>,
}

pub struct ProfileView {
    pub label: String,
    pub values: u64,
    pub nulls: u64,
    pub distinct: String,
    pub min: String,
    pub max: String,
    /// A bar chart of the frequent values or of the histogram, as SVG.
    pub chart: String,
    /// The numbers the chart draws.
    pub figures: Vec<(String, u64)>,
}

pub struct HistoryRow {
    pub number: i64,
    pub date: String,
    pub rows: i64,
    pub score: String,
    pub href: String,
}

pub struct DataSection {
    /// The version, its rows and its last update, in a sentence.
    pub summary: String,
    /// What the preview shows: rows matching, the page.
    /// (label, href)
    pub downloads: Vec<(String, String)>,
    pub api: String,
    pub columns: Vec<ColumnHead>,
    pub preview: Vec<Vec<String>>,
    pub caption: String,
    pub prev: Option<String>,
    pub next: Option<String>,
    pub q: String,
    pub field: String,
    pub value: String,
    /// Why the preview's filter could not be applied.
    pub error: Option<String>,
    pub profile: Vec<ProfileView>,
    pub history: Vec<HistoryRow>,
    /// The points of a version with coordinates, as SVG, and what it shows in words.
    pub map: Option<(String, String)>,
}

fn link(d: &DatasetRecord, p: &PreviewParams, sort: &str, page: usize) -> String {
    let mut s = form_urlencoded::Serializer::new(String::new());
    for (k, v) in [
        ("q", p.q.as_str()),
        ("field", &p.field),
        ("value", &p.value),
        ("sort", sort),
    ] {
        if !v.is_empty() {
            s.append_pair(k, v);
        }
    }
    if page > 1 {
        s.append_pair("page", &page.to_string());
    }
    let qs = s.finish();
    if qs.is_empty() {
        format!("/datasets/{}#data", d.id)
    } else {
        format!("/datasets/{}?{qs}#data", d.id)
    }
}

/// The entry's data section, when its data is open and a version is published.
pub async fn section(
    state: &AppState,
    ctx: &Ctx,
    pctx: &PageCtx<'_>,
    d: &DatasetRecord,
    p: &PreviewParams,
) -> Option<DataSection> {
    let v = app::open_data::version(&state.app, &ctx.caller, d, None)
        .await
        .ok()?;
    let table = app::open_data::table(&state.app, &v).await.ok()?;
    let label_of = |name: &str| {
        d.meta
            .data_items
            .iter()
            .find(|i| i.name == name)
            .map(|i| i.label.clone())
            .unwrap_or_else(|| name.to_owned())
    };
    let page = p.page.unwrap_or(1).clamp(1, MAX_OFFSET / PREVIEW_ROWS + 1);
    let mut pairs = vec![
        ("limit".to_owned(), PREVIEW_ROWS.to_string()),
        ("offset".to_owned(), ((page - 1) * PREVIEW_ROWS).to_string()),
    ];
    if !p.q.trim().is_empty() {
        pairs.push(("q".into(), p.q.clone()));
    }
    if !p.sort.is_empty() {
        pairs.push(("sort".into(), p.sort.clone()));
    }
    if !p.field.is_empty() && !p.value.trim().is_empty() {
        pairs.push((p.field.clone(), p.value.clone()));
    }
    let schema = table.schema();
    let (rows, total, error) =
        match data::query::parse(&pairs, &schema).and_then(|q| data::records::run(&table, &q)) {
            Ok(page) => {
                let rows = (0..page.rows.num_rows())
                    .map(|r| {
                        page.rows
                            .columns()
                            .iter()
                            .map(|c| data::records::text(c.as_ref(), r))
                            .collect()
                    })
                    .collect();
                (rows, page.total, None)
            }
            Err(e) => (
                Vec::new(),
                0,
                Some(pctx.tf("data.preview_error", "code", e.code)),
            ),
        };
    let pages = (total as usize)
        .div_ceil(PREVIEW_ROWS)
        .clamp(1, MAX_OFFSET / PREVIEW_ROWS + 1);
    let columns = schema
        .fields()
        .iter()
        .map(|f| {
            let name = f.name().clone();
            let sorted = if p.sort == name {
                Some("ascending")
            } else if p.sort.strip_prefix('-') == Some(name.as_str()) {
                Some("descending")
            } else {
                None
            };
            let next_sort = if sorted == Some("ascending") {
                format!("-{name}")
            } else {
                name.clone()
            };
            ColumnHead {
                label: label_of(&name),
                sort_href: link(d, p, &next_sort, 1),
                sorted,
                name,
            }
        })
        .collect();
    let profile: Vec<ColumnProfile> = v
        .profile
        .as_deref()
        .and_then(|s| serde_json::from_str(s).ok())
        .unwrap_or_default();
    let history = state
        .store
        .data_versions_of(d.id, app::data_versions::HISTORY)
        .await
        .unwrap_or_default()
        .into_iter()
        .filter(|h| h.state == VersionState::Published)
        .filter_map(|h| history_row(d, &h))
        .collect();
    let base = format!(
        "/datasets/{}/download?version={}",
        d.id,
        v.number.unwrap_or(0)
    );
    let coordinates = crate::map::coordinates(&d.meta.data_items, &table.schema());
    let mut formats = vec![
        ("CSV", "csv"),
        ("Excel (XLSX)", "xlsx"),
        ("JSON", "json"),
        ("NDJSON", "ndjson"),
        ("Parquet", "parquet"),
    ];
    if coordinates.is_some() {
        formats.push(("GeoJSON", "geojson"));
    }
    let downloads = formats
        .iter()
        .map(|(label, f)| ((*label).to_owned(), format!("{base}&format={f}")))
        .collect();
    let map = coordinates.map(|at| {
        let area = &state.config.data.area;
        // Points outside the area are not drawn (and not counted as shown).
        let points: Vec<(f64, f64)> = crate::map::points(&table.batch, &at)
            .into_iter()
            .filter(|(x, y)| area.contains(*x, *y))
            .collect();
        let caption = pctx.tfs(
            "data.map_caption",
            &[
                ("shown", points.len().to_string()),
                ("rows", table.rows().to_string()),
            ],
        );
        let svg = match &state.config.map_tiles {
            Some(tiles) => crate::map::svg_over_tiles(&points, area, tiles, &caption),
            None => crate::map::svg(&points, area, &caption),
        };
        (svg, caption)
    });
    let updated = v
        .finished_at
        .map(|t| t.to_cst().format("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_default();
    Some(DataSection {
        summary: pctx.tfs(
            "data.summary",
            &[
                ("version", v.number.unwrap_or(0).to_string()),
                ("rows", v.rows.unwrap_or(0).to_string()),
                ("updated", updated),
            ],
        ),
        caption: pctx.tfs(
            "data.preview_caption",
            &[
                ("total", total.to_string()),
                ("page", page.to_string()),
                ("pages", pages.to_string()),
            ],
        ),
        downloads,
        api: format!("/api/v1/datasets/{}/records?limit={DEFAULT_LIMIT}", d.id),
        columns,
        preview: rows,
        prev: (page > 1).then(|| link(d, p, &p.sort, page - 1)),
        next: (page < pages).then(|| link(d, p, &p.sort, page + 1)),
        q: p.q.clone(),
        field: p.field.clone(),
        value: p.value.clone(),
        error,
        profile: profile
            .iter()
            .map(|c| {
                let t = d
                    .meta
                    .data_items
                    .iter()
                    .find(|i| i.name == c.name)
                    .map(|i| i.field_type);
                profile_view(pctx, c, &label_of(&c.name), t)
            })
            .collect(),
        history,
        map,
    })
}

fn history_row(d: &DatasetRecord, v: &DataVersion) -> Option<HistoryRow> {
    let number = v.number?;
    Some(HistoryRow {
        number,
        date: v
            .finished_at
            .map(|t| t.to_cst().format("%Y-%m-%d").to_string())
            .unwrap_or_default(),
        rows: v.rows.unwrap_or(0),
        score: v
            .score
            .map(|s| format!("{:.1}", s as f64 / 10.0))
            .unwrap_or_default(),
        href: format!("/datasets/{}/download?version={number}&format=csv", d.id),
    })
}

fn profile_view(
    pctx: &PageCtx<'_>,
    c: &ColumnProfile,
    label: &str,
    t: Option<FieldType>,
) -> ProfileView {
    let figures: Vec<(String, u64)> = if !c.top.is_empty() && c.distinct <= 20 {
        c.top.clone()
    } else if let Some(h) = &c.histogram {
        // Ten bins read better on a page than the twenty kept.
        let width = (h.high - h.low) / h.counts.len().max(1) as f64;
        h.counts
            .chunks(2)
            .enumerate()
            .map(|(i, pair)| {
                let lo = h.low + width * (2 * i) as f64;
                let hi = lo + width * pair.len() as f64;
                (
                    format!("{} – {}", edge(lo, t), edge(hi, t)),
                    pair.iter().sum(),
                )
            })
            .collect()
    } else {
        c.top.clone()
    };
    let distinct = if c.distinct_at_least {
        pctx.tf("data.at_least", "n", &c.distinct.to_string())
    } else {
        c.distinct.to_string()
    };
    ProfileView {
        label: label.to_owned(),
        values: c.values,
        nulls: c.nulls,
        distinct,
        min: c.min.clone().unwrap_or_default(),
        max: c.max.clone().unwrap_or_default(),
        chart: charts::bars(&figures, charts::BLUE),
        figures,
    }
}

/// A bin edge as people read it: dates as dates, whole numbers without decimals.
fn edge(x: f64, t: Option<FieldType>) -> String {
    let day = |days: f64| {
        chrono::NaiveDate::from_ymd_opt(1970, 1, 1)
            .and_then(|e| e.checked_add_signed(chrono::Duration::days(days.floor() as i64)))
            .map(|d| d.format("%Y-%m-%d").to_string())
            .unwrap_or_default()
    };
    match t {
        Some(FieldType::Date) => return day(x),
        Some(FieldType::DateTime) => return day(x / 86_400_000.0),
        _ => {}
    }
    if x.fract().abs() < 1e-9 || x.abs() >= 1000.0 {
        format!("{x:.0}")
    } else {
        format!("{x:.2}")
    }
}
