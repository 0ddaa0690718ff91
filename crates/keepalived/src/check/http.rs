//! HTTP_GET / SSL_GET attempts: one socket per attempt in the child's mio loop (keepalived check_http.c
//! `http_connect_thread` … `http_read_thread`, check_ssl.c `ssl_read_thread`); the answer is checked by
//! the sans-IO [`keepalived_check::http_response::Response`] through its fixed buffer.
//!
//! Steps and their timeouts (`connect_timeout` each, as 2.2.7 arms them): connect; TLS handshake (the
//! rest of the connect's time); write the request; wait for the answer; read it — over plain HTTP every
//! read gets a fresh timeout, over TLS one timeout runs from the first read to the close. The answer
//! ends when the server closes the connection.
use super::tcp::{is_connect_fail, os_text, setup, TcpTarget};
use super::tokens::Tokens;
use keepalived_check::http_response::{Part, Response, UrlTests, Verdict};
use mio::net::TcpStream;
use mio::{Interest, Registry, Token};
use rustls::pki_types::ServerName;
use rustls::{ClientConfig, ClientConnection};
use socket2::{Domain, SockAddr, Socket, Type};
use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tracing::info;

/// What one attempt does.
pub struct HttpJob {
    pub target: TcpTarget,
    pub request: String,
    /// SSL_GET: the client configuration and the name for SNI.
    pub tls: Option<(Arc<ClientConfig>, ServerName<'static>)>,
    pub url: UrlTests,
    /// Compute the body's MD5 (the URL has a `digest`; genhash always).
    pub want_digest: bool,
    pub timeout: Duration,
    /// genhash `-v`: sees the header and the digested body bytes.
    pub trace: Option<fn(Part, &[u8])>,
}

/// How an attempt ended.
#[derive(Debug)]
pub struct Finished {
    pub verdict: Verdict,
    /// The answer was read to its end and checked (2.2.7's `http_handle_response`): its body's MD5
    /// and whether a header came.
    pub answer: Option<([u8; 16], bool)>,
    /// `Content-Length` and the body bytes received.
    pub lengths: (Option<u64>, u64),
}

fn fail(msg: &'static str) -> Finished {
    Finished { verdict: Verdict::Fail { msg }, answer: None, lengths: (None, 0) }
}

const SSL_ERROR: &str = "SSL handshake/communication error connecting to";

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Phase {
    Connecting,
    Handshake,
    Writing,
    /// Request sent, nothing read yet.
    Waiting,
    Reading,
}

enum Pull {
    Progress,
    Blocked,
    Eof,
    Error,
}

enum Flow {
    /// The phase changed: go on.
    Next,
    /// Wait for the socket.
    Wait,
    Done(Finished),
}

struct Probe<T> {
    tag: T,
    stream: TcpStream,
    tls: Option<ClientConnection>,
    job: HttpJob,
    resp: Response,
    phase: Phase,
    deadline: Instant,
    written: usize,
}

fn would_block(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::WouldBlock || e.kind() == io::ErrorKind::Interrupted
}

impl<T> Probe<T> {
    fn drive(&mut self, now: Instant) -> Option<Finished> {
        loop {
            let flow = match self.phase {
                Phase::Connecting => self.connected(now),
                Phase::Handshake => self.handshake(now),
                Phase::Writing => self.write(now),
                Phase::Waiting | Phase::Reading if self.tls.is_some() => self.read_tls(now),
                Phase::Waiting | Phase::Reading => self.read_plain(now),
            };
            match flow {
                Flow::Next => continue,
                Flow::Wait => return None,
                Flow::Done(f) => return Some(f),
            }
        }
    }

    /// keepalived `socket_state`.
    fn connected(&mut self, now: Instant) -> Flow {
        use nix::errno::Errno;
        match self.stream.take_error() {
            Ok(None) => match self.stream.peer_addr() {
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::NotConnected => return Flow::Wait,
                Err(_) => return Flow::Done(fail("Connection failed")),
            },
            Ok(Some(e)) if e.raw_os_error() == Some(Errno::EINPROGRESS as i32) => return Flow::Wait,
            Ok(Some(e)) if e.raw_os_error() == Some(Errno::ETIMEDOUT as i32) => {
                return Flow::Done(fail("Timeout connecting"))
            }
            Ok(Some(_)) | Err(_) => return Flow::Done(fail("Connection failed")),
        }
        match &self.job.tls {
            Some((cfg, name)) => match ClientConnection::new(cfg.clone(), name.clone()) {
                Ok(c) => {
                    self.tls = Some(c);
                    self.phase = Phase::Handshake;
                }
                Err(_) => return Flow::Done(fail(SSL_ERROR)),
            },
            None => self.enter(Phase::Writing, now),
        }
        Flow::Next
    }

