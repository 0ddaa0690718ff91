//! The parent's request servers (the status socket, status.rs, and the
//! metrics endpoint, metrics.rs) share one shape: a client connects, sends
//! one request, the parent asks every running child for its status
//! document, and once all answered (or at the deadline) one response is
//! written and the connection closes. This module is that shape: the slot
//! table of connections, their phases, the gathering of the children's
//! answers for one request id, flushing, dropping, the sweep of slow
//! clients, and the rate-limited count of rejected clients. What differs
//! (the stream, how a request is framed and parsed, how the answers and
//! errors are rendered) is a [`Protocol`].
//!
//! Nothing here blocks the parent's loop: connections are mio sources, a
//! request is bounded in size and time, and a client that sends garbage,
//! too much, or too slowly is answered with an error or dropped.

use keepalived_runtime::ProcKind;
use mio::event::Source;
use mio::net::{UnixListener, UnixStream};
use mio::{Interest, Registry, Token};
use serde_json::Value;
use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::path::Path;
use std::time::{Duration, Instant};
use tracing::warn;

/// A client has this long to send its request (and, once answered, to
/// read the answer and close).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);
/// Connections served at once per server; more are refused.
const MAX_CONNS: usize = 16;
/// At most one log line about rejected clients per this interval.
const LOG_INTERVAL: Duration = Duration::from_secs(10);

/// Is `t` the listener's token or one of its connections' (the tokens
/// right after the listener's)? The parent routes events by this.
pub fn owns(listener: Token, t: Token) -> bool {
    t == listener || (listener.0 + 1..listener.0 + 1 + MAX_CONNS).contains(&t.0)
}

pub trait ReadWrite: Read + Write {}
impl<T: Read + Write> ReadWrite for T {}

/// A client connection: a byte stream that mio watches and whose writing
/// side can be shut (so the client sees the end of the answer).
pub trait Client {
    fn io(&mut self) -> &mut dyn ReadWrite;
    fn source(&mut self) -> &mut dyn Source;
    fn shutdown_write(&self) -> io::Result<()>;
}

/// The status socket's clients (the metrics endpoint wraps TCP and Unix in its own `Client`).
impl Client for UnixStream {
    fn io(&mut self) -> &mut dyn ReadWrite {
        self
    }
    fn source(&mut self) -> &mut dyn Source {
        self
    }
    fn shutdown_write(&self) -> io::Result<()> {
        self.shutdown(std::net::Shutdown::Write)
    }
}

/// Listen on the Unix socket `path`. A stale socket left there is replaced; any other file at
/// that path is an error, never removed.
pub fn bind_unix(path: &Path) -> io::Result<UnixListener> {
    if std::fs::symlink_metadata(path).is_ok_and(|m| std::os::unix::fs::FileTypeExt::is_socket(&m.file_type())) {
        std::fs::remove_file(path)?;
    }
    UnixListener::bind(path)
}

/// What one server does differently from the other.
pub trait Protocol {
    type Stream: Client;
    /// A parsed request: what the response must say beyond the answers.
    type Request;
    /// What rendering needs from the parent besides the answers.
    type Context: ?Sized;
    /// The log lines' prefix.
    const NAME: &'static str;
    /// The longest request accepted, in bytes.
    const MAX_REQUEST: usize;
    /// Why a request longer than that is refused.
    const TOO_LARGE: &'static str;
    /// Why a client that sends no complete request in time is refused.
    const TOO_SLOW: &'static str;
    /// `None` while the request is incomplete (within `MAX_REQUEST`);
    /// else the request, or why it is refused.
    fn parse(buf: &[u8]) -> Option<Result<Self::Request, &'static str>>;
    /// The response for the children's answers.
    fn render(request: &Self::Request, answers: Gathered, ctx: &Self::Context) -> Vec<u8>;
    /// The response refusing a request for `why`.
    fn error(why: &'static str) -> Vec<u8>;
}

/// The children's answers to one request.
pub struct Gathered {
    /// The children asked.
    pub asked: Vec<ProcKind>,
    /// Children the configuration wants that are not running now.
    pub idle: Vec<ProcKind>,
    /// The answers so far; an asked child missing here did not answer.
    pub answers: HashMap<ProcKind, Value>,
}

enum Phase<R> {
    /// Reading the request.
    Reading,
    /// Asked the children; their answers so far.
    Waiting { id: u64, request: R, gathered: Gathered },
    /// Writing the answer.
    Writing,
    /// Answer written and our side shut: waiting for the client to close
    /// (closing with its request unread would reset the connection and
    /// lose the answer).
    Closing,
}

struct Conn<P: Protocol> {
    stream: P::Stream,
    /// The peer's uid when known (the status socket checks credentials),
    /// for the log.
    uid: Option<u32>,
    rbuf: Vec<u8>,
    wbuf: Vec<u8>,
    phase: Phase<P::Request>,
    since: Instant,
}

/// The connections of one server, in slots; slot `n` has the token right
/// after the listener's plus `n`.
pub struct Requests<P: Protocol> {
    conns: Vec<Option<Conn<P>>>,
    first: usize,
    /// Or-ed into every request id, so the parent knows whose answer it is.
    id_bit: u64,
    next_id: u64,
    /// Clients refused or dropped since start.
    rejected: u64,
    /// Rejections not logged yet (rate limit).
    unlogged: u64,
    last_log: Option<Instant>,
}

impl<P: Protocol> Requests<P> {
    pub fn new(listener: Token, id_bit: u64) -> Self {
        let conns = (0..MAX_CONNS).map(|_| None).collect();
        Requests { conns, first: listener.0 + 1, id_bit, next_id: 0, rejected: 0, unlogged: 0, last_log: None }
    }

