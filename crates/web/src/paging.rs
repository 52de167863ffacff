//! Lists are read a page at a time: `limit` (1 to 1000; more is clamped, as CKAN clamps `rows`)
//! and `after`, the `next` cursor of the page before.

use store::paging::{Cursor, Page};

use crate::error::{AppError, AppResult};

/// Rows a list gives when the caller names no `limit`.
pub const DEFAULT_LIMIT: i64 = 100;

/// The page a request asks for.
pub fn requested(limit: Option<i64>, after: Option<&str>) -> AppResult<Page> {
    let after = match after.map(str::trim).filter(|a| !a.is_empty()) {
        None => None,
        Some(text) => Some(
            text.parse::<Cursor>()
                .map_err(|_| AppError::field("after", "invalid_cursor"))?,
        ),
    };
    Ok(Page::after(limit.unwrap_or(DEFAULT_LIMIT), after))
}

/// The `next` member of a list answer: the cursor to pass as `after`, or null at the end.
pub fn next(cursor: &Option<Cursor>) -> serde_json::Value {
    cursor
        .as_ref()
        .map(|c| serde_json::Value::String(c.to_string()))
        .unwrap_or(serde_json::Value::Null)
}
