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
