//! CKAN's search parameters as Solr clients write them: `fq` with `AND`, `OR`, negation and
//! groups; `field:value` inside `q`; `sort` on the fields CKAN sorts by.
//!
//! `fq` is a filter, so it is parsed strictly and anything outside the grammar is a Search
//! Query Error. `q` is what a person typed, so it never fails: clauses it recognizes become
//! filters and everything else is words.

use search::{Clause, Criterion, FacetField, Sort};

use super::CkanError;

/// CKAN field names that `fq`, `q` and `facet.field` understand, and the index field each is.
pub(super) fn ckan_field(name: &str) -> Option<FacetField> {
    Some(match name {
        "organization" => FacetField::Provider,
        "tags" => FacetField::Tag,
        "res_format" => FacetField::Format,
        "open_type" => FacetField::OpenType,
        "groups" | "domain" => FacetField::Domain,
        "update_frequency" => FacetField::UpdateFrequency,
        "area" => FacetField::Area,
        "license_id" => FacetField::Licence,
        _ => return None,
    })
}

pub(super) fn ckan_name(f: FacetField) -> &'static str {
    match f {
        FacetField::Provider => "organization",
        FacetField::Tag => "tags",
        FacetField::Format => "res_format",
        FacetField::OpenType => "open_type",
        FacetField::Domain => "groups",
        FacetField::UpdateFrequency => "update_frequency",
        FacetField::Area => "area",
        FacetField::Licence => "license_id",
    }
}

/// What `field:value` asks, or `None` for a field that is not a filter.
enum Filter {
    One(Criterion),
    /// Holds for every public entry (`dataset_type:dataset`, `capacity:public`, `state:active`,
    /// which CKAN clients add to their filters).
    Always,
    /// Can hold for no public entry (`state:draft`, `dataset_type:harvest`).
    Never,
}

fn filter(field: &str, value: &str) -> Option<Filter> {
    if let Some(facet) = ckan_field(field) {
        let value = if facet == FacetField::Format {
            value.to_ascii_lowercase()
        } else {
            value.to_owned()
        };
        return Some(Filter::One(Criterion::Facet(facet, value)));
    }
    let holds = match field {
        "name" | "id" => return Some(Filter::One(Criterion::Id(value.to_owned()))),
        "dataset_type" | "type" => value == "dataset",
        "capacity" => value == "public",
        "state" => value == "active",
        "private" => value == "false",
        _ => return None,
    };
    Some(if holds { Filter::Always } else { Filter::Never })
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Open,
    Close,
    And,
    Or,
    Not,
    Minus,
    Plus,
    /// `field:value` or `field:"quoted value"`.
    Pair(String, String),
    /// `field:(`, opening a group of values of one field.
    FieldOpen(String),
    /// A value inside `field:( … )`.
    Value(String),
}

fn lex(input: &str) -> Result<Vec<Token>, String> {
    let chars: Vec<char> = input.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    let mut in_field_group = false;
    let read_value = |i: &mut usize| -> Result<String, String> {
        if chars.get(*i) == Some(&'"') {
            let start = *i + 1;
            let end = chars[start..]
                .iter()
                .position(|&c| c == '"')
                .ok_or("Unterminated quote in fq")?;
            *i = start + end + 1;
            Ok(chars[start..start + end].iter().collect())
        } else {
            let start = *i;
            while *i < chars.len() && !chars[*i].is_whitespace() && chars[*i] != ')' {
                *i += 1;
            }
            Ok(chars[start..*i].iter().collect())
        }
    };
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        match c {
            '(' => {
                out.push(Token::Open);
                i += 1;
                continue;
            }
            ')' => {
                out.push(Token::Close);
                in_field_group = false;
                i += 1;
                continue;
            }
            '-' | '!' => {
                out.push(Token::Minus);
                i += 1;
                continue;
            }
            '+' => {
                out.push(Token::Plus);
                i += 1;
                continue;
            }
            _ => {}
        }
        // A word: an operator, `field:…`, or (in a field group) a value.
        let start = i;
        while i < chars.len()
            && !chars[i].is_whitespace()
            && !matches!(chars[i], ':' | '(' | ')' | '"')
        {
            i += 1;
        }
        let word: String = chars[start..i].iter().collect();
        if chars.get(i) == Some(&':') {
            i += 1;
            if chars.get(i) == Some(&'(') {
                i += 1;
                out.push(Token::FieldOpen(word));
                in_field_group = true;
                continue;
            }
            let value = read_value(&mut i)?;
            if value.is_empty() {
                return Err(format!("Empty value for fq field {word}"));
            }
            out.push(Token::Pair(word, value));
            continue;
        }
        match word.as_str() {
            "AND" | "&&" => out.push(Token::And),
            "OR" | "||" => out.push(Token::Or),
            "NOT" => out.push(Token::Not),
            _ if in_field_group => {
                let value = if word.is_empty() {
                    read_value(&mut i)?
                } else {
                    word
                };
                if value.is_empty() {
                    return Err("Empty value in fq".to_owned());
                }
                out.push(Token::Value(value));
            }
            "" => {
                return Err(format!(
                    "Invalid fq near: {}",
                    chars[i..].iter().collect::<String>()
                ));
            }
            _ => return Err(format!("Invalid fq clause: {word}")),
        }
    }
    Ok(out)
}

