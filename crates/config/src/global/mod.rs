//! Area `global`: model, keyword handlers, validation.

pub mod model;
pub mod scripts;
mod parse;
mod validate;

pub use parse::ROOT;
pub use validate::validate;
