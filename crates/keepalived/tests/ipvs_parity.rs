//! IPVS parity: the checker child of keepalived-rs against keepalived 2.2.7,
//! scenario by scenario, in a kernel that has IPVS.
//!
//! This host's kernel has no IPVS, so [`ipvs_parity_in_guest`] boots the
//! IPVS guest once (`keepalived_testkit::vm`) and re-runs this binary there;
//! in the guest [`ipvs_parity`] runs every scenario of
//! `tests/ipvs_parity/scenarios/*.scn` under keepalived 2.2.7 and under
//! keepalived-rs and compares what the two did, step by step.
//!
//! A run happens in two fresh network namespaces of its own (so runs go in
//! parallel and leave nothing behind): the *director* (the daemon, IPVS,
//! `ipvsadm`) and the *servers* (every `real_server`/`sorry_server` address
//! of the scenario on its `lo`, and the TCP listeners the steps open),
//! joined by a veth pair and default routes. Real servers are thus not local
//! to the director (IPVS would show them as `Local`) and a check of a closed
//! port fails at once (RST).
//!
//! Scenario file (`NAME.scn`): `#` comments, then sections opened by `%%`
//! lines:
//! - `%% title TEXT`, `%% settle STABLE MAX` (seconds; default 3 30: a
//!   step is over when the observed state stayed the same STABLE seconds,
//!   or after MAX), `%% show timeout|daemon|tun-info|thresholds|...`
//!   (more views in the snapshots: `ipvsadm -L --timeout`/`--daemon`,
//!   else `ipvsadm -Ln --WORD`), `%% ordered` (compare notify/FIFO lines in
//!   arrival order; default: notify lines sorted within a step, FIFO
//!   lines as [`canonical_fifo`] orders them: concurrent checkers race);
//! - `%% conf [NAME]`: a keepalived.conf (default name `main`, started by
//!   `start`; others are used by `reload NAME`) with placeholders `{DIR}`
//!   (the run's directory), `{GLOBAL}` (lines for global_defs: script_user,
//!   script security, the notify FIFO), `{NOTIFY}` (a script appending its
//!   arguments to the notify log), `{MISC}` (a MISC_CHECK script: exits with
//!   the number in `{DIR}/misc.ARG1`, else `{DIR}/misc.default`, else 1);
//! - `%% steps`, one per line: `rs ADDR..` (more server-side addresses),
//!   `listener up|down ADDR:PORT..` (`[v6]:port`), `misc_exit N [NAME]`,
//!   `file_write NAME VALUE` (`{DIR}/NAME`), `start`, `settle`, `wait SECS`,
//!   `reload NAME` (config swapped, SIGHUP), `stop` (SIGTERM; exit status
//!   and what is left in IPVS recorded), `ipvsadm ARGS..` (in the
//!   director: services keepalived did not make), `vip add|del ADDR` (an
//!   address on the director's `lo`, for ha_suspend). Steps before `start`
//!   only prepare. After every later step (but `wait`, which just sleeps)
//!   the runner waits for the state to settle (IPVS, notify log, FIFO and
//!   the daemon's log size unchanged for STABLE s; `start` first waits for
//!   the checker's pid file), then snapshots: normalised `ipvsadm -Ln`
//!   (sorted, counters dropped), the notify script calls (`ARGC [arg]..`)
//!   and the notify FIFO lines seen since the previous snapshot.
//!
//! The daemons run as `BIN -n -l -D -C -f CONF -p/-c/-r PIDFILES` (only
//! the checker child), both in the same guest, at the same time.
//!
//! keepalived 2.2.7's snapshots are committed in `golden/NAME.txt`; every
//! run of 2.2.7 must reproduce them (else the scenario is flaky or the
//! environment changed). Environment (passed into the guest):
//! - `IPVS_PARITY_ONLY=a,b`: only these scenarios;
//! - `IPVS_PARITY_REFERENCE_ONLY=1`: run keepalived 2.2.7 alone (against
//!   its goldens);
//! - `IPVS_PARITY_BLESS=1`: (re)write the goldens from this 2.2.7 run;
//! - `IPVS_PARITY_JOBS=N`: runs in parallel (default 6).
//!
//! Daemon logs and the rendered snapshots of the last run are kept in
//! `target/<profile>/ipvs_parity-logs/` (the repository is shared with the
//! guest).
//!
//! [`keepalived_2_2_7_without_ipvs`] runs on the host (no guest): there is
//! no IPVS here, and the checker child must fail the way 2.2.7's does.

use keepalived_testkit::vm;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs;
use std::net::{IpAddr, SocketAddr};
use std::os::fd::OwnedFd;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

/// Environment variables of this suite, passed into the guest.
const KNOBS: &[&str] = &["IPVS_PARITY_ONLY", "IPVS_PARITY_REFERENCE_ONLY", "IPVS_PARITY_BLESS", "IPVS_PARITY_JOBS"];

/// Host side: boot the IPVS guest and run this binary there.
#[test]
fn ipvs_parity_in_guest() {
    // openssl: the SSL_GET scenario's server (`s_server -WWW`).
    vm::run_suite_env(&["keepalived", "openssl"], &[], 900, KNOBS);
}

fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/ipvs_parity")
}

/// keepalived 2.2.7: copied into the guest by IPVS_VM_TOOLS (to
/// /usr/local/bin), else the host's.
fn reference_bin() -> PathBuf {
    ["/usr/local/bin/keepalived", "/usr/sbin/keepalived"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.is_file())
        .expect("keepalived 2.2.7 (IPVS_VM_TOOLS=keepalived)")
}

fn ours_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_keepalived"))
}

fn logs_dir() -> PathBuf {
    // target/<profile>/deps/ipvs_parity-HASH -> target/<profile>/ipvs_parity-logs
    let exe = std::env::current_exe().unwrap();
    exe.parent().and_then(Path::parent).unwrap().join("ipvs_parity-logs")
}

fn env_flag(name: &str) -> bool {
    std::env::var(name).is_ok_and(|v| !v.is_empty() && v != "0")
}

// ---------------------------------------------------------------- scenarios

#[derive(Clone, Debug)]
enum Step {
    Rs(Vec<IpAddr>),
    Listener(bool, Vec<SocketAddr>),
    /// `busybox httpd` on ADDR:PORT serving `{DIR}/NAME`, in the servers' namespace.
    Httpd(SocketAddr, String),
    /// `openssl s_server -WWW` (TLS, the certificate of `tls/`) on ADDR:PORT serving `{DIR}/NAME`.
    TlsHttpd(SocketAddr, String),
    FileRm(String),
    MiscExit(String, i32),
    FileWrite(String, String),
    Start,
    Settle,
    Wait(f64),
    Reload(String),
    Stop,
    Ipvsadm(Vec<String>),
    Vip(bool, IpAddr),
}

