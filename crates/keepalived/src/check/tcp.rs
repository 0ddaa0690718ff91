//! TCP_CHECK: one non-blocking connect per attempt, watched by the child's
//! mio loop (keepalived's `tcp_connect_thread` / `tcp_check_thread` and
//! `layer4.c`'s `tcp_bind_connect` / `tcp_socket_state`).
//!
//! An attempt succeeds when the socket becomes writable with `SO_ERROR` 0;
//! the socket is then closed at once, as keepalived does (a server that
//! accepts and never answers is up). A refused or unreachable connect, a
//! reset, or no answer within `connect_timeout` is a failure. Setting up
//! the socket (mark, device, bind) failing is neither: keepalived logs
//! `TCP socket bind failed. Rescheduling.` and tries again a `delay_loop`
//! later without a result.

use super::tokens::Tokens;
use mio::net::TcpStream;
use mio::{Interest, Registry, Token};
use socket2::{Domain, SockAddr, Socket, Type};
use std::collections::{BTreeSet, HashMap};
use std::hash::Hash;
use std::io;
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use tracing::info;

/// Where and how to connect (a checker's `connect_ip`/`connect_port`,
/// `bindto`/`bind_port`, `bind_if`, `fwmark`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TcpTarget {
    pub dst: SocketAddr,
    pub bindto: Option<SocketAddr>,
    pub bind_if: Option<String>,
    pub fwmark: Option<u32>,
}

/// How an attempt ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TcpResult {
    Success,
    /// No answer within `connect_timeout` (or `ETIMEDOUT`).
    Timeout,
    /// Refused, unreachable, reset.
    Failed,
}

impl TcpResult {
    /// keepalived's failure log line for the real server named `rs`
    /// (`TCP connection to [10.0.0.1]:tcp:80 timeout.`); `None` on success.
    pub fn reason(self, rs: &str) -> Option<String> {
        match self {
            TcpResult::Success => None,
            TcpResult::Timeout => Some(format!("TCP connection to {rs} timeout.")),
            TcpResult::Failed => Some(format!("TCP connection to {rs} failed.")),
        }
    }
}

/// What [`TcpProbes::start`] did.
#[derive(Debug, PartialEq, Eq)]
pub enum Started {
    /// Connecting; the result comes from `on_ready` or `expired`.
    Pending,
    /// The connect failed at once (`connect_fail`: refused, unreachable).
    Done(TcpResult),
    /// The socket could not be set up (already logged): no result, try
    /// again a `delay_loop` later.
    Error,
}

struct Probe<T> {
    tag: T,
    stream: TcpStream,
    deadline: Instant,
    ipv6: bool,
    /// Kept after a failure (no `bindto`).
    reusable: bool,
}

/// A socket kept between the attempts of one tag: its last connect was
/// refused or timed out, and it was disconnected (back to CLOSE, nothing
/// sent), still registered in the loop under its token.
struct Spare {
    token: Token,
    stream: TcpStream,
    ipv6: bool,
}

/// The running TCP attempts, one socket each, with tokens from a range of
/// the child's.
///
/// With a thousand attempts in flight and one starting every millisecond,
/// no operation may walk them all: attempts are found by token, by tag
/// (`by_tag`) and by deadline (`deadlines`).
///
/// A failed attempt's socket is disconnected (`connect(AF_UNSPEC)`) and
/// kept for the tag's next attempt: the next connect sends the same SYN a
/// fresh socket would, and the socket, SO_LINGER and epoll registration
/// calls are saved (docs/compat.md). A successful attempt's socket is
/// closed, as keepalived does (the FIN goes out); so is one set up with
/// `bindto` (its bound port would stay taken between attempts).
pub struct TcpProbes<T> {
    probes: HashMap<Token, Probe<T>>,
    by_tag: HashMap<T, Token>,
    deadlines: BTreeSet<(Instant, Token)>,
    spares: HashMap<T, Spare>,
    tokens: Tokens,
}

/// `errno`s of `connect()` that are a failure to connect, not to check
/// (keepalived's `connect_fail`).
pub(crate) fn is_connect_fail(e: &io::Error) -> bool {
    use nix::errno::Errno::*;
    let fails = [ENETUNREACH, EHOSTUNREACH, ECONNREFUSED, EHOSTDOWN, ENETDOWN, ECONNRESET, ECONNABORTED, ETIMEDOUT];
    e.raw_os_error().is_some_and(|n| fails.iter().any(|f| *f as i32 == n))
}

