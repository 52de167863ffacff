use std::collections::HashMap;

use super::*;

fn doc(id: &str, name: &str, domain: &str, provider: &str, published_at: i64) -> Box<SearchDoc> {
    Box::new(SearchDoc {
        id: id.into(),
        name: name.into(),
        summary: format!("{name}的说明"),
        name_en: String::new(),
        summary_en: String::new(),
        keywords: vec!["公共数据".into()],
        field_labels: vec!["名称".into(), "地址".into()],
        provider_slug: provider.into(),
        provider_name: format!("{provider} 委员会"),
        domain: domain.into(),
        open_type: "unconditional".into(),
        formats: vec!["csv".into(), "json".into()],
        update_frequency: "monthly".into(),
        areas: vec!["shanghai".into()],
        licence: "CC BY 4.0".into(),
        published_at,
        usage: published_at % 7,
        payload: format!("{{\"id\":\"{id}\"}}"),
        ckan_payload: String::new(),
    })
}

fn index() -> SearchIndex {
    let idx = SearchIndex::in_memory().unwrap();
    idx.apply(
        &[
            Change::Upsert(doc(
                "1",
                "上海市公交线路站点",
                "transport",
                "sh-transport",
                10,
            )),
            Change::Upsert(doc(
                "2",
                "上海市公交车辆实时位置",
                "transport",
                "sh-transport",
                30,
            )),
            Change::Upsert(doc(
                "3",
                "浦东新区养老机构名录",
                "civil_affairs",
                "pudong",
                20,
            )),
            Change::Upsert(doc(
                "4",
                "上海市空气质量AQI日报",
                "environment",
                "sh-ecology",
                40,
            )),
        ],
        4,
    )
    .unwrap();
    idx
}

fn q(text: &str) -> SearchQuery {
    SearchQuery {
        text: text.into(),
        limit: 10,
        facet_limit: 10,
        ..Default::default()
    }
}

fn ids(r: &SearchResults) -> Vec<&str> {
    r.hits.iter().map(|h| h.id.as_str()).collect()
}

#[test]
fn chinese_words_find_their_entries_best_first() {
    let idx = index();
    // Several words: the entries with all of them.
    let r = idx.search(&q("公交 站点")).unwrap();
    assert_eq!(ids(&r), ["1"]);
    // When no entry has them all, those with any, the best first.
    let r = idx.search(&q("公交 地铁")).unwrap();
    assert_eq!(ids(&r).len(), 2);
    assert!(ids(&r).contains(&"1") && ids(&r).contains(&"2"));
    let hit = &idx.search(&q("养老")).unwrap().hits[0];
    assert_eq!(
        (hit.id.as_str(), hit.payload.as_str()),
        ("3", "{\"id\":\"3\"}")
    );
}

/// Issue 10: 空气质量 found 产品质量监督抽查结果, which shares only 质量.
#[test]
fn several_words_mean_all_of_them() {
    let idx = index();
    idx.apply(
        &[Change::Upsert(doc(
            "5",
            "上海市产品质量监督抽查结果",
            "market",
            "sh-market",
            50,
        ))],
        5,
    )
    .unwrap();
    assert_eq!(ids(&idx.search(&q("空气质量")).unwrap()), ["4"]);
    assert_eq!(ids(&idx.search(&q("空气 质量")).unwrap()), ["4"]);
    assert_eq!(ids(&idx.search(&q("质量")).unwrap()).len(), 2);
}

#[test]
fn partial_words_and_typos_still_find() {
    let idx = index();
    assert_eq!(ids(&idx.search(&q("养老机")).unwrap())[0], "3");
    // No whole word matches: pairs of characters still find the entry.
    assert_eq!(ids(&idx.search(&q("老机")).unwrap()), ["3"]);
    // A wrong character: most of the name still matches.
    assert_eq!(ids(&idx.search(&q("公交线路站典")).unwrap())[0], "1");
    assert_eq!(ids(&idx.search(&q("aqi")).unwrap()), ["4"]);
}

