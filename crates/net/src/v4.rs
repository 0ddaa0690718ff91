//! The raw IPv4 VRRP socket.

use crate::{bpf, would_block, RecvMetaV4};
use nix::sys::socket::{recvmsg, sockopt, ControlMessageOwned, MsgFlags, SockaddrIn};
use socket2::{Domain, InterfaceIndexOrAddress, Protocol, SockAddr, Socket, Type};
use std::io::{self, IoSliceMut};
use std::net::{Ipv4Addr, SocketAddrV4};
use std::os::fd::{AsFd, AsRawFd};

/// Which IP protocol the socket receives (keepalived opens an AH socket
/// instead of a VRRP one for a VRRPv2 instance with `auth_type AH`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VrrpProto {
    /// IP protocol 112.
    Vrrp,
    /// IP protocol 51 (IPsec AH carrying VRRPv2).
    Ah,
}

impl VrrpProto {
    /// The IP protocol number.
    pub const fn number(self) -> i32 {
        match self {
            VrrpProto::Vrrp => crate::IPPROTO_VRRP,
            VrrpProto::Ah => crate::IPPROTO_AH,
        }
    }
}

/// How to open a [`VrrpSocketV4`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VrrpSocketV4Config {
    /// Interface name (`SO_BINDTODEVICE`).
    pub ifname: String,
    /// Its index (multicast membership, `IP_MULTICAST_IF`).
    pub ifindex: u32,
    /// The IP protocol.
    pub proto: VrrpProto,
    /// Multicast group to join and bind to (keepalived `mcast_dst_ip`,
    /// default 224.0.0.18); `None` for unicast peers (no membership).
    pub group: Option<Ipv4Addr>,
    /// Unicast mode: the local address to bind to (`IP_FREEBIND` first, so
    /// it need not exist yet). Ignored when `group` is set.
    pub unicast_src: Option<Ipv4Addr>,
    /// Receive only adverts of these VRIDs (see [`crate::vrid_filter_v4`]);
    /// `None` receives every VRID.
    pub vrids: Option<Vec<u8>>,
    /// `SO_RCVBUF` (keepalived `vrrp_rx_bufs_*`); `None` keeps the default.
    pub rcvbuf: Option<usize>,
}

impl VrrpSocketV4Config {
    /// Multicast to 224.0.0.18 on `ifname`, protocol 112, every VRID.
    pub fn multicast(ifname: &str, ifindex: u32) -> Self {
        VrrpSocketV4Config {
            ifname: ifname.to_owned(),
            ifindex,
            proto: VrrpProto::Vrrp,
            group: Some(keepalived_wire::ipv4::VRRP_MCAST_GROUP),
            unicast_src: None,
            vrids: None,
            rcvbuf: None,
        }
    }
}

/// A raw IPv4 socket for VRRP adverts on one interface.
///
/// Sending takes a whole datagram, IPv4 header included (`IP_HDRINCL`; build
/// it with `keepalived_wire::advert::Ipv4Advert::emit`): the kernel only
/// fills in the header checksum, total length and (when zero) the
/// identification. Receiving returns whole datagrams, IPv4 header included,
/// ready for `Ipv4Advert::parse`.
///
/// Options, as keepalived's send and read sockets together:
/// `SOCK_NONBLOCK | SOCK_CLOEXEC`, `IP_MULTICAST_ALL` 0, `IP_HDRINCL`,
/// `SO_BINDTODEVICE`, `IP_MULTICAST_IF` (index), `IP_MULTICAST_LOOP` 0,
/// `IP_TTL`/`IP_MULTICAST_TTL` 255, `IP_TOS` 0xc0, `IP_PKTINFO`, membership
/// of the group on the interface index and bind(2) to the group (so unicast
/// datagrams are not received), or in unicast mode `IP_FREEBIND` and bind(2)
/// to the local address.
#[derive(Debug)]
pub struct VrrpSocketV4 {
    sock: Socket,
    ifindex: u32,
    /// The `SO_RCVBUF` asked for (0: the kernel's default).
    rcvbuf: usize,
    proto: VrrpProto,
}

crate::mio_source!(VrrpSocketV4);

