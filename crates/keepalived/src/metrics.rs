//! The metrics endpoint (keepalived-rs; `--metrics ADDR`, `metrics_listen`):
//! a tiny HTTP/1.x server in the parent, on a TCP address or a Unix
//! socket. `GET /metrics` asks every running child for its status over the
//! parent channel, exactly as the status socket does (same messages, same
//! deadline, `status::CHILD_TIMEOUT`), and answers the documents rendered as
//! Prometheus text (metrics_render.rs); one response, then the connection
//! closes.
//!
//! The parent never blocks here and the children only build a status
//! document between their timers (as for `keepalived --status`): the
//! listener and the connections are mio sources, a request is bounded in
//! size and must arrive within [`REQUEST_TIMEOUT`], and a client that
//! sends garbage, too much, or too slowly is answered with an error or
//! dropped (counted, rate-limited log line).

use crate::metrics_render::{render, ChildDoc, Facts};
use keepalived_runtime::ProcKind;
use mio::net::{TcpListener, TcpStream, UnixListener, UnixStream};
use mio::{Interest, Registry, Token};
use serde_json::Value;
use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::path::PathBuf;
use std::time::{Duration, Instant};
use tracing::{info, warn};

/// A client has this long to send its request.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);
/// The largest request (line and headers) accepted.
const MAX_REQUEST: usize = 8192;
/// Connections served at once; more are refused.
const MAX_CONNS: usize = 16;
const LOG_INTERVAL: Duration = Duration::from_secs(10);

pub const LISTENER: Token = Token(40);
const FIRST_CONN: usize = 41;
/// Metrics requests to the children carry ids with this bit, so the
/// parent routes each answer to the status socket or here.
const ID_BIT: u64 = 1 << 63;

const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";
const CLASSIC: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Is `t` one of the metrics endpoint's tokens?
pub fn owns(t: Token) -> bool {
    t == LISTENER || (FIRST_CONN..FIRST_CONN + MAX_CONNS).contains(&t.0)
}

/// Is this child answer for a metrics request?
pub fn is_metrics_id(id: u64) -> bool {
    id & ID_BIT != 0
}

/// Where to listen: `host:port` (TCP) or `unix:/path`.
#[derive(Clone, Debug, PartialEq)]
pub enum Addr {
    Tcp(std::net::SocketAddr),
    Unix(PathBuf),
}

impl Addr {
    pub fn parse(s: &str) -> Result<Addr, String> {
        if let Some(p) = s.strip_prefix("unix:") {
            if !p.starts_with('/') {
                return Err(format!("metrics address {s}: a Unix socket path must be absolute"));
            }
            return Ok(Addr::Unix(PathBuf::from(p)));
        }
        s.parse()
            .map(Addr::Tcp)
            .map_err(|_| format!("metrics address {s}: expected host:port, [v6]:port or unix:/path"))
    }

    fn show(&self) -> String {
        match self {
            Addr::Tcp(a) => format!("http://{a}/metrics"),
            Addr::Unix(p) => format!("unix:{}", p.display()),
        }
    }
}

enum Listener {
    Tcp(TcpListener),
    Unix(UnixListener, PathBuf),
}

enum Stream {
    Tcp(TcpStream),
    Unix(UnixStream),
}

impl Stream {
    fn io(&mut self) -> &mut dyn ReadWrite {
        match self {
            Stream::Tcp(s) => s,
            Stream::Unix(s) => s,
        }
    }

    fn source(&mut self) -> &mut dyn mio::event::Source {
        match self {
            Stream::Tcp(s) => s,
            Stream::Unix(s) => s,
        }
    }

    fn shutdown_write(&self) -> io::Result<()> {
        match self {
            Stream::Tcp(s) => s.shutdown(std::net::Shutdown::Write),
            Stream::Unix(s) => s.shutdown(std::net::Shutdown::Write),
        }
    }
}

trait ReadWrite: Read + Write {}
impl<T: Read + Write> ReadWrite for T {}

enum Phase {
    Reading,
    Waiting { id: u64, asked: Vec<ProcKind>, idle: Vec<ProcKind>, answers: HashMap<ProcKind, Value> },
    Writing,
    Closing,
}

struct Conn {
    stream: Stream,
    rbuf: Vec<u8>,
    wbuf: Vec<u8>,
    phase: Phase,
    since: Instant,
    openmetrics: bool,
}