/// One operand of the top level: a pair, a group of pairs, or a field's group of values, as
/// the alternatives it allows (`conjuncts` when its members were joined by AND).
struct Operand {
    alternatives: Vec<Filter>,
    conjuncts: Vec<Filter>,
}

struct Parser {
    tokens: Vec<Token>,
    at: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.at)
    }

    fn next(&mut self) -> Option<Token> {
        let t = self.tokens.get(self.at).cloned();
        self.at += 1;
        t
    }

    fn pair(field: &str, value: &str) -> Result<Filter, String> {
        filter(field, value).ok_or_else(|| format!("Unknown fq field: {field}"))
    }

    /// The members of a group up to its `)`: joined by OR they are alternatives, joined by
    /// AND (or nothing) they must all hold. Mixing both in one group is not supported.
    fn group(&mut self, field: Option<&str>) -> Result<Operand, String> {
        let mut members = Vec::new();
        let mut joined_by: Option<bool> = None; // Some(true): OR
        loop {
            let member = match (self.next(), field) {
                (Some(Token::Pair(f, v)), None) => Self::pair(&f, &v)?,
                (Some(Token::Value(v)), Some(f)) => Self::pair(f, &v)?,
                (Some(Token::Close), _) if !members.is_empty() => break,
                _ => return Err("Invalid group in fq".to_owned()),
            };
            members.push(member);
            let or = match self.peek() {
                Some(Token::Close) => {
                    self.at += 1;
                    break;
                }
                Some(Token::Or) => {
                    self.at += 1;
                    true
                }
                Some(Token::And) => {
                    self.at += 1;
                    false
                }
                _ => false,
            };
            if joined_by.is_some_and(|j| j != or) {
                return Err("Mixing AND and OR in one group of fq is not supported".to_owned());
            }
            joined_by = Some(or);
        }
        Ok(if joined_by == Some(true) || members.len() == 1 {
            Operand {
                alternatives: members,
                conjuncts: Vec::new(),
            }
        } else {
            Operand {
                alternatives: Vec::new(),
                conjuncts: members,
            }
        })
    }

    /// A sign (`+`, `-`, `NOT`) and an operand.
    fn signed(&mut self) -> Result<(bool, Operand), String> {
        let mut negated = false;
        loop {
            match self.peek() {
                Some(Token::Plus) => self.at += 1,
                Some(Token::Minus | Token::Not) => {
                    self.at += 1;
                    negated = !negated;
                }
                _ => break,
            }
        }
        let operand = match self.next() {
            Some(Token::Pair(f, v)) => Operand {
                alternatives: vec![Self::pair(&f, &v)?],
                conjuncts: Vec::new(),
            },
            Some(Token::Open) => self.group(None)?,
            Some(Token::FieldOpen(f)) => self.group(Some(&f))?,
            _ => return Err("Invalid fq: expected field:value".to_owned()),
        };
        Ok((negated, operand))
    }
}

/// A clause from alternatives, or `None` when it always holds.
fn clause(alternatives: Vec<Filter>, negated: bool) -> Option<Clause> {
    let mut any_of = Vec::new();
    for a in alternatives {
        match a {
            Filter::One(c) => any_of.push(c),
            Filter::Always if negated => {
                // Excludes everything: an empty alternative set that must hold.
                return Some(Clause {
                    any_of: Vec::new(),
                    negated: false,
                });
            }
            Filter::Always => return None,
            Filter::Never => {}
        }
    }
    if any_of.is_empty() && negated {
        return None;
    }
    Some(Clause { any_of, negated })
}

