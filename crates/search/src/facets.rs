//! Facet counts from tables of term ordinals held in memory.
//!
//! tantivy's `FacetCollector` serves hierarchies: on every query it maps the whole facet
//! dictionary of a segment to the asked parents, decodes each matching document's ordinals from
//! the columnar store and turns every counted ordinal back into text. Our facets are flat (one
//! level under the root), so a segment's facet column can be read once into two plain arrays —
//! each document's ordinals, and each ordinal's value — and a search then counts with two array
//! reads per document and looks up no text at all. At 100,000 entries the tables of all seven
//! facet fields take a few megabytes. A segment's documents never change (deletions are left to
//! the collector's alive set), so a table is good for as long as its segment exists.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tantivy::collector::{Collector, SegmentCollector};
use tantivy::index::SegmentId;
use tantivy::schema::Facet;
use tantivy::{DocId, Score, SegmentOrdinal, SegmentReader};

/// One segment's values of one facet field.
pub struct FacetTable {
    /// The value of each ordinal: ordinals follow the values' sort order.
    values: Vec<String>,
    /// Document `d`'s ordinals are `ords[starts[d]..starts[d + 1]]`, each at most once.
    starts: Vec<u32>,
    ords: Vec<u32>,
}

impl FacetTable {
    fn read(segment: &SegmentReader, field: &str) -> tantivy::Result<Self> {
        let reader = segment.facet_reader(field)?;
        let mut facet = Facet::root();
        let mut values = Vec::with_capacity(reader.num_facets());
        for ord in 0..reader.num_facets() as u64 {
            reader.facet_from_ord(ord, &mut facet)?;
            values.push(
                facet
                    .to_path()
                    .last()
                    .map(|s| s.to_string())
                    .unwrap_or_default(),
            );
        }
        let docs = segment.max_doc();
        let mut starts = Vec::with_capacity(docs as usize + 1);
        let mut ords = Vec::new();
        starts.push(0);
        for doc in 0..docs {
            let mut previous = u64::MAX;
            for ord in reader.facet_ords(doc) {
                // A document's ordinals come sorted; a value given twice counts once.
                if ord != previous {
                    ords.push(ord as u32);
                    previous = ord;
                }
            }
            starts.push(ords.len() as u32);
        }
        Ok(Self {
            values,
            starts,
            ords,
        })
    }

    fn of(&self, doc: DocId) -> &[u32] {
        let d = doc as usize;
        &self.ords[self.starts[d] as usize..self.starts[d + 1] as usize]
    }
}

/// The tables of the segments searched lately, by segment and field.
#[derive(Default)]
pub struct FacetTables {
    tables: Mutex<HashMap<(SegmentId, &'static str), Arc<FacetTable>>>,
}

impl FacetTables {
    fn get(
        &self,
        segment: &SegmentReader,
        field: &'static str,
    ) -> tantivy::Result<Arc<FacetTable>> {
        let mut tables = self.tables.lock().unwrap_or_else(|p| p.into_inner());
        let key = (segment.segment_id(), field);
        if let Some(table) = tables.get(&key) {
            return Ok(table.clone());
        }
        let table = Arc::new(FacetTable::read(segment, field)?);
        tables.insert(key, table.clone());
        Ok(table)
    }

    /// Forgets the tables of segments that are gone (merged away or deleted).
    pub fn keep_only(&self, live: &[SegmentId]) {
        let mut tables = self.tables.lock().unwrap_or_else(|p| p.into_inner());
        tables.retain(|(segment, _), _| live.contains(segment));
    }
}

/// Counts the values of one flat facet field over the matching documents and keeps the `limit`
/// most frequent (ties in value order).
pub struct TopFacets<'a> {
    tables: &'a FacetTables,
    field: &'static str,
    limit: usize,
    /// With one segment, its top list is the answer; with several, every counted value is kept
    /// until the counts are added up across segments.
    single_segment: bool,
}

impl<'a> TopFacets<'a> {
    pub fn new(
        tables: &'a FacetTables,
        field: &'static str,
        limit: usize,
        segments: usize,
    ) -> Self {
        Self {
            tables,
            field,
            limit,
            single_segment: segments <= 1,
        }
    }
}

pub struct SegmentFacets {
    table: Arc<FacetTable>,
    counts: Vec<u32>,
    keep: Option<usize>,
}

impl Collector for TopFacets<'_> {
    type Fruit = Vec<(String, u64)>;
    type Child = SegmentFacets;

    fn for_segment(
        &self,
        _: SegmentOrdinal,
        segment: &SegmentReader,
    ) -> tantivy::Result<Self::Child> {
        let table = self.tables.get(segment, self.field)?;
        Ok(SegmentFacets {
            counts: vec![0; table.values.len()],
            table,
            keep: self.single_segment.then_some(self.limit),
        })
    }

    fn requires_scoring(&self) -> bool {
        false
    }

    fn merge_fruits(&self, segments: Vec<Vec<(String, u64)>>) -> tantivy::Result<Self::Fruit> {
        let mut values: Vec<(String, u64)> = if segments.len() == 1 {
            segments.into_iter().flatten().collect()
        } else {
            let mut sums: HashMap<String, u64> = HashMap::new();
            for (value, n) in segments.into_iter().flatten() {
                *sums.entry(value).or_default() += n;
            }
            sums.into_iter().collect()
        };
        values.sort_unstable_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        values.truncate(self.limit);
        Ok(values)
    }
}

impl SegmentCollector for SegmentFacets {
    type Fruit = Vec<(String, u64)>;

    fn collect(&mut self, doc: DocId, _: Score) {
        for &ord in self.table.of(doc) {
            self.counts[ord as usize] += 1;
        }
    }

    fn harvest(self) -> Self::Fruit {
        let mut counted: Vec<(u32, usize)> = self
            .counts
            .iter()
            .enumerate()
            .filter(|&(ord, n)| *n > 0 && !self.table.values[ord].is_empty())
            .map(|(ord, n)| (*n, ord))
            .collect();
        if let Some(keep) = self.keep {
            // Most frequent first, then by ordinal, which is the values' sort order.
            let by_count = |a: &(u32, usize), b: &(u32, usize)| b.0.cmp(&a.0).then(a.1.cmp(&b.1));
            if keep > 0 && counted.len() > keep {
                counted.select_nth_unstable_by(keep - 1, by_count);
            }
            counted.truncate(keep);
        }
        counted
            .into_iter()
            .map(|(n, ord)| (self.table.values[ord].clone(), u64::from(n)))
            .collect()
    }
}
