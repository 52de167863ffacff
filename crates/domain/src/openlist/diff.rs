//! The difference between two versions of an entry's metadata, field by field, as a ticket
//! shows it to the operator.

use serde::Serialize;
use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Change {
    /// A JSON-pointer-like path: `name`, `data_items[1].description`.
    pub path: String,
    pub before: Option<Value>,
    pub after: Option<Value>,
}

/// Every leaf that differs between `before` and `after`.
pub fn diff(before: &Value, after: &Value) -> Vec<Change> {
    let mut out = Vec::new();
    walk("", Some(before), Some(after), &mut out);
    out
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}

fn walk(path: &str, a: Option<&Value>, b: Option<&Value>, out: &mut Vec<Change>) {
    match (a, b) {
        (Some(Value::Object(x)), Some(Value::Object(y))) => {
            let mut keys: Vec<&String> = x.keys().chain(y.keys()).collect();
            keys.sort();
            keys.dedup();
            for k in keys {
                walk(&join(path, k), x.get(k), y.get(k), out);
            }
        }
        (Some(Value::Array(x)), Some(Value::Array(y))) => {
            for i in 0..x.len().max(y.len()) {
                walk(&format!("{path}[{i}]"), x.get(i), y.get(i), out);
            }
        }
        (a, b) if a == b => {}
        (a, b) => out.push(Change {
            path: path.to_owned(),
            before: a.filter(|v| !v.is_null()).cloned(),
            after: b.filter(|v| !v.is_null()).cloned(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn leaves_that_differ() {
        let a = json!({ "name": "甲", "items": [{ "d": "x" }, { "d": "y" }], "same": 1 });
        let b =
            json!({ "name": "乙", "items": [{ "d": "x" }, { "d": "z" }, { "d": "w" }], "same": 1 });
        let paths: Vec<String> = diff(&a, &b).into_iter().map(|c| c.path).collect();
        assert_eq!(paths, ["items[1].d", "items[2]", "name"]);
        assert!(diff(&a, &a).is_empty());
    }
}
