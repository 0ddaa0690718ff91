//! BFD instances.
use crate::diag::Origin;
use serde::Serialize;

#[derive(Clone, Debug, Default, Serialize)]
pub struct BfdConfig {
    pub instances: Vec<BfdInstance>,
}

/// `bfd_instance NAME { … }` (used by VRRP `track_bfd` and `BFD_CHECK`).
#[derive(Clone, Debug, Serialize)]
pub struct BfdInstance {
    pub name: String,
    pub origin: Origin,
}
