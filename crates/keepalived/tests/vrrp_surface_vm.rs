//! The rest of VRRP's surface against keepalived 2.2.7, in the IPVS guest
//! (this host's kernel has no ipvlan, vrf or MPLS; the guest loads them as
//! modules): `use_ipvlan` and the route attributes `encap mpls`, `encap
//! ila`, a nexthop's `encap`, `vrf` and `ttl-propagate`.
//!
//! One boot runs this whole binary (`keepalived_testkit::vm`). In the guest
//! each scenario runs the same configuration under keepalived 2.2.7 and
//! under keepalived-rs, one after the other, in fresh network namespaces
//! `vs<tag>` (the daemon's) and `vs<tag>p` (the far end of its veths,
//! where tcpdump listens), and compares the kernel state they produce while
//! MASTER and after SIGTERM: the links (type, ipvlan mode and flags,
//! parent, VRF master, disable_ipv6), addresses, routes of every table
//! (`ip -d`), MPLS routes, rules, and the adverts, ARPs and neighbour
//! adverts seen on `eth0`'s wire. The ipvlan scenarios also compare the
//! ipvlan lines of the SIGUSR1 data dump and the state after a reload that
//! drops one instance's ipvlan; the second one, the names of unnamed
//! ipvlans (this host's kernel has none, so tests/vmac_names_parity.rs
//! cannot compare them).

use keepalived_testkit::vm;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const OURS: &str = env!("CARGO_BIN_EXE_keepalived");

/// Host side: boot the guest with the modules these scenarios need.
#[test]
fn vrrp_surface_in_guest() {
    if vm::guest() {
        return;
    }
    std::env::set_var("IPVS_VM_MODULES", "ipvlan vrf mpls_router mpls_iptunnel ila");
    vm::run_suite(&["keepalived", "tcpdump"], &[], 900);
}

/// The host tools copied into the guest (/usr/local/bin: iproute2's `ip`,
/// keepalived 2.2.7, tcpdump) ahead of busybox's applets.
fn guest_path() {
    let path = std::env::var("PATH").unwrap_or_default();
    if !path.starts_with("/usr/local/bin:") {
        std::env::set_var("PATH", format!("/usr/local/bin:{path}"));
    }
    // tcpdump -Z root looks the user up; the guest has no passwd file.
    if !std::path::Path::new("/etc/passwd").exists() {
        std::fs::write("/etc/passwd", "root:x:0:0:root:/root:/bin/sh\n").unwrap();
    }
}

/// keepalived 2.2.7, copied into the guest by IPVS_VM_TOOLS.
fn reference_bin() -> String {
    ["/usr/local/bin/keepalived", "/usr/sbin/keepalived"]
        .iter()
        .find(|p| std::path::Path::new(p).is_file())
        .expect("keepalived 2.2.7 (IPVS_VM_TOOLS=keepalived)")
        .to_string()
}

