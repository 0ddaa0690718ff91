//! A non-blocking monitor of interface and address changes, for a mio
//! event loop.
//!
//! ```no_run
//! use keepalived_netlink::{Event, Monitor};
//! use mio::{Events, Interest, Poll, Token};
//!
//! let mut poll = Poll::new()?;
//! let mut monitor = Monitor::new()?;
//! poll.registry().register(&mut monitor, Token(0), Interest::READABLE)?;
//! let mut events = Events::with_capacity(16);
//! let mut changes = Vec::new();
//! loop {
//!     poll.poll(&mut events, None)?;
//!     monitor.read(&mut changes)?;
//!     for c in changes.drain(..) {
//!         if c == Event::Resync {
//!             // Changes were lost: read everything again.
//!             let _links = keepalived_netlink::dump_links()?;
//!             let _addrs = keepalived_netlink::dump_addresses()?;
//!         }
//!     }
//! }
//! # #[allow(unreachable_code)] Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use crate::transport::{delegate_source, Transport};
use crate::{addr_from_message, link_from_message, messages, raw, Addr, Link, NetlinkError, NLMSG_HDRLEN};
use crate::{RTM_DELADDR, RTM_DELLINK, RTM_NEWADDR, RTM_NEWLINK};
use netlink_packet_core::{NetlinkMessage, NetlinkPayload, NLMSG_OVERRUN};
use netlink_packet_route::RouteNetlinkMessage;
use netlink_sys::protocols::NETLINK_ROUTE;
use std::collections::HashMap;
use std::io;

// linux/rtnetlink.h: multicast groups.
const RTNLGRP_LINK: u32 = 1;
const RTNLGRP_IPV4_IFADDR: u32 = 5;
const RTNLGRP_IPV6_IFADDR: u32 = 9;
const ENOBUFS: i32 = 105;

/// The receive buffer [`Monitor::new`] asks for.
pub const MONITOR_RECEIVE_BUFFER: usize = 1024 * 1024;

/// A change of the system's interfaces or addresses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// The interface is up and has a carrier (`IFF_UP` and `IFF_RUNNING`,
    /// as keepalived's `IF_ISUP`). Also sent when an up interface is first
    /// seen by the monitor, or renamed.
    LinkUp { index: u32, name: String },
    /// The interface is down or lost its carrier. Also sent when a down
    /// interface is first seen by the monitor, or renamed.
    LinkDown { index: u32, name: String },
    /// The interface was deleted.
    LinkRemoved { index: u32, name: String },
    /// An address was added, or changed (IPv6 addresses are announced
    /// again, e.g. when duplicate address detection ends).
    AddressAdded(Addr),
    /// An address was deleted.
    AddressRemoved(Addr),
    /// Changes were lost (the receive buffer overflowed): read all links
    /// and addresses again with [`crate::dump_links`] and
    /// [`crate::dump_addresses`].
    Resync,
}

/// Notifications of link and address changes (`RTNLGRP_LINK`,
/// `RTNLGRP_IPV4_IFADDR`, `RTNLGRP_IPV6_IFADDR`) on a non-blocking netlink
/// socket. Register it with a mio [`mio::Registry`] (it is a
/// [`mio::event::Source`]) for [`mio::Interest::READABLE`], and call
/// [`Monitor::read`] each time it is readable.
///
/// The socket does not set `NETLINK_NO_ENOBUFS`: with it the kernel would
/// drop notifications silently when the receive buffer is full, and the
/// owner could not know it must read everything again. Without it, an
/// overflow is reported and becomes [`Event::Resync`].
#[derive(Debug)]
pub struct Monitor {
    socket: Transport,
    /// Last reported (up, name) of each interface, so that the many
    /// `RTM_NEWLINK` messages that change neither become no event.
    links: HashMap<u32, (bool, String)>,
}

impl Monitor {
    /// A monitor with a 1 MiB receive buffer ([`MONITOR_RECEIVE_BUFFER`]),
    /// beyond `net.core.rmem_max` when the process may (`CAP_NET_ADMIN`).
    pub fn new() -> Result<Monitor, NetlinkError> {
        Monitor::with_receive_buffer(MONITOR_RECEIVE_BUFFER, true)
    }

