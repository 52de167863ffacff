//! One collector for everything a search answers: the count, the page of hits and the facets,
//! in one pass over the matching documents.
//!
//! tantivy's `MultiCollector` of `Count`, `TopDocs` and one collector per facet calls each of
//! them through a boxed trait object for every matching document, and `TopDocs` sorts all
//! `offset + limit` best documents to return a page: on a deep page (the 400th of a common
//! word) that sort costs more than scoring. Here the count and the facets are plain fields of
//! one segment collector, and the page is cut out with two selections, sorting only its own
//! `limit` documents.

use std::cmp::Ordering;
use std::sync::Arc;

use tantivy::collector::{Collector, SegmentCollector};
use tantivy::columnar::{ColumnValues, StrColumn};
use tantivy::{DocAddress, DocId, Score, SegmentOrdinal, SegmentReader};

use crate::facets::{self, FacetCounts, FacetTables};

/// What orders the hits: the relevance score (best first), an i64 fast field, or a text fast
/// field (in code point order), either way.
#[derive(Clone, Copy)]
pub enum Rank {
    Score,
    Field(&'static str, Direction),
    Text(&'static str, Direction),
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Ascending,
    Descending,
}

impl Direction {
    /// The key of a value under this direction: the best candidate has the highest key.
    fn key(self, k: u64) -> u64 {
        match self {
            Direction::Descending => k,
            Direction::Ascending => !k,
        }
    }
}

pub struct Gather<'a> {
    pub rank: Rank,
    pub offset: usize,
    pub limit: usize,
    pub tables: &'a FacetTables,
    /// The facet fields to count, by schema name.
    pub facets: Vec<&'static str>,
    pub facet_limit: usize,
    /// With one segment, a segment's top facet values are the answer; with several, every
    /// counted value is kept until the counts are added up.
    pub segments: usize,
}

pub struct Gathered {
    pub total: usize,
    /// The asked page: the score (or the value of the sort field) and address, best first.
    pub page: Vec<(f32, DocAddress)>,
    /// Per asked facet field, in the order asked: (value, count), most frequent first.
    pub facets: Vec<Vec<(String, u64)>>,
}

/// A candidate hit packed so that a plain integer comparison ranks it: the ranking key in the
/// high half, then the segment and the document inverted, so that of equal keys the one earlier
/// in the index ranks higher and pages never overlap or skip. Selecting among plain integers is
/// several times faster than through a comparison of tuples of floats.
type Candidate = u128;

fn candidate(key: u64, segment: SegmentOrdinal, doc: DocId) -> Candidate {
    (u128::from(key) << 64) | (u128::from(!segment) << 32) | u128::from(!doc)
}

fn unpack(c: Candidate) -> (u64, DocAddress) {
    (
        (c >> 64) as u64,
        DocAddress::new(!((c >> 32) as u32), !(c as u32)),
    )
}

/// Maps a score to an integer of the same order.
fn score_key(score: Score) -> u64 {
    let bits = score.to_bits();
    u64::from(if bits >> 31 == 1 {
        !bits
    } else {
        bits | 1 << 31
    })
}

fn key_score(key: u64) -> Score {
    let bits = key as u32;
    Score::from_bits(if bits >> 31 == 1 {
        bits & !(1 << 31)
    } else {
        !bits
    })
}

/// Maps a field value to an integer of the same order.
fn field_key(value: i64) -> u64 {
    (value as u64) ^ (1 << 63)
}

fn key_field(key: u64) -> i64 {
    (key ^ (1 << 63)) as i64
}

fn best_first(a: &Candidate, b: &Candidate) -> Ordering {
    b.cmp(a)
}

/// Keeps the `keep` best of `candidates` (in no particular order).
fn keep_best(candidates: &mut Vec<Candidate>, keep: usize) {
    if candidates.len() > keep {
        if keep > 0 {
            candidates.select_nth_unstable_by(keep - 1, best_first);
        }
        candidates.truncate(keep);
    }
}

enum SegmentRank {
    Score,
    Field(Arc<dyn ColumnValues<i64>>, Direction),
    /// Term ordinals follow the terms' byte order within a segment, so they rank documents of
    /// one segment; across segments, the texts themselves are compared when merging.
    Text(Option<StrColumn>, Direction),
}

pub struct SegmentGather {
    segment: SegmentOrdinal,
    count: usize,
    rank: SegmentRank,
    keep: usize,
    candidates: Vec<Candidate>,
    /// Once `candidates` has been cut to the `keep` best, a document must beat the worst of them.
    threshold: Option<Candidate>,
    facets: Vec<FacetCounts>,
    /// The matching documents, when facets are asked: they are counted at the end one field at
    /// a time, which reads each field's table in one sweep instead of all tables in turn per
    /// document.
    matched: Vec<DocId>,
    facet_keep: Option<usize>,
}

impl Collector for Gather<'_> {
    type Fruit = Gathered;
    type Child = SegmentGather;

