//! The no_accept firewall against the real kernel, in a new network
//! namespace: the ruleset must be the one keepalived 2.2.7 builds (its own
//! `nft list ruleset`, captured in the lab, is the fixture), and TCP
//! connections from a second namespace to the blocked VIPs must fail while
//! connections to other addresses go through. Each test re-runs this binary
//! under `unshare -n`; it passes with a note when it cannot run (not root,
//! no `unshare`, `ip`, `nsenter` or `nft`).

use keepalived_netlink::dump_links;
use keepalived_netlink::nft::{Firewall, FirewallAddr};
use keepalived_testkit::in_netns;
use keepalived_testkit::kernel::Kernel;
use keepalived_testkit::netns::lo_up;
use keepalived_testkit::run;
use std::net::{IpAddr, Ipv6Addr, SocketAddr, SocketAddrV6, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};

/// The firewall tests also use `nsenter` and `nft` (apt-get install nftables).
const TOOLS: &[&str] = &["nsenter", "nft"];
use std::time::{Duration, Instant};

const CONNECT: &str = "KEEPALIVED_NFT_TEST_CONNECT";
const PORT: u16 = 7070;

/// A second namespace (a `sleep` in its own netns), killed on drop.
struct Peer(Child);

impl Peer {
    fn pid(&self) -> String {
        self.0.id().to_string()
    }

    fn run(&self, args: &[&str]) -> String {
        let pid = self.pid();
        let mut a = vec!["-t", pid.as_str(), "-n"];
        a.extend_from_slice(args);
        run("nsenter", &a)
    }

