//! The status socket, end to end (`keepalived --status`): the real binary
//! in its own network namespace (unshare -n) and temporary directory; the
//! socket lies next to the pid file. Needs root; fails otherwise.

use keepalived_testkit::daemon::Unshared;
use keepalived_testkit::require;
use keepalived_testkit::wait_for;
use serde_json::Value;
use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_keepalived");

/// eth0 and eth1 up (the test takes eth1 down and up again).
const SETUP: &str = "ip link set lo up; ip link add eth0 type veth peer name peth0; ip link set eth0 up; \
    ip link set peth0 up; ip addr add 10.0.0.1/24 dev eth0; ip link add eth1 type veth peer name peth1; \
    ip link set peth1 up; ip link set eth1 up";

/// Two instances that elect themselves (no other router); VI_2 tracks eth1.
const TWO_INSTANCES: &str = "global_defs {\n status_socket_group 4242\n}\n\
vrrp_instance VI_1 {\n interface eth0\n virtual_router_id 51\n priority 100\n advert_int 1\n \
virtual_ipaddress {\n  10.0.0.100/24\n }\n}\n\
vrrp_instance VI_2 {\n interface eth0\n virtual_router_id 52\n priority 90\n advert_int 1\n \
track_interface {\n  eth1\n }\n virtual_ipaddress {\n  10.0.0.101/24\n }\n}\n";

const LVS: &str =
    "virtual_server 10.0.0.100 80 {\n protocol TCP\n lb_algo rr\n lb_kind NAT\n real_server 10.0.0.2 80 {\n }\n}\n";

/// keepalived-rs under `unshare -n` with eth0 and eth1, and its status socket.
struct Daemon(Unshared);

impl std::ops::Deref for Daemon {
    type Target = Unshared;
    fn deref(&self) -> &Unshared {
        &self.0
    }
}

impl Daemon {
    fn start(tag: &str, config: &str) -> Daemon {
        // A stopped child must stay stopped while the test looks.
        let env = [("KEEPALIVED_RS_WATCHDOG_TIMEOUT_MS", "60000")];
        let d = Daemon(Unshared::start(BIN, &format!("status-{tag}"), SETUP, config, &["-D"], &env));
        assert!(wait_for(Duration::from_secs(5), || d.socket().exists()), "no status socket; log:\n{}", d.log());
        d
    }

    fn socket(&self) -> PathBuf {
        self.path("keepalived.sock")
    }

    /// `keepalived --status` with `extra` options, as `prefix` (e.g. setpriv).
    fn client(&self, prefix: &[&str], extra: &[&str]) -> Output {
        let sock = format!("--status-socket={}", self.socket().display());
        let mut c = match prefix.split_first() {
            Some((p, rest)) => {
                let mut c = Command::new(p);
                c.args(rest).arg(BIN);
                c
            }
            None => Command::new(BIN),
        };
        c.arg("--status").arg(sock).args(extra).output().expect("run keepalived --status")
    }

    fn status(&self) -> Value {
        let out = self.client(&[], &["--json"]);
        assert!(
            out.status.success(),
            "--status failed: {}\nlog:\n{}",
            String::from_utf8_lossy(&out.stderr),
            self.log()
        );
        serde_json::from_slice(&out.stdout).expect("a JSON document")
    }
}

fn instance<'a>(doc: &'a Value, name: &str) -> &'a Value {
    let list = doc["children"]["vrrp"]["status"]["instances"].as_array().expect("instances");
    list.iter().find(|i| i["name"] == name).unwrap_or_else(|| panic!("no {name} in {doc}"))
}

fn state(doc: &Value, name: &str) -> String {
    instance(doc, name)["state"].as_str().unwrap_or("").to_string()
}

fn now_us() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_micros() as u64
}

