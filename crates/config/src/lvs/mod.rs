//! Area `lvs`: model, keyword handlers, validation.

pub mod model;
mod parse;
mod validate;

pub use parse::{REGEX_OPTIONS, ROOT};
pub use validate::validate;
