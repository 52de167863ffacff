//! The sandbox (A21.2, A25.6): aggregates only, groups below the threshold never answered,
//! queries that single people out refused. Every expected figure is counted here from the rows
//! the test made.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use kaifang_data::arrow::array::{ArrayRef, Float64Array, Int64Array, StringArray};
use kaifang_data::arrow::datatypes::{DataType, Field, Schema};
use kaifang_data::arrow::record_batch::RecordBatch;
use kaifang_data::sandbox::{Mode, Rules, SandboxAnswer, SandboxError, run};
use kaifang_data::sql::{Limits, Source};
use proptest::prelude::*;

#[derive(Debug, Clone)]
struct Person {
    id: String,
    district: String,
    age: i64,
    income: f64,
}

fn write(path: &Path, people: &[Person]) {
    let schema = Arc::new(Schema::new(vec![
        Field::new("person_id", DataType::Utf8, false),
        Field::new("district", DataType::Utf8, false),
        Field::new("age", DataType::Int64, false),
        Field::new("income", DataType::Float64, false),
    ]));
    let columns: Vec<ArrayRef> = vec![
        Arc::new(StringArray::from_iter_values(people.iter().map(|p| &p.id))),
        Arc::new(StringArray::from_iter_values(
            people.iter().map(|p| &p.district),
        )),
        Arc::new(Int64Array::from_iter_values(people.iter().map(|p| p.age))),
        Arc::new(Float64Array::from_iter_values(
            people.iter().map(|p| p.income),
        )),
    ];
    let batch = RecordBatch::try_new(schema.clone(), columns).unwrap();
    let file = std::fs::File::create(path).unwrap();
    let mut w = kaifang_data::parquet::arrow::ArrowWriter::try_new(file, schema, None).unwrap();
    w.write(&batch).unwrap();
    w.close().unwrap();
}

/// District A: 20 people aged 20 to 39; B: 12 aged 40 to 51; C: 2 aged 60 and 61.
fn people() -> Vec<Person> {
    let mut out = Vec::new();
    let mut add = |district: &str, n: i64, first_age: i64| {
        for k in 0..n {
            let i = out.len();
            out.push(Person {
                id: format!("P{i:04}"),
                district: district.to_owned(),
                age: first_age + k,
                income: 1000.0 + 10.0 * i as f64,
            });
        }
    };
    add("A", 20, 20);
    add("B", 12, 40);
    add("C", 2, 60);
    out
}

fn rules(threshold: u64) -> Rules {
    Rules {
        threshold,
        limits: Limits::default(),
    }
}

async fn ask(dir: &Path, sql: &str, mode: Mode) -> Result<SandboxAnswer, SandboxError> {
    let table = Source::file("t", dir.join("t.parquet"));
    let mut rules = rules(5);
    // Fewer groups than the 34 people, so that grouping by person is past the bound.
    rules.limits.rows = 20;
    run(sql, &table, rules, mode).await
}

fn setup() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    write(&dir.path().join("t.parquet"), &people());
    dir
}