/// The socket with keepalived's options, bound, connect started.
/// `Err(None)`: set-up failed (logged); `Err(Some(r))`: connect failed.
fn connect(t: &TcpTarget) -> Result<Socket, Option<TcpResult>> {
    let sock = Socket::new(Domain::for_address(t.dst), Type::STREAM.nonblocking().cloexec(), None).map_err(|_| {
        info!("TCP connect fail to create socket. Rescheduling.");
        None
    })?;
    // keepalived frees the port after close, allowing a proper shutdown.
    if let Err(e) = sock.set_linger(Some(Duration::from_secs(5))) {
        info!("Failed to set SO_LINGER for socket - {e}");
    }
    setup(&sock, t).map_err(|()| {
        info!("TCP socket bind failed. Rescheduling.");
        None
    })?;
    match sock.connect(&SockAddr::from(t.dst)) {
        Ok(()) => Ok(sock),
        Err(e) if e.raw_os_error() == Some(nix::errno::Errno::EINPROGRESS as i32) => Ok(sock),
        Err(e) if is_connect_fail(&e) => Err(Some(connect_fail(&e))),
        Err(_) => {
            info!("TCP socket bind failed. Rescheduling.");
            Err(None)
        }
    }
}

/// A spare socket connects again (its options, mark and device kept).
fn reconnect(stream: &TcpStream, t: &TcpTarget) -> Result<(), Started> {
    let sock = socket2::SockRef::from(stream);
    match sock.connect(&SockAddr::from(t.dst)) {
        Ok(()) => Ok(()),
        Err(e) if e.raw_os_error() == Some(nix::errno::Errno::EINPROGRESS as i32) => Ok(()),
        Err(e) if is_connect_fail(&e) => Err(Started::Done(connect_fail(&e))),
        Err(_) => {
            info!("TCP socket bind failed. Rescheduling.");
            Err(Started::Error)
        }
    }
}

fn connect_fail(e: &io::Error) -> TcpResult {
    if e.raw_os_error() == Some(nix::errno::Errno::ETIMEDOUT as i32) {
        TcpResult::Timeout
    } else {
        TcpResult::Failed
    }
}

/// `fwmark`, `bind_if`, `bindto` with keepalived's log lines.
pub(crate) fn setup(sock: &Socket, t: &TcpTarget) -> Result<(), ()> {
    if let Some(mark) = t.fwmark.filter(|m| *m != 0) {
        if let Err(e) = sock.set_mark(mark) {
            tracing::error!("Error setting fwmark {mark} to socket: {}", os_text(&e));
            return Err(());
        }
    }
    if let Some(dev) = t.bind_if.as_deref().filter(|d| !d.is_empty()) {
        if let Err(e) = sock.bind_device(Some(dev.as_bytes())) {
            info!("Checker can't bind to device {dev}: {}", os_text(&e));
            return Err(());
        }
    }
    if let Some(b) = t.bindto {
        if let Err(e) = sock.bind(&SockAddr::from(b)) {
            info!("Checker bind failed: {}", os_text(&e));
            return Err(());
        }
    }
    Ok(())
}

/// strerror's text, without Rust's ` (os error N)`.
pub fn os_text(e: &io::Error) -> String {
    match e.raw_os_error() {
        Some(n) => nix::errno::Errno::from_raw(n).desc().to_string(),
        None => e.to_string(),
    }
}

impl<T: Copy + Eq + Hash> TcpProbes<T> {
    /// Probes with tokens `first..first+count`.
    pub fn new(first: usize, count: usize) -> TcpProbes<T> {
        TcpProbes {
            probes: HashMap::new(),
            by_tag: HashMap::new(),
            deadlines: BTreeSet::new(),
            spares: HashMap::new(),
            tokens: Tokens::new(first, count),
        }
    }

    /// Start an attempt for `tag` (replacing any it still has running).
    pub fn start(&mut self, reg: &Registry, tag: T, t: &TcpTarget, timeout: Duration, now: Instant) -> Started {
        if let Some(old) = self.by_tag.get(&tag).copied() {
            self.close(reg, old);
        }
        let (token, stream) = match self.spares.remove(&tag) {
            Some(sp) if sp.ipv6 == t.dst.is_ipv6() && t.bindto.is_none() => match reconnect(&sp.stream, t) {
                Ok(()) => (sp.token, sp.stream),
                Err(r) => {
                    self.tokens.give_back(sp.token);
                    return r;
                }
            },
            other => {
                if let Some(sp) = other {
                    self.tokens.give_back(sp.token);
                }
                match self.fresh(reg, t) {
                    Ok(x) => x,
                    Err(r) => return r,
                }
            }
        };
        let deadline = now + timeout;
        let (ipv6, reusable) = (t.dst.is_ipv6(), t.bindto.is_none());
        self.probes.insert(token, Probe { tag, stream, deadline, ipv6, reusable });
        self.by_tag.insert(tag, token);
        self.deadlines.insert((deadline, token));
        Started::Pending
    }

