//! The SQL gate, on arbitrary text: one SELECT without table functions or unbounded functions,
//! and the tables it reads. A refused query is expected; a panic is a bug.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    let sql = String::from_utf8_lossy(bytes);
    let _ = data::sql::tables_of(&sql);
});
