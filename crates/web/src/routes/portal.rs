//! The public pages of the open list (A25.3): search with facets, the dataset page.
//! Everything a page links to keeps the search in its URL, so a search can be shared and the
//! back button works; nothing needs JavaScript.

use askama::Template;
use axum::extract::{Extension, RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use domain::openlist::dataset::DatasetMeta;
use domain::openlist::diff::meta_changes;
use search::{FacetField, SearchQuery, Sort};
use serde::Deserialize;
use store::datasets::DatasetRecord;
use store::orgs::OrgRecord;

use super::api_search::{SearchParams, facet_by_name, facet_name, parse_params, run};
use crate::charts;
use crate::ctx::Ctx;
use crate::error::{AppResult, ErrorCode};
use crate::labels::Labels;
use crate::openlist::{can_see, citation, public};
use crate::page::PageCtx;
use crate::page::html;
use crate::state::AppState;

/// Hits per page of the search page.
const PER_PAGE: usize = 20;

/// The facets the search page offers, in the order shown.
const PAGE_FACETS: &[FacetField] = &[
    FacetField::Domain,
    FacetField::OpenType,
    FacetField::Provider,
    FacetField::Format,
    FacetField::UpdateFrequency,
    FacetField::Area,
];

/// The parameters of the current search in the order given, without the page number, so that
/// a link can change one thing and keep the rest.
#[derive(Clone, Default)]
pub struct SearchLink(Vec<(String, String)>);

impl SearchLink {
    /// Keeps the parameters the search page knows, with a value; drops the rest (a link shared
    /// with tracking parameters still works).
    fn from_query(raw: &str) -> Self {
        let known = |k: &str| matches!(k, "q" | "sort") || facet_by_name(k).is_some();
        Self(
            form_urlencoded::parse(raw.as_bytes())
                .filter(|(k, v)| known(k) && !v.is_empty())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        )
    }

    fn encoded(&self) -> String {
        let mut s = form_urlencoded::Serializer::new(String::new());
        for (k, v) in &self.0 {
            s.append_pair(k, v);
        }
        s.finish()
    }

    pub fn href(&self) -> String {
        let q = self.encoded();
        if q.is_empty() {
            "/datasets".to_owned()
        } else {
            format!("/datasets?{q}")
        }
    }

    fn page(&self, n: usize) -> String {
        let mut link = self.clone();
        if n > 1 {
            link.0.push(("page".into(), n.to_string()));
        }
        link.href()
    }

    fn has(&self, key: &str, value: &str) -> bool {
        self.0.iter().any(|(k, v)| k == key && v == value)
    }

    /// The same search with the filter `key=value` added, or taken away when it is there.
    fn toggled(&self, key: &str, value: &str) -> String {
        let mut link = self.clone();
        if self.has(key, value) {
            link.0.retain(|(k, v)| !(k == key && v == value));
        } else {
            link.0.push((key.to_owned(), value.to_owned()));
        }
        link.href()
    }

    /// A search for one filter value alone, as linked from a dataset page.
    pub fn only(key: &str, value: &str) -> String {
        SearchLink(vec![(key.to_owned(), value.to_owned())]).href()
    }
}

/// A count of entries with one value of a facet, and the search that lists them.
pub struct CountRow {
    pub(super) label: String,
    pub(super) count: u64,
    pub(super) href: String,
}

impl CountRow {
    /// (label, count) pairs, for a chart.
    pub fn pairs(rows: &[CountRow]) -> Vec<(String, u64)> {
        rows.iter().map(|r| (r.label.clone(), r.count)).collect()
    }
}

/// What a search hit's stored document holds that the page shows.
#[derive(Deserialize)]
struct Stored {
    id: String,
    provider: StoredProvider,
    metadata: DatasetMeta,
    updated_at: String,
}

#[derive(Deserialize)]
struct StoredProvider {
    slug: String,
}

pub struct HitView {
    pub(super) id: String,
    pub(super) name: String,
    /// The language `name` and `summary` are in.
    pub(super) lang: &'static str,
    pub(super) summary: String,
    pub(super) provider: String,
    pub(super) provider_href: String,
    pub(super) domain: String,
    pub(super) open_type: String,
    pub(super) open_type_code: String,
    pub(super) formats: Vec<String>,
    pub(super) updated: String,
}

pub struct FacetValueView {
    label: String,
    count: u64,
    href: String,
    active: bool,
}

pub struct FacetView {
    title: String,
    values: Vec<FacetValueView>,
}

pub struct ChoiceView {
    value: &'static str,
    label: String,
    selected: bool,
}

pub struct PageLink {
    number: usize,
    href: String,
    current: bool,
}

#[derive(Template)]
#[template(path = "datasets.html")]
struct SearchPage<'a> {
    past_end: Option<PastEnd>,
    page: PageCtx<'a>,
    text: String,
    total: usize,
    hits: Vec<HitView>,
    facets: Vec<FacetView>,
    /// Active filters as (label, link that removes it), also kept in the form.
    active: Vec<(String, String)>,
    hidden: Vec<(String, String)>,
    sorts: Vec<ChoiceView>,
    pages: Vec<PageLink>,
    previous: Option<String>,
    next: Option<String>,
}

