//! Area `lvs`: virtual servers, real servers, checkers, SSL.

use keepalived_config::model::lvs::*;
use keepalived_config::{parse_str, ParseOptions, Parsed, Severity, SystemView};

fn opts() -> ParseOptions {
    ParseOptions { system: SystemView::with_interfaces(&["lo", "eth0", "eth1", "eth2", "eth3"]), ..Default::default() }
}

fn parse(text: &str) -> Parsed {
    parse_str("keepalived.conf", text, &opts())
}

/// Messages this area may produce (everything except other areas' stubs:
/// unknown top-level keywords and notices).
fn lvs_msgs(p: &Parsed) -> Vec<String> {
    p.diags
        .iter()
        .filter(|d| d.severity != Severity::Notice)
        .filter(|d| !(d.severity == Severity::UnknownKeyword && d.message.contains("(in top level")))
        .map(|d| d.message.clone())
        .collect()
}

fn has(p: &Parsed, s: &str) -> bool {
    p.diags.has(s)
}

fn vs1(body: &str) -> String {
    format!("virtual_server 10.0.0.1 80 {{\n lb_algo rr\n lb_kind NAT\n protocol TCP\n{body}\n}}\n")
}

fn rs1(body: &str) -> String {
    vs1(&format!("real_server 10.0.0.2 80 {{\n{body}\n}}"))
}

fn first_vs(p: &Parsed) -> &VirtualServer {
    &p.config.lvs.virtual_servers[0]
}

fn first_rs(p: &Parsed) -> &RealServer {
    &p.config.lvs.virtual_servers[0].real_servers[0]
}

// ------------------------------------------------------------------ samples

const SAMPLES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/samples");
const OUTS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/config-test-2.2.7");

/// LVS lines keepalived printed for a sample (lines of other areas are
/// listed in `others` and ignored).
fn sample_check(file: &str, expected: &[&str]) {
    let path = format!("{SAMPLES}/{file}");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let p = parse_str(file, &text, &opts());
    let got: Vec<String> = lvs_msgs(&p)
        .into_iter()
        .filter(|m| {
            m.contains("irtual server")
                || m.contains("real server")
                || m.contains("VS ")
                || m.contains("checker")
                || m.contains("CHECK")
                || m.contains("quorum")
                || m.contains("SECURITY")
        })
        .collect();
    assert_eq!(got, expected, "sample {file}: all messages {:?}", lvs_msgs(&p));
    let out_path = format!("{OUTS}/{file}.netns.out");
    let out = std::fs::read_to_string(&out_path).unwrap_or_else(|e| panic!("{out_path}: {e}"));
    for e in expected {
        assert!(out.contains(e), "{file}: {e} not in keepalived output");
    }
}

#[test]
fn samples_clean() {
    for f in [
        "keepalived.conf.HTTP_GET.port",
        "keepalived.conf.IPv6",
        "keepalived.conf.PING_CHECK",
        "keepalived.conf.SMTP_CHECK",
        "keepalived.conf.SSL_GET",
        "keepalived.conf.UDP_CHECK",
        "keepalived.conf.inhibit",
        "keepalived.conf.misc_check",
        "keepalived.conf.misc_check_arg",
        "keepalived.conf.quorum",
        "keepalived.conf.sample",
        "keepalived.conf.status_code",
        "keepalived.conf.virtual_server_group",
        "keepalived.conf.virtualhost",
        "etc.keepalived.conf",
        "etc.keepalived.conf.sample",
    ] {
        sample_check(f, &[]);
    }
}

#[test]
fn sample_fwmark() {
    sample_check(
        "keepalived.conf.fwmark",
        &["Warning: Virtual server FWM 1: protocol specified for fwmark - protocol will be ignored"],
    );
}

// ------------------------------------------------------------------ keywords: rejected values

