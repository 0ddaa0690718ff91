//! DNS_CHECK's socket (keepalived `dns_connect_thread`, `dns_send`,
//! `dns_recv_thread`): a connected UDP socket with TCP_CHECK's options,
//! one query with a random id, replies read until one with the id arrives
//! or `connect_timeout` (from the start of the attempt) passes.

use super::proto::{failure, pair, Begin, Progress};
use super::tcp::{is_connect_fail, setup, TcpTarget};
use keepalived_check::dns as wire;
use keepalived_check::CheckOutcome;
use mio::net::UdpSocket;
use socket2::{Domain, SockAddr, Socket, Type};
use std::hash::{BuildHasher, Hasher};
use std::io;
use tracing::info;

pub struct Dns {
    sock: UdpSocket,
    id: u16,
    /// The query, until sent.
    query: Option<Vec<u8>>,
}

/// A random query id.
fn random_id() -> u16 {
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_nanos());
    h.finish() as u16
}

fn is_again(e: &io::Error) -> bool {
    matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted)
}

/// keepalived's `DNS_CHECK (rs) …` line for the attempts not run.
fn reschedule(rs: &str, what: &str) -> Begin<Dns> {
    info!("DNS_CHECK ({rs}) {what}");
    Begin::Reschedule
}

impl Dns {
    /// `rs`: the real server (`FMT_CHK`), for the lines logged here.
    pub fn start(t: &TcpTarget, qtype: &str, name: &str, rs: &str) -> Begin<Dns> {
        let Ok(sock) = Socket::new(Domain::for_address(t.dst), Type::DGRAM.nonblocking().cloexec(), None) else {
            return reschedule(rs, "failed to create socket. Rescheduling.");
        };
        if setup(&sock, t).is_err() {
            return reschedule(rs, "UDP socket bind failed. Rescheduling.");
        }
        match sock.connect(&SockAddr::from(t.dst)) {
            Ok(()) => {}
            Err(e) if is_connect_fail(&e) => return Begin::Done(failure(Some(wire::unreachable(&pair(&t.dst))))),
            Err(_) => return reschedule(rs, "UDP socket bind failed. Rescheduling."),
        }
        let id = random_id();
        let Some(query) = wire::query(id, qtype, name) else {
            return Begin::Done(failure(Some(wire::WRITE_FAILED.into())));
        };
        let sock = UdpSocket::from_std(std::net::UdpSocket::from(sock));
        let mut d = Dns { sock, id, query: Some(query) };
        match d.send() {
            Ok(()) => Begin::Pending(d),
            Err(text) => Begin::Done(failure(Some(text))),
        }
    }

    pub fn source(&mut self) -> &mut UdpSocket {
        &mut self.sock
    }

    /// Send the query if not sent yet (it stays queued while the socket
    /// would block).
    fn send(&mut self) -> Result<(), String> {
        let Some(q) = self.query.take() else { return Ok(()) };
        match self.sock.send(&q) {
            Ok(n) if n == q.len() => Ok(()),
            Ok(_) => Err(wire::WRITE_SHORT.into()),
            Err(e) if is_again(&e) => {
                self.query = Some(q);
                Ok(())
            }
            Err(_) => Err(wire::WRITE_FAILED.into()),
        }
    }

    /// `connect_timeout` passed: still sending, or waiting for the answer.
    pub fn on_timeout(&self) -> CheckOutcome {
        let text = if self.query.is_some() { "write timeout to socket." } else { wire::READ_TIMEOUT };
        failure(Some(text.into()))
    }

    pub fn on_ready(&mut self) -> Progress {
        if let Err(text) = self.send() {
            return Progress::Done(failure(Some(text)));
        }
        if self.query.is_some() {
            return Progress::Wait(false);
        }
        let mut buf = [0u8; wire::BUFFER_SIZE];
        loop {
            let n = match self.sock.recv(&mut buf) {
                Ok(n) => n,
                Err(e) if is_again(&e) => return Progress::Wait(false),
                Err(e) => {
                    let errno = e.raw_os_error().unwrap_or(0);
                    return Progress::Done(failure(Some(wire::read_failure(errno, &super::tcp::os_text(&e)))));
                }
            };
            match wire::judge(self.id, &buf[..n]) {
                wire::Reply::Ignore => continue,
                wire::Reply::Success => return Progress::Done(CheckOutcome::Success),
                wire::Reply::Rcode(rc) => return Progress::Done(failure(Some(wire::rcode_failure(rc)))),
            }
        }
    }
}
