//! The search index of the open list (A25.3): tantivy with Chinese word segmentation (jieba),
//! BM25 over names, summaries, keywords, field labels and providers, facets, three sort orders.
//!
//! The index is derived data. The database numbers every change of an entry (`change_seq`);
//! the index records, in its commit payload, the last number it has applied. A node whose index
//! is missing or stale rebuilds or catches up from the database, so the index never drifts.

mod collect;
mod facets;
mod pinyin;
mod query;
mod schema;

use std::path::Path;
use std::sync::{Arc, Mutex};

use tantivy::directory::MmapDirectory;
use tantivy::schema::Field;
use tantivy::schema::document::{DeserializeError, DocumentDeserialize, DocumentDeserializer};
use tantivy::{Index, IndexReader, IndexWriter, ReloadPolicy, Term};

pub use query::{Clause, Criterion, SearchQuery, Sort};
pub use schema::FacetField;
use schema::Fields;

#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    #[error(transparent)]
    Tantivy(#[from] tantivy::TantivyError),
    #[error("cannot open the index directory: {0}")]
    Directory(String),
}

pub type Result<T, E = SearchError> = std::result::Result<T, E>;

/// What the index knows of one public entry.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SearchDoc {
    pub id: String,
    pub name: String,
    pub summary: String,
    /// The name and summary in English, when the provider gave them.
    pub name_en: String,
    pub summary_en: String,
    pub keywords: Vec<String>,
    pub field_labels: Vec<String>,
    pub provider_slug: String,
    pub provider_name: String,
    pub domain: String,
    pub open_type: String,
    pub formats: Vec<String>,
    pub update_frequency: String,
    pub areas: Vec<String>,
    pub licence: String,
    /// Milliseconds since the epoch of the last published change: "newest" sorts on it.
    pub published_at: i64,
    /// Downloads and API calls: "most used" sorts on it.
    pub usage: i64,
    /// What a hit returns, stored as given (the entry's public JSON), so that answering a
    /// search needs no database.
    pub payload: String,
    /// The same entry as a CKAN package dict, for the CKAN-compatible API.
    pub ckan_payload: String,
}

