//! BFD instances.
use serde::Serialize;

#[derive(Clone, Debug, Default, Serialize)]
pub struct BfdConfig {}
