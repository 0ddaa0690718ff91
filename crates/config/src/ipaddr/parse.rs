//! Keyword handlers.

use crate::engine::Kw;

/// Root-level keywords owned by this area.
pub static ROOT: &[Kw] = &[];
