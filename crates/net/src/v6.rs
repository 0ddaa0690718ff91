//! The raw IPv6 VRRP socket.

use crate::{bpf, would_block, RecvMetaV6};
use nix::sys::socket::{recvmsg, sendmsg, sockopt, ControlMessage, ControlMessageOwned, MsgFlags, SockaddrIn6};
use socket2::{Domain, Protocol, SockAddr, Socket, Type};
use std::io::{self, IoSlice, IoSliceMut};
use std::net::{Ipv6Addr, SocketAddrV6};
use std::os::fd::{AsFd, AsRawFd};

/// The VRRP IPv6 multicast group, ff02::12 (RFC 5798 §5.1.2.2).
pub const VRRP_MCAST_GROUP_V6: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 0x12);

/// VRRP's hop limit.
const HOPS: u32 = 255;
/// Traffic class "network control" (keepalived `if_setsockopt_priority`).
const TCLASS: u32 = 0xc0;

/// How to open a [`VrrpSocketV6`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VrrpSocketV6Config {
    /// Interface name (`SO_BINDTODEVICE`).
    pub ifname: String,
    /// Its index (membership, `IPV6_MULTICAST_IF`, scope id).
    pub ifindex: u32,
    /// Multicast group to join and bind to (default ff02::12); `None` for
    /// unicast peers.
    pub group: Option<Ipv6Addr>,
    /// Unicast mode: the local address to bind to (`IPV6_FREEBIND` first).
    /// Ignored when `group` is set.
    pub unicast_src: Option<Ipv6Addr>,
    /// Receive only adverts of these VRIDs (see [`crate::vrid_filter_v6`]).
    pub vrids: Option<Vec<u8>>,
    /// `SO_RCVBUF`; `None` keeps the default.
    pub rcvbuf: Option<usize>,
}

impl VrrpSocketV6Config {
    /// Multicast to ff02::12 on `ifname`, every VRID.
    pub fn multicast(ifname: &str, ifindex: u32) -> Self {
        VrrpSocketV6Config {
            ifname: ifname.to_owned(),
            ifindex,
            group: Some(VRRP_MCAST_GROUP_V6),
            unicast_src: None,
            vrids: None,
            rcvbuf: None,
        }
    }
}

/// A raw IPv6 socket for VRRP adverts on one interface.
///
/// IPv6 raw sockets carry the VRRP message alone: the kernel builds the IPv6
/// header on send (source from the `IPV6_PKTINFO` ancillary data, hop limit
/// 255) and strips it on receive (hop limit, destination and interface come
/// back as ancillary data).
///
/// Options: `SOCK_NONBLOCK | SOCK_CLOEXEC`, `IPV6_MULTICAST_ALL` 0 (where
/// the kernel has it), `IPV6_CHECKSUM` −1, `SO_BINDTODEVICE`,
/// `IPV6_MULTICAST_IF`, `IPV6_MULTICAST_LOOP` 0, `IPV6_MULTICAST_HOPS` 255
/// (not `IPV6_UNICAST_HOPS`: keepalived leaves unicast adverts to the
/// route's hop limit unless `unicast_ttl` sets it per message, see
/// [`VrrpSocketV6::send_with_hop_limit`]), `IPV6_TCLASS` 0xc0, `IPV6_RECVHOPLIMIT`,
/// `IPV6_RECVPKTINFO`, membership of the group on the interface and bind(2)
/// to it (or `IPV6_FREEBIND` and bind(2) to the unicast source).
///
/// Checksums: keepalived's send-only socket sets `IPV6_CHECKSUM` 6 so the
/// kernel fills in the VRRP checksum. This socket also receives, and with an
/// offset set the kernel would silently drop received adverts with a bad
/// checksum (keepalived counts them, and accepts the checksum of old
/// versions in unicast mode), so the offset is off and the caller computes
/// the checksum (`keepalived_wire::vrrp::ChecksumKind::ipv6`) and verifies it.
#[derive(Debug)]
pub struct VrrpSocketV6 {
    sock: Socket,
    ifindex: u32,
    /// The `SO_RCVBUF` asked for (0: the kernel's default).
    rcvbuf: usize,
}

crate::mio_source!(VrrpSocketV6);

impl VrrpSocketV6 {
    /// Opens and configures the socket (needs CAP_NET_RAW).
    pub fn open(cfg: &VrrpSocketV6Config) -> io::Result<Self> {
        let ty = Type::RAW.nonblocking().cloexec();
        let sock = Socket::new(Domain::IPV6, ty, Some(Protocol::from(crate::IPPROTO_VRRP)))?;
        if let Some(n) = cfg.rcvbuf {
            sock.set_recv_buffer_size(n)?;
        }
        match sock.set_multicast_all_v6(false) {
            // Kernels before 4.20 have no IPV6_MULTICAST_ALL (keepalived
            // then skips it too).
            Err(e) if e.raw_os_error() == Some(nix::libc::ENOPROTOOPT) => {}
            r => r?,
        }
        keepalived_sys::set_ipv6_checksum(sock.as_fd(), -1)?;
        sock.bind_device(Some(cfg.ifname.as_bytes()))?;
        sock.set_multicast_if_v6(cfg.ifindex)?;
        sock.set_multicast_loop_v6(false)?;
        sock.set_multicast_hops_v6(HOPS)?;
        sock.set_tclass_v6(TCLASS)?;
        sock.set_recv_hoplimit_v6(true)?;
        nix::sys::socket::setsockopt(&sock, sockopt::Ipv6RecvPacketInfo, &true).map_err(io::Error::from)?;
        if let Some(vrids) = &cfg.vrids {
            if let Some(prog) = bpf::vrid_filter_v6(vrids) {
                sock.attach_filter(&bpf::to_sock_filters(&prog))?;
            }
        }
        if let Some(group) = cfg.group {
            sock.join_multicast_v6(&group, cfg.ifindex)?;
            sock.bind(&SockAddr::from(SocketAddrV6::new(group, 0, 0, cfg.ifindex)))?;
        } else if let Some(src) = cfg.unicast_src {
            sock.set_freebind_v6(true)?;
            let scope = if src.is_unicast_link_local() { cfg.ifindex } else { 0 };
            sock.bind(&SockAddr::from(SocketAddrV6::new(src, 0, 0, scope)))?;
        }
        Ok(VrrpSocketV6 { sock, ifindex: cfg.ifindex, rcvbuf: cfg.rcvbuf.unwrap_or(0) })
    }

