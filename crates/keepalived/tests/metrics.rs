//! The Prometheus metrics endpoint, end to end (`--metrics`): the real
//! binary in its own network namespace (unshare -n), listening on
//! 127.0.0.1 there; checked by `promtool check metrics` and scraped by a
//! real Prometheus server started in the same namespace (Debian's
//! `prometheus` package). Needs root, promtool and prometheus; fails
//! otherwise (tests/run.sh installs them).

use keepalived_testkit::daemon::Unshared;
use keepalived_testkit::pcap::read_pcap;
use keepalived_testkit::require;
use keepalived_testkit::wait_for;
use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_keepalived");
const PORT: u16 = 9650;

const SETUP: &str = "ip link set lo up; ip link add eth0 type veth peer name peth0; ip link set eth0 up; \
    ip link set peth0 up; ip addr add 10.0.0.1/24 dev eth0";

/// Two instances that elect themselves (no other router); the metrics
/// address comes from global_defs here (the command line in the other test).
const TWO_INSTANCES: &str = "global_defs {\n metrics_listen 127.0.0.1:9650\n}\n\
vrrp_script chk_true {\n script /bin/true\n interval 1\n}\n\
vrrp_instance VI_1 {\n interface eth0\n virtual_router_id 51\n priority 100\n advert_int 1\n \
virtual_ipaddress {\n  10.0.0.100/24\n  10.0.0.102/24\n }\n}\n\
vrrp_instance VI_2 {\n interface eth0\n virtual_router_id 52\n priority 90\n advert_int 1\n \
track_script {\n  chk_true\n }\n virtual_ipaddress {\n  10.0.0.101/24\n }\n \
virtual_ipaddress_excluded {\n  192.168.77.1/32 dev lo\n }\n}\n";

/// keepalived-rs under `unshare -n` with eth0, and its metrics endpoint.
struct Daemon {
    ka: Unshared,
    /// The metrics endpoint's Unix socket, when it listens on one.
    unix: Option<PathBuf>,
}

impl std::ops::Deref for Daemon {
    type Target = Unshared;
    fn deref(&self) -> &Unshared {
        &self.ka
    }
}

impl Daemon {
    fn start(tag: &str, config: &str, extra: &[&str]) -> Daemon {
        let flags: Vec<&str> = ["-D"].iter().chain(extra).copied().collect();
        let ka = Unshared::start(BIN, &format!("metrics-{tag}"), SETUP, config, &flags, &[]);
        let unix = extra.iter().find_map(|a| a.strip_prefix("--metrics=unix:"));
        let unix = unix.map(|p| PathBuf::from(p.replace("$DIR", &ka.dir.to_string_lossy())));
        let d = Daemon { ka, unix };
        let up = wait_for(Duration::from_secs(10), || {
            d.get("/metrics").is_some_and(|r| r.contains("MASTER") || r.contains(" 200 "))
        });
        assert!(up, "no metrics endpoint; log:\n{}", d.log());
        d
    }

    /// Send `bytes` to `port` in the namespace; the whole answer (until the
    /// server closes or 5 s pass).
    fn raw(&self, port: u16, bytes: Vec<u8>) -> Option<String> {
        self.within(move || {
            let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
            s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
            s.write_all(&bytes).ok()?;
            let mut out = Vec::new();
            let _ = s.read_to_end(&mut out);
            Some(String::from_utf8_lossy(&out).into_owned())
        })
    }

    fn get(&self, path: &str) -> Option<String> {
        let req = format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").into_bytes();
        let Some(sock) = &self.unix else { return self.raw(PORT, req) };
        let mut s = std::os::unix::net::UnixStream::connect(sock).ok()?;
        s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
        s.write_all(&req).ok()?;
        let mut out = Vec::new();
        let _ = s.read_to_end(&mut out);
        Some(String::from_utf8_lossy(&out).into_owned())
    }

    /// The body of a good scrape (classic text format).
    fn scrape(&self) -> String {
        let r = self.get("/metrics").unwrap_or_default();
        assert!(r.starts_with("HTTP/1.1 200 OK\r\n"), "scrape failed: {r}\nlog:\n{}", self.log());
        assert!(r.contains("Content-Type: text/plain; version=0.0.4"), "{r}");
        r.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or_default()
    }

    fn sighup(&self) {
        self.signal("HUP");
    }
}

/// The series (name and labels) of a classic text exposition.
fn series(body: &str) -> BTreeSet<String> {
    body.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .filter_map(|l| l.rsplit_once(' ').map(|(s, _)| s.to_string()))
        .collect()
}

