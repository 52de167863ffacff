//! Sandbox delivery (A21.2, A25.6): SQL over conditional data that answers aggregates only.
//! The data never leaves the platform; what leaves is counts, sums and averages of groups of
//! at least a threshold of records.
//!
//! A query is held to a narrow shape before anything runs: one entry, no join and no subquery
//! (which could pick one person out of another table), every output a count, sum or average
//! of a data item as it is or a data item grouped by, no HAVING, LIMIT or DISTINCT (which
//! choose groups, and so let the complement of an answer be read off another). Then:
//!
//! - **Suppression.** A group of fewer than the threshold's records is not answered; when the
//!   groups suppressed hold fewer than the threshold's records together, the smallest answered
//!   groups are suppressed with them (secondary suppression), so a total asked separately
//!   does not give them away by subtraction.
//! - **Isolating conditions.** Each condition of the WHERE clause is tried as if it were not
//!   there (as true, and as false): when that changes the records of any answered group by
//!   more than none and fewer than the threshold, the query is refused — with and without it,
//!   two answers would differ by a few people, which is the differencing attack.
//! - **Noise.** In the differential-privacy mode each measurement gets Laplace noise of scale
//!   (sensitivity × measurements ÷ ε), so one query spends ε of the agreement's budget; the
//!   groups' sizes are measured with noise too, and suppression reads the noisy size.

use std::ops::ControlFlow;

use arrow::array::{Array, Float64Array};
use arrow::datatypes::DataType;
use arrow::record_batch::RecordBatch;
use datafusion::sql::sqlparser::ast::{
    self as ast, BinaryOperator, Expr, FunctionArg, FunctionArgExpr, FunctionArguments,
    GroupByExpr, SelectItem, SetExpr, Statement, TableFactor, UnaryOperator,
};
use datafusion::sql::sqlparser::dialect::GenericDialect;
use datafusion::sql::sqlparser::parser::Parser;

use crate::sql::{Limits, Source, SqlError};

/// Conditions (the leaves of its AND, OR and NOT) a WHERE clause may have.
pub const MAX_CONDITIONS: usize = 8;
/// The prefix of the names the sandbox gives its own columns; a query may not use it.
const HIDDEN: &str = "__kaifang";

/// How a sandbox answers.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Mode {
    /// Exact aggregates, small groups suppressed.
    Exact,
    /// Differential privacy: one query spends `epsilon`.
    Noisy { epsilon: f64 },
}

/// What the sandbox holds every query to.
#[derive(Debug, Clone, Copy)]
pub struct Rules {
    /// The fewest records an answered group holds.
    pub threshold: u64,
    /// Time and memory for the query and its checks together; `rows` bounds the groups.
    pub limits: Limits,
}

/// Why the sandbox does not answer a query.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error(
        "the sandbox answers aggregates only: every output is a count, sum or average, or a data item the query groups by"
    )]
    RowLevel,
    #[error("a sandbox query reads one entry, without joins")]
    Join,
    #[error("a sandbox query reads one entry the agreement grants in the sandbox")]
    NoEntry,
    #[error("a sandbox query has no subqueries")]
    Subquery,
    #[error("{0} gives one record's value; the sandbox answers count, sum and avg")]
    Aggregate(String),
    #[error(
        "an aggregate takes a data item as it is (count(*), count(x), sum(x), avg(x)); conditions go in WHERE"
    )]
    AggregateArgument,
    #[error("{0} is not answered in the sandbox")]
    Clause(&'static str),
    #[error("group by data items, or date_trunc or date_part of one")]
    GroupBy,
    #[error("a WHERE clause has at most {MAX_CONDITIONS} conditions")]
    TooManyConditions,
    #[error(
        "the condition {0} changes the answer by fewer records than the threshold: with and without it, two answers would single people out"
    )]
    Isolating(String),
    #[error(
        "with noise, each output is count(*), count(x), sum(x) or avg(x) of a data item, or a data item grouped by, without ORDER BY"
    )]
    NoiseShape,
    #[error("names starting with {HIDDEN} are the sandbox's own")]
    Reserved,
    #[error("the answer would have more than {0} groups: group by fewer or coarser items")]
    TooManyGroups(usize),
    #[error(
        "with an earlier query ({0}), the answer would differ by fewer records than the threshold: the two would single people out"
    )]
    Differencing(String),
}