fn sh(cmd: &str) -> String {
    let out = Command::new("bash").args(["-c", cmd]).output().unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn sh_ok(cmd: &str) {
    let out = Command::new("bash").args(["-c", cmd]).output().unwrap();
    assert!(out.status.success(), "{cmd}: {}", String::from_utf8_lossy(&out.stderr));
}

fn wait_for(secs: u64, mut f: impl FnMut() -> bool) -> bool {
    let end = Instant::now() + Duration::from_secs(secs);
    while Instant::now() < end {
        if f() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    false
}

/// Namespaces `vs<tag>` with `eth0` and `eth1` (fixed MACs; `eth1` in VRF
/// `vrfa`, table 10) and `vs<tag>p` holding their far ends `peth0`/`peth1`.
struct Lab {
    ns: String,
    peer: String,
    dir: PathBuf,
}

impl Lab {
    fn new(tag: &str) -> Lab {
        let ns = format!("vs{tag}");
        let peer = format!("vs{tag}p");
        let dir = PathBuf::from(format!("/tmp/vrrp_surface_vm-{tag}"));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let (n, p) = (&ns, &peer);
        sh_ok(&format!(
            "set -e; for m in mpls_router mpls_iptunnel ila; do modprobe $m 2>/dev/null || true; done; \
             ip netns add {n}; ip netns add {p}; ip -n {n} link set lo up; \
             ip -n {n} link add eth0 address 02:00:00:00:00:01 type veth \
               peer name peth0 address 02:00:00:00:00:02 netns {p}; \
             ip -n {n} link add eth1 address 02:00:00:00:01:01 type veth \
               peer name peth1 address 02:00:00:00:01:02 netns {p}; \
             ip -n {n} link add vrfa address 02:00:00:00:0f:01 type vrf table 10; ip -n {n} link set vrfa up; \
             ip -n {n} link set eth1 master vrfa; \
             for l in eth0 eth1; do ip -n {n} link set $l up; ip -n {p} link set p$l up; done; \
             ip -n {n} addr add 198.51.100.1/24 dev eth0; ip -n {n} addr add 192.0.2.1/24 dev eth1; \
             ip -n {n} -6 addr add 2001:db8:1::1/64 dev eth0 nodad; \
             ip -n {p} addr add 198.51.100.2/24 dev peth0; ip -n {p} -6 addr add 2001:db8:1::2/64 dev peth0 nodad; \
             ip netns exec {n} sysctl -qw net.mpls.platform_labels=1000; \
             ip netns exec {n} sysctl -qw net.mpls.conf.eth0.input=1"
        ));
        Lab { ns, peer, dir }
    }

    /// Start `bin` on `conf` with keepalived's flags (VRRP only).
    fn start(&self, bin: &str, conf: &str) -> Daemon {
        let cf = self.dir.join("keepalived.conf");
        std::fs::write(&cf, conf).unwrap();
        let d = self.dir.display().to_string();
        let log = std::fs::File::create(self.dir.join("daemon.log")).unwrap();
        let child = Command::new("ip")
            .args(["netns", "exec", &self.ns, bin, "-n", "-l", "-D", "-P", "-f"])
            .arg(&cf)
            .args(["-p", &format!("{d}/k.pid"), "-r", &format!("{d}/v.pid"), "-c", &format!("{d}/c.pid")])
            .args(["-b", &format!("{d}/b.pid")])
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .stdin(Stdio::null())
            .spawn()
            .unwrap();
        Daemon { child, pidfile: self.dir.join("k.pid"), log: self.dir.join("daemon.log") }
    }

    /// tcpdump on the peer's end of `peth0`, as text.
    fn capture(&self) -> Child {
        Command::new("ip")
            .args(["netns", "exec", &self.peer, "tcpdump", "-Z", "root", "-l", "-n", "-e", "-i", "peth0"])
            // Adverts, ARPs and neighbour adverts (not the kernels' own
            // solicitations and MLD reports, whose timing varies).
            .arg("vrrp or (ip6 and ip6[6] == 112) or arp or (icmp6 and ip6[40] == 136)")
            .stdout(std::fs::File::create(self.dir.join("capture.txt")).unwrap())
            .stderr(std::fs::File::create(self.dir.join("capture.err")).unwrap())
            .spawn()
            .unwrap()
    }

    fn captured(&self, mut tcpdump: Child) -> String {
        let _ =
            nix::sys::signal::kill(nix::unistd::Pid::from_raw(tcpdump.id() as i32), nix::sys::signal::Signal::SIGINT);
        let _ = tcpdump.wait();
        let err = std::fs::read_to_string(self.dir.join("capture.err")).unwrap_or_default();
        assert!(err.contains("listening on"), "tcpdump: {err}");
        normalise_capture(&std::fs::read_to_string(self.dir.join("capture.txt")).unwrap_or_default())
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        let _ = sh(&format!("ip netns del {} 2>/dev/null; ip netns del {} 2>/dev/null", self.ns, self.peer));
    }
}

struct Daemon {
    child: Child,
    pidfile: PathBuf,
    log: PathBuf,
}

impl Daemon {
    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Signal the parent through its pid file.
    fn signal(&self, sig: nix::sys::signal::Signal) {
        if let Some(p) = std::fs::read_to_string(&self.pidfile).ok().and_then(|s| s.trim().parse().ok()) {
            let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(p), sig);
        }
    }

    /// SIGTERM, then wait (SIGKILL after 20 s).
    fn stop(&mut self) {
        self.signal(nix::sys::signal::Signal::SIGTERM);
        let child = &mut self.child;
        if !wait_for(20, || matches!(child.try_wait(), Ok(Some(_)))) {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            self.stop();
        }
    }
}

/// The distinct frames of a capture without their time stamps and
/// lengths, sorted (how often each is sent depends on timing).
fn normalise_capture(text: &str) -> String {
    let mut v: Vec<String> =
        text.lines().filter_map(|l| l.split_once(' ').map(|(_, rest)| rest)).map(without_lengths).collect();
    v.sort();
    v.dedup();
    v.join("\n")
}

/// A tcpdump line without its `length N` fields.
fn without_lengths(l: &str) -> String {
    let mut out = Vec::new();
    let mut words = l.split(' ').peekable();
    while let Some(w) = words.next() {
        if w == "length" {
            words.next();
            continue;
        }
        out.push(w);
    }
    out.join(" ")
}

/// Links without their index numbers, queue and size details.
fn links(ns: &str) -> String {
    let raw = sh(&format!("ip -n {ns} -d -o link show"));
    let mut v: Vec<String> = raw
        .lines()
        .map(|l| {
            let l = l.split_once(": ").map_or(l, |(_, r)| r);
            let keep: Vec<&str> = l.split_whitespace().collect();
            let mut out = Vec::new();
            let mut i = 0;
            while i < keep.len() {
                let w = keep[i];
                // Values that depend on the run, not on the daemon.
                if matches!(
                    w,
                    "numtxqueues"
                        | "numrxqueues"
                        | "gso_max_size"
                        | "gso_max_segs"
                        | "tso_max_size"
                        | "tso_max_segs"
                        | "gro_max_size"
                        | "gso_ipv4_max_size"
                        | "gro_ipv4_max_size"
                        | "parentbus"
                        | "parentdev"
                        | "qlen"
                        | "minmtu"
                        | "maxmtu"
                        | "promiscuity"
                        | "allmulti"
                        | "link-netns"
                        | "link-netnsid"
                        | "brd"
                ) {
                    i += 2;
                    continue;
                }
                out.push(w);
                i += 1;
            }
            out.join(" ")
        })
        .collect();
    v.sort();
    // Every ipvlan's disable_ipv6, by name (the names are what the name scenario compares).
    let v6: String = v
        .iter()
        .filter(|l| l.contains(" ipvlan "))
        .filter_map(|l| l.split(['@', ':']).next())
        .map(|l| {
            format!(
                "{l} disable_ipv6={}",
                sh(&format!("ip netns exec {ns} cat /proc/sys/net/ipv6/conf/{l}/disable_ipv6 2>/dev/null")).trim()
            )
        })
        .collect::<Vec<_>>()
        .join("\n");
    format!("{}\n{v6}", v.join("\n"))
}

fn addrs(ns: &str) -> String {
    let raw = sh(&format!("ip -n {ns} -o addr show"));
    let mut v: Vec<String> = raw
        .lines()
        .filter(|l| !l.contains(" fe80::"))
        .map(|l| l.split_whitespace().skip(1).collect::<Vec<_>>().join(" "))
        .collect();
    v.sort();
    v.join("\n")
}

/// Routes of every table, MPLS routes and rules (`ip -d`), as
/// tests/routes_parity.rs reads them.
fn routes(ns: &str) -> String {
    let r = sh(&format!(
        "ip -n {ns} -d route show table all | grep -v '^local\\|^broadcast\\|^multicast\\|fe80\\|ff00' | sed 's/expires [0-9]*sec/expires Nsec/'"
    ));
    let m = sh(&format!("ip -n {ns} -d -M route show"));
    let r4 = sh(&format!("ip -n {ns} -d -4 rule show"));
    let r6 = sh(&format!("ip -n {ns} -d -6 rule show"));
    format!("{r}--mpls\n{m}--rules\n{r4}--\n{r6}")
}

struct Run {
    master: String,
    /// After a reload with the second configuration, if any.
    reloaded: String,
    wire: String,
    stopped: String,
    log: String,
}

/// Run `conf` under `bin` in a fresh lab; MASTER once every address of
/// `vips` is there.
fn run(tag: &str, bin: &str, conf: &str, reload: Option<Reload<'_>>, vips: &[&str]) -> Run {
    let lab = Lab::new(tag);
    let tcpdump = lab.capture();
    std::thread::sleep(Duration::from_millis(800));
    let mut d = lab.start(bin, conf);
    let up = wait_for(60, || vips.iter().all(|v| addrs(&lab.ns).contains(v)));
    assert!(up, "{tag}: never master ({vips:?}); log:\n{}\naddrs:\n{}", d.log(), addrs(&lab.ns));
    // Let the GARP block and a few adverts go out.
    std::thread::sleep(Duration::from_secs(4));
    let mut master = format!("{}\n--addrs\n{}\n--routes\n{}", links(&lab.ns), addrs(&lab.ns), routes(&lab.ns));
    if conf.contains("use_ipvlan") {
        master = format!("{master}\n--dump\n{}", ipvlan_dump_lines(&d));
    }
    let reloaded = reload.map(|r| reload_with(&lab, &d, r)).unwrap_or_default();
    d.stop();
    let wire = lab.captured(tcpdump);
    let stopped = format!("{}\n--addrs\n{}\n--routes\n{}", links(&lab.ns), addrs(&lab.ns), routes(&lab.ns));
    Run { master, reloaded, wire, stopped, log: d.log() }
}

/// The ipvlan lines of the SIGUSR1 data dump (`/tmp/keepalived.data`):
/// `Use IPVLAN, i/f …, type …` and `Interface = …, ipvlan on …`.
fn ipvlan_dump_lines(d: &Daemon) -> String {
    let path = std::path::Path::new("/tmp/keepalived.data");
    let _ = std::fs::remove_file(path);
    d.signal(nix::sys::signal::Signal::SIGUSR1);
    let read = || std::fs::read_to_string(path).unwrap_or_default();
    wait_for(10, || read().matches("Interface = ").count() >= 3);
    std::thread::sleep(Duration::from_millis(300));
    let text = read();
    // Not the `Interfaces` section, which keepalived-rs does not write
    // (docs/compat.md).
    let lines: Vec<&str> = text.lines().filter(|l| l.contains("Use IPVLAN") || l.contains("ipvlan on")).collect();
    lines.join("\n")
}

/// A reload: the new configuration, and the ipvlan it drops.
#[derive(Clone, Copy)]
struct Reload<'a> {
    conf: &'a str,
    drops: &'a str,
}