#[test]
fn facets_filters_and_sorting() {
    let idx = index();
    let mut query = q("");
    query.facet_fields = vec![FacetField::Domain, FacetField::Format];
    let r = idx.search(&query).unwrap();
    assert_eq!(r.total, 4);
    let domains = &r.facets[0].1;
    assert_eq!(domains[0], ("transport".to_owned(), 2));
    assert_eq!(r.facets[1].1.len(), 2);

    query.filters = vec![
        (FacetField::Domain, "transport".into()),
        (FacetField::Domain, "environment".into()),
    ];
    query.sort = Sort::Newest;
    let r = idx.search(&query).unwrap();
    assert_eq!(ids(&r), ["4", "2", "1"]);

    query
        .filters
        .push((FacetField::Provider, "sh-ecology".into()));
    assert_eq!(ids(&idx.search(&query).unwrap()), ["4"]);
}

#[test]
fn facet_counts_agree_over_one_segment_and_several() {
    let idx = index();
    let mut more = doc("5", "徐汇区养老服务点", "civil_affairs", "xuhui", 50);
    more.formats = vec!["xlsx".into(), "xlsx".into()];
    idx.apply(&[Change::Upsert(more)], 5).unwrap();
    assert!(idx.segments() > 1);
    let mut query = q("");
    query.facet_fields = vec![FacetField::Domain, FacetField::Format, FacetField::Provider];
    query.facet_limit = 2;
    let several = idx.search(&query).unwrap();
    idx.merge_segments().unwrap();
    assert_eq!(idx.segments(), 1);
    let one = idx.search(&query).unwrap();
    assert_eq!(several.facets, one.facets);
    let expected = |pairs: &[(&str, u64)]| -> Vec<(String, u64)> {
        pairs.iter().map(|(v, n)| (v.to_string(), *n)).collect()
    };
    // Ties go in value order; a value given twice in one entry counts once.
    assert_eq!(
        one.facets[0].1,
        expected(&[("civil_affairs", 2), ("transport", 2)])
    );
    assert_eq!(one.facets[1].1, expected(&[("csv", 4), ("json", 4)]));
    assert_eq!(
        one.facets[2].1,
        expected(&[("sh-transport", 2), ("pudong", 1)])
    );
    query.facet_limit = 10;
    let formats = &idx.search(&query).unwrap().facets[1].1;
    assert_eq!(formats, &expected(&[("csv", 4), ("json", 4), ("xlsx", 1)]));
    // A removed entry no longer counts, though its segment (and its table) stays.
    idx.apply(&[Change::Remove("5".into())], 6).unwrap();
    let formats = &idx.search(&query).unwrap().facets[1].1;
    assert_eq!(formats, &expected(&[("csv", 4), ("json", 4)]));
}

#[test]
fn any_input_is_words_never_an_error() {
    let idx = index();
    for text in [
        "",
        "   ",
        "name:\"x\" AND (",
        "'; DROP TABLE datasets; --",
        "😀🚌",
        "*:*",
        "a~2^3 [1 TO 5]",
    ] {
        assert!(idx.search(&q(text)).is_ok(), "{text}");
    }
    let long = "公交".repeat(5000);
    assert!(idx.search(&q(&long)).is_ok());
}

#[test]
fn upserts_replace_and_removals_remove_and_the_mark_is_kept() {
    let idx = index();
    assert_eq!(idx.applied_seq().unwrap(), 4);
    idx.apply(
        &[
            Change::Upsert(doc(
                "1",
                "上海市出租车服务点",
                "transport",
                "sh-transport",
                50,
            )),
            Change::Remove("3".into()),
        ],
        6,
    )
    .unwrap();
    assert_eq!(idx.num_docs(), 3);
    assert!(idx.search(&q("养老")).unwrap().hits.is_empty());
    assert_eq!(ids(&idx.search(&q("出租车")).unwrap()), ["1"]);
    assert_eq!(idx.applied_seq().unwrap(), 6);
    idx.merge_segments().unwrap();
    assert_eq!(idx.segments(), 1);
    assert_eq!(ids(&idx.search(&q("出租车")).unwrap()), ["1"]);
    idx.clear().unwrap();
    assert_eq!((idx.num_docs(), idx.applied_seq().unwrap()), (0, 0));
}