/// The first `n` characters of `text`, with an ellipsis when cut.
fn shorten(text: &str, n: usize) -> String {
    let mut chars = text.chars();
    let head: String = chars.by_ref().take(n).collect();
    if chars.next().is_some() {
        format!("{head}…")
    } else {
        head
    }
}

pub fn hit_view(labels: &Labels, payload: &str) -> Option<HitView> {
    let s: Stored = serde_json::from_str(payload).ok()?;
    let m = s.metadata;
    let (name, lang) = labels.either(&m.name, &m.name_en);
    let summary = if lang == "en" && !m.summary_en.trim().is_empty() {
        &m.summary_en
    } else if lang == "en" {
        // An English name over a Chinese summary would mislabel the summary's language.
        ""
    } else {
        &m.summary
    };
    Some(HitView {
        name,
        lang,
        summary: shorten(summary, 140),
        provider: labels.org(&s.provider.slug),
        provider_href: format!("/orgs/{}", s.provider.slug),
        domain: labels.domain(&m.domain),
        open_type: labels.named("open_type", m.open_type.as_str()),
        open_type_code: m.open_type.as_str().to_owned(),
        formats: m.formats.iter().map(|f| labels.format(f)).collect(),
        updated: s.updated_at.chars().take(10).collect(),
        id: s.id,
    })
}

/// Page numbers around the current one, so the list stays short however many pages there are.
fn pager(link: &SearchLink, current: usize, total: usize) -> Vec<PageLink> {
    let last = total.div_ceil(PER_PAGE).max(1);
    let from = current.saturating_sub(3).max(1);
    let to = (current + 3).min(last);
    (from..=to)
        .map(|n| PageLink {
            number: n,
            href: link.page(n),
            current: n == current,
        })
        .collect()
}

