//! The running system as validation sees it, read over rtnetlink (the
//! interfaces keepalived checks: BAD_IF), plus the host name.

use keepalived_config::system::{Interface, SystemView};
use std::collections::BTreeMap;
use std::net::IpAddr;

pub fn system_view(check_scripts: bool) -> SystemView {
    let hostname = nix::sys::utsname::uname().map(|u| u.nodename().to_string_lossy().into_owned()).unwrap_or_default();
    let interfaces = match read_interfaces() {
        Ok(m) => Some(m),
        Err(e) => {
            // Without the list we cannot say an interface is missing; say so
            // rather than report every interface as non-existent.
            eprintln!("Unable to read the network interfaces ({e}) - interfaces will not be checked");
            None
        }
    };
    SystemView { interfaces, hostname, check_scripts, offline: false }
}

fn read_interfaces() -> Result<BTreeMap<String, Interface>, keepalived_netlink::NetlinkError> {
    let links = keepalived_netlink::dump_links()?;
    let addrs = keepalived_netlink::dump_addresses()?;
    let mut map = BTreeMap::new();
    for l in links {
        let mut i = Interface {
            name: l.name.clone(),
            index: l.index,
            kind: l.kind.clone(),
            loopback: l.loopback,
            up: l.up,
            link_type: l.link_type,
            hw_addr: l.hw_addr.clone(),
            ipv4: Vec::new(),
            ipv6: Vec::new(),
        };
        for a in addrs.iter().filter(|a| a.index == l.index) {
            match a.addr {
                IpAddr::V4(v4) => i.ipv4.push(v4),
                IpAddr::V6(v6) => i.ipv6.push(v6),
            }
        }
        map.insert(l.name, i);
    }
    Ok(map)
}
