//! Facet counts from tables of term ordinals held in memory.
//!
//! tantivy's `FacetCollector` serves hierarchies: on every query it maps the whole facet
//! dictionary of a segment to the asked parents, decodes each matching document's ordinals from
//! the columnar store and turns every counted ordinal back into text. Our facets are flat (one
//! level under the root), so a segment's facet column can be read once into two plain arrays —
//! each document's ordinals, and each ordinal's value — and a search then counts with a few
//! array reads per document and looks up no text at all. At 100,000 entries the tables of all
//! seven facet fields take a few megabytes at most. A segment's documents never change (deletions are left to
//! the collector's alive set), so a table is good for as long as its segment exists.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tantivy::index::SegmentId;
use tantivy::schema::Facet;
use tantivy::{DocId, SegmentReader};

/// One segment's values of one facet field.
pub struct FacetTable {
    /// The value of each ordinal: ordinals follow the values' sort order.
    values: Vec<String>,
    ords: Ords,
}

/// The most values a document may have for its ordinals to be kept in rows of equal width.
const MAX_WIDTH: usize = 4;

/// Each document's ordinals, each at most once.
enum Ords {
    /// Document `d`'s ordinals fill row `d` of `width` slots; the unused slots hold the ordinal
    /// one past the last value, which is counted and then ignored. Counting then runs the same
    /// number of steps for every document: no branch to mispredict on how many values it has.
    Rows { width: usize, ords: Narrow },
    /// Document `d`'s ordinals are `ords[starts[d]..starts[d + 1]]`: for fields where some
    /// document has many values.
    Ranges { starts: Vec<u32>, ords: Vec<u32> },
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
        let width = starts
            .windows(2)
            .map(|w| (w[1] - w[0]) as usize)
            .max()
            .unwrap_or(0)
            .max(1);
        let ords = if width <= MAX_WIDTH {
            let none = values.len() as u32;
            let mut rows = vec![none; docs as usize * width];
            for (d, w) in starts.windows(2).enumerate() {
                let own = &ords[w[0] as usize..w[1] as usize];
                rows[d * width..d * width + own.len()].copy_from_slice(own);
            }
            Ords::Rows {
                width,
                ords: Narrow::new(rows, none),
            }
        } else {
            Ords::Ranges { starts, ords }
        };
        Ok(Self { values, ords })
    }
}

/// Ordinals in the narrowest integers that hold them: a search reads the rows of scattered
/// documents, and a table that fits the processor's cache is read several times faster.
enum Narrow {
    U8(Vec<u8>),
    U16(Vec<u16>),
    U32(Vec<u32>),
}

impl Narrow {
    fn new(ords: Vec<u32>, largest: u32) -> Self {
        if u8::try_from(largest).is_ok() {
            Narrow::U8(ords.into_iter().map(|o| o as u8).collect())
        } else if u16::try_from(largest).is_ok() {
            Narrow::U16(ords.into_iter().map(|o| o as u16).collect())
        } else {
            Narrow::U32(ords)
        }
    }
}

trait Slot: Copy {
    fn index(self) -> usize;
}

impl Slot for u8 {
    fn index(self) -> usize {
        usize::from(self)
    }
}

impl Slot for u16 {
    fn index(self) -> usize {
        usize::from(self)
    }
}

impl Slot for u32 {
    fn index(self) -> usize {
        self as usize
    }
}

fn count_rows<T: Slot, const W: usize>(ords: &[T], docs: &[DocId], counts: &mut [u32]) {
    for &doc in docs {
        let row = &ords[doc as usize * W..][..W];
        for &ord in row {
            counts[ord.index()] += 1;
        }
    }
}

fn count_width<T: Slot>(width: usize, ords: &[T], docs: &[DocId], counts: &mut [u32]) {
    match width {
        1 => count_rows::<T, 1>(ords, docs, counts),
        2 => count_rows::<T, 2>(ords, docs, counts),
        3 => count_rows::<T, 3>(ords, docs, counts),
        _ => count_rows::<T, MAX_WIDTH>(ords, docs, counts),
    }
}

/// The tables of the segments searched lately, by segment and field.
#[derive(Default)]
pub struct FacetTables {
    tables: Mutex<HashMap<(SegmentId, &'static str), Arc<FacetTable>>>,
}

impl FacetTables {
    pub fn get(
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

/// The counts of one facet field in one segment, as the search goes.
pub struct FacetCounts {
    table: Arc<FacetTable>,
    counts: Vec<u32>,
}

impl FacetCounts {
    pub fn new(table: Arc<FacetTable>) -> Self {
        Self {
            // One more for the slot that pads rows.
            counts: vec![0; table.values.len() + 1],
            table,
        }
    }

    pub fn count_all(&mut self, docs: &[DocId]) {
        let counts = &mut self.counts;
        match &self.table.ords {
            Ords::Rows { width, ords } => match ords {
                Narrow::U8(ords) => count_width(*width, ords, docs, counts),
                Narrow::U16(ords) => count_width(*width, ords, docs, counts),
                Narrow::U32(ords) => count_width(*width, ords, docs, counts),
            },
            Ords::Ranges { starts, ords } => {
                for &doc in docs {
                    let d = doc as usize;
                    for &ord in &ords[starts[d] as usize..starts[d + 1] as usize] {
                        counts[ord as usize] += 1;
                    }
                }
            }
        }
    }

    /// The counted values, the `keep` most frequent (ties in value order) when given; all of
    /// them when the counts of several segments are still to be added up.
    pub fn harvest(self, keep: Option<usize>) -> Vec<(String, u64)> {
        let mut counted: Vec<(u32, usize)> = self
            .counts
            .iter()
            .enumerate()
            .take(self.table.values.len())
            .filter(|&(ord, n)| *n > 0 && !self.table.values[ord].is_empty())
            .map(|(ord, n)| (*n, ord))
            .collect();
        if let Some(keep) = keep {
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

/// Adds up the counts of one field across segments and keeps the `limit` most frequent values,
/// ties in value order.
pub fn merge(segments: Vec<Vec<(String, u64)>>, limit: usize) -> Vec<(String, u64)> {
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
    values.truncate(limit);
    values
}