/// Parses CKAN's `fq` into clauses that must all hold. Juxtaposition and `AND` join clauses
/// (CKAN's Solr schema makes AND the default operator), `OR` makes alternatives, `-`, `!` and
/// `NOT` negate, `+` is accepted and changes nothing, and parentheses group pairs or the
/// values of one field: `organization:a OR organization:b`, `-tags:x`,
/// `res_format:(CSV OR JSON)`, `NOT (tags:a OR groups:b)`.
pub(super) fn parse_fq(fq: &str) -> Result<Vec<Clause>, CkanError> {
    parse_fq_inner(fq).map_err(CkanError::query)
}

fn parse_fq_inner(fq: &str) -> Result<Vec<Clause>, String> {
    let mut p = Parser {
        tokens: lex(fq)?,
        at: 0,
    };
    let mut clauses = Vec::new();
    while p.peek().is_some() {
        let (negated, first) = p.signed()?;
        let mut alternatives = first.alternatives;
        let mut conjuncts = first.conjuncts;
        // `a OR b OR …`: one clause of alternatives.
        while p.peek() == Some(&Token::Or) {
            p.at += 1;
            let (also_negated, next) = p.signed()?;
            if negated || also_negated || !conjuncts.is_empty() || !next.conjuncts.is_empty() {
                return Err("OR of negations or of AND groups in fq is not supported".to_owned());
            }
            alternatives.extend(next.alternatives);
        }
        if !conjuncts.is_empty() {
            if negated {
                return Err("Negating an AND group in fq is not supported".to_owned());
            }
            clauses.extend(conjuncts.drain(..).filter_map(|c| clause(vec![c], false)));
        } else {
            clauses.extend(clause(alternatives, negated));
        }
        if p.peek() == Some(&Token::And) {
            p.at += 1;
            if p.peek().is_none() {
                return Err("Invalid fq: AND at the end".to_owned());
            }
        }
    }
    Ok(clauses)
}

/// Splits `q` into words and the `field:value` clauses it holds (`tags:公交`,
/// `organization:"sh-transport"`, `name:…`). Words of `title:`, `notes:` and `text:` stay words;
/// anything else with a colon is a word too. Never fails.
pub(super) fn split_q(q: &str) -> (String, Vec<Clause>) {
    let q = q.trim();
    if q == "*:*" || q == "*" {
        return (String::new(), Vec::new());
    }
    let mut words = Vec::new();
    let mut clauses = Vec::new();
    let mut rest = q;
    while let Some(start) = rest.find(|c: char| !c.is_whitespace()) {
        rest = &rest[start..];
        let (negated, body) = match rest.strip_prefix('-') {
            Some(b) => (true, b),
            None => (false, rest.strip_prefix('+').unwrap_or(rest)),
        };
        let field_end = body
            .find(|c: char| c == ':' || c.is_whitespace())
            .unwrap_or(body.len());
        if body[field_end..].starts_with(':') {
            let field = &body[..field_end];
            let after = &body[field_end + 1..];
            let (value, remaining) = if let Some(quoted) = after.strip_prefix('"')
                && let Some(end) = quoted.find('"')
            {
                (&quoted[..end], &quoted[end + 1..])
            } else {
                let end = after.find(char::is_whitespace).unwrap_or(after.len());
                (&after[..end], &after[end..])
            };
            if !value.is_empty() {
                if matches!(field, "title" | "notes" | "text") {
                    words.push(value.to_owned());
                    rest = remaining;
                    continue;
                }
                if let Some(f) = filter(field, value) {
                    clauses.extend(clause(vec![f], negated));
                    rest = remaining;
                    continue;
                }
            }
        }
        let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
        words.push(rest[..end].to_owned());
        rest = &rest[end..];
    }
    (words.join(" "), clauses)
}