/// One change to apply: an entry to (re)index, or one that is no longer public.
#[derive(Debug, Clone)]
pub enum Change {
    Upsert(Box<SearchDoc>),
    Remove(String),
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Hit {
    pub id: String,
    pub score: f32,
    pub payload: String,
    pub ckan_payload: String,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct SearchResults {
    pub total: usize,
    pub hits: Vec<Hit>,
    /// For each asked facet field: (value, count), most frequent first.
    pub facets: Vec<(FacetField, Vec<(String, u64)>)>,
}

pub struct SearchIndex {
    index: Index,
    reader: IndexReader,
    writer: Mutex<IndexWriter>,
    fields: Fields,
    /// Answers to recent queries, valid until the next commit (which empties it): popular
    /// searches and the plain listing repeat far more often than the open list changes.
    cache: moka::sync::Cache<String, Arc<SearchResults>>,
    facet_tables: facets::FacetTables,
}

/// The most the answer cache holds, counted in the bytes of its answers (a page of 1000 whole
/// entries weighs megabytes, the plain listing's first page a few kilobytes).
const CACHE_BYTES: u64 = 64 * 1024 * 1024;

/// What an answer weighs in the cache: its text, roughly.
fn answer_weight(key: &str, r: &Arc<SearchResults>) -> u32 {
    let hits: usize = r
        .hits
        .iter()
        .map(|h| h.id.len() + h.payload.len() + h.ckan_payload.len() + 32)
        .sum();
    let facets: usize = r
        .facets
        .iter()
        .flat_map(|(_, values)| values.iter().map(|(v, _)| v.len() + 16))
        .sum();
    u32::try_from(key.len() + hits + facets + 64).unwrap_or(u32::MAX)
}

/// Stored documents are compressed in blocks of about this many bytes. A hit decompresses its
/// whole block, and an entry's stored JSON is several kilobytes: blocks of one or two entries
/// halve what a page of hits decompresses against tantivy's 16 KB, for a fifth more index.
const STORE_BLOCK: usize = 8192;

fn builder(schema: tantivy::schema::Schema) -> tantivy::IndexBuilder {
    Index::builder()
        .schema(schema)
        .settings(tantivy::IndexSettings {
            docstore_blocksize: STORE_BLOCK,
            ..Default::default()
        })
}

/// Memory the writer may use before it flushes a segment.
const WRITER_HEAP: usize = 50_000_000;

impl SearchIndex {
    /// Opens the index in `dir`, or creates an empty one (applied change 0) when it is missing
    /// or was built with another schema.
    pub fn open_or_create(dir: &Path) -> Result<Self> {
        std::fs::create_dir_all(dir).map_err(|e| SearchError::Directory(e.to_string()))?;
        let (schema, fields) = schema::build();
        let mmap = MmapDirectory::open(dir).map_err(|e| SearchError::Directory(e.to_string()))?;
        let index = match builder(schema.clone()).open_or_create(mmap) {
            Ok(index) => index,
            Err(tantivy::TantivyError::SchemaError(_)) => {
                tracing::warn!("search index has an old schema; rebuilding it");
                for entry in
                    std::fs::read_dir(dir).map_err(|e| SearchError::Directory(e.to_string()))?
                {
                    let path = entry
                        .map_err(|e| SearchError::Directory(e.to_string()))?
                        .path();
                    let _ = if path.is_dir() {
                        std::fs::remove_dir_all(&path)
                    } else {
                        std::fs::remove_file(&path)
                    };
                }
                let mmap =
                    MmapDirectory::open(dir).map_err(|e| SearchError::Directory(e.to_string()))?;
                builder(schema).open_or_create(mmap)?
            }
            Err(e) => return Err(e.into()),
        };
        Self::from_index(index, fields)
    }

    /// An index in memory, for tests.
    pub fn in_memory() -> Result<Self> {
        let (schema, fields) = schema::build();
        Self::from_index(builder(schema).create_in_ram()?, fields)
    }

    fn from_index(index: Index, fields: Fields) -> Result<Self> {
        schema::register_tokenizers(&index)?;
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        let writer = index.writer(WRITER_HEAP)?;
        Ok(Self {
            index,
            reader,
            writer: Mutex::new(writer),
            fields,
            cache: moka::sync::Cache::builder()
                .max_capacity(CACHE_BYTES)
                .weigher(|k: &String, v| answer_weight(k, v))
                .build(),
            facet_tables: facets::FacetTables::default(),
        })
    }

    /// The last database change this index has applied.
    pub fn applied_seq(&self) -> Result<i64> {
        let metas = self.index.load_metas()?;
        Ok(metas.payload.and_then(|p| p.parse().ok()).unwrap_or(0))
    }

    /// Applies `changes` and records `up_to` as applied, in one commit.
    pub fn apply(&self, changes: &[Change], up_to: i64) -> Result<()> {
        let mut writer = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        for change in changes {
            let id = match change {
                Change::Upsert(d) => &d.id,
                Change::Remove(id) => id,
            };
            writer.delete_term(Term::from_field_text(self.fields.id, id));
            if let Change::Upsert(d) = change {
                writer.add_document(self.fields.document(d))?;
            }
        }
        let mut commit = writer.prepare_commit()?;
        commit.set_payload(&up_to.to_string());
        commit.commit()?;
        drop(writer);
        self.reload()?;
        Ok(())
    }

    /// Drops every document and the applied mark: the next catch-up rebuilds from scratch.
    pub fn clear(&self) -> Result<()> {
        let mut writer = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        writer.delete_all_documents()?;
        let mut commit = writer.prepare_commit()?;
        commit.set_payload("0");
        commit.commit()?;
        drop(writer);
        self.reload()?;
        Ok(())
    }

    /// Merges every segment into one. Worth it after a large catch-up (a rebuild): a search
    /// then walks one segment instead of many.
    pub fn merge_segments(&self) -> Result<()> {
        let ids = self.index.searchable_segment_ids()?;
        if ids.len() > 1 {
            let mut writer = self.writer.lock().unwrap_or_else(|p| p.into_inner());
            writer.merge(&ids).wait()?;
            drop(writer);
            self.reload()?;
        }
        Ok(())
    }

    pub fn segments(&self) -> usize {
        self.reader.searcher().segment_readers().len()
    }

    pub fn num_docs(&self) -> u64 {
        self.reader.searcher().num_docs()
    }

    /// One pass over the matching documents collects the count, the page of hits and every
    /// asked facet. Entries with every word of the query are looked for first; when there are
    /// none, entries with any of them; when there are none either, pairs of characters, so
    /// parts of words and typos still find something.
    pub fn search(&self, q: &SearchQuery) -> Result<Arc<SearchResults>> {
        use query::Pass;
        let key = q.cache_key();
        if let Some(hit) = self.cache.get(&key) {
            return Ok(hit);
        }
        let mut results = self.search_with(q, Pass::AllWords)?;
        if results.total == 0 && !q.text.trim().is_empty() {
            if query::words(&self.index, &q.text).len() > 1 {
                results = self.search_with(q, Pass::AnyWord)?;
            }
            if results.total == 0 {
                results = self.search_with(q, Pass::Grams)?;
            }
        }
        let results = Arc::new(results);
        self.cache.insert(key, results.clone());
        Ok(results)
    }

    /// Makes the last commit visible to searches, and forgets what only held for the one before.
    fn reload(&self) -> Result<()> {
        self.reader.reload()?;
        self.cache.invalidate_all();
        let live: Vec<_> = self
            .reader
            .searcher()
            .segment_readers()
            .iter()
            .map(|s| s.segment_id())
            .collect();
        self.facet_tables.keep_only(&live);
        Ok(())
    }

    fn search_with(&self, q: &SearchQuery, pass: query::Pass) -> Result<SearchResults> {
        use collect::Direction::{Ascending, Descending};
        let searcher = self.reader.searcher();
        let query = query::build(&self.index, &self.fields, q, pass)?;
        let gather = collect::Gather {
            rank: match q.sort {
                Sort::Relevance => collect::Rank::Score,
                Sort::Newest => collect::Rank::Field("published_at", Descending),
                Sort::Oldest => collect::Rank::Field("published_at", Ascending),
                Sort::MostUsed => collect::Rank::Field("usage", Descending),
                Sort::IdAsc => collect::Rank::Text("id", Ascending),
                Sort::IdDesc => collect::Rank::Text("id", Descending),
                Sort::TitleAsc => collect::Rank::Text("title_sort", Ascending),
                Sort::TitleDesc => collect::Rank::Text("title_sort", Descending),
            },
            offset: q.offset,
            limit: q.limit,
            tables: &self.facet_tables,
            facets: q
                .facet_fields
                .iter()
                .map(|&field| self.fields.name_of(self.fields.facet(field)))
                .collect(),
            facet_limit: q.facet_limit,
            segments: searcher.segment_readers().len(),
        };
        let gathered = searcher.search(&query, &gather)?;

        let mut hits = Vec::with_capacity(gathered.page.len());
        for (score, address) in gathered.page {
            let StoredStrings(stored) = searcher.doc(address)?;
            let mut hit = Hit {
                score,
                ..Hit::default()
            };
            for (field, text) in stored {
                match field {
                    f if f == self.fields.id => hit.id = text,
                    f if f == self.fields.payload => hit.payload = text,
                    f if f == self.fields.ckan_payload => hit.ckan_payload = text,
                    _ => {}
                }
            }
            hits.push(hit);
        }
        Ok(SearchResults {
            total: gathered.total,
            hits,
            facets: q
                .facet_fields
                .iter()
                .copied()
                .zip(gathered.facets)
                .collect(),
        })
    }
}

/// A document's stored fields (all of them text), read straight into strings: no intermediate
/// document is built, and each stored JSON is copied once out of its decompressed block.
struct StoredStrings(Vec<(Field, String)>);

impl DocumentDeserialize for StoredStrings {
    fn deserialize<'de, D: DocumentDeserializer<'de>>(
        mut deserializer: D,
    ) -> Result<Self, DeserializeError> {
        let mut fields = Vec::with_capacity(deserializer.size_hint());
        while let Some(field) = deserializer.next_field::<String>()? {
            fields.push(field);
        }
        Ok(Self(fields))
    }
}

#[cfg(test)]
mod tests;
