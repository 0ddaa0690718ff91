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
//! size and must arrive in time (parent_requests.rs, the connection
//! machinery shared with the status socket), and a client that
//! sends garbage, too much, or too slowly is answered with an error or
//! dropped (counted, rate-limited log line).

use crate::metrics_render::{render, ChildDoc, Facts};
use crate::parent_requests::{self, accept_next, Client, Gathered, Protocol, ReadWrite, Requests};
use keepalived_runtime::ProcKind;
use mio::net::{TcpListener, TcpStream, UnixListener, UnixStream};
use mio::{Interest, Registry, Token};
use serde_json::Value;
use std::io;
use std::path::PathBuf;
use tracing::info;

/// The largest request (line and headers) accepted.
const MAX_REQUEST: usize = 8192;
const TOO_LARGE: &str = "request header too large";
const TOO_SLOW: &str = "no complete request in time";

/// The listener's token; connections use the following ones.
pub const LISTENER: Token = Token(40);
/// Metrics requests to the children carry ids with this bit, so the
/// parent routes each answer to the status socket or here.
const ID_BIT: u64 = 1 << 63;

const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";
const CLASSIC: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Is `t` one of the metrics endpoint's tokens?
pub fn owns(t: Token) -> bool {
    parent_requests::owns(LISTENER, t)
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

impl Client for Stream {
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

/// A scrape: `GET /metrics`, in the OpenMetrics format when the client
/// accepts it, else in Prometheus' classic text format.
struct Scrape {
    openmetrics: bool,
}

/// HTTP/1.x, one request per connection.
struct Http;

impl Protocol for Http {
    type Stream = Stream;
    type Request = Scrape;
    type Context = Facts;
    const NAME: &'static str = "Metrics";
    const MAX_REQUEST: usize = MAX_REQUEST;
    const TOO_LARGE: &'static str = TOO_LARGE;
    const TOO_SLOW: &'static str = TOO_SLOW;

    fn parse(buf: &[u8]) -> Option<Result<Scrape, &'static str>> {
        head_end(buf).map(|end| parse_request(&buf[..end]))
    }

    fn render(scrape: &Scrape, g: Gathered, facts: &Facts) -> Vec<u8> {
        let Gathered { asked, idle, mut answers } = g;
        let mut docs: Vec<ChildDoc> =
            asked.iter().map(|k| ChildDoc { key: crate::subsystems::short_name(*k), doc: answers.remove(k) }).collect();
        docs.extend(idle.iter().map(|k| ChildDoc { key: crate::subsystems::short_name(*k), doc: None }));
        docs.sort_by_key(|d| d.key);
        let body = render(&docs, facts, scrape.openmetrics);
        let ctype = if scrape.openmetrics { OPENMETRICS } else { CLASSIC };
        response(200, ctype, body.as_bytes())
    }

    fn error(why: &'static str) -> Vec<u8> {
        let code = match why {
            "method not allowed" => 405,
            "not found" => 404,
            TOO_LARGE => 431,
            TOO_SLOW => 408,
            _ => 400,
        };
        response(code, "text/plain; charset=utf-8", format!("{why}\n").as_bytes())
    }
}

pub struct MetricsServer {
    listener: Listener,
    requests: Requests<Http>,
}

impl MetricsServer {
    pub fn open(addr: &Addr, registry: &Registry) -> io::Result<MetricsServer> {
        let mut listener = match addr {
            Addr::Tcp(a) => Listener::Tcp(TcpListener::bind(*a)?),
            Addr::Unix(p) => Listener::Unix(parent_requests::bind_unix(p)?, p.clone()),
        };
        match &mut listener {
            Listener::Tcp(l) => registry.register(l, LISTENER, Interest::READABLE)?,
            Listener::Unix(l, _) => registry.register(l, LISTENER, Interest::READABLE)?,
        }
        info!("Metrics listening on {}", addr.show());
        Ok(MetricsServer { listener, requests: Requests::new(LISTENER, ID_BIT) })
    }

    /// Stop listening (at stop); a Unix socket file is removed.
    pub fn close(self, registry: &Registry) {
        self.requests.close(registry);
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
        self.requests.on_ready(token, registry).into_iter().collect()
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
            match accept_next(|| self.accept_one()) {
                Ok(Some(stream)) => needs.extend(self.admit(stream, registry)),
                Ok(None) => return needs,
                Err(e) => {
                    self.requests.count_rejection(None, &format!("accept failed: {e}"));
                    return needs;
                }
            }
        }
    }

    fn admit(&mut self, stream: Stream, registry: &Registry) -> Option<u64> {
        let Some(slot) = self.requests.free_slot() else {
            let why = "too many clients";
            self.requests.refuse(stream, None, &response(503, "text/plain", format!("{why}\n").as_bytes()), why);
            return None;
        };
        if let Err(e) = self.requests.insert(slot, stream, None, registry) {
            self.requests.count_rejection(None, &format!("unable to watch a client: {e}"));
            return None;
        }
        // The request may already be there (edge-triggered).
        self.requests.on_conn(slot, registry)
    }

    /// The parent asked `kinds` for request `id`; `not_running`: wanted
    /// children that are not running now.
    pub fn asked(&mut self, id: u64, kinds: Vec<ProcKind>, not_running: Vec<ProcKind>, f: &Facts, r: &Registry) {
        self.requests.asked(id, kinds, not_running, f, r);
    }

    /// A child's answer to request `id`.
    pub fn answer(&mut self, id: u64, kind: ProcKind, doc: Value, facts: &Facts, registry: &Registry) {
        self.requests.answer(id, kind, doc, facts, registry);
    }

    /// Request `id`'s time is up: answer with what came.
    pub fn expire(&mut self, id: u64, facts: &Facts, registry: &Registry) {
        self.requests.expire(id, facts, registry);
    }

    /// Drop clients too slow to send their request or to read the answer
    /// (called every second).
    pub fn sweep(&mut self, registry: &Registry) {
        self.requests.sweep(registry);
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

fn parse_request(head: &[u8]) -> Result<Scrape, &'static str> {
    let Ok(text) = std::str::from_utf8(head) else { return Err("bad request") };
    let mut lines = text.lines();
    let mut parts = lines.next().unwrap_or("").split(' ');
    let (Some(method), Some(target), Some(version), None) = (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err("bad request");
    };
    if !version.starts_with("HTTP/1.") {
        return Err("bad request");
    }
    if method != "GET" {
        return Err("method not allowed");
    }
    if target.split('?').next() != Some("/metrics") {
        return Err("not found");
    }
    let openmetrics = lines.any(|l| {
        let lower = l.to_ascii_lowercase();
        lower.starts_with("accept:") && lower.contains("application/openmetrics-text")
    });
    Ok(Scrape { openmetrics })
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
        assert!(matches!(parse_request(b"GET /metrics HTTP/1.1\r\nHost: x"), Ok(Scrape { openmetrics: false })));
        let om = b"GET /metrics?x=1 HTTP/1.1\r\nAccept: application/openmetrics-text;version=1.0.0";
        assert!(matches!(parse_request(om), Ok(Scrape { openmetrics: true })));
        assert!(matches!(parse_request(b"POST /metrics HTTP/1.1"), Err("method not allowed")));
        assert!(matches!(parse_request(b"GET / HTTP/1.0"), Err("not found")));
        assert!(matches!(parse_request(b"\xff\xfe garbage"), Err("bad request")));
        assert!(matches!(parse_request(b""), Err("bad request")));
        assert_eq!(head_end(b"GET / HTTP/1.0\r\n\r\n"), Some(14));
        assert_eq!(head_end(b"GET / HTTP/1.0\n\n"), Some(14));
        assert_eq!(head_end(b"GET / HTTP/1.0\r\n"), None);
    }
}