/// SIGHUP with the new configuration in place; the state once the ipvlan
/// it drops is gone and things settled.
fn reload_with(lab: &Lab, d: &Daemon, r: Reload<'_>) -> String {
    std::fs::write(lab.dir.join("keepalived.conf"), r.conf).unwrap();
    d.signal(nix::sys::signal::Signal::SIGHUP);
    wait_for(20, || !links(&lab.ns).contains(&format!("{}@", r.drops)));
    std::thread::sleep(Duration::from_secs(4));
    format!("{}\n--addrs\n{}", links(&lab.ns), addrs(&lab.ns))
}

/// keepalived 2.2.7's run of `conf`. Its VRRP child sometimes dies of a segmentation fault just
/// after a reload that deletes an instance's ipvlan (the parent then starts a new child, which
/// sets everything up again); that run says nothing about 2.2.7's reload, so it is run again, up
/// to three times (docs/compat.md).
fn reference_run(name: &str, conf: &str, reload: Option<Reload<'_>>, vips: &[&str]) -> Run {
    let mut attempt = 1;
    loop {
        let theirs = run(&format!("ka{name}"), &reference_bin(), conf, reload, vips);
        if !theirs.log.contains("exited due to segmentation fault") || attempt == 3 {
            return theirs;
        }
        println!("== {name}: keepalived 2.2.7's VRRP child crashed (run {attempt}), running it again");
        attempt += 1;
    }
}