/// CKAN's `sort`: the first of its comma-separated keys decides.
pub(super) fn parse_sort(sort: Option<&str>) -> Result<Sort, CkanError> {
    let Some(sort) = sort.filter(|s| !s.trim().is_empty()) else {
        return Ok(Sort::Relevance);
    };
    let first = sort
        .split(',')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let words: Vec<&str> = first.split_whitespace().collect();
    let (field, descending) = match words.as_slice() {
        [field] => (*field, false),
        [field, "asc"] => (*field, false),
        [field, "desc"] => (*field, true),
        _ => ("", false),
    };
    Ok(match (field, descending) {
        ("score" | "rank", _) => Sort::Relevance,
        ("metadata_modified" | "metadata_created", true) => Sort::Newest,
        ("metadata_modified" | "metadata_created", false) => Sort::Oldest,
        ("name", false) => Sort::IdAsc,
        ("name", true) => Sort::IdDesc,
        ("title_string" | "title", false) => Sort::TitleAsc,
        ("title_string" | "title", true) => Sort::TitleDesc,
        ("views_recent" | "views_total" | "num_downloads", true) => Sort::MostUsed,
        _ => {
            return Err(CkanError::validation(
                "sort",
                "Supported: score desc, name asc|desc, title_string asc|desc, metadata_modified asc|desc, views_recent desc",
            ));
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tag(v: &str) -> Criterion {
        Criterion::Facet(FacetField::Tag, v.to_owned())
    }
    fn org(v: &str) -> Criterion {
        Criterion::Facet(FacetField::Provider, v.to_owned())
    }
    fn all(any_of: Vec<Criterion>) -> Clause {
        Clause {
            any_of,
            negated: false,
        }
    }
    fn not(any_of: Vec<Criterion>) -> Clause {
        Clause {
            any_of,
            negated: true,
        }
    }
    fn fq(s: &str) -> Vec<Clause> {
        parse_fq_inner(s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn fq_joins_negates_and_groups() {
        assert_eq!(
            fq("organization:sh-transport +tags:\"公共 交通\" res_format:CSV"),
            [
                all(vec![org("sh-transport")]),
                all(vec![tag("公共 交通")]),
                all(vec![Criterion::Facet(FacetField::Format, "csv".into())]),
            ]
        );
        assert_eq!(
            fq("tags:a AND organization:b"),
            [all(vec![tag("a")]), all(vec![org("b")])]
        );
        assert_eq!(
            fq("tags:a OR tags:b OR organization:c"),
            [all(vec![tag("a"), tag("b"), org("c")])]
        );
        assert_eq!(fq("-tags:a"), [not(vec![tag("a")])]);
        assert_eq!(fq("NOT tags:a"), [not(vec![tag("a")])]);
        assert_eq!(fq("!tags:a"), [not(vec![tag("a")])]);
        assert_eq!(fq("tags:(a OR \"b c\")"), [all(vec![tag("a"), tag("b c")])]);
        assert_eq!(fq("tags:(a b)"), [all(vec![tag("a")]), all(vec![tag("b")])]);
        assert_eq!(
            fq("-(tags:a OR organization:b) tags:c"),
            [not(vec![tag("a"), org("b")]), all(vec![tag("c")])]
        );
        assert_eq!(fq("name:abc"), [all(vec![Criterion::Id("abc".into())])]);
        // What CKAN clients add and always holds for the public list.
        assert_eq!(fq("+dataset_type:dataset +capacity:public"), []);
        assert_eq!(fq("state:draft"), [all(vec![])]);
        assert_eq!(fq(""), []);
    }

    #[test]
    fn fq_outside_the_grammar_is_refused() {
        for bad in [
            "colour:red",
            "tags:\"open",
            "just words",
            "tags:a OR",
            "tags:a AND",
            "(tags:a",
            "tags:()",
            "tags:a OR -tags:b",
            "(tags:a OR tags:b AND tags:c)",
            "tags:",
            ")",
        ] {
            assert!(parse_fq_inner(bad).is_err(), "{bad} was accepted");
        }
    }

    #[test]
    fn q_keeps_words_and_takes_out_field_clauses() {
        assert_eq!(split_q("*:*"), (String::new(), vec![]));
        assert_eq!(
            split_q("公交 tags:交通 title:站点 -organization:\"a b\" x:y"),
            (
                "公交 站点 x:y".to_owned(),
                vec![all(vec![tag("交通")]), not(vec![org("a b")])]
            )
        );
        assert_eq!(split_q("  "), (String::new(), vec![]));
        assert_eq!(split_q("tags:"), ("tags:".to_owned(), vec![]));
    }

    #[test]
    fn sort_keys() {
        assert_eq!(parse_sort(None).ok(), Some(Sort::Relevance));
        assert_eq!(parse_sort(Some("name asc")).ok(), Some(Sort::IdAsc));
        assert_eq!(parse_sort(Some("name desc")).ok(), Some(Sort::IdDesc));
        assert_eq!(
            parse_sort(Some("title_string asc")).ok(),
            Some(Sort::TitleAsc)
        );
        assert_eq!(
            parse_sort(Some("title_string desc, name asc")).ok(),
            Some(Sort::TitleDesc)
        );
        assert_eq!(
            parse_sort(Some("metadata_modified desc")).ok(),
            Some(Sort::Newest)
        );
        assert_eq!(
            parse_sort(Some("metadata_modified asc")).ok(),
            Some(Sort::Oldest)
        );
        assert!(parse_sort(Some("colour asc")).is_err());
        assert!(parse_sort(Some("name sideways")).is_err());
    }
}