#[test]
fn answers_are_cached_until_the_next_change() {
    let idx = index();
    let first = idx.search(&q("公交")).unwrap();
    let again = idx.search(&q("公交")).unwrap();
    assert!(
        std::sync::Arc::ptr_eq(&first, &again),
        "the same query is answered from the cache"
    );
    idx.apply(&[Change::Remove("1".into())], 5).unwrap();
    let after = idx.search(&q("公交")).unwrap();
    assert!(!ids(&after).contains(&"1"), "a change empties the cache");
}

#[test]
fn the_index_survives_a_reopen_on_disk() {
    let dir = tempfile::tempdir().unwrap();
    {
        let idx = SearchIndex::open_or_create(dir.path()).unwrap();
        idx.apply(
            &[Change::Upsert(doc(
                "1",
                "上海市公交线路站点",
                "transport",
                "sh-transport",
                10,
            ))],
            9,
        )
        .unwrap();
    }
    let idx = SearchIndex::open_or_create(dir.path()).unwrap();
    assert_eq!(idx.applied_seq().unwrap(), 9);
    assert_eq!(idx.num_docs(), 1);
}

#[test]
fn pages_cut_from_one_ranking_never_overlap_or_skip() {
    // Many entries with equal scores and equal sort values, over several segments: ties are the
    // hard case for cutting pages.
    let idx = SearchIndex::in_memory().unwrap();
    for batch in 0..3 {
        let docs: Vec<Change> = (0..40)
            .map(|i| {
                let n = batch * 40 + i;
                let name = if n % 3 == 0 {
                    "公交站点公交"
                } else {
                    "公交站点"
                };
                Change::Upsert(doc(&n.to_string(), name, "transport", "p", n as i64 % 4))
            })
            .collect();
        idx.apply(&docs, batch as i64 + 1).unwrap();
    }
    assert!(idx.segments() > 1);
    for sort in [Sort::Relevance, Sort::Newest, Sort::MostUsed] {
        let mut all = q("公交");
        all.sort = sort;
        all.limit = 200;
        let whole = idx.search(&all).unwrap();
        assert_eq!(whole.total, 120);
        assert_eq!(whole.hits.len(), 120);
        assert!(
            whole.hits.windows(2).all(|w| w[0].score >= w[1].score),
            "{sort:?}: best first"
        );
        let mut paged = Vec::new();
        for page in 0..13 {
            let mut one = all.clone();
            one.offset = page * 10;
            one.limit = 10;
            paged.extend(idx.search(&one).unwrap().hits.iter().map(|h| h.id.clone()));
        }
        assert_eq!(
            paged,
            ids(&whole),
            "{sort:?}: pages are the ranking cut in tens"
        );
    }
    // Past the end: no hits, the count still right.
    let mut far = q("公交");
    far.offset = 500;
    let r = idx.search(&far).unwrap();
    assert_eq!((r.total, r.hits.len()), (120, 0));
}

#[test]
fn facet_counts_are_exact_whatever_the_table_layout() {
    // Three layouts of a segment's table: rows of one byte (few values, few per entry), rows of
    // two bytes (over 255 values), ranges (an entry with more than four values).
    let idx = SearchIndex::in_memory().unwrap();
    let mut docs = Vec::new();
    for n in 0..400u32 {
        let mut d = doc(
            &n.to_string(),
            "公交站点",
            "transport",
            &format!("p{}", n % 300),
            1,
        );
        d.keywords = (0..(1 + n % 3))
            .map(|k| format!("k{}", (n + k) % 7))
            .collect();
        if n == 17 {
            d.keywords = (0..9).map(|k| format!("k{k}")).collect();
        }
        docs.push(d);
    }
    let changes: Vec<Change> = docs.iter().cloned().map(Change::Upsert).collect();
    idx.apply(&changes, 1).unwrap();
    let mut query = q("公交");
    query.facet_fields = vec![FacetField::Provider, FacetField::Tag];
    query.facet_limit = 1000;
    let r = idx.search(&query).unwrap();
    let naive = |values: &dyn Fn(&SearchDoc) -> Vec<String>| {
        let mut counts: HashMap<String, u64> = HashMap::new();
        for d in &docs {
            for v in values(d) {
                *counts.entry(v).or_default() += 1;
            }
        }
        let mut counts: Vec<(String, u64)> = counts.into_iter().collect();
        counts.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        counts
    };
    assert_eq!(r.facets[0].1, naive(&|d| vec![d.provider_slug.clone()]));
    assert_eq!(r.facets[1].1, naive(&|d| d.keywords.clone()));
}

