//! Read-only SQL over open data (DataFusion): one SELECT, whose tables are entries named by id
//! or by name, each its current version's Parquet file. The gate parses the text before any
//! plan is made — one query, nothing that writes, no table function — and the plan is checked
//! again to read only the tables named; the query runs with a memory pool, a time limit and a
//! row cap, and going over any of them is an error that names the limit.

use std::ops::ControlFlow;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use arrow::record_batch::RecordBatch;
use datafusion::execution::memory_pool::GreedyMemoryPool;
use datafusion::execution::runtime_env::RuntimeEnvBuilder;
use datafusion::prelude::{
    Expr, ParquetReadOptions, SQLOptions, SessionConfig, SessionContext, cast, ident, lit,
};
use datafusion::scalar::ScalarValue;
use datafusion::sql::sqlparser::ast::{Statement, TableFactor, Visit, Visitor};
use datafusion::sql::sqlparser::dialect::GenericDialect;
use datafusion::sql::sqlparser::parser::Parser;

/// Characters a query may have.
pub const MAX_SQL_CHARS: usize = 10_000;
/// How deep a query's expressions may nest: parentheses, CASE inside CASE, and operators over
/// operators (`1 + 1 + … + 1` is as deep as it is long). Parsing and planning recurse once per
/// level, and a query of ten thousand characters could otherwise exhaust a thread's stack.
pub const MAX_DEPTH: usize = 48;
/// Parentheses one inside another, and CASE inside CASE, checked before anything is parsed.
const MAX_NESTING: usize = 16;
/// Tables one query may read.
pub const MAX_TABLES: usize = 8;

#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub time: Duration,
    pub memory_bytes: usize,
    pub rows: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            time: Duration::from_secs(10),
            memory_bytes: 256 << 20,
            rows: 100_000,
        }
    }
}

/// A table a query may read: an entry's Parquet file, whole, or — for data delivered under an
/// agreement — a view of it that has only the columns granted and the rows the grant's filters
/// keep, so that no query can reach past them.
#[derive(Debug, Clone)]
pub struct Source {
    pub name: String,
    pub path: PathBuf,
    pub view: Option<View>,
}

impl Source {
    /// The whole file.
    pub fn file(name: impl Into<String>, path: PathBuf) -> Self {
        Source {
            name: name.into(),
            path,
            view: None,
        }
    }
}

/// The part of a file a query sees.
#[derive(Debug, Clone)]
pub struct View {
    pub columns: Vec<String>,
    /// Conditions every row meets, as the records API parses them.
    pub filters: Vec<crate::query::Filter>,
}

/// `f` as an expression over a table of `schema`, its values cast to the column's type.
fn condition(
    schema: &arrow::datatypes::Schema,
    f: &crate::query::Filter,
) -> Result<Expr, SqlError> {
    use crate::query::{Op, Scalar};
    let field = schema
        .field_with_name(&f.field)
        .map_err(|e| SqlError::Failed(e.to_string()))?;
    let value = |v: &Scalar| {
        let s = match v {
            Scalar::Text(t) => ScalarValue::Utf8(Some(t.clone())),
            Scalar::Integer(i) => ScalarValue::Int64(Some(*i)),
            Scalar::Decimal(d) => ScalarValue::Float64(Some(*d)),
            Scalar::Boolean(b) => ScalarValue::Boolean(Some(*b)),
            Scalar::Date(d) => ScalarValue::Date32(Some(*d)),
            Scalar::DateTime(t) => ScalarValue::TimestampMillisecond(Some(*t), None),
        };
        cast(lit(s), field.data_type().clone())
    };
    let column = ident(f.field.as_str());
    let first = f
        .values
        .first()
        .map(value)
        .ok_or_else(|| SqlError::Failed("a filter without a value".into()))?;
    Ok(match f.op {
        Op::Eq => column.eq(first),
        Op::Ne => column.not_eq(first),
        Op::Gt => column.gt(first),
        Op::Gte => column.gt_eq(first),
        Op::Lt => column.lt(first),
        Op::Lte => column.lt_eq(first),
        Op::In => column.in_list(f.values.iter().map(value).collect(), false),
        Op::IsNull => match f.values.first() {
            Some(Scalar::Boolean(false)) => column.is_not_null(),
            _ => column.is_null(),
        },
        Op::Contains | Op::StartsWith => {
            return Err(SqlError::Failed("a view filters by comparison only".into()));
        }
    })
}

