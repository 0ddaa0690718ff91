//! The BFD child's sockets: keepalived bfd_scheduler.c `bfd_open_fd_in`
//! (one dual-stack receive socket per port, with the received TTL / hop
//! limit and the destination address as control messages) and
//! `bfd_open_fd_out` (one sending socket per session, bound to the source
//! address and a random port of RFC 5881 §4's 49152-65535, with the
//! session's TTL / hop limit).

use keepalived_bfd::SessionConfig;
use nix::sys::socket::{recvmmsg, sockopt, ControlMessageOwned, MsgFlags, MultiHeaders, RecvMsg, SockaddrStorage};
use socket2::{Domain, Protocol, SockAddr, Socket, Type};
use std::io::{self, IoSliceMut};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::os::fd::{AsFd, AsRawFd};

/// RFC 5881 §4: single-hop control packets go to 3784.
pub const SINGLE_HOP_PORT: u16 = 3784;
/// RFC 5883 §5: multihop control packets go to 4784.
pub const MULTIHOP_PORT: u16 = 4784;
/// RFC 5881 §4: the source port range.
const BFD_MIN_PORT: u16 = 49152;
const BFD_MAX_PORT: u16 = 65535;

/// One datagram received on a BFD port.
pub struct Received {
    pub len: usize,
    pub src: SocketAddr,
    pub dst: Option<IpAddr>,
    pub ttl: u8,
}

/// keepalived's receive socket: AF_INET6 dual-stack on `port` (IPv4 peers
/// arrive v4-mapped), AF_INET when IPv6 is disabled.
pub fn open_rx(port: u16) -> io::Result<Socket> {
    let v6 = match Socket::new(Domain::IPV6, Type::DGRAM.nonblocking().cloexec(), Some(Protocol::UDP)) {
        Ok(s) => Some(s),
        Err(e) if e.raw_os_error() == Some(nix::libc::EAFNOSUPPORT) => None,
        Err(e) => return Err(e),
    };
    let sock = match v6 {
        Some(s) => {
            s.set_only_v6(false)?;
            nix::sys::socket::setsockopt(&s, sockopt::Ipv4RecvTtl, &true)?;
            nix::sys::socket::setsockopt(&s, sockopt::Ipv6RecvHopLimit, &true)?;
            nix::sys::socket::setsockopt(&s, sockopt::Ipv6RecvPacketInfo, &true)?;
            s.bind(&SocketAddr::new(IpAddr::V6(Ipv6Addr::UNSPECIFIED), port).into())?;
            s
        }
        None => {
            let s = Socket::new(Domain::IPV4, Type::DGRAM.nonblocking().cloexec(), Some(Protocol::UDP))?;
            nix::sys::socket::setsockopt(&s, sockopt::Ipv4RecvTtl, &true)?;
            nix::sys::socket::setsockopt(&s, sockopt::Ipv4PacketInfo, &true)?;
            s.bind(&SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), port).into())?;
            s
        }
    };
    Ok(sock)
}

