//! Our IPVS requests against what ipvsadm 1.31 sent for the same
//! operation (captured in the guest kernel by `testdata/ipvs/capture.sh`:
//! `strace -e write=all ipvsadm …`, one hex message per line).
//!
//! Normalisations, each because the difference is not a difference of
//! meaning:
//! - the netlink header's sequence number and port id (bytes 8..16) are
//!   zeroed: they are per process;
//! - the message type is the IPVS family id, which the kernel assigns at
//!   boot: our message is built with the family id of the capture;
//! - in a real server nest, the tunnel attributes keepalived 2.2.7 does
//!   not send are removed from ipvsadm's message: ipvsadm sends tunnel
//!   type, port and flags for every real server (zero when unused);
//!   keepalived sends the type only for tunnels, the port only for GUE and
//!   the flags only for GUE and GRE, and so do we.

use super::*;
use crate::nla::unhex;

fn capture(name: &str) -> Vec<Vec<u8>> {
    let path = format!("{}/testdata/ipvs/{name}.hex", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    text.lines().filter(|l| !l.starts_with('#') && !l.trim().is_empty()).map(unhex).collect()
}

/// ipvsadm's message of `cmd` in capture `name` (ipvsadm first asks for
/// the IPVS information; lists send several requests).
fn theirs(name: &str, cmd: u8) -> Vec<u8> {
    let msgs = capture(name);
    msgs.into_iter().find(|m| m.get(16) == Some(&cmd)).unwrap_or_else(|| panic!("{name}: no command {cmd}"))
}

fn family_of(m: &[u8]) -> u16 {
    u16::from_ne_bytes([m[4], m[5]])
}

fn attrs_of(b: &[u8]) -> Vec<(u16, Vec<u8>)> {
    crate::raw::attrs(b).map(|(k, v)| (k, v.to_vec())).collect()
}

/// Emit one attribute.
fn emit(out: &mut Vec<u8>, kind: u16, value: &[u8]) {
    out.extend_from_slice(&((4 + value.len()) as u16).to_ne_bytes());
    out.extend_from_slice(&kind.to_ne_bytes());
    out.extend_from_slice(value);
    while !out.len().is_multiple_of(4) {
        out.push(0);
    }
}

/// The tunnel attributes keepalived omits for this real server nest.
fn omitted_tunnel_attrs(dest: &[(u16, Vec<u8>)]) -> Vec<u16> {
    let get = |k: u16| dest.iter().find(|(kk, _)| *kk == k).map(|(_, v)| v.clone()).unwrap_or_default();
    let fwd = get(DEST_ATTR_FWD_METHOD).first().copied().unwrap_or(0);
    if u32::from(fwd) != FwdMethod::Tunnel.number() {
        return vec![DEST_ATTR_TUN_TYPE, DEST_ATTR_TUN_PORT, DEST_ATTR_TUN_FLAGS];
    }
    match get(DEST_ATTR_TUN_TYPE).first().copied().unwrap_or(0) {
        0 => vec![DEST_ATTR_TUN_PORT, DEST_ATTR_TUN_FLAGS],
        2 => vec![DEST_ATTR_TUN_PORT],
        _ => vec![],
    }
}

/// A message with seq/pid zeroed and the tunnel attributes keepalived does
/// not send removed from its real server nest.
fn normalise(m: &[u8]) -> Vec<u8> {
    let mut body = Vec::new();
    for (kind, value) in crate::raw::attrs(&m[20..]) {
        if kind == CMD_ATTR_DEST {
            let inner = attrs_of(value);
            let drop = omitted_tunnel_attrs(&inner);
            let mut nest = Vec::new();
            for (k, v) in inner.iter().filter(|(k, _)| !drop.contains(k)) {
                emit(&mut nest, *k, v);
            }
            emit(&mut body, kind | NLA_F_NESTED, &nest);
        } else {
            let flag = if matches!(kind, CMD_ATTR_SERVICE | CMD_ATTR_DAEMON) { NLA_F_NESTED } else { 0 };
            emit(&mut body, kind | flag, value);
        }
    }
    let mut out = m[..20].to_vec();
    out[8..16].fill(0);
    out.extend(body);
    let len = out.len() as u32;
    out[..4].copy_from_slice(&len.to_ne_bytes());
    out
}

fn check(name: &str, ours: impl Fn(u16) -> MsgBuilder) {
    let first = capture(name).into_iter().last().expect("a message");
    let cmd = first[16];
    let theirs = theirs(name, cmd);
    let ours = ours(family_of(&theirs)).finish(0);
    assert_eq!(hex(&normalise(&ours)), hex(&normalise(&theirs)), "{name}");
    // Only the documented normalisations: seq/pid and the tunnel attributes.
    let mut ours_raw = ours.clone();
    ours_raw[8..16].fill(0);
    assert_eq!(hex(&normalise(&ours)), hex(&ours_raw), "{name}: our message is already normal");
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn v4(s: &str) -> IpAddr {
    IpAddr::V4(s.parse().unwrap())
}

fn v6(s: &str) -> IpAddr {
    IpAddr::V6(s.parse().unwrap())
}

fn tcp4(addr: &str, port: u16) -> ServiceKey {
    ServiceKey::Addr { family: Family::Inet, protocol: Protocol::Tcp, addr: v4(addr), port }
}

fn add(s: Service) -> impl Fn(u16) -> MsgBuilder {
    move |f| service_request(f, CMD_NEW_SERVICE, &s)
}

#[test]
fn services_as_ipvsadm() {
    check("svc_tcp4", add(Service::new(tcp4("10.0.0.1", 80), "rr")));
    let k6 = ServiceKey::Addr { family: Family::Inet6, protocol: Protocol::Udp, addr: v6("2001:db8::1"), port: 53 };
    check(
        "svc_udp6_persist",
        add(Service { flags: SVC_F_PERSISTENT, timeout: 300, netmask: 64, ..Service::new(k6, "wlc") }),
    );
    let sctp = ServiceKey::Addr { family: Family::Inet, protocol: Protocol::Sctp, addr: v4("10.0.0.1"), port: 5060 };
    let sh = SVC_F_SCHED_SH_FALLBACK | SVC_F_SCHED_SH_PORT;
    check("svc_sctp4_sh", add(Service { flags: sh, ..Service::new(sctp, "sh") }));
    let mh = SVC_F_SCHED_MH_FALLBACK | SVC_F_SCHED_MH_PORT;
    check(
        "svc_fwm4_mh",
        add(Service { flags: mh, ..Service::new(ServiceKey::Fwmark { family: Family::Inet, mark: 1 }, "mh") }),
    );
    check("svc_fwm6", add(Service::new(ServiceKey::Fwmark { family: Family::Inet6, mark: 2 }, "lc")));
    let p = Service {
        flags: SVC_F_PERSISTENT,
        timeout: 600,
        netmask: 0xffff_ff00,
        ..Service::new(tcp4("10.0.0.2", 443), "wrr")
    };
    check("svc_tcp4_persist_mask", add(p));
    let udp = |a: &str, port| ServiceKey::Addr { family: Family::Inet, protocol: Protocol::Udp, addr: v4(a), port };
    let sip = Service {
        flags: SVC_F_PERSISTENT,
        timeout: 60,
        pe_name: Some("sip".into()),
        ..Service::new(udp("10.0.0.3", 5060), "rr")
    };
    check("svc_udp4_pe_sip", add(sip));
    check("svc_udp4_ops", add(Service { flags: SVC_F_ONEPACKET, ..Service::new(udp("10.0.0.4", 53), "rr") }));
    check("svc_edit", |f| service_request(f, CMD_SET_SERVICE, &Service::new(tcp4("10.0.0.1", 80), "wlc")));
    check("svc_del", |f| del_service_request(f, &tcp4("10.0.0.1", 80)));
    check("svc_del_fwm6", |f| del_service_request(f, &ServiceKey::Fwmark { family: Family::Inet6, mark: 2 }));
}

#[test]
fn real_servers_as_ipvsadm() {
    let k = tcp4("10.0.0.1", 80);
    let nat = Dest { u_threshold: 100, l_threshold: 10, ..Dest::new(v4("127.0.0.2"), 8080, FwdMethod::Masq, 3) };
    check("dest_nat", |f| dest_request(f, CMD_NEW_DEST, &k, &nat));
    let dr = Dest::new(v4("127.0.0.3"), 80, FwdMethod::DirectRoute, 1);
    check("dest_dr", |f| dest_request(f, CMD_NEW_DEST, &k, &dr));
    let ipip = Dest::new(v4("127.0.0.4"), 80, FwdMethod::Tunnel, 1);
    check("dest_tun_ipip", |f| dest_request(f, CMD_NEW_DEST, &k, &ipip));
    let gue = Dest {
        tun_type: TunType::Gue,
        tun_port: 6080,
        tun_flags: TUN_F_NOCSUM,
        ..Dest::new(v4("127.0.0.5"), 80, FwdMethod::Tunnel, 1)
    };
    check("dest_tun_gue", |f| dest_request(f, CMD_NEW_DEST, &k, &gue));
    let rem = Dest {
        tun_type: TunType::Gue,
        tun_port: 6081,
        tun_flags: TUN_F_REMCSUM,
        ..Dest::new(v4("127.0.0.6"), 80, FwdMethod::Tunnel, 1)
    };
    check("dest_tun_gue_remcsum", |f| dest_request(f, CMD_NEW_DEST, &k, &rem));
    let gre =
        Dest { tun_type: TunType::Gre, tun_flags: TUN_F_CSUM, ..Dest::new(v4("127.0.0.7"), 80, FwdMethod::Tunnel, 1) };
    check("dest_tun_gre_csum", |f| dest_request(f, CMD_NEW_DEST, &k, &gre));
    let k6 = ServiceKey::Addr { family: Family::Inet6, protocol: Protocol::Tcp, addr: v6("2001:db8::1"), port: 80 };
    let d6 = Dest::new(v6("::1"), 8080, FwdMethod::Masq, 2);
    check("dest_v6_nat", |f| dest_request(f, CMD_NEW_DEST, &k6, &d6));
    let fwm6 = ServiceKey::Fwmark { family: Family::Inet6, mark: 2 };
    let mixed = Dest::new(v4("127.0.0.8"), 0, FwdMethod::Tunnel, 1);
    check("dest_fwm6_tun4", |f| dest_request(f, CMD_NEW_DEST, &fwm6, &mixed));
    let edit = Dest::new(v4("127.0.0.2"), 8080, FwdMethod::Masq, 5);
    check("dest_edit", |f| dest_request(f, CMD_SET_DEST, &k, &edit));
    let key = DestKey { addr: v4("127.0.0.2"), port: 8080 };
    check("dest_del", |f| del_dest_request(f, &k, &key));
}

#[test]
fn table_timeouts_and_daemons_as_ipvsadm() {
    check("flush", |f| msg(f, CMD_FLUSH, NLM_F_REQUEST | NLM_F_ACK));
    check("timeouts_set", |f| timeouts_request(f, &Timeouts { tcp: 900, tcp_fin: 120, udp: 300 }));
    check("timeouts_set_partial", |f| timeouts_request(f, &Timeouts { tcp: 0, tcp_fin: 60, udp: 0 }));
    let master = SyncDaemon {
        state: DaemonState::Master,
        ifname: "lo".into(),
        syncid: 5,
        sync_maxlen: 1400,
        mcast_group: Some(v4("224.0.0.82")),
        mcast_port: 8848,
        mcast_ttl: 2,
    };
    check("daemon_master", |f| daemon_start_request(f, &master));
    let backup = SyncDaemon {
        state: DaemonState::Backup,
        ifname: "lo".into(),
        syncid: 6,
        sync_maxlen: 0,
        mcast_group: Some(v6("ff02::1:2")),
        mcast_port: 8849,
        mcast_ttl: 0,
    };
    check("daemon_backup6", |f| daemon_start_request(f, &backup));
    check("daemon_stop", |f| daemon_stop_request(f, DaemonState::Master));
}

#[test]
fn queries_as_ipvsadm() {
    let cmp = |name: &str, ours: MsgBuilder, cmd: u8| {
        let theirs = theirs(name, cmd);
        let mut ours = ours.finish(0);
        ours[4..6].copy_from_slice(&theirs[4..6]);
        assert_eq!(hex(&normalise(&ours)), hex(&normalise(&theirs)), "{name} {cmd}");
    };
    cmp("svc_tcp4", msg(0, CMD_GET_INFO, NLM_F_REQUEST | NLM_F_ACK), CMD_GET_INFO);
    cmp("list_services", dump_request(0, CMD_GET_SERVICE, None), CMD_GET_SERVICE);
    cmp("list_services", dump_request(0, CMD_GET_DEST, Some(&tcp4("10.0.0.1", 80))), CMD_GET_DEST);
    cmp("list_timeouts", msg(0, CMD_GET_CONFIG, NLM_F_REQUEST | NLM_F_ACK), CMD_GET_CONFIG);
    cmp("list_daemons", dump_request(0, CMD_GET_DAEMON, None), CMD_GET_DAEMON);
}

/// libnl's `genl_ctrl_resolve(sock, "IPVS")` as ipvsadm sent it (same
/// strace capture, the controller's message; seq and pid zeroed).
#[test]
fn family_resolution_as_libnl() {
    let theirs = unhex("20000000 1000 0500 00000000 00000000 03010000 0900 0200 49505653 00000000");
    assert_eq!(hex(&resolve_request(0)), hex(&theirs));
}

#[test]
fn log_forms() {
    assert_eq!(tcp4("10.0.0.1", 80).to_string(), "[10.0.0.1]:tcp:80");
    assert_eq!(ServiceKey::Fwmark { family: Family::Inet, mark: 1 }.to_string(), "FWM 1");
    let k6 = ServiceKey::Addr { family: Family::Inet6, protocol: Protocol::Sctp, addr: v6("2001:db8::1"), port: 9 };
    assert_eq!(k6.to_string(), "[2001:db8::1]:sctp:9");
    assert_eq!(DestKey { addr: v4("192.168.1.2"), port: 80 }.to_string(), "[192.168.1.2]:80");
    let e = NetlinkError::IpvsUnavailable(io::Error::from_raw_os_error(ENOENT));
    assert_eq!(format!("IPVS: {e}"), "IPVS: Can't initialize ipvs: No such file or directory");
    assert_eq!(e.errno(), Some(ENOENT));
    assert_eq!(Info { version: 0x010201, conn_tab_size: 4096 }.version_string(), "1.2.1");
}

/// Our own requests read back by our decoders (the kernel answers in the
/// same attributes), so the two stay consistent.
#[test]
fn decoders_read_what_we_write() {
    let s = Service {
        flags: SVC_F_PERSISTENT,
        timeout: 600,
        netmask: 0xffff_ff00,
        pe_name: Some("sip".into()),
        ..Service::new(tcp4("10.0.0.2", 443), "wrr")
    };
    let m = service_request(0x20, CMD_NEW_SERVICE, &s).finish(1);
    let e = decode::service_entry(CMD_NEW_SERVICE, &m[20..]).unwrap().unwrap();
    assert_eq!(e.service, s);
    let s6 = Service { netmask: 64, ..Service::new(ServiceKey::Fwmark { family: Family::Inet6, mark: 7 }, "mh") };
    let m = service_request(0x20, CMD_NEW_SERVICE, &s6).finish(1);
    assert_eq!(decode::service_entry(CMD_NEW_SERVICE, &m[20..]).unwrap().unwrap().service, s6);
    let d = Dest {
        tun_type: TunType::Gue,
        tun_port: 6080,
        tun_flags: TUN_F_CSUM,
        ..Dest::new(v4("127.0.0.5"), 80, FwdMethod::Tunnel, -1)
    };
    let m = dest_request(0x20, CMD_NEW_DEST, &tcp4("10.0.0.1", 80), &d).finish(1);
    assert_eq!(decode::dest_entry(CMD_NEW_DEST, &m[20..], Family::Inet).unwrap().unwrap().dest, d);
    let sd = SyncDaemon {
        state: DaemonState::Backup,
        ifname: "eth0".into(),
        syncid: 6,
        sync_maxlen: 1400,
        mcast_group: Some(v6("ff02::1:2")),
        mcast_port: 8849,
        mcast_ttl: 3,
    };
    let m = daemon_start_request(0x20, &sd).finish(1);
    assert_eq!(decode::daemon(CMD_NEW_DAEMON, &m[20..]).unwrap().unwrap(), sd);
    let m = timeouts_request(0x20, &Timeouts { tcp: 1, tcp_fin: 2, udp: 3 }).finish(1);
    assert_eq!(decode::timeouts(CMD_SET_CONFIG, &m[20..]).unwrap().unwrap(), Timeouts { tcp: 1, tcp_fin: 2, udp: 3 });
}

/// Old kernels send only the 32-bit stats nest: read it when the 64-bit
/// one is absent, and prefer the 64-bit one when both are there.
#[test]
fn stats_fall_back_to_32_bits() {
    let d = Dest::new(v4("127.0.0.2"), 80, FwdMethod::Masq, 1);
    let build = |with64: bool| {
        let mut m = msg(0x20, CMD_NEW_DEST, 0);
        m.begin(CMD_ATTR_DEST, NLA_F_NESTED);
        m.attr(DEST_ATTR_ADDR, &[127, 0, 0, 2]).attr(DEST_ATTR_PORT, &80u16.to_be_bytes());
        m.u32_ne(DEST_ATTR_FWD_METHOD, 0).u32_ne(DEST_ATTR_WEIGHT, 1).u32_ne(DEST_ATTR_ACTIVE_CONNS, 4);
        m.begin(DEST_ATTR_STATS, NLA_F_NESTED).u32_ne(1, 7).u32_ne(5, 99).end();
        if with64 {
            m.begin(DEST_ATTR_STATS64, NLA_F_NESTED).attr(1, &8u64.to_ne_bytes()).end();
        }
        m.end();
        m.finish(1)
    };
    let e = decode::dest_entry(CMD_NEW_DEST, &build(false)[20..], Family::Inet).unwrap().unwrap();
    assert_eq!(e.dest, d);
    assert_eq!((e.stats.conns, e.stats.outbytes, e.active_conns), (7, 99, 4));
    let e = decode::dest_entry(CMD_NEW_DEST, &build(true)[20..], Family::Inet).unwrap().unwrap();
    assert_eq!((e.stats.conns, e.stats.outbytes), (8, 0));
}

/// Random bytes, and every truncation and single-byte corruption of valid
/// answers, through every decoder: errors, never a panic.
#[test]
fn decoders_never_panic() {
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut rnd = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let run = |b: &[u8]| {
        for cmd in 0..20u8 {
            let _ = decode::info(cmd, b);
            let _ = decode::timeouts(cmd, b);
            let _ = decode::service_entry(cmd, b);
            let _ = decode::dest_entry(cmd, b, Family::Inet);
            let _ = decode::dest_entry(cmd, b, Family::Inet6);
            let _ = decode::daemon(cmd, b);
        }
        let _ = decode::family_id(b);
    };
    let d = Dest { tun_type: TunType::Gue, ..Dest::new(v6("::1"), 80, FwdMethod::Tunnel, 1) };
    let valid = [
        service_request(0x20, CMD_NEW_SERVICE, &Service::new(tcp4("10.0.0.1", 80), "rr")).finish(1),
        dest_request(0x20, CMD_NEW_DEST, &tcp4("10.0.0.1", 80), &d).finish(1),
        daemon_start_request(
            0x20,
            &SyncDaemon {
                state: DaemonState::Master,
                ifname: "lo".into(),
                syncid: 1,
                sync_maxlen: 0,
                mcast_group: None,
                mcast_port: 0,
                mcast_ttl: 0,
            },
        )
        .finish(1),
        resolve_request(1),
    ];
    for v in &valid {
        for cut in 0..v.len() {
            run(&v[..cut]);
            run(v.get(20..cut).unwrap_or(&[]));
        }
        for i in 0..v.len() {
            let mut c = v.clone();
            c[i] ^= (rnd() as u8) | 1;
            run(&c);
            run(&c[20.min(c.len())..]);
        }
    }
    for _ in 0..2000 {
        let len = (rnd() % 200) as usize;
        let b: Vec<u8> = (0..len).map(|_| rnd() as u8).collect();
        run(&b);
    }
}
