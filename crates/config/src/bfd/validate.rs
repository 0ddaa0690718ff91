//! End-of-configuration validation.
//!
//! keepalived's `bfd_validate_config` only re-reads the configuration, and
//! `bfd_complete_init` (not run by `-t`) only initialises session state:
//! every BFD check, with its message, happens when a `bfd_instance` block
//! closes (see `parse::bfd_end`). Here we only drop the parser state.

use crate::engine::Ctx;
use crate::system::SystemView;

pub fn validate(ctx: &mut Ctx, _sys: &SystemView) {
    ctx.cfg.bfd.parse = Default::default();
}