pub struct MetricsServer {
    listener: Listener,
    conns: Vec<Option<Conn>>,
    next_id: u64,
    rejected: u64,
    unlogged: u64,
    last_log: Option<Instant>,
}

/// What a parsed request asks for.
enum Request {
    Metrics { openmetrics: bool },
    Error(&'static str),
}

impl MetricsServer {
    pub fn open(addr: &Addr, registry: &Registry) -> io::Result<MetricsServer> {
        let mut listener = match addr {
            Addr::Tcp(a) => Listener::Tcp(TcpListener::bind(*a)?),
            Addr::Unix(p) => {
                // Only a stale socket is replaced, never a regular file.
                if std::fs::symlink_metadata(p).is_ok_and(|m| std::os::unix::fs::FileTypeExt::is_socket(&m.file_type()))
                {
                    std::fs::remove_file(p)?;
                }
                Listener::Unix(UnixListener::bind(p)?, p.clone())
            }
        };
        match &mut listener {
            Listener::Tcp(l) => registry.register(l, LISTENER, Interest::READABLE)?,
            Listener::Unix(l, _) => registry.register(l, LISTENER, Interest::READABLE)?,
        }
        info!("Metrics listening on {}", addr.show());
        let conns = (0..MAX_CONNS).map(|_| None).collect();
        Ok(MetricsServer { listener, conns, next_id: 0, rejected: 0, unlogged: 0, last_log: None })
    }

    /// Stop listening (at stop); a Unix socket file is removed.
    pub fn close(self, registry: &Registry) {
        for mut c in self.conns.into_iter().flatten() {
            let _ = registry.deregister(c.stream.source());
        }
        match self.listener {
            Listener::Tcp(mut l) => {
                let _ = registry.deregister(&mut l);
            }
            Listener::Unix(mut l, p) => {
                let _ = registry.deregister(&mut l);
                let _ = std::fs::remove_file(p);
            }
        }
    }

    /// A readiness event; returns the ids of requests that need the
    /// children asked.
    pub fn on_ready(&mut self, token: Token, registry: &Registry) -> Vec<u64> {
        if token == LISTENER {
            return self.accept_all(registry);
        }
        self.on_conn(token.0 - FIRST_CONN, registry).into_iter().collect()
    }

    fn accept_one(&mut self) -> io::Result<Stream> {
        match &self.listener {
            Listener::Tcp(l) => l.accept().map(|(s, _)| Stream::Tcp(s)),
            Listener::Unix(l, _) => l.accept().map(|(s, _)| Stream::Unix(s)),
        }
    }

    fn accept_all(&mut self, registry: &Registry) -> Vec<u64> {
        let mut needs = Vec::new();
        loop {
            match self.accept_one() {
                Ok(stream) => needs.extend(self.admit(stream, registry)),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return needs,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    self.count_rejection(&format!("accept failed: {e}"));
                    return needs;
                }
            }
        }
    }

    fn admit(&mut self, mut stream: Stream, registry: &Registry) -> Option<u64> {
        let Some(slot) = self.conns.iter().position(Option::is_none) else {
            // Best effort: a short answer fits the socket buffer.
            let _ = stream.io().write(&response(503, "text/plain", b"too many clients\n"));
            self.count_rejection("too many clients");
            return None;
        };
        let token = Token(FIRST_CONN + slot);
        if let Err(e) = registry.register(stream.source(), token, Interest::READABLE | Interest::WRITABLE) {
            self.count_rejection(&format!("unable to watch a client: {e}"));
            return None;
        }
        let now = Instant::now();
        let conn =
            Conn { stream, rbuf: Vec::new(), wbuf: Vec::new(), phase: Phase::Reading, since: now, openmetrics: false };
        self.conns[slot] = Some(conn);
        // The request may already be there (edge-triggered).
        self.on_conn(slot, registry)
    }