/// Every name a query uses for a column, table or alias, in any part of it: what a view's
/// hidden columns are checked against before the query is planned.
pub fn identifiers(sql: &str) -> Result<Vec<String>, SqlError> {
    let statements = Parser::parse_sql(&GenericDialect {}, sql)
        .map_err(|e| SqlError::Syntax(e.to_string().chars().take(300).collect()))?;
    let mut names = Vec::new();
    let _ = datafusion::sql::sqlparser::ast::visit_expressions(&statements, |e| {
        use datafusion::sql::sqlparser::ast::Expr as E;
        match e {
            E::Identifier(i) => names.push(i.value.clone()),
            E::CompoundIdentifier(parts) => names.extend(parts.iter().map(|i| i.value.clone())),
            _ => {}
        }
        ControlFlow::<()>::Continue(())
    });
    Ok(names)
}

/// Why a query was not run, or stopped.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SqlError {
    #[error("the query is longer than {MAX_SQL_CHARS} characters")]
    TooLong,
    #[error("the query cannot be read: {0}")]
    Syntax(String),
    #[error("square brackets (subscripts and arrays) are not supported")]
    Brackets,
    #[error("one SELECT statement only")]
    NotOneSelect,
    #[error(
        "the query nests too deeply (at most {MAX_NESTING} parentheses or CASEs one inside another, and {MAX_DEPTH} operators over operators): use IN (…) for long lists"
    )]
    TooDeep,
    #[error("table functions are not allowed: {0}")]
    Function(String),
    #[error("a query reads at most {MAX_TABLES} tables")]
    TooManyTables,
    #[error("no open table {0}")]
    UnknownTable(String),
    #[error("the query cannot be planned: {0}")]
    Plan(String),
    #[error("the query ran past its time limit of {0} seconds")]
    TimeLimit(u64),
    #[error("the query needed more than its memory limit of {0} MB")]
    MemoryLimit(usize),
    #[error("the answer has more than the row limit of {0} rows: add a LIMIT or aggregate")]
    RowLimit(usize),
    #[error("the query failed: {0}")]
    Failed(String),
}

impl SqlError {
    pub fn code(&self) -> &'static str {
        match self {
            SqlError::TooLong => "sql_too_long",
            SqlError::Syntax(_) => "sql_syntax",
            SqlError::Brackets => "sql_brackets",
            SqlError::NotOneSelect => "sql_not_select",
            SqlError::TooDeep => "sql_too_deep",
            SqlError::Function(_) => "sql_function",
            SqlError::TooManyTables => "sql_too_many_tables",
            SqlError::UnknownTable(_) => "sql_unknown_table",
            SqlError::Plan(_) => "sql_plan",
            SqlError::TimeLimit(_) => "sql_time_limit",
            SqlError::MemoryLimit(_) => "sql_memory_limit",
            SqlError::RowLimit(_) => "sql_row_limit",
            SqlError::Failed(_) => "sql_failed",
        }
    }
}

/// Functions whose answer grows with an argument (a string of a billion characters is one
/// call away): refused, since no memory pool accounts for a single value.
const UNBOUNDED: &[&str] = &[
    "repeat",
    "lpad",
    "rpad",
    "overlay",
    "concat_ws",
    "string_agg",
    "array_agg",
];

/// Collects the tables a query reads, and refuses table functions and unbounded ones.
#[derive(Default)]
struct Relations {
    tables: Vec<String>,
    function: Option<String>,
}

impl Visitor for Relations {
    type Break = ();