impl VrrpSocketV4 {
    /// Opens and configures the socket (needs CAP_NET_RAW).
    pub fn open(cfg: &VrrpSocketV4Config) -> io::Result<Self> {
        let ty = Type::RAW.nonblocking().cloexec();
        let sock = Socket::new(Domain::IPV4, ty, Some(Protocol::from(cfg.proto.number())))?;
        if let Some(n) = cfg.rcvbuf {
            sock.set_recv_buffer_size(n)?;
        }
        sock.set_multicast_all_v4(false)?;
        sock.set_header_included_v4(true)?;
        sock.bind_device(Some(cfg.ifname.as_bytes()))?;
        sock.set_ttl_v4(u32::from(keepalived_wire::ipv4::VRRP_TTL))?;
        sock.set_multicast_ttl_v4(u32::from(keepalived_wire::ipv4::VRRP_TTL))?;
        sock.set_multicast_loop_v4(false)?;
        sock.set_tos_v4(u32::from(keepalived_wire::ipv4::VRRP_TOS))?;
        nix::sys::socket::setsockopt(&sock, sockopt::Ipv4PacketInfo, &true).map_err(io::Error::from)?;
        if let Some(vrids) = &cfg.vrids {
            if let Some(prog) = bpf::vrid_filter_v4(vrids) {
                sock.attach_filter(&bpf::to_sock_filters(&prog))?;
            }
        }
        if let Some(group) = cfg.group {
            sock.join_multicast_v4_n(&group, &InterfaceIndexOrAddress::Index(cfg.ifindex))?;
            sock.bind(&SockAddr::from(SocketAddrV4::new(group, 0)))?;
        } else if let Some(src) = cfg.unicast_src {
            sock.set_freebind_v4(true)?;
            sock.bind(&SockAddr::from(SocketAddrV4::new(src, 0)))?;
        }
        Ok(VrrpSocketV4 { sock, ifindex: cfg.ifindex, proto: cfg.proto, rcvbuf: cfg.rcvbuf.unwrap_or(0) })
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

    /// The IP protocol.
    pub fn proto(&self) -> VrrpProto {
        self.proto
    }

    /// The underlying socket2 socket (for options not wrapped here).
    pub fn socket(&self) -> &Socket {
        &self.sock
    }

    /// Replaces the VRID filter (`None`: receive every VRID).
    pub fn set_vrid_filter(&self, vrids: Option<&[u8]>) -> io::Result<()> {
        match vrids.and_then(bpf::vrid_filter_v4) {
            Some(prog) => self.sock.attach_filter(&bpf::to_sock_filters(&prog)),
            None => match self.sock.detach_filter() {
                // ENOENT: no filter was attached.
                Err(e) if e.raw_os_error() == Some(nix::libc::ENOENT) => Ok(()),
                r => r,
            },
        }
    }

    /// Sends a whole IPv4 datagram (header included) to `dst` (which should
    /// be the header's destination). A full socket buffer is an error of
    /// kind `WouldBlock`, as for keepalived a lost advert.
    pub fn send(&self, datagram: &[u8], dst: Ipv4Addr) -> io::Result<()> {
        let n = self.sock.send_to(datagram, &SockAddr::from(SocketAddrV4::new(dst, 0)))?;
        if n != datagram.len() {
            return Err(io::Error::new(io::ErrorKind::WriteZero, "short raw send"));
        }
        Ok(())
    }

    /// Receives one datagram into `buf` (IPv4 header included): its length
    /// and where it came from, or `None` when nothing is queued. `src`,
    /// `dst` and `ttl` come from the IPv4 header (for a datagram shorter
    /// than a header: the peer address, 0.0.0.0 and 0); `ifindex` from
    /// `IP_PKTINFO`. A datagram longer than `buf` is truncated.
    pub fn recv(&self, buf: &mut [u8]) -> io::Result<Option<(usize, RecvMetaV4)>> {
        let mut cmsg = nix::cmsg_space!(nix::libc::in_pktinfo);
        let fd = self.sock.as_fd().as_raw_fd();
        let (len, peer, ifindex) = {
            let mut iov = [IoSliceMut::new(buf)];
            let r = recvmsg::<SockaddrIn>(fd, &mut iov, Some(&mut cmsg), MsgFlags::empty()).map_err(io::Error::from);
            let Some(msg) = would_block(r)? else { return Ok(None) };
            let mut ifindex = 0;
            for c in msg.cmsgs().map_err(io::Error::from)? {
                if let ControlMessageOwned::Ipv4PacketInfo(pi) = c {
                    ifindex = u32::try_from(pi.ipi_ifindex).unwrap_or(0);
                }
            }
            (msg.bytes, msg.address.map(|a| a.ip()), ifindex)
        };
        let data = &buf[..len.min(buf.len())];
        let meta = if data.len() >= keepalived_wire::ipv4::HEADER_LEN {
            let p = keepalived_wire::ipv4::Packet::new_unchecked(data);
            RecvMetaV4 { src: p.src_addr(), dst: p.dst_addr(), ifindex, ttl: p.ttl() }
        } else {
            RecvMetaV4 { src: peer.unwrap_or(Ipv4Addr::UNSPECIFIED), dst: Ipv4Addr::UNSPECIFIED, ifindex, ttl: 0 }
        };
        Ok(Some((data.len(), meta)))
    }
}
