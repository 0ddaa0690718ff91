use super::*;

fn md5_of(b: &[u8]) -> [u8; 16] {
    Md5::digest(b).into()
}

/// Feed `data` in reads split at `cuts`, then finish.
fn run(data: &[u8], cuts: &[usize], url: &UrlTests) -> (Verdict, [u8; 16]) {
    let mut r = Response::new(url.digest.is_some());
    let mut pos = 0;
    for &end in cuts.iter().chain(std::iter::once(&data.len())) {
        let mut chunk = &data[pos..end.max(pos)];
        while !chunk.is_empty() {
            let sp = r.spare();
            if sp.is_empty() {
                return r.finish(url);
            }
            let n = sp.len().min(chunk.len());
            sp[..n].copy_from_slice(&chunk[..n]);
            r.commit(n, url, &mut |_, _| {});
            chunk = &chunk[n..];
        }
        pos = end.max(pos);
    }
    r.finish(url)
}

/// The verdict is the same whatever the split in two or three reads.
fn all_splits(data: &[u8], url: &UrlTests) -> Verdict {
    let whole = run(data, &[], url);
    for i in 0..=data.len() {
        assert_eq!(run(data, &[i], url), whole, "split at {i}");
        let j = (i + 7).min(data.len());
        assert_eq!(run(data, &[i, j], url), whole, "split at {i},{j}");
    }
    whole.0
}

const OK: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nServer: x\r\n\r\nhello";

#[test]
fn request_forms() {
    let v4: SocketAddr = "10.0.0.1:80".parse().unwrap();
    let v6: SocketAddr = "[fd00::1]:8080".parse().unwrap();
    assert_eq!(
        request("/", Protocol::V1_0, None, v4),
        "GET / HTTP/1.0\r\nUser-Agent: KeepAliveClient\r\nHost: 10.0.0.1:80\r\n\r\n"
    );
    assert_eq!(
        request("/x", Protocol::V1_0C, None, v6),
        "GET /x HTTP/1.0\r\nUser-Agent: KeepAliveClient\r\nConnection: close\r\nHost: [fd00::1]:8080\r\n\r\n"
    );
    assert_eq!(
        request("/y", Protocol::V1_1, Some("www.example.com"), v6),
        "GET /y HTTP/1.1\r\nUser-Agent: KeepAliveClient\r\nConnection: close\r\nHost: www.example.com\r\n\r\n"
    );
}

#[test]
fn long_requests_are_cut_as_2_2_7() {
    let v4: SocketAddr = "10.0.0.1:80".parse().unwrap();
    let path = format!("/{}", "a".repeat(3000));
    assert_eq!(request(&path, Protocol::V1_0, None, v4).len(), 2047);
}

#[test]
fn status_and_digest() {
    let mut url = UrlTests::default();
    assert_eq!(all_splits(OK, &url), Verdict::Pass { what: "HTTP status code" });
    url.digest = Some(md5_of(b"hello"));
    assert_eq!(all_splits(OK, &url), Verdict::Pass { what: "MD5 digest" });
    // Bytes past Content-Length are not digested.
    let extra = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhelloEXTRA";
    assert_eq!(all_splits(extra, &url), Verdict::Pass { what: "MD5 digest" });
    url.digest = Some(md5_of(b"hellx"));
    assert_eq!(all_splits(OK, &url), Verdict::Fail { msg: "MD5 digest error to" });
}

#[test]
fn status_codes() {
    let mut url = UrlTests::default();
    let nf = b"HTTP/1.0 404 Not Found\r\n\r\nnope";
    assert_eq!(all_splits(nf, &url), Verdict::Fail { msg: "HTTP status code error to" });
    url.status_codes = vec![(404, 404)];
    assert_eq!(all_splits(nf, &url), Verdict::Pass { what: "HTTP status code" });
    assert_eq!(all_splits(OK, &url), Verdict::Fail { msg: "HTTP status code error to" });
    // No reason phrase: 2.2.7 reads code 0.
    assert_eq!(
        all_splits(b"HTTP/1.0 200\r\n\r\n", &UrlTests::default()),
        Verdict::Fail { msg: "HTTP status code error to" }
    );
}

