//! An interface's index, MAC and addresses (getifaddrs(3)).

use keepalived_wire::MacAddr;
use std::io;
use std::net::{Ipv4Addr, Ipv6Addr};

/// What the VRRP child needs to know about an interface to build its
/// packets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InterfaceInfo {
    /// Name.
    pub name: String,
    /// Index.
    pub index: u32,
    /// Hardware address (`None` for interfaces without a 6-byte one).
    pub mac: Option<MacAddr>,
    /// IPv4 addresses, in the kernel's order (the first is the primary).
    pub ipv4: Vec<Ipv4Addr>,
    /// IPv6 addresses, in the kernel's order.
    pub ipv6: Vec<Ipv6Addr>,
}

impl InterfaceInfo {
    /// The first IPv6 link-local address (keepalived's default IPv6 VRRP
    /// source).
    pub fn ipv6_link_local(&self) -> Option<Ipv6Addr> {
        self.ipv6.iter().copied().find(Ipv6Addr::is_unicast_link_local)
    }
}

/// Looks up interface `name` (`NotFound` if it does not exist).
pub fn interface_info(name: &str) -> io::Result<InterfaceInfo> {
    let index = nix::net::if_::if_nametoindex(name).map_err(io::Error::from)?;
    let mut info = InterfaceInfo { name: name.to_owned(), index, mac: None, ipv4: Vec::new(), ipv6: Vec::new() };
    for ifa in nix::ifaddrs::getifaddrs().map_err(io::Error::from)? {
        if ifa.interface_name != name {
            continue;
        }
        let Some(addr) = ifa.address else { continue };
        if let Some(l) = addr.as_link_addr() {
            info.mac = l.addr().filter(|_| l.halen() == 6).map(MacAddr);
        } else if let Some(a) = addr.as_sockaddr_in() {
            info.ipv4.push(a.ip());
        } else if let Some(a) = addr.as_sockaddr_in6() {
            info.ipv6.push(a.ip());
        }
    }
    Ok(info)
}
