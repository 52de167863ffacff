//! An open-list entry's metadata (A9.1), as providers write it and as versions keep it.

use serde::{Deserialize, Serialize};

use super::classification::Grading;
use super::rules::ItemRules;
use super::vocab::{
    ConditionKind, EntrySource, FieldType, OpenType, RelationKind, UpdateFrequency,
};

/// Everything A9.1 asks an entry to state. Stored as one JSON document per version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DatasetMeta {
    pub name: String,
    #[serde(default)]
    pub summary: String,
    /// The name in English, for visitors who read no Chinese: shown on the English pages and
    /// searched. Optional.
    #[serde(default)]
    pub name_en: String,
    /// The summary in English. Optional.
    #[serde(default)]
    pub summary_en: String,
    /// A code of the managed domain vocabulary.
    pub domain: String,
    #[serde(default)]
    pub keywords: Vec<String>,
    #[serde(default)]
    pub data_items: Vec<DataItem>,
    /// Codes of the managed format vocabulary.
    #[serde(default)]
    pub formats: Vec<String>,
    pub open_type: OpenType,
    /// The level chosen for each dimension of the classification guide.
    #[serde(default)]
    pub grading: Grading,
    /// For conditional entries: the conditions of A15, published on the dataset page.
    #[serde(default)]
    pub conditions: Vec<OpenCondition>,
    /// For conditional entries: the materials an application must include (A18.1).
    #[serde(default)]
    pub materials: Vec<RequiredMaterial>,
    pub update_frequency: UpdateFrequency,
    #[serde(default)]
    pub time_range: TimeRange,
    #[serde(default)]
    pub spatial: SpatialRange,
    #[serde(default)]
    pub relations: Vec<Relation>,
    #[serde(default)]
    pub contact: Contact,
    #[serde(default)]
    pub license: String,
    /// Where the data comes from (A10.3).
    #[serde(default)]
    pub source: EntrySource,
    /// How the data was prepared: for de-identified data, the method and the grading it was
    /// checked against (A12.1).
    #[serde(default)]
    pub source_note: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DataItem {
    /// The machine name of the field, as in the files and APIs.
    pub name: String,
    /// The Chinese label people read.
    pub label: String,
    pub field_type: FieldType,
    #[serde(default)]
    pub unit: String,
    #[serde(default)]
    pub description: String,
    /// The public data catalogue item (目录) this field comes from (A9.5).
    #[serde(default)]
    pub catalogue_item: Option<String>,
    /// What the quality gate checks in the values beyond their type (A16.1).
    #[serde(default, skip_serializing_if = "ItemRules::is_empty")]
    pub rules: ItemRules,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OpenCondition {
    pub kind: ConditionKind,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RequiredMaterial {
    pub name: String,
    #[serde(default)]
    pub description: String,
}

/// Dates as `YYYY-MM-DD`; an open end means "up to now".
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TimeRange {
    #[serde(default)]
    pub start: Option<chrono::NaiveDate>,
    #[serde(default)]
    pub end: Option<chrono::NaiveDate>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SpatialRange {
    /// Codes of [`super::vocab::SHANGHAI_AREAS`].
    #[serde(default)]
    pub areas: Vec<String>,
    /// Free text: a street, a park, "沿江地区"...
    #[serde(default)]
    pub note: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Relation {
    pub kind: RelationKind,
    /// The related dataset's id.
    pub dataset: String,
    #[serde(default)]
    pub note: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Contact {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub phone: String,
    #[serde(default)]
    pub email: String,
}

/// Metadata the public never sees (docs/decisions/0009-what-the-public-sees.md): the levels an
/// entry was graded at are the provider's and the operator's working knowledge — that a dataset
/// is 重要数据, say — and the rules ask only that the resulting open type and its conditions be
/// published (A14, A15). Everything else of A9.1 is public.
pub const INTERNAL_FIELDS: &[&str] = &["grading"];

impl DatasetMeta {
    /// The metadata as the public may read it: without [`INTERNAL_FIELDS`].
    pub fn public_json(&self) -> serde_json::Value {
        let mut v = serde_json::to_value(self).unwrap_or_default();
        if let Some(map) = v.as_object_mut() {
            for field in INTERNAL_FIELDS {
                map.remove(*field);
            }
        }
        v
    }

    /// Place names the entry itself declares, which a name may use.
    pub fn declared_places(&self) -> Vec<&str> {
        let mut places: Vec<&str> = self
            .spatial
            .areas
            .iter()
            .filter_map(|c| super::vocab::area(c).map(|(_, zh, _)| zh))
            .collect();
        if !self.spatial.note.trim().is_empty() {
            places.push(self.spatial.note.trim());
        }
        places
    }
}