impl Refusal {
    /// What exactly was refused, when the code alone does not say: the condition, the
    /// aggregate or the clause.
    pub fn detail(&self) -> Option<&str> {
        match self {
            Refusal::Aggregate(d) | Refusal::Isolating(d) | Refusal::Differencing(d) => Some(d),
            Refusal::Clause(c) => Some(c),
            _ => None,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            Refusal::RowLevel => "sandbox_row_level",
            Refusal::Join => "sandbox_join",
            Refusal::NoEntry => "sandbox_no_entry",
            Refusal::Subquery => "sandbox_subquery",
            Refusal::Aggregate(_) => "sandbox_aggregate",
            Refusal::AggregateArgument => "sandbox_aggregate_argument",
            Refusal::Clause(_) => "sandbox_clause",
            Refusal::GroupBy => "sandbox_group_by",
            Refusal::TooManyConditions => "sandbox_too_many_conditions",
            Refusal::Isolating(_) => "sandbox_isolating",
            Refusal::NoiseShape => "sandbox_noise_shape",
            Refusal::Reserved => "sandbox_reserved_name",
            Refusal::TooManyGroups(_) => "sandbox_too_many_groups",
            Refusal::Differencing(_) => "sandbox_differencing",
        }
    }
}

/// A query refused by the sandbox, or refused or stopped as any query is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SandboxError {
    #[error(transparent)]
    Refused(#[from] Refusal),
    #[error(transparent)]
    Sql(#[from] SqlError),
}

impl SandboxError {
    pub fn code(&self) -> &'static str {
        match self {
            SandboxError::Refused(r) => r.code(),
            SandboxError::Sql(e) => e.code(),
        }
    }
}

/// The noise an answer carries.
#[derive(Debug, Clone, PartialEq)]
pub struct NoiseReport {
    /// The privacy budget the query spent.
    pub epsilon: f64,
    /// The Laplace scale of each output that carries noise, by its name.
    pub scales: Vec<(String, f64)>,
}

/// A sandbox's answer: the groups answered, and how many were not.
#[derive(Debug, Clone, PartialEq)]
pub struct SandboxAnswer {
    pub columns: Vec<(String, DataType)>,
    pub rows: Vec<Vec<serde_json::Value>>,
    /// Groups left out: too small, or suppressed with those too small.
    pub suppressed_groups: usize,
    pub noise: Option<NoiseReport>,
}

/// An aggregate the sandbox answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Measure {
    Count,
    Sum,
    Avg,
}

/// One output of a query.
#[derive(Debug, Clone)]
enum Output {
    Group,
    /// A bare aggregate of a data item, as the query writes it (`None`: `count(*)`).
    Bare(Measure, Option<String>),
    /// Anything else built of aggregates (`sum(a) / count(*)`): answered exactly only.
    Composite,
}

/// A query that has the sandbox's shape.
#[derive(Debug)]
struct Shape {
    query: ast::Query,
    relation: String,
    groups: Vec<Expr>,
    outputs: Vec<(String, Output)>,
    condition: Option<Expr>,
}

fn function_name(f: &ast::Function) -> String {
    let name = f.name.to_string().to_ascii_lowercase();
    name.rsplit('.')
        .next()
        .unwrap_or(&name)
        .trim_matches('"')
        .to_owned()
}

fn allowed_measure(name: &str) -> Option<Measure> {
    match name {
        "count" => Some(Measure::Count),
        "sum" => Some(Measure::Sum),
        "avg" | "mean" => Some(Measure::Avg),
        _ => None,
    }
}

/// Aggregates that return a record's own value, or a list of them, or that the sandbox does
/// not calibrate noise for.
fn refused_aggregate(name: &str) -> bool {
    const NAMES: &[&str] = &[
        "min",
        "max",
        "median",
        "first_value",
        "last_value",
        "nth_value",
        "any_value",
        "array_agg",
        "string_agg",
        "listagg",
        "grouping",
        "corr",
        "mode",
    ];
    const PREFIXES: &[&str] = &[
        "approx_",
        "regr_",
        "var",
        "stddev",
        "covar",
        "percentile",
        "bit_",
        "bool_",
    ];
    NAMES.contains(&name) || PREFIXES.iter().any(|p| name.starts_with(p))
}

fn is_column(e: &Expr) -> bool {
    matches!(e, Expr::Identifier(_) | Expr::CompoundIdentifier(_))
}

/// The one argument of `f` when it is a data item as it is; `Ok(None)` for `*`.
fn bare_argument(f: &ast::Function) -> Result<Option<Expr>, Refusal> {
    let FunctionArguments::List(list) = &f.args else {
        return Err(Refusal::AggregateArgument);
    };
    if !list.clauses.is_empty() || f.filter.is_some() || !f.within_group.is_empty() {
        return Err(Refusal::AggregateArgument);
    }
    match list.args.as_slice() {
        [FunctionArg::Unnamed(FunctionArgExpr::Wildcard)] => Ok(None),
        [FunctionArg::Unnamed(FunctionArgExpr::Expr(e))] if is_column(e) => Ok(Some(e.clone())),
        _ => Err(Refusal::AggregateArgument),
    }
}