    /// Can the peer open a TCP connection to `to`? (`scope`: interface
    /// index in the peer, for a link-local address.)
    fn connects(&self, to: IpAddr, scope: u32) -> bool {
        let exe = std::env::current_exe().unwrap();
        let pid = self.pid();
        let out = Command::new("nsenter")
            .args(["-t", &pid, "-n"])
            .arg(&exe)
            .args(["--exact", "connect_helper", "--nocapture", "--test-threads=1"])
            .env(CONNECT, format!("{to} {scope}"))
            .output()
            .unwrap();
        let s = String::from_utf8_lossy(&out.stdout);
        assert!(s.contains("CONNECTED") || s.contains("FAILED"), "helper: {s}");
        s.contains("CONNECTED")
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Run by [`Peer::connects`] inside the peer namespace; a no-op otherwise.
#[test]
fn connect_helper() {
    let Ok(v) = std::env::var(CONNECT) else { return };
    let (addr, scope) = v.split_once(' ').unwrap();
    let ip: IpAddr = addr.parse().unwrap();
    let to = match ip {
        IpAddr::V6(a) => SocketAddr::V6(SocketAddrV6::new(a, PORT, 0, scope.parse().unwrap())),
        IpAddr::V4(_) => SocketAddr::new(ip, PORT),
    };
    match TcpStream::connect_timeout(&to, Duration::from_millis(1500)) {
        Ok(_) => println!("CONNECTED"),
        Err(e) => println!("FAILED {e}"),
    }
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

/// keepalived's lab addresses: eth0 here, eth1 in the peer.
fn setup() -> (Peer, u32, u32) {
    lo_up();
    run("ip", &["link", "add", "eth0", "type", "veth", "peer", "name", "eth1"]);
    let child = Command::new("unshare").args(["-n", "sleep", "120"]).stdin(Stdio::null()).spawn().unwrap();
    let peer = Peer(child);
    // Wait for the sleep to be in its namespace.
    let me = std::fs::read_link("/proc/self/ns/net").unwrap();
    for _ in 0..100 {
        if std::fs::read_link(format!("/proc/{}/ns/net", peer.pid())).map(|p| p != me).unwrap_or(false) {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    run("ip", &["link", "set", "eth1", "netns", &peer.pid()]);
    for a in ["198.51.100.1/24", "198.51.100.70/24", "198.51.100.71/32"] {
        run("ip", &["addr", "add", a, "dev", "eth0"]);
    }
    for a in ["2001:db8::1/64", "2001:db8::71/64", "fe80::71/64"] {
        run("ip", &["addr", "add", a, "dev", "eth0", "nodad"]);
    }
    run("ip", &["link", "set", "eth0", "up"]);
    peer.run(&["ip", "link", "set", "lo", "up"]);
    peer.run(&["ip", "addr", "add", "198.51.100.2/24", "dev", "eth1"]);
    peer.run(&["ip", "addr", "add", "2001:db8::2/64", "dev", "eth1", "nodad"]);
    peer.run(&["ip", "link", "set", "eth1", "up"]);
    let eth0 = dump_links().unwrap().iter().find(|l| l.name == "eth0").unwrap().index;
    let peer_pid: i32 = peer.pid().parse().unwrap();
    let eth1 = Kernel::of_pid(peer_pid).link("eth1").expect("eth1 in the peer").index;
    // Link-local addresses of eth1 leave DAD.
    std::thread::sleep(Duration::from_millis(300));
    (peer, eth0, eth1)
}

fn vips(eth0: u32) -> Vec<FirewallAddr> {
    ["198.51.100.70", "198.51.100.71", "2001:db8::71", "fe80::71"]
        .iter()
        .map(|a| FirewallAddr::new(ip(a), eth0))
        .collect()
}

fn ruleset() -> String {
    run("nft", &["list", "ruleset"])
}

#[test]
fn ruleset_as_keepalived_and_traffic_blocked() {
    in_netns("ruleset_as_keepalived_and_traffic_blocked", TOOLS, || {
        let (peer, eth0, eth1) = setup();
        let _listener = TcpListener::bind("[::]:7070").unwrap();
        let ll = IpAddr::V6("fe80::71".parse::<Ipv6Addr>().unwrap());
        let targets = [ip("198.51.100.70"), ip("198.51.100.71"), ip("2001:db8::71"), ll];
        for t in targets {
            assert!(peer.connects(t, eth1), "{t} reachable before blocking");
        }

        // A table of the same name from an earlier run is removed.
        run("nft", &["add", "table", "ip", "keepalived"]);
        run("nft", &["add", "chain", "ip", "keepalived", "stale"]);
        let mut fw = Firewall::open("keepalived", -1).unwrap();
        assert_eq!(ruleset().trim(), "", "the stale table is gone");

        let v = vips(eth0);
        // keepalived blocks each instance's VIPs in one go: IPv4 first.
        let t = Instant::now();
        fw.block(&v[..2]).unwrap();
        fw.block(&v[2..]).unwrap();
        println!("figure: first block (both tables set up, 4 VIPs): {:?}", t.elapsed());
        let ours = ruleset();
        let theirs = include_str!("../testdata/keepalived-2.2.7-no_accept-master.nft");
        assert_eq!(ours.trim(), theirs.trim(), "ruleset differs from keepalived 2.2.7's");

        for t in targets {
            assert!(!peer.connects(t, eth1), "{t} must be blocked");
        }
        // Other addresses of the box are not affected.
        assert!(peer.connects(ip("198.51.100.1"), eth1));
        assert!(peer.connects(ip("2001:db8::1"), eth1));

        // The same address blocked twice (two instances) needs two unblocks.
        fw.block(&v[..1]).unwrap();
        fw.unblock(&v).unwrap();
        assert!(fw.is_blocked(&v[0]) && !fw.is_blocked(&v[1]));
        assert!(!peer.connects(targets[0], eth1));
        assert!(peer.connects(targets[1], eth1));
        assert!(peer.connects(targets[3], eth1));
        fw.unblock(&v[..1]).unwrap();
        for t in targets {
            assert!(peer.connects(t, eth1), "{t} reachable after unblocking");
        }
        // Unblocking what is not blocked is harmless.
        fw.unblock(&v).unwrap();

        let t = Instant::now();
        fw.block(&v).unwrap();
        println!("figure: block 4 VIPs, tables in place: {:?}", t.elapsed());
        let t = Instant::now();
        fw.unblock(&v).unwrap();
        println!("figure: unblock 4 VIPs: {:?}", t.elapsed());
        fw.block(&v).unwrap();
        assert!(!peer.connects(targets[2], eth1));
        fw.close().unwrap();
        assert_eq!(ruleset().trim(), "", "tables deleted at close");
        assert!(peer.connects(targets[2], eth1));

        // Drop deletes the tables too.
        let mut fw = Firewall::open("keepalived", -1).unwrap();
        fw.block(&v[..1]).unwrap();
        assert!(ruleset().contains("table ip keepalived"));
        drop(fw);
        assert_eq!(ruleset().trim(), "");
    });
}

#[test]
fn options_and_refusals() {
    in_netns("options_and_refusals", TOOLS, || {
        lo_up();
        let mut fw = Firewall::open("ka_test", 5).unwrap();
        fw.set_counters(true);
        let name = FirewallAddr::LinkLocalName { addr: "fe80::5".parse().unwrap(), ifname: "lo".into() };
        fw.block(&[FirewallAddr::V6("2001:db8::5".parse().unwrap()), name.clone()]).unwrap();
        let r = ruleset();
        assert!(r.contains("table ip6 ka_test"), "{r}");
        assert!(!r.contains("table ip ka_test"), "no IPv4 table without IPv4 addresses: {r}");
        assert!(r.contains("priority filter + 5"), "{r}");
        assert!(r.contains("counter packets"), "{r}");
        assert!(r.contains("set vips_link_local_name"), "{r}");
        assert!(r.contains("type ipv6_addr . ifname"), "{r}");
        assert!(r.contains("fe80::5 . \"lo\""), "{r}");

        // Someone else removed our table: the error names the step.
        run("nft", &["delete", "table", "ip6", "ka_test"]);
        let e = fw.block(&[FirewallAddr::V6("2001:db8::6".parse().unwrap())]).unwrap_err();
        let msg = e.to_string();
        assert!(
            msg.starts_with("cannot block traffic to 2001:db8::6 (add 2001:db8::6 to set vips of table ip6 ka_test)"),
            "{msg}"
        );
        assert_eq!(e.errno(), Some(2));
        assert!(!fw.is_blocked(&FirewallAddr::V6("2001:db8::6".parse().unwrap())));
        drop(fw);
        assert!(Firewall::open("", -1).is_err());
    });
}

fn ifindex(name: &str) -> u32 {
    dump_links().unwrap().iter().find(|l| l.name == name).unwrap_or_else(|| panic!("no {name}")).index
}

/// keepalived's VMAC: a private-mode macvlan over eth0.
fn vmac(name: &str) -> u32 {
    run("ip", &["link", "add", name, "link", "eth0", "type", "macvlan", "mode", "private"]);
    run("ip", &["link", "set", name, "up"]);
    ifindex(name)
}

/// keepalived 2.2.7 with `use_vmac` (testdata/keepalived-2.2.7-vmac-nft.conf):
/// the same interface names here, so `nft list ruleset` must be the same
/// text.
#[test]
fn vmac_ruleset_as_keepalived() {
    in_netns("vmac_ruleset_as_keepalived", TOOLS, || {
        lo_up();
        run("ip", &["link", "add", "eth0", "type", "veth", "peer", "name", "eth1"]);
        run("ip", &["link", "set", "eth1", "up"]);
        run("ip", &["link", "set", "eth0", "up"]);
        let eth0 = ifindex("eth0");
        let v61 = vmac("vrrp.61");
        let v62 = vmac("vrrp.62");

        // IPv4: the VMAC is set up at start-up, the VIP blocked at master.
        let mut fw = Firewall::open("keepalived", -1).unwrap();
        fw.add_vmac(v61, eth0, false).unwrap();
        assert!(fw.has_vmac(v61, false) && !fw.has_vmac(v61, true));
        fw.add_vmac(v61, eth0, false).unwrap(); // already there: nothing to do
        let vip = FirewallAddr::V4("198.51.100.61".parse().unwrap());
        fw.block(std::slice::from_ref(&vip)).unwrap();
        let theirs = include_str!("../testdata/keepalived-2.2.7-vmac-ip-master.nft");
        assert_eq!(ruleset().trim(), theirs.trim(), "IPv4 VMAC ruleset differs from keepalived 2.2.7's");

        // The last VMAC gone: its element goes, the map and rule stay.
        fw.remove_vmac(v61, false).unwrap();
        assert!(!fw.has_vmac(v61, false));
        let theirs = include_str!("../testdata/keepalived-2.2.7-vmac-ip-removed.nft");
        assert_eq!(ruleset().trim(), theirs.trim(), "after remove_vmac");
        fw.remove_vmac(v61, false).unwrap(); // not there: ignored
                                             // Back again: only the element is added (the map exists).
        fw.add_vmac(v61, eth0, false).unwrap();
        let theirs = include_str!("../testdata/keepalived-2.2.7-vmac-ip-master.nft");
        assert_eq!(ruleset().trim(), theirs.trim(), "VMAC added again");
        fw.close().unwrap();
        assert_eq!(ruleset().trim(), "");

        // An instance with accept mode and use_vmac: no VIP is ever
        // blocked, keepalived still sets up the VMAC filtering.
        let mut fw = Firewall::open("keepalived", -1).unwrap();
        fw.add_vmac(v61, eth0, false).unwrap();
        let theirs = include_str!("../testdata/keepalived-2.2.7-vmac-ip-accept.nft");
        assert_eq!(ruleset().trim(), theirs.trim(), "VMAC without no_accept");
        fw.close().unwrap();

        // IPv6: MLD reports and router solicitations.
        let mut fw = Firewall::open("keepalived", -1).unwrap();
        fw.add_vmac(v62, eth0, true).unwrap();
        fw.block(&[FirewallAddr::V6("2001:db8::62".parse().unwrap())]).unwrap();
        let theirs = include_str!("../testdata/keepalived-2.2.7-vmac-ip6-master.nft");
        assert_eq!(ruleset().trim(), theirs.trim(), "IPv6 VMAC ruleset differs from keepalived 2.2.7's");
        fw.remove_vmac(v62, true).unwrap();
        let r = ruleset();
        assert!(r.contains("map vmac_map {\n\t\ttype iface_index : iface_index\n\t}"), "{r}");
        assert!(r.contains("set vmac_set {\n\t\ttype iface_index\n\t}"), "{r}");
        assert!(r.contains("oif @vmac_set drop"), "{r}");
        drop(fw);
        assert_eq!(ruleset().trim(), "");

        // A refusal leaves nothing half done: the table and map are still
        // believed absent and are created by the next add.
        let mut fw = Firewall::open("keepalived", -1).unwrap();
        assert!(fw.add_vmac(v61, 0, false).is_err());
        run("nft", &["add table ip keepalived; add set ip keepalived vmac_map { type ipv4_addr; }"]);
        let e = fw.add_vmac(v61, eth0, false).unwrap_err();
        assert!(e.to_string().contains("vmac_map"), "{e}");
        assert!(!fw.has_vmac(v61, false));
        run("nft", &["delete", "table", "ip", "keepalived"]);
        fw.add_vmac(v61, eth0, false).unwrap();
        let theirs = include_str!("../testdata/keepalived-2.2.7-vmac-ip-accept.nft");
        assert_eq!(ruleset().trim(), theirs.trim(), "after a refused batch");
    });
}