    /// Forget every connection (at stop).
    pub fn close(self, registry: &Registry) {
        for mut c in self.conns.into_iter().flatten() {
            let _ = registry.deregister(c.stream.source());
        }
    }

    /// A free slot, if any.
    pub fn free_slot(&self) -> Option<usize> {
        self.conns.iter().position(Option::is_none)
    }

    /// Watch a new client in `slot` (from [`Self::free_slot`]).
    pub fn insert(
        &mut self,
        slot: usize,
        mut stream: P::Stream,
        uid: Option<u32>,
        registry: &Registry,
    ) -> io::Result<()> {
        let token = Token(self.first + slot);
        registry.register(stream.source(), token, Interest::READABLE | Interest::WRITABLE)?;
        let conn =
            Conn { stream, uid, rbuf: Vec::new(), wbuf: Vec::new(), phase: Phase::Reading, since: Instant::now() };
        self.conns[slot] = Some(conn);
        Ok(())
    }

    /// Answer `bytes` to a client given no slot, count it, and drop it.
    pub fn refuse(&mut self, mut stream: P::Stream, uid: Option<u32>, bytes: &[u8], why: &str) {
        // Best effort: a short answer fits the socket buffer.
        let _ = stream.io().write(bytes);
        self.count_rejection(uid, why);
    }

    /// A readiness event on a connection's token.
    pub fn on_ready(&mut self, token: Token, registry: &Registry) -> Option<u64> {
        self.on_conn(token.0.checked_sub(self.first)?, registry)
    }

    /// Read or write what a connection is ready for; returns the id of a
    /// request that needs the children asked.
    pub fn on_conn(&mut self, slot: usize, registry: &Registry) -> Option<u64> {
        let conn = self.conns.get_mut(slot)?.as_mut()?;
        match conn.phase {
            Phase::Reading => self.read_request(slot, registry),
            Phase::Waiting { .. } | Phase::Closing => {
                // Only the client's close matters now.
                if drain_closed(conn.stream.io()) {
                    self.drop_conn(slot, registry);
                }
                None
            }
            Phase::Writing => {
                self.flush(slot, registry);
                None
            }
        }
    }

    fn read_request(&mut self, slot: usize, registry: &Registry) -> Option<u64> {
        let conn = self.conns.get_mut(slot)?.as_mut()?;
        let closed = read_some(conn.stream.io(), &mut conn.rbuf, P::MAX_REQUEST);
        let Some(parsed) = P::parse(&conn.rbuf) else {
            if conn.rbuf.len() > P::MAX_REQUEST {
                self.reject(slot, P::TOO_LARGE, registry);
            } else if closed {
                // A client that hangs up without a request: nothing to answer.
                self.drop_conn(slot, registry);
            }
            return None;
        };
        match parsed {
            Err(why) => {
                self.reject(slot, why, registry);
                None
            }
            Ok(request) => {
                self.next_id += 1;
                let id = self.next_id | self.id_bit;
                let gathered = Gathered { asked: Vec::new(), idle: Vec::new(), answers: HashMap::new() };
                conn.phase = Phase::Waiting { id, request, gathered };
                Some(id)
            }
        }
    }

    /// The parent asked `kinds` for request `id`; `not_running`: wanted
    /// children that are not running now. With none to ask, the answer
    /// goes now.
    pub fn asked(&mut self, id: u64, kinds: Vec<ProcKind>, not_running: Vec<ProcKind>, ctx: &P::Context, r: &Registry) {
        let Some(slot) = self.slot_of(id) else { return };
        if let Some(Conn { phase: Phase::Waiting { gathered, .. }, .. }) = self.conns[slot].as_mut() {
            gathered.asked = kinds;
            gathered.idle = not_running;
        }
        self.maybe_finish(slot, false, ctx, r);
    }

    /// A child's answer to request `id`.
    pub fn answer(&mut self, id: u64, kind: ProcKind, doc: Value, ctx: &P::Context, registry: &Registry) {
        let Some(slot) = self.slot_of(id) else { return };
        if let Some(Conn { phase: Phase::Waiting { gathered, .. }, .. }) = self.conns[slot].as_mut() {
            gathered.answers.insert(kind, doc);
        }
        self.maybe_finish(slot, false, ctx, registry);
    }

    /// Request `id`'s time is up: answer with what came.
    pub fn expire(&mut self, id: u64, ctx: &P::Context, registry: &Registry) {
        if let Some(slot) = self.slot_of(id) {
            self.maybe_finish(slot, true, ctx, registry);
        }
    }