pub async fn search_page(
    State(state): State<AppState>,
    ctx: Ctx,
    RawQuery(raw): RawQuery,
) -> AppResult<Response> {
    let raw = raw.unwrap_or_default();
    let link = SearchLink::from_query(&raw);
    let page_param = form_urlencoded::parse(raw.as_bytes())
        .find(|(k, _)| k == "page")
        .map(|(_, v)| format!("&page={}", v.trim()))
        .unwrap_or_default();
    let defaults = SearchQuery {
        limit: PER_PAGE,
        facet_limit: 12,
        facet_fields: PAGE_FACETS.to_vec(),
        ..Default::default()
    };
    let SearchParams { query, page } =
        parse_params(&format!("{}{page_param}", link.encoded()), defaults)?;
    let text = query.text.clone();
    let sort = query.sort;
    let results = run(&state, query)?;
    let labels = Labels::load(&state, ctx.lang).await?;
    let pctx = PageCtx::new(&state, &ctx, &link.page(page));

    let hits = results
        .hits
        .iter()
        .filter_map(|h| hit_view(&labels, &h.payload))
        .collect();
    let facets = results
        .facets
        .iter()
        .filter(|(_, values)| !values.is_empty())
        .map(|(field, values)| {
            let key = facet_name(*field);
            FacetView {
                title: pctx.t(&format!("facet.{key}")),
                values: values
                    .iter()
                    .map(|(v, n)| FacetValueView {
                        label: labels.facet_value(*field, v),
                        count: *n,
                        href: link.toggled(key, v),
                        active: link.has(key, v),
                    })
                    .collect(),
            }
        })
        .collect();
    let mut active = Vec::new();
    let mut hidden = Vec::new();
    for (k, v) in &link.0 {
        if let Some(field) = facet_by_name(k) {
            active.push((labels.facet_value(field, v), link.toggled(k, v)));
            hidden.push((k.clone(), v.clone()));
        }
    }
    let sorts = [
        (Sort::Relevance, "relevance"),
        (Sort::Newest, "newest"),
        (Sort::MostUsed, "most_used"),
    ]
    .into_iter()
    .map(|(s, value)| ChoiceView {
        value,
        label: pctx.t(&format!("search.sort_{value}")),
        selected: s == sort,
    })
    .collect();
    let last = results.total.div_ceil(PER_PAGE).max(1);
    // A page past the last one (an old link, a hand-typed number) says so and leads back.
    let past_end = (results.hits.is_empty() && results.total > 0).then(|| PastEnd {
        message: pctx.tfs(
            "search.past_end",
            &[("page", page.to_string()), ("n", results.total.to_string())],
        ),
        last: link.page(last),
    });
    let view = SearchPage {
        past_end,
        text,
        total: results.total,
        hits,
        facets,
        active,
        hidden,
        sorts,
        pages: pager(&link, page, results.total),
        previous: (page > 1).then(|| link.page(page - 1)),
        next: (page < last).then(|| link.page(page + 1)),
        page: pctx,
    };
    html(StatusCode::OK, view)
}

pub struct PastEnd {
    message: String,
    last: String,
}

pub struct FactView {
    label: String,
    value: String,
    /// Where to read more, as (href, text): the terms of use lead to the data use agreement.
    more: Option<(String, String)>,
}

pub struct ItemView {
    name: String,
    label: String,
    field_type: String,
    unit: String,
    description: String,
}

pub struct RelationView {
    kind: String,
    name: String,
    href: Option<String>,
    note: String,
}

pub struct VersionView {
    version: i64,
    date: String,
    changes: String,
}

#[derive(Template)]
#[template(path = "dataset.html")]
struct DatasetPage<'a> {
    page: PageCtx<'a>,
    name: String,
    /// The language `name` is in.
    name_lang: &'static str,
    /// The Chinese name under an English one.
    name_zh: Option<String>,
    summary: String,
    summary_lang: &'static str,
    status: String,
    is_public: bool,
    provider: String,
    provider_href: String,
    domain: String,
    domain_href: String,
    keywords: Vec<(String, String)>,
    open_type_code: String,
    open_type: String,
    access_note: String,
    /// Where to apply, for a conditional entry on the open list (A18.2).
    apply_href: Option<String>,
    facts: Vec<FactView>,
    conditions: Vec<(String, String)>,
    materials: Vec<(String, String)>,
    items: Vec<ItemView>,
    relations: Vec<RelationView>,
    citation: String,
    versions: Vec<VersionView>,
    /// The entry's data, when it is open and published.
    data: Option<crate::data_view::DataSection>,
    /// A conditional entry's sample data, which anyone downloads (A22.1).
    sample: Option<SampleSection>,
}