#[tokio::test]
async fn an_aggregate_is_answered_and_groups_too_small_are_left_out() {
    let dir = setup();
    let all = people();
    let sum = |d: &str| -> f64 {
        all.iter()
            .filter(|p| p.district == d)
            .map(|p| p.income)
            .sum()
    };

    // The whole table: one group of 34.
    let a = ask(
        dir.path(),
        "SELECT count(*), sum(income) FROM t",
        Mode::Exact,
    )
    .await
    .unwrap();
    assert_eq!(a.rows.len(), 1);
    assert_eq!(a.rows[0][0], serde_json::json!(34));
    assert!((a.rows[0][1].as_f64().unwrap() - (sum("A") + sum("B") + sum("C"))).abs() < 1e-6);
    assert_eq!(a.suppressed_groups, 0);

    // By district: C has 2 people, so it is suppressed; alone it would be the total less A
    // and B, so the smallest answered group (B) goes with it.
    let a = ask(
        dir.path(),
        "SELECT district, count(*) AS people, avg(income) FROM t GROUP BY district ORDER BY district",
        Mode::Exact,
    )
    .await
    .unwrap();
    assert_eq!(
        a.columns.iter().map(|c| c.0.as_str()).collect::<Vec<_>>(),
        ["district", "people", "avg(income)"]
    );
    assert_eq!(a.rows.len(), 1);
    assert_eq!(a.rows[0][0], serde_json::json!("A"));
    assert_eq!(a.rows[0][1], serde_json::json!(20));
    assert!((a.rows[0][2].as_f64().unwrap() - sum("A") / 20.0).abs() < 1e-6);
    assert_eq!(a.suppressed_groups, 2);

    // Grouped by a unique key, every group is a person: nothing is answered.
    let table = Source::file("t", dir.path().join("t.parquet"));
    let a = run(
        "SELECT person_id, count(*) FROM t GROUP BY person_id",
        &table,
        rules(5),
        Mode::Exact,
    )
    .await
    .unwrap();
    assert!(a.rows.is_empty());
    assert_eq!(a.suppressed_groups, 34);

    // A condition that keeps a few people: the one group is too small.
    let a = ask(
        dir.path(),
        "SELECT count(*), sum(income) FROM t WHERE district = 'C'",
        Mode::Exact,
    )
    .await;
    // Taking `district = 'C'` away changes the answer by 32 people, so it is not isolating;
    // the group of two is simply not answered.
    let a = a.unwrap();
    assert!(a.rows.is_empty());
    assert_eq!(a.suppressed_groups, 1);
}

#[tokio::test]
async fn queries_that_return_or_single_out_records_are_refused() {
    let dir = setup();
    for (sql, code) in [
        ("SELECT * FROM t", "sandbox_row_level"),
        ("SELECT person_id, income FROM t", "sandbox_row_level"),
        (
            "SELECT district FROM t GROUP BY district",
            "sandbox_row_level",
        ),
        (
            "SELECT a.district, count(*) FROM t a JOIN t b ON a.person_id = b.person_id GROUP BY a.district",
            "sandbox_join",
        ),
        ("SELECT count(*) FROM t, u", "sandbox_join"),
        (
            "SELECT count(*) FROM t WHERE person_id IN (SELECT person_id FROM t WHERE age = 61)",
            "sandbox_subquery",
        ),
        (
            "SELECT count(*) FROM (SELECT * FROM t WHERE age = 61) x",
            "sandbox_subquery",
        ),
        ("SELECT max(income) FROM t", "sandbox_aggregate"),
        (
            "SELECT district, min(age) FROM t GROUP BY district",
            "sandbox_aggregate",
        ),
        ("SELECT median(income) FROM t", "sandbox_aggregate"),
        ("SELECT first_value(person_id) FROM t", "sandbox_aggregate"),
        (
            "SELECT sum(CASE WHEN person_id = 'P0003' THEN income ELSE 0 END) FROM t",
            "sandbox_aggregate_argument",
        ),
        (
            "SELECT count(*) FILTER (WHERE person_id = 'P0003') FROM t",
            "sandbox_aggregate_argument",
        ),
        ("SELECT sum(*) FROM t", "sandbox_aggregate_argument"),
        (
            "SELECT district, count(*) FROM t GROUP BY district HAVING count(*) < 3",
            "sandbox_clause",
        ),
        (
            "SELECT district, count(*) FROM t GROUP BY district ORDER BY 2 LIMIT 1",
            "sandbox_clause",
        ),
        (
            "SELECT DISTINCT district, count(*) FROM t GROUP BY district",
            "sandbox_clause",
        ),
        (
            "SELECT count(*) FROM t UNION SELECT count(*) FROM t",
            "sandbox_clause",
        ),
        (
            "SELECT sum(income) OVER (ORDER BY age) FROM t",
            "sandbox_clause",
        ),
        (
            "WITH x AS (SELECT * FROM t) SELECT count(*) FROM x",
            "sandbox_clause",
        ),
        (
            "SELECT age = 61, count(*) FROM t GROUP BY age = 61",
            "sandbox_group_by",
        ),
        (
            "SELECT count(*) AS __kaifang_n FROM t",
            "sandbox_reserved_name",
        ),
        ("DELETE FROM t", "sql_not_select"),
        // Grouped finer than the groups an answer may have.
        (
            "SELECT person_id, age, count(*) FROM t GROUP BY person_id, age",
            "sandbox_too_many_groups",
        ),
        (
            "SELECT count(*) FROM read_parquet('/etc/passwd')",
            "sql_function",
        ),
    ] {
        let e = ask(dir.path(), sql, Mode::Exact).await.unwrap_err();
        assert_eq!(e.code(), code, "{sql}: {e}");
    }
}