#[test]
fn chunked_is_digested_raw() {
    let data = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n";
    let url = UrlTests { digest: Some(md5_of(b"5\r\nhello\r\n0\r\n\r\n")), ..Default::default() };
    assert_eq!(all_splits(data, &url), Verdict::Pass { what: "MD5 digest" });
}

#[test]
fn no_header() {
    let url = UrlTests::default();
    assert_eq!(all_splits(b"", &url), Verdict::Fail { msg: "Read, no data received from " });
    assert_eq!(all_splits(b"HTTP/1.0 200 OK\r\n", &url), Verdict::Fail { msg: "Read, no data received from " });
    // A header that does not fit in the buffer: 2.2.7 reads 0 bytes and gives up.
    let mut big = b"HTTP/1.0 200 OK\r\nX: ".to_vec();
    big.resize(10_000, b'a');
    big.extend_from_slice(b"\r\n\r\n");
    assert_eq!(run(&big, &[], &url).0, Verdict::Fail { msg: "Read, no data received from " });
}

#[test]
fn content_length_forms() {
    assert_eq!(content_length(b"Content-Length: 12\r\n"), Some(12));
    assert_eq!(content_length(b"Content-Length:12"), Some(12));
    assert_eq!(content_length(b"content-length: 12\r\n"), None);
    assert_eq!(content_length(b"Content-Length: 12x\r\n"), None);
    assert_eq!(status_code(b"HTTP/1.1 301 Moved"), 301);
    assert_eq!(status_code(b"HTTP/1.1 30x Moved"), 0);
}

fn re_url(p: &str, no_match: bool) -> UrlTests {
    UrlTests { regex: Some(compile_regex(p, &[]).unwrap()), regex_no_match: no_match, ..Default::default() }
}

#[test]
fn regex_across_reads() {
    let mut body = b"HTTP/1.1 200 OK\r\n\r\n".to_vec();
    body.extend(std::iter::repeat_n(b'x', 4500));
    body.extend_from_slice(b"status: healthy!");
    body.extend(std::iter::repeat_n(b'y', 300));
    assert_eq!(all_splits(&body, &re_url("status: (healthy|ok)", false)), Verdict::Pass { what: "Regex match" });
    assert_eq!(all_splits(&body, &re_url("status: sick", false)), Verdict::Fail { msg: "Regex match failed" });
    assert_eq!(all_splits(&body, &re_url("status: sick", true)), Verdict::Pass { what: "Regex match" });
    assert_eq!(all_splits(&body, &re_url("healthy", true)), Verdict::Fail { msg: "Regex match failed" });
}

#[test]
fn regex_offsets_count_from_the_answer() {
    let data = b"HTTP/1.1 200 OK\r\n\r\nabcMARKdef";
    let at = data.windows(4).position(|w| w == b"MARK").unwrap() as u64;
    let mut url = re_url("MARK", false);
    url.regex_min_offset = at;
    assert_eq!(all_splits(data, &url), Verdict::Pass { what: "Regex match" });
    url.regex_min_offset = at + 1;
    assert_eq!(all_splits(data, &url), Verdict::Fail { msg: "Regex match failed" });
    url.regex_min_offset = 0;
    url.regex_max_offset = at + 1;
    assert_eq!(all_splits(data, &url), Verdict::Pass { what: "Regex match" });
    url.regex_max_offset = at;
    assert_eq!(all_splits(data, &url), Verdict::Fail { msg: "Regex match failed" });
}

#[test]
fn oversized_body_is_bounded() {
    let url = UrlTests { digest: Some([0; 16]), regex: re_url("never-there", false).regex, ..Default::default() };
    let mut r = Response::new(true);
    let head = b"HTTP/1.1 200 OK\r\n\r\n";
    r.spare()[..head.len()].copy_from_slice(head);
    r.commit(head.len(), &url, &mut |_, _| {});
    for _ in 0..100_000 {
        let sp = r.spare();
        assert!(sp.len() >= BUFFER_LEN - 1 - REGEX_KEEP);
        let n = sp.len();
        sp.fill(b'z');
        r.commit(n, &url, &mut |_, _| {});
    }
    assert_eq!(r.finish(&url).0, Verdict::Fail { msg: "MD5 digest error to" });
}