/// The sample data of a conditional entry, as the public page shows it.
struct SampleSection {
    rows: i64,
    drawn: String,
    strata: String,
    seed: i64,
    downloads: Vec<(&'static str, String)>,
    columns: Vec<FidelityRow>,
}

/// One column of a sample against the whole.
struct FidelityRow {
    label: String,
    nulls: String,
    /// The distribution measure (KS for numbers, TVD for categories) and its threshold.
    measure: String,
    /// The measure drawn against its threshold: the threshold at 60 of 120.
    bar: u32,
    verdict: String,
    ok: bool,
}

async fn sample_section(
    state: &AppState,
    pctx: &PageCtx<'_>,
    d: &DatasetRecord,
) -> AppResult<Option<SampleSection>> {
    if d.meta.open_type != domain::openlist::vocab::OpenType::Conditional {
        return Ok(None);
    }
    let Some(s) = app::samples::current(&state.app, d).await? else {
        return Ok(None);
    };
    let Some(report) = app::samples::report_of(&s) else {
        return Ok(None);
    };
    let label = |name: &str| {
        d.meta
            .data_items
            .iter()
            .find(|i| i.name == name)
            .map_or_else(|| name.to_owned(), |i| i.label.clone())
    };
    let percent = |x: f64| format!("{:.1}%", x * 100.0);
    let t = report.thresholds;
    let columns = report
        .columns
        .iter()
        .map(|c| {
            // Measured against what it may reach at this sample's size.
            let (measure, value, limit) = match (c.ks, c.tvd) {
                (Some(k), _) => {
                    let limit = c.allowed.unwrap_or(t.max_ks);
                    (format!("KS {k:.3} / {limit:.2}"), k, limit)
                }
                (None, Some(v)) => {
                    let limit = c.allowed.unwrap_or(t.max_tvd);
                    (format!("TVD {v:.3} / {limit:.2}"), v, limit)
                }
                (None, None) => (String::new(), 0.0, 1.0),
            };
            FidelityRow {
                label: label(&c.column),
                nulls: format!(
                    "{} / {}",
                    percent(c.null_share_full),
                    percent(c.null_share_sample)
                ),
                bar: ((value / limit) * 60.0).clamp(0.0, 120.0) as u32,
                measure,
                verdict: pctx.t(if c.failed.is_empty() {
                    "sample.within"
                } else {
                    "sample.beyond"
                }),
                ok: c.failed.is_empty(),
            }
        })
        .collect();
    Ok(Some(SampleSection {
        rows: s.rows.unwrap_or(0),
        drawn: domain::clock::Timestamp(s.finished_at.unwrap_or(s.created_at))
            .to_cst()
            .format("%Y-%m-%d")
            .to_string(),
        strata: if report.strata.is_empty() {
            pctx.t("sample.simple")
        } else {
            report
                .strata
                .iter()
                .map(|s| label(s))
                .collect::<Vec<_>>()
                .join(&pctx.t("list.separator"))
        },
        seed: s.seed,
        downloads: ["csv", "json", "parquet"]
            .into_iter()
            .map(|f| {
                (
                    match f {
                        "csv" => "CSV",
                        "json" => "JSON",
                        _ => "Parquet",
                    },
                    format!("/datasets/{}/sample?format={f}", d.id),
                )
            })
            .collect(),
        columns,
    }))
}

/// The names of the top-level fields that differ between two versions, as people read them.
fn changed_fields(labels: &Labels, before: &DatasetMeta, after: &DatasetMeta) -> String {
    let mut fields: Vec<String> = Vec::new();
    for change in meta_changes(Some(before), after) {
        let top = change
            .path
            .split(['.', '['])
            .next()
            .unwrap_or_default()
            .to_owned();
        let label = labels.named("meta", &top);
        if !fields.contains(&label) {
            fields.push(label);
        }
    }
    fields.join(labels.messages().get(labels.lang(), "list.separator"))
}

pub async fn dataset_page(
    State(state): State<AppState>,
    ctx: Ctx,
    Extension(d): Extension<DatasetRecord>,
    Extension(org): Extension<OrgRecord>,
    RawQuery(raw): RawQuery,
) -> AppResult<Response> {
    // The preview's filter, sort and page; a query string that does not parse is no filter.
    let preview: crate::data_view::PreviewParams =
        serde_urlencoded::from_str(raw.as_deref().unwrap_or_default()).unwrap_or_default();
    if !can_see(&ctx, &d) {
        return Err(ErrorCode::NotFound.into());
    }
    crate::openlist::count_read(&ctx, &d, domain::usage::UsageKind::PageView);
    let labels = Labels::load(&state, ctx.lang).await?;
    let pctx = PageCtx::new(&state, &ctx, &format!("/datasets/{}", d.id));
    let m = &d.meta;
    let t = |key: &str| pctx.t(key);
    let none = t("dataset.not_stated");
    let or_none = |s: String| if s.trim().is_empty() { none.clone() } else { s };
    let sep = t("list.separator");

    let time_range = match (m.time_range.start, m.time_range.end) {
        (None, None) => none.clone(),
        (start, end) => format!(
            "{} – {}",
            start.map(|d| d.to_string()).unwrap_or_default(),
            end.map(|d| d.to_string())
                .unwrap_or_else(|| t("dataset.ongoing"))
        ),
    };
    let mut spatial: Vec<String> = m.spatial.areas.iter().map(|a| labels.area(a)).collect();
    if !m.spatial.note.is_empty() {
        spatial.push(m.spatial.note.clone());
    }
    let contact = [&m.contact.name, &m.contact.phone, &m.contact.email]
        .into_iter()
        .filter(|s| !s.is_empty())
        .cloned()
        .collect::<Vec<_>>()
        .join(" · ");
    let facts = [
        (
            "dataset.frequency",
            labels.named("frequency", m.update_frequency.as_str()),
        ),
        ("dataset.time_range", time_range),
        ("dataset.spatial", or_none(spatial.join(&sep))),
        (
            "dataset.formats",
            or_none(
                m.formats
                    .iter()
                    .map(|f| labels.format(f))
                    .collect::<Vec<_>>()
                    .join(&sep),
            ),
        ),
        ("dataset.license", or_none(m.license.clone())),
        ("meta.source", labels.named("source", m.source.as_str())),
        ("dataset.contact", or_none(contact)),
        (
            "dataset.version",
            d.published_version
                .map(|v| v.to_string())
                .unwrap_or_else(|| none.clone()),
        ),
        (
            "dataset.updated",
            d.updated_at.to_cst().format("%Y-%m-%d").to_string(),
        ),
    ]
    .into_iter()
    .chain((!m.source_note.is_empty()).then(|| ("meta.source_note", m.source_note.clone())))
    .map(|(key, value)| FactView {
        label: t(key),
        value,
        more: (key == "dataset.license")
            .then(|| ("/pages/terms".to_owned(), t("site_page.terms.title"))),
    })
    .collect();

    let mut relations = Vec::new();
    for r in &m.relations {
        let target = state.store.dataset(&r.dataset).await.ok();
        let (name, href) = match target {
            Some(t) if public(&t) => (t.meta.name.clone(), Some(format!("/datasets/{}", t.id))),
            _ => (pctx.t("dataset.relation_unavailable"), None),
        };
        relations.push(RelationView {
            kind: labels.named("relation", r.kind.as_str()),
            name,
            href,
            note: r.note.clone(),
        });
    }

    // Oldest first, so that each version is compared with the one it replaced.
    let mut history = state.store.dataset_versions(&d.id.to_string()).await?;
    history.sort_by_key(|v| v.version);
    let mut versions: Vec<VersionView> = history
        .iter()
        .enumerate()
        .map(|(i, v)| VersionView {
            version: v.version,
            date: v.published_at.to_cst().format("%Y-%m-%d").to_string(),
            changes: match i.checked_sub(1).and_then(|p| history.get(p)) {
                None => pctx.t("dataset.first_version"),
                Some(prev) => or_none(changed_fields(&labels, &prev.meta, &v.meta)),
            },
        })
        .collect();
    versions.reverse();

    let (name, name_lang) = labels.either(&m.name, &m.name_en);
    let (summary, summary_lang) = labels.either(&m.summary, &m.summary_en);
    let data = crate::data_view::section(&state, &ctx, &pctx, &d, &preview).await;
    let sample = sample_section(&state, &pctx, &d).await?;
    let view = DatasetPage {
        data,
        sample,
        name_zh: (name_lang == "en").then(|| m.name.clone()),
        name,
        name_lang,
        summary,
        summary_lang,
        status: labels.named("status", d.status.as_str()),
        is_public: public(&d),
        provider: labels.org(&org.slug),
        provider_href: format!("/orgs/{}", org.slug),
        domain: labels.domain(&m.domain),
        domain_href: format!("/domains/{}", m.domain),
        keywords: m
            .keywords
            .iter()
            .map(|k| (k.clone(), SearchLink::only("tag", k)))
            .collect(),
        open_type_code: m.open_type.as_str().to_owned(),
        open_type: labels.named("open_type", m.open_type.as_str()),
        access_note: pctx.t(&format!("dataset.access_{}", m.open_type.as_str())),
        apply_href: super::applications::applies(&d)
            .then(|| format!("/applications/new?dataset={}", d.id)),
        facts,
        conditions: m
            .conditions
            .iter()
            .map(|c| (labels.named("condition", c.kind.as_str()), c.text.clone()))
            .collect(),
        materials: m
            .materials
            .iter()
            .map(|x| (x.name.clone(), x.description.clone()))
            .collect(),
        items: m
            .data_items
            .iter()
            .map(|i| ItemView {
                name: i.name.clone(),
                label: i.label.clone(),
                field_type: labels.named("field_type", i.field_type.as_str()),
                unit: i.unit.clone(),
                description: i.description.clone(),
            })
            .collect(),
        relations,
        citation: citation(&state, &d, &org),
        versions,
        page: pctx,
    };
    html(StatusCode::OK, view)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_keep_the_search_and_change_one_thing() {
        let link =
            SearchLink::from_query("q=%E5%85%AC%E4%BA%A4&domain=transport&page=3&utm=x&format=");
        assert_eq!(
            link.href(),
            "/datasets?q=%E5%85%AC%E4%BA%A4&domain=transport"
        );
        assert_eq!(
            link.page(2),
            "/datasets?q=%E5%85%AC%E4%BA%A4&domain=transport&page=2"
        );
        assert_eq!(link.page(1), link.href());
        assert_eq!(
            link.toggled("domain", "transport"),
            "/datasets?q=%E5%85%AC%E4%BA%A4"
        );
        assert_eq!(
            link.toggled("open_type", "conditional"),
            "/datasets?q=%E5%85%AC%E4%BA%A4&domain=transport&open_type=conditional"
        );
        assert_eq!(SearchLink::default().href(), "/datasets");
    }

    #[test]
    fn the_pager_shows_pages_around_the_current_one() {
        let link = SearchLink::default();
        let numbers = |current, total| -> Vec<usize> {
            pager(&link, current, total)
                .iter()
                .map(|p| p.number)
                .collect()
        };
        assert_eq!(numbers(1, 0), [1]);
        assert_eq!(numbers(1, 45), [1, 2, 3]);
        assert_eq!(numbers(10, 1000), [7, 8, 9, 10, 11, 12, 13]);
        assert_eq!(numbers(50, 1000), [47, 48, 49, 50]);
    }

    #[test]
    fn long_summaries_are_cut_at_characters_not_bytes() {
        assert_eq!(shorten("公共数据开放", 4), "公共数据…");
        assert_eq!(shorten("公共", 4), "公共");
    }
}

#[derive(Template)]
#[template(path = "listing.html")]
struct ListingPage<'a> {
    page: PageCtx<'a>,
    title: String,
    lead: String,
    total: usize,
    /// Sections of counts, each under its heading, with its chart (SVG).
    counts: Vec<(String, Vec<CountRow>, String)>,
    newest: Vec<HitView>,
    all_href: String,
}

