//! Addresses, routes and rules (static and virtual).
use crate::diag::Origin;
use serde::Serialize;
use std::net::IpAddr;

/// One address entry (`IP[/PREFIX] [dev IF] [brd …] [scope …] [label …] …`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct IpAddress {
    pub addr: IpAddr,
    pub prefix: u8,
    pub dev: Option<String>,
    pub origin: Origin,
}

/// One route entry (the `ip route add` syntax keepalived accepts).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Route {
    pub origin: Origin,
}

/// One rule entry (the `ip rule add` syntax keepalived accepts).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Rule {
    pub origin: Origin,
}

/// `static_ipaddress`, `static_routes`, `static_rules`.
#[derive(Clone, Debug, Default, Serialize)]
pub struct StaticConfig {
    pub addresses: Vec<IpAddress>,
    pub routes: Vec<Route>,
    pub rules: Vec<Rule>,
}