    fn for_segment(
        &self,
        segment: SegmentOrdinal,
        reader: &SegmentReader,
    ) -> tantivy::Result<SegmentGather> {
        let rank = match self.rank {
            Rank::Score => SegmentRank::Score,
            Rank::Field(name, direction) => SegmentRank::Field(
                reader.fast_fields().i64(name)?.first_or_default_col(0),
                direction,
            ),
            Rank::Text(name, direction) => {
                SegmentRank::Text(reader.fast_fields().str(name)?, direction)
            }
        };
        let facets = self
            .facets
            .iter()
            .map(|field| Ok(FacetCounts::new(self.tables.get(reader, field)?)))
            .collect::<tantivy::Result<_>>()?;
        let keep = if self.limit == 0 {
            0
        } else {
            self.offset + self.limit
        };
        Ok(SegmentGather {
            segment,
            count: 0,
            rank,
            keep,
            candidates: Vec::with_capacity(keep.min(1024) * 2),
            threshold: None,
            matched: Vec::new(),
            facets,
            facet_keep: (self.segments <= 1).then_some(self.facet_limit),
        })
    }

    fn requires_scoring(&self) -> bool {
        matches!(self.rank, Rank::Score)
    }

    fn merge_fruits(&self, segments: Vec<SegmentFruit>) -> tantivy::Result<Gathered> {
        let mut total = 0;
        let mut candidates = Vec::new();
        let mut texts = Vec::new();
        let mut per_field: Vec<Vec<Vec<(String, u64)>>> = vec![Vec::new(); self.facets.len()];
        for fruit in segments {
            total += fruit.count;
            candidates.extend(fruit.candidates);
            texts.extend(fruit.texts);
            for (i, counts) in fruit.facets.into_iter().enumerate() {
                per_field[i].push(counts);
            }
        }
        let page = if self.limit == 0 {
            Vec::new()
        } else if let Rank::Text(_, direction) = self.rank {
            text_page(texts, direction, self.offset, self.limit)
        } else {
            keep_best(&mut candidates, self.offset + self.limit);
            if candidates.len() <= self.offset {
                Vec::new()
            } else {
                // Everything before `offset` belongs to earlier pages; only the page is sorted.
                if self.offset > 0 {
                    candidates.select_nth_unstable_by(self.offset, best_first);
                }
                let mut page = candidates.split_off(self.offset);
                page.sort_unstable_by(best_first);
                let shown = |key| match self.rank {
                    Rank::Score => key_score(key),
                    Rank::Field(_, direction) => key_field(direction.key(key)) as f32,
                    Rank::Text(..) => 0.0,
                };
                page.into_iter()
                    .map(|c| {
                        let (key, address) = unpack(c);
                        (shown(key), address)
                    })
                    .collect()
            }
        };
        let facets = per_field
            .into_iter()
            .map(|counts| facets::merge(counts, self.facet_limit))
            .collect();
        Ok(Gathered {
            total,
            page,
            facets,
        })
    }
}