/// `check` looks at keepalived's run; `known` turns our MASTER state into
/// what 2.2.7 makes where docs/compat.md records a difference.
fn compare(
    name: &str,
    (conf, reload): (&str, Option<Reload<'_>>),
    vips: &[&str],
    check: impl Fn(&Run),
    known: impl Fn(&str) -> String,
) {
    let theirs = reference_run(name, conf, reload, vips);
    let mut ours = run(&format!("rs{name}"), OURS, conf, reload, vips);
    ours.master = known(&ours.master);
    println!(
        "== {name}: keepalived 2.2.7, master:\n{}\n== reloaded:\n{}\n== wire:\n{}\n== stopped:\n{}",
        theirs.master, theirs.reloaded, theirs.wire, theirs.stopped
    );
    println!("== {name}: keepalived-rs log:\n{}", ours.log);
    check(&theirs);
    assert_eq!(ours.master, theirs.master, "{name}: kernel state while MASTER differs");
    assert_eq!(ours.reloaded, theirs.reloaded, "{name}: kernel state after the reload differs");
    assert_eq!(ours.wire, theirs.wire, "{name}: frames on the wire differ");
    assert_eq!(ours.stopped, theirs.stopped, "{name}: kernel state after stop differs");
}

const IPVLAN_CONF: &str = "global_defs {
    router_id vs
}
vrrp_instance V4 {
    state MASTER
    interface eth0
    use_ipvlan ipv1 198.51.100.50/24 private
    virtual_router_id 51
    priority 200
    advert_int 1
    virtual_ipaddress {
        198.51.100.51/24
    }
}
vrrp_instance V6 {
    state MASTER
    interface eth0
    use_ipvlan 2001:db8:1::50/64
    virtual_router_id 52
    priority 200
    advert_int 1
    virtual_ipaddress {
        2001:db8:1::52/64
    }
}
vrrp_instance V4VRF {
    state MASTER
    interface eth1
    use_ipvlan ipv3 192.0.2.50 vepa
    virtual_router_id 53
    priority 200
    advert_int 1
    virtual_ipaddress {
        192.0.2.53/24
    }
}
";