/// A page for one filter value (a provider, a domain): its counts, its newest entries, and a
/// link to the full search.
async fn listing(
    state: &AppState,
    ctx: &Ctx,
    path: &str,
    filter: (FacetField, &str),
    title: String,
    lead: String,
    breakdown: &[FacetField],
) -> AppResult<Response> {
    let mut facet_fields = vec![FacetField::OpenType];
    facet_fields.extend_from_slice(breakdown);
    let q = SearchQuery {
        filters: vec![(filter.0, filter.1.to_owned())],
        sort: Sort::Newest,
        limit: PER_PAGE,
        facet_fields,
        facet_limit: 50,
        ..Default::default()
    };
    let results = run(state, q)?;
    let labels = Labels::load(state, ctx.lang).await?;
    let pctx = PageCtx::new(state, ctx, path);
    let key = facet_name(filter.0);
    let counts = results
        .facets
        .iter()
        .map(|(field, values)| {
            let heading = pctx.t(&format!("facet.{}", facet_name(*field)));
            let rows = values
                .iter()
                .map(|(v, n)| {
                    let link = SearchLink(vec![
                        (key.to_owned(), filter.1.to_owned()),
                        (facet_name(*field).to_owned(), v.clone()),
                    ]);
                    CountRow {
                        label: labels.facet_value(*field, v),
                        count: *n,
                        href: link.href(),
                    }
                })
                .collect::<Vec<_>>();
            let chart = charts::bars(&CountRow::pairs(&rows), charts::BLUE);
            (heading, rows, chart)
        })
        .collect();
    let view = ListingPage {
        title,
        lead,
        total: results.total,
        counts,
        newest: results
            .hits
            .iter()
            .filter_map(|h| hit_view(&labels, &h.payload))
            .collect(),
        all_href: SearchLink::only(key, filter.1),
        page: pctx,
    };
    html(StatusCode::OK, view)
}