    /// A monitor sized by keepalived's `*_netlink_monitor_rcv_bufs[_force]`
    /// when configured, else as [`Monitor::new`] (keepalived's default is
    /// 64 KiB; ours is larger so that bursts of changes are not lost).
    pub fn configured(bytes: Option<u32>, force: bool) -> Result<Monitor, NetlinkError> {
        match bytes {
            Some(b) => Monitor::with_receive_buffer(b as usize, force),
            None => Monitor::new(),
        }
    }

    /// A monitor with a receive buffer of `bytes` (keepalived's
    /// `vrrp_netlink_monitor_rcv_bufs`); `force`: go beyond
    /// `net.core.rmem_max` (`SO_RCVBUFFORCE`, needs `CAP_NET_ADMIN`;
    /// `vrrp_netlink_monitor_rcv_bufs_force`), falling back to the capped
    /// `SO_RCVBUF` when not allowed.
    pub fn with_receive_buffer(bytes: usize, force: bool) -> Result<Monitor, NetlinkError> {
        let groups = [RTNLGRP_LINK, RTNLGRP_IPV4_IFADDR, RTNLGRP_IPV6_IFADDR];
        let socket = Transport::listen(NETLINK_ROUTE, &groups).map_err(NetlinkError::Socket)?;
        socket.set_receive_buffer(bytes, force).map_err(NetlinkError::Socket)?;
        socket.set_non_blocking().map_err(NetlinkError::Socket)?;
        Ok(Monitor { socket, links: HashMap::new() })
    }

    /// The receive buffer the kernel granted, in bytes (it counts its own
    /// bookkeeping, so about twice what was asked).
    pub fn receive_buffer(&self) -> Result<usize, NetlinkError> {
        self.socket.receive_buffer().map_err(NetlinkError::Socket)
    }

    /// Read every pending notification, appending the changes to `out`;
    /// returns when nothing more is pending. Messages that cannot be
    /// understood are skipped. A buffer overflow appends [`Event::Resync`]
    /// (once per call) and reading goes on.
    pub fn read(&mut self, out: &mut Vec<Event>) -> Result<(), NetlinkError> {
        let mut resync = false;
        loop {
            let datagram = match self.socket.receive() {
                Ok(d) => d,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.raw_os_error() == Some(ENOBUFS) => {
                    resync = true;
                    continue;
                }
                Err(e) => return Err(NetlinkError::Monitor(e)),
            };
            if datagram.is_empty() {
                break;
            }
            for m in messages(&datagram) {
                let Ok(m) = m else { break };
                if m.kind == NLMSG_OVERRUN {
                    resync = true;
                    continue;
                }
                if let Some(e) = self.event(m.kind, m.bytes) {
                    out.push(e);
                }
            }
        }
        if resync {
            // What we knew may be stale: report every interface again.
            self.links.clear();
            out.push(Event::Resync);
        }
        Ok(())
    }

    fn event(&mut self, kind: u16, bytes: &[u8]) -> Option<Event> {
        match kind {
            RTM_NEWLINK => {
                let l = decode_link(bytes)?;
                let up = l.up && l.running;
                let state = (up, l.name.clone());
                if self.links.get(&l.index) == Some(&state) {
                    return None;
                }
                self.links.insert(l.index, state);
                let (index, name) = (l.index, l.name);
                Some(if up { Event::LinkUp { index, name } } else { Event::LinkDown { index, name } })
            }
            RTM_DELLINK => {
                let l = decode_link(bytes)?;
                self.links.remove(&l.index);
                Some(Event::LinkRemoved { index: l.index, name: l.name })
            }
            RTM_NEWADDR => decode_addr(bytes).map(Event::AddressAdded),
            RTM_DELADDR => decode_addr(bytes).map(Event::AddressRemoved),
            _ => None,
        }
    }
}

