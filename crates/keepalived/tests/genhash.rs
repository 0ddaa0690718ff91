//! genhash against keepalived 2.2.7's (`/usr/bin/genhash`, Debian's keepalived package) on the same
//! nginx, in a fresh network namespace: the same standard output, error output and exit status for
//! digests (plain, HTTP/1.1, virtual host, TLS with and without SNI), failures and bad options.
//! Verbose output is compared but for the response time and the split of the dumps into reads.

use keepalived_testkit::in_netns;
use keepalived_testkit::netns::lo_up;
use keepalived_testkit::servers::{nginx as nginx_with, scratch, self_signed, Server};
use std::path::Path;
use std::process::Command;

const OURS: &str = env!("CARGO_BIN_EXE_keepalived");
const THEIRS: &str = "/usr/bin/genhash";

fn nginx(dir: &Path) -> Server {
    self_signed(dir, "a.test");
    let big: Vec<u8> = (0..3_000_000u32).map(|i| (i % 253) as u8).collect();
    std::fs::write(dir.join("big"), big).unwrap();
    let d = dir.display();
    let servers = format!(
        "server {{ listen 127.0.0.1:80 default_server; listen [::1]:80 default_server; location / {{ return 200 \"main $uri\\n\"; }}\n\
           location = /echo {{ return 200 \"$request|$http_host|$http_user_agent|$http_connection|$ssl_server_name\\n\"; }}\n\
           location = /big {{ alias {d}/big; }} location = /404 {{ return 404; }} }}\n\
         server {{ listen 127.0.0.1:80; server_name v.test; location / {{ return 200 \"vhost $server_protocol\\n\"; }} }}\n\
         server {{ listen 127.0.0.1:443 ssl; ssl_certificate {d}/c.pem; ssl_certificate_key {d}/k.pem;\n\
           location / {{ return 200 \"sni=$ssl_server_name\\n\"; }}\n\
           location = /echo {{ return 200 \"$request|$http_host|$http_user_agent|$http_connection|$ssl_server_name\\n\"; }} }}"
    );
    nginx_with(dir, &servers, &["127.0.0.1:80", "127.0.0.1:443"])
}

/// stdout, stderr (program name as `genhash`), exit status.
fn genhash(bin: &Path, args: &[&str]) -> (String, String, i32) {
    let out = Command::new(bin).args(args).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr).replace(&bin.display().to_string(), "genhash");
    (String::from_utf8_lossy(&out.stdout).into_owned(), err, out.status.code().unwrap_or(-1))
}

/// The verbose output without the response time and with the dumps' headers of reads removed.
fn steady(s: &str) -> String {
    s.lines()
        .filter(|l| !l.starts_with("Global response time") && !l.contains("HTML Buffer"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Waits until the wall clock is early in a second, so that two quick runs see the same `Date`.
fn start_of_a_second() {
    loop {
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
        if now.subsec_millis() < 300 {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(u64::from(1000 - now.subsec_millis())));
    }
}

#[test]
fn same_as_2_2_7() {
    in_netns("same_as_2_2_7", &["nginx", "openssl", THEIRS], || {
        lo_up();
        let d = scratch("genhash");
        let _ng = nginx(&d);
        let ours = d.join("genhash");
        std::os::unix::fs::symlink(OURS, &ours).unwrap();
        let cases: &[&[&str]] = &[
            &["-s", "127.0.0.1", "-p", "80", "-u", "/index.html"],
            // The request line and headers, echoed: the same digest means the same request.
            &["-s", "127.0.0.1", "-p", "80", "-u", "/echo"],
            &["-s", "::1", "-p", "80", "-u", "/echo"],
            &["-s", "::1", "-p", "80", "-u", "/echo", "-V", "v6.test", "-P", "1.1"],
            &["-s", "127.0.0.1", "-p", "80", "-u", "/echo?a=b", "-P", "1.0c"],
            &["-S", "-I", "-V", "sni.test", "-s", "127.0.0.1", "-p", "443", "-u", "/echo"],
            &["-s", "127.0.0.1", "-p", "80", "-u", "/big"],
            &["-s", "127.0.0.1", "-p", "80", "-u", "/404"],
            &["-s", "127.0.0.1", "-p", "80", "-u", "/", "-V", "v.test", "-P", "1.1"],
            &["--server", "127.0.0.1", "--port=80", "--url", "/", "--use-virtualhost=v.test", "--protocol", "1.0c"],
            &["-S", "-s", "127.0.0.1", "-p", "443", "-u", "/"],
            &["-S", "-I", "-V", "b.test", "-s", "127.0.0.1", "-p", "443", "-u", "/"],
            &["-s", "127.0.0.1", "-p", "81", "-u", "/"],
            &["-s", "127.0.0.1", "-p", "80", "-u", "/", "-t", "2", "-m", "3"],
            &["-s", "127.0.0.1", "-p", "80"],
            &["-s", "host", "-p", "80", "-u", "/"],
            &["-s", "127.0.0.1", "-p", "99999", "-u", "/"],
            &["-s", "127.0.0.1", "-p", "80", "-u", "/", "-P", "2"],
            &["-s", "127.0.0.1", "-p", "80", "-u", "/", "-x", "extra"],
            &["-s", "127.0.0.1", "-p", "80", "-u"],
            &["-h"],
            &[],
        ];
        let mut outs = Vec::new();
        for args in cases {
            let theirs = genhash(Path::new(THEIRS), args);
            assert_eq!(genhash(&ours, args), theirs, "genhash {args:?}");
            outs.push(theirs.0);
        }
        // The echoes differ (the request is in the digest).
        assert!(outs[1] != outs[2] && outs[2] != outs[3] && outs[1].len() == 33, "{outs:?}");
        for args in [
            &["-v", "-s", "127.0.0.1", "-p", "80", "-u", "/x"][..],
            &["-v", "-S", "-s", "127.0.0.1", "-p", "443", "-u", "/"],
        ] {
            // `-v` dumps the headers, nginx's `Date` among them: run both within one second.
            start_of_a_second();
            let (o1, e1, s1) = genhash(Path::new(THEIRS), args);
            let (o2, e2, s2) = genhash(&ours, args);
            assert_eq!((steady(&o2), e2, s2), (steady(&o1), e1, s1), "genhash {args:?}");
        }
    });
}
