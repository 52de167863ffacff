//! Pure types and rules of Kaifang. Nothing here does IO: the store and the web layer
//! bring data in and out, this crate decides what is valid and who may do what.

pub mod access;
pub mod account;
pub mod application;
pub mod articles;
pub mod audit;
pub mod bounded;
pub mod calendar;
pub mod checkpoint;
pub mod clock;
pub mod identifiers;
pub mod ids;
pub mod jobs;
pub mod names;
pub mod notice;
pub mod openlist;
pub mod policy;
pub mod privacy;
pub mod quality;
pub mod roles;
pub mod usage;

/// For [`string_enum!`]'s schemas in crates that do not name schemars themselves.
pub use schemars;