#[derive(Clone, Debug)]
struct Scenario {
    name: String,
    title: String,
    confs: BTreeMap<String, String>,
    steps: Vec<(String, Step)>,
    settle: (f64, f64),
    show: Vec<String>,
    ordered: bool,
}

fn parse_sockaddr(s: &str) -> Result<SocketAddr, String> {
    s.parse::<SocketAddr>().map_err(|e| format!("bad ADDR:PORT {s:?}: {e}"))
}

fn parse_step(line: &str) -> Result<Step, String> {
    let w: Vec<&str> = line.split_whitespace().collect();
    let arg = |i: usize| w.get(i).copied().ok_or_else(|| format!("{line:?}: missing argument"));
    Ok(match w[0] {
        "rs" => Step::Rs(w[1..].iter().map(|a| a.parse().map_err(|e| format!("{a}: {e}"))).collect::<Result<_, _>>()?),
        "listener" => {
            let up = match arg(1)? {
                "up" => true,
                "down" => false,
                x => return Err(format!("listener up|down, not {x}")),
            };
            Step::Listener(up, w[2..].iter().map(|a| parse_sockaddr(a)).collect::<Result<_, _>>()?)
        }
        "misc_exit" => Step::MiscExit(
            w.get(2).unwrap_or(&"default").to_string(),
            arg(1)?.parse().map_err(|e| format!("{line:?}: {e}"))?,
        ),
        "file_write" => Step::FileWrite(arg(1)?.to_string(), w[2..].join(" ")),
        "file_rm" => Step::FileRm(arg(1)?.to_string()),
        "httpd" => Step::Httpd(parse_sockaddr(arg(1)?)?, arg(2)?.to_string()),
        "tls_httpd" => Step::TlsHttpd(parse_sockaddr(arg(1)?)?, arg(2)?.to_string()),
        "start" => Step::Start,
        "settle" => Step::Settle,
        "wait" => Step::Wait(arg(1)?.parse().map_err(|e| format!("{line:?}: {e}"))?),
        "reload" => Step::Reload(arg(1)?.to_string()),
        "stop" => Step::Stop,
        "ipvsadm" => Step::Ipvsadm(w[1..].iter().map(|s| s.to_string()).collect()),
        "vip" => Step::Vip(
            match arg(1)? {
                "add" => true,
                "del" => false,
                x => return Err(format!("vip add|del, not {x}")),
            },
            arg(2)?.parse().map_err(|e| format!("{line:?}: {e}"))?,
        ),
        x => return Err(format!("unknown step {x:?}")),
    })
}

fn parse_scenario(name: &str, text: &str) -> Result<Scenario, String> {
    let mut sc = Scenario {
        name: name.to_string(),
        title: String::new(),
        confs: BTreeMap::new(),
        steps: Vec::new(),
        settle: (3.0, 30.0),
        show: Vec::new(),
        ordered: false,
    };
    enum Sec {
        Head,
        Conf(String),
        Steps,
    }
    let mut sec = Sec::Head;
    for (n, line) in text.lines().enumerate() {
        let err = |e: String| format!("{name}.scn line {}: {e}", n + 1);
        if let Some(d) = line.strip_prefix("%%") {
            let w: Vec<&str> = d.split_whitespace().collect();
            match w.first().copied() {
                Some("title") => sc.title = w[1..].join(" "),
                Some("settle") => {
                    let f = |i: usize| {
                        w.get(i).and_then(|v| v.parse::<f64>().ok()).ok_or_else(|| err("settle STABLE MAX".into()))
                    };
                    sc.settle = (f(1)?, f(2)?);
                }
                Some("show") => sc.show.extend(w[1..].iter().map(|s| s.to_string())),
                Some("ordered") => sc.ordered = true,
                Some("conf") => {
                    let cname = w.get(1).unwrap_or(&"main").to_string();
                    sc.confs.insert(cname.clone(), String::new());
                    sec = Sec::Conf(cname);
                }
                Some("steps") => sec = Sec::Steps,
                _ => return Err(err(format!("unknown directive {line:?}"))),
            }
            continue;
        }
        match &sec {
            Sec::Head => {}
            Sec::Conf(c) => {
                let s = sc.confs.get_mut(c).unwrap();
                s.push_str(line);
                s.push('\n');
            }
            Sec::Steps => {
                let l = line.split('#').next().unwrap().trim();
                if !l.is_empty() {
                    sc.steps.push((l.to_string(), parse_step(l).map_err(err)?));
                }
            }
        }
    }
    if !sc.confs.contains_key("main") {
        return Err(format!("{name}: no `%% conf`"));
    }
    for (l, s) in &sc.steps {
        if let Step::Reload(c) = s {
            if !sc.confs.contains_key(c) {
                return Err(format!("{name}: `{l}`: no `%% conf {c}`"));
            }
        }
    }
    Ok(sc)
}

fn load_scenarios() -> Vec<Scenario> {
    let dir = data_dir().join("scenarios");
    let mut names: Vec<String> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.ok())
        .filter_map(|e| e.file_name().to_str().and_then(|n| n.strip_suffix(".scn")).map(str::to_string))
        .collect();
    names.sort();
    if let Ok(only) = std::env::var("IPVS_PARITY_ONLY") {
        let want: Vec<&str> = only.split(',').map(str::trim).filter(|s| !s.is_empty()).collect();
        for w in &want {
            assert!(names.iter().any(|n| n == w), "IPVS_PARITY_ONLY: no scenario {w:?} (have {names:?})");
        }
        names.retain(|n| want.contains(&n.as_str()));
    }
    names
        .iter()
        .map(|n| {
            let text = fs::read_to_string(dir.join(format!("{n}.scn"))).unwrap();
            parse_scenario(n, &text).unwrap_or_else(|e| panic!("{e}"))
        })
        .collect()
}

/// Every address after `real_server`/`sorry_server` in the scenario's
/// configurations: they live in the servers' namespace.
fn server_addresses(sc: &Scenario) -> Vec<IpAddr> {
    let mut v = Vec::new();
    for conf in sc.confs.values() {
        for line in conf.lines() {
            let mut w = line.split_whitespace();
            if let (Some("real_server" | "sorry_server"), Some(a)) = (w.next(), w.next()) {
                if let Ok(ip) = a.parse::<IpAddr>() {
                    if !v.contains(&ip) {
                        v.push(ip);
                    }
                }
            }
        }
    }
    for (_, s) in &sc.steps {
        if let Step::Rs(a) = s {
            for ip in a {
                if !v.contains(ip) {
                    v.push(*ip);
                }
            }
        }
    }
    v
}