#[test]
fn reports_instances_after_election_and_after_a_transition() {
    require(&["unshare"]);
    let d = Daemon::start("states", TWO_INSTANCES);
    let both_master = || {
        let doc = d.status();
        state(&doc, "VI_1") == "MASTER" && state(&doc, "VI_2") == "MASTER"
    };
    assert!(wait_for(Duration::from_secs(8), both_master), "no election; log:\n{}", d.log());
    let doc = d.status();
    let v1 = instance(&doc, "VI_1");
    assert_eq!(v1["priority"]["effective"], 100);
    assert_eq!(v1["priority"]["base"], 100);
    assert_eq!(v1["vips"][0], "10.0.0.100/24");
    assert_eq!(v1["last_transition"]["from"], "BACKUP");
    assert_eq!(v1["last_transition"]["reason"], "no advert from the master (master down timer expired)");
    let v2 = instance(&doc, "VI_2");
    assert_eq!(v2["priority"]["base"], 90);
    assert_eq!(v2["tracked"][0]["name"], "eth1");
    assert_eq!(v2["tracked"][0]["state"], "up");

    // eth1 goes down: VI_2 to FAULT, with the time and the reason.
    let before = now_us();
    d.sh("ip link set eth1 down");
    assert!(wait_for(Duration::from_secs(3), || state(&d.status(), "VI_2") == "FAULT"), "log:\n{}", d.log());
    let doc = d.status();
    let t = &instance(&doc, "VI_2")["last_transition"];
    assert_eq!((t["from"].as_str(), t["to"].as_str()), (Some("MASTER"), Some("FAULT")), "{doc}");
    assert_eq!(t["reason"], "interface eth1 down");
    let at = t["time_us"].as_u64().unwrap();
    assert!(at >= before && at <= now_us(), "transition time {at} not in [{before}, now]");
    assert_eq!(instance(&doc, "VI_2")["tracked"][0]["state"], "down");
    assert_eq!(state(&doc, "VI_1"), "MASTER");

    // Back up: FAULT -> BACKUP for the interface, then its own election.
    d.sh("ip link set eth1 up");
    assert!(wait_for(Duration::from_secs(3), || state(&d.status(), "VI_2") != "FAULT"), "log:\n{}", d.log());
    let doc = d.status();
    let t = &instance(&doc, "VI_2")["last_transition"];
    assert_eq!((t["from"].as_str(), t["to"].as_str()), (Some("FAULT"), Some("BACKUP")), "{doc}");
    assert_eq!(t["reason"], "interface eth1 up");
    assert!(wait_for(Duration::from_secs(8), || state(&d.status(), "VI_2") == "MASTER"), "log:\n{}", d.log());

    // The table names both instances.
    let out = d.client(&[], &[]);
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success() && table.contains("VI_1") && table.contains("VI_2"), "{table}");
    assert!(table.contains("BACKUP -> MASTER: no advert from the master"), "{table}");
}

#[test]
fn only_root_and_the_configured_group_may_read() {
    require(&["unshare"]);
    require(&["setpriv"]);
    let d = Daemon::start("perm", TWO_INSTANCES);
    let nobody = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"];
    let out = d.client(&nobody, &["--json"]);
    assert!(!out.status.success(), "nobody was served: {}", String::from_utf8_lossy(&out.stdout));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("permission denied"), "{err}");
    assert!(d.log().contains("Status socket: rejected a client with uid 65534: permission denied"), "{}", d.log());

    let member = ["setpriv", "--reuid=65534", "--regid=65534", "--groups=4242"];
    let out = d.client(&member, &["--json"]);
    assert!(out.status.success(), "a member of the group was refused: {}", String::from_utf8_lossy(&out.stderr));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(doc["children"]["vrrp"]["answered"].as_bool().unwrap());
    let primary = ["setpriv", "--reuid=65534", "--regid=4242", "--clear-groups"];
    assert!(d.client(&primary, &["--json"]).status.success());
}