    fn enter(&mut self, phase: Phase, now: Instant) {
        self.phase = phase;
        self.deadline = now + self.job.timeout;
    }

    /// Send what rustls has to send; `Err` on a socket error.
    fn flush_tls(&mut self) -> Result<bool, ()> {
        let Some(tls) = self.tls.as_mut() else { return Ok(true) };
        while tls.wants_write() {
            match tls.write_tls(&mut self.stream) {
                Ok(_) => {}
                Err(e) if would_block(&e) => return Ok(false),
                Err(_) => return Err(()),
            }
        }
        Ok(true)
    }

    /// Pull TLS records from the socket.
    fn pull_tls(&mut self) -> Pull {
        let Some(tls) = self.tls.as_mut() else { return Pull::Error };
        match tls.read_tls(&mut self.stream) {
            Ok(0) => Pull::Eof,
            Ok(_) => match tls.process_new_packets() {
                Ok(_) => Pull::Progress,
                Err(_) => {
                    let _ = tls.write_tls(&mut self.stream);
                    Pull::Error
                }
            },
            Err(e) if would_block(&e) => Pull::Blocked,
            Err(_) => Pull::Error,
        }
    }

    fn handshake(&mut self, now: Instant) -> Flow {
        loop {
            match self.flush_tls() {
                Ok(true) => {}
                Ok(false) => return Flow::Wait,
                Err(()) => return Flow::Done(fail(SSL_ERROR)),
            }
            if !self.tls.as_ref().is_some_and(|t| t.is_handshaking()) {
                self.enter(Phase::Writing, now);
                return Flow::Next;
            }
            match self.pull_tls() {
                Pull::Progress => {}
                Pull::Blocked => return Flow::Wait,
                Pull::Eof | Pull::Error => return Flow::Done(fail(SSL_ERROR)),
            }
        }
    }

    fn write(&mut self, now: Instant) -> Flow {
        let len = self.job.request.len();
        if let Some(tls) = self.tls.as_mut() {
            if self.written == 0 && tls.writer().write_all(self.job.request.as_bytes()).is_err() {
                return Flow::Done(fail("Cannot send get request to"));
            }
            self.written = len;
            match self.flush_tls() {
                Ok(true) => {}
                Ok(false) => return Flow::Wait,
                Err(()) => return Flow::Done(fail("Cannot send get request to")),
            }
        }
        while self.written < len {
            match self.stream.write(&self.job.request.as_bytes()[self.written..]) {
                Ok(n) => self.written += n,
                Err(e) if would_block(&e) => return Flow::Wait,
                Err(_) => return Flow::Done(fail("Cannot send get request to")),
            }
        }
        self.enter(Phase::Waiting, now);
        Flow::Next
    }

    /// The stream ended: 2.2.7's `http_handle_response`.
    fn finish(&mut self) -> Flow {
        let (verdict, digest) = self.resp.finish(&self.job.url);
        let answer = Some((digest, self.resp.has_header()));
        Flow::Done(Finished { verdict, answer, lengths: self.resp.lengths() })
    }

    fn commit(&mut self, n: usize) {
        let mut noop = |_: Part, _: &[u8]| {};
        match self.job.trace {
            Some(f) => self.resp.commit(n, &self.job.url, &mut |p, b| f(p, b)),
            None => self.resp.commit(n, &self.job.url, &mut noop),
        }
    }

    fn read_plain(&mut self, now: Instant) -> Flow {
        loop {
            let spare = self.resp.spare();
            if spare.is_empty() {
                return self.finish();
            }
            match self.stream.read(spare) {
                Ok(0) => return self.finish(),
                Ok(n) => {
                    self.commit(n);
                    self.enter(Phase::Reading, now);
                }
                Err(e) if would_block(&e) => return Flow::Wait,
                Err(_) => return Flow::Done(fail("Read error with")),
            }
        }
    }