/// The value of one series, by its exact name and labels.
fn value(body: &str, series: &str) -> Option<f64> {
    body.lines().find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

const VI1_VIP: &str = r#"keepalived_vrrp_state{iname="VI_1",intf="eth0",vrid="51",ip_address="10.0.0.100/24"}"#;
const VI1_SENT: &str = r#"keepalived_advertisements_sent_total{iname="VI_1",intf="eth0",vrid="51"}"#;

fn wait_both_master(d: &Daemon) -> String {
    let mut body = String::new();
    let ok = wait_for(Duration::from_secs(15), || {
        body = d.scrape();
        body.lines().filter(|l| l.starts_with("keepalived_rs_vrrp_instance_state{") && l.ends_with(" 2")).count() == 2
    });
    assert!(ok, "both instances MASTER:\n{body}\nlog:\n{}", d.log());
    body
}

fn promtool_accepts(body: &str) {
    keepalived_testkit::prereq::require_tools(&["promtool"]);
    let mut p = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("promtool");
    p.stdin.take().unwrap().write_all(body.as_bytes()).unwrap();
    let out = p.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "promtool check metrics: {}{}\n{body}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn exporter_series_promtool_prometheus_and_stable_labels_across_reload() {
    require(&["unshare"]);
    let d = Daemon::start("scrape", TWO_INSTANCES, &[]);
    let body = wait_both_master(&d);
    assert_eq!(value(&body, "keepalived_up"), Some(1.0), "{body}");
    assert_eq!(value(&body, VI1_VIP), Some(2.0), "{body}");
    let vip2 = r#"keepalived_vrrp_state{iname="VI_1",intf="eth0",vrid="51",ip_address="10.0.0.102/24"}"#;
    assert_eq!(value(&body, vip2), Some(2.0), "{body}");
    assert!(value(&body, VI1_SENT).is_some_and(|v| v >= 1.0), "{body}");
    let excluded = r#"keepalived_vrrp_excluded_state{iname="VI_2",intf="lo",vrid="52",ip_address="192.168.77.1"}"#;
    assert_eq!(value(&body, excluded), Some(2.0), "{body}");
    for name in
        ["keepalived_become_master_total", "keepalived_authentication_failure_total", "keepalived_ip_ttl_errors_total"]
    {
        assert!(body.contains(&format!("{name}{{iname=\"VI_2\",intf=\"eth0\",vrid=\"52\"}}")), "{name}:\n{body}");
    }
    assert!(value(&body, r#"keepalived_rs_child_restarts_total{child="vrrp"}"#) == Some(0.0), "{body}");
    assert_eq!(value(&body, r#"keepalived_script_status{name="chk_true"}"#), Some(1.0), "{body}");
    assert!(value(&body, r#"keepalived_script_state{name="chk_true"}"#).is_some(), "{body}");
    assert!(value(
        &body,
        r#"keepalived_rs_vrrp_last_transition_timestamp_seconds{iname="VI_1",intf="eth0",vrid="51"}"#
    )
    .is_some_and(|t| t > 1.6e9));
    promtool_accepts(&body);
    prometheus_scrapes(&d);
    // A reload of the same configuration keeps every series.
    let before = series(&body);
    d.sighup();
    let mut after = String::new();
    let reloaded = wait_for(Duration::from_secs(15), || {
        after = d.scrape();
        value(&after, "keepalived_rs_reloads_total") == Some(1.0)
    });
    assert!(reloaded, "no reload counted:\n{after}\nlog:\n{}", d.log());
    let after = wait_both_master(&d);
    assert_eq!(before, series(&after), "label sets changed across the reload");
    assert!(value(&after, "keepalived_rs_last_reload_timestamp_seconds").is_some_and(|t| t > 1.6e9));
}

/// A real Prometheus server, in the daemon's namespace, scraping every
/// second; its HTTP API must return the exporter's series with MASTER (2).
fn prometheus_scrapes(d: &Daemon) {
    keepalived_testkit::prereq::require_tools(&["prometheus"]);
    let cfg = d.dir.join("prometheus.yml");
    let job = format!(
        "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\nscrape_configs:\n  - job_name: keepalived\n    static_configs:\n      - targets: ['127.0.0.1:{PORT}']\n"
    );
    std::fs::write(&cfg, job).unwrap();
    let log = std::fs::File::create(d.dir.join("prometheus.log")).unwrap();
    let mut prom = Command::new("nsenter")
        .args(["-t", &d.pid().to_string(), "-n", "prometheus"])
        .arg(format!("--config.file={}", cfg.display()))
        .arg(format!("--storage.tsdb.path={}", d.dir.join("tsdb").display()))
        .arg("--web.listen-address=127.0.0.1:9090")
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("start prometheus");
    let query = |q: &str| {
        let req = format!("GET /api/v1/query?query={q} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        d.raw(9090, req.into_bytes()).unwrap_or_default()
    };
    let mut answer = String::new();
    let found = wait_for(Duration::from_secs(40), || {
        answer = query("keepalived_vrrp_state");
        answer.contains(r#""iname":"VI_1""#) && answer.contains(r#""ip_address":"10.0.0.100/24""#)
    });
    // Counters keep the exporter's `_total` names in Prometheus too (it
    // reads our OpenMetrics answer).
    let sent = query("keepalived_advertisements_sent_total");
    let plog = std::fs::read_to_string(d.dir.join("prometheus.log")).unwrap_or_default();
    let up = query("up");
    let _ = prom.kill();
    let _ = prom.wait();
    assert!(found, "prometheus has no keepalived_vrrp_state series: {answer}\nup: {up}\nprometheus log:\n{plog}");
    assert!(answer.contains(r#""value":["#) && answer.contains(r#","2"]"#), "MASTER (2) expected: {answer}");
    assert!(answer.contains(r#""intf":"eth0""#) && answer.contains(r#""vrid":"51""#), "{answer}");
    assert!(up.contains(r#","1"]"#), "the target is up: {up}");
    assert!(sent.contains(r#""iname":"VI_2""#), "keepalived_advertisements_sent_total in prometheus: {sent}");
}

#[test]
fn hostile_clients_neither_crash_nor_block_adverts() {
    require(&["unshare"]);
    let d = Daemon::start(
        "hostile",
        TWO_INSTANCES.replace(" metrics_listen 127.0.0.1:9650\n", "").as_str(),
        &["--metrics=127.0.0.1:9650"],
    );
    wait_both_master(&d);
    // Slow clients that never finish their request hold connections.
    let slow: Vec<TcpStream> = d.within(|| {
        (0..8)
            .filter_map(|_| {
                let mut s = TcpStream::connect(("127.0.0.1", PORT)).ok()?;
                s.write_all(b"GET /metrics HTTP/1.1\r\nX-Slow: ").ok()?;
                Some(s)
            })
            .collect()
    });
    assert_eq!(slow.len(), 8);
    let garbage = d.raw(PORT, b"\x00\xff\xfe not http at all\r\n\r\n".to_vec()).unwrap_or_default();
    assert!(garbage.starts_with("HTTP/1.1 400 "), "{garbage}");
    let mut huge = b"GET /metrics HTTP/1.1\r\n".to_vec();
    huge.extend(std::iter::repeat_n(b'a', 20_000));
    let huge = d.raw(PORT, huge).unwrap_or_default();
    assert!(huge.starts_with("HTTP/1.1 431 "), "{huge}");
    assert!(d.get("/").unwrap_or_default().starts_with("HTTP/1.1 404 "));
    let post = d.raw(PORT, b"POST /metrics HTTP/1.1\r\n\r\n".to_vec()).unwrap_or_default();
    assert!(post.starts_with("HTTP/1.1 405 "), "{post}");
    // Good scrapes go on, quickly, while the slow ones wait; adverts go on.
    let t0 = Instant::now();
    let first = d.scrape();
    assert!(t0.elapsed() < Duration::from_secs(2), "a scrape took {:?}", t0.elapsed());
    let sent0 = value(&first, VI1_SENT).expect("advert counter");
    std::thread::sleep(Duration::from_millis(3500));
    let sent1 = value(&d.scrape(), VI1_SENT).expect("advert counter");
    assert!(sent1 - sent0 >= 3.0, "adverts stalled: {sent0} -> {sent1}");
    // The slow clients are answered 408 and closed after the read timeout.
    let answers: Vec<String> = d.within(move || {
        slow.into_iter()
            .map(|mut s| {
                let _ = s.set_read_timeout(Some(Duration::from_secs(8)));
                let mut out = Vec::new();
                let _ = s.read_to_end(&mut out);
                String::from_utf8_lossy(&out).into_owned()
            })
            .collect()
    });
    assert!(answers.iter().all(|a| a.starts_with("HTTP/1.1 408 ")), "{answers:?}");
    let log = d.log();
    assert!(log.contains("Metrics: rejected a client"), "the rejections are logged:\n{log}");
    assert!(log.matches("Metrics: rejected a client").count() <= 2, "rate-limited:\n{log}");
    assert!(d.scrape().contains("keepalived_up 1"));
}

/// Scraping at 10 Hz does not make adverts late: the gaps between VI_1's
/// adverts, captured by tcpdump on the peer end of the link, stay at the
/// advert interval (1 s) within 150 ms.
#[test]
fn scraping_at_10_hz_does_not_delay_adverts() {
    require(&["unshare", "tcpdump"]);
    let d = Daemon::start("lateness", TWO_INSTANCES, &[]);
    wait_both_master(&d);
    let pcap = d.dir.join("adverts.pcap");
    let mut cap = Command::new("nsenter")
        .args(["-t", &d.pid().to_string(), "-n", "tcpdump", "-U", "-n", "-i", "peth0", "-w"])
        .arg(&pcap)
        .arg("ip proto 112")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("tcpdump");
    std::thread::sleep(Duration::from_millis(500));
    let t0 = Instant::now();
    let mut scrapes = 0;
    while t0.elapsed() < Duration::from_secs(6) {
        let next = Instant::now() + Duration::from_millis(100);
        d.scrape();
        scrapes += 1;
        std::thread::sleep(next.saturating_duration_since(Instant::now()));
    }
    let _ = Command::new("kill").args(["-INT", &cap.id().to_string()]).status();
    let _ = cap.wait();
    let times: Vec<u64> = read_pcap(&pcap)
        .into_iter()
        .filter(|f| f.data.len() > 34 && f.data[12..14] == [0x08, 0x00])
        .filter(|f| {
            let ihl = usize::from(f.data[14] & 0x0f) * 4;
            f.data.get(14 + ihl + 1) == Some(&51)
        })
        .map(|f| f.t_us)
        .collect();
    assert!(scrapes >= 50, "only {scrapes} scrapes in 6 s");
    assert!(times.len() >= 5, "{} adverts of VI_1 captured", times.len());
    let worst = times.windows(2).map(|w| w[1] - w[0]).max().unwrap_or(0);
    eprintln!("{scrapes} scrapes, {} adverts, longest gap {worst} us", times.len());
    assert!(worst <= 1_150_000, "an advert was {} ms late", (worst - 1_000_000) / 1000);
}

/// `--metrics=unix:PATH` (over `metrics_listen`): the same answer on a
/// Unix socket, which goes when the daemon stops.
#[test]
fn serves_on_a_unix_socket_given_on_the_command_line() {
    require(&["unshare"]);
    let mut d = Daemon::start("unix", TWO_INSTANCES, &["--metrics=unix:$DIR/metrics.sock"]);
    let body = wait_both_master(&d);
    assert_eq!(value(&body, VI1_VIP), Some(2.0), "{body}");
    assert!(d.raw(PORT, b"GET /metrics HTTP/1.1\r\n\r\n".to_vec()).is_none(), "the option overrides metrics_listen");
    promtool_accepts(&body);
    let sock = d.unix.clone().unwrap();
    if let Some(mut c) = d.ka.take_child() {
        let _ = Command::new("kill").args(["-TERM", &c.id().to_string()]).status();
        let _ = c.wait();
    }
    assert!(!sock.exists(), "the socket file is removed at stop");
}

/// The samples of family `name` (`name{labels} value` lines).
fn samples<'a>(body: &'a str, name: &str) -> Vec<&'a str> {
    body.lines().filter(|l| l.starts_with(&format!("{name}{{"))).collect()
}

/// The checker child's virtual and real servers (run without IPVS by the test hook) and the BFD
/// child's session appear as `keepalived_rs_*` series, and `keepalived_up` counts all three children.
#[test]
fn virtual_server_and_bfd_series() {
    require(&["unshare"]);
    let conf = format!(
        "{TWO_INSTANCES}bfd_instance nbr1 {{\n neighbor_ip 10.0.0.2\n source_ip 10.0.0.1\n}}\n\
         virtual_server 10.0.0.200 80 {{\n lb_algo rr\n lb_kind NAT\n protocol TCP\n \
         real_server 10.0.0.7 80 {{\n  weight 3\n }}\n}}\n"
    );
    let d = Daemon::start("vsbfd", &conf, &[]);
    let mut body = String::new();
    let ready = wait_for(Duration::from_secs(15), || {
        body = d.scrape();
        !samples(&body, "keepalived_rs_bfd_packets_total").is_empty()
            && samples(&body, "keepalived_rs_real_server_up").iter().any(|l| l.ends_with(" 1"))
            && body.lines().any(|l| {
                l.starts_with("keepalived_rs_bfd_packets_total{") && l.contains("\"tx\"") && !l.ends_with(" 0")
            })
    });
    assert!(ready, "series missing:\n{body}\nlog:\n{}", d.log());
    let state = samples(&body, "keepalived_rs_bfd_session_state");
    assert!(
        state.iter().any(|l| l.contains("name=\"nbr1\"") && l.contains("neighbor=\"10.0.0.2\"") && l.ends_with(" 1")),
        "a Down session (1): {state:?}"
    );
    let weight = samples(&body, "keepalived_rs_real_server_weight");
    assert!(weight.iter().any(|l| l.contains("10.0.0.7") && l.ends_with(" 3")), "{weight:?}");
    assert!(samples(&body, "keepalived_rs_virtual_server_up").iter().any(|l| l.ends_with(" 1")), "{body}");
    assert_eq!(value(&body, "keepalived_up"), Some(1.0), "{body}");
    promtool_accepts(&body);
}
