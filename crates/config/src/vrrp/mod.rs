//! Area `vrrp`: model, keyword handlers, validation.

pub mod model;
mod parse;
mod validate;

pub use parse::ROOT;
pub use validate::validate;