/// The page of a text ranking: the candidates of every segment ordered by their texts (ties
/// in index order).
fn text_page(
    mut texts: Vec<(String, Candidate)>,
    direction: Direction,
    offset: usize,
    limit: usize,
) -> Vec<(f32, DocAddress)> {
    texts.sort_unstable_by(|(ta, ca), (tb, cb)| {
        let by_text = match direction {
            Direction::Ascending => ta.cmp(tb),
            Direction::Descending => tb.cmp(ta),
        };
        // Within a segment the key already ranks; the document order breaks ties.
        by_text.then_with(|| best_first(&(*ca & ((1 << 64) - 1)), &(*cb & ((1 << 64) - 1))))
    });
    texts
        .into_iter()
        .skip(offset)
        .take(limit)
        .map(|(_, c)| (0.0, unpack(c).1))
        .collect()
}

pub struct SegmentFruit {
    count: usize,
    candidates: Vec<Candidate>,
    /// With a text ranking, the text of each kept candidate.
    texts: Vec<(String, Candidate)>,
    facets: Vec<Vec<(String, u64)>>,
}

impl SegmentCollector for SegmentGather {
    type Fruit = SegmentFruit;

    fn collect(&mut self, doc: DocId, score: Score) {
        self.count += 1;
        if !self.facets.is_empty() {
            self.matched.push(doc);
        }
        if self.keep == 0 {
            return;
        }
        let key = match &self.rank {
            SegmentRank::Score => score_key(score),
            SegmentRank::Field(column, direction) => direction.key(field_key(column.get_val(doc))),
            SegmentRank::Text(column, direction) => {
                let ord = column
                    .as_ref()
                    .and_then(|c| c.term_ords(doc).next())
                    .unwrap_or(0);
                direction.key(ord)
            }
        };
        let c = candidate(key, self.segment, doc);
        if self.threshold.is_none_or(|t| c > t) {
            self.candidates.push(c);
            if self.candidates.len() >= 2 * self.keep {
                keep_best(&mut self.candidates, self.keep);
                // After the selection, the last kept is the worst of them.
                self.threshold = Some(self.candidates[self.keep - 1]);
            }
        }
    }

    fn harvest(mut self) -> SegmentFruit {
        keep_best(&mut self.candidates, self.keep);
        let mut texts = Vec::new();
        if let SegmentRank::Text(column, _) = &self.rank {
            for &c in &self.candidates {
                let (_, address) = unpack(c);
                let mut text = String::new();
                if let Some(column) = column
                    && let Some(ord) = column.term_ords(address.doc_id).next()
                {
                    // A failed read leaves the text empty: the hit still shows, sorted first.
                    let _ = column.ord_to_str(ord, &mut text);
                }
                texts.push((text, c));
            }
        }
        for facet in &mut self.facets {
            facet.count_all(&self.matched);
        }
        let keep = self.facet_keep;
        SegmentFruit {
            count: self.count,
            texts,
            candidates: self.candidates,
            facets: self.facets.into_iter().map(|f| f.harvest(keep)).collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn keys_keep_the_order_of_scores(a in -1e30f32..1e30, b in -1e30f32..1e30) {
            prop_assert_eq!(score_key(a).cmp(&score_key(b)), a.total_cmp(&b));
            prop_assert_eq!(key_score(score_key(a)), a);
        }

        #[test]
        fn keys_keep_the_order_of_field_values(a: i64, b: i64) {
            prop_assert_eq!(field_key(a).cmp(&field_key(b)), a.cmp(&b));
            prop_assert_eq!(key_field(field_key(a)), a);
        }

        #[test]
        fn candidates_rank_by_key_then_index_order(
            k1: u64, k2: u64, s1 in 0u32..8, s2 in 0u32..8, d1: u32, d2: u32
        ) {
            let (a, b) = (candidate(k1, s1, d1), candidate(k2, s2, d2));
            let expected = k1.cmp(&k2).then(s2.cmp(&s1)).then(d2.cmp(&d1));
            prop_assert_eq!(a.cmp(&b), expected);
            prop_assert_eq!(unpack(a), (k1, DocAddress::new(s1, d1)));
        }
    }
}
