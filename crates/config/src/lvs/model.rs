//! LVS: virtual servers, real servers, checkers, SSL.
use serde::Serialize;

#[derive(Clone, Debug, Default, Serialize)]
pub struct LvsConfig {}