    fn pre_visit_expr(&mut self, e: &datafusion::sql::sqlparser::ast::Expr) -> ControlFlow<()> {
        if let datafusion::sql::sqlparser::ast::Expr::Function(f) = e {
            let name = f.name.to_string().to_ascii_lowercase();
            let name = name
                .rsplit('.')
                .next()
                .unwrap_or(&name)
                .trim_matches('"')
                .to_owned();
            if UNBOUNDED.contains(&name.as_str()) {
                self.function = Some(name);
                return ControlFlow::Break(());
            }
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_table_factor(&mut self, t: &TableFactor) -> ControlFlow<()> {
        match t {
            TableFactor::Table { name, args, .. } => {
                if args.is_some() {
                    self.function = Some(name.to_string());
                    return ControlFlow::Break(());
                }
                // The last part of a qualified name: schemas are not ours to name.
                let last = name
                    .0
                    .last()
                    .and_then(|p| p.as_ident())
                    .map(|i| i.value.clone())
                    .unwrap_or_else(|| name.to_string());
                if !self.tables.contains(&last) {
                    self.tables.push(last);
                }
            }
            TableFactor::TableFunction { .. } | TableFactor::Function { .. } => {
                self.function = Some(t.to_string());
                return ControlFlow::Break(());
            }
            _ => {}
        }
        ControlFlow::Continue(())
    }
}

/// Whether `sql` has a square bracket anywhere. The SQL parser's time grows exponentially with
/// chains of names and subscripts (`a.b.c[` again and again: seventy characters take seconds,
/// found by the `sql_gate` fuzz target), and open data has no arrays to subscript, so brackets
/// are refused before anything is parsed — inside strings too, since telling where a string
/// ends the way the parser would (dollar quotes, escapes) is the parser's job.
fn has_brackets(sql: &str) -> bool {
    sql.contains(['[', ']'])
}

/// Whether the tokens of `sql` nest deeper than the parser should be asked to follow:
/// parentheses or CASEs one inside another, or a run of prefix operators (`NOT NOT …`,
/// `- - …`), each of which the parser meets by recursing. Tokenizing does not recurse.
fn nests_too_deep(sql: &str) -> Result<bool, SqlError> {
    use datafusion::sql::sqlparser::keywords::Keyword;
    use datafusion::sql::sqlparser::tokenizer::{Token, Tokenizer};
    let tokens = Tokenizer::new(&GenericDialect {}, sql)
        .tokenize()
        .map_err(|e| SqlError::Syntax(e.to_string().chars().take(300).collect()))?;
    let (mut parens, mut cases, mut prefix) = (0usize, 0usize, 0usize);
    for t in tokens {
        match &t {
            Token::Whitespace(_) => continue,
            Token::LParen => parens += 1,
            Token::RParen => parens = parens.saturating_sub(1),
            Token::Word(w) if w.keyword == Keyword::CASE => cases += 1,
            Token::Word(w) if w.keyword == Keyword::END => cases = cases.saturating_sub(1),
            _ => {}
        }
        let is_prefix = matches!(&t, Token::Minus | Token::Plus | Token::Tilde)
            || matches!(&t, Token::Word(w) if w.keyword == Keyword::NOT);
        prefix = if is_prefix { prefix + 1 } else { 0 };
        if parens > MAX_NESTING || cases > MAX_NESTING / 2 || prefix > MAX_NESTING / 2 {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Whether an expression of `statement` lies more than [`MAX_DEPTH`] expressions deep. The
/// visit stops at that depth, so it recurses no deeper itself.
fn deeper_than_allowed(statement: &Statement) -> bool {
    struct Depth {
        now: usize,
    }
    impl Visitor for Depth {
        type Break = ();
        fn pre_visit_expr(&mut self, _: &datafusion::sql::sqlparser::ast::Expr) -> ControlFlow<()> {
            self.now += 1;
            if self.now > MAX_DEPTH {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        }
        fn post_visit_expr(
            &mut self,
            _: &datafusion::sql::sqlparser::ast::Expr,
        ) -> ControlFlow<()> {
            self.now -= 1;
            ControlFlow::Continue(())
        }
    }
    statement.visit(&mut Depth { now: 0 }).is_break()
}

/// The tables `sql` reads, once it is known to be one SELECT without table functions.
pub fn tables_of(sql: &str) -> Result<Vec<String>, SqlError> {
    if sql.chars().count() > MAX_SQL_CHARS {
        return Err(SqlError::TooLong);
    }
    if has_brackets(sql) {
        return Err(SqlError::Brackets);
    }
    if nests_too_deep(sql)? {
        return Err(SqlError::TooDeep);
    }
    let statements = Parser::parse_sql(&GenericDialect {}, sql)
        .map_err(|e| SqlError::Syntax(e.to_string().chars().take(300).collect()))?;
    let [statement @ Statement::Query(query)] = statements.as_slice() else {
        return Err(SqlError::NotOneSelect);
    };
    if deeper_than_allowed(statement) {
        return Err(SqlError::TooDeep);
    }
    let mut r = Relations::default();
    let _ = query.visit(&mut r);
    if let Some(f) = r.function {
        return Err(SqlError::Function(f.chars().take(100).collect()));
    }
    // A common table expression is the query's own, not an entry.
    let ctes: Vec<String> = query
        .with
        .iter()
        .flat_map(|w| w.cte_tables.iter().map(|c| c.alias.name.value.clone()))
        .collect();
    r.tables.retain(|t| !ctes.contains(t));
    if r.tables.len() > MAX_TABLES {
        return Err(SqlError::TooManyTables);
    }
    Ok(r.tables)
}

/// `batch` with its columns in the types the platform writes out: whole numbers as 64-bit
/// integers, other numbers as 64-bit floats, text as plain UTF-8, times in milliseconds;
/// anything else as its text.
pub fn normalize(batch: &RecordBatch) -> Result<RecordBatch, SqlError> {
    use arrow::datatypes::{DataType, Field, Schema, TimeUnit};
    let mut fields = Vec::new();
    let mut columns = Vec::new();
    for (f, c) in batch.schema().fields().iter().zip(batch.columns()) {
        let to = match f.data_type() {
            DataType::Int64
            | DataType::Float64
            | DataType::Utf8
            | DataType::Boolean
            | DataType::Date32
            | DataType::Null => f.data_type().clone(),
            DataType::Timestamp(TimeUnit::Millisecond, None) => f.data_type().clone(),
            DataType::Int8
            | DataType::Int16
            | DataType::Int32
            | DataType::UInt8
            | DataType::UInt16
            | DataType::UInt32
            | DataType::UInt64 => DataType::Int64,
            DataType::Float16
            | DataType::Float32
            | DataType::Decimal128(_, _)
            | DataType::Decimal256(_, _) => DataType::Float64,
            DataType::Timestamp(_, _) | DataType::Date64 => {
                DataType::Timestamp(TimeUnit::Millisecond, None)
            }
            _ => DataType::Utf8,
        };
        let column = if &to == f.data_type() {
            c.clone()
        } else {
            arrow::compute::cast(c, &to).map_err(|e| SqlError::Failed(e.to_string()))?
        };
        fields.push(Field::new(f.name(), to, true));
        columns.push(column);
    }
    RecordBatch::try_new(Arc::new(Schema::new(fields)), columns)
        .map_err(|e| SqlError::Failed(e.to_string()))
}

/// The answer of a query.
#[derive(Debug)]
pub struct Answer {
    pub batches: Vec<RecordBatch>,
    pub rows: usize,
}

/// A session whose tables are `tables` (as named in the query), each read from its Parquet
/// file or its view of one, with `limits`' memory pool.
pub(crate) async fn context(tables: &[Source], limits: Limits) -> Result<SessionContext, SqlError> {
    let runtime = RuntimeEnvBuilder::new()
        .with_memory_pool(Arc::new(GreedyMemoryPool::new(limits.memory_bytes)))
        .build_arc()
        .map_err(|e| SqlError::Failed(e.to_string()))?;
    let config = SessionConfig::new()
        .with_target_partitions(2)
        .with_information_schema(false);
    let ctx = SessionContext::new_with_config_rt(config, runtime);
    let failed = |e: datafusion::error::DataFusionError| SqlError::Failed(e.to_string());
    for t in tables {
        let path = t.path.to_string_lossy();
        match &t.view {
            None => ctx
                .register_parquet(&t.name, path.as_ref(), ParquetReadOptions::default())
                .await
                .map_err(failed)?,
            Some(view) => {
                let mut df = ctx
                    .read_parquet(path.as_ref(), ParquetReadOptions::default())
                    .await
                    .map_err(failed)?;
                let schema = df.schema().as_arrow().clone();
                for f in &view.filters {
                    df = df.filter(condition(&schema, f)?).map_err(failed)?;
                }
                let columns: Vec<_> = view.columns.iter().map(|c| ident(c.as_str())).collect();
                df = df.select(columns).map_err(failed)?;
                ctx.register_table(t.name.as_str(), df.into_view())
                    .map_err(failed)?;
            }
        }
    }
    Ok(ctx)
}

/// Plans and runs `sql` in `ctx`, read-only, keeping at most one row past `limits.rows` (so an
/// answer over the cap is told from one at it). Time is the caller's to limit.
pub(crate) async fn collect(
    ctx: &SessionContext,
    sql: &str,
    limits: Limits,
) -> Result<Vec<RecordBatch>, SqlError> {
    let options = SQLOptions::new()
        .with_allow_ddl(false)
        .with_allow_dml(false)
        .with_allow_statements(false);
    let memory_mb = limits.memory_bytes >> 20;
    let classify = |e: datafusion::error::DataFusionError| {
        let text = e.to_string();
        if text.contains("Resources exhausted") {
            SqlError::MemoryLimit(memory_mb)
        } else {
            SqlError::Failed(text.chars().take(300).collect())
        }
    };
    let df = ctx
        .sql_with_options(sql, options)
        .await
        .map_err(|e| match e {
            e @ datafusion::error::DataFusionError::ResourcesExhausted(_) => classify(e),
            other => SqlError::Plan(other.to_string().chars().take(300).collect()),
        })?;
    let df = df
        .limit(0, Some(limits.rows + 1))
        .map_err(|e| SqlError::Plan(e.to_string()))?;
    df.collect().await.map_err(classify)
}

/// Runs `work` within `limits.time`: past it, or finished between two looks at the clock, it
/// is the time limit's error all the same.
pub(crate) async fn timed<T, E: From<SqlError>>(
    limits: Limits,
    work: impl std::future::Future<Output = Result<T, E>>,
) -> Result<T, E> {
    let started = std::time::Instant::now();
    let out = tokio::time::timeout(limits.time, work)
        .await
        .map_err(|_| SqlError::TimeLimit(limits.time.as_secs()))??;
    if started.elapsed() > limits.time {
        return Err(SqlError::TimeLimit(limits.time.as_secs()).into());
    }
    Ok(out)
}

/// Runs `sql` with each table of `tables` (as named in the query) read from its Parquet file.
pub async fn run(sql: &str, tables: &[Source], limits: Limits) -> Result<Answer, SqlError> {
    let batches = timed(limits, async {
        let ctx = context(tables, limits).await?;
        collect(&ctx, sql, limits).await
    })
    .await?;
    let rows = batches.iter().map(RecordBatch::num_rows).sum();
    if rows > limits.rows {
        return Err(SqlError::RowLimit(limits.rows));
    }
    let batches = batches
        .iter()
        .map(normalize)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Answer { batches, rows })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn brackets_are_refused_before_parsing() {
        // The fuzz target's slow input, shortened: `a.b.c.d[` eight times took seconds.
        let slow = format!("SELECT {}", "a.b.c.d[".repeat(40));
        assert_eq!(tables_of(&slow), Err(SqlError::Brackets));
        assert_eq!(tables_of("SELECT x[1] FROM t"), Err(SqlError::Brackets));
        // A dollar-quoted string hides no bracket from the gate.
        assert_eq!(
            tables_of("SELECT $$ ' $$, a.b[1] FROM t"),
            Err(SqlError::Brackets)
        );
        assert_eq!(tables_of("SELECT 'a' FROM t"), Ok(vec!["t".to_owned()]));
    }

    #[test]
    fn only_one_select_without_table_functions_passes_the_gate() {
        assert_eq!(
            tables_of(
                r#"SELECT d, count(*) FROM "上海市持证企业" t JOIN b ON t.x = b.x GROUP BY d"#
            )
            .unwrap(),
            ["上海市持证企业", "b"]
        );
        assert_eq!(
            tables_of("WITH x AS (SELECT * FROM a) SELECT * FROM x").unwrap(),
            ["a"]
        );
        for (sql, code) in [
            ("DELETE FROM a", "sql_not_select"),
            ("DROP TABLE a", "sql_not_select"),
            ("SELECT 1; SELECT 2", "sql_not_select"),
            ("COPY a TO '/tmp/x.csv'", "sql_not_select"),
            (
                "CREATE EXTERNAL TABLE x STORED AS CSV LOCATION '/etc/passwd'",
                "sql_syntax",
            ),
            (
                "SELECT * FROM generate_series(1, 100000000000)",
                "sql_function",
            ),
            ("SELECT * FROM read_parquet('/etc/passwd')", "sql_function"),
            ("SELECT repeat('x', 2000000000) FROM a", "sql_function"),
            ("SELECT \"LPAD\"('x', 2000000000) FROM a", "sql_function"),
            ("SELEC 1", "sql_syntax"),
        ] {
            assert_eq!(tables_of(sql).unwrap_err().code(), code, "{sql}");
        }
        assert_eq!(
            tables_of(&"x".repeat(MAX_SQL_CHARS + 1)).unwrap_err(),
            SqlError::TooLong
        );
    }

    /// Each shape that makes the parser or the planner recurse once per level, at its bound
    /// and past it; run on a thread with a small stack so that a bound too loose would show.
    #[test]
    fn nesting_past_the_bounds_is_refused_before_it_is_followed() {
        let depth = |n: usize| -> Vec<(String, bool)> {
            vec![
                (
                    format!(
                        "SELECT count(*) FROM t WHERE {}a = 1{}",
                        "(".repeat(n),
                        ")".repeat(n)
                    ),
                    n <= MAX_NESTING,
                ),
                (
                    format!("SELECT {} FROM t", vec!["1"; n].join("+")),
                    n <= MAX_DEPTH,
                ),
                (
                    format!("SELECT count(*) FROM t WHERE {}a = 1", "NOT ".repeat(n)),
                    n <= MAX_NESTING / 2,
                ),
                (format!("SELECT {}1", "- ".repeat(n)), n <= MAX_NESTING / 2),
                (
                    format!(
                        "SELECT {}1{} FROM t",
                        "CASE WHEN a = 1 THEN ".repeat(n),
                        " END".repeat(n)
                    ),
                    n <= MAX_NESTING / 2,
                ),
            ]
        };
        let outcome = std::thread::Builder::new()
            .stack_size(2 << 20)
            .spawn(move || {
                let mut wrong = Vec::new();
                // 400 levels of CASE fit in the length a query may have; a chain of 4,900
                // additions is as long as a query may be, and is parsed (and dropped) whole.
                for n in [
                    4,
                    MAX_NESTING / 2,
                    MAX_NESTING,
                    MAX_DEPTH,
                    MAX_DEPTH + 1,
                    400,
                    4_900,
                ] {
                    for (sql, passes) in depth(n) {
                        if sql.chars().count() > MAX_SQL_CHARS {
                            continue;
                        }
                        let got = tables_of(&sql);
                        let deep = got == Err(SqlError::TooDeep);
                        if deep == passes {
                            wrong.push(format!("{n}: {got:?} {}", &sql[..sql.len().min(60)]));
                        }
                    }
                }
                wrong
            })
            .unwrap()
            .join()
            .unwrap();
        assert!(outcome.is_empty(), "{outcome:#?}");
    }
}
