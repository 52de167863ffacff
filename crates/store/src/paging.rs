//! Keyset paging: a page is "the next `limit` rows after this one", named by the sort key and
//! id of the last row seen. Unlike OFFSET, reading page 1000 costs what reading page 1 does, and
//! rows added meanwhile neither repeat nor go missing.

use std::fmt;
use std::str::FromStr;

/// The most rows one page may hold, whoever asks.
pub const MAX_LIMIT: i64 = 1000;

/// Where the previous page ended: the last row's sort key (a time in ms) and id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    pub at: i64,
    pub id: String,
}

impl fmt::Display for Cursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.at, self.id)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("not a page cursor")]
pub struct BadCursor;

impl FromStr for Cursor {
    type Err = BadCursor;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (at, id) = s.split_once('.').ok_or(BadCursor)?;
        let ok_id = !id.is_empty()
            && id.len() <= 64
            && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
        match (at.parse(), ok_id) {
            (Ok(at), true) => Ok(Cursor {
                at,
                id: id.to_owned(),
            }),
            _ => Err(BadCursor),
        }
    }
}

/// Which page: at most `limit` rows after `after` (from the start when `None`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    pub limit: i64,
    pub after: Option<Cursor>,
}

impl Page {
    /// The first page of `limit` rows, `limit` brought within 1..=[`MAX_LIMIT`].
    pub fn first(limit: i64) -> Self {
        Self {
            limit: limit.clamp(1, MAX_LIMIT),
            after: None,
        }
    }

    pub fn after(limit: i64, after: Option<Cursor>) -> Self {
        Self {
            after,
            ..Self::first(limit)
        }
    }

    /// The cursor as (key, id), for [`crate::filters::Filters::after`].
    pub(crate) fn cursor(&self) -> Option<(i64, &str)> {
        self.after.as_ref().map(|c| (c.at, c.id.as_str()))
    }
}

/// One page of rows and the cursor of the next page, if there may be one.
#[derive(Debug, Clone)]
pub struct Paged<T> {
    pub items: Vec<T>,
    pub next: Option<Cursor>,
}

impl<T> Paged<T> {
    /// The page of records read from `rows`; a full page may have a successor, named by the
    /// sort key (`at`) and id of its last record.
    pub(crate) fn from_rows<R>(
        rows: Vec<R>,
        page: &Page,
        key: impl Fn(&T) -> (i64, String),
    ) -> crate::Result<Self>
    where
        T: TryFrom<R, Error = crate::StoreError>,
    {
        let items = rows
            .into_iter()
            .map(T::try_from)
            .collect::<crate::Result<Vec<T>>>()?;
        let next = (items.len() as i64 == page.limit)
            .then(|| items.last().map(&key))
            .flatten()
            .map(|(at, id)| Cursor { at, id });
        Ok(Self { items, next })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_refuse_anything_else() {
        let c = Cursor {
            at: 1_700_000_000_000,
            id: "0190e0b2-7d1c-7cc0-a2b4-2f9e3c1d0a11".into(),
        };
        assert_eq!(c.to_string().parse::<Cursor>(), Ok(c));
        for bad in ["", "12", ".abc", "x.abc", "12.", "12.a b", "12.a'--"] {
            assert_eq!(bad.parse::<Cursor>(), Err(BadCursor), "{bad}");
        }
        assert_eq!(Page::first(100_000).limit, MAX_LIMIT);
        assert_eq!(Page::first(0).limit, 1);
    }
}
