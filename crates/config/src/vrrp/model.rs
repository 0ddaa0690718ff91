//! VRRP: instances, sync groups, trackers.
use serde::Serialize;

#[derive(Clone, Debug, Default, Serialize)]
pub struct VrrpConfig {}