#[tokio::test]
async fn a_condition_that_takes_away_or_adds_a_few_people_is_refused() {
    let dir = setup();
    // Each pair differs by one person: asked both ways, the difference is P0003's income.
    for (sql, condition) in [
        (
            "SELECT count(*), sum(income) FROM t WHERE district = 'A' AND person_id <> 'P0003'",
            "person_id <> 'P0003'",
        ),
        (
            "SELECT count(*), sum(income) FROM t WHERE NOT (person_id = 'P0003')",
            "person_id = 'P0003'",
        ),
        (
            "SELECT count(*), sum(income) FROM t WHERE district = 'B' OR person_id = 'P0003'",
            "person_id = 'P0003'",
        ),
        (
            "SELECT district, sum(income) FROM t WHERE age <> 25 GROUP BY district",
            "age <> 25",
        ),
        // A range that shaves one person off a group is the same attack.
        (
            "SELECT district, count(*), sum(income) FROM t WHERE age > 20 GROUP BY district",
            "age > 20",
        ),
    ] {
        match ask(dir.path(), sql, Mode::Exact).await {
            Err(SandboxError::Refused(r)) => {
                assert_eq!(r.code(), "sandbox_isolating", "{sql}");
                assert!(r.to_string().contains(condition), "{sql}: {r}");
            }
            other => panic!("{sql}: {other:?}"),
        }
    }
    // Conditions that move whole groups are answered.
    let a = ask(
        dir.path(),
        "SELECT district, count(*) FROM t WHERE age >= 20 AND district <> 'C' GROUP BY district ORDER BY district",
        Mode::Exact,
    )
    .await
    .unwrap();
    assert_eq!(
        a.rows,
        vec![
            vec![serde_json::json!("A"), serde_json::json!(20)],
            vec![serde_json::json!("B"), serde_json::json!(12)],
        ]
    );
}

#[tokio::test]
async fn the_noisy_mode_draws_every_measurement_and_reports_its_scale() {
    let dir = setup();
    let sql = "SELECT district, count(*), sum(income), avg(age) FROM t GROUP BY district";
    let a = ask(dir.path(), sql, Mode::Noisy { epsilon: 1.0 })
        .await
        .unwrap();
    let noise = a.noise.as_ref().unwrap();
    assert_eq!(noise.epsilon, 1.0);
    // Count, sum, average (a sum and a count) and the groups' sizes: five measurements.
    let incomes: Vec<f64> = people().iter().map(|p| p.income).collect();
    let largest = incomes.iter().cloned().fold(0.0, f64::max);
    assert_eq!(
        noise.scales,
        vec![
            ("count(*)".to_owned(), 5.0),
            ("sum(income)".to_owned(), 5.0 * largest),
            // Half the range of ages, 20 to 61.
            ("avg(age)".to_owned(), 5.0 * (61.0 - 20.0) / 2.0),
        ]
    );
    // A is answered (its noisy size is below 5 with a chance of e^-3 or so); its count is
    // near 20 with overwhelming probability.
    let a_row = a.rows.iter().find(|r| r[0] == serde_json::json!("A"));
    if let Some(row) = a_row {
        let n = row[1].as_i64().unwrap();
        assert!((n - 20).abs() < 120, "{n}");
    }
    // Two draws differ.
    let mut sums = Vec::new();
    for _ in 0..4 {
        let a = ask(
            dir.path(),
            "SELECT count(*), sum(income) FROM t",
            Mode::Noisy { epsilon: 1.0 },
        )
        .await
        .unwrap();
        if let Some(row) = a.rows.first() {
            sums.push(row[1].as_f64().unwrap());
        }
    }
    sums.dedup();
    assert!(sums.len() > 1, "{sums:?}");

    // Noise is calibrated to bare counts, sums and averages, in the order of their groups.
    for sql in [
        "SELECT sum(income) / count(*) FROM t",
        "SELECT district, count(*) FROM t GROUP BY district ORDER BY district",
        "SELECT count(DISTINCT district) FROM t",
    ] {
        let e = ask(dir.path(), sql, Mode::Noisy { epsilon: 1.0 })
            .await
            .unwrap_err();
        assert_eq!(e.code(), "sandbox_noise_shape", "{sql}");
    }
}