/// An IPv4-mapped IPv6 address as the IPv4 address it carries (keepalived
/// bfd_receive_packet converts both the source and the pktinfo address).
fn unmap(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// Datagrams read by one [`recv_batch`] at most.
pub const BATCH: usize = 16;

/// Receive what is queued, up to one datagram per buffer of `bufs`, in one
/// `recvmmsg`; `got[i]` describes `bufs[i]`. Empty when nothing is queued.
/// Fewer than `bufs.len()` means the queue was drained: the edge-triggered
/// registration wakes the loop again for the next datagram, so no further
/// read (and no `EAGAIN` system call) is needed.
pub fn recv_batch(sock: &Socket, bufs: &mut [Vec<u8>], got: &mut Vec<Received>) -> io::Result<()> {
    got.clear();
    let cmsg = nix::cmsg_space!(nix::libc::in6_pktinfo, nix::libc::in_pktinfo, nix::libc::c_int, nix::libc::c_int);
    // Fresh headers each call: nix does not reset the control-message
    // lengths the kernel shortened in the previous call.
    let mut headers = MultiHeaders::<SockaddrStorage>::preallocate(bufs.len(), Some(cmsg));
    let mut iovs: Vec<[IoSliceMut<'_>; 1]> = bufs.iter_mut().map(|b| [IoSliceMut::new(b.as_mut_slice())]).collect();
    let fd = sock.as_fd().as_raw_fd();
    let msgs = match recvmmsg(fd, &mut headers, iovs.iter_mut(), MsgFlags::MSG_DONTWAIT, None) {
        Ok(m) => m,
        Err(nix::errno::Errno::EAGAIN) => return Ok(()),
        Err(e) => return Err(e.into()),
    };
    for msg in msgs {
        got.push(received(&msg)?);
    }
    Ok(())
}

/// The source, destination and TTL of one received datagram.
fn received(msg: &RecvMsg<'_, '_, SockaddrStorage>) -> io::Result<Received> {
    let src = msg.address.as_ref().and_then(storage_to_socket_addr);
    let mut dst = None;
    let mut ttl = 0u8;
    for c in msg.cmsgs().map_err(io::Error::from)? {
        match c {
            ControlMessageOwned::Ipv4Ttl(t) | ControlMessageOwned::Ipv6HopLimit(t) => {
                ttl = u8::try_from(t).unwrap_or(0)
            }
            ControlMessageOwned::Ipv6PacketInfo(pi) => {
                dst = Some(unmap(IpAddr::V6(Ipv6Addr::from(pi.ipi6_addr.s6_addr))))
            }
            ControlMessageOwned::Ipv4PacketInfo(pi) => {
                dst = Some(IpAddr::V4(Ipv4Addr::from(u32::from_be(pi.ipi_addr.s_addr))))
            }
            _ => {}
        }
    }
    // A datagram without a source address cannot be answered: report it
    // as from the unspecified address, which matches no session.
    let src =
        src.map_or(SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), 0), |s| SocketAddr::new(unmap(s.ip()), s.port()));
    Ok(Received { len: msg.bytes, src, dst, ttl })
}

fn storage_to_socket_addr(a: &SockaddrStorage) -> Option<SocketAddr> {
    if let Some(v4) = a.as_sockaddr_in() {
        return Some(SocketAddr::new(IpAddr::V4(v4.ip()), v4.port()));
    }
    a.as_sockaddr_in6().map(|v6| SocketAddr::new(IpAddr::V6(v6.ip()), v6.port()))
}

/// keepalived `read_local_port_range`: net.ipv4.ip_local_port_range.
fn local_port_range() -> Option<(u16, u16)> {
    let s = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range").ok()?;
    let mut it = s.split_whitespace().map(|w| w.parse::<u16>().ok());
    Some((it.next()??, it.next()??))
}

/// The ports a sending socket may bind: 49152-65535 ∩ the local port range,
/// unless that leaves fewer than 1024 ports (keepalived's rule).
fn port_range() -> (u16, u16) {
    let (lo, hi) = local_port_range().unwrap_or((BFD_MIN_PORT, BFD_MAX_PORT));
    let lo = lo.max(BFD_MIN_PORT);
    if u32::from(lo) + 1023 > u32::from(hi) {
        (BFD_MIN_PORT, BFD_MAX_PORT)
    } else {
        (lo, hi)
    }
}

/// keepalived `bfd_open_fd_out`: a socket of the neighbour's family bound
/// to the source address (the wildcard address when there is none: unlike
/// keepalived, which then lets the kernel pick any port, the source port
/// stays in RFC 5881's range) and a random free port, with the session's
/// TTL / hop limit.
pub fn open_tx(s: &SessionConfig, seed: u64) -> io::Result<Socket> {
    let domain = if s.neighbor.is_ipv4() { Domain::IPV4 } else { Domain::IPV6 };
    let sock = Socket::new(domain, Type::DGRAM.nonblocking().cloexec(), Some(Protocol::UDP))?;
    let src = s.source.unwrap_or(if s.neighbor.is_ipv4() {
        IpAddr::V4(Ipv4Addr::UNSPECIFIED)
    } else {
        IpAddr::V6(Ipv6Addr::UNSPECIFIED)
    });
    let (lo, hi) = port_range();
    let span = u64::from(hi - lo) + 1;
    let first = lo + u16::try_from(seed % span).unwrap_or(0);
    let mut port = first;
    loop {
        match sock.bind(&SockAddr::from(SocketAddr::new(src, port))) {
            Ok(()) => break,
            Err(e) if e.kind() == io::ErrorKind::AddrInUse => {
                port = if port >= hi { lo } else { port + 1 };
                if port == first {
                    return Err(e);
                }
            }
            Err(e) => return Err(e),
        }
    }
    if s.neighbor.is_ipv4() {
        sock.set_ttl_v4(u32::from(s.ttl))?;
    } else {
        sock.set_unicast_hops_v6(u32::from(s.ttl))?;
    }
    Ok(sock)
}
