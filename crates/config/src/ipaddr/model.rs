//! Addresses, routes and rules (static and virtual).
use serde::Serialize;

#[derive(Clone, Debug, Default, Serialize)]
pub struct StaticConfig {}