#[test]
fn sorting_by_identifier_title_and_age_either_way_over_several_segments() {
    let idx = SearchIndex::in_memory().unwrap();
    // Names and identifiers in an order unrelated to the order of indexing, over three commits.
    let names = [
        "黄浦区",
        "长宁区",
        "静安区",
        "徐汇区",
        "上海市",
        "浦东新区",
        "闵行区",
    ];
    for (batch, chunk) in names.chunks(3).enumerate() {
        let docs: Vec<Change> = chunk
            .iter()
            .map(|name| {
                let n = names.iter().position(|x| x == name).unwrap() as i64;
                let id = format!("id-{}", (n * 5) % 7);
                Change::Upsert(doc(&id, name, "transport", "p", 100 - n))
            })
            .collect();
        idx.apply(&docs, batch as i64 + 1).unwrap();
    }
    assert!(idx.segments() > 1);
    let order = |sort: Sort| -> Vec<String> {
        let mut all = q("");
        all.sort = sort;
        let whole: Vec<String> = idx
            .search(&all)
            .unwrap()
            .hits
            .iter()
            .map(|h| h.id.clone())
            .collect();
        // Pages of two are the same ranking cut in pieces.
        let mut paged = Vec::new();
        for page in 0..4 {
            let mut one = all.clone();
            one.offset = page * 2;
            one.limit = 2;
            paged.extend(idx.search(&one).unwrap().hits.iter().map(|h| h.id.clone()));
        }
        assert_eq!(paged, whole, "{sort:?}");
        whole
    };
    let mut by_id: Vec<String> = (0..7).map(|n| format!("id-{n}")).collect();
    assert_eq!(order(Sort::IdAsc), by_id);
    by_id.reverse();
    assert_eq!(order(Sort::IdDesc), by_id);

    // Titles in code point order, worked out by hand: 上(U+4E0A) 徐(U+5F90) 浦(U+6D66)
    // 长(U+957F) 闵(U+95F5) 静(U+9759) 黄(U+9EC4).
    let id_of = |name: &str| {
        let n = names.iter().position(|x| *x == name).unwrap();
        format!("id-{}", (n * 5) % 7)
    };
    let mut by_title: Vec<String> = [
        "上海市",
        "徐汇区",
        "浦东新区",
        "长宁区",
        "闵行区",
        "静安区",
        "黄浦区",
    ]
    .iter()
    .map(|n| id_of(n))
    .collect();
    assert_eq!(order(Sort::TitleAsc), by_title);
    by_title.reverse();
    assert_eq!(order(Sort::TitleDesc), by_title);

    // published_at is 100 - position: the first name is the newest.
    let newest: Vec<String> = names.iter().map(|n| id_of(n)).collect();
    assert_eq!(order(Sort::Newest), newest);
    let oldest: Vec<String> = newest.iter().rev().cloned().collect();
    assert_eq!(order(Sort::Oldest), oldest);
}

