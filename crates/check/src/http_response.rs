//! HTTP_GET / SSL_GET attempt, sans-IO: the request keepalived 2.2.7 sends (`http_request_thread`) and
//! the checks on the answer (`http_process_response`, `http_handle_response`, `check_regex`, lib/html.c).
//!
//! The shell reads into [`Response::spare`] and reports what it read with [`Response::commit`]; at end of
//! stream (or when `spare` is empty: 2.2.7 reads into a full buffer, gets 0 and takes it as the end)
//! [`Response::finish`] gives the verdict. Memory is one fixed buffer of 4096 bytes
//! (`MAX_BUFFER_LENGTH`) whatever the server sends.
//!
//! As 2.2.7: the header must fit in the first 4095 bytes; the body is read until the server closes
//! (neither `Content-Length` nor chunked framing ends the read); the digest is the MD5 of the raw bytes
//! after the header (chunk framing included) cut at `Content-Length` when there is one; the status line
//! must be `VERSION SP 3DIGITS SP …`; `Content-Length:` is searched case-sensitively in the first
//! buffer read (header and first body bytes, up to a NUL byte); the regex subject is the whole answer,
//! header included, and its offsets count from the answer's first byte.
//!
//! # Regex across reads (2.2.7: PCRE2 partial matching)
//! 2.2.7 matches each read with `PCRE2_PARTIAL_HARD` and keeps the bytes from the start of a partial
//! match for the next read. The `regex` crate has no partial matching: reads accumulate in the buffer,
//! the regex runs when it is full (and at the end of the stream), and when a full buffer does not
//! match its last [`REGEX_KEEP`] bytes are kept in front of the next reads, so a match spanning reads
//! is found when it is at most that long (2.2.7: up to 4095 bytes). Other differences from PCRE2: no
//! look-around or back-references (such a pattern fails to compile: the URL then fails), `$` matches
//! only at the very end (PCRE2 also before a final newline), and of `regex_options` only `caseless`,
//! `multiline`, `dotall`, `extended`, `ungreedy` and `utf` change anything.
use md5::{Digest, Md5};
pub use regex::bytes::Regex;
use regex::bytes::RegexBuilder;
use std::net::SocketAddr;

/// keepalived's `MAX_BUFFER_LENGTH`; one byte stays free for its terminating NUL.
pub const BUFFER_LEN: usize = 4096;
/// Bytes kept from an unmatched buffer for a regex match spanning reads.
pub const REGEX_KEEP: usize = 2048;

/// `http_protocol`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Protocol {
    /// `http_protocol 1.0` (the default): `GET … HTTP/1.0` without a `Connection` header.
    V1_0,
    /// 1.0 with `Connection: close`.
    V1_0C,
    /// `http_protocol 1.1`: `GET … HTTP/1.1` with `Connection: close`, so the server still ends the
    /// answer by closing (2.2.7 does not parse chunked or `Content-Length` framing to stop reading).
    V1_1,
}

/// 2.2.7's GET request for `path`. `vhost`: the first set of the URL's, the checker's, the real
/// server's and the virtual server's `virtualhost`; without one the `Host:` is the connect address
/// (`[ ]` around IPv6) and port.
pub fn request(path: &str, proto: Protocol, vhost: Option<&str>, dst: SocketAddr) -> String {
    let minor = if proto == Protocol::V1_1 { 1 } else { 0 };
    let close = if proto == Protocol::V1_0 { "" } else { "Connection: close\r\n" };
    let host = match (vhost, dst) {
        (Some(v), _) => v.to_string(),
        (None, SocketAddr::V4(a)) => format!("{}:{}", a.ip(), a.port()),
        (None, SocketAddr::V6(a)) => format!("[{}]:{}", a.ip(), a.port()),
    };
    let mut r = format!("GET {path} HTTP/1.{minor}\r\nUser-Agent: KeepAliveClient\r\n{close}Host: {host}\r\n\r\n");
    // 2.2.7 builds it in a 2048-byte buffer (`GET_BUFFER_LENGTH`): a longer request is cut.
    let mut end = r.len().min(GET_BUFFER_LENGTH - 1);
    while !r.is_char_boundary(end) {
        end -= 1;
    }
    r.truncate(end);
    r
}

/// keepalived's `GET_BUFFER_LENGTH`.
const GET_BUFFER_LENGTH: usize = 2048;

/// A URL's tests.
#[derive(Clone, Debug, Default)]
pub struct UrlTests {
    /// `digest`: the expected MD5 of the body (bytes after the header, cut at `Content-Length`);
    /// `None`: the body is not checked.
    pub digest: Option<[u8; 16]>,
    /// Inclusive ranges; empty means 200-299.
    pub status_codes: Vec<(u16, u16)>,
    /// `regex`: a pattern searched in the whole answer, header included; `None`: no regex test.
    pub regex: Option<Regex>,
    /// `regex_no_match`: the URL passes when the regex does *not* match (inverts the test).
    pub regex_no_match: bool,
    /// `regex_min_offset`: the first position in the answer where a match may start (0: the start).
    pub regex_min_offset: u64,
    /// One past the last position allowed (0: none), as keepalived stores it.
    pub regex_max_offset: u64,
}

