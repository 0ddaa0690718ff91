//! Fuzz target bodies, shared by the cargo-fuzz targets (`fuzz/`) and the corpus replay test
//! (`tests/fuzz_corpus.rs`) so the two cannot drift. Not part of the API: what a real server
//! sends is arbitrary bytes, read in arbitrary pieces.

use crate::http_response::{compile_regex, Response, UrlTests};
use crate::{dns, ping, smtp, udp};
use keepalived_config::lvs::model::UdpCheck;
use regex::bytes::Regex;
use std::sync::OnceLock;

/// `ctrl` bits 0–3 choose the URL's tests (digest, regex, inverted regex, regex offsets and status
/// ranges). Built once: a regex keeps its search cache across answers, as the checker's do.
fn url_tests(ctrl: u8) -> &'static UrlTests {
    static URLS: OnceLock<Vec<UrlTests>> = OnceLock::new();
    let urls = URLS.get_or_init(|| {
        let re = compile_regex("HTTP/1\\.[01] 200|health[y]?", &["caseless".into()]).expect("a valid regex");
        (0..16u8).map(|c| url(c, &re)).collect()
    });
    &urls[usize::from(ctrl & 15)]
}

fn url(ctrl: u8, re: &Regex) -> UrlTests {
    let mut u = UrlTests::default();
    if ctrl & 1 != 0 {
        u.digest = Some(*b"0123456789abcdef");
    }
    if ctrl & 2 != 0 {
        u.regex = Some(re.clone());
        u.regex_no_match = ctrl & 4 != 0;
    }
    if ctrl & 8 != 0 {
        u.regex_min_offset = 10;
        u.regex_max_offset = 3000;
        u.status_codes = vec![(200, 204), (301, 302)];
    }
    u
}

/// An HTTP answer: `[ctrl, chunk, stream…]`, the stream read `chunk + 1` bytes at a time into
/// [`Response`] as HTTP_GET reads it, then judged.
pub fn http(data: &[u8]) {
    let [ctrl, chunk, stream @ ..] = data else { return };
    let url = url_tests(*ctrl);
    let mut r = Response::new(url.digest.is_some());
    let mut rest = stream;
    let mut traced = 0usize;
    while !rest.is_empty() {
        let spare = r.spare();
        if spare.is_empty() {
            break;
        }
        let n = spare.len().min(usize::from(*chunk) + 1).min(rest.len());
        spare[..n].copy_from_slice(&rest[..n]);
        r.commit(n, url, &mut |_, b| traced += b.len());
        rest = &rest[n..];
    }
    let fed = (stream.len() - rest.len()) as u64;
    assert!(r.lengths().1 <= fed, "more body bytes counted than read");
    assert!(traced as u64 <= fed, "more bytes traced than read");
    let _ = r.finish(url);
}

/// An SMTP server's replies: `[chunk, stream…]`, read as SMTP_CHECK reads them.
pub fn smtp(data: &[u8]) {
    let [chunk, stream @ ..] = data else { return };
    let mut d = smtp::Dialog::new("smtpchecker.keepalived.org", "[192.0.2.25]:25");
    let mut rest = stream;
    while !rest.is_empty() {
        let (room, _) = d.read_room();
        assert!(room < smtp::BUFF_MAX, "SMTP read room {room}");
        let n = room.min(usize::from(*chunk) + 1).min(rest.len());
        let step = d.on_data(&rest[..n]);
        rest = &rest[n..];
        if let smtp::Step::Done(_) = step {
            break;
        }
    }
    let _ = (d.read_failure(), d.read_timeout());
}

/// A datagram as the answer of DNS_CHECK (id from its first two bytes, so that it matches),
/// PING_CHECK (v4 and v6) and UDP_CHECK (reply data and mask from the datagram's tail).
pub fn replies(data: &[u8]) {
    let id = data.get(..2).map_or(0, |b| u16::from_be_bytes([b[0], b[1]]));
    let _ = (dns::judge(id, data), dns::judge(id ^ 1, data));
    let seq = data.get(6..8).map_or(0, |b| u16::from_be_bytes([b[0], b[1]]));
    let _ = (ping::judge(false, seq, data), ping::judge(true, seq, data), ping::judge(true, !seq, data));
    let c = UdpCheck {
        payload: None,
        require_reply: true,
        reply_data: Some(data.iter().rev().take(30).copied().collect()),
        reply_mask: Some(data.iter().take(20).copied().collect()),
        min_reply_length: data.first().copied().map_or(0, u16::from),
        max_reply_length: 255,
    };
    let reply = &data[..data.len().min(udp::read_len(&c))];
    let _ = udp::reply_ok(&c, reply);
}
