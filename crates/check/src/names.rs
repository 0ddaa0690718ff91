//! keepalived's names for services in log lines and notifications (`FMT_VS`, `FMT_RS`).
use std::net::IpAddr;

use keepalived_config::lvs::model as m;

/// `inet_sockaddrtotrio`: `[IP]:proto:port` (`none` when the service has no protocol, e.g. fwmark).
pub fn trio(addr: &IpAddr, protocol: Option<m::Protocol>, port: u16) -> String {
    format!("[{addr}]:{}:{port}", m::Protocol::name(protocol))
}

/// keepalived `format_vs`: `[group]:N`, `FWM N`, or the address trio.
pub fn fmt_vs(vs: &m::VirtualServer) -> String {
    match &vs.addr {
        m::VsAddr::Group { name, index } => format!("[{name}]:{index}"),
        m::VsAddr::Fwmark(mark) if *mark != 0 => format!("FWM {mark}"),
        m::VsAddr::Fwmark(_) => format!("[(none)]:{}:0", m::Protocol::name(vs.protocol)),
        m::VsAddr::Ip { addr, port } => trio(addr, vs.protocol, *port),
    }
}