/// The regex of `regex`/`regex_options` (keepalived compiles it with PCRE2); the error text on failure.
pub fn compile_regex(pattern: &str, options: &[String]) -> Result<Regex, String> {
    let mut b = RegexBuilder::new(pattern);
    let has = |n: &str| options.iter().any(|o| o == n);
    b.unicode(has("utf") || has("ucp"))
        .case_insensitive(has("caseless"))
        .multi_line(has("multiline"))
        .dot_matches_new_line(has("dotall"))
        .ignore_whitespace(has("extended"))
        .swap_greed(has("ungreedy"))
        .size_limit(1 << 22);
    b.build().map_err(|e| e.to_string())
}

impl UrlTests {
    fn status_ok(&self, code: u16) -> bool {
        if self.status_codes.is_empty() {
            return (200..=299).contains(&code);
        }
        self.status_codes.iter().any(|(lo, hi)| (*lo..=*hi).contains(&code))
    }
}

/// What [`Response::commit`] shows its tracer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Part {
    /// The status line and header fields, up to and including the blank line (`\r\n\r\n`).
    Header,
    /// Body bytes read with the end of the header.
    FirstBody,
    /// Body bytes of a later read, cut at `Content-Length` when there is one.
    Body,
}

/// The verdict on one answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Passed; the text for keepalived's `%s success to … url(…)` line.
    Pass {
        /// The test that decided (`HTTP status code`, `MD5 digest` or `Regex match`: the last one
        /// configured for the URL).
        what: &'static str,
    },
    /// Failed; keepalived's `timeout_epilog` message (the log line is `MSG server RS.`).
    Fail {
        /// Which test failed: no header received, status code, MD5 digest or regex.
        msg: &'static str,
    },
}

/// One answer being read.
pub struct Response {
    buf: Box<[u8; BUFFER_LEN]>,
    len: usize,
    header_done: bool,
    status: u16,
    content_len: Option<u64>,
    rx_bytes: u64,
    md5: Md5,
    want_digest: bool,
    regex_matched: bool,
    /// Offset in the answer of `buf[0]` (regex only).
    subject_offset: u64,
    /// Bytes read since the regex last ran (it runs when the buffer is full and at the end).
    unscanned: bool,
}

/// 2.2.7's `extract_html`: the end of the header's blank line.
fn header_end(b: &[u8]) -> Option<usize> {
    b.windows(4).position(|w| w == b"\r\n\r\n").map(|p| p + 4)
}

/// 2.2.7's `extract_status_code`: `VERSION SP DDD SP`, else 0.
fn status_code(b: &[u8]) -> u16 {
    let Some(sp) = b.iter().position(|c| *c == b' ' || *c == b'\r') else { return 0 };
    if b[sp] != b' ' || b.len() <= sp + 4 || b[sp + 4] != b' ' {
        return 0;
    }
    let d = &b[sp + 1..sp + 4];
    if !d.iter().all(u8::is_ascii_digit) {
        return 0;
    }
    d.iter().fold(0u16, |n, c| n * 10 + u16::from(c - b'0'))
}

/// 2.2.7's `extract_content_length`: `Content-Length:` anywhere before a NUL, `strtoul` then `\r`,
/// `\n` or the end.
fn content_length(b: &[u8]) -> Option<u64> {
    const TAG: &[u8] = b"Content-Length:";
    let b = &b[..b.iter().position(|c| *c == 0).unwrap_or(b.len())];
    let at = b.windows(TAG.len()).position(|w| w == TAG)? + TAG.len();
    let rest = &b[at..];
    let ws = rest.iter().take_while(|c| matches!(c, b' ' | b'\t' | b'\x0b' | b'\x0c' | b'\r' | b'\n')).count();
    let rest = &rest[ws..];
    let rest = rest.strip_prefix(b"+").unwrap_or(rest);
    let digits = rest.iter().take_while(|c| c.is_ascii_digit()).count();
    let n = rest[..digits].iter().try_fold(0u64, |n, c| n.checked_mul(10)?.checked_add(u64::from(c - b'0')));
    match rest.get(digits) {
        None | Some(b'\r' | b'\n') => Some(n.unwrap_or(u64::MAX)),
        _ => None,
    }
}

impl Response {
    /// A new answer; `want_digest`: the URL has a `digest` (or genhash).
    pub fn new(want_digest: bool) -> Response {
        Response {
            buf: Box::new([0; BUFFER_LEN]),
            len: 0,
            header_done: false,
            status: 0,
            content_len: None,
            rx_bytes: 0,
            md5: Md5::new(),
            want_digest,
            regex_matched: false,
            subject_offset: 0,
            unscanned: false,
        }
    }

    /// Where the next read goes (empty: the header does not fit; treat as the end of the stream).
    pub fn spare(&mut self) -> &mut [u8] {
        &mut self.buf[self.len..BUFFER_LEN - 1]
    }