/// A data provider's page: who it is and what it opens.
pub async fn provider_page(
    State(state): State<AppState>,
    ctx: Ctx,
    Extension(org): Extension<OrgRecord>,
) -> AppResult<Response> {
    let labels = Labels::load(&state, ctx.lang).await?;
    let title = labels.org(&org.slug);
    let lead = labels.named("org.kind", org.kind.as_str());
    let path = format!("/orgs/{}", org.slug);
    let breakdown = [FacetField::Domain, FacetField::Format];
    listing(
        &state,
        &ctx,
        &path,
        (FacetField::Provider, &org.slug),
        title,
        lead,
        &breakdown,
    )
    .await
}

/// A domain's page: what is open in it, and who provides it.
pub async fn domain_page(
    State(state): State<AppState>,
    ctx: Ctx,
    axum::extract::Path(code): axum::extract::Path<String>,
) -> AppResult<Response> {
    let domains = state.store.domains().await?;
    let domain = domains
        .iter()
        .find(|d| d.code == code)
        .ok_or(ErrorCode::NotFound)?;
    let title = match ctx.lang {
        crate::i18n::Lang::Zh => domain.name_zh.clone(),
        crate::i18n::Lang::En => domain.name_en.clone(),
    };
    let lead = state
        .messages
        .get(ctx.lang, &format!("domain_group.{}", domain.domain_group))
        .to_owned();
    let path = format!("/domains/{code}");
    let breakdown = [FacetField::Provider, FacetField::Format];
    listing(
        &state,
        &ctx,
        &path,
        (FacetField::Domain, &code),
        title,
        lead,
        &breakdown,
    )
    .await
}
