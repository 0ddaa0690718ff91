//! SSL_GET and HTTP_GET in the running daemon's checker child, on this host (no IPVS: the test hook
//! `KEEPALIVED_RS_TEST_WITHOUT_IPVS` lets the child run), against nginx in a fresh network namespace:
//! the root `SSL { }` client certificate, keepalived 2.2.7's success and failure lines, and a bad key
//! file stopping the daemon as 2.2.7 does. (The IPVS side of HTTP_GET is compared with 2.2.7 in the
//! IPVS guest: `ipvs_parity` scenario `http_get`.)

use keepalived_testkit::in_netns;
use keepalived_testkit::netns::lo_up;
use keepalived_testkit::servers::{nginx as nginx_with, scratch, self_signed, Server};
use std::path::Path;
use std::process::Command;

const OURS: &str = env!("CARGO_BIN_EXE_keepalived");

fn nginx(dir: &Path) -> Server {
    self_signed(dir, "srv");
    let d = dir.display();
    let servers = format!(
        "server {{ listen 127.0.0.2:443 ssl; ssl_certificate {d}/c.pem; ssl_certificate_key {d}/k.pem;\n\
           ssl_verify_client optional_no_ca;\n\
           location = /ok {{ return 200 \"ok\\n\"; }} location = /bad {{ return 500; }}\n\
           location = /client {{ if ($ssl_client_verify = NONE) {{ return 403; }} return 200 \"client\\n\"; }} }}\n\
         server {{ listen 127.0.0.3:80; location / {{ return 200 \"plain\\n\"; }} }}"
    );
    nginx_with(dir, &servers, &["127.0.0.2:443", "127.0.0.3:80"])
}

fn config(d: &Path, key: &str) -> String {
    let d = d.display();
    format!(
        "global_defs {{ router_id t }}\n\
         SSL {{\n certificate {d}/c.pem\n key {d}/{key}\n}}\n\
         virtual_server 10.0.0.1 443 {{\n delay_loop 1\n lb_kind NAT\n protocol TCP\n\
           real_server 127.0.0.2 443 {{\n  SSL_GET {{\n   url {{\n    path /ok\n    digest {}\n   }}\n\
             url {{\n    path /client\n   }}\n   connect_timeout 2\n   alpha\n  }}\n }}\n\
           real_server 127.0.0.2 8443 {{\n  SSL_GET {{\n   url {{\n    path /bad\n   }}\n   connect_port 443\n\
             connect_timeout 2\n   retry 0\n   log_all_failures\n  }}\n }}\n\
           real_server 127.0.0.3 80 {{\n  HTTP_GET {{\n   url {{\n    path /\n    regex \"pla+in\"\n   }}\n   alpha\n  }}\n }}\n}}\n",
        "eff5bc1ef8ec9d03e640fc4370f5eacd"
    )
}

/// Run the daemon `secs` seconds; its log.
fn daemon(d: &Path, conf: &str, secs: u32) -> String {
    std::fs::write(d.join("ka.conf"), conf).unwrap();
    let p = |f: &str| d.join(f).display().to_string();
    let out = Command::new("timeout")
        .args([
            &secs.to_string(),
            OURS,
            "-n",
            "-l",
            "-D",
            "-C",
            "-f",
            &p("ka.conf"),
            "-p",
            &p("ka.pid"),
            "-c",
            &p("c.pid"),
        ])
        .env("KEEPALIVED_RS_TEST_WITHOUT_IPVS", "1")
        .output()
        .unwrap();
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

#[test]
fn ssl_and_http_in_the_checker_child() {
    in_netns("ssl_and_http_in_the_checker_child", &["nginx", "openssl"], || {
        lo_up();
        let d = scratch("http-daemon");
        let _ng = nginx(&d);
        let log = daemon(&d, &config(&d, "k.pem"), 5);
        for line in [
            "MD5 digest success to [127.0.0.2]:tcp:443 url(/ok)",
            "HTTP status code success to [127.0.0.2]:tcp:443 url(/client)",
            "Regex match success to [127.0.0.3]:tcp:80 url(/)",
            "HTTP status code error to server [127.0.0.2]:tcp:8443.",
            "HTTP_CHECK on service [127.0.0.2]:tcp:8443 failed.",
        ] {
            assert!(log.contains(line), "no `{line}` in:\n{log}");
        }
        assert!(!log.contains("not supported by this build"), "{log}");
        let log = daemon(&d, &config(&d, "missing.pem"), 5);
        for line in ["SSL error : Cant load key file...", "Error Initialize SSL, ctx Instance", "Terminate..."] {
            assert!(log.contains(line), "no `{line}` in:\n{log}");
        }
    });
}