/// A condition of a generated query, evaluated here as well as by the sandbox.
#[derive(Debug, Clone)]
enum Cond {
    District(String),
    AgeAtLeast(i64),
    AgeBelow(i64),
    And(Box<Cond>, Box<Cond>),
    Or(Box<Cond>, Box<Cond>),
    Not(Box<Cond>),
}

impl Cond {
    fn sql(&self) -> String {
        match self {
            Cond::District(d) => format!("district = '{d}'"),
            Cond::AgeAtLeast(a) => format!("age >= {a}"),
            Cond::AgeBelow(a) => format!("age < {a}"),
            Cond::And(a, b) => format!("({} AND {})", a.sql(), b.sql()),
            Cond::Or(a, b) => format!("({} OR {})", a.sql(), b.sql()),
            Cond::Not(a) => format!("NOT ({})", a.sql()),
        }
    }

    fn holds(&self, p: &Person) -> bool {
        match self {
            Cond::District(d) => &p.district == d,
            Cond::AgeAtLeast(a) => p.age >= *a,
            Cond::AgeBelow(a) => p.age < *a,
            Cond::And(a, b) => a.holds(p) && b.holds(p),
            Cond::Or(a, b) => a.holds(p) || b.holds(p),
            Cond::Not(a) => !a.holds(p),
        }
    }
}

fn cond() -> impl Strategy<Value = Cond> {
    let leaf = prop_oneof![
        "[A-E]".prop_map(Cond::District),
        (18i64..80).prop_map(Cond::AgeAtLeast),
        (18i64..80).prop_map(Cond::AgeBelow),
    ];
    leaf.prop_recursive(2, 6, 2, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(a, b)| Cond::And(Box::new(a), Box::new(b))),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| Cond::Or(Box::new(a), Box::new(b))),
            inner.prop_map(|a| Cond::Not(Box::new(a))),
        ]
    })
}

