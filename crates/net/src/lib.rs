//! The VRRP child's sockets (keepalived `vrrp.c` `open_vrrp_send_socket` /
//! `open_vrrp_read_socket`, `vrrp_arp.c`, `vrrp_ndisc.c`). This crate only
//! moves bytes: adverts, gratuitous ARP and unsolicited NA frames are built
//! and parsed by `keepalived-wire`.
//!
//! * [`VrrpSocketV4`]: raw IPv4 socket for protocol 112 (or 51, AH) on one
//!   interface; sends whole datagrams (`IP_HDRINCL`, keepalived builds its
//!   own IPv4 header), receives whole datagrams (IPv4 header included).
//! * [`VrrpSocketV6`]: raw IPv6 socket for protocol 112 on one interface;
//!   sends and receives the VRRP message alone, with hop limit, destination
//!   and interface from ancillary data.
//! * [`PacketSocket`]: AF_PACKET socket bound to one interface, for the
//!   Ethernet frames of gratuitous ARP and unsolicited neighbour adverts.
//! * [`interface_info`]: an interface's index, MAC and addresses.
//!
//! Differences from keepalived, by design: keepalived opens a send-only
//! socket and a separate read socket per interface and protocol; here one
//! socket does both (the send-only socket's zero receive buffer and
//! "drop everything" filter become a VRID filter, see [`vrid_filter_v4`]).
//! All sockets are non-blocking, close-on-exec and implement
//! [`mio::event::Source`].

mod bpf;
mod iface;
mod packet;
mod v4;
mod v6;

pub use bpf::{vrid_filter_v4, vrid_filter_v6, BpfInsn};
pub use iface::{interface_info, InterfaceInfo};
pub use packet::{PacketSocket, ETH_P_ALL, ETH_P_ARP, ETH_P_IPV6};
pub use v4::{VrrpProto, VrrpSocketV4, VrrpSocketV4Config};
pub use v6::{VrrpSocketV6, VrrpSocketV6Config, VRRP_MCAST_GROUP_V6};

/// Where a received datagram came from and went to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecvMeta<A> {
    /// Source address (IPv4 header / recvmsg peer address).
    pub src: A,
    /// Destination address (IPv4 header / `IPV6_PKTINFO`).
    pub dst: A,
    /// Receiving interface index (`IP_PKTINFO` / `IPV6_PKTINFO`); 0 if the
    /// kernel did not say.
    pub ifindex: u32,
    /// IPv4 TTL (from the header) or IPv6 hop limit (`IPV6_HOPLIMIT`; 0 if
    /// the kernel did not say).
    pub ttl: u8,
}

/// [`RecvMeta`] of an IPv4 datagram.
pub type RecvMetaV4 = RecvMeta<std::net::Ipv4Addr>;
/// [`RecvMeta`] of an IPv6 VRRP message.
pub type RecvMetaV6 = RecvMeta<std::net::Ipv6Addr>;

/// VRRP's IP protocol number.
pub const IPPROTO_VRRP: i32 = 112;
/// IPsec AH's IP protocol number.
pub const IPPROTO_AH: i32 = 51;

/// `Ok(None)` for `EWOULDBLOCK`/`EAGAIN`, the error otherwise.
pub(crate) fn would_block<T>(r: std::io::Result<T>) -> std::io::Result<Option<T>> {
    match r {
        Ok(v) => Ok(Some(v)),
        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => Ok(None),
        Err(e) => Err(e),
    }
}

/// Registers a socket's descriptor with mio.
macro_rules! mio_source {
    ($t:ty) => {
        impl mio::event::Source for $t {
            fn register(
                &mut self,
                registry: &mio::Registry,
                token: mio::Token,
                interests: mio::Interest,
            ) -> std::io::Result<()> {
                use std::os::fd::AsRawFd;
                mio::unix::SourceFd(&self.as_raw_fd()).register(registry, token, interests)
            }

            fn reregister(
                &mut self,
                registry: &mio::Registry,
                token: mio::Token,
                interests: mio::Interest,
            ) -> std::io::Result<()> {
                use std::os::fd::AsRawFd;
                mio::unix::SourceFd(&self.as_raw_fd()).reregister(registry, token, interests)
            }

            fn deregister(&mut self, registry: &mio::Registry) -> std::io::Result<()> {
                use std::os::fd::AsRawFd;
                mio::unix::SourceFd(&self.as_raw_fd()).deregister(registry)
            }
        }

        impl std::os::fd::AsRawFd for $t {
            fn as_raw_fd(&self) -> std::os::fd::RawFd {
                self.sock.as_raw_fd()
            }
        }

        impl std::os::fd::AsFd for $t {
            fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
                self.sock.as_fd()
            }
        }
    };
}
pub(crate) use mio_source;