/// Each snippet (inside a real_server unless it starts with "VS:" = inside
/// the virtual_server, or "TOP:" = top level) gives keepalived's message.
#[test]
fn rejected_values_give_keepalived_messages() {
    let cases: &[(&str, &str)] = &[
        ("TOP:SSL {\n password\n}", "SSL password missing"),
        ("TOP:SSL {\n ca\n}", "SSL cafile missing"),
        ("TOP:SSL {\n certificate\n}", "SSL certfile missing"),
        ("TOP:SSL {\n key\n}", "SSL keyfile missing"),
        ("TOP:SSL {\n}\nSSL {\n}", "SSL context already specified - replacing"),
        ("TOP:virtual_server_group G {\n}", "virtual server group G has no entries - removing"),
        ("TOP:virtual_server_group G {\n fwmark abc\n}", "(G): fwmark 'abc' must be in [0, 4294967295] - ignoring"),
        ("TOP:virtual_server_group G {\n fwmark 1 foo\n}", "(G): fwmark '1' family foo unknown - ignoring"),
        ("TOP:virtual_server_group G {\n 10.0.0.x 80\n}", "Invalid virtual server group IP address 10.0.0.x /port/80 - skipping"),
        ("TOP:virtual_server_group G {\n 10.0.0.1/33\n}", "Invalid netmask - 10.0.0.1/33 - skipping"),
        ("TOP:virtual_server_group G {\n 10.0.0.1/24\n}", "Address mask bits not empty - 10.0.0.1/24 - skipping"),
        ("TOP:virtual_server_group G {\n 10.0.0.5-3\n}", "Address range end is not greater than address range start - 10.0.0.5-3 - skipping"),
        ("TOP:virtual_server_group G {\n 10.0.0.5-300\n}", "Virtual server group range '10.0.0.5-300' end '300' too large"),
        ("TOP:virtual_server_group G {\n 10.0.0.5-7x\n}", "Virtual server group range '10.0.0.5-7x' has extra characters at end 'x'"),
        ("TOP:virtual_server_group G {\n 10.0.0.9-10.0.0.1\n}", "Address range end is less than address range start - 10.0.0.9-10.0.0.1 - skipping"),
        ("TOP:virtual_server_group G {\n 10.0.0.1\n 2001:db8::1\n fwmark 3\n}", "virtual server group G cannot have IPv4, IPv6 and fwmark without family - removing"),
        ("TOP:virtual_server 10.0.0.300 80 {\n}", "Invalid virtual server IP address/port 10.0.0.300/80 - skipping"),
        ("TOP:virtual_server fwmark x {\n}", "virtual server fwmark 'x' must be in [0, 4294967295] - ignoring"),
        ("VS:ip_family foo", "unknown address family foo"),
        ("VS:ip_family inet6", "Virtual server specified family inet6 conflicts with server family"),
        ("VS:retry 0", "retry value invalid - 0"),
        ("VS:delay_before_retry -1", "virtual server delay before retry '-1' invalid - ignoring"),
        ("VS:warmup -1", "virtual server warmup '-1' invalid - ignoring"),
        ("VS:connect_timeout 0", "virtual server connect_timeout 0 invalid - ignoring"),
        ("VS:delay_loop 0", "virtual server delay loop '0' invalid - ignoring"),
        ("VS:lb_algo foo", "Invalid lvs_scheduler 'foo' - ignoring"),
        ("VS:lvs_sched foo", "Invalid lvs_scheduler 'foo' - ignoring"),
        ("VS:hashed", "hashed only applies to sh scheduler - ignoring"),
        ("VS:sh-port", "sh-port only applies to sh scheduler - ignoring"),
        ("VS:mh-fallback", "mh-fallback only applies to sh scheduler - ignoring"),
        ("VS:lb_kind dr", "PARSER : unknown [dr] routing method for virtual server."),
        ("VS:lvs_method TUN type foo", "Unknown tunnel type foo for virtual server."),
        ("VS:lvs_method TUN type", "Missing tunnel type for virtual server."),
        ("VS:lvs_method TUN type gue", "gue tunnels require port, otherwise cannot have port."),
        ("VS:lvs_method TUN port x", "Invalid gue tunnel port x for virtual server."),
        ("VS:lvs_method TUN csum", "ipip tunnels do not support checksum option."),
        ("VS:lvs_method TUN type gre remcsum", "gre tunnels do not support remote checksum option."),
        ("VS:lvs_method TUN bogus", "Invalid tunnel option bogus for virtual server."),
        ("VS:persistence_engine abcdefghijklmnopq", "persistence_name too long, truncating - abcdefghijklmnopq"),
        ("VS:persistence_timeout 0", "persistence_timeout invalid"),
        ("VS:persistence_granularity 300.1.1.1", "Invalid IPv4 persistence_granularity specified - 300.1.1.1"),
        ("VS:protocol xx", "Unknown protocol xx - ignoring"),
        ("VS:smtp_alert maybe", "Invalid virtual_server smtp_alert parameter maybe"),
        ("VS:virtualhost", "virtual server virtualhost missing"),
        ("VS:snmp_name", "virtual server snmp_name missing or extra parameters"),
        ("VS:quorum 0", "Quorum 0 must be in [1, 4294967295]. Setting to 1."),
        ("VS:hysteresis -1", "Hysteresis -1 must be in [0, 4294967295] - ignoring"),
        ("VS:weight 0", "Virtual server weight 0 is outside range 1-2147483647"),
        ("VS:sorry_server 1.2.3 80", "Invalid sorry server IP address 1.2.3 - skipping"),
        ("VS:sorry_server_inhibit", "Ignoring sorry_server inhibit used before or without sorry_server"),
        ("VS:sorry_server_lvs_method DR", "sorry_server forwarding used without sorry_server"),
        ("VS:sorry_server 10.0.0.9 80\nsorry_server_lvs_method XX", "PARSER : unknown [XX] routing method for sorry server."),
        ("VS:real_server 10.0.0.2 abc {\n}", "Invalid real server ip address/port 10.0.0.2/abc - skipping"),
        ("VS:quorum_up /bin/true\nquorum_up /bin/false", "((null)) quorum_up script already specified - ignoring /bin/false"),
        ("VS:quorum_down /bin/true\nquorum_down /bin/false", "((null)) quorum_down script already specified - ignoring /bin/false"),
        ("weight -1", "Real server weight -1 is outside range 0-2147483647"),
        ("lvs_method FOO", "PARSER : unknown [FOO] routing method for real server."),
        ("uthreshold x", "Invalid real_server uthreshold 'x' - ignoring"),
        ("lthreshold x", "Invalid real_server lthreshold 'x' - ignoring"),
        ("inhibit_on_failure maybe", "Invalid inhibit_on_failure parameter maybe"),
        ("alpha maybe", "Invalid alpha parameter maybe"),
        ("retry 0", "retry value invalid - 0"),
        ("delay_before_retry -1", "real server delay_before_retry '-1' invalid - ignoring"),
        ("warmup -1", "real server warmup '-1' invalid - ignoring"),
        ("connect_timeout x", "real server connect_timeout x invalid - ignoring"),
        ("delay_loop x", "real server delay_loop 'x' invalid - ignoring"),
        ("smtp_alert maybe", "Invalid real_server smtp_alert parameter maybe"),
        ("virtualhost", "real server virtualhost missing"),
        ("snmp_name", "real server snmp_name missing or extra parameters"),
        ("notify_up /bin/true\nnotify_up /bin/false", "((null)) notify_up script already specified - ignoring /bin/false"),
        ("notify_down /bin/true\nnotify_down /bin/false", "((null)) notify_down script already specified - ignoring /bin/false"),
        ("TCP_CHECK {\n connect_ip 1.2.3\n}", "Invalid connect_ip address 1.2.3 - ignoring"),
        ("TCP_CHECK {\n bindto 2001:db8::1\n connect_ip 10.1.1.1\n}", "connect_ip address 10.1.1.1 does not match address family of bindto - skipping"),
        ("TCP_CHECK {\n connect_ip 10.1.1.1\n bindto 2001:db8::1\n}", "bindto address 2001:db8::1 does not match address family of connect_ip - skipping"),
        ("TCP_CHECK {\n connect_port 0\n}", "Invalid checker connect_port '0'"),
        ("TCP_CHECK {\n bindto x\n}", "Invalid bindto address x - ignoring"),
        ("TCP_CHECK {\n bind_port 70000\n}", "Invalid checker bind_port '70000'"),
        ("TCP_CHECK {\n bind_if abcdefghijklmnopq\n}", "Interface name abcdefghijklmnopq is too long - ignoring"),
        ("TCP_CHECK {\n connect_timeout 0\n}", "connect_timeout 0 invalid - ignoring"),
        ("TCP_CHECK {\n fwmark x\n}", "Invalid fwmark connection value 'x'"),
        ("TCP_CHECK {\n retry x\n}", "Invalid retry connection value 'x'"),
        ("TCP_CHECK {\n delay_before_retry -1\n}", "Invalid delay_before_retry connection value '-1'"),
        ("TCP_CHECK {\n warmup -1\n}", "Invalid warmup connection value '-1'"),
        ("TCP_CHECK {\n delay_loop 0\n}", "delay_loop '0' is invalid - ignoring"),
        ("TCP_CHECK {\n alpha x\n}", "Invalid alpha parameter x"),
        ("TCP_CHECK {\n log_all_failures x\n}", "Invalid log_all_failures parameter x"),
        ("TCP_CHECK {\n nb_get_retry 3\n}", "Unknown keyword 'nb_get_retry'"),
        ("PING_CHECK {\n connect_ip fe80::1\n}", "Checker link local address fe80::1 requires a bind_if"),
        ("HTTP_GET {\n}", "HTTP/SSL_GET checker has no urls specified - ignoring"),
        ("HTTP_GET {\n url {\n }\n}", "HTTP/SSL_GET checker url has no path - ignoring"),
        ("HTTP_GET {\n nb_get_retry 3\n url {\n path /\n }\n}", "nb_get_retry is deprecated - please use 'retry'"),
        ("HTTP_GET {\n nb_get_retry x\n}", "Invalid nb_get_retry value 'x'"),
        ("HTTP_GET {\n virtualhost\n}", "HTTP_GET virtualhost name missing"),
        ("HTTP_GET {\n http_protocol 2.0\n}", "Invalid http_protocol version 2.0"),
        ("HTTP_GET {\n http_protocol\n}", "Missing http_protocol version"),
        ("HTTP_GET {\n enable_sni x\n}", "Invalid enable_sni parameter x"),
        ("HTTP_GET {\n fast_recovery x\n}", "Invalid fast_recovery parameter x"),
        ("HTTP_GET {\n sni_name a\n sni_name\n}", "sni_name already specified as a - ignoring setting to default"),
        ("HTTP_GET {\n tls_compliant\n}", "Unknown keyword 'tls_compliant'"),
        ("SSL_GET {\n tls_compliant x\n}", "Invalid tls_compliant option x"),
        ("SSL_GET {\n url {\n tls_compliant x\n }\n}", "Invalid tls_compliant option x"),
        ("HTTP_GET {\n url {\n digest 123\n }\n}", "digest '123' character length should be 32 rather than 3"),
        ("HTTP_GET {\n url {\n digest 0123456789abcdef0123456789abcdeg\n }\n}", "Unable to interpret hex digit in '0123456789abcdef0123456789abcdeg' at offset 30/31"),
        ("HTTP_GET {\n url {\n digest 0123456789abcdef0123456789abcdef\n digest 0123456789abcdef0123456789abcdef\n }\n}", "Digest '0123456789abcdef0123456789abcdef' is a duplicate"),
        ("HTTP_GET {\n url {\n status_code 99 700 300-200 abc\n }\n}", "Invalid HTTP_GET status code '300-200'"),
        ("HTTP_GET {\n url {\n virtualhost\n }\n}", "Missing HTTP_GET virtualhost name"),
        ("HTTP_GET {\n url {\n regex a b\n }\n}", "regex missing or too many fields"),
        ("HTTP_GET {\n url {\n regex a\n regex b\n }\n}", "Duplicate regex specified - replacing a with b"),
        ("DNS_CHECK {\n type XX\n}", "Unknown DNS check type XX - ignoring"),
        ("DNS_CHECK {\n name foo..bar\n}", "DNS_CHECK name 'foo..bar' has empty label - ignoring"),
        ("DNS_CHECK {\n name .foo\n}", "DNS_CHECK name '.foo' has empty label - ignoring"),
        ("DNS_CHECK {\n name x\n name y\n}", "DNS_CHECK name already specified - ignoring"),
        ("UDP_CHECK {\n payload\n}", "UDP_CHECK payload requires a payload"),
        ("UDP_CHECK {\n payload 0g\n}", "Invalid hex string for UDP_CHECK payload"),
        ("UDP_CHECK {\n require_reply zz\n}", "Invalid hex string for UDP_CHECK reply"),
        ("UDP_CHECK {\n min_reply_length 70000\n}", "UDP_CHECK min length 70000 not valid - must be between 0 & 65535"),
        ("UDP_CHECK {\n max_reply_length x\n}", "UDP_CHECK max length x not valid - must be between 0 & 65535"),
        ("UDP_CHECK {\n min_reply_length 10\n max_reply_length 5\n}", "UDP_CHECK min_reply length 10 > max_reply_length 5 - will always fail"),
        ("MISC_CHECK {\n}", "No script path has been specified for MISC_CHECKER - skipping"),
        ("MISC_CHECK {\n misc_path /bin/true\n misc_timeout x\n}", "Invalid misc_timeout value 'x'"),
        ("MISC_CHECK {\n misc_path /bin/true\n user\n}", "No user specified for misc checker script '/bin/true'"),
        ("MISC_CHECK {\n misc_path /bin/true\n user nosuchuser_kars\n}", "Failed to set uid/gid for misc checker script '/bin/true' - removing"),
        ("MISC_CHECK {\n connect_ip 1.1.1.1\n}", "Unknown keyword 'connect_ip'"),
        ("FILE_CHECK {\n track_file nope\n}", "track_file nope not found"),
        ("FILE_CHECK {\n weight\n}", "track file weight missing"),
        ("FILE_CHECK {\n weight 3000000000\n}", "weight for track file must be in [-2147483647..2147483647] inclusive. Ignoring..."),
        ("FILE_CHECK {\n weight 5 sideways\n}", "unknown track file weight option sideways - ignoring"),
        ("FILE_CHECK {\n}", "FILE_CHECK has no track_file specified - ignoring"),
        ("BFD_CHECK {\n name nope\n}", "([10.0.0.2]:tcp:80) BFD_CHECK - BFD nope not configured"),
        ("BFD_CHECK {\n name\n}", "([10.0.0.2]:tcp:80) BFD_CHECK - No or too many names specified - skipping checker"),
        ("BFD_CHECK {\n}", "([10.0.0.2]:tcp:80) No name has been specified for BFD_CHECKER - skipping"),
        ("BFD_CHECK {\n alpha x\n}", "Invalid alpha parameter x"),
        ("SMTP_CHECK {\n helo_name\n}", "SMTP_CHECK helo name missing"),
        ("SMTP_CHECK {\n helo_name a\n helo_name b\n}", "SMTP_CHECK helo name already specified"),
    ];
    for (snippet, msg) in cases {
        let text = if let Some(t) = snippet.strip_prefix("TOP:") {
            t.to_string()
        } else if let Some(v) = snippet.strip_prefix("VS:") {
            vs1(&format!("{v}\nreal_server 10.0.0.2 80 {{\n}}"))
        } else {
            rs1(snippet)
        };
        let p = parse(&text);
        assert!(has(&p, msg), "{snippet:?}: expected {msg:?}, got {:?}", lvs_msgs(&p));
        assert_ne!(p.test_exit_code(), 0, "{snippet:?}");
    }
}

