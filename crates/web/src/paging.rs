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

/// The `next` member of a list answer: the cursor to pass as `after`, or null on the last page.
#[derive(Debug, Clone, serde::Serialize, schemars::JsonSchema)]
#[serde(transparent)]
pub struct Next(Option<String>);

impl Next {
    pub fn of(cursor: &Option<Cursor>) -> Self {
        Next(cursor.as_ref().map(ToString::to_string))
    }
}