    fn read_tls(&mut self, now: Instant) -> Flow {
        loop {
            let _ = self.flush_tls();
            let (Some(tls), spare) = (self.tls.as_mut(), self.resp.spare()) else { return self.finish() };
            if spare.is_empty() {
                return self.finish();
            }
            match tls.reader().read(spare) {
                // close_notify (SSL_ERROR_ZERO_RETURN)
                Ok(0) if !self.resp.has_header() => return Flow::Done(fail("SSL read error from")),
                Ok(0) => return self.finish(),
                Ok(n) => {
                    self.commit(n);
                    if self.phase == Phase::Waiting {
                        self.enter(Phase::Reading, now);
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => match self.pull_tls() {
                    Pull::Progress if self.phase == Phase::Waiting => self.enter(Phase::Reading, now),
                    Pull::Progress => {}
                    Pull::Blocked => return Flow::Wait,
                    // The reader now says how the stream ended.
                    Pull::Eof => {}
                    Pull::Error => return self.finish(),
                },
                Err(_) => return self.finish(),
            }
        }
    }

    /// keepalived's message for a timeout in the current step.
    fn timeout_msg(&self) -> &'static str {
        match self.phase {
            Phase::Connecting | Phase::Handshake => "Timeout connecting",
            Phase::Writing => "Timeout WEB write",
            Phase::Waiting => "Timeout WEB read",
            Phase::Reading if self.tls.is_some() => "Timeout SSL read",
            Phase::Reading => "Timeout HTTP read",
        }
    }
}

/// What [`HttpProbes::start`] did.
#[derive(Debug)]
pub enum Started {
    Pending,
    /// The connect failed at once.
    Done(Finished),
    /// The socket could not be set up (logged): no result, try again a `delay_loop` later.
    Error,
}

/// The running attempts, with tokens from a range of the child's.
pub struct HttpProbes<T> {
    probes: HashMap<Token, Probe<T>>,
    tokens: Tokens,
}

/// The socket with keepalived's options, connect started (`tcp_bind_connect`).
fn connect(t: &TcpTarget) -> Result<Socket, Option<Finished>> {
    let sock = Socket::new(Domain::for_address(t.dst), Type::STREAM.nonblocking().cloexec(), None).map_err(|_| {
        info!("WEB connection fail to create socket. Rescheduling.");
        None
    })?;
    if let Err(e) = sock.set_linger(Some(Duration::from_secs(5))) {
        info!("Failed to set SO_LINGER for socket - {}", os_text(&e));
    }
    let bind_failed = || {
        info!("WEB socket bind failed. Rescheduling");
        None
    };
    setup(&sock, t).map_err(|()| bind_failed())?;
    match sock.connect(&SockAddr::from(t.dst)) {
        Ok(()) => Ok(sock),
        Err(e) if e.raw_os_error() == Some(nix::errno::Errno::EINPROGRESS as i32) => Ok(sock),
        Err(e) if is_connect_fail(&e) => Err(Some(fail("HTTP_CHECK - network unreachable"))),
        Err(_) => Err(bind_failed()),
    }
}

impl<T: PartialEq> HttpProbes<T> {
    /// Probes with tokens `first..first+count`.
    pub fn new(first: usize, count: usize) -> HttpProbes<T> {
        HttpProbes { probes: HashMap::new(), tokens: Tokens::new(first, count) }
    }

    pub fn owns(&self, token: Token) -> bool {
        self.probes.contains_key(&token)
    }

