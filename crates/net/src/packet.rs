//! AF_PACKET socket for gratuitous ARP and unsolicited neighbour adverts.
//!
//! keepalived sends gratuitous ARP on a `PF_PACKET` socket (vrrp_arp.c) and
//! unsolicited NA on an ICMPv6 raw socket with hop limit 255 (vrrp_ndisc.c).
//! keepalived-rs sends both as whole Ethernet frames built by
//! `keepalived_wire::arp::emit_gratuitous_frame` and
//! `keepalived_wire::ndisc::emit_unsolicited_na_frame` on one AF_PACKET
//! socket per interface: the bytes on the wire are the same (the wire crate
//! writes the IPv6 header keepalived's kernel would: hop limit 255, source
//! the VIP, destination ff02::1, Ethernet 33:33:00:00:00:01), and the frame
//! goes out even when the kernel would refuse an IPv6 source (address still
//! tentative, IPv6 disabled on the interface).

use crate::would_block;
use socket2::{Domain, Protocol, Socket, Type};
use std::io;
use std::os::fd::AsFd;

/// Every ethertype (for capture).
pub const ETH_P_ALL: u16 = 0x0003;
/// ARP.
pub const ETH_P_ARP: u16 = 0x0806;
/// IPv6.
pub const ETH_P_IPV6: u16 = 0x86dd;

/// An AF_PACKET `SOCK_RAW` socket bound to one interface: sends and receives
/// whole Ethernet frames (non-blocking, close-on-exec).
#[derive(Debug)]
pub struct PacketSocket {
    sock: Socket,
    ifindex: u32,
}

crate::mio_source!(PacketSocket);

impl PacketSocket {
    /// Opens a socket on interface `ifindex` that receives frames of
    /// `ethertype` (host byte order; [`ETH_P_ALL`] for all, 0 for none: a
    /// send-only socket, like keepalived's). Needs CAP_NET_RAW.
    pub fn open(ifindex: u32, ethertype: u16) -> io::Result<Self> {
        // Protocol 0 at socket(2): nothing is queued until bind(2) names the
        // interface, so frames of other interfaces never slip in.
        let sock = Socket::new(Domain::PACKET, Type::RAW.nonblocking().cloexec(), Some(Protocol::from(0)))?;
        keepalived_sys::bind_packet(sock.as_fd(), ifindex, ethertype)?;
        Ok(PacketSocket { sock, ifindex })
    }

    /// A send-only socket on `ifindex`.
    pub fn open_send_only(ifindex: u32) -> io::Result<Self> {
        Self::open(ifindex, 0)
    }

    /// The interface index.
    pub fn ifindex(&self) -> u32 {
        self.ifindex
    }

    /// The underlying socket2 socket.
    pub fn socket(&self) -> &Socket {
        &self.sock
    }

    /// Sends one whole Ethernet frame (destination MAC first) on the
    /// interface. A full buffer is an error of kind `WouldBlock`.
    pub fn send(&self, frame: &[u8]) -> io::Result<()> {
        let n = self.sock.send(frame)?;
        if n != frame.len() {
            return Err(io::Error::new(io::ErrorKind::WriteZero, "short packet send"));
        }
        Ok(())
    }

    /// Receives one frame into `buf` (Ethernet header included): its length
    /// (truncated to `buf`), or `None` when nothing is queued. Frames this
    /// host sends on the interface are seen too.
    pub fn recv(&self, buf: &mut [u8]) -> io::Result<Option<usize>> {
        // socket2 wants MaybeUninit; read through std's Read on &Socket.
        use std::io::Read;
        would_block((&self.sock).read(buf))
    }
}