    /// A new socket, connecting, registered under a new token.
    fn fresh(&mut self, reg: &Registry, t: &TcpTarget) -> Result<(Token, TcpStream), Started> {
        let sock = match connect(t) {
            Ok(s) => s,
            Err(Some(r)) => return Err(Started::Done(r)),
            Err(None) => return Err(Started::Error),
        };
        let Some(token) = self.tokens.take() else {
            info!("TCP connect fail to create socket. Rescheduling.");
            return Err(Started::Error);
        };
        let mut stream = TcpStream::from_std(std::net::TcpStream::from(sock));
        if let Err(e) = reg.register(&mut stream, token, Interest::WRITABLE) {
            info!("TCP connect fail to watch socket: {}. Rescheduling.", os_text(&e));
            self.tokens.give_back(token);
            return Err(Started::Error);
        }
        Ok((token, stream))
    }

    /// The socket of `token` is writable: connected, failed, or (a
    /// spurious wake-up) still connecting.
    pub fn on_ready(&mut self, _reg: &Registry, token: Token) -> Option<(T, TcpResult)> {
        let p = self.probes.get(&token)?;
        let result = match p.stream.take_error() {
            Ok(None) => match p.stream.peer_addr() {
                Ok(_) => TcpResult::Success,
                Err(e) if e.kind() == io::ErrorKind::NotConnected => return None,
                Err(_) => TcpResult::Failed,
            },
            Ok(Some(e)) if e.raw_os_error() == Some(nix::errno::Errno::EINPROGRESS as i32) => return None,
            Ok(Some(e)) if e.raw_os_error() == Some(nix::errno::Errno::ETIMEDOUT as i32) => TcpResult::Timeout,
            Ok(Some(_)) | Err(_) => TcpResult::Failed,
        };
        self.finish(token, result)
    }

    /// Attempts past their `connect_timeout`, closed.
    pub fn expired(&mut self, _reg: &Registry, now: Instant) -> Vec<(T, TcpResult)> {
        let mut out = Vec::new();
        while let Some(&(deadline, token)) = self.deadlines.first() {
            if deadline > now {
                break;
            }
            if let Some(r) = self.finish(token, TcpResult::Timeout) {
                out.push(r);
            }
        }
        out
    }

    /// The earliest connect deadline.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.deadlines.first().map(|(d, _)| *d)
    }

    /// Abandon the attempts whose tag matches, and drop their spare sockets.
    pub fn cancel(&mut self, reg: &Registry, pred: impl Fn(&T) -> bool) {
        let gone: Vec<Token> = self.probes.iter().filter(|(_, p)| pred(&p.tag)).map(|(t, _)| *t).collect();
        for t in gone {
            self.close(reg, t);
        }
        let tokens = &mut self.tokens;
        self.spares.retain(|tag, sp| {
            let keep = !pred(tag);
            if !keep {
                tokens.give_back(sp.token);
            }
            keep
        });
    }

    /// End the attempt of `token` with `result`: a failed one's socket is
    /// disconnected and kept for the tag's next attempt, others closed.
    fn finish(&mut self, token: Token, result: TcpResult) -> Option<(T, TcpResult)> {
        let p = self.probes.remove(&token)?;
        self.deadlines.remove(&(p.deadline, token));
        self.by_tag.remove(&p.tag);
        let keep = p.reusable
            && result != TcpResult::Success
            && keepalived_sys::disconnect(std::os::fd::AsFd::as_fd(&p.stream)).is_ok();
        if keep {
            self.spares.insert(p.tag, Spare { token, stream: p.stream, ipv6: p.ipv6 });
        } else {
            drop(p.stream);
            self.tokens.give_back(token);
        }
        Some((p.tag, result))
    }

    /// End an attempt: its socket is closed without an `EPOLL_CTL_DEL`
    /// first, the close takes it out of the loop's epoll set (the socket is
    /// never duplicated), one system call less per attempt.
    fn close(&mut self, _reg: &Registry, token: Token) -> Option<T> {
        let p = self.probes.remove(&token)?;
        drop(p.stream);
        self.deadlines.remove(&(p.deadline, token));
        self.by_tag.remove(&p.tag);
        self.tokens.give_back(token);
        Some(p.tag)
    }
}

#[cfg(test)]
#[path = "tcp_tests.rs"]
mod tests;