fn render(conf: &str, dir: &Path) -> String {
    let d = dir.display().to_string();
    let global = format!("script_user root\n    enable_script_security\n    notify_fifo {d}/notify.fifo");
    conf.replace("{GLOBAL}", &global)
        .replace("{NOTIFY}", &format!("{d}/notify.sh"))
        .replace("{MISC}", &format!("{d}/misc.sh"))
        .replace("{DIR}", &d)
}

// ---------------------------------------------------------------- snapshots

#[derive(Clone, Debug, PartialEq)]
struct Snap {
    step: String,
    body: String,
}

fn render_snaps(snaps: &[Snap]) -> String {
    let mut s = String::new();
    for (i, sn) in snaps.iter().enumerate() {
        let _ = writeln!(s, "== {} {}", i + 1, sn.step);
        s.push_str(&sn.body);
    }
    s
}

fn parse_golden(text: &str) -> Vec<Snap> {
    let mut v: Vec<Snap> = Vec::new();
    for line in text.lines() {
        if let Some(h) = line.strip_prefix("== ") {
            let step = h.split_once(' ').map(|x| x.1).unwrap_or("").to_string();
            v.push(Snap { step, body: String::new() });
        } else if let Some(last) = v.last_mut() {
            last.body.push_str(line);
            last.body.push('\n');
        }
    }
    v
}

/// `ipvsadm -Ln` (plus `extra` flags) normalised: header and counters
/// dropped, services sorted, real servers sorted under their service.
fn ipvs_state(extra: &[&str]) -> Vec<String> {
    let out = Command::new(tool("ipvsadm")).arg("-Ln").args(extra).output().expect("ipvsadm");
    let text = String::from_utf8_lossy(&out.stdout);
    let mut services: Vec<(String, Vec<String>)> = Vec::new();
    // Real-server columns are named by the header (they depend on the
    // flags: --tun-info, --thresholds, ...); the counters are dropped.
    let mut rs_cols: Vec<String> = Vec::new();
    for line in text.lines() {
        let t: Vec<&str> = line.split_whitespace().collect();
        if t.is_empty() || line.starts_with("IP Virtual Server") {
            continue;
        }
        // ipvsadm names the real-server columns on the `-> RemoteAddress:Port`
        // line, or (--thresholds, --persistent-conn) on the `Prot` line.
        if t[0] == "Prot" {
            if !t.contains(&"Scheduler") {
                rs_cols = ["->", "RemoteAddress:Port"].iter().chain(&t[2..]).map(|c| c.to_string()).collect();
            }
            continue;
        }
        if t[0] == "->" && t.get(1) == Some(&"RemoteAddress:Port") {
            if t.len() > 2 {
                rs_cols = t.iter().map(|c| c.to_string()).collect();
            }
            continue;
        }
        if t[0] == "->" {
            let keep: Vec<&str> = t[1..]
                .iter()
                .enumerate()
                .filter(|(i, _)| !matches!(rs_cols.get(i + 1).map(String::as_str), Some("ActiveConn" | "InActConn")))
                .map(|(_, c)| *c)
                .collect();
            if let Some(s) = services.last_mut() {
                s.1.push(format!("  -> {}", keep.join(" ")));
            }
        } else {
            services.push((t.join(" "), Vec::new()));
        }
    }
    if !out.status.success() {
        services.push((format!("ipvsadm failed: {}", String::from_utf8_lossy(&out.stderr).trim()), Vec::new()));
    }
    services.sort();
    let mut v = Vec::new();
    for (s, mut rs) in services {
        rs.sort();
        v.push(s);
        v.extend(rs);
    }
    v
}

fn extra_views(show: &[String]) -> Vec<String> {
    let mut v = Vec::new();
    for s in show {
        match s.as_str() {
            "timeout" | "daemon" => {
                let out = Command::new(tool("ipvsadm")).arg("-L").arg(format!("--{s}")).output().expect("ipvsadm");
                let mut lines: Vec<String> = String::from_utf8_lossy(&out.stdout)
                    .lines()
                    .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
                    .filter(|l| !l.is_empty())
                    .collect();
                lines.sort();
                v.push(format!("{s}:"));
                v.extend(lines.into_iter().map(|l| format!("  {l}")));
            }
            flag => {
                v.push(format!("{flag}:"));
                v.extend(ipvs_state(&[&format!("--{flag}")]).into_iter().map(|l| format!("  {l}")));
            }
        }
    }
    v
}

/// The notify FIFO lines of one step in an order that does not depend on
/// how concurrent checkers raced, but keeps what can be kept: lines are
/// grouped by virtual server (groups sorted); in a group the `RS` lines
/// come first, sorted (real servers changing in one step race each other,
/// and so does where a `VS` line falls among them: the quorum flips with
/// whichever RS is first), then the group's `VS` lines in arrival order
/// (e.g. `VS .. DOWN` then `VS .. UP` at start-up).
fn canonical_fifo(lines: Vec<String>) -> Vec<String> {
    fn vs_of(l: &str) -> String {
        let w: Vec<&str> = l.split(' ').collect();
        match w.first().copied() {
            Some("RS") if w.len() >= 4 => w[2..w.len() - 1].join(" "),
            Some("VS") if w.len() >= 3 => w[1..w.len() - 1].join(" "),
            _ => String::new(),
        }
    }
    let mut groups: BTreeMap<String, (Vec<String>, Vec<String>)> = BTreeMap::new();
    for l in lines {
        let g = groups.entry(vs_of(&l)).or_default();
        if l.starts_with("RS ") {
            g.0.push(l);
        } else {
            g.1.push(l);
        }
    }
    let mut out = Vec::new();
    for (_, (mut rs, mut other)) in groups {
        rs.sort();
        out.append(&mut rs);
        out.append(&mut other);
    }
    out
}

// ---------------------------------------------------------------- namespaces

fn setns(fd: &OwnedFd) -> std::io::Result<()> {
    nix::sched::setns(fd, nix::sched::CloneFlags::CLONE_NEWNET).map_err(std::io::Error::from)
}

/// The guest's copy of a host tool (IPVS_VM_TOOLS, in /usr/local/bin)
/// rather than busybox's applet of the same name (its `ip` lacks options).
fn tool(name: &str) -> String {
    let p = format!("/usr/local/bin/{name}");
    if Path::new(&p).exists() {
        p
    } else {
        name.to_string()
    }
}

