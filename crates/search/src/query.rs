//! Queries built from what people type. The text is never parsed as query syntax: it is cut
//! into words like the documents were, so any input (Lucene or SQL syntax, emoji, 10 KB of
//! text) is just words to look for, and never an error.

use tantivy::query::{
    AllQuery, BooleanQuery, BoostQuery, FuzzyTermQuery, Occur, PhraseQuery, Query, TermQuery,
};
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::tokenizer::TokenStream;
use tantivy::{Index, Term};

use crate::pinyin::could_be_pinyin;
use crate::schema::{ENGLISH, FacetField, Fields, GRAMS, WORDS, facet_value};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Sort {
    #[default]
    Relevance,
    Newest,
    Oldest,
    MostUsed,
    /// By identifier (CKAN's `name`), A to Z or Z to A.
    IdAsc,
    IdDesc,
    /// By the entry's name (CKAN's `title_string`), in code point order.
    TitleAsc,
    TitleDesc,
}

/// One condition on a document in a [`Clause`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Criterion {
    Facet(FacetField, String),
    /// The entry's identifier (CKAN's `name`).
    Id(String),
}

/// A filter: the document meets at least one of `any_of` (or, `negated`, none of them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Clause {
    pub any_of: Vec<Criterion>,
    pub negated: bool,
}

#[derive(Debug, Clone, Default)]
pub struct SearchQuery {
    pub text: String,
    /// Keep only documents with these facet values: values of one field are alternatives,
    /// different fields must all match.
    pub filters: Vec<(FacetField, String)>,
    /// Further filters that must all hold (CKAN's `fq` with AND, OR and negation).
    pub clauses: Vec<Clause>,
    pub sort: Sort,
    pub offset: usize,
    pub limit: usize,
    pub facet_fields: Vec<FacetField>,
    pub facet_limit: usize,
}

impl SearchQuery {
    /// Identifies the query for the answer cache: equal keys, equal answers.
    pub fn cache_key(&self) -> String {
        let mut filters: Vec<String> = self
            .filters
            .iter()
            .map(|(f, v)| format!("{f:?}={v}"))
            .collect();
        filters.sort();
        format!(
            "{}\u{1}{}\u{1}{:?}\u{1}{:?}\u{1}{}\u{1}{}\u{1}{:?}\u{1}{}",
            self.text,
            filters.join("\u{2}"),
            self.clauses,
            self.sort,
            self.offset,
            self.limit,
            self.facet_fields,
            self.facet_limit
        )
    }
}

/// At most this many words of a query are looked for; the rest of a very long text is ignored.
const MAX_WORDS: usize = 32;
const MAX_GRAM_CHARS: usize = 64;

fn tokens(index: &Index, analyzer: &str, text: &str, max: usize) -> Vec<String> {
    let Some(mut a) = index.tokenizers().get(analyzer) else {
        return Vec::new();
    };
    let mut out: Vec<String> = Vec::new();
    let mut stream = a.token_stream(text);
    while stream.advance() {
        let t = stream.token().text.trim().to_owned();
        if !t.is_empty() && t.chars().any(char::is_alphanumeric) && !out.contains(&t) {
            out.push(t);
            if out.len() >= max {
                break;
            }
        }
    }
    out
}

fn term(field: Field, text: &str) -> Box<dyn Query> {
    Box::new(TermQuery::new(
        Term::from_field_text(field, text),
        IndexRecordOption::WithFreqs,
    ))
}

fn boosted(q: Box<dyn Query>, boost: f32) -> (Occur, Box<dyn Query>) {
    (Occur::Should, Box::new(BoostQuery::new(q, boost)))
}

/// How the words of a query must match, tried in this order until one finds something.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pass {
    /// Every word, each in any field: what people mean by several words (空气质量 is not
    /// 产品质量).
    AllWords,
    /// Any of the words, the more the better.
    AnyWord,
    /// Any word, or pairs of characters of the name: parts of words and typos.
    Grams,
}

/// The words of a query, as the documents were cut into words.
pub fn words(index: &Index, text: &str) -> Vec<String> {
    let text: String = text.chars().take(4096).collect();
    tokens(index, WORDS, &text, MAX_WORDS)
}

