//! What validation needs to know about the running system: the network
//! interfaces (keepalived checks them over netlink: BAD_IF), the host name,
//! and whether the script-security checks look at the file system.
//!
//! The binary fills this from netlink (crate `keepalived-netlink`); tests
//! build it by hand.

use serde::Serialize;
use std::collections::BTreeMap;
use std::net::{Ipv4Addr, Ipv6Addr};

#[derive(Clone, Debug, Default, Serialize)]
pub struct Interface {
    pub name: String,
    pub index: u32,
    /// IFLA_INFO_KIND (`veth`, `vlan`, `macvlan`, `bridge`…), if any.
    pub kind: Option<String>,
    pub loopback: bool,
    pub up: bool,
    /// ARPHRD_* link type (1 = Ethernet).
    pub link_type: u16,
    pub hw_addr: Vec<u8>,
    pub ipv4: Vec<Ipv4Addr>,
    pub ipv6: Vec<Ipv6Addr>,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct SystemView {
    /// `None`: interfaces are not known, so no interface is reported missing.
    pub interfaces: Option<BTreeMap<String, Interface>>,
    /// uname nodename (router_id, notification_email_from defaults).
    pub hostname: String,
    /// Check script paths and users on this system (script security).
    pub check_scripts: bool,
    /// Look no host name up (`smtp_server NAME`): every name fails as unresolvable. For the
    /// fuzzer, whose inputs must not wait on the system's resolver (a name lookup can take
    /// seconds, and the fuzzer finds many names).
    pub offline: bool,
}

impl SystemView {
    /// No knowledge of the system: nothing is reported missing.
    pub fn unknown() -> SystemView {
        SystemView { interfaces: None, hostname: "localhost".into(), check_scripts: false, offline: false }
    }

    /// A view with the given interface names (tests).
    pub fn with_interfaces(names: &[&str]) -> SystemView {
        let mut map = BTreeMap::new();
        for (i, n) in names.iter().enumerate() {
            map.insert(
                n.to_string(),
                Interface {
                    name: n.to_string(),
                    index: i as u32 + 1,
                    loopback: *n == "lo",
                    up: true,
                    link_type: if *n == "lo" { 772 } else { 1 },
                    ..Default::default()
                },
            );
        }
        SystemView { interfaces: Some(map), hostname: "localhost".into(), check_scripts: false, offline: false }
    }

    /// Does the interface exist? Unknown system: yes.
    pub fn has_interface(&self, name: &str) -> bool {
        match &self.interfaces {
            None => true,
            Some(m) => m.contains_key(name),
        }
    }

    pub fn interface(&self, name: &str) -> Option<&Interface> {
        self.interfaces.as_ref().and_then(|m| m.get(name))
    }
}