fn population() -> impl Strategy<Value = Vec<Person>> {
    prop::collection::vec(("[A-E]", 18i64..80, 0u32..100_000), 0..160).prop_map(|rows| {
        rows.into_iter()
            .enumerate()
            .map(|(i, (district, age, income))| Person {
                id: format!("P{i:04}"),
                district,
                age,
                income: f64::from(income),
            })
            .collect()
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// Whatever the data and the query, no answered group holds fewer records than the
    /// threshold, and each count answered is the group's true size.
    #[test]
    fn no_group_below_the_threshold_is_ever_answered(
        people in population(),
        condition in prop::option::of(cond()),
        by_district in any::<bool>(),
        by_age in any::<bool>(),
        threshold in 2u64..12,
    ) {
        let dir = tempfile::tempdir().unwrap();
        write(&dir.path().join("t.parquet"), &people);
        let mut groups = Vec::new();
        if by_district { groups.push("district"); }
        if by_age { groups.push("age"); }
        let mut sql = String::from("SELECT ");
        for g in &groups { sql.push_str(g); sql.push_str(", "); }
        sql.push_str("count(*), sum(income) FROM t");
        if let Some(c) = &condition { sql.push_str(&format!(" WHERE {}", c.sql())); }
        if !groups.is_empty() { sql.push_str(&format!(" GROUP BY {}", groups.join(", "))); }

        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let table = Source::file("t", dir.path().join("t.parquet"));
        let answer = runtime.block_on(run(&sql, &table, rules(threshold), Mode::Exact));

        // The true groups, counted here.
        let mut truth: BTreeMap<(String, i64), (u64, f64)> = BTreeMap::new();
        for p in people.iter().filter(|p| condition.as_ref().is_none_or(|c| c.holds(p))) {
            let key = (
                if by_district { p.district.clone() } else { String::new() },
                if by_age { p.age } else { 0 },
            );
            let e = truth.entry(key).or_default();
            e.0 += 1;
            e.1 += p.income;
        }
        match answer {
            Ok(a) => {
                for row in &a.rows {
                    let key = (
                        if by_district { row[0].as_str().unwrap().to_owned() } else { String::new() },
                        if by_age { row[usize::from(by_district)].as_i64().unwrap() } else { 0 },
                    );
                    let (n, sum) = truth[&key];
                    prop_assert!(n >= threshold, "{sql}: a group of {n} answered");
                    prop_assert_eq!(row[groups.len()].as_u64().unwrap(), n);
                    prop_assert!((row[groups.len() + 1].as_f64().unwrap() - sum).abs() < 1e-6);
                }
                // What is left out holds no fewer records than the threshold, or none.
                let answered: u64 = a.rows.iter().map(|r| r[groups.len()].as_u64().unwrap()).sum();
                let left_out = truth.values().map(|v| v.0).sum::<u64>() - answered;
                prop_assert!(
                    a.rows.is_empty() || left_out == 0 || left_out >= threshold,
                    "{sql}: {left_out} left out"
                );
                if groups.is_empty() && truth.is_empty() {
                    prop_assert!(a.rows.is_empty() || a.rows[0][0].as_u64() == Some(0));
                }
            }
            Err(SandboxError::Refused(r)) => prop_assert_eq!(r.code(), "sandbox_isolating"),
            Err(e) => prop_assert!(false, "{sql}: {e}"),
        }
    }
}

#[tokio::test]
async fn a_query_differing_from_an_earlier_one_by_a_few_people_is_refused() {
    let dir = setup();
    let table = Source::file("t", dir.path().join("t.parquet"));
    // A is 20 people aged 20 to 39: `age >= 30` and `age >= 31` differ by the one aged 30.
    let first = "SELECT district, count(*), sum(income) FROM t WHERE age >= 30 GROUP BY district";
    let second = "SELECT district, count(*), sum(income) FROM t WHERE age >= 31 GROUP BY district";
    let history = vec![first.to_owned()];
    let e = kaifang_data::sandbox::run_after(second, &table, rules(5), Mode::Exact, &history)
        .await
        .unwrap_err();
    assert_eq!(e.code(), "sandbox_differencing", "{e}");
    assert!(e.to_string().contains("age >= 30"), "{e}");
    // Without the earlier answer it stands alone; grouped differently, it is not compared.
    assert!(run(second, &table, rules(5), Mode::Exact).await.is_ok());
    let other = "SELECT count(*), sum(income) FROM t WHERE age >= 31";
    assert!(
        kaifang_data::sandbox::run_after(other, &table, rules(5), Mode::Exact, &history)
            .await
            .is_ok()
    );
    // Asked again as it was, it is the same answer: nothing new.
    assert!(
        kaifang_data::sandbox::run_after(first, &table, rules(5), Mode::Exact, &history)
            .await
            .is_ok()
    );
    // Differing by whole groups' worth of records is answered.
    let wide = "SELECT district, count(*), sum(income) FROM t WHERE age >= 40 GROUP BY district";
    assert!(
        kaifang_data::sandbox::run_after(wide, &table, rules(5), Mode::Exact, &history)
            .await
            .is_ok()
    );
}