    /// The interface index given at open.
    pub fn ifindex(&self) -> u32 {
        self.ifindex
    }

    /// The receive buffer size asked for at open (0: the kernel's default),
    /// as keepalived's data dump shows it.
    pub fn rcvbuf(&self) -> usize {
        self.rcvbuf
    }

    /// The underlying socket2 socket.
    pub fn socket(&self) -> &Socket {
        &self.sock
    }

    /// Replaces the VRID filter (`None`: receive every VRID).
    pub fn set_vrid_filter(&self, vrids: Option<&[u8]>) -> io::Result<()> {
        match vrids.and_then(bpf::vrid_filter_v6) {
            Some(prog) => self.sock.attach_filter(&bpf::to_sock_filters(&prog)),
            None => match self.sock.detach_filter() {
                Err(e) if e.raw_os_error() == Some(nix::libc::ENOENT) => Ok(()),
                r => r,
            },
        }
    }

    /// Sends a VRRP message (no IP header) from `src` to `dst` on the
    /// socket's interface (the scope id of a link-local or multicast
    /// destination is the interface index). `src` unspecified lets the
    /// kernel choose. A full socket buffer is an error of kind `WouldBlock`.
    pub fn send(&self, message: &[u8], src: Ipv6Addr, dst: Ipv6Addr) -> io::Result<()> {
        self.send_with_hop_limit(message, src, dst, None)
    }

    /// [`send`](Self::send) with this message's hop limit set by an
    /// `IPV6_HOPLIMIT` control message (keepalived's unicast adverts): 0 to
    /// 255, or -1 for the route's default (as if the socket's
    /// `IPV6_UNICAST_HOPS` had never been set).
    pub fn send_with_hop_limit(
        &self,
        message: &[u8],
        src: Ipv6Addr,
        dst: Ipv6Addr,
        hop_limit: Option<i32>,
    ) -> io::Result<()> {
        let scope = if dst.is_multicast() || dst.is_unicast_link_local() { self.ifindex } else { 0 };
        let addr = SockaddrIn6::from(SocketAddrV6::new(dst, 0, 0, scope));
        let pi = nix::libc::in6_pktinfo {
            ipi6_addr: nix::libc::in6_addr { s6_addr: src.octets() },
            ipi6_ifindex: self.ifindex,
        };
        let hops: nix::libc::c_int = hop_limit.unwrap_or(-1);
        let mut cmsgs = Vec::with_capacity(2);
        if !src.is_unspecified() {
            cmsgs.push(ControlMessage::Ipv6PacketInfo(&pi));
        }
        if hop_limit.is_some() {
            cmsgs.push(ControlMessage::Ipv6HopLimit(&hops));
        }
        let iov = [IoSlice::new(message)];
        let fd = self.sock.as_fd().as_raw_fd();
        let n = sendmsg(fd, &iov, &cmsgs, MsgFlags::empty(), Some(&addr)).map_err(io::Error::from)?;
        if n != message.len() {
            return Err(io::Error::new(io::ErrorKind::WriteZero, "short raw send"));
        }
        Ok(())
    }

    /// Receives one VRRP message (no IP header) into `buf`: its length and
    /// where it came from, or `None` when nothing is queued. `dst` and
    /// `ifindex` come from `IPV6_PKTINFO` (:: and 0 if missing), `ttl` is the
    /// hop limit from `IPV6_HOPLIMIT` (0 if missing).
    pub fn recv(&self, buf: &mut [u8]) -> io::Result<Option<(usize, RecvMetaV6)>> {
        let mut cmsg = nix::cmsg_space!(nix::libc::in6_pktinfo, nix::libc::c_int);
        let fd = self.sock.as_fd().as_raw_fd();
        let mut iov = [IoSliceMut::new(buf)];
        let r = recvmsg::<SockaddrIn6>(fd, &mut iov, Some(&mut cmsg), MsgFlags::empty()).map_err(io::Error::from);
        let Some(msg) = would_block(r)? else { return Ok(None) };
        let mut meta = RecvMetaV6 {
            src: msg.address.map_or(Ipv6Addr::UNSPECIFIED, |a| a.ip()),
            dst: Ipv6Addr::UNSPECIFIED,
            ifindex: 0,
            ttl: 0,
        };
        for c in msg.cmsgs().map_err(io::Error::from)? {
            match c {
                ControlMessageOwned::Ipv6PacketInfo(pi) => {
                    meta.dst = Ipv6Addr::from(pi.ipi6_addr.s6_addr);
                    meta.ifindex = pi.ipi6_ifindex;
                }
                ControlMessageOwned::Ipv6HopLimit(h) => meta.ttl = u8::try_from(h).unwrap_or(0),
                _ => {}
            }
        }
        let len = msg.bytes.min(iov[0].len());
        Ok(Some((len, meta)))
    }
}