    /// Start an attempt for `tag` (replacing any it still has running).
    pub fn start(&mut self, reg: &Registry, tag: T, job: HttpJob, now: Instant) -> Started {
        self.cancel(reg, |x| *x == tag);
        let sock = match connect(&job.target) {
            Ok(s) => s,
            Err(Some(f)) => return Started::Done(f),
            Err(None) => return Started::Error,
        };
        let Some(token) = self.tokens.take() else {
            info!("WEB connection fail to create socket. Rescheduling.");
            return Started::Error;
        };
        let mut stream = TcpStream::from_std(std::net::TcpStream::from(sock));
        if let Err(e) = reg.register(&mut stream, token, Interest::READABLE | Interest::WRITABLE) {
            info!("WEB connection fail to watch socket: {}. Rescheduling.", os_text(&e));
            self.tokens.give_back(token);
            return Started::Error;
        }
        let resp = Response::new(job.want_digest);
        let deadline = now + job.timeout;
        let p = Probe { tag, stream, tls: None, job, resp, phase: Phase::Connecting, deadline, written: 0 };
        self.probes.insert(token, p);
        Started::Pending
    }

    /// The socket of `token` is ready: the attempt goes on, maybe to its end.
    pub fn on_ready(&mut self, reg: &Registry, token: Token, now: Instant) -> Option<(T, Finished)> {
        let f = self.probes.get_mut(&token)?.drive(now)?;
        self.close(reg, token).map(|tag| (tag, f))
    }

    /// Attempts past their step's timeout, closed.
    pub fn expired(&mut self, reg: &Registry, now: Instant) -> Vec<(T, Finished)> {
        let due: Vec<(Token, &'static str)> =
            self.probes.iter().filter(|(_, p)| p.deadline <= now).map(|(t, p)| (*t, p.timeout_msg())).collect();
        due.into_iter().filter_map(|(t, msg)| self.close(reg, t).map(|tag| (tag, fail(msg)))).collect()
    }

    pub fn next_deadline(&self) -> Option<Instant> {
        self.probes.values().map(|p| p.deadline).min()
    }

    /// Abandon the attempts whose tag matches.
    pub fn cancel(&mut self, reg: &Registry, pred: impl Fn(&T) -> bool) {
        let gone: Vec<Token> = self.probes.iter().filter(|(_, p)| pred(&p.tag)).map(|(t, _)| *t).collect();
        for t in gone {
            self.close(reg, t);
        }
    }

    /// End an attempt: closing the socket takes it out of the loop's epoll
    /// set (it is never duplicated), no `EPOLL_CTL_DEL` needed.
    fn close(&mut self, _reg: &Registry, token: Token) -> Option<T> {
        let p = self.probes.remove(&token)?;
        self.tokens.give_back(token);
        Some(p.tag)
    }
}

// ------------------------------------------------------------ in the child

use super::{CheckChild, Model};
use keepalived_check::http_response::{compile_regex, request, Protocol, Regex};
use keepalived_check::{CheckOutcome, CheckerId, Input};
use keepalived_config::lvs::model::{CheckerKind, HttpCheck, HttpProtocol, Url};

/// The child's HTTP_GET / SSL_GET side.
pub struct HttpSide {
    pub probes: HttpProbes<CheckerId>,
    /// The SSL context (built at start when an SSL_GET is configured).
    tls: Option<Arc<ClientConfig>>,
    /// Compiled regexes by checker and URL (`None`: the pattern does not compile).
    regexes: HashMap<(CheckerId, usize), Option<Regex>>,
    /// keepalived `url->len_mismatch`: the last length difference logged, by checker and URL.
    mismatch: HashMap<(CheckerId, usize), i64>,
}

impl HttpSide {
    /// keepalived `init_ssl_ctx` when `ssl_required`; `Err` after its lines.
    pub fn new(cfg: &keepalived_config::Config, first: usize, count: usize) -> Result<HttpSide, ()> {
        let tls = if cfg.lvs.ssl_required {
            match super::tls::client_config(cfg.lvs.ssl.as_ref()) {
                Ok(c) => Some(c),
                Err(line) => {
                    super::tls::log_init_failure(cfg.lvs.ssl.as_ref(), line);
                    return Err(());
                }
            }
        } else {
            None
        };
        Ok(HttpSide { probes: HttpProbes::new(first, count), tls, regexes: HashMap::new(), mismatch: HashMap::new() })
    }

