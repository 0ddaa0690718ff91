//! Keyword handlers and entry readers.

use super::model::{IpAddress, Route, Rule};
use crate::engine::{Args, Ctx, Kw};

/// Root-level keywords owned by this area.
pub static ROOT: &[Kw] = &[];

/// keepalived `alloc_ipaddress(strvec, static_addr)`: one address line.
/// Reports problems at the current line; `None` when the entry is dropped.
pub fn read_address(_ctx: &mut Ctx, _args: &Args<'_>, _static_addr: bool) -> Option<IpAddress> {
    None
}

/// keepalived `alloc_route(list, strvec, allow_track_group)`: one route line.
pub fn read_route(_ctx: &mut Ctx, _args: &Args<'_>, _allow_track_group: bool) -> Option<Route> {
    None
}

/// keepalived `alloc_rule(list, strvec, allow_track_group)`: one rule line.
pub fn read_rule(_ctx: &mut Ctx, _args: &Args<'_>, _allow_track_group: bool) -> Option<Rule> {
    None
}