    /// The header has been read.
    pub fn has_header(&self) -> bool {
        self.header_done
    }

    /// `Content-Length`, and the body bytes received.
    pub fn lengths(&self) -> (Option<u64>, u64) {
        (self.content_len, self.rx_bytes)
    }

    /// `n` bytes were read into [`Response::spare`]. `trace` sees the header when it completes and the
    /// body bytes that go into the digest (genhash's verbose dumps).
    pub fn commit(&mut self, n: usize, url: &UrlTests, trace: &mut dyn FnMut(Part, &[u8])) {
        let n = n.min(BUFFER_LEN - 1 - self.len);
        let start = self.len;
        self.len += n;
        if !self.header_done {
            // Only the new bytes (and the 3 before them) can complete the blank line.
            let from = start.saturating_sub(3);
            let Some(end) = header_end(&self.buf[from..self.len]).map(|e| e + from) else { return };
            self.header_done = true;
            self.status = status_code(&self.buf[..self.len]);
            self.content_len = content_length(&self.buf[..self.len]);
            trace(Part::Header, &self.buf[..end]);
            self.digest(end, self.len, Part::FirstBody, trace);
            self.rx_bytes = (self.len - end) as u64;
            self.after_read(url, self.len > end);
            return;
        }
        self.digest(start, self.len, Part::Body, trace);
        self.rx_bytes += n as u64;
        self.after_read(url, true);
    }

    /// Digest `buf[from..to]`, cut at `Content-Length`.
    fn digest(&mut self, from: usize, to: usize, kind: Part, trace: &mut dyn FnMut(Part, &[u8])) {
        if !self.want_digest {
            return;
        }
        let mut take = (to - from) as u64;
        if let Some(cl) = self.content_len {
            take = take.min(cl.saturating_sub(self.rx_bytes));
        }
        let part = &self.buf[from..from + take as usize];
        self.md5.update(part);
        if !part.is_empty() {
            trace(kind, part);
        }
    }

    /// The regex on what was read, once the buffer is full; the buffer emptied (but for a regex's
    /// kept tail). Searching at every read made a server sending one byte at a time cost a search of
    /// [`REGEX_KEEP`] bytes per byte; searching a full buffer costs each byte about two searches, and
    /// every window the per-read search saw lies inside a full one (the kept tail comes first), so
    /// no match is lost.
    fn after_read(&mut self, url: &UrlTests, any: bool) {
        let keep = match (&url.regex, any) {
            (Some(_), true) if self.len < BUFFER_LEN - 1 => {
                self.unscanned = true;
                return;
            }
            (Some(re), true) => self.check_regex(re, url),
            _ => 0,
        };
        self.unscanned = false;
        let len = self.len;
        self.buf.copy_within(len - keep..len, 0);
        self.subject_offset += (len - keep) as u64;
        self.len = keep;
    }

    /// keepalived's `check_regex` on `buf[..len]`; returns how many bytes to keep.
    fn check_regex(&mut self, re: &Regex, url: &UrlTests) -> usize {
        if self.regex_matched {
            return 0;
        }
        let end = self.subject_offset + self.len as u64;
        if url.regex_max_offset != 0 && self.subject_offset >= url.regex_max_offset {
            return 0;
        }
        if end <= url.regex_min_offset {
            return 0;
        }
        let from = url.regex_min_offset.saturating_sub(self.subject_offset) as usize;
        match re.find_at(&self.buf[..self.len], from) {
            Some(m) => {
                let at = self.subject_offset + m.start() as u64;
                self.regex_matched = url.regex_max_offset == 0 || at < url.regex_max_offset;
                0
            }
            None => self.len.min(REGEX_KEEP),
        }
    }

    /// The stream ended: the verdict (2.2.7's `http_handle_response`) and the body's MD5.
    pub fn finish(&mut self, url: &UrlTests) -> (Verdict, [u8; 16]) {
        if let (Some(re), true) = (&url.regex, self.unscanned) {
            self.unscanned = false;
            self.check_regex(re, url);
        }
        let digest: [u8; 16] = std::mem::take(&mut self.md5).finalize().into();
        (self.verdict(url, &digest), digest)
    }

    fn verdict(&self, url: &UrlTests, digest: &[u8; 16]) -> Verdict {
        if !self.header_done {
            return Verdict::Fail { msg: "Read, no data received from " };
        }
        if !url.status_ok(self.status) {
            return Verdict::Fail { msg: "HTTP status code error to" };
        }
        let mut what = "HTTP status code";
        if let Some(d) = &url.digest {
            if d != digest {
                return Verdict::Fail { msg: "MD5 digest error to" };
            }
            what = "MD5 digest";
        }
        if url.regex.is_some() {
            if self.regex_matched == url.regex_no_match {
                return Verdict::Fail { msg: "Regex match failed" };
            }
            what = "Regex match";
        }
        Verdict::Pass { what }
    }
}

#[cfg(test)]
#[path = "http_response_tests.rs"]
mod tests;