/// The kernel always names the interface; a nameless one is not understood.
pub(crate) fn decode_link(bytes: &[u8]) -> Option<Link> {
    let link = match NetlinkMessage::<RouteNetlinkMessage>::deserialize(bytes) {
        Ok(NetlinkMessage {
            payload: NetlinkPayload::InnerMessage(RouteNetlinkMessage::NewLink(m) | RouteNetlinkMessage::DelLink(m)),
            ..
        }) => link_from_message(&m),
        _ => raw::link(bytes.get(NLMSG_HDRLEN..).unwrap_or(&[])).ok()?,
    };
    (!link.name.is_empty()).then_some(link)
}

pub(crate) fn decode_addr(bytes: &[u8]) -> Option<Addr> {
    match NetlinkMessage::<RouteNetlinkMessage>::deserialize(bytes) {
        Ok(NetlinkMessage {
            payload:
                NetlinkPayload::InnerMessage(RouteNetlinkMessage::NewAddress(m) | RouteNetlinkMessage::DelAddress(m)),
            ..
        }) => addr_from_message(&m),
        _ => raw::addr(bytes.get(NLMSG_HDRLEN..).unwrap_or(&[])).ok().flatten(),
    }
}

delegate_source!(Monitor, socket);

#[cfg(test)]
mod tests {
    use super::*;

    fn nlmsg(kind: u16, payload: &[u8]) -> Vec<u8> {
        let mut v = Vec::new();
        v.extend_from_slice(&((16 + payload.len()) as u32).to_ne_bytes());
        v.extend_from_slice(&kind.to_ne_bytes());
        v.extend_from_slice(&[0; 10]);
        v.extend_from_slice(payload);
        v
    }

    fn link_payload(index: u32, flags: u32, name: &str) -> Vec<u8> {
        let mut p = vec![0u8, 0, 1, 0];
        p.extend_from_slice(&index.to_ne_bytes());
        p.extend_from_slice(&flags.to_ne_bytes());
        p.extend_from_slice(&0u32.to_ne_bytes());
        let mut n = name.as_bytes().to_vec();
        n.push(0);
        p.extend_from_slice(&((4 + n.len()) as u16).to_ne_bytes());
        p.extend_from_slice(&3u16.to_ne_bytes());
        p.extend_from_slice(&n);
        while p.len() % 4 != 0 {
            p.push(0);
        }
        p
    }

    #[test]
    fn link_events_only_on_change() {
        let mut m = Monitor::with_receive_buffer(4096, false).unwrap();
        let up = nlmsg(RTM_NEWLINK, &link_payload(4, 0x41, "eth1"));
        let down = nlmsg(RTM_NEWLINK, &link_payload(4, 0x1, "eth1"));
        assert_eq!(m.event(RTM_NEWLINK, &up), Some(Event::LinkUp { index: 4, name: "eth1".into() }));
        assert_eq!(m.event(RTM_NEWLINK, &up), None);
        assert_eq!(m.event(RTM_NEWLINK, &down), Some(Event::LinkDown { index: 4, name: "eth1".into() }));
        let renamed = nlmsg(RTM_NEWLINK, &link_payload(4, 0x1, "wan"));
        assert_eq!(m.event(RTM_NEWLINK, &renamed), Some(Event::LinkDown { index: 4, name: "wan".into() }));
        let gone = nlmsg(RTM_DELLINK, &link_payload(4, 0x1, "wan"));
        assert_eq!(m.event(RTM_DELLINK, &gone), Some(Event::LinkRemoved { index: 4, name: "wan".into() }));
        assert_eq!(m.event(RTM_NEWLINK, &down), Some(Event::LinkDown { index: 4, name: "eth1".into() }));
    }

    #[test]
    fn garbage_is_no_event() {
        let mut m = Monitor::with_receive_buffer(4096, false).unwrap();
        for kind in [RTM_NEWLINK, RTM_DELLINK, RTM_NEWADDR, RTM_DELADDR, 99] {
            let good = nlmsg(kind, &link_payload(4, 0x41, "eth1"));
            for cut in 0..good.len() {
                let _ = m.event(kind, &good[..cut]);
            }
            assert_eq!(m.event(kind, &[0xff; 40]), None);
        }
    }
}
