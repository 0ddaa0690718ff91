//! UDP_CHECK's socket (keepalived `udp_connect_thread`, `udp_bind_connect`,
//! `udp_socket_state`, `udp_socket_error`): a connected UDP socket with
//! `IP_RECVERR`, `fwmark` and `bindto` (not `bind_if`, as 2.2.7), the
//! payload sent at once. An ICMP destination unreachable on the error
//! queue, or a failing read, is a failure; another queued error, or any
//! reply (matching `require_reply`'s data when given), a success; no
//! answer within `connect_timeout` is a success unless `require_reply`.

use super::proto::{failure, Begin, Labels, Progress};
use super::tcp::{os_text, TcpTarget};
use keepalived_check::udp as wire;
use keepalived_check::CheckOutcome;
use keepalived_config::lvs::model::UdpCheck;
use mio::net::UdpSocket;
use nix::sys::socket::{recvmsg, setsockopt, sockopt, ControlMessageOwned, MsgFlags, SockaddrStorage};
use socket2::{Domain, SockAddr, Socket, Type};
use std::io::{self, IoSliceMut};
use std::os::fd::AsRawFd;
use tracing::{error, info};

pub struct Udp {
    sock: UdpSocket,
    check: UdpCheck,
}

/// `IP_RECVERR`, `fwmark`, `bindto`: `Err(())` fails the attempt (logged).
fn setup(sock: &Socket, t: &TcpTarget) -> Result<(), ()> {
    let v4 = t.dst.is_ipv4();
    let r =
        if v4 { setsockopt(sock, sockopt::Ipv4RecvErr, &true) } else { setsockopt(sock, sockopt::Ipv6RecvErr, &true) };
    if let Err(e) = r {
        let six = if v4 { "" } else { "V6" };
        info!("Error {} setting IP{six}_RECVERR for socket {} - {}", e as i32, sock.as_raw_fd(), e.desc());
    }
    if let Some(mark) = t.fwmark.filter(|m| *m != 0) {
        if let Err(e) = sock.set_mark(mark) {
            error!("Error setting fwmark {mark} to socket: {}", os_text(&e));
            return Err(());
        }
    }
    if let Some(b) = t.bindto {
        if let Err(e) = sock.bind(&SockAddr::from(b)) {
            info!("bind failed. errno: {}, error: {}", e.raw_os_error().unwrap_or(0), os_text(&e));
            return Err(());
        }
    }
    Ok(())
}

/// 2.2.7 judges a queued socket error: ICMP(v6) destination unreachable
/// fails, anything else succeeds. `None`: the queue is empty.
fn queued_error(sock: &UdpSocket) -> Option<bool> {
    let mut data = [0u8; 64];
    let mut iov = [IoSliceMut::new(&mut data)];
    let mut cmsg = nix::cmsg_space!(nix::libc::sock_extended_err, nix::libc::sockaddr_in6);
    let msg = recvmsg::<SockaddrStorage>(sock.as_raw_fd(), &mut iov, Some(&mut cmsg), MsgFlags::MSG_ERRQUEUE).ok()?;
    let unreachable = msg.cmsgs().ok()?.any(|c| match c {
        ControlMessageOwned::Ipv4RecvErr(e, _) => e.ee_origin == nix::libc::SO_EE_ORIGIN_ICMP && e.ee_type == 3,
        ControlMessageOwned::Ipv6RecvErr(e, _) => e.ee_origin == nix::libc::SO_EE_ORIGIN_ICMP6 && e.ee_type == 1,
        _ => false,
    });
    Some(!unreachable)
}

impl Udp {
    pub fn start(t: &TcpTarget, check: &UdpCheck) -> Begin<Udp> {
        let Ok(sock) = Socket::new(Domain::for_address(t.dst), Type::DGRAM.nonblocking().cloexec(), None) else {
            info!("UDP connect fail to create socket. Rescheduling.");
            return Begin::Reschedule;
        };
        if setup(&sock, t).is_err() || sock.connect(&SockAddr::from(t.dst)).is_err() {
            return Begin::Done(failure(None));
        }
        let payload = wire::payload(check);
        if !matches!(sock.send(&payload), Ok(n) if n == payload.len()) {
            return Begin::Done(failure(None));
        }
        let sock = UdpSocket::from_std(std::net::UdpSocket::from(sock));
        Begin::Pending(Udp { sock, check: check.clone() })
    }

    pub fn source(&mut self) -> &mut UdpSocket {
        &mut self.sock
    }

    pub fn on_ready(&mut self, l: &Labels) -> Progress {
        if let Some(ok) = queued_error(&self.sock) {
            let r = if ok { CheckOutcome::Success } else { failure(Some(wire::failed(&l.rs))) };
            return Progress::Done(r);
        }
        let mut buf = vec![0u8; wire::read_len(&self.check)];
        match self.sock.recv(&mut buf) {
            Ok(n) if wire::reply_ok(&self.check, &buf[..n]) => Progress::Done(CheckOutcome::Success),
            Ok(_) => Progress::Done(failure(Some(wire::mismatch(&l.rs)))),
            Err(e) if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted) => {
                Progress::Wait(false)
            }
            Err(_) => Progress::Done(failure(Some(wire::failed(&l.rs)))),
        }
    }

    pub fn on_timeout(&self, l: &Labels) -> CheckOutcome {
        if self.check.require_reply {
            failure(Some(wire::failed(&l.rs)))
        } else {
            CheckOutcome::Success
        }
    }
}