    /// A reload: attempts abandoned, per-URL memories forgotten (2.2.7 builds new URLs).
    pub fn reset(&mut self, reg: &Registry, cfg: &keepalived_config::Config) {
        self.probes.cancel(reg, |_| true);
        self.regexes.clear();
        self.mismatch.clear();
        // 2.2.7 rebuilds its SSL context from the new `SSL { }`; when that fails it stops the checker
        // child (exit 1, the daemon ends). keepalived-rs logs the same lines and keeps the previous
        // context (a reload cannot end the child here).
        if cfg.lvs.ssl_required {
            match super::tls::client_config(cfg.lvs.ssl.as_ref()) {
                Ok(c) => self.tls = Some(c),
                Err(line) => super::tls::log_init_failure(cfg.lvs.ssl.as_ref(), line),
            }
        }
    }

    fn regex(&mut self, c: CheckerId, step: usize, url: &Url) -> Result<Option<Regex>, ()> {
        let Some(pattern) = &url.regex else { return Ok(None) };
        let re = self.regexes.entry((c, step)).or_insert_with(|| match compile_regex(pattern, &url.regex_options) {
            Ok(r) => Some(r),
            Err(e) => {
                info!("Invalid regex: '{pattern}' - {e}");
                None
            }
        });
        re.clone().map(Some).ok_or(())
    }
}

/// keepalived's virtualhost for the `Host:` header: URL, checker, real server, virtual server.
fn vhost<'a>(m: &'a Model, c: CheckerId, h: &'a HttpCheck, url: &'a Url) -> Option<&'a str> {
    let cc = m.ec.checker(c)?;
    url.virtualhost.as_deref().or(h.virtualhost.as_deref()).or_else(|| {
        m.rs(cc.rs).and_then(|r| r.virtualhost.as_deref()).or_else(|| m.vs(cc.rs.vs)?.virtualhost.as_deref())
    })
}

/// The SNI name (2.2.7 `ssl_connect`: URL, checker, virtual server; keepalived-rs: `sni_name` first).
fn sni<'a>(m: &'a Model, c: CheckerId, h: &'a HttpCheck, url: &'a Url) -> Option<&'a str> {
    if !h.enable_sni {
        return None;
    }
    let vs = m.ec.checker(c).and_then(|cc| m.vs(cc.rs.vs));
    h.sni_name.as_deref().or(url.virtualhost.as_deref()).or(h.virtualhost.as_deref()).or(vs?.virtualhost.as_deref())
}

pub fn protocol(p: HttpProtocol) -> Protocol {
    match p {
        HttpProtocol::V1_0 => Protocol::V1_0,
        HttpProtocol::V1_0C => Protocol::V1_0C,
        HttpProtocol::V1_1 => Protocol::V1_1,
    }
}

/// A URL's tests from the configuration.
pub fn url_tests(url: &Url, regex: Option<Regex>) -> UrlTests {
    UrlTests {
        digest: url.digest.as_deref().and_then(|d| d.try_into().ok()),
        status_codes: url.status_codes.clone(),
        regex,
        regex_no_match: url.regex_no_match,
        regex_min_offset: url.regex_min_offset,
        regex_max_offset: url.regex_max_offset,
    }
}

