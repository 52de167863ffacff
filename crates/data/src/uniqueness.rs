//! The duplicate check in bounded memory. Each row's key (its declared key items, or all its
//! values) is a 128-bit hash. Up to a bound the hashes are kept in memory with the line they
//! were first seen at, and a repeat is found as it is read. Past the bound the hashes in memory
//! and every later row's are written to partition files on the scratch disk, split by the
//! hash's top bits; at the end each partition is read back alone — a sixty-fourth of the rows —
//! and the repeats among them found then. So a file of any length takes the same memory, and a
//! file that fits under the bound is checked exactly as before.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

/// Keys kept in memory before spilling: just under what a table of 2^21 buckets holds before it
/// grows (7/8 of them), so about 70 MB (33 bytes a bucket).
pub const DEFAULT_IN_MEMORY: usize = 1_800_000;
/// Partitions of the spilled keys (by the hash's top six bits).
const PARTITIONS: usize = 64;
/// One spilled key: hash (16 bytes), line (8), row (8).
const RECORD: usize = 32;
/// The row of a key kept in memory when the spill began: its repeats were found already.
const EARLY: u64 = u64::MAX;

/// A row found, at the end, to repeat an earlier one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LateDuplicate {
    pub line: u64,
    /// The line of the row it repeats.
    pub first: u64,
    /// Its place among the rows written (0 for the first row of the new version's file).
    pub row: u64,
}

/// The keys are hashes already: the table hashes each by its low 64 bits, rather than hashing
/// it again.
#[derive(Default)]
struct Prehashed(u64);

impl std::hash::Hasher for Prehashed {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        // Only keys of 128 bits are hashed here (`write_u128`); anything else still spreads.
        for &b in bytes {
            self.0 = (self.0.rotate_left(5) ^ u64::from(b)).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
        }
    }

    fn write_u128(&mut self, n: u128) {
        self.0 = n as u64;
    }
}

type Table = HashMap<u128, u64, std::hash::BuildHasherDefault<Prehashed>>;

enum Keys {
    InMemory(Table),
    Spilled {
        dir: tempfile::TempDir,
        parts: Vec<BufWriter<File>>,
    },
}

pub struct Uniqueness {
    keys: Keys,
    limit: usize,
    scratch: Option<PathBuf>,
}

fn part_path(dir: &Path, p: usize) -> PathBuf {
    dir.join(format!("keys-{p:02}"))
}

impl Uniqueness {
    /// A check that keeps up to `limit` keys in memory, then spills into a directory made in
    /// `scratch` (without one it never spills).
    pub fn new(limit: usize, scratch: Option<PathBuf>) -> Self {
        // A check that spills takes its table's room at once: growing to it moves every key
        // again at each doubling, to random places in memory. The pages are only touched as keys
        // land on them.
        let table = match scratch {
            Some(_) => Table::with_capacity_and_hasher(limit, Default::default()),
            None => Table::default(),
        };
        Self {
            keys: Keys::InMemory(table),
            limit,
            scratch,
        }
    }

    /// Sees the key `hash` of the row at `line`, the `row`th written. Returns the line it
    /// repeats when that is known now; a repeat of a spilled key is found by [`Self::finish`].
    pub fn see(&mut self, hash: u128, line: u64, row: u64) -> std::io::Result<Option<u64>> {
        if let Keys::InMemory(seen) = &mut self.keys {
            match seen.entry(hash) {
                Entry::Occupied(e) => return Ok(Some(*e.get())),
                Entry::Vacant(e) => {
                    e.insert(line);
                }
            }
            if seen.len() >= self.limit
                && let Some(scratch) = self.scratch.clone()
            {
                self.spill(&scratch)?;
            }
            return Ok(None);
        }
        self.write(hash, line, row)?;
        Ok(None)
    }

    fn spill(&mut self, scratch: &Path) -> std::io::Result<()> {
        std::fs::create_dir_all(scratch)?;
        let dir = tempfile::Builder::new()
            .prefix("uniqueness-")
            .tempdir_in(scratch)?;
        let parts = (0..PARTITIONS)
            .map(|p| File::create(part_path(dir.path(), p)).map(BufWriter::new))
            .collect::<std::io::Result<Vec<_>>>()?;
        let Keys::InMemory(seen) = std::mem::replace(&mut self.keys, Keys::Spilled { dir, parts })
        else {
            return Ok(());
        };
        for (hash, line) in seen {
            self.write(hash, line, EARLY)?;
        }
        Ok(())
    }