/// Where one word may be found, and what each place weighs.
fn word_clauses(index: &Index, f: &Fields, w: &str) -> Vec<(Occur, Box<dyn Query>)> {
    let mut should = vec![
        boosted(term(f.name, w), 4.0),
        boosted(term(f.keywords, w), 2.5),
        boosted(term(f.field_labels, w), 1.5),
        boosted(term(f.provider, w), 1.5),
        boosted(term(f.summary, w), 1.0),
    ];
    if w.is_ascii() {
        // The English name and summary, by the word's stem (stops → stop).
        for stem in tokens(index, ENGLISH, w, 1) {
            should.push(boosted(term(f.name_en, &stem), 4.0));
            should.push(boosted(term(f.summary_en, &stem), 1.0));
            // Typos in Latin words: one edit away.
            if stem.len() >= 4 {
                let fuzzy = FuzzyTermQuery::new(Term::from_field_text(f.name_en, &stem), 1, true);
                should.push(boosted(Box::new(fuzzy), 1.0));
            }
        }
    }
    if could_be_pinyin(w) {
        should.push(boosted(term(f.name_pinyin, w), 3.0));
    }
    should
}

/// Names in which neighbouring words of the query stand close together rank higher: 空气 质量
/// next to each other in a name is what was meant, far apart less so.
fn proximity_clauses(f: &Fields, words: &[String]) -> Vec<(Occur, Box<dyn Query>)> {
    words
        .windows(2)
        .map(|pair| {
            let terms = pair
                .iter()
                .enumerate()
                .map(|(i, w)| (i, Term::from_field_text(f.name, w)))
                .collect();
            boosted(
                Box::new(PhraseQuery::new_with_offset_and_slop(terms, 3)),
                2.0,
            )
        })
        .collect()
}

/// Builds the query for one [`Pass`].
pub fn build(
    index: &Index,
    f: &Fields,
    q: &SearchQuery,
    pass: Pass,
) -> tantivy::Result<Box<dyn Query>> {
    let words = words(index, &q.text);
    let mut must: Vec<(Occur, Box<dyn Query>)> = Vec::new();

    must.extend(proximity_clauses(f, &words));
    match pass {
        _ if words.is_empty() => {}
        Pass::AllWords => {
            for w in &words {
                must.push((
                    Occur::Must,
                    Box::new(BooleanQuery::new(word_clauses(index, f, w))),
                ));
            }
        }
        Pass::AnyWord | Pass::Grams => {
            let mut should: Vec<(Occur, Box<dyn Query>)> = words
                .iter()
                .flat_map(|w| word_clauses(index, f, w))
                .collect();
            if pass == Pass::Grams {
                let short: String = q.text.chars().take(MAX_GRAM_CHARS).collect();
                for g in tokens(index, GRAMS, &short, MAX_GRAM_CHARS * 2) {
                    should.push(boosted(term(f.name_grams, &g), 0.3));
                }
            }
            must.push((Occur::Must, Box::new(BooleanQuery::new(should))));
        }
    }

    for &field in FacetField::ALL {
        let values: Vec<&String> = q
            .filters
            .iter()
            .filter(|(ff, _)| *ff == field)
            .map(|(_, v)| v)
            .collect();
        if values.is_empty() {
            continue;
        }
        let alternatives: Vec<(Occur, Box<dyn Query>)> = values
            .into_iter()
            .map(|v| {
                let t = Term::from_facet(f.facet(field), &facet_value(v));
                (
                    Occur::Should,
                    Box::new(TermQuery::new(t, IndexRecordOption::Basic)) as Box<dyn Query>,
                )
            })
            .collect();
        must.push((Occur::Must, Box::new(BooleanQuery::new(alternatives))));
    }

    for clause in &q.clauses {
        let alternatives: Vec<(Occur, Box<dyn Query>)> = clause
            .any_of
            .iter()
            .map(|c| {
                let t = match c {
                    Criterion::Facet(field, v) => {
                        Term::from_facet(f.facet(*field), &facet_value(v))
                    }
                    Criterion::Id(id) => Term::from_field_text(f.id, id),
                };
                (
                    Occur::Should,
                    Box::new(TermQuery::new(t, IndexRecordOption::Basic)) as Box<dyn Query>,
                )
            })
            .collect();
        let occur = if clause.negated {
            Occur::MustNot
        } else {
            Occur::Must
        };
        must.push((occur, Box::new(BooleanQuery::new(alternatives))));
    }

    if must.is_empty() {
        return Ok(Box::new(AllQuery));
    }
    // Without words, everything the filters let through matches (a query of negations alone
    // needs something to take from).
    if words.is_empty() {
        must.push((Occur::Must, Box::new(AllQuery)));
    }
    Ok(Box::new(BooleanQuery::new(must)))
}
