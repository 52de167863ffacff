//! The index's fields and analyzers.

use tantivy::schema::{
    FAST, Facet, FacetOptions, Field, INDEXED, IndexRecordOption, STORED, STRING, Schema,
    TantivyDocument, TextFieldIndexing, TextOptions,
};
use tantivy::tokenizer::{LowerCaser, NgramTokenizer, RemoveLongFilter, TextAnalyzer};
use tantivy::{Index, doc};

use crate::SearchDoc;

/// The fields a search can be filtered and counted by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FacetField {
    Domain,
    Provider,
    OpenType,
    Format,
    UpdateFrequency,
    Area,
    Tag,
    Licence,
}

impl FacetField {
    pub const ALL: &'static [FacetField] = &[
        FacetField::Domain,
        FacetField::Provider,
        FacetField::OpenType,
        FacetField::Format,
        FacetField::UpdateFrequency,
        FacetField::Area,
        FacetField::Tag,
        FacetField::Licence,
    ];
}

/// Chinese words (jieba, search mode: long words also as their parts), lower-cased.
pub const WORDS: &str = "kf_words";
/// Pairs of characters, for partial words and typos.
pub const GRAMS: &str = "kf_grams";
/// English words, lower-cased and stemmed (tantivy's own English analyzer).
pub const ENGLISH: &str = "en_stem";

#[derive(Clone, Copy)]
pub struct Fields {
    pub id: Field,
    pub payload: Field,
    pub ckan_payload: Field,
    pub name: Field,
    pub name_grams: Field,
    /// Pinyin spellings of the name, each one term.
    pub name_pinyin: Field,
    pub name_en: Field,
    pub summary_en: Field,
    pub title_sort: Field,
    pub summary: Field,
    pub keywords: Field,
    pub field_labels: Field,
    pub provider: Field,
    pub domain: Field,
    pub provider_slug: Field,
    pub open_type: Field,
    pub formats: Field,
    pub update_frequency: Field,
    pub areas: Field,
    pub tags: Field,
    pub licence: Field,
    pub published_at: Field,
    pub usage: Field,
}

fn text(tokenizer: &str) -> TextOptions {
    TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(tokenizer)
            .set_index_option(IndexRecordOption::WithFreqsAndPositions),
    )
}

pub fn build() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let facet = FacetOptions::default();
    let fields = Fields {
        id: b.add_text_field("id", STRING | STORED | FAST),
        payload: b.add_text_field("payload", STORED),
        ckan_payload: b.add_text_field("ckan_payload", STORED),
        name: b.add_text_field("name", text(WORDS)),
        // The whole name as one term, for sorting by title.
        title_sort: b.add_text_field("title_sort", STRING | FAST),
        name_grams: b.add_text_field("name_grams", text(GRAMS)),
        name_pinyin: b.add_text_field("name_pinyin", text("raw")),
        name_en: b.add_text_field("name_en", text(ENGLISH)),
        summary_en: b.add_text_field("summary_en", text(ENGLISH)),
        summary: b.add_text_field("summary", text(WORDS)),
        keywords: b.add_text_field("keywords", text(WORDS)),
        field_labels: b.add_text_field("field_labels", text(WORDS)),
        provider: b.add_text_field("provider", text(WORDS)),
        domain: b.add_facet_field("f_domain", facet.clone()),
        provider_slug: b.add_facet_field("f_provider", facet.clone()),
        open_type: b.add_facet_field("f_open_type", facet.clone()),
        formats: b.add_facet_field("f_format", facet.clone()),
        update_frequency: b.add_facet_field("f_update_frequency", facet.clone()),
        areas: b.add_facet_field("f_area", facet.clone()),
        tags: b.add_facet_field("f_tag", facet.clone()),
        licence: b.add_facet_field("f_licence", facet),
        published_at: b.add_i64_field("published_at", INDEXED | FAST),
        usage: b.add_i64_field("usage", INDEXED | FAST),
    };
    (b.build(), fields)
}

pub fn register_tokenizers(index: &Index) -> tantivy::Result<()> {
    let words = TextAnalyzer::builder(tantivy_jieba::JiebaTokenizer::with_search_mode(true))
        .filter(RemoveLongFilter::limit(64))
        .filter(LowerCaser)
        .build();
    let grams = TextAnalyzer::builder(NgramTokenizer::new(2, 2, false)?)
        .filter(LowerCaser)
        .build();
    index.tokenizers().register(WORDS, words);
    index.tokenizers().register(GRAMS, grams);
    Ok(())
}

/// A facet value: one path segment under the root. Slashes in values are replaced, as a facet
/// path cannot hold them.
pub fn facet_value(value: &str) -> Facet {
    Facet::from_path([value.replace('/', "\u{2215}")])
}

impl Fields {
    pub fn facet(&self, f: FacetField) -> Field {
        match f {
            FacetField::Domain => self.domain,
            FacetField::Provider => self.provider_slug,
            FacetField::OpenType => self.open_type,
            FacetField::Format => self.formats,
            FacetField::UpdateFrequency => self.update_frequency,
            FacetField::Area => self.areas,
            FacetField::Tag => self.tags,
            FacetField::Licence => self.licence,
        }
    }

    /// The schema name of a facet field.
    pub fn name_of(&self, f: Field) -> &'static str {
        match f {
            f if f == self.domain => "f_domain",
            f if f == self.provider_slug => "f_provider",
            f if f == self.open_type => "f_open_type",
            f if f == self.formats => "f_format",
            f if f == self.update_frequency => "f_update_frequency",
            f if f == self.areas => "f_area",
            f if f == self.licence => "f_licence",
            _ => "f_tag",
        }
    }

    pub fn document(&self, d: &SearchDoc) -> TantivyDocument {
        let mut doc = doc!(
            self.id => d.id.as_str(),
            self.payload => d.payload.as_str(),
            self.ckan_payload => d.ckan_payload.as_str(),
            self.name => d.name.as_str(),
            self.name_grams => d.name.as_str(),
            self.title_sort => d.name.as_str(),
            self.summary => d.summary.as_str(),
            self.name_en => d.name_en.as_str(),
            self.summary_en => d.summary_en.as_str(),
            self.provider => d.provider_name.as_str(),
            self.domain => facet_value(&d.domain),
            self.provider_slug => facet_value(&d.provider_slug),
            self.open_type => facet_value(&d.open_type),
            self.update_frequency => facet_value(&d.update_frequency),
            self.licence => facet_value(&d.licence),
            self.published_at => d.published_at,
            self.usage => d.usage,
        );
        for spelling in crate::pinyin::spellings(&d.name) {
            doc.add_text(self.name_pinyin, spelling);
        }
        for k in &d.keywords {
            doc.add_text(self.keywords, k);
            doc.add_facet(self.tags, facet_value(k));
        }
        for l in &d.field_labels {
            doc.add_text(self.field_labels, l);
        }
        for f in &d.formats {
            doc.add_facet(self.formats, facet_value(f));
        }
        for a in &d.areas {
            doc.add_facet(self.areas, facet_value(a));
        }
        doc
    }
}