    fn on_conn(&mut self, slot: usize, registry: &Registry) -> Option<u64> {
        let conn = self.conns.get_mut(slot)?.as_mut()?;
        match conn.phase {
            Phase::Reading => self.read_request(slot, registry),
            Phase::Waiting { .. } | Phase::Closing => {
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
        let closed = read_some(conn.stream.io(), &mut conn.rbuf);
        let Some(end) = head_end(&conn.rbuf) else {
            if conn.rbuf.len() > MAX_REQUEST {
                self.reject(slot, 431, "request header too large", registry);
            } else if closed {
                self.drop_conn(slot, registry);
            }
            return None;
        };
        match parse_request(&conn.rbuf[..end]) {
            Request::Error(why) => {
                let code = if why == "method not allowed" {
                    405
                } else if why == "not found" {
                    404
                } else {
                    400
                };
                self.reject(slot, code, why, registry);
                None
            }
            Request::Metrics { openmetrics } => {
                self.next_id += 1;
                let id = self.next_id | ID_BIT;
                conn.openmetrics = openmetrics;
                conn.phase = Phase::Waiting { id, asked: Vec::new(), idle: Vec::new(), answers: HashMap::new() };
                Some(id)
            }
        }
    }

    /// The parent asked `kinds` for request `id`; `not_running`: wanted
    /// children that are not running now.
    pub fn asked(
        &mut self,
        id: u64,
        kinds: Vec<ProcKind>,
        not_running: Vec<ProcKind>,
        facts: &Facts,
        registry: &Registry,
    ) {
        let Some(slot) = self.slot_of(id) else { return };
        if let Some(Conn { phase: Phase::Waiting { asked, idle, .. }, .. }) = self.conns[slot].as_mut() {
            *asked = kinds;
            *idle = not_running;
        }
        self.maybe_finish(slot, false, facts, registry);
    }

    pub fn answer(&mut self, id: u64, kind: ProcKind, doc: Value, facts: &Facts, registry: &Registry) {
        let Some(slot) = self.slot_of(id) else { return };
        if let Some(Conn { phase: Phase::Waiting { answers, .. }, .. }) = self.conns[slot].as_mut() {
            answers.insert(kind, doc);
        }
        self.maybe_finish(slot, false, facts, registry);
    }

    pub fn expire(&mut self, id: u64, facts: &Facts, registry: &Registry) {
        if let Some(slot) = self.slot_of(id) {
            self.maybe_finish(slot, true, facts, registry);
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
                Phase::Reading => self.reject(slot, 408, "no complete request in time", registry),
                Phase::Writing | Phase::Closing => self.drop_conn(slot, registry),
                Phase::Waiting { .. } => {}
            }
        }
    }

    fn slot_of(&self, id: u64) -> Option<usize> {
        self.conns.iter().position(|c| matches!(c, Some(Conn { phase: Phase::Waiting { id: i, .. }, .. }) if *i == id))
    }

    fn maybe_finish(&mut self, slot: usize, deadline: bool, facts: &Facts, registry: &Registry) {
        let Some(conn) = self.conns[slot].as_mut() else { return };
        let Phase::Waiting { asked, idle, answers, .. } = &mut conn.phase else { return };
        if !deadline && asked.iter().any(|k| !answers.contains_key(k)) {
            return;
        }
        let mut docs: Vec<ChildDoc> =
            asked.iter().map(|k| ChildDoc { key: crate::subsystems::short_name(*k), doc: answers.remove(k) }).collect();
        docs.extend(idle.iter().map(|k| ChildDoc { key: crate::subsystems::short_name(*k), doc: None }));
        docs.sort_by_key(|d| d.key);
        let body = render(&docs, facts, conn.openmetrics);
        let ctype = if conn.openmetrics { OPENMETRICS } else { CLASSIC };
        conn.wbuf = response(200, ctype, body.as_bytes());
        conn.phase = Phase::Writing;
        conn.since = Instant::now();
        self.flush(slot, registry);
    }

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
        // Closing with unread request bytes would reset the connection and
        // lose the answer: wait for the client's close.
        conn.phase = Phase::Closing;
        conn.since = Instant::now();
        if drain_closed(conn.stream.io()) {
            self.drop_conn(slot, registry);
        }
    }

    fn reject(&mut self, slot: usize, code: u16, why: &'static str, registry: &Registry) {
        let Some(conn) = self.conns[slot].as_mut() else { return };
        conn.wbuf = response(code, "text/plain; charset=utf-8", format!("{why}\n").as_bytes());
        conn.phase = Phase::Writing;
        conn.since = Instant::now();
        self.flush(slot, registry);
        self.count_rejection(why);
    }

    fn drop_conn(&mut self, slot: usize, registry: &Registry) {
        if let Some(mut c) = self.conns.get_mut(slot).and_then(Option::take) {
            let _ = registry.deregister(c.stream.source());
        }
    }