/// Run a command (in the calling thread's namespace, or in `ns`: from a
/// thread that joined it, as a child starts in its spawner's namespace).
fn cmd(ns: Option<&OwnedFd>, args: &[&str]) -> Result<String, String> {
    if let Some(fd) = ns {
        let fd = fd.try_clone().unwrap();
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        return std::thread::spawn(move || {
            setns(&fd).map_err(|e| format!("setns: {e}"))?;
            let a: Vec<&str> = args.iter().map(String::as_str).collect();
            cmd(None, &a)
        })
        .join()
        .unwrap();
    }
    let out = Command::new(tool(args[0])).args(&args[1..]).output().map_err(|e| format!("{args:?}: {e}"))?;
    if !out.status.success() {
        return Err(format!("{args:?}: {}", String::from_utf8_lossy(&out.stderr).trim()));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The servers' namespace: a thread parks in it (its tid names it for
/// `ip link set .. netns`) until dropped.
struct ServerNs {
    fd: OwnedFd,
    tid: i32,
    _park: mpsc::Sender<()>,
}

impl ServerNs {
    fn new() -> ServerNs {
        let (tx, rx) = mpsc::channel();
        let (park_tx, park_rx) = mpsc::channel::<()>();
        std::thread::spawn(move || {
            nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWNET).expect("unshare(servers)");
            let fd: OwnedFd = fs::File::open("/proc/thread-self/ns/net").unwrap().into();
            tx.send((fd, nix::unistd::gettid().as_raw())).unwrap();
            let _ = park_rx.recv();
        });
        let (fd, tid) = rx.recv().unwrap();
        ServerNs { fd, tid, _park: park_tx }
    }

    /// A TCP listener in this namespace (never accepts: the kernel
    /// completes the checkers' handshakes).
    fn listen(&self, addr: SocketAddr) -> Result<socket2::Socket, String> {
        let fd = self.fd.try_clone().unwrap();
        std::thread::spawn(move || -> Result<socket2::Socket, String> {
            setns(&fd).map_err(|e| e.to_string())?;
            let s = socket2::Socket::new(socket2::Domain::for_address(addr), socket2::Type::STREAM, None)
                .map_err(|e| e.to_string())?;
            s.set_reuse_address(true).map_err(|e| e.to_string())?;
            s.bind(&addr.into()).map_err(|e| format!("bind {addr}: {e}"))?;
            s.listen(4096).map_err(|e| e.to_string())?;
            Ok(s)
        })
        .join()
        .unwrap()
    }
}

impl ServerNs {
    /// `busybox httpd` (or, `tls`, `openssl s_server -WWW`) in the foreground in this namespace.
    fn httpd(&self, addr: SocketAddr, root: &Path, tls: bool) -> Result<Child, String> {
        let fd = self.fd.try_clone().unwrap();
        let _ = fs::create_dir_all(root);
        let root = root.to_path_buf();
        let child = std::thread::spawn(move || -> Result<Child, String> {
            setns(&fd).map_err(|e| e.to_string())?;
            if tls {
                let t = data_dir().join("tls");
                return Command::new(tool("openssl"))
                    .args(["s_server", "-quiet", "-WWW", "-accept", &addr.to_string(), "-cert"])
                    .arg(t.join("server.pem"))
                    .arg("-key")
                    .arg(t.join("server.key"))
                    .current_dir(&root)
                    .stdout(Stdio::null())
                    .spawn()
                    .map_err(|e| format!("openssl s_server: {e}"));
            }
            Command::new(tool("busybox"))
                .args(["httpd", "-f", "-p", &addr.to_string(), "-h"])
                .arg(&root)
                .spawn()
                .map_err(|e| format!("busybox httpd: {e}"))
        })
        .join()
        .unwrap()?;
        // Listening once it accepts a connection.
        let fd = self.fd.try_clone().unwrap();
        std::thread::spawn(move || {
            let _ = setns(&fd);
            let end = Instant::now() + Duration::from_secs(10);
            while Instant::now() < end && std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(1)).is_err() {
                std::thread::sleep(Duration::from_millis(100));
            }
        })
        .join()
        .unwrap();
        Ok(child)
    }
}

/// The `httpd` steps' servers, killed with the run.
struct Httpds(Vec<Child>);

