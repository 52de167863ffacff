//! The privacy guard of the data plane: the scan for personal information
//! ([`scan`], over [`detect`]) and the de-identification rules applied while ingesting
//! ([`deid`]), and the re-identification risk of what is opened ([`risk`]).

pub mod deid;
pub mod detect;
pub mod risk;
pub mod sample;
pub mod scan;

pub use deid::{Deid, Rewritten};
pub use scan::{Handling, PiFinding, PiReport, PrivacyOptions, Scanner};
