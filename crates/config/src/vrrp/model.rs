//! VRRP: instances, sync groups, trackers.
use crate::diag::Origin;
use crate::model::Weight;
use serde::Serialize;

#[derive(Clone, Debug, Default, Serialize)]
pub struct VrrpConfig {
    /// `track_file NAME {}` / `vrrp_track_file NAME {}` (also used by the
    /// checker's FILE_CHECK).
    pub track_files: Vec<TrackFile>,
}

/// `track_file NAME { file PATH; weight N [reverse]; init_file [V] [overwrite] }`.
#[derive(Clone, Debug, Serialize)]
pub struct TrackFile {
    pub name: String,
    pub file: Option<String>,
    /// Default 1.
    pub weight: Weight,
    pub origin: Origin,
}
