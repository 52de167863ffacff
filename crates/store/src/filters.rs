//! Optional filters built into the SQL only when given, so each query names just the columns
//! it filters on and the planner can use their indexes (`(col = $1 OR $1 IS NULL)` hides them
//! on both backends). sqlx's `QueryBuilder` writes `?` placeholders for the `Any` driver, which
//! PostgreSQL refuses; this writes the numbered `$n` both backends take. Column names and
//! operators are `&'static str` written in this crate, never input; values are always bound.
//! See docs/decisions/0016-optional-filters.md.

use sqlx::Any;
use sqlx::any::AnyArguments;
use sqlx::query::QueryAs;

/// A value to bind.
#[derive(Debug, Clone)]
enum Value {
    Text(String),
    Int(i64),
}

/// The conditions of a `WHERE` clause and their values, in order.
#[derive(Debug, Default)]
pub(crate) struct Filters {
    conditions: Vec<String>,
    values: Vec<Value>,
}

impl Filters {
    fn next(&mut self, value: Value) -> usize {
        self.values.push(value);
        self.values.len()
    }

    /// `column op $n` when `value` is given.
    pub fn text(
        &mut self,
        column: &'static str,
        op: &'static str,
        value: Option<&str>,
    ) -> &mut Self {
        if let Some(v) = value {
            let n = self.next(Value::Text(v.to_owned()));
            self.conditions.push(format!("{column} {op} ${n}"));
        }
        self
    }

    /// `column op $n` when `value` is given.
    pub fn int(&mut self, column: &'static str, op: &'static str, value: Option<i64>) -> &mut Self {
        if let Some(v) = value {
            let n = self.next(Value::Int(v));
            self.conditions.push(format!("{column} {op} ${n}"));
        }
        self
    }

    /// A keyset bound `(key <op> $a OR (key = $a AND id <id_op> $b))` when given: the page
    /// after the last row of the one before, in the list's `key, id` order.
    pub fn after(
        &mut self,
        (key, op): (&'static str, &'static str),
        (id, id_op): (&'static str, &'static str),
        cursor: Option<(i64, &str)>,
    ) -> &mut Self {
        if let Some((k, i)) = cursor {
            let a = self.next(Value::Int(k));
            let b = self.next(Value::Text(i.to_owned()));
            self.conditions.push(format!(
                "({key} {op} ${a} OR ({key} = ${a} AND {id} {id_op} ${b}))"
            ));
        }
        self
    }

    /// ` WHERE …` (or nothing), then `rest` with its own placeholders numbered after these:
    /// `rest` says `$?` where the next number goes.
    pub fn sql(&self, select: &str, rest: &str) -> String {
        let mut sql = select.to_owned();
        if !self.conditions.is_empty() {
            sql.push_str(" WHERE ");
            sql.push_str(&self.conditions.join(" AND "));
        }
        let mut n = self.values.len();
        let mut tail = String::with_capacity(rest.len());
        let mut parts = rest.split("$?");
        if let Some(first) = parts.next() {
            tail.push_str(first);
        }
        for part in parts {
            n += 1;
            tail.push_str(&format!("${n}"));
            tail.push_str(part);
        }
        sql.push(' ');
        sql.push_str(&tail);
        sql
    }

    /// Binds the filters' values, in order, to `q`.
    pub fn bind<'q, O>(
        &self,
        mut q: QueryAs<'q, Any, O, AnyArguments>,
    ) -> QueryAs<'q, Any, O, AnyArguments> {
        for v in &self.values {
            q = match v {
                Value::Text(s) => q.bind(s.clone()),
                Value::Int(i) => q.bind(*i),
            };
        }
        q
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_given_filters_are_written_and_numbered_in_order() {
        let mut f = Filters::default();
        f.text("actor_id", "=", Some("u1"))
            .text("target_type", "=", None)
            .int("at", ">=", Some(5))
            .int("seq", "<", None);
        assert_eq!(
            f.sql("SELECT seq FROM audit_log", "ORDER BY seq DESC LIMIT $?"),
            "SELECT seq FROM audit_log WHERE actor_id = $1 AND at >= $2 ORDER BY seq DESC LIMIT $3"
        );
        let none = Filters::default();
        assert_eq!(
            none.sql("SELECT 1 FROM t", "LIMIT $? OFFSET $?"),
            "SELECT 1 FROM t LIMIT $1 OFFSET $2"
        );
        let mut k = Filters::default();
        k.after(("updated_at", ">"), ("id", ">"), Some((7, "x")));
        assert_eq!(
            k.sql("SELECT id FROM t", "LIMIT $?"),
            "SELECT id FROM t WHERE (updated_at > $1 OR (updated_at = $1 AND id > $2)) LIMIT $3"
        );
    }
}