#[test]
fn missing_parameter_stops() {
    for s in [
        "VS:lb_algo",
        "VS:protocol",
        "VS:quorum",
        "weight",
        "TCP_CHECK {\n connect_port\n}",
        "HTTP_GET {\n url {\n path\n }\n}",
    ] {
        let text = match s.strip_prefix("VS:") {
            Some(v) => vs1(v),
            None => rs1(s),
        };
        let p = parse(&text);
        assert_eq!(p.test_exit_code(), 2, "{s}");
        assert!(has(&p, "is missing a parameter"), "{s}");
    }
    let p = parse("virtual_server {\n}\n");
    assert_eq!(p.test_exit_code(), 2);
    let p = parse("virtual_server group {\n}\n");
    assert_eq!(p.test_exit_code(), 2);
}

// ------------------------------------------------------------------ keywords: accepted values

#[test]
fn virtual_server_keywords_accepted() {
    let p = parse(
        "virtual_server 10.0.0.1 80 {
  lvs_sched sh
  sh-port
  sh-fallback
  ops
  flag-1
  flag-2
  flag-3
  lvs_method TUN type gue port 6080 csum
  protocol udp
  persistence_timeout
  persistence_granularity 255.255.255.0
  persistence_engine sip
  delay_loop 10
  connect_timeout 2.5
  retry 4
  delay_before_retry 7
  warmup 0
  inhibit_on_failure
  alpha
  omega
  quorum 2
  hysteresis 1
  quorum_up /bin/true
  quorum_down \"/bin/echo down\"
  ha_suspend
  virtualhost www.example.com
  smtp_alert no
  snmp_name vs1
  ip_family inet
  weight 3
  sorry_server 10.0.0.9 80
  sorry_server_inhibit
  sorry_server_lvs_method DR
  real_server 10.0.0.2 80 {
  }
}
",
    );
    assert_eq!(lvs_msgs(&p), Vec::<String>::new());
    assert_eq!(p.test_exit_code(), 0);
    let vs = first_vs(&p);
    assert_eq!(vs.addr, VsAddr::Ip { addr: "10.0.0.1".parse().unwrap(), port: 80 });
    assert_eq!(vs.sched.as_deref(), Some("sh"));
    assert!(
        vs.flags.sh_port
            && vs.flags.sh_fallback
            && vs.flags.ops
            && vs.flags.flag_1
            && vs.flags.flag_2
            && vs.flags.flag_3
    );
    let f = vs.forwarding.unwrap();
    assert_eq!((f.method, f.tun_type, f.tun_port, f.tun_csum), (FwdMethod::Tun, TunType::Gue, 6080, TunCsum::Csum));
    assert_eq!(vs.protocol, Some(Protocol::Udp));
    assert_eq!(vs.persistence_timeout, 360);
    assert_eq!(vs.persistence_granularity, Some(Granularity::V4("255.255.255.0".parse().unwrap())));
    assert_eq!(vs.persistence_engine.as_deref(), Some("sip"));
    assert_eq!(vs.delay_loop, 10_000_000);
    assert_eq!(vs.connect_timeout, 2_500_000);
    assert_eq!(vs.retry, Some(4));
    assert_eq!(vs.delay_before_retry, Some(7_000_000));
    assert_eq!(vs.warmup, Some(0));
    assert!(vs.inhibit_on_failure && vs.alpha && vs.omega && vs.ha_suspend);
    assert_eq!((vs.quorum, vs.hysteresis), (2, 1));
    assert_eq!(vs.quorum_up.as_ref().unwrap().args, vec!["/bin/true"]);
    assert_eq!(vs.quorum_down.as_ref().unwrap().args, vec!["/bin/echo", "down"]);
    assert_eq!(vs.virtualhost.as_deref(), Some("www.example.com"));
    assert_eq!(vs.smtp_alert, Some(false));
    assert_eq!(vs.snmp_name.as_deref(), Some("vs1"));
    assert_eq!(vs.af, Some(Family::Inet));
    assert_eq!(vs.weight, 3);
    let ss = vs.sorry_server.as_ref().unwrap();
    assert!(ss.inhibit);
    assert_eq!(ss.forwarding.unwrap().method, FwdMethod::Dr);
    // the real server inherits the weight and the tunnel settings
    let rs = first_rs(&p);
    assert_eq!(rs.weight, Some(3));
    assert_eq!(rs.forwarding, vs.forwarding);
}