impl CheckChild {
    /// The attempt for the URL the engine is at; `Err` when it fails before starting (a bad regex, no
    /// SSL context): the failure message.
    fn http_job(&mut self, c: CheckerId) -> Option<Result<HttpJob, &'static str>> {
        let (mc, cc) = self.model.checker(c)?;
        let CheckerKind::Http(h) = &mc.kind else { return None };
        let step = self.engine.checker(c).map_or(0, |s| s.step);
        let url = h.urls.get(step)?;
        let target = self.tcp_target(c)?;
        let timeout = Duration::from_micros(cc.connect_timeout.unwrap_or(super::DEFAULT_CONNECT_TIMEOUT_US));
        let path = url.path.as_deref().unwrap_or("/");
        let request = request(path, protocol(h.http_protocol), vhost(&self.model, c, h, url), target.dst);
        let tls = match (h.ssl, &self.http.tls) {
            (true, Some(cfg)) => {
                Some((cfg.clone(), super::tls::server_name(sni(&self.model, c, h, url), target.dst.ip())))
            }
            (true, None) => return Some(Err(SSL_ERROR)),
            (false, _) => None,
        };
        let (url, want_digest) = (url.clone(), url.digest.is_some());
        let Ok(regex) = self.http.regex(c, step, &url) else { return Some(Err("Regex match failed")) };
        let url = url_tests(&url, regex);
        Some(Ok(HttpJob { target, request, tls, url, want_digest, timeout, trace: None }))
    }

    pub(super) fn start_http(&mut self, reg: &Registry, c: CheckerId, delay_loop_us: u64) {
        let now = Instant::now();
        // keepalived: "if there are no URLs in list, enable server w/o checking".
        let no_urls = matches!(self.model.checker(c), Some((m, _)) if matches!(&m.kind, CheckerKind::Http(h) if h.urls.is_empty()));
        if no_urls {
            return self.pending.push_back(Input::CheckResult { checker: c, result: CheckOutcome::Success });
        }
        let job = match self.http_job(c) {
            None => return,
            Some(Err(msg)) => return self.http_done(c, fail(msg)),
            Some(Ok(j)) => j,
        };
        match self.http.probes.start(reg, c, job, now) {
            Started::Pending => {}
            Started::Done(f) => self.http_done(c, f),
            Started::Error => self.retries.push((now + Duration::from_micros(delay_loop_us), c)),
        }
    }

    /// Queue the result of an attempt, with 2.2.7's lines.
    pub(super) fn http_done(&mut self, c: CheckerId, f: Finished) {
        let Some((mc, cc)) = self.model.checker(c) else { return };
        let CheckerKind::Http(h) = &mc.kind else { return };
        let step = self.engine.checker(c).map_or(0, |s| s.step);
        let rs = self.model.ec.rs(cc.rs).map(|r| r.name.clone()).unwrap_or_default();
        let url = h.urls.get(step);
        let path = url.and_then(|u| u.path.clone()).unwrap_or_default();
        let status_passed = f.answer.is_some()
            && !matches!(f.verdict, Verdict::Fail { msg } if msg == "HTTP status code error to" || msg.starts_with("Read, no data"));
        if status_passed {
            self.log_length_mismatch(c, step, &f);
        }
        let result = match f.verdict {
            Verdict::Fail { msg } => CheckOutcome::Failure { reason: Some(format!("{msg} server {rs}.")) },
            Verdict::Pass { what } => {
                if !self.engine.checker(c).is_some_and(|s| s.is_up) {
                    info!("{what} success to {rs} url({path})");
                }
                CheckOutcome::Success
            }
        };
        self.pending.push_back(Input::CheckResult { checker: c, result });
    }

    /// keepalived's `content_length (…) does not match received bytes (…)`, once per difference.
    fn log_length_mismatch(&mut self, c: CheckerId, step: usize, f: &Finished) {
        let (Some(cl), rx) = f.lengths else {
            self.http.mismatch.remove(&(c, step));
            return;
        };
        let diff = cl as i64 - rx as i64;
        if diff == 0 {
            self.http.mismatch.remove(&(c, step));
            return;
        }
        if self.http.mismatch.insert((c, step), diff) == Some(diff) {
            return;
        }
        let Some((mc, cc)) = self.model.checker(c) else { return };
        let CheckerKind::Http(h) = &mc.kind else { return };
        let url = h.urls.get(step);
        let vh = url.and_then(|u| u.virtualhost.as_deref()).unwrap_or("");
        let path = url.and_then(|u| u.path.as_deref()).unwrap_or("");
        let rs = self.model.ec.rs(cc.rs).map(|r| r.name.as_str()).unwrap_or("");
        let vs = self.model.ec.virtual_servers.get(cc.rs.vs.0).map(|v| v.name.as_str()).unwrap_or("");
        info!(
            "http_check for RS {rs} VS {vs} url {vh}{path}: content_length ({cl}) does not match received bytes ({rx})"
        );
    }

    pub(super) fn http_ready(&mut self, reg: &Registry, token: Token) -> bool {
        if !self.http.probes.owns(token) {
            return false;
        }
        if let Some((c, f)) = self.http.probes.on_ready(reg, token, Instant::now()) {
            self.http_done(c, f);
            self.drain(reg);
        }
        true
    }

    pub(super) fn http_expired(&mut self, reg: &Registry) {
        for (c, f) in self.http.probes.expired(reg, Instant::now()) {
            self.http_done(c, f);
        }
    }
}

#[cfg(test)]
#[path = "http_tests.rs"]
mod tests;