/// Checks every function in `e`: no window, no aggregate the sandbox refuses, an answered
/// aggregate only of a data item as it is. Returns whether `e` has an aggregate.
fn check_functions(e: &Expr) -> Result<bool, Refusal> {
    let mut aggregate = false;
    let mut refusal = None;
    let _ = ast::visit_expressions(e, |x| {
        let found = match x {
            Expr::Subquery(_) | Expr::Exists { .. } | Expr::InSubquery { .. } => {
                Some(Refusal::Subquery)
            }
            Expr::Function(f) => {
                let name = function_name(f);
                if f.over.is_some() {
                    Some(Refusal::Clause("a window function"))
                } else if matches!(f.args, FunctionArguments::Subquery(_)) {
                    Some(Refusal::Subquery)
                } else if refused_aggregate(&name) {
                    Some(Refusal::Aggregate(name))
                } else if allowed_measure(&name).is_some() {
                    aggregate = true;
                    if name != "count" && matches!(bare_argument(f), Ok(None)) {
                        Some(Refusal::AggregateArgument)
                    } else {
                        bare_argument(f).err()
                    }
                } else {
                    None
                }
            }
            _ => None,
        };
        match found {
            Some(r) => {
                refusal = Some(r);
                ControlFlow::Break(())
            }
            None => ControlFlow::Continue(()),
        }
    });
    match refusal {
        Some(r) => Err(r),
        None => Ok(aggregate),
    }
}