    fn write(&mut self, hash: u128, line: u64, row: u64) -> std::io::Result<()> {
        if let Keys::Spilled { parts, .. } = &mut self.keys {
            let p = (hash >> (128 - 6)) as usize % PARTITIONS;
            let mut record = [0u8; RECORD];
            record[..16].copy_from_slice(&hash.to_le_bytes());
            record[16..24].copy_from_slice(&line.to_le_bytes());
            record[24..].copy_from_slice(&row.to_le_bytes());
            parts[p].write_all(&record)?;
        }
        Ok(())
    }

    /// The repeats not known when their rows were read, in line order. Removes the spill.
    pub fn finish(self) -> std::io::Result<Vec<LateDuplicate>> {
        let Keys::Spilled { dir, parts } = self.keys else {
            return Ok(Vec::new());
        };
        for mut part in parts {
            part.flush()?;
        }
        let mut late = Vec::new();
        for p in 0..PARTITIONS {
            let mut reader = BufReader::new(File::open(part_path(dir.path(), p))?);
            let mut first: HashMap<u128, (u64, u64), std::hash::BuildHasherDefault<Prehashed>> =
                HashMap::default();
            let mut repeats: Vec<(u128, u64, u64)> = Vec::new();
            let mut record = [0u8; RECORD];
            loop {
                match reader.read_exact(&mut record) {
                    Ok(()) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => break,
                    Err(e) => return Err(e),
                }
                let mut h = [0u8; 16];
                h.copy_from_slice(&record[..16]);
                let hash = u128::from_le_bytes(h);
                let line = u64::from_le_bytes(record[16..24].try_into().unwrap_or_default());
                let row = u64::from_le_bytes(record[24..].try_into().unwrap_or_default());
                match first.entry(hash) {
                    // Keys are written in the order rows were read, except the early ones,
                    // written all at once when the spill began, all before any later row.
                    Entry::Occupied(_) => repeats.push((hash, line, row)),
                    Entry::Vacant(e) => {
                        e.insert((line, row));
                    }
                }
            }
            for (hash, line, row) in repeats {
                if let Some(&(first_line, _)) = first.get(&hash) {
                    late.push(LateDuplicate {
                        line,
                        first: first_line,
                        row,
                    });
                }
            }
        }
        late.sort_by_key(|d| d.line);
        Ok(late)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The repeats of `keys` (one per row, rows numbered from line 2) as a plain scan finds
    /// them: (line, first line).
    fn expected(keys: &[u128]) -> Vec<(u64, u64)> {
        let mut out = Vec::new();
        for (i, k) in keys.iter().enumerate() {
            if let Some(j) = keys[..i].iter().position(|x| x == k) {
                out.push((i as u64 + 2, j as u64 + 2));
            }
        }
        out
    }

    fn found(keys: &[u128], limit: usize, scratch: &Path) -> Vec<(u64, u64)> {
        let mut u = Uniqueness::new(limit, Some(scratch.to_owned()));
        let mut out = Vec::new();
        for (i, k) in keys.iter().enumerate() {
            if let Some(first) = u.see(*k, i as u64 + 2, i as u64).unwrap() {
                out.push((i as u64 + 2, first));
            }
        }
        for d in u.finish().unwrap() {
            assert_eq!(d.row + 2, d.line, "the row of line {}", d.line);
            out.push((d.line, d.first));
        }
        out.sort();
        out
    }

    #[test]
    fn spilled_or_not_the_same_repeats_are_found() {
        let scratch = tempfile::tempdir().unwrap();
        // Keys spread over the whole hash space (so over every partition), with repeats near
        // and far, before and after the spill.
        let mut keys: Vec<u128> = (0..5_000u128)
            .map(|i| i.wrapping_mul(0x9E37_79B9_7F4A_7C15_F39C_C060_5CED_C835))
            .collect();
        for (at, of) in [(10, 3), (700, 5), (1500, 2), (4999, 4000), (3000, 2999)] {
            keys[at] = keys[of];
        }
        let want = expected(&keys);
        assert_eq!(want.len(), 5);
        for limit in [1, 100, 1_000, 2_999, 1_000_000] {
            assert_eq!(found(&keys, limit, scratch.path()), want, "limit {limit}");
        }
        // The spill is gone once read.
        assert_eq!(std::fs::read_dir(scratch.path()).unwrap().count(), 0);
    }

    proptest::proptest! {
        #[test]
        fn every_repeat_is_found_once_with_its_first_line(
            keys in proptest::collection::vec(0u128..40, 0..300),
            limit in 1usize..50,
        ) {
            // Few distinct keys, spread to the top bits as real hashes are.
            let keys: Vec<u128> = keys.iter().map(|k| k.rotate_right(7)).collect();
            let scratch = tempfile::tempdir().unwrap();
            proptest::prop_assert_eq!(found(&keys, limit, scratch.path()), expected(&keys));
        }
    }
}
