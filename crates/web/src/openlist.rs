//! How the web layer shows an open-list entry: who sees it, and its JSON for the APIs.

use domain::ids::{DatasetId, OrgId};
use domain::openlist::dataset::DatasetMeta;
use domain::openlist::vocab::DatasetStatus;
use domain::policy::{Action, Resource};
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::Value;
use store::datasets::DatasetRecord;
use store::orgs::OrgRecord;

use crate::contract::Rfc3339;
use crate::ctx::Ctx;
use crate::state::AppState;

pub use app::openlist::public;

/// Whether `ctx` may see the entry at all, as the policy says.
pub fn can_see(ctx: &Ctx, d: &DatasetRecord) -> bool {
    ctx.authorize(Action::ViewPublic, Resource::Dataset(d.facts()))
        .is_ok()
}

/// Notes a read of a public entry for the usage log (see `crate::meter`): logged once the
/// answer is sent, never waiting, never failing the read.
pub fn count_read(ctx: &Ctx, d: &DatasetRecord, kind: domain::usage::UsageKind) {
    if d.facts().is_public() {
        ctx.meter.note(kind, d.id.to_string());
    }
}

/// A citation for outcomes built on the entry (A29.3), after GB/T 7714-2015 for datasets: the
/// year is that of the version cited, the one the page shows as its 更新日期.
pub fn citation(state: &AppState, d: &DatasetRecord, org: &OrgRecord) -> String {
    let year = d.updated_at.to_cst().format("%Y");
    format!(
        "{}. {}[DS]. 上海: 上海市公共数据开放平台, {}. {}/datasets/{}",
        org.name_zh,
        d.meta.name,
        year,
        state.config.public_url.trim_end_matches('/'),
        d.id
    )
}

/// An open-list entry as the APIs answer it.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct DatasetView {
    pub id: DatasetId,
    pub status: DatasetStatus,
    /// The published version in force; none while a draft.
    pub version: Option<i64>,
    pub provider: ProviderRef,
    /// The public view leaves out what is internal to providers (`grading`).
    #[schemars(with = "DatasetMeta")]
    pub metadata: Value,
    pub guide_version: i64,
    /// How to cite the entry (A29.3).
    pub citation: String,
    pub created_at: Rfc3339,
    pub updated_at: Rfc3339,
    pub last_reviewed_at: Option<Rfc3339>,
    /// The data published now: its version, rows, size and time (A9.4, A10.2).
    pub data: Option<DataView>,
}

/// An entry's current data, as its description gives it.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct DataView {
    pub version: i64,
    pub rows: i64,
    /// Bytes of its Parquet file.
    pub size: i64,
    pub published_at: Rfc3339,
    /// Whether anyone may read it (unconditional data, open now).
    pub open: bool,
}

impl DatasetView {
    pub fn to_json(&self) -> Value {
        serde_json::to_value(self).unwrap_or_default()
    }
}

/// The organization an entry or a ticket belongs to.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ProviderRef {
    pub id: OrgId,
    pub slug: String,
    pub name_zh: String,
    pub name_en: String,
}

impl ProviderRef {
    pub fn of(org: &OrgRecord) -> Self {
        ProviderRef {
            id: org.id,
            slug: org.slug.clone(),
            name_zh: org.name_zh.clone(),
            name_en: org.name_en.clone(),
        }
    }
}

/// An entry as the public reads it: its metadata without the fields kept internal.
pub fn public_dataset_json(state: &AppState, d: &DatasetRecord, org: &OrgRecord) -> DatasetView {
    let mut v = dataset_json(state, d, org);
    v.metadata = d.meta.public_json();
    v
}

/// An entry as `ctx` may read it: whole for its provider's members and the platform's staff
/// who see providers' internals, the public view for everyone else.
pub fn dataset_json_for(
    ctx: &Ctx,
    state: &AppState,
    d: &DatasetRecord,
    org: &OrgRecord,
) -> DatasetView {
    if sees_internals(ctx, d) {
        dataset_json(state, d, org)
    } else {
        public_dataset_json(state, d, org)
    }
}

/// Whether `ctx` may see what of `d` is internal to its provider.
pub fn sees_internals(ctx: &Ctx, d: &DatasetRecord) -> bool {
    ctx.authorize(Action::ViewOrgInternal, Resource::Dataset(d.facts()))
        .is_ok()
}

/// An entry whole, internal fields included: for its provider and the platform's staff.
pub fn dataset_json(state: &AppState, d: &DatasetRecord, org: &OrgRecord) -> DatasetView {
    DatasetView {
        id: d.id,
        status: d.status,
        version: d.published_version,
        provider: ProviderRef::of(org),
        metadata: serde_json::to_value(&d.meta).unwrap_or_default(),
        guide_version: d.guide_version,
        citation: citation(state, d, org),
        created_at: d.created_at.into(),
        updated_at: d.updated_at.into(),
        last_reviewed_at: Rfc3339::of(d.last_reviewed_at),
        data: d.data.as_ref().map(|s| DataView {
            version: s.number,
            rows: s.rows,
            size: s.size,
            published_at: domain::clock::Timestamp(s.published_at).into(),
            open: d.facts().serves_open_data(),
        }),
    }
}
