//! Network namespaces. Two shapes, both leaving the host untouched:
//!
//! - [`in_netns`]: a test re-runs its own binary under `unshare -n`,
//!   filtered to itself, so its body runs in a fresh, empty namespace that
//!   disappears with the process (the netlink, socket and checker tests).
//! - [`Node`]: a named namespace (`ip netns`) with `eth0`, whose veth peer
//!   sits in a second namespace where captures and pings run (the parity
//!   tests, which start daemons inside with `ip netns exec`).

use std::net::Ipv4Addr;
use std::os::fd::AsFd;
use std::path::PathBuf;
use std::process::Command;

use crate::prereq;

/// Set in the re-run process: the body runs there.
const IN_NETNS: &str = "KEEPALIVED_TEST_IN_NETNS";

/// True inside the re-run (the fresh namespace).
pub fn inside() -> bool {
    std::env::var_os(IN_NETNS).is_some()
}

/// Bring `lo` up: a fresh namespace starts with it down.
pub fn lo_up() {
    run("ip", &["link", "set", "lo", "up"]);
}

/// Run a command that must succeed; its standard output.
pub fn run(cmd: &str, args: &[&str]) -> String {
    let out = Command::new(cmd).args(args).output().unwrap_or_else(|e| panic!("{cmd}: {e}"));
    assert!(out.status.success(), "{cmd} {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A shell command's standard output, whatever its status.
pub fn sh(cmd: &str) -> String {
    let out = Command::new("sh").args(["-c", cmd]).output().unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Run `body` in a fresh network namespace by re-running the test `name`
/// there. `tools` are commands the body needs besides `unshare` and `ip`;
/// without root or one of them the test fails.
pub fn in_netns(name: &str, tools: &[&str], body: fn()) {
    if inside() {
        body();
        return;
    }
    prereq::require(&["unshare", "ip"]);
    prereq::require(tools);
    let exe = std::env::current_exe().unwrap();
    let out = Command::new("unshare")
        .arg("-n")
        .arg(&exe)
        .args(["--exact", name, "--nocapture", "--test-threads=1"])
        .env(IN_NETNS, "1")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "in the new namespace:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("1 passed"), "the test did not run in the namespace");
}

/// Run `f` on a thread that entered the named namespace `ns`
/// (`/run/netns/ns`); what it opens stays in that namespace.
pub fn within<T: Send + 'static>(ns: &str, f: impl FnOnce() -> T + Send + 'static) -> T {
    within_path(&format!("/run/netns/{ns}"), f)
}

/// [`within`] the namespace that the file `path` names (`/proc/PID/ns/net`...).
pub fn within_path<T: Send + 'static>(path: &str, f: impl FnOnce() -> T + Send + 'static) -> T {
    let path = path.to_string();
    std::thread::spawn(move || {
        let file = std::fs::File::open(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        nix::sched::setns(file.as_fd(), nix::sched::CloneFlags::CLONE_NEWNET).expect("setns");
        f()
    })
    .join()
    .expect("the thread in the namespace")
}

/// A raw IPv4 socket with IP_HDRINCL, opened in namespace `ns`.
pub fn raw_hdrincl_socket_in(ns: &str, protocol: u8) -> socket2::Socket {
    within(ns, move || {
        let proto = socket2::Protocol::from(i32::from(protocol));
        let s = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::RAW, Some(proto)).expect("raw socket");
        s.set_header_included_v4(true).expect("IP_HDRINCL");
        s
    })
}

/// Send a whole IPv4 datagram (header included) to its destination, out
/// of interface address `via` for multicast.
pub fn send_datagram(s: &socket2::Socket, via: Ipv4Addr, datagram: &[u8]) -> std::io::Result<usize> {
    let dst = Ipv4Addr::new(datagram[16], datagram[17], datagram[18], datagram[19]);
    if dst.is_multicast() {
        s.set_multicast_if_v4(&via)?;
    }
    s.send_to(datagram, &std::net::SocketAddrV4::new(dst, 0).into())
}

/// The shell set-up of the namespace keepalived's sample configurations
/// are checked in (as shared/keepalived/run_config_tests.sh makes it):
/// each of `ifaces` (eth0..eth3, VLAN-named ones too) a veth with
/// 192.168.(200+n).250/24, 10.n.0.250/24 and 2001:db8:n::250/64, and
/// 192.168.200.250/24 on eth0 as well.
pub fn samples_setup(ifaces: &[&str]) -> String {
    format!(
        "ip link set lo up\nn=1\nfor i in {}; do\n\
         \x20 ip link add $i type veth peer name p$n && ip link set $i up && ip link set p$n up\n\
         \x20 ip addr add 192.168.$((200+n)).250/24 dev $i\n\
         \x20 ip addr add 10.$n.0.250/24 dev $i\n\
         \x20 ip -6 addr add 2001:db8:$n::250/64 dev $i nodad\n\
         \x20 n=$((n+1))\ndone\nip addr add 192.168.200.250/24 dev eth0\n",
        ifaces.join(" ")
    )
}

/// A node: namespace `ns` with `eth0` = 198.51.100.1/24, its far end
/// `peth0` = 198.51.100.2/24 in namespace `peer`, and a work directory.
/// Both namespaces and the directory go on drop (`PARITY_KEEP` keeps the
/// directory).
pub struct Node {
    pub ns: String,
    pub peer: String,
    pub dir: PathBuf,
}

impl Node {
    pub fn new(test: &str, tag: &str) -> Node {
        let ns = format!("ka{test}{}{tag}", std::process::id() % 100000);
        let peer = format!("{ns}p");
        let dir = PathBuf::from(format!("/tmp/ka-rs-{test}-{}-{tag}", std::process::id()));
        let node = Node { ns, peer, dir };
        node.remove();
        std::fs::create_dir_all(&node.dir).unwrap();
        {
            use std::os::unix::fs::PermissionsExt;
            // Scripts under enable_script_security need a directory only root writes.
            std::fs::set_permissions(&node.dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        let (n, p) = (&node.ns, &node.peer);
        let script = format!(
            "set -e; ip netns add {n}; ip netns add {p}; \
             ip -n {n} link add eth0 type veth peer name peth0 netns {p}; \
             ip -n {n} link set lo up; ip -n {n} link set eth0 up; ip -n {p} link set peth0 up; \
             ip -n {n} addr add 198.51.100.1/24 dev eth0; ip -n {p} addr add 198.51.100.2/24 dev peth0"
        );
        assert!(Command::new("sh").args(["-c", &script]).status().unwrap().success(), "lab set-up");
        node
    }

    /// Run a command in the node's namespace.
    pub fn exec(&self, args: &[&str]) {
        let st = Command::new("ip").args(["netns", "exec", &self.ns]).args(args).status().unwrap();
        assert!(st.success(), "{args:?} in {} failed", self.ns);
    }

    /// `ip -o addr show` of the node (for messages; assertions read
    /// [`crate::kernel`]).
    pub fn addrs(&self) -> String {
        sh(&format!("ip -n {} -o addr show", self.ns))
    }

    /// Some interface of the node holds `addr`.
    pub fn has_addr(&self, addr: &str) -> bool {
        crate::kernel::Kernel::named(&self.ns).has_addr(None, addr)
    }

    pub fn path(&self, file: &str) -> PathBuf {
        self.dir.join(file)
    }

    fn remove(&self) {
        let _ = Command::new("sh")
            .args(["-c", &format!("ip netns del {} 2>/dev/null; ip netns del {} 2>/dev/null", self.ns, self.peer)])
            .status();
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        self.remove();
        if std::env::var_os("PARITY_KEEP").is_none() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}