#[test]
fn clauses_combine_alternatives_and_negations() {
    let idx = index();
    let facet = |f: FacetField, v: &str| Criterion::Facet(f, v.into());
    let mut query = q("");
    query.sort = Sort::IdAsc;
    // transport OR environment, and NOT provider sh-ecology.
    query.clauses = vec![
        Clause {
            any_of: vec![
                facet(FacetField::Domain, "transport"),
                facet(FacetField::Domain, "environment"),
            ],
            negated: false,
        },
        Clause {
            any_of: vec![facet(FacetField::Provider, "sh-ecology")],
            negated: true,
        },
    ];
    assert_eq!(ids(&idx.search(&query).unwrap()), ["1", "2"]);
    // A negation alone takes from everything.
    query.clauses = vec![Clause {
        any_of: vec![facet(FacetField::Domain, "transport")],
        negated: true,
    }];
    assert_eq!(ids(&idx.search(&query).unwrap()), ["3", "4"]);
    // By identifier, with words.
    let mut named = q("上海");
    named.sort = Sort::IdAsc;
    named.clauses = vec![Clause {
        any_of: vec![Criterion::Id("2".into()), Criterion::Id("4".into())],
        negated: false,
    }];
    assert_eq!(ids(&idx.search(&named).unwrap()), ["2", "4"]);
}

/// Issue 10: a visitor without a Chinese keyboard finds 公交 by its pinyin or initials.
#[test]
fn pinyin_and_its_initials_find_chinese_names() {
    let idx = index();
    for typed in ["gongjiao", "GongJiao", "gj", "gongjiao zhandian", "yanglao"] {
        let r = idx.search(&q(typed)).unwrap();
        assert!(!r.hits.is_empty(), "{typed}");
    }
    let r = idx.search(&q("gongjiao")).unwrap();
    let mut found = ids(&r);
    found.sort();
    assert_eq!(found, ["1", "2"]);
    assert_eq!(ids(&idx.search(&q("gongjiao zhandian")).unwrap()), ["1"]);
    assert_eq!(ids(&idx.search(&q("yanglao")).unwrap()), ["3"]);
}

/// Issue 10: entries may carry an English name and summary, and English finds them.
#[test]
fn english_names_and_summaries_are_searched_by_stem() {
    let idx = SearchIndex::in_memory().unwrap();
    let mut stops = doc("1", "上海市公交站点位置", "transport", "sh-transport", 10);
    stops.name_en = "Shanghai bus stop locations".into();
    let mut air = doc(
        "2",
        "上海市空气质量指数日报",
        "environment",
        "sh-ecology",
        20,
    );
    air.summary_en = "Daily air quality index of each monitoring station.".into();
    let plain = doc("3", "上海市公交线路", "transport", "sh-transport", 30);
    idx.apply(
        &[
            Change::Upsert(stops),
            Change::Upsert(air),
            Change::Upsert(plain),
        ],
        3,
    )
    .unwrap();
    assert_eq!(ids(&idx.search(&q("bus stops")).unwrap()), ["1"]);
    assert_eq!(ids(&idx.search(&q("Air Quality")).unwrap()), ["2"]);
    // A typo in an English word is forgiven.
    assert_eq!(ids(&idx.search(&q("bus stpos")).unwrap()), ["1"]);
}

/// Issue 10: words of the query that stand together in a name rank that name first.
#[test]
fn words_close_together_in_a_name_rank_higher() {
    let idx = SearchIndex::in_memory().unwrap();
    // Names of the same length with both words: only where they stand tells them apart.
    let near = doc(
        "near",
        "上海市空气质量监测站点汇总",
        "environment",
        "sh-ecology",
        10,
    );
    let far = doc(
        "far",
        "上海市空气污染与地表水质量",
        "environment",
        "sh-ecology",
        10,
    );
    // Other entries, as a catalogue has, so that the words are rare enough to weigh.
    let mut changes = vec![Change::Upsert(far), Change::Upsert(near)];
    for (i, other) in ["公交线路", "养老机构", "学校名录", "停车场泊位", "医疗机构"]
        .iter()
        .cycle()
        .take(40)
        .enumerate()
    {
        changes.push(Change::Upsert(doc(
            &format!("o{i}"),
            other,
            "other",
            "sh-x",
            1,
        )));
    }
    idx.apply(&changes, 42).unwrap();
    let r = idx.search(&q("空气 质量")).unwrap();
    assert_eq!(ids(&r), ["near", "far"]);
}
