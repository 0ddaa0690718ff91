//! The configuration → IPVS mapping, checked against what keepalived
//! 2.2.7's `ipvs_set_srule` / `ipvs_set_drule` / `ipvs_group_cmd` send.

use super::*;
use keepalived_config::{parse_str, Config, ParseOptions};

fn config(text: &str) -> Config {
    let opts = ParseOptions { validate: true, ..ParseOptions::default() };
    parse_str("test.conf", text, &opts).config
}

fn vs_services(cfg: &Config, i: usize) -> Vec<SvcEntry> {
    services(&cfg.lvs.virtual_servers[i], &cfg.lvs.groups)
}

fn v4(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn spec(cfg: &Config, vs: usize, rs: usize) -> DestSpec {
    let v = &cfg.lvs.virtual_servers[vs];
    let r = &v.real_servers[rs];
    DestSpec {
        addr: r.addr,
        port: r.port,
        fwd: r.forwarding.or(v.forwarding).unwrap(),
        u_threshold: r.uthreshold,
        l_threshold: r.lthreshold,
    }
}

#[test]
fn address_service_with_persistence_and_flags() {
    let cfg = config(
        "virtual_server 10.0.0.1 80 {\n lb_algo sh\n lb_kind NAT\n protocol UDP\n ops\n sh-port\n flag-3\n \
         persistence_timeout 600\n persistence_granularity 255.255.255.0\n persistence_engine sip\n \
         real_server 10.0.1.1 8080 {\n weight 3\n uthreshold 100\n lthreshold 10\n }\n}\n",
    );
    let s = vs_services(&cfg, 0);
    assert_eq!(s.len(), 1);
    let svc = &s[0].service;
    assert_eq!(
        svc.key,
        ServiceKey::Addr { family: Family::Inet, protocol: Protocol::Udp, addr: v4("10.0.0.1"), port: 80 }
    );
    assert_eq!(svc.sched, "sh");
    let want = nl::SVC_F_ONEPACKET | nl::SVC_F_SCHED_SH_PORT | nl::SVC_F_SCHED3 | nl::SVC_F_PERSISTENT;
    assert_eq!(svc.flags, want);
    assert_eq!(svc.timeout, 600);
    assert_eq!(svc.netmask, 0xffff_ff00);
    assert_eq!(svc.pe_name.as_deref(), Some("sip"));
    let d = dest(&s[0], &spec(&cfg, 0, 0), 3);
    assert_eq!((d.addr, d.port, d.fwd, d.weight), (v4("10.0.1.1"), 8080, FwdMethod::Masq, 3));
    assert_eq!((d.u_threshold, d.l_threshold), (100, 10));
}

#[test]
fn no_persistence_leaves_default_netmask() {
    let cfg = config(
        "virtual_server 10.0.0.1 80 {\n lb_algo rr\n lb_kind DR\n protocol UDP\n real_server 10.0.1.1 80 {\n }\n}\n",
    );
    let svc = &vs_services(&cfg, 0)[0].service;
    assert_eq!((svc.flags, svc.timeout, svc.netmask, svc.pe_name.clone()), (0, 0, u32::MAX, None));
    assert!(matches!(svc.key, ServiceKey::Addr { protocol: Protocol::Udp, .. }));
}

#[test]
fn fwmark_service_and_dr_dest_port() {
    let cfg = config(
        "virtual_server fwmark 7 {\n lb_algo wrr\n lb_kind DR\n real_server 10.0.1.1 80 {\n }\n \
         real_server 10.0.1.2 80 {\n lvs_method NAT\n }\n}\n",
    );
    let s = vs_services(&cfg, 0);
    assert_eq!(s[0].service.key, ServiceKey::Fwmark { family: Family::Inet, mark: 7 });
    // DR destinations of a fwmark service have no port; NAT ones keep theirs.
    assert_eq!(dest(&s[0], &spec(&cfg, 0, 0), 1).port, 0);
    assert_eq!(dest(&s[0], &spec(&cfg, 0, 1), 1).port, 80);
}

#[test]
fn ipv6_persistence_prefix() {
    let cfg = config(
        "virtual_server 2001:db8::1 443 {\n lb_algo rr\n lb_kind NAT\n protocol TCP\n persistence_timeout 30\n \
         persistence_granularity 64\n real_server 2001:db8::2 443 {\n }\n}\n",
    );
    let svc = &vs_services(&cfg, 0)[0].service;
    assert_eq!(svc.key.family(), Family::Inet6);
    assert_eq!(svc.netmask, 64);
}

#[test]
fn group_expands_ranges_and_fwmarks() {
    let cfg = config(
        "virtual_server_group G {\n 10.0.0.1-3 80\n 10.0.0.250-10.0.1.1 80\n 192.168.0.0/30 443\n fwmark 5 inet\n fwmark 6 inet\n}\n\
         virtual_server group G {\n lb_algo rr\n lb_kind DR\n protocol TCP\n persistence_timeout 60\n \
         persistence_granularity 255.255.0.0\n real_server 10.0.9.9 8080 {\n }\n}\n",
    );
    let s = vs_services(&cfg, 0);
    let keys: Vec<String> = s.iter().map(|e| format_srule(&e.service.key)).collect();
    let want = [
        "10.0.0.1:tcp:80",
        "10.0.0.2:tcp:80",
        "10.0.0.3:tcp:80",
        "10.0.0.250:tcp:80",
        "10.0.0.251:tcp:80",
        "10.0.0.252:tcp:80",
        "10.0.0.253:tcp:80",
        "10.0.0.254:tcp:80",
        "10.0.0.255:tcp:80",
        "10.0.1.0:tcp:80",
        "10.0.1.1:tcp:80",
    ];
    assert_eq!(&keys[..want.len()], &want[..]);
    let rest: Vec<&str> = keys[want.len()..].iter().map(String::as_str).collect();
    assert!(rest.starts_with(&["192.168.0.0:tcp:443"]), "{rest:?}");
    assert_eq!(&rest[rest.len() - 2..], &["Fwm 5", "Fwm 6"]);
    // keepalived resets the netmask of group entries to the default.
    assert!(s.iter().all(|e| e.service.flags & nl::SVC_F_PERSISTENT != 0));
    assert_eq!(s[0].service.netmask, u32::MAX);
    // A DR destination takes each service's port.
    let d = spec(&cfg, 0, 0);
    assert_eq!(dest(&s[0], &d, 1).port, 80);
    assert_eq!(dest(&s[want.len()], &d, 1).port, 443);
    assert_eq!(dest(&s[s.len() - 1], &d, 1).port, 0);
}

#[test]
fn missing_group_gives_no_service() {
    let cfg = config("virtual_server group NOPE {\n lb_algo rr\n lb_kind NAT\n protocol TCP\n}\n");
    assert!(cfg.lvs.virtual_servers.is_empty() || vs_services(&cfg, 0).is_empty());
}

#[test]
fn ipv6_range_increments_last_group_only() {
    let r = range_addrs("2001:db8::fffe".parse().unwrap(), "2001:db8::ffff".parse().unwrap());
    assert_eq!(r.len(), 2);
    assert_eq!(range_addrs(v4("10.0.0.5"), v4("10.0.0.1")), vec![v4("10.0.0.5")]);
    assert_eq!(range_addrs(v4("10.0.0.0"), v4("10.255.255.255")).len(), MAX_RANGE as usize);
}

#[test]
fn tunnel_dest_and_weight_clamp() {
    let cfg = config(
        "virtual_server 10.0.0.1 80 {\n lb_algo rr\n lb_kind TUN type gue port 6080 csum\n protocol TCP\n \
         real_server 10.0.1.1 80 {\n }\n}\n",
    );
    let s = vs_services(&cfg, 0);
    let d = dest(&s[0], &spec(&cfg, 0, 0), -5);
    assert_eq!(
        (d.fwd, d.tun_type, d.tun_port, d.tun_flags, d.weight),
        (FwdMethod::Tunnel, TunType::Gue, 6080, nl::TUN_F_CSUM, 0)
    );
    assert_eq!(dest(&s[0], &spec(&cfg, 0, 0), i64::MAX).weight, i32::MAX);
}

#[test]
fn error_lines_as_keepalived() {
    let k = ServiceKey::Addr { family: Family::Inet, protocol: Protocol::Tcp, addr: v4("10.0.0.1"), port: 80 };
    assert_eq!(
        error_line(Cmd::AddDest, 17, Some(&k), Some((v4("10.0.1.1"), 8080))),
        "IPVS cmd IP_VS_SO_SET_ADDDEST(1095) error: Destination already exists(17) (10.0.0.1:tcp:80 -> 10.0.1.1:8080)"
    );
    assert_eq!(
        error_line(Cmd::Add, 2, Some(&k), None),
        "IPVS cmd IP_VS_SO_SET_ADD(1090) error: Scheduler or persistence engine not found(2) (10.0.0.1:tcp:80)"
    );
    assert_eq!(
        error_line(Cmd::Flush, 1, None, None),
        "IPVS cmd IP_VS_SO_SET_FLUSH(1093) error: Permission denied (you must be root)(1)"
    );
    assert_eq!(ipvs_strerror(Cmd::DelDest, 2), "No such destination");
    assert_eq!(ipvs_strerror(Cmd::Add, 24), "Too many open files");
}