impl Drop for Httpds {
    fn drop(&mut self) {
        for c in &mut self.0 {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// Wire the calling thread's (fresh) namespace, the director, to `srv`.
fn wire(srv: &ServerNs, addrs: &[IpAddr]) -> Result<(), String> {
    let tid = srv.tid.to_string();
    let s = Some(&srv.fd);
    cmd(None, &["ip", "link", "set", "lo", "up"])?;
    cmd(None, &["ip", "link", "add", "d0", "type", "veth", "peer", "name", "s0", "netns", &tid])?;
    cmd(None, &["ip", "link", "set", "d0", "up"])?;
    cmd(None, &["ip", "addr", "add", "172.31.255.1/30", "dev", "d0"])?;
    cmd(None, &["ip", "-6", "addr", "add", "fc00:ffff::1/64", "dev", "d0", "nodad"])?;
    cmd(s, &["ip", "link", "set", "lo", "up"])?;
    cmd(s, &["ip", "link", "set", "s0", "up"])?;
    cmd(s, &["ip", "addr", "add", "172.31.255.2/30", "dev", "s0"])?;
    cmd(s, &["ip", "-6", "addr", "add", "fc00:ffff::2/64", "dev", "s0", "nodad"])?;
    cmd(None, &["ip", "route", "add", "default", "via", "172.31.255.2"])?;
    cmd(None, &["ip", "-6", "route", "add", "default", "via", "fc00:ffff::2"])?;
    cmd(s, &["ip", "route", "add", "default", "via", "172.31.255.1"])?;
    cmd(s, &["ip", "-6", "route", "add", "default", "via", "fc00:ffff::1"])?;
    add_server_addrs(srv, addrs)
}

fn add_server_addrs(srv: &ServerNs, addrs: &[IpAddr]) -> Result<(), String> {
    for a in addrs {
        let p = if a.is_ipv4() { format!("{a}/32") } else { format!("{a}/128") };
        let mut args = vec!["ip", "addr", "add", p.as_str(), "dev", "lo"];
        if a.is_ipv6() {
            args.push("nodad");
        }
        match cmd(Some(&srv.fd), &args) {
            Err(e) if !e.contains("exists") => return Err(e),
            _ => {}
        }
    }
    Ok(())
}

// ---------------------------------------------------------------- a run

/// Reads the notify FIFO (opened read-write: never EOF) until dropped.
struct FifoReader {
    lines: Arc<Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
}

impl FifoReader {
    fn new(path: &Path) -> FifoReader {
        nix::unistd::mkfifo(path, nix::sys::stat::Mode::from_bits_truncate(0o600)).expect("mkfifo");
        let f = fs::OpenOptions::new()
            .read(true)
            .write(true)
            .custom_flags(libc_o_nonblock())
            .open(path)
            .expect("open fifo");
        let lines = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (l, st) = (lines.clone(), stop.clone());
        std::thread::spawn(move || {
            use std::io::Read;
            let mut f = f;
            let mut buf = Vec::new();
            let mut chunk = [0u8; 4096];
            while !st.load(Ordering::Relaxed) {
                match f.read(&mut chunk) {
                    Ok(n) if n > 0 => {
                        buf.extend_from_slice(&chunk[..n]);
                        while let Some(i) = buf.iter().position(|&b| b == b'\n') {
                            let line: Vec<u8> = buf.drain(..=i).collect();
                            // A NUL after the newline (master) would be a difference: keep it visible.
                            let s = String::from_utf8_lossy(&line[..line.len() - 1]).replace('\0', "\\0");
                            l.lock().unwrap().push(s);
                        }
                    }
                    _ => std::thread::sleep(Duration::from_millis(50)),
                }
            }
        });
        FifoReader { lines, stop }
    }
}

impl Drop for FifoReader {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

fn libc_o_nonblock() -> i32 {
    nix::fcntl::OFlag::O_NONBLOCK.bits()
}

use std::os::unix::fs::OpenOptionsExt;

struct Run<'a> {
    sc: &'a Scenario,
    dir: PathBuf,
    bin: PathBuf,
    child: Option<Child>,
    fifo: FifoReader,
    fifo_seen: usize,
    notify_seen: usize,
    snaps: Vec<Snap>,
}

impl Run<'_> {
    fn conf_path(&self) -> PathBuf {
        self.dir.join("keepalived.conf")
    }

    fn notify_lines(&self) -> Vec<String> {
        let d = self.dir.display().to_string();
        fs::read_to_string(self.dir.join("notify.log"))
            .unwrap_or_default()
            .lines()
            .map(|l| l.replace(&d, "{DIR}"))
            .collect()
    }

    fn fifo_lines(&self) -> Vec<String> {
        let d = self.dir.display().to_string();
        self.fifo.lines.lock().unwrap().iter().map(|l| l.replace(&d, "{DIR}")).collect()
    }

    /// What a step waits on to settle. The daemon's log size is part of it
    /// (not of the snapshot): a failing check logs before its retry, so a
    /// real server on its way down keeps the step from ending early.
    fn observe(&self) -> (Vec<String>, Vec<String>, usize, usize, u64) {
        (
            ipvs_state(&[]),
            extra_views(&self.sc.show),
            self.notify_lines().len(),
            self.fifo.lines.lock().unwrap().len(),
            fs::metadata(self.dir.join("daemon.log")).map(|m| m.len()).unwrap_or(0),
        )
    }

    /// Wait until nothing observable changed for `stable` seconds (at most `max`).
    fn settle(&self, stable: f64, max: f64) -> bool {
        let start = Instant::now();
        let mut last = self.observe();
        let mut since = Instant::now();
        loop {
            std::thread::sleep(Duration::from_millis(250));
            let now = self.observe();
            if now != last {
                last = now;
                since = Instant::now();
            } else if since.elapsed().as_secs_f64() >= stable {
                return true;
            }
            if start.elapsed().as_secs_f64() >= max {
                return false;
            }
        }
    }

    fn snapshot(&mut self, step: &str, settled: bool, extra: &[String]) {
        let (ipvs, views, ..) = self.observe();
        let notify = self.notify_lines();
        let fifo = self.fifo_lines();
        let mut new_notify: Vec<String> = notify[self.notify_seen.min(notify.len())..].to_vec();
        let mut new_fifo: Vec<String> = fifo[self.fifo_seen.min(fifo.len())..].to_vec();
        self.notify_seen = notify.len();
        self.fifo_seen = fifo.len();
        if !self.sc.ordered {
            new_notify.sort();
            new_fifo = canonical_fifo(new_fifo);
        }
        let mut b = String::new();
        if !settled {
            b.push_str("!! not settled\n");
        }
        for e in extra {
            let _ = writeln!(b, "{e}");
        }
        b.push_str("ipvs:\n");
        for l in ipvs.iter().chain(views.iter()) {
            let _ = writeln!(b, "  {l}");
        }
        b.push_str("notify:\n");
        for l in new_notify {
            let _ = writeln!(b, "  {l}");
        }
        b.push_str("fifo:\n");
        for l in new_fifo {
            let _ = writeln!(b, "  {l}");
        }
        self.snaps.push(Snap { step: step.to_string(), body: b });
    }

    fn write_conf(&self, name: &str) {
        fs::write(self.conf_path(), render(&self.sc.confs[name], &self.dir)).unwrap();
    }

    fn start(&mut self) -> Result<(), String> {
        self.write_conf("main");
        let d = &self.dir;
        let log = fs::File::create(d.join("daemon.log")).unwrap();
        let child = Command::new(&self.bin)
            .args(["-n", "-l", "-D", "-C", "-f"])
            .arg(self.conf_path())
            .arg("-p")
            .arg(d.join("keepalived.pid"))
            .arg("-c")
            .arg(d.join("checkers.pid"))
            .arg("-r")
            .arg(d.join("vrrp.pid"))
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .map_err(|e| format!("{}: {e}", self.bin.display()))?;
        self.child = Some(child);
        Ok(())
    }

    fn signal(&self, sig: nix::sys::signal::Signal) -> Result<(), String> {
        let c = self.child.as_ref().ok_or("daemon not started")?;
        nix::sys::signal::kill(nix::unistd::Pid::from_raw(c.id() as i32), sig).map_err(|e| e.to_string())
    }

    /// SIGTERM, wait for the exit; the exit status.
    fn stop(&mut self) -> String {
        let Some(mut c) = self.child.take() else { return "exit: not running".into() };
        let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(c.id() as i32), nix::sys::signal::Signal::SIGTERM);
        let end = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(Some(st)) = c.try_wait() {
                return format!("exit: {st}");
            }
            if Instant::now() > end {
                let _ = c.kill();
                let _ = c.wait();
                return "exit: hung (killed after 20 s)".into();
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Run<'_> {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn write_exec(path: &Path, body: &str) {
    fs::write(path, body).unwrap();
    fs::set_permissions(path, fs::Permissions::from_mode(0o755)).unwrap();
}

/// One scenario under one daemon, in the calling thread (which it moves to
/// a fresh network namespace: call it from a thread of its own).
fn run_scenario(sc: &Scenario, bin: &Path, tag: &str) -> Result<Vec<Snap>, String> {
    let dir = PathBuf::from(format!("/tmp/ipvs_parity/{}.{tag}", sc.name));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    fs::set_permissions(&dir, fs::Permissions::from_mode(0o755)).unwrap();
    let d = dir.display().to_string();
    write_exec(
        &dir.join("notify.sh"),
        // One write per call: notify scripts run concurrently, and a line
        // written in pieces interleaves with another script's.
        &format!(
            "#!/bin/sh\nl=\"$#\"; for a in \"$@\"; do l=\"$l [$a]\"; done; printf '%s\\n' \"$l\" >> {d}/notify.log\n"
        ),
    );
    write_exec(
        &dir.join("misc.sh"),
        &format!(
            "#!/bin/sh\nf={d}/misc.$1\n[ -f \"$f\" ] || f={d}/misc.default\n[ -f \"$f\" ] || exit 1\nexit $(cat \"$f\")\n"
        ),
    );

    let srv = ServerNs::new();
    nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWNET).map_err(|e| format!("unshare: {e}"))?;
    wire(&srv, &server_addresses(sc))?;
    let before = ipvs_state(&[]);
    if !before.is_empty() {
        return Err(format!("IPVS not empty in a fresh namespace: {before:?}"));
    }

    let fifo = FifoReader::new(&dir.join("notify.fifo"));
    let mut run = Run {
        sc,
        dir: dir.clone(),
        bin: bin.to_path_buf(),
        child: None,
        fifo,
        fifo_seen: 0,
        notify_seen: 0,
        snaps: Vec::new(),
    };
    let mut listeners: BTreeMap<SocketAddr, socket2::Socket> = BTreeMap::new();
    let mut httpds = Httpds(Vec::new());
    let (stable, max) = sc.settle;
    let mut started = false;
    for (text, step) in &sc.steps {
        let mut extra = Vec::new();
        let mut settled = true;
        match step {
            Step::Rs(a) => add_server_addrs(&srv, a)?,
            Step::Listener(true, addrs) => {
                for a in addrs {
                    listeners.insert(*a, srv.listen(*a)?);
                }
            }
            Step::Listener(false, addrs) => {
                for a in addrs {
                    listeners.remove(a).ok_or_else(|| format!("`{text}`: {a} not listening"))?;
                }
            }
            Step::MiscExit(name, n) => fs::write(dir.join(format!("misc.{name}")), format!("{n}\n")).unwrap(),
            Step::FileWrite(name, v) => {
                let _ = fs::create_dir_all(dir.join(name).parent().unwrap());
                fs::write(dir.join(name), format!("{v}\n")).unwrap()
            }
            Step::FileRm(name) => fs::remove_file(dir.join(name)).map_err(|e| format!("`{text}`: {e}"))?,
            Step::Httpd(addr, root) => httpds.0.push(srv.httpd(*addr, &dir.join(root), false)?),
            Step::TlsHttpd(addr, root) => httpds.0.push(srv.httpd(*addr, &dir.join(root), true)?),
            Step::Start => {
                run.start()?;
                started = true;
                // Start-up is slow in the emulated guest (a debug build, six
                // scenarios at once on two emulated cores): wait until the
                // checker child has its pid file and has logged "Initializing
                // ipvs" (both implementations do, once it has read its
                // configuration) before the settle, whose quiet time alone
                // can elapse while the parent is still parsing.
                let pid = dir.join("checkers.pid");
                let log = dir.join("daemon.log");
                let up = || pid.exists() && fs::read_to_string(&log).is_ok_and(|l| l.contains("Initializing ipvs"));
                let end = Instant::now() + Duration::from_secs_f64(max.max(30.0));
                while !up() && Instant::now() < end {
                    if let Some(Ok(Some(_))) = run.child.as_mut().map(|c| c.try_wait()) {
                        break;
                    }
                    std::thread::sleep(Duration::from_millis(100));
                }
            }
            Step::Settle => {}
            Step::Wait(s) => std::thread::sleep(Duration::from_secs_f64(*s)),
            Step::Reload(c) => {
                run.write_conf(c);
                run.signal(nix::sys::signal::Signal::SIGHUP)?;
            }
            Step::Ipvsadm(args) => {
                let mut a = vec!["ipvsadm"];
                a.extend(args.iter().map(String::as_str));
                cmd(None, &a)?;
            }
            Step::Vip(add, ip) => {
                let p = if ip.is_ipv4() { format!("{ip}/32") } else { format!("{ip}/128") };
                let mut a = vec!["ip", "addr", if *add { "add" } else { "del" }, p.as_str(), "dev", "lo"];
                if ip.is_ipv6() && *add {
                    a.push("nodad");
                }
                cmd(None, &a)?;
            }
            Step::Stop => {
                extra.push(run.stop());
                started = false;
                settled = run.settle(1.0, 5.0);
            }
        }
        if run.child.is_some() || matches!(step, Step::Stop) {
            if !matches!(step, Step::Wait(_) | Step::Stop) {
                settled = run.settle(stable, max);
            }
            run.snapshot(text, settled, &extra);
        }
    }
    if started {
        let st = run.stop();
        run.settle(1.0, 5.0);
        run.snapshot("(implicit stop)", true, &[st]);
    }
    let _ = cmd(None, &["ipvsadm", "-C"]);
    let snaps = std::mem::take(&mut run.snaps);
    drop(run);
    // Keep the daemon's log and the snapshots for post-mortems.
    let logs = logs_dir();
    let _ = fs::create_dir_all(&logs);
    let _ = fs::copy(dir.join("daemon.log"), logs.join(format!("{}.{tag}.log", sc.name)));
    let _ = fs::write(logs.join(format!("{}.{tag}.txt", sc.name)), render_snaps(&snaps));
    Ok(snaps)
}

// ---------------------------------------------------------------- comparison

/// A readable step-by-step difference, empty when equal.
fn diff(a_name: &str, a: &[Snap], b_name: &str, b: &[Snap]) -> String {
    let mut out = String::new();
    for i in 0..a.len().max(b.len()) {
        let (x, y) = (a.get(i), b.get(i));
        if x == y {
            continue;
        }
        let step = x.or(y).map(|s| s.step.as_str()).unwrap_or("");
        let _ = writeln!(out, "  step {} `{step}`:", i + 1);
        let xl: Vec<&str> = x.map(|s| s.body.lines().collect()).unwrap_or_default();
        let yl: Vec<&str> = y.map(|s| s.body.lines().collect()).unwrap_or_default();
        if x.map(|s| &s.step) != y.map(|s| &s.step) {
            let _ = writeln!(out, "    step names differ: {:?} vs {:?}", x.map(|s| &s.step), y.map(|s| &s.step));
        }
        // Line diff within the step (LCS: the bodies are short).
        let (n, m) = (xl.len(), yl.len());
        let mut l = vec![vec![0usize; m + 1]; n + 1];
        for i in (0..n).rev() {
            for j in (0..m).rev() {
                l[i][j] = if xl[i] == yl[j] { l[i + 1][j + 1] + 1 } else { l[i + 1][j].max(l[i][j + 1]) };
            }
        }
        let (mut i, mut j) = (0, 0);
        while i < n || j < m {
            if i < n && j < m && xl[i] == yl[j] {
                let _ = writeln!(out, "      {}", xl[i]);
                i += 1;
                j += 1;
            } else if j < m && (i == n || l[i][j + 1] >= l[i + 1][j]) {
                let _ = writeln!(out, "    + {}   [{b_name}]", yl[j]);
                j += 1;
            } else {
                let _ = writeln!(out, "    - {}   [{a_name}]", xl[i]);
                i += 1;
            }
        }
    }
    out
}

fn run_jobs<T: Send + 'static>(jobs: Vec<Box<dyn FnOnce() -> T + Send>>, parallel: usize) -> Vec<T> {
    let n = jobs.len();
    let queue = Arc::new(Mutex::new(jobs.into_iter().enumerate().collect::<Vec<_>>()));
    let results = Arc::new(Mutex::new((0..n).map(|_| None).collect::<Vec<Option<T>>>()));
    let workers: Vec<_> = (0..parallel.max(1))
        .map(|_| {
            let (q, r) = (queue.clone(), results.clone());
            std::thread::spawn(move || loop {
                let Some((i, job)) = q.lock().unwrap().pop() else { break };
                // A thread per job: each run unshares its own network namespace.
                let res = std::thread::spawn(job).join().expect("a scenario run panicked");
                r.lock().unwrap()[i] = Some(res);
            })
        })
        .collect();
    for w in workers {
        w.join().unwrap();
    }
    Arc::try_unwrap(results).ok().unwrap().into_inner().unwrap().into_iter().map(Option::unwrap).collect()
}

/// (scenario, implementation tag, snapshots, seconds)
type RunResult = (String, String, Result<Vec<Snap>, String>, f64);

/// In the guest: every scenario under 2.2.7 (and keepalived-rs unless
/// IPVS_PARITY_REFERENCE_ONLY), goldens checked or blessed.
#[test]
fn ipvs_parity() {
    if !vm::guest() {
        return;
    }
    // The guest's root file system is a throw-away initramfs with no user
    // database: script_user root needs one.
    if !Path::new("/etc/passwd").exists() {
        fs::write("/etc/passwd", "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n").unwrap();
        fs::write("/etc/group", "root:x:0:\nnogroup:x:65534:\n").unwrap();
    }
    // No syslog daemon in the guest: the daemons' syslog() would fall back
    // to the console and flood the test output (their -l copy goes to
    // daemon.log). A sink on /dev/log swallows it.
    if let Ok(sock) = std::os::unix::net::UnixDatagram::bind("/dev/log") {
        std::thread::spawn(move || {
            let mut buf = [0u8; 8192];
            while sock.recv(&mut buf).is_ok() {}
        });
    }
    // The guest loads veth on the first `ip link add … type veth`; six
    // scenarios starting at once raced on that load and one saw "Unknown
    // device type": load it once before they start.
    let _ = std::process::Command::new("ip")
        .args(["link", "add", "kawarm0", "type", "veth", "peer", "name", "kawarm1"])
        .status();
    let _ = std::process::Command::new("ip").args(["link", "del", "kawarm0"]).status();
    let t0 = Instant::now();
    let scenarios = load_scenarios();
    let reference_only = env_flag("IPVS_PARITY_REFERENCE_ONLY");
    let bless = env_flag("IPVS_PARITY_BLESS");
    let parallel: usize = std::env::var("IPVS_PARITY_JOBS").ok().and_then(|v| v.parse().ok()).unwrap_or(6);
    let reference = reference_bin();
    let ours = ours_bin();
    let _ = fs::remove_dir_all(logs_dir());

    let mut jobs: Vec<Box<dyn FnOnce() -> RunResult + Send>> = Vec::new();
    let mut impls: Vec<(&str, PathBuf)> = vec![("2.2.7", reference)];
    if !reference_only {
        impls.push(("rs", ours));
    }
    for sc in &scenarios {
        for (tag, bin) in &impls {
            let (sc, bin, tag) = (sc.clone(), bin.clone(), tag.to_string());
            jobs.push(Box::new(move || {
                let t = Instant::now();
                let r = run_scenario(&sc, &bin, &tag);
                (sc.name.clone(), tag, r, t.elapsed().as_secs_f64())
            }));
        }
    }
    // Longest first would be better; the queue pops from the end.
    jobs.reverse();
    let results = run_jobs(jobs, parallel);
    let mut by: BTreeMap<(String, String), Result<Vec<Snap>, String>> = BTreeMap::new();
    for (name, tag, r, secs) in results {
        println!("ipvs_parity: {name} under {tag}: {secs:.1} s");
        by.insert((name, tag), r);
    }

    let mut failures = Vec::new();
    let gdir = data_dir().join("golden");
    for sc in &scenarios {
        let name = &sc.name;
        let reference = &by[&(name.clone(), "2.2.7".to_string())];
        let golden_path = gdir.join(format!("{name}.txt"));
        match reference {
            Err(e) => failures.push(format!("{name}: the 2.2.7 run failed: {e}")),
            Ok(snaps) => {
                let header = format!("# keepalived 2.2.7 reference for scenarios/{name}.scn: {}\n", sc.title);
                if bless {
                    fs::create_dir_all(&gdir).unwrap();
                    fs::write(&golden_path, format!("{header}{}", render_snaps(snaps))).unwrap();
                    println!("ipvs_parity: blessed {}", golden_path.display());
                } else {
                    match fs::read_to_string(&golden_path) {
                        Err(_) => {
                            failures.push(format!("{name}: no golden {} (IPVS_PARITY_BLESS=1)", golden_path.display()))
                        }
                        Ok(g) => {
                            let d = diff("golden", &parse_golden(&g), "2.2.7 now", snaps);
                            if !d.is_empty() {
                                failures.push(format!(
                                    "{name}: keepalived 2.2.7 did not reproduce its golden (flaky scenario or changed environment):\n{d}"
                                ));
                            }
                        }
                    }
                }
            }
        }
        if !reference_only {
            match (reference, &by[&(name.clone(), "rs".to_string())]) {
                (_, Err(e)) => failures.push(format!("{name}: the keepalived-rs run failed: {e}")),
                (Ok(a), Ok(b)) => {
                    let d = diff("2.2.7", a, "keepalived-rs", b);
                    if !d.is_empty() {
                        failures.push(format!(
                            "{name}: keepalived-rs differs from keepalived 2.2.7 (daemon logs: {}/{name}.{{2.2.7,rs}}.log):\n{d}",
                            logs_dir().display()
                        ));
                    }
                }
                _ => {}
            }
        }
    }
    println!(
        "ipvs_parity: {} scenario(s) x {} implementation(s), {parallel} in parallel: {:.1} s",
        scenarios.len(),
        impls.len(),
        t0.elapsed().as_secs_f64()
    );
    assert!(failures.is_empty(), "IPVS parity failures ({}):\n{}", failures.len(), failures.join("\n"));
}

// ---------------------------------------------------------------- host: no IPVS

/// keepalived's log with what differs between runs removed: timestamps,
/// pids, the kernel and command lines, CPU times.
fn normalise_log(log: &str, dir: &Path) -> Vec<String> {
    let mut v = Vec::new();
    let d = dir.display().to_string();
    for line in log.lines() {
        let line = &line.replace(&d, "{DIR}");
        // "Wed Dec  2 18:28:08 2026: " prefix (-l to a non-terminal)
        let l = match line.find(": ") {
            Some(i) if line[..i].len() == 24 && line[..i].chars().filter(|c| *c == ':').count() == 2 => &line[i + 2..],
            _ => line,
        };
        if l.starts_with("Running on ")
            || l.starts_with("Command line:")
            || l.starts_with("              ")
            || l.starts_with("CPU usage")
        {
            continue;
        }
        let l = if l.starts_with("Stopped - used") { "Stopped - used <times>" } else { l };
        // The version banner differs on purpose ("v2.2.7 (01/16,2022)" / "vX.Y.Z (keepalived-rs)").
        let banner;
        let l = match l.split_once(" Keepalived v") {
            Some((head @ ("Starting" | "Stopped"), _)) => {
                banner = format!("{head} Keepalived v<version>");
                banner.as_str()
            }
            _ => l,
        };
        let mut s = String::new();
        let mut digits = false;
        for w in l.split(' ') {
            if !s.is_empty() {
                s.push(' ');
            }
            // pid=1234 / pid 1234
            if digits && w.chars().all(|c| c.is_ascii_digit()) && !w.is_empty() {
                s.push('N');
            } else if let Some(p) = w.strip_prefix("pid=").filter(|p| p.chars().all(|c| c.is_ascii_digit())) {
                let _ = p;
                s.push_str("pid=N");
            } else {
                s.push_str(w);
            }
            digits = w == "pid";
        }
        v.push(s);
    }
    v
}

fn run_without_ipvs(bin: &str, dir: &Path) -> (Option<i32>, Vec<String>) {
    let conf = dir.join("keepalived.conf");
    fs::write(
        &conf,
        "virtual_server 10.9.0.1 80 {\n  delay_loop 1\n  lb_algo rr\n  lb_kind NAT\n  protocol TCP\n  real_server 127.0.0.1 8080 {\n    weight 1\n    TCP_CHECK {\n      connect_timeout 1\n    }\n  }\n}\n",
    )
    .unwrap();
    let out = Command::new("timeout")
        .arg("10")
        .args(["unshare", "-n", bin, "-n", "-l", "-f"])
        .arg(&conf)
        .arg("-p")
        .arg(dir.join("k.pid"))
        .arg("-c")
        .arg(dir.join("c.pid"))
        .arg("-r")
        .arg(dir.join("v.pid"))
        .stdin(Stdio::null())
        .output()
        .expect("timeout unshare keepalived");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    // modprobe's own complaint appears only where kmod is installed (both
    // daemons run it and let its standard error through): not pinned.
    let text: String = text.lines().filter(|l| !l.starts_with("modprobe: ")).map(|l| format!("{l}\n")).collect();
    (out.status.code(), normalise_log(&text, dir))
}

/// The parent's `Starting Healthcheck child process` and the child's first line reach the log
/// from two processes, in either order (both implementations): put the parent's first.
fn parent_line_first(log: &mut Vec<String>) {
    let parent = log.iter().position(|l| l.starts_with("Starting Healthcheck child process"));
    let child = log.iter().position(|l| l == "Initializing ipvs");
    if let (Some(p), Some(c)) = (parent, child) {
        if c < p {
            let line = log.remove(p);
            log.insert(c, line);
        }
    }
}

/// On a kernel without IPVS (this host), 2.2.7's checker child logs
/// `IPVS: Can't initialize ipvs: No such file or directory`, exits with a
/// permanent error and the parent stops with it (exit 1). keepalived-rs
/// must log the same lines and exit the same way.
#[test]
fn keepalived_2_2_7_without_ipvs() {
    if vm::guest() {
        return;
    }
    let reference = "/usr/sbin/keepalived";
    let no_ipvs =
        Command::new("unshare").args(["-n", "test", "!", "-e", "/proc/net/ip_vs"]).status().is_ok_and(|s| s.success());
    keepalived_testkit::require(&["unshare", reference]);
    assert!(no_ipvs, "this test needs a host kernel without IPVS (the IPVS guest runs the others)");
    let dir = std::env::temp_dir().join(format!("ipvs_parity_host.{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    let (ref_rc, mut ref_log) = run_without_ipvs(reference, &dir);
    parent_line_first(&mut ref_log);
    let golden = data_dir().join("golden/host_without_ipvs.txt");
    let rendered = format!(
        "# keepalived 2.2.7, LVS configuration, kernel without IPVS (unshare -n; -n -l): normalised log, then exit status\n{}\nexit: {ref_rc:?}\n",
        ref_log.join("\n")
    );
    if env_flag("IPVS_PARITY_BLESS") {
        fs::write(&golden, &rendered).unwrap();
    }
    // What 2.2.7 does, pinned (so a change of the reference is noticed).
    assert_eq!(ref_rc, Some(1), "{rendered}");
    for want in [
        "Initializing ipvs",
        "IPVS: Can't initialize ipvs: No such file or directory",
        "pid N exited with permanent error FATAL. Terminating",
    ] {
        assert!(ref_log.iter().any(|l| l == want), "2.2.7 no longer logs {want:?}:\n{rendered}");
    }
    assert_eq!(fs::read_to_string(&golden).ok().as_deref(), Some(rendered.as_str()), "golden {}", golden.display());

    let ours = env!("CARGO_BIN_EXE_keepalived");
    let (rc, mut log) = run_without_ipvs(ours, &dir);
    parent_line_first(&mut log);
    let _ = fs::remove_dir_all(&dir);
    // Compared: from the checker child's start on (the parent's own
    // start-up lines before it, e.g. 2.2.7's max_auto_priority NOTICE, are
    // other tests' business), and the exit status.
    let from_child = |l: &[String]| -> String {
        let i = l.iter().position(|x| x.contains("Healthcheck")).unwrap_or(0);
        l[i..].join("\n")
    };
    let a: Vec<Snap> = vec![Snap { step: "run".into(), body: format!("{}\nexit: {ref_rc:?}\n", from_child(&ref_log)) }];
    let b: Vec<Snap> = vec![Snap { step: "run".into(), body: format!("{}\nexit: {rc:?}\n", from_child(&log)) }];
    let d = diff("2.2.7", &a, "keepalived-rs", &b);
    assert!(d.is_empty(), "keepalived-rs without IPVS differs from keepalived 2.2.7:\n{d}");
}
