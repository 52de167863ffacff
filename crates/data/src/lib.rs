//! Kaifang's data plane, first part: a provider's file read against the data items its entry
//! declares (A9). The declaration is the schema: columns are matched to data items by field
//! name or Chinese label, and every cell is checked against its item's declared type rather
//! than a type guessed from the first rows. The text encoding is detected (UTF-8 with or
//! without BOM, GBK/GB18030, UTF-16) or declared, never silently taken for a single-byte one.
//! Whatever is wrong is a [`Finding`] at its row and column; reading streams, so a file is
//! never whole in memory.

pub mod cells;
mod chunk;
pub mod columns;
pub mod encoding;
pub mod gate;
mod index;
pub mod infer;
pub mod ingest;
pub mod privacy;
pub mod profile;
pub mod query;
pub mod read;
pub mod records;
pub mod rules;
pub mod sandbox;
pub mod sources;
pub mod sql;
pub mod table;
pub mod uniqueness;
mod version_file;
pub mod xlsx;

pub use encoding::{Detected, DetectedBy, EncodingError, decoded};
pub use infer::{Suggested, infer_items};
pub use read::{ColumnReport, Finding, FindingKind, ReadError, ReadOptions, Report, read_csv};

// The Arrow and Parquet this crate is built on, for the layers that read its tables.
pub use arrow;
pub use parquet;
