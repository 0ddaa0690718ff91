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
}

/// The running TCP attempts, one socket each, with tokens from a range of
/// the child's.
///
/// With a thousand attempts in flight and one starting every millisecond,
/// no operation may walk them all: attempts are found by token, by tag
/// (`by_tag`) and by deadline (`deadlines`).
pub struct TcpProbes<T> {
    probes: HashMap<Token, Probe<T>>,
    by_tag: HashMap<T, Token>,
    deadlines: BTreeSet<(Instant, Token)>,
    free: Vec<Token>,
    next: usize,
    end: usize,
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
        Err(e) if is_connect_fail(&e) => {
            let r = if e.raw_os_error() == Some(nix::errno::Errno::ETIMEDOUT as i32) {
                TcpResult::Timeout
            } else {
                TcpResult::Failed
            };
            Err(Some(r))
        }
        Err(_) => {
            info!("TCP socket bind failed. Rescheduling.");
            Err(None)
        }
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
            free: Vec::new(),
            next: first,
            end: first.saturating_add(count),
        }
    }

    fn token(&mut self) -> Option<Token> {
        if let Some(t) = self.free.pop() {
            return Some(t);
        }
        (self.next < self.end).then(|| {
            self.next += 1;
            Token(self.next - 1)
        })
    }

    /// Start an attempt for `tag` (replacing any it still has running).
    pub fn start(&mut self, reg: &Registry, tag: T, t: &TcpTarget, timeout: Duration, now: Instant) -> Started {
        if let Some(old) = self.by_tag.get(&tag).copied() {
            self.close(reg, old);
        }
        let sock = match connect(t) {
            Ok(s) => s,
            Err(Some(r)) => return Started::Done(r),
            Err(None) => return Started::Error,
        };
        let Some(token) = self.token() else {
            info!("TCP connect fail to create socket. Rescheduling.");
            return Started::Error;
        };
        let mut stream = TcpStream::from_std(std::net::TcpStream::from(sock));
        if let Err(e) = reg.register(&mut stream, token, Interest::WRITABLE) {
            info!("TCP connect fail to watch socket: {}. Rescheduling.", os_text(&e));
            self.free.push(token);
            return Started::Error;
        }
        let deadline = now + timeout;
        self.probes.insert(token, Probe { tag, stream, deadline });
        self.by_tag.insert(tag, token);
        self.deadlines.insert((deadline, token));
        Started::Pending
    }

    /// The socket of `token` is writable: connected, failed, or (a
    /// spurious wake-up) still connecting.
    pub fn on_ready(&mut self, reg: &Registry, token: Token) -> Option<(T, TcpResult)> {
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
        self.close(reg, token).map(|tag| (tag, result))
    }

    /// Attempts past their `connect_timeout`, closed.
    pub fn expired(&mut self, reg: &Registry, now: Instant) -> Vec<(T, TcpResult)> {
        let mut out = Vec::new();
        while let Some(&(deadline, token)) = self.deadlines.first() {
            if deadline > now {
                break;
            }
            if let Some(tag) = self.close(reg, token) {
                out.push((tag, TcpResult::Timeout));
            }
        }
        out
    }

    /// The earliest connect deadline.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.deadlines.first().map(|(d, _)| *d)
    }

    /// Abandon the attempts whose tag matches.
    pub fn cancel(&mut self, reg: &Registry, pred: impl Fn(&T) -> bool) {
        let gone: Vec<Token> = self.probes.iter().filter(|(_, p)| pred(&p.tag)).map(|(t, _)| *t).collect();
        for t in gone {
            self.close(reg, t);
        }
    }

    fn close(&mut self, reg: &Registry, token: Token) -> Option<T> {
        let mut p = self.probes.remove(&token)?;
        let _ = reg.deregister(&mut p.stream);
        self.deadlines.remove(&(p.deadline, token));
        self.by_tag.remove(&p.tag);
        self.free.push(token);
        Some(p.tag)
    }
}

#[cfg(test)]
#[path = "tcp_tests.rs"]
mod tests;