/// The reload drops V4's ipvlan (deleted; V4 stays, on eth0); the others
/// keep theirs.
fn ipvlan_reload_conf() -> String {
    IPVLAN_CONF.replacen("    use_ipvlan ipv1 198.51.100.50/24 private\n", "", 1)
}

#[test]
fn use_ipvlan_as_keepalived_2_2_7() {
    if !vm::guest() {
        return;
    }
    guest_path();
    let vips = [" 198.51.100.51/24", " 2001:db8:1::52/64", " 192.0.2.53/24"];
    compare(
        "ipvlan",
        (IPVLAN_CONF, Some(Reload { conf: &ipvlan_reload_conf(), drops: "ipv1" })),
        &vips,
        |ka| {
            assert!(ka.master.contains("ipvlan"), "keepalived made no ipvlan:\n{}\n{}", ka.master, ka.log);
        },
        str::to_string,
    );
}

/// Unnamed ipvlans (2.2.7 `vrrp_complete_instance`): numbered `vrrp.VRID`,
/// `vrrp6.VRID` (IPv6 second), `vrrp1.VRID`…; at a reload an instance takes
/// over the existing l2 ipvlan of its parent with its flags and address,
/// except an IPv6 one without an address.
const IPVLAN_NAMES_CONF: &str = "global_defs {
    router_id vsn
}
vrrp_instance A4 {
    state MASTER
    interface eth0
    use_ipvlan 198.51.100.60/24
    virtual_router_id 71
    priority 200
    advert_int 1
    virtual_ipaddress {
        198.51.100.71/24
    }
}
vrrp_instance A6 {
    state MASTER
    interface eth0
    use_ipvlan 2001:db8:1::60/64
    virtual_router_id 71
    priority 200
    advert_int 1
    virtual_ipaddress {
        2001:db8:1::71/64
    }
}
vrrp_instance B6 {
    state MASTER
    interface eth0
    use_ipvlan
    virtual_router_id 72
    priority 200
    advert_int 1
    virtual_ipaddress {
        2001:db8:1::72/64
    }
}
vrrp_instance C4 {
    state MASTER
    interface eth0
    use_ipvlan 198.51.100.62/24 private
    virtual_router_id 73
    priority 200
    advert_int 1
    virtual_ipaddress {
        198.51.100.73/24
    }
}
vrrp_instance D4 {
    state MASTER
    interface eth1
    use_ipvlan 192.0.2.60
    virtual_router_id 71
    priority 200
    advert_int 1
    virtual_ipaddress {
        192.0.2.71/24
    }
}
";

