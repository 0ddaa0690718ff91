//! PING_CHECK's socket (keepalived `icmp_connect_thread`, `ping_it`,
//! `recv_it`): an unprivileged ping socket (`SOCK_DGRAM`, `IPPROTO_ICMP`
//! or `IPPROTO_ICMPV6`) per attempt, one echo request to `connect_ip` (or
//! the real server), the reply awaited `connect_timeout`. As 2.2.7: no
//! `bindto`, `bind_if` or `fwmark`; the checker child widens
//! `net.ipv4.ping_group_range` to include group 0 while it runs
//! ([`GroupRange`]).

use super::proto::{failure, Begin, Labels, Progress};
use keepalived_check::ping as wire;
use keepalived_check::CheckOutcome;
use mio::net::UdpSocket;
use socket2::{Domain, Protocol, SockAddr, Socket, Type};
use std::io;
use std::net::SocketAddr;
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicU16, Ordering};
use tracing::info;

/// keepalived's `SOCK_RECV_BUFF`.
const RCVBUF: usize = 128 * 1024;

/// keepalived's `seq_no`: one sequence for all PING_CHECKs.
static SEQ: AtomicU16 = AtomicU16::new(0);

pub struct Ping {
    sock: UdpSocket,
    v6: bool,
    seq: u16,
}

impl Ping {
    pub fn start(dst: std::net::IpAddr) -> Begin<Ping> {
        let v6 = dst.is_ipv6();
        let (domain, proto) = if v6 { (Domain::IPV6, Protocol::ICMPV6) } else { (Domain::IPV4, Protocol::ICMPV4) };
        let six = if v6 { "v6" } else { "" };
        let Ok(sock) = Socket::new(domain, Type::DGRAM.nonblocking().cloexec(), Some(proto)) else {
            info!("ICMP{six} connect fail to create socket. Rescheduling.");
            return Begin::Reschedule;
        };
        if let Err(e) = sock.set_recv_buffer_size(RCVBUF) {
            let n = e.raw_os_error().unwrap_or(0);
            info!("setsockopt SO_RCVBUF for socket {} failed ({n}) - {}", sock.as_raw_fd(), super::tcp::os_text(&e));
        }
        let seq = SEQ.fetch_add(1, Ordering::Relaxed);
        let to = SockAddr::from(SocketAddr::new(dst, 0));
        if let Err(e) = sock.send_to(&wire::request(v6, seq), &to) {
            if v6 {
                info!("send ICMPv6 packet fail - errno {}", e.raw_os_error().unwrap_or(0));
            } else {
                info!("send ICMP packet fail");
            }
            return Begin::Done(failure(None));
        }
        // A ping socket reads and polls as a UDP one.
        let sock = UdpSocket::from_std(std::net::UdpSocket::from(sock));
        Begin::Pending(Ping { sock, v6, seq })
    }

    pub fn source(&mut self) -> &mut UdpSocket {
        &mut self.sock
    }

    pub fn on_ready(&mut self, l: &Labels) -> Progress {
        let six = if self.v6 { "v6" } else { "" };
        let mut buf = [0u8; wire::READ_LEN];
        loop {
            let n = match self.sock.recv(&mut buf) {
                Ok(n) => n,
                Err(e) if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted) => {
                    return Progress::Wait(false)
                }
                Err(_) => {
                    info!("recv ICMP{six} packet error");
                    return Progress::Done(failure(Some(wire::failed(&l.rs, &l.vs))));
                }
            };
            match wire::judge(self.v6, self.seq, &buf[..n]) {
                wire::Reply::Success => return Progress::Done(CheckOutcome::Success),
                wire::Reply::Ignore => continue,
                wire::Reply::Error(line) => {
                    info!("{line}");
                    return Progress::Done(failure(Some(wire::failed(&l.rs, &l.vs))));
                }
            }
        }
    }
}

const GROUP_RANGE: &str = "/proc/sys/net/ipv4/ping_group_range";

/// keepalived `set_ping_group_range`: while PING_CHECKs are configured,
/// `ping_group_range` starts at group 0 (root may open ping sockets); the
/// previous lower bound is put back at stop.
#[derive(Default)]
pub struct GroupRange {
    /// The lower bound replaced, when we changed it (`Some(0)`: checked,
    /// nothing to put back).
    saved: Option<u64>,
}

/// The two bounds of the file's text (`MIN<TAB>MAX\n`), as 2.2.7 reads them.
fn parse_range(text: &str) -> Option<(u64, u64)> {
    let (a, rest) = text.split_once(['\t', ' '])?;
    let b = rest.strip_suffix('\n')?;
    let (a, b) = (a.parse::<u64>().ok()?, b.trim_start().parse::<u64>().ok()?);
    (a < 1 << 32 && b < 1 << 32).then_some((a, b))
}

impl GroupRange {
    /// Widen the range (once).
    pub fn set(&mut self) {
        if self.saved.is_some() {
            return;
        }
        let Some((min, max)) = std::fs::read_to_string(GROUP_RANGE).ok().as_deref().and_then(parse_range) else {
            return;
        };
        self.saved = Some(min);
        if min == 0 {
            return;
        }
        if min > 1 && max > 1 {
            info!("Warning: {GROUP_RANGE} being expanded from {min} {max} to 0 {max}");
        }
        write_range(0, max);
    }

    /// Put the lower bound back.
    pub fn restore(&mut self) {
        let Some(min) = self.saved.take() else { return };
        let Some((cur, max)) = std::fs::read_to_string(GROUP_RANGE).ok().as_deref().and_then(parse_range) else {
            return;
        };
        if cur != min {
            write_range(min, max);
        }
    }
}

fn write_range(min: u64, max: u64) {
    if let Err(e) = std::fs::write(GROUP_RANGE, format!("{min}\t{max}\t\n")) {
        info!("Write {GROUP_RANGE} failed - errno {}", e.raw_os_error().unwrap_or(0));
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn range_text() {
        assert_eq!(super::parse_range("1\t2147483647\n"), Some((1, 2147483647)));
        assert_eq!(super::parse_range("0 0\n"), Some((0, 0)));
        assert_eq!(super::parse_range("1\t2"), None);
        assert_eq!(super::parse_range("x\t2\n"), None);
    }
}