#[test]
fn a_stopped_child_does_not_block_the_parent() {
    require(&["unshare"]);
    let d = Daemon::start("stopped", &format!("{TWO_INSTANCES}{LVS}"));
    assert!(wait_for(Duration::from_secs(5), || d.pid_of("checkers.pid").is_some()), "log:\n{}", d.log());
    assert!(wait_for(Duration::from_secs(8), || state(&d.status(), "VI_1") == "MASTER"), "log:\n{}", d.log());
    let doc = d.status();
    assert_eq!(doc["children"]["checker"]["answered"], true, "{doc}");
    let vs = &doc["children"]["checker"]["status"]["virtual_servers"][0];
    assert_eq!(vs["name"], "[10.0.0.100]:tcp:80", "{doc}");
    assert_eq!(vs["real_servers"][0]["name"], "[10.0.0.2]:tcp:80", "{doc}");

    let checker = d.pid_of("checkers.pid").unwrap();
    let _ = Command::new("kill").args(["-STOP", &checker.to_string()]).status();
    let sent = |doc: &Value| instance(doc, "VI_1")["stats"]["advert_sent"].as_u64().unwrap_or(0);
    let t0 = Instant::now();
    // Two requests at once: both are served while the checker is silent.
    let (a, b) = std::thread::scope(|s| {
        let a = s.spawn(|| d.status());
        let b = s.spawn(|| d.status());
        (a.join().unwrap(), b.join().unwrap())
    });
    let took = t0.elapsed();
    assert!(took < Duration::from_millis(2500), "the answers took {took:?}");
    for doc in [&a, &b] {
        let c = &doc["children"]["checker"];
        assert_eq!(c["answered"], false, "{doc}");
        assert_eq!(c["error"], "the Healthcheck child did not answer within 1000 ms");
        assert_eq!(doc["children"]["vrrp"]["answered"], true);
    }
    std::thread::sleep(Duration::from_millis(2200));
    let later = d.status();
    assert!(sent(&later) >= sent(&a) + 2, "adverts stopped: {} then {}", sent(&a), sent(&later));
    let _ = Command::new("kill").args(["-CONT", &checker.to_string()]).status();
    let doc = d.status();
    assert_eq!(doc["children"]["checker"]["answered"], true, "{doc}");
}

fn raw_request(sock: &Path, bytes: &[u8]) -> String {
    let mut s = UnixStream::connect(sock).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
    let _ = s.write_all(bytes);
    let mut answer = String::new();
    let _ = s.read_to_string(&mut answer);
    answer
}

#[test]
fn bad_requests_are_rejected_counted_and_logged_once() {
    require(&["unshare"]);
    let d = Daemon::start("bad", TWO_INSTANCES);
    let a = raw_request(&d.socket(), b"reload\n");
    assert!(a.contains("unknown request"), "{a}");
    let a = raw_request(&d.socket(), &[b'x'; 10_000]);
    assert!(a.contains("request too long"), "{a}");
    let a = raw_request(&d.socket(), b"\xff\xfe\x00garbage\n");
    assert!(a.contains("unknown request"), "{a}");
    // A client that hangs up at once, and one that sends half a line.
    drop(UnixStream::connect(d.socket()).unwrap());
    raw_request(&d.socket(), b"sta");
    let doc = d.status();
    assert_eq!(doc["children"]["vrrp"]["answered"], true);
    let log = d.log();
    let lines: Vec<&str> = log.lines().filter(|l| l.contains("Status socket: rejected")).collect();
    assert_eq!(lines.len(), 1, "rate limit: {lines:?}");
    assert!(lines[0].contains("unknown request") && lines[0].contains("(1 rejected since the last report, 1 in all)"));
    assert!(!log.contains("panicked"), "{log}");
}

/// A BFD session to a neighbour that never answers: the BFD child reports it
/// Down, never heard, at the idle (1 s) transmit rate, and the table shows it.
#[test]
fn reports_bfd_sessions() {
    require(&["unshare"]);
    let conf = format!("{TWO_INSTANCES}bfd_instance nbr1 {{\n neighbor_ip 10.0.0.2\n source_ip 10.0.0.1\n}}\n");
    let d = Daemon::start("bfd", &conf);
    let bfd_session = || d.status()["children"]["bfd"]["status"]["sessions"][0].clone();
    assert!(wait_for(Duration::from_secs(5), || bfd_session()["name"] == "nbr1"), "log:\n{}", d.log());
    let s = bfd_session();
    assert_eq!(s["neighbor"], "10.0.0.2");
    assert_eq!(s["state"], "Down");
    assert!(s["last_seen_ago_us"].is_null(), "{s}");
    assert_eq!(s["tx_interval_us"], 1_000_000, "{s}");
    let out = d.client(&[], &[]);
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(table.contains("BFD sessions (1)") && table.contains("nbr1") && table.contains("never"), "{table}");
}
