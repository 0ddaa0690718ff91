//! Area `global`: model, keyword handlers, validation.

pub mod model;
mod parse;
pub mod scripts;
mod validate;

pub use parse::ROOT;
pub use validate::validate;
