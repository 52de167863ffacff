//! Rows read and waiting for an ingestion, their cells' text laid end to end in one buffer. Each
//! data item's lane goes over every row of a chunk for its one cell: with the cells in one place,
//! in the file's order, that walk reads memory in sequence instead of chasing a separate record
//! per row. Chunks go back to their reader once ingested, so the buffers are reused.

/// Rows read and checked together: a chunk's cells stay in the processor's cache while each
/// data item's lane goes over them (a batch of the Parquet file is several chunks).
pub const CHUNK_ROWS: usize = 16_384;

/// The cells' bytes past which a chunk ends before [`CHUNK_ROWS`] (those of a batch): a file of
/// wide rows is read in shorter chunks, so the rows held stay bounded whatever their width.
const CHUNK_BYTES: usize = crate::ingest::BATCH_BYTES;

#[derive(Debug, Default)]
pub struct Chunk {
    /// The line of the file each row starts at.
    lines: Vec<u64>,
    /// Every cell's text, one after the other.
    text: String,
    /// Where each cell's text ends in `text`.
    ends: Vec<usize>,
    /// Where each row's cells start in `ends`, and after the last row, their count.
    rows: Vec<usize>,
}

impl Chunk {
    pub fn len(&self) -> usize {
        self.lines.len()
    }

    pub fn full(&self) -> bool {
        self.len() == CHUNK_ROWS || self.text.len() >= CHUNK_BYTES
    }

    /// The bytes of all the cells.
    pub fn bytes(&self) -> usize {
        self.text.len()
    }

    /// Empties the chunk for reuse, keeping no more room than a chunk of ordinary rows takes
    /// when wide rows (long cells, or very many) grew it.
    pub fn clear(&mut self) {
        if self.text.capacity() > 2 * CHUNK_BYTES {
            self.text = String::new();
        }
        if self.ends.capacity() > 2 * CHUNK_BYTES / std::mem::size_of::<usize>() {
            self.ends = Vec::new();
        }
        self.lines.clear();
        self.text.clear();
        self.ends.clear();
        self.rows.clear();
    }

    /// Adds a row of `cells`, found at `line`.
    pub fn push<'c>(&mut self, line: u64, cells: impl IntoIterator<Item = &'c str>) {
        if self.rows.is_empty() {
            self.rows.push(0);
        }
        for cell in cells {
            self.text.push_str(cell);
            self.ends.push(self.text.len());
        }
        self.rows.push(self.ends.len());
        self.lines.push(line);
    }

    /// Adds a row of CSV fields, found at `line`. Its text is checked as UTF-8 in one go (a
    /// check per field, as [`csv::StringRecord`] makes, costs several times more on short
    /// cells); text that is not, or a field that would end inside a character, is refused and
    /// leaves the chunk as it was.
    pub fn push_record(&mut self, line: u64, record: &csv::ByteRecord) -> std::io::Result<()> {
        let text = simdutf8::basic::from_utf8(record.as_slice()).map_err(|_| not_utf8(line))?;
        let mut end = 0;
        let ends_before = self.ends.len();
        for field in record {
            end += field.len();
            if !text.is_char_boundary(end) {
                self.ends.truncate(ends_before);
                return Err(not_utf8(line));
            }
            self.ends.push(self.text.len() + end);
        }
        if self.rows.is_empty() {
            self.rows.push(0);
        }
        self.text.push_str(text);
        self.rows.push(self.ends.len());
        self.lines.push(line);
        Ok(())
    }

    /// The line of the file row `r` starts at.
    pub fn line(&self, r: usize) -> u64 {
        self.lines[r]
    }

    /// The number of cells of row `r`.
    pub fn width(&self, r: usize) -> usize {
        self.rows[r + 1] - self.rows[r]
    }

    /// Cell `c` of row `r`, if the row has that many.
    pub fn cell(&self, r: usize, c: usize) -> Option<&str> {
        if c >= self.width(r) {
            return None;
        }
        Some(self.nth_cell(self.rows[r] + c))
    }

    /// The cells of row `r`.
    pub fn cells(&self, r: usize) -> impl Iterator<Item = &str> {
        (self.rows[r]..self.rows[r + 1]).map(|i| self.nth_cell(i))
    }

    fn nth_cell(&self, i: usize) -> &str {
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        &self.text[start..self.ends[i]]
    }
}

fn not_utf8(line: u64) -> std::io::Error {
    std::io::Error::new(
        std::io::ErrorKind::InvalidData,
        format!("the row at line {line} is not valid UTF-8"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_of_any_width_read_back_cell_by_cell() {
        let rows: Vec<(u64, Vec<&str>)> = vec![
            (2, vec!["黄浦区", "", "1.5"]),
            (3, vec![]),
            (5, vec!["a\nb", "静安区"]),
            (6, vec!["", "", "", "x"]),
        ];
        let mut chunk = Chunk::default();
        for round in 0..2 {
            for (line, cells) in &rows {
                chunk.push(*line, cells.iter().copied());
            }
            assert_eq!(chunk.len(), rows.len(), "round {round}");
            for (r, (line, cells)) in rows.iter().enumerate() {
                assert_eq!(chunk.line(r), *line);
                assert_eq!(chunk.width(r), cells.len());
                assert_eq!(chunk.cells(r).collect::<Vec<_>>(), *cells);
                for (c, cell) in cells.iter().enumerate() {
                    assert_eq!(chunk.cell(r, c), Some(*cell));
                }
                assert_eq!(chunk.cell(r, cells.len()), None);
            }
            let bytes: usize = rows.iter().flat_map(|r| &r.1).map(|c| c.len()).sum();
            assert_eq!(chunk.bytes(), bytes);
            // The same rows read as CSV records read back the same.
            let mut from_records = Chunk::default();
            for (line, cells) in &rows {
                let record = csv::ByteRecord::from(cells.clone());
                from_records.push_record(*line, &record).unwrap();
            }
            for (r, (_, cells)) in rows.iter().enumerate() {
                assert_eq!(from_records.cells(r).collect::<Vec<_>>(), *cells);
            }
            // A chunk cleared for reuse holds nothing of its earlier rows.
            chunk.clear();
            assert_eq!((chunk.len(), chunk.bytes()), (0, 0));
        }
    }

    #[test]
    fn a_record_that_is_not_utf8_or_splits_a_character_is_refused_and_changes_nothing() {
        let mut chunk = Chunk::default();
        chunk
            .push_record(2, &csv::ByteRecord::from(vec!["黄浦区", "1"]))
            .unwrap();
        let bad: [Vec<&[u8]>; 2] = [
            vec![b"ok", b"\xff\xfe"],
            // Valid end to end, but the first field ends inside 黄 (E9 BB 84).
            vec![b"a\xe9", b"\xbb\x84"],
        ];
        for fields in bad {
            let err = chunk
                .push_record(3, &csv::ByteRecord::from(fields))
                .unwrap_err();
            assert_eq!(err.kind(), std::io::ErrorKind::InvalidData);
            assert!(err.to_string().contains("line 3"), "{err}");
            assert_eq!((chunk.len(), chunk.bytes()), (1, "黄浦区1".len()));
            assert_eq!(chunk.cells(0).collect::<Vec<_>>(), ["黄浦区", "1"]);
        }
        chunk
            .push_record(4, &csv::ByteRecord::from(vec!["", "静安区"]))
            .unwrap();
        assert_eq!(chunk.cells(1).collect::<Vec<_>>(), ["", "静安区"]);
        assert_eq!(chunk.line(1), 4);
    }
}
