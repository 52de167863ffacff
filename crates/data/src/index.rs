//! An equality index over one column of a version in memory: the column's row places sorted by
//! value, ties in file order, nulls last. Versions never change, so it is built once, on the
//! first equality filter on that column, and then answers `field=value` with two binary
//! searches instead of a comparison of every row: the matches are one run of the order, already
//! ascending in file order. Four bytes a row, whatever the values.

use arrow::array::{Array, ArrayRef, UInt32Array, make_comparator};
use arrow::compute::{SortColumn, SortOptions};
use arrow::error::ArrowError;

const ORDER: SortOptions = SortOptions {
    descending: false,
    nulls_first: false,
};

pub struct ColumnIndex {
    /// Row places, by (value, place); nulls at the end.
    order: Vec<u32>,
}

impl ColumnIndex {
    /// Bytes an index of `rows` rows takes.
    pub fn memory(rows: usize) -> usize {
        rows * std::mem::size_of::<u32>()
    }

    /// Sorts `column`; `None` when it has more rows than a `u32` counts.
    pub fn build(column: &ArrayRef) -> Result<Option<ColumnIndex>, ArrowError> {
        let Ok(n) = u32::try_from(column.len()) else {
            return Ok(None);
        };
        let places: ArrayRef = std::sync::Arc::new(UInt32Array::from_iter_values(0..n));
        let sorted = arrow::compute::lexsort_to_indices(
            &[
                SortColumn {
                    values: column.clone(),
                    options: Some(ORDER),
                },
                SortColumn {
                    values: places,
                    options: None,
                },
            ],
            None,
        )?;
        Ok(Some(ColumnIndex {
            order: sorted.values().to_vec(),
        }))
    }

    /// The places, ascending, of the rows of `column` (the column this index was built over)
    /// equal to `value`'s one element, of the column's type.
    pub fn equal(&self, column: &dyn Array, value: &dyn Array) -> Result<&[u32], ArrowError> {
        debug_assert_eq!(value.len(), 1);
        if value.is_null(0) {
            return Ok(&[]);
        }
        let cmp = make_comparator(column, value, ORDER)?;
        let first = self
            .order
            .partition_point(|&p| cmp(p as usize, 0) == std::cmp::Ordering::Less);
        let rest = &self.order[first..];
        let len = rest.partition_point(|&p| cmp(p as usize, 0) == std::cmp::Ordering::Equal);
        Ok(&rest[..len])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{Int64Array, StringArray};
    use std::sync::Arc;

    #[test]
    fn finds_every_equal_row_in_file_order_and_nothing_for_null() {
        let col: ArrayRef = Arc::new(StringArray::from(vec![
            Some("b"),
            None,
            Some("a"),
            Some("b"),
            Some("c"),
            Some("b"),
        ]));
        let index = ColumnIndex::build(&col).unwrap().unwrap();
        let b = StringArray::from(vec!["b"]);
        assert_eq!(index.equal(col.as_ref(), &b).unwrap(), &[0, 3, 5]);
        let z = StringArray::from(vec!["z"]);
        assert!(index.equal(col.as_ref(), &z).unwrap().is_empty());
        let null = StringArray::from(vec![None::<&str>]);
        assert!(index.equal(col.as_ref(), &null).unwrap().is_empty());
    }

    #[test]
    fn a_value_of_another_type_is_an_error_not_a_wrong_answer() {
        let col: ArrayRef = Arc::new(Int64Array::from(vec![1, 2, 3]));
        let index = ColumnIndex::build(&col).unwrap().unwrap();
        assert!(
            index
                .equal(col.as_ref(), &StringArray::from(vec!["2"]))
                .is_err()
        );
        assert_eq!(
            index
                .equal(col.as_ref(), &Int64Array::from(vec![2]))
                .unwrap(),
            &[1]
        );
    }
}