    /// Drop clients too slow to send their request or to read the answer
    /// (called every second).
    pub fn sweep(&mut self, registry: &Registry) {
        let now = Instant::now();
        for slot in 0..self.conns.len() {
            let Some(c) = self.conns[slot].as_ref() else { continue };
            if now.duration_since(c.since) <= REQUEST_TIMEOUT {
                continue;
            }
            match c.phase {
                Phase::Reading => self.reject(slot, P::TOO_SLOW, registry),
                // A client that does not read its answer, or does not close.
                Phase::Writing | Phase::Closing => self.drop_conn(slot, registry),
                Phase::Waiting { .. } => {}
            }
        }
    }

    fn slot_of(&self, id: u64) -> Option<usize> {
        self.conns.iter().position(|c| matches!(c, Some(Conn { phase: Phase::Waiting { id: i, .. }, .. }) if *i == id))
    }

    /// Once every asked child answered (or at the deadline), write the
    /// response.
    fn maybe_finish(&mut self, slot: usize, deadline: bool, ctx: &P::Context, registry: &Registry) {
        let Some(conn) = self.conns[slot].as_mut() else { return };
        let Phase::Waiting { gathered, .. } = &conn.phase else { return };
        if !deadline && gathered.asked.iter().any(|k| !gathered.answers.contains_key(k)) {
            return;
        }
        let Phase::Waiting { request, gathered, .. } = std::mem::replace(&mut conn.phase, Phase::Writing) else {
            return;
        };
        conn.wbuf = P::render(&request, gathered, ctx);
        conn.since = Instant::now();
        self.flush(slot, registry);
    }

    /// Write what is pending; once all is written, shut our side and
    /// wait for the client to close.
    fn flush(&mut self, slot: usize, registry: &Registry) {
        let Some(conn) = self.conns[slot].as_mut() else { return };
        while !conn.wbuf.is_empty() {
            match conn.stream.io().write(&conn.wbuf) {
                Ok(0) => break,
                Ok(n) => {
                    conn.wbuf.drain(..n);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(_) => break,
            }
        }
        if !conn.wbuf.is_empty() || conn.stream.shutdown_write().is_err() {
            return self.drop_conn(slot, registry);
        }
        conn.phase = Phase::Closing;
        conn.since = Instant::now();
        if drain_closed(conn.stream.io()) {
            self.drop_conn(slot, registry);
        }
    }

    /// Answer an error on a connection, count it, and close.
    pub fn reject(&mut self, slot: usize, why: &'static str, registry: &Registry) {
        let Some(conn) = self.conns[slot].as_mut() else { return };
        let uid = conn.uid;
        conn.wbuf = P::error(why);
        conn.phase = Phase::Writing;
        conn.since = Instant::now();
        self.flush(slot, registry);
        self.count_rejection(uid, why);
    }

    fn drop_conn(&mut self, slot: usize, registry: &Registry) {
        if let Some(mut c) = self.conns.get_mut(slot).and_then(Option::take) {
            let _ = registry.deregister(c.stream.source());
        }
    }

    /// Count a refused or dropped client; log at most once per
    /// [`LOG_INTERVAL`] (a client flood must not flood the log).
    pub fn count_rejection(&mut self, uid: Option<u32>, why: &str) {
        self.rejected += 1;
        self.unlogged += 1;
        let now = Instant::now();
        if self.last_log.is_some_and(|t| now.duration_since(t) < LOG_INTERVAL) {
            return;
        }
        let who = uid.map_or_else(|| "a client".to_string(), |u| format!("a client with uid {u}"));
        warn!(
            "{}: rejected {who}: {why} ({} rejected since the last report, {} in all)",
            P::NAME,
            self.unlogged,
            self.rejected
        );
        self.unlogged = 0;
        self.last_log = Some(now);
    }
}

/// The next client from `accept`, retrying when interrupted; `None` once
/// the listener has no more (it is edge-triggered: accept until then).
pub fn accept_next<S>(mut accept: impl FnMut() -> io::Result<S>) -> io::Result<Option<S>> {
    loop {
        match accept() {
            Ok(s) => return Ok(Some(s)),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(None),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
}

/// Read what is there into `buf`, stopping past `max`; true when the
/// client closed or failed.
fn read_some(s: &mut dyn ReadWrite, buf: &mut Vec<u8>, max: usize) -> bool {
    let mut b = [0u8; 1024];
    loop {
        match s.read(&mut b) {
            Ok(0) => return true,
            Ok(n) => {
                buf.extend_from_slice(&b[..n]);
                if buf.len() > max {
                    return false;
                }
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return e.kind() != io::ErrorKind::WouldBlock,
        }
    }
}

/// Read and discard what the client sends after its request; true when it
/// closed (or sends without end: a loop reading it would hold the parent).
fn drain_closed(s: &mut dyn ReadWrite) -> bool {
    let mut b = [0u8; 4096];
    let mut junk = 0usize;
    loop {
        match s.read(&mut b) {
            Ok(0) => return true,
            Ok(n) => {
                junk += n;
                if junk > 64 * 1024 {
                    return true;
                }
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return e.kind() != io::ErrorKind::WouldBlock,
        }
    }
}