/// Whether `e` names a data item anywhere.
fn has_column(e: &Expr) -> bool {
    ast::visit_expressions(e, |x| {
        if is_column(x) {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    })
    .is_break()
}

/// A GROUP BY expression the sandbox takes: a data item, or a date part of one.
fn group_ok(e: &Expr) -> bool {
    match e {
        e if is_column(e) => true,
        Expr::Function(f) if f.over.is_none() && f.filter.is_none() => {
            let name = function_name(f);
            let FunctionArguments::List(list) = &f.args else {
                return false;
            };
            matches!(name.as_str(), "date_trunc" | "date_part" | "datepart")
                && list.clauses.is_empty()
                && list.duplicate_treatment.is_none()
                && matches!(
                    list.args.as_slice(),
                    [
                        FunctionArg::Unnamed(FunctionArgExpr::Expr(Expr::Value(_))),
                        FunctionArg::Unnamed(FunctionArgExpr::Expr(c)),
                    ] if is_column(c)
                )
        }
        Expr::Extract { expr, .. } => is_column(expr),
        Expr::Nested(inner) => group_ok(inner),
        _ => false,
    }
}

/// The conditions of `e`: what its AND, OR, NOT and parentheses join.
fn conditions(e: &Expr, out: &mut Vec<Expr>) {
    match e {
        Expr::BinaryOp {
            left,
            op: BinaryOperator::And | BinaryOperator::Or,
            right,
        } => {
            conditions(left, out);
            conditions(right, out);
        }
        Expr::UnaryOp {
            op: UnaryOperator::Not,
            expr,
        }
        | Expr::Nested(expr) => conditions(expr, out),
        other => out.push(other.clone()),
    }
}

/// `e` with its condition number `target` (in the order of [`conditions`]) replaced by `by`.
fn substitute(e: &Expr, target: usize, seen: &mut usize, by: &Expr) -> Expr {
    match e {
        Expr::BinaryOp {
            left,
            op: op @ (BinaryOperator::And | BinaryOperator::Or),
            right,
        } => {
            let left = substitute(left, target, seen, by);
            let right = substitute(right, target, seen, by);
            Expr::BinaryOp {
                left: Box::new(left),
                op: op.clone(),
                right: Box::new(right),
            }
        }
        Expr::UnaryOp {
            op: UnaryOperator::Not,
            expr,
        } => Expr::UnaryOp {
            op: UnaryOperator::Not,
            expr: Box::new(substitute(expr, target, seen, by)),
        },
        Expr::Nested(expr) => Expr::Nested(Box::new(substitute(expr, target, seen, by))),
        other => {
            let here = *seen == target;
            *seen += 1;
            if here { by.clone() } else { other.clone() }
        }
    }
}

fn output_name(item: &SelectItem) -> String {
    match item {
        SelectItem::ExprWithAlias { alias, .. } => alias.value.clone(),
        SelectItem::UnnamedExpr(e) => e.to_string(),
        other => other.to_string(),
    }
}

/// Reads `sql` as a sandbox query of `mode`, or says why it is not one.
fn shape(sql: &str, mode: Mode) -> Result<Shape, SandboxError> {
    let tables = crate::sql::tables_of(sql)?;
    // The sandbox's own columns sit beside the query's; no name of the query may be one.
    if sql.to_ascii_lowercase().contains(HIDDEN) {
        return Err(Refusal::Reserved.into());
    }
    match tables.len() {
        0 => return Err(Refusal::NoEntry.into()),
        1 => {}
        _ => return Err(Refusal::Join.into()),
    }
    let statements = Parser::parse_sql(&GenericDialect {}, sql)
        .map_err(|e| SqlError::Syntax(e.to_string().chars().take(300).collect()))?;
    let [Statement::Query(query)] = statements.as_slice() else {
        return Err(SqlError::NotOneSelect.into());
    };
    let query = (**query).clone();
    if query.with.is_some() {
        return Err(Refusal::Clause("WITH").into());
    }
    if query.limit_clause.is_some() || query.fetch.is_some() {
        return Err(Refusal::Clause("LIMIT").into());
    }
    let SetExpr::Select(select) = query.body.as_ref() else {
        return Err(Refusal::Clause("a set operation (UNION, INTERSECT, EXCEPT)").into());
    };
    if select.distinct.is_some() {
        return Err(Refusal::Clause("DISTINCT").into());
    }
    if select.having.is_some() {
        return Err(Refusal::Clause("HAVING").into());
    }
    if select.qualify.is_some() || !select.named_window.is_empty() {
        return Err(Refusal::Clause("a window function").into());
    }
    if select.top.is_some()
        || select.into.is_some()
        || !select.lateral_views.is_empty()
        || select.prewhere.is_some()
        || !select.connect_by.is_empty()
        || !select.cluster_by.is_empty()
        || !select.distribute_by.is_empty()
        || !select.sort_by.is_empty()
    {
        return Err(Refusal::Clause("this clause").into());
    }
    let [from] = select.from.as_slice() else {
        return Err(Refusal::Join.into());
    };
    if !from.joins.is_empty() {
        return Err(Refusal::Join.into());
    }
    match &from.relation {
        TableFactor::Table { .. } => {}
        TableFactor::Derived { .. } => return Err(Refusal::Subquery.into()),
        _ => return Err(Refusal::Join.into()),
    }
    let groups = match &select.group_by {
        GroupByExpr::All(_) => return Err(Refusal::Clause("GROUP BY ALL").into()),
        GroupByExpr::Expressions(exprs, modifiers) => {
            if !modifiers.is_empty() {
                return Err(Refusal::Clause("ROLLUP, CUBE or GROUPING SETS").into());
            }
            if !exprs.iter().all(group_ok) {
                return Err(Refusal::GroupBy.into());
            }
            exprs.clone()
        }
    };
    let group_texts: Vec<String> = groups.iter().map(ToString::to_string).collect();
    let mut outputs = Vec::new();
    for item in &select.projection {
        let expr = match item {
            SelectItem::UnnamedExpr(e) => e,
            SelectItem::ExprWithAlias { expr, .. } => expr,
            _ => return Err(Refusal::RowLevel.into()),
        };
        let aggregate = check_functions(expr)?;
        let output = if !aggregate {
            if has_column(expr) && !group_texts.contains(&expr.to_string()) {
                return Err(Refusal::RowLevel.into());
            }
            Output::Group
        } else {
            match expr {
                Expr::Function(f) => match allowed_measure(&function_name(f)) {
                    Some(m) if !has_distinct(f) => {
                        Output::Bare(m, bare_argument(f)?.map(|c| c.to_string()))
                    }
                    _ => Output::Composite,
                },
                _ => Output::Composite,
            }
        };
        outputs.push((output_name(item), output));
    }
    if !outputs.iter().any(|(_, o)| !matches!(o, Output::Group)) {
        return Err(Refusal::RowLevel.into());
    }
    if let Some(w) = &select.selection {
        if check_functions(w)? {
            return Err(Refusal::Clause("an aggregate in WHERE").into());
        }
        let mut leaves = Vec::new();
        conditions(w, &mut leaves);
        if leaves.len() > MAX_CONDITIONS {
            return Err(Refusal::TooManyConditions.into());
        }
    }
    for e in &groups {
        check_functions(e)?;
    }
    let ordered = query.order_by.is_some();
    if let Some(order) = &query.order_by
        && let ast::OrderByKind::Expressions(list) = &order.kind
    {
        for o in list {
            check_functions(&o.expr)?;
        }
    }
    if let Mode::Noisy { .. } = mode
        && (ordered || outputs.iter().any(|(_, o)| matches!(o, Output::Composite)))
    {
        return Err(Refusal::NoiseShape.into());
    }
    Ok(Shape {
        relation: from.relation.to_string(),
        condition: select.selection.clone(),
        groups,
        outputs,
        query,
    })
}

fn has_distinct(f: &ast::Function) -> bool {
    matches!(&f.args, FunctionArguments::List(l) if l.duplicate_treatment.is_some())
}

/// `e` true for a record: a NULL condition keeps no record, as WHERE reads it.
fn truth(e: &str) -> String {
    format!("coalesce(({e}), false)")
}

/// The numbers of `batch`'s column `name` as floats (NULL as 0).
fn floats(batch: &RecordBatch, name: &str) -> Result<Vec<f64>, SqlError> {
    let column = batch
        .column_by_name(name)
        .ok_or_else(|| SqlError::Failed(format!("no column {name}")))?;
    let cast = arrow::compute::cast(column, &DataType::Float64)
        .map_err(|e| SqlError::Failed(e.to_string()))?;
    let values = cast
        .as_any()
        .downcast_ref::<Float64Array>()
        .ok_or_else(|| SqlError::Failed("not numbers".into()))?;
    Ok((0..values.len())
        .map(|i| {
            if values.is_null(i) {
                0.0
            } else {
                values.value(i)
            }
        })
        .collect())
}

fn concat(batches: &[RecordBatch]) -> Result<Option<RecordBatch>, SqlError> {
    let Some(first) = batches.first() else {
        return Ok(None);
    };
    arrow::compute::concat_batches(&first.schema(), batches)
        .map(Some)
        .map_err(|e| SqlError::Failed(e.to_string()))
}

/// `sum(CASE WHEN {condition} THEN 1 ELSE 0 END)`: the records a condition keeps.
fn count_of(condition: &str) -> String {
    format!("sum(CASE WHEN {condition} THEN 1 ELSE 0 END)")
}

/// One pass over every record of `shape`'s table, grouped as `shape` groups: the records
/// `size` keeps under `{HIDDEN}_n`, then `counts` (each an aggregate with its alias).
async fn grouped_counts(
    ctx: &datafusion::prelude::SessionContext,
    shape: &Shape,
    size: &str,
    counts: Vec<String>,
    limits: Limits,
) -> Result<Vec<RecordBatch>, SandboxError> {
    let mut columns: Vec<String> = shape
        .groups
        .iter()
        .enumerate()
        .map(|(i, g)| format!("{g} AS {HIDDEN}_g{i}"))
        .collect();
    columns.push(format!("{} AS {HIDDEN}_n", count_of(size)));
    columns.extend(counts);
    let mut sql = format!("SELECT {} FROM {}", columns.join(", "), shape.relation);
    if !shape.groups.is_empty() {
        let groups: Vec<String> = shape.groups.iter().map(ToString::to_string).collect();
        sql.push_str(&format!(" GROUP BY {}", groups.join(", ")));
    }
    Ok(crate::sql::collect(ctx, &sql, limits).await?)
}

/// Refuses the query when one of its conditions, taken away, changes the records of a group it
/// answers by more than none and fewer than the threshold.
async fn check_isolating(
    ctx: &datafusion::prelude::SessionContext,
    shape: &Shape,
    rules: Rules,
) -> Result<(), SandboxError> {
    let Some(condition) = &shape.condition else {
        return Ok(());
    };
    let mut leaves = Vec::new();
    conditions(condition, &mut leaves);
    let whole = truth(&condition.to_string());
    let mut counts = Vec::new();
    for j in 0..leaves.len() {
        for (v, by) in [("t", true), ("f", false)] {
            let by = Expr::Value(ast::Value::Boolean(by).into());
            let other = truth(&substitute(condition, j, &mut 0, &by).to_string());
            counts.push(format!(
                "{} AS {HIDDEN}_d{j}{v}",
                count_of(&format!("{whole} <> {other}"))
            ));
        }
    }
    let batches = grouped_counts(ctx, shape, &whole, counts, rules.limits).await?;
    let t = rules.threshold as f64;
    for batch in &batches {
        let n = floats(batch, &format!("{HIDDEN}_n"))?;
        for (j, leaf) in leaves.iter().enumerate() {
            for v in ["t", "f"] {
                let differ = floats(batch, &format!("{HIDDEN}_d{j}{v}"))?;
                // Only a group this query answers can be one side of a difference: one it
                // suppresses reveals nothing, whatever the query without the condition says.
                let isolating =
                    (0..batch.num_rows()).any(|r| differ[r] > 0.0 && differ[r] < t && n[r] >= t);
                if isolating {
                    return Err(
                        Refusal::Isolating(leaf.to_string().chars().take(200).collect()).into(),
                    );
                }
            }
        }
    }
    Ok(())
}

/// The earlier queries of `history` grouped as `shape` is, at most this many, are compared.
const MAX_HISTORY: usize = 8;

/// Refuses `shape` when, in a group both it and an earlier query of `history` with the same
/// grouping answer, their records differ by more than none and fewer than the threshold. One
/// pass over the rows compares them all.
async fn check_history(
    ctx: &datafusion::prelude::SessionContext,
    shape: &Shape,
    rules: Rules,
    history: &[String],
) -> Result<(), SandboxError> {
    let groups: Vec<String> = shape.groups.iter().map(ToString::to_string).collect();
    let condition = |s: &Shape| {
        s.condition
            .as_ref()
            .map_or_else(|| "true".to_owned(), |c| truth(&c.to_string()))
    };
    let now = condition(shape);
    let earlier: Vec<(&String, String)> = history
        .iter()
        .filter_map(|sql| {
            let past = self::shape(sql, Mode::Exact).ok()?;
            let same = past
                .groups
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                == groups;
            let c = condition(&past);
            (same && c != now).then_some((sql, c))
        })
        .take(MAX_HISTORY)
        .collect();
    if earlier.is_empty() {
        return Ok(());
    }
    let mut counts = Vec::new();
    for (j, (_, then)) in earlier.iter().enumerate() {
        counts.push(format!("{} AS {HIDDEN}_p{j}", count_of(then)));
        counts.push(format!(
            "{} AS {HIDDEN}_d{j}",
            count_of(&format!("{now} <> {then}"))
        ));
    }
    let batches = grouped_counts(ctx, shape, &now, counts, rules.limits).await?;
    let t = rules.threshold as f64;
    for batch in &batches {
        let n = floats(batch, &format!("{HIDDEN}_n"))?;
        for (j, (past, _)) in earlier.iter().enumerate() {
            let p = floats(batch, &format!("{HIDDEN}_p{j}"))?;
            let d = floats(batch, &format!("{HIDDEN}_d{j}"))?;
            let differs =
                (0..batch.num_rows()).any(|r| d[r] > 0.0 && d[r] < t && n[r] >= t && p[r] >= t);
            if differs {
                return Err(Refusal::Differencing(past.chars().take(200).collect()).into());
            }
        }
    }
    Ok(())
}

/// The smallest and largest value of the item of each sum and average, by output.
type Ranges = std::collections::HashMap<usize, (f64, f64)>;

/// [`Ranges`] of `shape`'s sums and averages over the whole view (an item with no value
/// ranges over 0 alone).
async fn ranges(
    ctx: &datafusion::prelude::SessionContext,
    shape: &Shape,
    limits: Limits,
) -> Result<Ranges, SandboxError> {
    let mut columns = Vec::new();
    let mut outputs = Vec::new();
    for (i, (_, o)) in shape.outputs.iter().enumerate() {
        if let Output::Bare(Measure::Sum | Measure::Avg, Some(c)) = o {
            columns.push(format!(
                "min(CAST({c} AS DOUBLE)) AS {HIDDEN}_lo{i}, max(CAST({c} AS DOUBLE)) AS {HIDDEN}_hi{i}"
            ));
            outputs.push(i);
        }
    }
    let mut out = Ranges::new();
    if columns.is_empty() {
        return Ok(out);
    }
    let sql = format!("SELECT {} FROM {}", columns.join(", "), shape.relation);
    let Some(batch) = concat(&crate::sql::collect(ctx, &sql, limits).await?)? else {
        return Ok(out);
    };
    for i in outputs {
        let lo = floats(&batch, &format!("{HIDDEN}_lo{i}"))?;
        let hi = floats(&batch, &format!("{HIDDEN}_hi{i}"))?;
        let (lo, hi) = (
            lo.first().copied().unwrap_or(0.0),
            hi.first().copied().unwrap_or(0.0),
        );
        out.insert(i, (lo.min(hi), hi.max(lo)));
    }
    Ok(out)
}

/// A draw from the Laplace distribution of `scale` around 0.
fn laplace(scale: f64, rng: &mut impl rand::Rng) -> f64 {
    if scale <= 0.0 {
        return 0.0;
    }
    loop {
        let u: f64 = rng.random::<f64>() - 0.5;
        if u.abs() < 0.5 {
            return -scale * u.signum() * (1.0 - 2.0 * u.abs()).ln();
        }
    }
}

/// Which groups of sizes `n` are answered: none below the threshold, and when those below it
/// hold fewer than the threshold's records together, the smallest others go with them.
fn answered(n: &[f64], threshold: u64) -> Vec<bool> {
    let t = threshold as f64;
    let mut keep: Vec<bool> = n.iter().map(|&k| k >= t).collect();
    let mut hidden: f64 = n
        .iter()
        .zip(&keep)
        .filter(|(_, k)| !**k)
        .map(|(n, _)| n.max(0.0))
        .sum();
    if hidden > 0.0 && hidden < t {
        let mut order: Vec<usize> = (0..n.len()).filter(|&i| keep[i]).collect();
        order.sort_by(|&a, &b| n[a].total_cmp(&n[b]));
        for i in order {
            if hidden >= t {
                break;
            }
            keep[i] = false;
            hidden += n[i];
        }
    }
    keep
}

/// Runs `sql` in the sandbox over `table` (the granted view of one conditional entry, named as
/// the query names it).
pub async fn run(
    sql: &str,
    table: &Source,
    rules: Rules,
    mode: Mode,
) -> Result<SandboxAnswer, SandboxError> {
    run_after(sql, table, rules, mode, &[]).await
}

/// [`run`], after the queries of `history` were answered over the same data: a query whose
/// groups differ from those of an earlier one with the same grouping by more than none and
/// fewer than the threshold's records is refused (the repeated differencing attack).
pub async fn run_after(
    sql: &str,
    table: &Source,
    rules: Rules,
    mode: Mode,
    history: &[String],
) -> Result<SandboxAnswer, SandboxError> {
    let shape = shape(sql, mode)?;
    let limits = rules.limits;
    let work = async {
        let ctx = crate::sql::context(std::slice::from_ref(table), limits).await?;
        check_isolating(&ctx, &shape, rules).await?;
        check_history(&ctx, &shape, rules, history).await?;
        let mut query = shape.query.clone();
        let SetExpr::Select(select) = query.body.as_mut() else {
            unreachable!("a shape is a SELECT");
        };
        let count = Parser::new(&GenericDialect {})
            .try_with_sql(&format!("count(*) AS {HIDDEN}_n"))
            .and_then(|mut p| p.parse_select_item())
            .map_err(|e| SqlError::Failed(e.to_string()))?;
        select.projection.push(count);
        // Noise needs each sum's and average's sensitivity, from the range of its item.
        let bounds = match mode {
            Mode::Noisy { .. } => ranges(&ctx, &shape, limits).await?,
            Mode::Exact => Ranges::new(),
        };
        for (i, (_, o)) in shape.outputs.iter().enumerate() {
            // An average is measured as a sum of distances from its item's midpoint, whose
            // sensitivity is half the range, and a count.
            if let (Output::Bare(Measure::Avg, Some(c)), Some(&(lo, hi))) = (o, bounds.get(&i)) {
                let mid = (lo + hi) / 2.0;
                for item in [
                    format!("sum(CAST({c} AS DOUBLE) - {mid}) AS {HIDDEN}_s{i}"),
                    format!("count({c}) AS {HIDDEN}_c{i}"),
                ] {
                    let parsed = Parser::new(&GenericDialect {})
                        .try_with_sql(&item)
                        .and_then(|mut p| p.parse_select_item())
                        .map_err(|e| SqlError::Failed(e.to_string()))?;
                    select.projection.push(parsed);
                }
            }
        }
        let answer = crate::sql::collect(&ctx, &query.to_string(), limits).await?;
        Ok::<_, SandboxError>((answer, bounds))
    };
    let (batches, bounds) = crate::sql::timed(limits, work).await.map_err(|e| match e {
        SandboxError::Sql(SqlError::RowLimit(n)) => Refusal::TooManyGroups(n).into(),
        other => other,
    })?;
    let rows: usize = batches.iter().map(RecordBatch::num_rows).sum();
    if rows > limits.rows {
        return Err(Refusal::TooManyGroups(limits.rows).into());
    }
    let Some(batch) = concat(&batches)? else {
        return Ok(SandboxAnswer {
            columns: Vec::new(),
            rows: Vec::new(),
            suppressed_groups: 0,
            noise: None,
        });
    };
    let batch = crate::sql::normalize(&batch)?;
    finish(&shape, &batch, &bounds, rules, mode)
}

/// One cell of `batch` as JSON.
fn cell(batch: &RecordBatch, column: usize, row: usize) -> serde_json::Value {
    let mut s = String::new();
    crate::records::write_json(batch.column(column).as_ref(), row, &mut s);
    serde_json::from_str(&s).unwrap_or(serde_json::Value::Null)
}

fn cents(x: f64) -> serde_json::Value {
    serde_json::json!((x * 100.0).round() / 100.0)
}

/// The answer of `batch` (the query's outputs, then the sandbox's own columns): groups too
/// small left out, and in the noisy mode every measurement drawn with noise.
fn finish(
    shape: &Shape,
    batch: &RecordBatch,
    ranges: &Ranges,
    rules: Rules,
    mode: Mode,
) -> Result<SandboxAnswer, SandboxError> {
    let schema = batch.schema();
    let sizes = floats(batch, &format!("{HIDDEN}_n"))?;
    let mut columns: Vec<(String, DataType)> = shape
        .outputs
        .iter()
        .zip(schema.fields())
        .map(|((name, _), f)| (name.clone(), f.data_type().clone()))
        .collect();
    let Mode::Noisy { epsilon } = mode else {
        let keep = answered(&sizes, rules.threshold);
        let rows = (0..batch.num_rows())
            .filter(|&r| keep[r])
            .map(|r| {
                (0..shape.outputs.len())
                    .map(|c| cell(batch, c, r))
                    .collect()
            })
            .collect();
        return Ok(SandboxAnswer {
            columns,
            rows,
            suppressed_groups: keep.iter().filter(|k| !**k).count(),
            noise: None,
        });
    };
    // The measurements one query makes, each given an equal share of its epsilon.
    let measurements: usize = 1 + shape
        .outputs
        .iter()
        .map(|(_, o)| match o {
            Output::Bare(Measure::Avg, _) => 2,
            Output::Bare(..) => 1,
            _ => 0,
        })
        .sum::<usize>();
    let unit = measurements as f64 / epsilon;
    let range = |i: usize| ranges.get(&i).copied().unwrap_or((0.0, 0.0));
    let mut rng = rand::rng();
    let noisy_sizes: Vec<f64> = sizes.iter().map(|n| n + laplace(unit, &mut rng)).collect();
    let keep = answered(&noisy_sizes, rules.threshold);
    let mut scales = Vec::new();
    let mut values: Vec<Vec<serde_json::Value>> = vec![Vec::new(); batch.num_rows()];
    for (i, (name, output)) in shape.outputs.iter().enumerate() {
        let noisy: Vec<serde_json::Value> = match output {
            Output::Group | Output::Composite => {
                (0..batch.num_rows()).map(|r| cell(batch, i, r)).collect()
            }
            Output::Bare(Measure::Count, _) => {
                scales.push((name.clone(), unit));
                columns[i].1 = DataType::Int64;
                floats(batch, schema.field(i).name())?
                    .iter()
                    .map(|v| {
                        serde_json::json!((v + laplace(unit, &mut rng)).round().max(0.0) as i64)
                    })
                    .collect()
            }
            Output::Bare(Measure::Sum, _) => {
                // One record moves a sum by at most its item's largest magnitude.
                let (lo, hi) = range(i);
                let scale = unit * lo.abs().max(hi.abs());
                scales.push((name.clone(), scale));
                columns[i].1 = DataType::Float64;
                floats(batch, schema.field(i).name())?
                    .iter()
                    .map(|v| cents(v + laplace(scale, &mut rng)))
                    .collect()
            }
            Output::Bare(Measure::Avg, _) => {
                // Distances from the midpoint move by at most half the range.
                let (lo, hi) = range(i);
                let (mid, scale) = ((lo + hi) / 2.0, unit * (hi - lo) / 2.0);
                scales.push((name.clone(), scale));
                columns[i].1 = DataType::Float64;
                let sums = floats(batch, &format!("{HIDDEN}_s{i}"))?;
                let counts = floats(batch, &format!("{HIDDEN}_c{i}"))?;
                sums.iter()
                    .zip(&counts)
                    .map(|(s, c)| {
                        let s = s + laplace(scale, &mut rng);
                        let c = (c + laplace(unit, &mut rng)).max(1.0);
                        cents(mid + s / c)
                    })
                    .collect()
            }
        };
        for (r, v) in noisy.into_iter().enumerate() {
            values[r].push(v);
        }
    }
    let mut rows: Vec<Vec<serde_json::Value>> = values
        .into_iter()
        .zip(&keep)
        .filter(|(_, k)| **k)
        .map(|(v, _)| v)
        .collect();
    // Rows in the order of their groups, not of their (true) sizes.
    let groups: Vec<usize> = (0..shape.outputs.len())
        .filter(|&i| matches!(shape.outputs[i].1, Output::Group))
        .collect();
    rows.sort_by_cached_key(|row| {
        groups
            .iter()
            .map(|&i| row[i].to_string())
            .collect::<Vec<_>>()
    });
    Ok(SandboxAnswer {
        columns,
        rows,
        suppressed_groups: keep.iter().filter(|k| !**k).count(),
        noise: Some(NoiseReport { epsilon, scales }),
    })
}