    fn count_rejection(&mut self, why: &str) {
        self.rejected += 1;
        self.unlogged += 1;
        let now = Instant::now();
        if self.last_log.is_some_and(|t| now.duration_since(t) < LOG_INTERVAL) {
            return;
        }
        warn!(
            "Metrics: rejected a client: {why} ({} rejected since the last report, {} in all)",
            self.unlogged, self.rejected
        );
        self.unlogged = 0;
        self.last_log = Some(now);
    }
}

/// Read what is there into `buf`, stopping past [`MAX_REQUEST`]; true when
/// the client closed or failed.
fn read_some(s: &mut dyn ReadWrite, buf: &mut Vec<u8>) -> bool {
    let mut b = [0u8; 1024];
    loop {
        match s.read(&mut b) {
            Ok(0) => return true,
            Ok(n) => {
                buf.extend_from_slice(&b[..n]);
                if buf.len() > MAX_REQUEST {
                    return false;
                }
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return e.kind() != io::ErrorKind::WouldBlock,
        }
    }
}

/// The end of the request head (`\r\n\r\n`, or bare `\n\n`) within the limit.
fn head_end(buf: &[u8]) -> Option<usize> {
    let lim = &buf[..buf.len().min(MAX_REQUEST)];
    let crlf = lim.windows(4).position(|w| w == b"\r\n\r\n");
    let lf = lim.windows(2).position(|w| w == b"\n\n");
    match (crlf, lf) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

fn parse_request(head: &[u8]) -> Request {
    let Ok(text) = std::str::from_utf8(head) else { return Request::Error("bad request") };
    let mut lines = text.lines();
    let mut parts = lines.next().unwrap_or("").split(' ');
    let (Some(method), Some(target), Some(version), None) = (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Request::Error("bad request");
    };
    if !version.starts_with("HTTP/1.") {
        return Request::Error("bad request");
    }
    if method != "GET" {
        return Request::Error("method not allowed");
    }
    if target.split('?').next() != Some("/metrics") {
        return Request::Error("not found");
    }
    let openmetrics = lines.any(|l| {
        let lower = l.to_ascii_lowercase();
        lower.starts_with("accept:") && lower.contains("application/openmetrics-text")
    });
    Request::Metrics { openmetrics }
}

fn response(code: u16, ctype: &str, body: &[u8]) -> Vec<u8> {
    let reason = match code {
        200 => "OK",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        431 => "Request Header Fields Too Large",
        503 => "Service Unavailable",
        _ => "Bad Request",
    };
    let head = format!(
        "HTTP/1.1 {code} {reason}\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let mut out = head.into_bytes();
    out.extend_from_slice(body);
    out
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses() {
        assert_eq!(Addr::parse("127.0.0.1:9650"), Ok(Addr::Tcp("127.0.0.1:9650".parse().unwrap())));
        assert_eq!(Addr::parse("[::1]:9650"), Ok(Addr::Tcp("[::1]:9650".parse().unwrap())));
        assert_eq!(Addr::parse("unix:/run/k.sock"), Ok(Addr::Unix(PathBuf::from("/run/k.sock"))));
        assert!(Addr::parse("unix:rel").is_err());
        assert!(Addr::parse("localhost").is_err());
    }

    #[test]
    fn requests() {
        assert!(matches!(parse_request(b"GET /metrics HTTP/1.1\r\nHost: x"), Request::Metrics { openmetrics: false }));
        let om = b"GET /metrics?x=1 HTTP/1.1\r\nAccept: application/openmetrics-text;version=1.0.0";
        assert!(matches!(parse_request(om), Request::Metrics { openmetrics: true }));
        assert!(matches!(parse_request(b"POST /metrics HTTP/1.1"), Request::Error("method not allowed")));
        assert!(matches!(parse_request(b"GET / HTTP/1.0"), Request::Error("not found")));
        assert!(matches!(parse_request(b"\xff\xfe garbage"), Request::Error("bad request")));
        assert!(matches!(parse_request(b""), Request::Error("bad request")));
        assert_eq!(head_end(b"GET / HTTP/1.0\r\n\r\n"), Some(14));
        assert_eq!(head_end(b"GET / HTTP/1.0\n\n"), Some(14));
        assert_eq!(head_end(b"GET / HTTP/1.0\r\n"), None);
    }
}