#[test]
fn aliases_lb_algo_lb_kind_and_mh_flags() {
    let p = parse(&vs1("lb_algo mh\nmh-port\nmh-fallback\nlb_kind DR\nreal_server 10.0.0.2 80 {\n}"));
    let vs = first_vs(&p);
    assert_eq!(vs.sched.as_deref(), Some("mh"));
    assert!(vs.flags.mh_port && vs.flags.mh_fallback);
    assert_eq!(vs.forwarding.unwrap().method, FwdMethod::Dr);
    assert_eq!(lvs_msgs(&p), Vec::<String>::new());
}

#[test]
fn real_server_keywords_accepted() {
    let p = parse(&rs1("weight 5
lvs_method DR
uthreshold 100
lthreshold 10
inhibit_on_failure off
alpha yes
notify_up /bin/true
notify_down \"/bin/echo x\"
retry 2
delay_before_retry 4
warmup 1
connect_timeout 3
delay_loop 9
smtp_alert on
virtualhost rs.example.com
snmp_name rs1"));
    assert_eq!(lvs_msgs(&p), Vec::<String>::new());
    let rs = first_rs(&p);
    assert_eq!(rs.weight, Some(5));
    assert_eq!(rs.forwarding.unwrap().method, FwdMethod::Dr);
    assert_eq!((rs.uthreshold, rs.lthreshold), (100, 10));
    assert_eq!(rs.inhibit_on_failure, Some(false));
    assert_eq!(rs.alpha, Some(true));
    assert_eq!(rs.notify_up.as_ref().unwrap().path(), "/bin/true");
    assert_eq!(rs.notify_down.as_ref().unwrap().args, vec!["/bin/echo", "x"]);
    assert_eq!(rs.retry, Some(2));
    assert_eq!(rs.delay_before_retry, Some(4_000_000));
    assert_eq!(rs.warmup, Some(1_000_000));
    assert_eq!(rs.connect_timeout, Some(3_000_000));
    assert_eq!(rs.delay_loop, Some(9_000_000));
    assert_eq!(rs.smtp_alert, Some(true));
    assert_eq!(rs.virtualhost.as_deref(), Some("rs.example.com"));
    assert_eq!(rs.snmp_name.as_deref(), Some("rs1"));
}

#[test]
fn ssl_block() {
    let p = parse("SSL {\n password secret\n ca /etc/ca.pem\n certificate /etc/c.pem\n key /etc/k.pem\n}\n");
    let s = p.config.lvs.ssl.as_ref().unwrap();
    assert_eq!(s.password.as_deref(), Some("secret"));
    assert_eq!(s.ca.as_deref(), Some("/etc/ca.pem"));
    assert_eq!(s.certificate.as_deref(), Some("/etc/c.pem"));
    assert_eq!(s.key.as_deref(), Some("/etc/k.pem"));
    assert_eq!(p.test_exit_code(), 0);
}

#[test]
fn virtual_server_group_entries() {
    let p = parse(
        "virtual_server_group G {
  10.0.0.1 80
  10.0.0.1-10 80
  10.0.0.20-10.0.0.30 80
  10.0.1.0/24 80
  fwmark 5 inet
  fwmark 6 inet
}
virtual_server group G {
  lb_algo rr
  lb_kind NAT
  protocol TCP
  real_server 10.0.0.2 80 {
  }
}
virtual_server group G {
  lb_algo rr
  lb_kind NAT
  protocol TCP
  real_server 10.0.0.3 80 {
  }
}
",
    );
    let g = &p.config.lvs.groups[0];
    assert_eq!(g.entries.len(), 6);
    let ranges: Vec<(String, String, u16)> = g
        .entries
        .iter()
        .filter_map(|e| match e {
            VsgEntry::Range { start, end, port, .. } => Some((start.to_string(), end.to_string(), *port)),
            _ => None,
        })
        .collect();
    assert_eq!(ranges[1], ("10.0.0.1".into(), "10.0.0.10".into(), 80));
    assert_eq!(ranges[2], ("10.0.0.20".into(), "10.0.0.30".into(), 80));
    assert_eq!(ranges[3], ("10.0.1.0".into(), "10.0.1.255".into(), 80));
    assert!(matches!(g.entries[4], VsgEntry::Fwmark { mark: 5, family: Some(Family::Inet), .. }));
    assert!(g.have_ipv4 && !g.have_ipv6 && !g.fwmark_no_family);
    let vss = &p.config.lvs.virtual_servers;
    assert_eq!(vss.len(), 2);
    assert_eq!(vss[1].addr, VsAddr::Group { name: "G".into(), index: 1 });
    // fwmarks with families in the group: real server ports are warned about only when not NAT
    assert!(!has(&p, "has port specified"));
}

#[test]
fn group_not_configured_drops_vs_quietly() {
    let p = parse("virtual_server group NOPE {\n real_server 10.0.0.2 80 {\n }\n}\n");
    assert!(p.config.lvs.virtual_servers.is_empty());
    assert!(has(&p, "Virtual server group NOPE specified but not configured - ignoring virtual server [NOPE]:0"));
    assert_eq!(p.test_exit_code(), 0);
}

// ------------------------------------------------------------------ checkers

#[test]
fn checker_blocks_accepted() {
    let p = parse(&rs1("TCP_CHECK {
  connect_ip 10.0.0.7
  connect_port 8080
  bindto 10.0.0.1
  bind_port 4000
  bind_if eth0
  connect_timeout 3
  fwmark 7
  retry 0
  delay_before_retry 2
  warmup 5
  delay_loop 6
  alpha
  log_all_failures
}
HTTP_GET {
  virtualhost h.example.com
  http_protocol 1.1
  fast_recovery
  enable_sni
  url {
    path /health
    digest 0123456789abcdef0123456789ABCDEF
    status_code 200 301-302
    virtualhost u.example.com
    regex \"OK.*\"
    regex_no_match
    regex_options caseless multiline
    regex_min_offset 1
    regex_max_offset 100
    regex_stack 1000 2000
  }
}
SSL_GET {
  sni_name sni.example.com
  tls_compliant
  url {
    path /
    tls_compliant
  }
}
SMTP_CHECK {
  helo_name mx.example.com
}
DNS_CHECK {
  type aaaa
  name example.com
}
UDP_CHECK {
  payload 01 02 0a0b
  require_reply 0x x1
  min_reply_length 2
  max_reply_length 100
}
PING_CHECK {
}
MISC_CHECK {
  misc_path \"/bin/check arg1 'arg 2'\"
  misc_timeout 5
  misc_dynamic
  user root
}"));
    assert_eq!(lvs_msgs(&p), Vec::<String>::new());
    assert!(p.config.lvs.ssl_required);
    let cs = &first_rs(&p).checkers;
    assert_eq!(cs.len(), 8);
    let tcp = &cs[0];
    assert!(matches!(tcp.kind, CheckerKind::Tcp));
    let co = tcp.conn.as_ref().unwrap();
    assert_eq!(co.connect_ip, Some("10.0.0.7".parse().unwrap()));
    assert_eq!(co.connect_port, Some(8080));
    assert_eq!(co.bindto, Some("10.0.0.1".parse().unwrap()));
    assert_eq!(co.bind_port, Some(4000));
    assert_eq!(co.bind_if.as_deref(), Some("eth0"));
    assert_eq!(co.connect_timeout, Some(3_000_000));
    assert_eq!(co.fwmark, Some(7));
    assert_eq!(tcp.retry, Some(0));
    assert_eq!(tcp.delay_before_retry, Some(2_000_000));
    assert_eq!(tcp.warmup, Some(5_000_000));
    assert_eq!(tcp.delay_loop, Some(6_000_000));
    assert_eq!(tcp.alpha, Some(true));
    assert!(tcp.log_all_failures);

    let CheckerKind::Http(h) = &cs[1].kind else { panic!() };
    assert!(!h.ssl && h.fast_recovery && h.enable_sni);
    assert_eq!(h.http_protocol, HttpProtocol::V1_1);
    assert_eq!(h.virtualhost.as_deref(), Some("h.example.com"));
    let u = &h.urls[0];
    assert_eq!(u.path.as_deref(), Some("/health"));
    assert_eq!(u.digest.as_ref().unwrap()[15], 0xef);
    assert_eq!(u.status_codes, vec![(200, 200), (301, 302)]);
    assert_eq!(u.virtualhost.as_deref(), Some("u.example.com"));
    assert_eq!(u.regex.as_deref(), Some("OK.*"));
    assert!(u.regex_no_match);
    assert_eq!(u.regex_options, vec!["caseless", "multiline"]);
    assert_eq!((u.regex_min_offset, u.regex_max_offset), (1, 101));
    assert_eq!(u.regex_stack, Some((1000, 2000)));

    let CheckerKind::Http(s) = &cs[2].kind else { panic!() };
    assert!(s.ssl && s.tls_compliant && s.enable_sni && s.urls[0].tls_compliant);
    assert_eq!(s.sni_name.as_deref(), Some("sni.example.com"));
    assert_eq!(s.urls[0].status_codes, vec![(200, 299)]);

    let CheckerKind::Smtp(m) = &cs[3].kind else { panic!() };
    assert_eq!(m.helo_name.as_deref(), Some("mx.example.com"));

    let CheckerKind::Dns(d) = &cs[4].kind else { panic!() };
    assert_eq!((d.qtype.as_str(), d.name.as_deref()), ("AAAA", Some("example.com")));

    let CheckerKind::Udp(u) = &cs[5].kind else { panic!() };
    assert_eq!(u.payload.as_deref(), Some(&[1u8, 2, 0x0a, 0x0b][..]));
    assert!(u.require_reply);
    assert_eq!(u.reply_data.as_deref(), Some(&[0u8, 1][..]));
    assert_eq!(u.reply_mask.as_deref(), Some(&[0x0fu8, 0xf0][..]));
    assert_eq!((u.min_reply_length, u.max_reply_length), (2, 100));

    assert!(matches!(cs[6].kind, CheckerKind::Ping));

    let CheckerKind::Misc(m) = &cs[7].kind else { panic!() };
    assert_eq!(m.script.as_ref().unwrap().args, vec!["/bin/check", "arg1", "arg 2"]);
    assert_eq!(m.script.as_ref().unwrap().user.as_deref(), Some("root"));
    assert_eq!(m.timeout, Some(5_000_000));
    assert!(m.dynamic);
    assert!(cs[7].conn.is_none());
}

#[test]
fn checker_defaults_and_inheritance() {
    // VS → RS → checker, then the checker's built-in defaults.
    let p = parse(&vs1("delay_loop 20
connect_timeout 7
real_server 10.0.0.2 80 {
  TCP_CHECK {
  }
  HTTP_GET {
    url {
      path /
    }
  }
  DNS_CHECK {
  }
  MISC_CHECK {
    misc_path /bin/true
  }
  SMTP_CHECK {
  }
}
real_server 10.0.0.3 80 {
  retry 5
  delay_before_retry 2
  warmup 1
  delay_loop 30
  connect_timeout 4
  alpha
  TCP_CHECK {
  }
  DNS_CHECK {
    retry 9
  }
}"));
    assert_eq!(lvs_msgs(&p), Vec::<String>::new());
    let vs = first_vs(&p);
    let cs = &vs.real_servers[0].checkers;
    // TCP: retry 1, dbr 1 s, warmup = delay_loop, timeout = VS
    assert_eq!(cs[0].retry, Some(1));
    assert_eq!(cs[0].delay_before_retry, Some(1_000_000));
    assert_eq!(cs[0].delay_loop, Some(20_000_000));
    assert_eq!(cs[0].warmup, Some(20_000_000));
    assert_eq!(cs[0].conn.as_ref().unwrap().connect_timeout, Some(7_000_000));
    assert_eq!(cs[0].alpha, Some(false));
    // HTTP: dbr 3 s
    assert_eq!(cs[1].delay_before_retry, Some(3_000_000));
    // DNS: retry 3, dbr = delay_loop, type SOA, name ""
    assert_eq!(cs[2].retry, Some(3));
    assert_eq!(cs[2].delay_before_retry, Some(20_000_000));
    let CheckerKind::Dns(d) = &cs[2].kind else { panic!() };
    assert_eq!((d.qtype.as_str(), d.name.as_deref()), ("SOA", Some("")));
    // MISC: retry 0, timeout = VS delay_loop
    assert_eq!(cs[3].retry, Some(0));
    let CheckerKind::Misc(m) = &cs[3].kind else { panic!() };
    assert_eq!(m.timeout, Some(20_000_000));
    // SMTP: default HELO, timeout from the VS
    let CheckerKind::Smtp(s) = &cs[4].kind else { panic!() };
    assert_eq!(s.helo_name.as_deref(), Some("smtpchecker.keepalived.org"));
    assert_eq!(cs[4].conn.as_ref().unwrap().connect_timeout, Some(7_000_000));

    let rs = &vs.real_servers[1];
    let cs = &rs.checkers;
    assert_eq!(cs[0].retry, Some(5));
    assert_eq!(cs[0].delay_before_retry, Some(2_000_000));
    assert_eq!(cs[0].warmup, Some(1_000_000));
    assert_eq!(cs[0].delay_loop, Some(30_000_000));
    assert_eq!(cs[0].conn.as_ref().unwrap().connect_timeout, Some(4_000_000));
    assert_eq!(cs[0].alpha, Some(true));
    assert_eq!(cs[1].retry, Some(9));

    // RS values inherited from the VS
    let rs0 = &vs.real_servers[0];
    assert_eq!(rs0.delay_loop, Some(20_000_000));
    assert_eq!(rs0.connect_timeout, Some(7_000_000));
    assert_eq!(rs0.weight, Some(1));
    assert_eq!(rs0.alpha, Some(false));
    assert_eq!(rs0.inhibit_on_failure, Some(false));
}

#[test]
fn smtp_host_blocks_become_checkers() {
    let p = parse(&rs1(
        "SMTP_CHECK {\n connect_timeout 10\n host {\n connect_ip 10.1.1.1\n }\n host {\n connect_ip 10.1.1.2\n }\n}",
    ));
    let cs = &first_rs(&p).checkers;
    // connection options set on the checker itself: checker + one per host
    assert_eq!(cs.len(), 3);
    let p = parse(&rs1("SMTP_CHECK {\n host {\n connect_ip 10.1.1.1\n }\n host {\n connect_ip 10.1.1.2\n }\n}"));
    let cs = &first_rs(&p).checkers;
    assert_eq!(cs.len(), 2);
    assert_eq!(cs[0].conn.as_ref().unwrap().connect_ip, Some("10.1.1.1".parse().unwrap()));
    assert_eq!(cs[1].conn.as_ref().unwrap().connect_ip, Some("10.1.1.2".parse().unwrap()));
    assert!(has(&p, "The SMTP_CHECK host block is deprecated. Please define additional checkers."));
    assert_eq!(p.test_exit_code(), 0);
}

#[test]
fn dropped_checkers_are_not_kept() {
    let p = parse(&rs1("HTTP_GET {\n url {\n }\n}\nMISC_CHECK {\n}\nFILE_CHECK {\n}\nBFD_CHECK {\n}"));
    assert!(first_rs(&p).checkers.is_empty());
    assert!(first_rs(&p).file_checks.is_empty());
}

// ------------------------------------------------------------------ validation

#[test]
fn validation_defaults_with_messages() {
    let p = parse("virtual_server 10.0.0.5 {\n real_server 10.0.0.6 {\n }\n}\n");
    assert_eq!(
        lvs_msgs(&p),
        vec![
            "Virtual server [10.0.0.5]:none:0: no protocol set - defaulting to UDP",
            "Virtual server [10.0.0.5]:udp:0: zero port only valid for persistent services - setting",
            "Virtual server [10.0.0.5]:udp:0: no scheduler set, setting default 'wlc'",
            "Virtual server [10.0.0.5]:udp:0: no forwarding method set, setting default NAT",
        ]
    );
    assert_eq!(p.test_exit_code(), 5);
    let vs = first_vs(&p);
    assert_eq!(vs.protocol, Some(Protocol::Udp));
    assert_eq!(vs.persistence_timeout, 360);
    assert_eq!(vs.sched.as_deref(), Some("wlc"));
    assert_eq!(vs.forwarding.unwrap().method, FwdMethod::Nat);
}

#[test]
fn fwmark_protocol_ignored() {
    let p = parse(
        "virtual_server fwmark 1 {\n lb_algo rr\n lb_kind NAT\n protocol TCP\n real_server 10.0.0.2 80 {\n }\n}\n",
    );
    assert_eq!(
        lvs_msgs(&p),
        vec!["Warning: Virtual server FWM 1: protocol specified for fwmark - protocol will be ignored"]
    );
    assert_eq!(first_vs(&p).protocol, None);
}

#[test]
fn no_real_servers() {
    let p = parse(&vs1(""));
    assert_eq!(lvs_msgs(&p), vec!["Virtual server [10.0.0.1]:tcp:80 has no real servers - ignoring"]);
    assert!(p.config.lvs.virtual_servers.is_empty());
}

#[test]
fn duplicates_ports_quorum_hysteresis() {
    let p = parse(&vs1(
        "lb_kind DR\nquorum 10\nhysteresis 20\nsorry_server 10.0.0.9 81\nreal_server 10.0.0.2 81 {\n}\nreal_server 10.0.0.2 81 {\n}\nreal_server 10.0.0.3 {\n}",
    ));
    assert_eq!(
        lvs_msgs(&p),
        vec![
            "VS [10.0.0.1]:tcp:80: real server [10.0.0.2]:tcp:81 is duplicated - removing second rs",
            "Warning - quorum 10 for [10.0.0.1]:tcp:80 exceeds total weight of real servers 2, reducing quorum to 2",
            "Virtual server [10.0.0.1]:tcp:80: hysteresis 20 >= quorum 2; setting hysteresis to 1",
            "WARNING - virtual server [10.0.0.1]:tcp:80 and real server [10.0.0.2]:tcp:81 ports don't match - resetting",
            "WARNING - virtual server [10.0.0.1]:tcp:80 and sorry server ports don't match - resetting",
        ]
    );
    let vs = first_vs(&p);
    assert_eq!(vs.real_servers.len(), 2);
    assert!(vs.real_servers.iter().all(|r| r.port == 80));
    assert_eq!(vs.sorry_server.as_ref().unwrap().port, 80);
    assert_eq!((vs.quorum, vs.hysteresis), (2, 1));
}

#[test]
fn nat_real_server_takes_vs_port_and_fwmark_clears() {
    let p = parse(&rs1("").replace("real_server 10.0.0.2 80", "real_server 10.0.0.2"));
    assert_eq!(first_rs(&p).port, 80);
    let p = parse("virtual_server fwmark 3 {\n lb_algo rr\n lb_kind DR\n real_server 10.0.0.2 80 {\n }\n}\n");
    assert!(has(
        &p,
        "WARNING - fwmark virtual server FWM 3, real server [10.0.0.2]:none:80 has port specified - clearing"
    ));
    assert_eq!(first_rs(&p).port, 0);
}

#[test]
fn ha_suspend_with_fwmark_and_ops() {
    let p =
        parse("virtual_server fwmark 3 {\n lb_algo rr\n lb_kind NAT\n ha_suspend\n real_server 10.0.0.2 80 {\n }\n}\n");
    assert!(has(&p, "Virtual server FWM 3: cannot use ha_suspend with fwmarks - clearing ha_suspend"));
    assert!(!first_vs(&p).ha_suspend);
    let p = parse(&vs1("ops\nreal_server 10.0.0.2 80 {\n}"));
    assert!(has(&p, "Virtual server [10.0.0.1]:tcp:80: one packet scheduling requires UDP - resetting"));
    assert!(!first_vs(&p).flags.ops);
}

#[test]
fn sorry_server_inhibit_follows_matching_rs() {
    let p = parse(&vs1("sorry_server 10.0.0.2 80\nreal_server 10.0.0.2 80 {\n inhibit_on_failure\n}"));
    assert!(has(&p, "Virtual server [10.0.0.1]:tcp:80: real server [10.0.0.2]:tcp:80 matches sorry server, but inhibit setting differs, setting on sorry server"));
    let vs = first_vs(&p);
    assert!(vs.sorry_server.as_ref().unwrap().inhibit && vs.sorry_server_duplicates_rs);
}

#[test]
fn address_family_mismatches() {
    let p = parse(&vs1("real_server 2001:db8::2 80 {\n}\nreal_server 10.0.0.2 80 {\n}"));
    assert!(has(
        &p,
        "Address family of virtual server and real server 2001:db8::2 don't match - skipping real server."
    ));
    assert_eq!(first_vs(&p).real_servers.len(), 1);
    let p = parse(&vs1("sorry_server 2001:db8::9 80\nreal_server 10.0.0.2 80 {\n}"));
    assert!(has(
        &p,
        "Address family of virtual server and sorry server 2001:db8::9 don't match - skipping sorry server."
    ));
    assert!(first_vs(&p).sorry_server.is_none());
    // a fwmark VS takes its family from its real servers
    let p = parse("virtual_server fwmark 3 {\n lb_algo rr\n lb_kind NAT\n real_server 2001:db8::2 80 {\n }\n}\n");
    assert_eq!(first_vs(&p).af, Some(Family::Inet6));
}

#[test]
fn vs_zero_port_is_no_port() {
    let p = parse(
        &vs1("")
            .replace("10.0.0.1 80", "10.0.0.1 0")
            .replace("protocol TCP", "protocol TCP\npersistence_timeout 50\nreal_server 10.0.0.2 {\n}"),
    );
    assert_eq!(lvs_msgs(&p), Vec::<String>::new());
    assert_eq!(first_vs(&p).addr, VsAddr::Ip { addr: "10.0.0.1".parse().unwrap(), port: 0 });
}

#[test]
fn inactive_checker_blocks_are_skipped() {
    let mut o = opts();
    o.active.check = false;
    let p = parse_str("k", &vs1("bogus\nreal_server 10.0.0.2 80 {\n}"), &o);
    assert!(p.config.lvs.virtual_servers.is_empty());
    assert!(p.diags.iter().all(|d| !d.message.contains("bogus")));
}

#[test]
fn ipv6_group_ranges_and_mixed_family_group() {
    let p = parse("virtual_server_group G6 {\n 2001:db8::1-ff 80\n}\nvirtual_server_group M {\n 10.0.0.1 80\n 2001:db8::1 80\n}\nvirtual_server group M {\n lb_algo rr\n lb_kind NAT\n protocol TCP\n real_server 10.0.0.2 80 {\n }\n}\n");
    let VsgEntry::Range { start, end, .. } = &p.config.lvs.groups[0].entries[0] else { panic!() };
    assert_eq!((start.to_string(), end.to_string()), ("2001:db8::1".to_string(), "2001:db8::ff".to_string()));
    assert!(p.config.lvs.virtual_servers.is_empty());
    assert!(has(&p, "M: virtual server group with IPv4 & IPv6 doesn't match virtual server [M]:0 - ignoring"));
}

#[test]
fn zero_weight_quorum_quirk() {
    // keepalived reduces the quorum to 0 and the hysteresis wraps.
    let p = parse(&rs1("weight 0"));
    assert_eq!(
        lvs_msgs(&p),
        vec![
            "Warning - quorum 1 for [10.0.0.1]:tcp:80 exceeds total weight of real servers 0, reducing quorum to 0",
            "Virtual server [10.0.0.1]:tcp:80: hysteresis 0 >= quorum 0; setting hysteresis to 4294967295",
        ]
    );
}

#[test]
fn truncated_lines_never_panic() {
    for f in [
        "keepalived.conf.SSL_GET",
        "keepalived.conf.SMTP_CHECK",
        "keepalived.conf.UDP_CHECK",
        "keepalived.conf.virtual_server_group",
    ] {
        let text = std::fs::read_to_string(format!("{SAMPLES}/{f}")).unwrap_or_else(|e| panic!("{f}: {e}"));
        let lines: Vec<&str> = text.lines().collect();
        for i in 0..lines.len() {
            let mut v: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
            let w: Vec<&str> = lines[i].split_whitespace().collect();
            if w.len() > 1 && !w.contains(&"{") && !w.contains(&"}") {
                v[i] = format!("{} \"\" -", w[0]);
                let _ = parse(&v.join("\n"));
                v[i] = w[0].to_string();
                let _ = parse(&v.join("\n"));
            }
        }
    }
}
