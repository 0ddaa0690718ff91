//! End-of-configuration validation.

use crate::engine::Ctx;
use crate::system::SystemView;

pub fn validate(_ctx: &mut Ctx, _sys: &SystemView) {}
