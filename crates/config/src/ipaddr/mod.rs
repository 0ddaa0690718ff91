//! Area `ipaddr`: address, route and rule entries (keepalived
//! vrrp_ipaddress.c, vrrp_iproute.c, vrrp_iprule.c) and the
//! `static_ipaddress`, `static_routes`, `static_rules` and `track_group`
//! blocks (vrrp_static_track.c).
//!
//! The entry readers are used by the VRRP area for `virtual_ipaddress`,
//! `virtual_ipaddress_excluded`, `virtual_routes` and `virtual_rules`;
//! the `check_*_interfaces` helpers do keepalived's interface-existence
//! checks for them during validation.

pub mod model;
mod parse;
pub mod rttables;
mod validate;

pub use parse::{read_address, read_route, read_rule, ROOT, RTPROT_KEEPALIVED, RULE_START_PRIORITY};
pub use validate::{
    check_address_interfaces, check_interfaces, check_route_interfaces, check_rule_interfaces,
    report_nonexistent_interface, validate,
};
