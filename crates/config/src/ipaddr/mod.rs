//! Area `ipaddr`: address, route and rule entries (keepalived
//! vrrp_ipaddress.c, vrrp_iproute.c, vrrp_iprule.c) and the
//! `static_ipaddress`, `static_routes`, `static_rules` blocks.
//!
//! The entry readers are used by the VRRP area for `virtual_ipaddress`,
//! `virtual_ipaddress_excluded`, `virtual_routes` and `virtual_rules`.

pub mod model;
mod parse;
mod validate;

pub use parse::{read_address, read_route, read_rule, ROOT};
pub use validate::validate;
