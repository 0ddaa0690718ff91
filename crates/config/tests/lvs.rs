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

fn first_checker(p: &Parsed) -> &Checker {
    &first_rs(p).checkers[0]
}

// ------------------------------------------------------------------ samples

const SAMPLES: &str = "/work/shared/keepalived/samples";
const OUTS: &str = "/work/shared/keepalived/config-test-2.2.7";

/// LVS lines keepalived printed for a sample (lines of other areas are
/// listed in `others` and ignored).
fn sample_check(file: &str, expected: &[&str]) {
    let path = format!("{SAMPLES}/{file}");
    let Ok(text) = std::fs::read_to_string(&path) else { return };
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
    if let Ok(out) = std::fs::read_to_string(format!("{OUTS}/{file}.netns.out")) {
        for e in expected {
            assert!(out.contains(e), "{file}: {e} not in keepalived output");
        }
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
    sample_check("keepalived.conf.fwmark", &["Warning: Virtual server FWM 1: protocol specified for fwmark - protocol will be ignored"]);
}

#[test]
#[ignore]
fn dump_samples() {
    for e in std::fs::read_dir(SAMPLES).unwrap() {
        let path = e.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        let p = parse_str(path.file_name().unwrap().to_str().unwrap(), &text, &opts());
        println!("== {:?} vs={}", path.file_name().unwrap(), p.config.lvs.virtual_servers.len());
        for d in p.diags.iter() {
            println!("   {d}");
        }
    }
}

/// `LVS_PROBE=file cargo test --test lvs probe -- --ignored --nocapture`
#[test]
#[ignore]
fn probe() {
    let Ok(f) = std::env::var("LVS_PROBE") else { return };
    let text = std::fs::read_to_string(&f).unwrap();
    let p = parse_str(&f, &text, &opts());
    for d in p.diags.iter() {
        if d.severity != Severity::Notice || d.message.contains("deprecated") {
            println!("PROBE {}: {}", d.origin.as_ref().map(|o| o.line).unwrap_or(0), d.message);
        }
    }
    println!("PROBE rc={}", p.test_exit_code());
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
        ("MISC_CHECK {\n misc_path /bin/true\n user\n}", "No user specified for misc checker script /bin/true"),
        ("MISC_CHECK {\n misc_path /bin/true\n user nosuchuser_kars\n}", "Failed to set uid/gid for misc checker script /bin/true - removing"),
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
    for s in ["VS:lb_algo", "VS:protocol", "VS:quorum", "weight", "TCP_CHECK {\n connect_port\n}", "HTTP_GET {\n url {\n path\n }\n}"] {
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