#[test]
fn ipvlan_names_as_keepalived_2_2_7() {
    if !vm::guest() {
        return;
    }
    guest_path();
    let vips = [" 198.51.100.71/24", " 2001:db8:1::71/64", " 2001:db8:1::72/64", " 198.51.100.73/24", " 192.0.2.71/24"];
    // The reload drops C4's ipvlan (vrrp.73).
    let reload = IPVLAN_NAMES_CONF.replacen("    use_ipvlan 198.51.100.62/24 private\n", "", 1);
    compare(
        "ipvlan_names",
        (IPVLAN_NAMES_CONF, Some(Reload { conf: &reload, drops: "vrrp.73" })),
        &vips,
        |ka| {
            assert!(ka.master.contains("vrrp6.71@eth0"), "keepalived's names:\n{}\n{}", ka.master, ka.log);
        },
        str::to_string,
    );
}

/// The ILA route's destination has a full locator and a LUID identifier
/// (type 1 in the identifier's top bits): the kernel refuses others.
const ROUTES_CONF: &str = "global_defs {
    router_id vsr
}
static_routes {
    10.9.0.0/24 encap mpls 100/200 dev eth0
    10.9.1.0/24 encap mpls 300 via 198.51.100.2 dev eth0 ttl-propagate disabled
    10.9.2.0/24 nexthop via 198.51.100.2 dev eth0 encap mpls 400 nexthop via 198.51.100.3 dev eth0 encap mpls 500/600
    10.9.3.0/24 via 192.0.2.2 dev eth1 vrf vrfa
    2001:db8:9:0:2000::1/128 encap ila 2001:0:0:1 via 2001:db8:1::2 dev eth0
    2001:db8:a::/64 encap mpls 800 via 2001:db8:1::2 dev eth0 ttl-propagate enabled
}
vrrp_instance VR {
    state MASTER
    interface eth0
    virtual_router_id 61
    priority 200
    advert_int 1
    virtual_ipaddress {
        198.51.100.61/24
    }
    virtual_routes {
        10.9.4.0/24 encap mpls 700 via 198.51.100.2 dev eth0
        10.9.5.0/24 via 192.0.2.2 dev eth1 vrf vrfa metric 5
        10.9.6.0/24 dev eth0 ttl-propagate enabled
        10.9.7.0/24 nexthop via 198.51.100.2 dev eth0 encap ip id 5 dst 1.2.3.4 nexthop via 198.51.100.3 dev eth0
    }
}
";

#[test]
fn route_encap_vrf_ttl_propagate_as_keepalived_2_2_7() {
    if !vm::guest() {
        return;
    }
    guest_path();
    compare(
        "routes",
        (ROUTES_CONF, None),
        &[" 198.51.100.61/24"],
        |ka| {
            assert!(ka.master.contains("encap mpls"), "keepalived installed no MPLS route:\n{}\n{}", ka.master, ka.log);
            assert!(ka.master.contains("10.9.5.0/24"), "keepalived installed no vrf route:\n{}", ka.master);
            assert!(ka.master.contains("encap ila"), "keepalived installed no ILA route:\n{}\n{}", ka.master, ka.log);
        },
        without_nexthop_encap,
    );
}

/// keepalived 2.2.7 drops a nexthop's `encap` (its `add_nexthop` passes the
/// attribute's current length as the buffer size, so `add_encap` never
/// fits); keepalived-rs installs it (docs/compat.md). Ours must carry them;
/// without them the states must be the same.
fn without_nexthop_encap(master: &str) -> String {
    assert!(master.contains("\tnexthop  encap mpls  400 via 198.51.100.2"), "no nexthop encap:\n{master}");
    assert!(master.contains("\tnexthop  encap mpls  500/600 via"), "no nexthop label stack:\n{master}");
    assert!(master.contains("\tnexthop  encap ip id 5 "), "no nexthop ip encap:\n{master}");
    let strip = |l: &str| match (l.strip_prefix("\tnexthop  encap "), l.find(" via ")) {
        (Some(_), Some(v)) => format!("\tnexthop {}", &l[v + 1..]),
        _ => l.to_string(),
    };
    master.lines().map(strip).collect::<Vec<_>>().join("\n") + if master.ends_with('\n') { "\n" } else { "" }
}
