//! The open list (开放清单, 第二章 of the rules): its vocabularies, the classification guide,
//! entries and the checks an entry passes before it is published.

pub mod checks;
pub mod classification;
pub mod dataset;
pub mod diff;
pub mod lifecycle;
pub mod review_cycle;
pub mod rules;
pub mod text;
pub mod ticket;
pub mod timeliness;
pub mod vocab;
