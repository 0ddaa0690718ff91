//! Root-level options and `global_defs`.
use serde::Serialize;

#[derive(Clone, Debug, Default, Serialize)]
pub struct RootOptions {}

#[derive(Clone, Debug, Default, Serialize)]
pub struct GlobalDefs {}
