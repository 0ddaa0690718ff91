//! `bfd_instance` blocks: every keyword accepted and rejected with
//! keepalived's messages, defaults, derived values, duplicates and the
//! per-process views (BFD / VRRP / checker). Expected texts were checked
//! against keepalived 2.2.7 `-t` where that version has the keyword.

use keepalived_config::model::bfd::BfdInstance;
use keepalived_config::{parse_str, ParseOptions, Parsed, Severity, Subsystems, SystemView};
use std::net::IpAddr;

fn opts() -> ParseOptions {
    ParseOptions { system: SystemView::with_interfaces(&["lo", "eth0", "eth1", "eth2", "eth3"]), ..Default::default() }
}

fn parse(text: &str) -> Parsed {
    parse_str("keepalived.conf", text, &opts())
}

fn parse_with(text: &str, active: Subsystems) -> Parsed {
    parse_str("keepalived.conf", text, &ParseOptions { active, ..opts() })
}

/// One instance `B` with the given body lines.
fn one(body: &str) -> Parsed {
    parse(&format!("bfd_instance B {{\n{body}\n}}\n"))
}

fn session<'a>(p: &'a Parsed, name: &str) -> &'a BfdInstance {
    p.config.bfd.session(name).unwrap_or_else(|| panic!("no BFD session {name}: {:#?}", p.diags.list))
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn messages(p: &Parsed) -> Vec<String> {
    p.diags.iter().filter(|d| d.severity != Severity::Notice).map(|d| d.message.clone()).collect()
}

fn assert_clean(p: &Parsed) {
    assert!(messages(p).is_empty(), "unexpected diagnostics: {:#?}", p.diags.list);
    assert_eq!(p.test_exit_code(), 0);
}

fn assert_has(p: &Parsed, msg: &str) {
    assert!(p.diags.has(msg), "missing {msg:?} in {:#?}", p.diags.list);
}

// ---------------------------------------------------------------- defaults

#[test]
fn defaults_ipv4() {
    let p = one("neighbor_ip 192.168.1.2");
    assert_clean(&p);
    let b = session(&p, "B");
    assert_eq!(b.neighbor, Some(ip("192.168.1.2")));
    assert_eq!(b.source, None);
    assert_eq!(b.min_rx_us, 10_000);
    assert_eq!(b.min_tx_us, 10_000);
    assert_eq!(b.idle_tx_us, 1_000_000);
    assert_eq!(b.multiplier, 5);
    assert!(!b.passive);
    assert_eq!(b.ttl, 255);
    assert_eq!(b.max_hops, 0);
    assert!(!b.multihop);
    assert_eq!(b.port(), 3784);
    assert_eq!(b.weight.weight, 0);
    assert!(!b.weight.reverse);
    assert!(b.vrrp && b.checker);
    assert!(b.enabled && b.vrrp_tracked && b.checker_tracked);
    assert_eq!(b.origin.line, 1);
    assert!(p.config.seen.bfd);
}

#[test]
fn defaults_ipv6_hoplimit() {
    let p = one("neighbor_ip 2001:db8::1");
    assert_clean(&p);
    let b = session(&p, "B");
    assert_eq!(b.neighbor, Some(ip("2001:db8::1")));
    assert_eq!(b.ttl, 64);
}

// ------------------------------------------------------------ neighbor_ip

#[test]
fn neighbor_ip_accepts_both_spellings_and_strips_suffixes() {
    let p = parse(
        "bfd_instance A {\n neighbour_ip 10.0.0.1\n}\n\
         bfd_instance B {\n neighbor_ip 10.0.0.2/24\n}\n\
         bfd_instance C {\n neighbor_ip 10.0.0.3-9\n}\n",
    );
    assert_clean(&p);
    assert_eq!(session(&p, "A").neighbor, Some(ip("10.0.0.1")));
    assert_eq!(session(&p, "B").neighbor, Some(ip("10.0.0.2")));
    assert_eq!(session(&p, "C").neighbor, Some(ip("10.0.0.3")));
}

#[test]
fn neighbor_ip_malformed_drops_instance() {
    let p = one("neighbor_ip 10.0.0.x\nmin_rx 0");
    assert_eq!(
        messages(&p),
        vec!["Configuration error: BFD instance B has malformed neighbor address 10.0.0.x, ignoring instance"]
    );
    assert_eq!(p.test_exit_code(), 5);
    assert!(p.config.bfd.session("B").is_none());
    // The VRRP and checker processes still know the name.
    assert!(p.config.bfd.vrrp_tracked("B").is_some());
    assert!(p.config.bfd.checker_tracked("B").is_some());
}

#[test]
fn neighbor_ip_missing_parameter_stops() {
    let p = one("neighbor_ip");
    assert_has(&p, "*** Configuration line starting `neighbor_ip` is missing a parameter after keyword `neighbor_ip` at word position 2");
    assert_eq!(p.test_exit_code(), 2);
}

#[test]
fn no_neighbor_disables_instance() {
    let p = one("min_rx 20");
    assert_eq!(
        messages(&p),
        vec!["Configuration error: BFD instance B has no neighbor address set, disabling instance"]
    );
    assert_eq!(p.test_exit_code(), 5);
    assert!(p.config.bfd.session("B").is_none());
    assert!(p.config.bfd.vrrp_tracked("B").is_some());
}

#[test]
fn neighbour_spelling_switch_is_keepalived_s() {
    // keepalived switches to "neighbour" only when the *value* is
    // `neighbour_ip`, and keeps that spelling for the rest of the file.
    let p = parse("bfd_instance S {\n neighbour_ip neighbour_ip\n}\nbfd_instance T {\n}\n");
    assert_eq!(
        messages(&p),
        vec![
            "Configuration error: BFD instance S has malformed neighbour address neighbour_ip, ignoring instance",
            "Configuration error: BFD instance T has no neighbour address set, disabling instance",
        ]
    );
    let p = parse("bfd_instance T {\n neighbour_ip 10.0.0.x\n}\n");
    assert_has(&p, "has malformed neighbor address 10.0.0.x");
}

// -------------------------------------------------------------- source_ip

#[test]
fn source_ip() {
    let p = one("neighbor_ip 10.0.0.1\nsource_ip 10.0.0.2");
    assert_clean(&p);
    assert_eq!(session(&p, "B").source, Some(ip("10.0.0.2")));

    let p = one("neighbor_ip 10.0.0.1\nsource_ip 10.0.0.y");
    assert_eq!(
        messages(&p),
        vec!["Configuration error: BFD instance B has malformed source address 10.0.0.y, ignoring"]
    );
    let b = session(&p, "B");
    assert_eq!(b.source, None);

    let p = one("neighbor_ip 10.0.0.1\nsource_ip");
    assert_eq!(p.test_exit_code(), 2);
}

#[test]
fn source_and_neighbor_family_mismatch() {
    // keepalived prints the source address twice (a shared static buffer).
    let p = one("source_ip 1.2.3.4\nneighbor_ip fe80::1");
    assert_eq!(
        messages(&p),
        vec!["Configuration error: BFD instance B source address 1.2.3.4 and neighbor address 1.2.3.4 are not of the same family, disabling instance"]
    );
    assert!(p.config.bfd.session("B").is_none());
    // Reported at the closing brace, like keepalived.
    assert_eq!(p.diags.list[0].origin.as_ref().unwrap().line, 4);
}

// ------------------------------------------------------ min_rx/min_tx/idle_tx

#[test]
fn intervals_accepted() {
    let p = one("neighbor_ip 10.0.0.1\nmin_rx 50\nmin_tx 2.5\nidle_tx 2000.001");
    assert_clean(&p);
    let b = session(&p, "B");
    assert_eq!(b.min_rx_us, 50_000);
    assert_eq!(b.min_tx_us, 2_500);
    assert_eq!(b.idle_tx_us, 2_000_001);
}

#[test]
fn min_rx_rejected() {
    let p = one("neighbor_ip 10.0.0.1\nmin_rx 0");
    assert_eq!(
        messages(&p),
        vec![
            "number '0' outside range [1.000, 4294967.000]",
            "Configuration error: BFD instance B min_rx value 0 is not valid (must be in range [1-4294967]), ignoring",
        ]
    );
    assert_eq!(session(&p, "B").min_rx_us, 10_000);
}

#[test]
fn min_tx_rejected() {
    let p = one("neighbor_ip 10.0.0.1\nmin_tx abc");
    assert_eq!(
        messages(&p),
        vec![
            "invalid number 'abc'",
            "Configuration error: BFD instance B min_tx value abc is not valid (must be in range [1-4294967]), ignoring",
        ]
    );
    assert_eq!(session(&p, "B").min_tx_us, 10_000);
}

#[test]
fn idle_tx_rejected() {
    let p = one("neighbor_ip 10.0.0.1\nidle_tx 5.5555");
    assert_eq!(
        messages(&p),
        vec![
            "number '5.5555' has too many decimal places",
            "number '5.5555' outside range [1000.000, 4294967.000]",
            "Configuration error: BFD instance B idle_tx value 5.5555 is not valid (must be in range [1000-4294967]), ignoring",
        ]
    );
    assert_eq!(session(&p, "B").idle_tx_us, 1_000_000);
}

#[test]
fn intervals_larger_than_sensible_are_logged_only() {
    let p = one("neighbor_ip 10.0.0.1\nmin_rx 20000\nmin_tx 10001\nidle_tx 10000.5");
    assert_clean(&p);
    assert_has(&p, "Configuration warning: BFD instance B min_rx value 20000 is larger than max sensible (10000)");
    assert_has(&p, "Configuration warning: BFD instance B min_tx value 10001 is larger than max sensible (10000)");
    assert_has(&p, "Configuration warning: BFD instance B idle_tx value 10000.5 is larger than max sensible (10000)");
    assert_eq!(session(&p, "B").min_rx_us, 20_000_000);
}

#[test]
fn interval_missing_parameter_stops() {
    for kw in ["min_rx", "min_tx", "idle_tx", "multiplier", "ttl", "hoplimit", "max_hops", "weight"] {
        let p = one(&format!("neighbor_ip 10.0.0.1\n{kw}"));
        assert_eq!(p.test_exit_code(), 2, "{kw}");
        assert_has(&p, &format!("*** Configuration line starting `{kw}` is missing a parameter"));
    }
}

// ------------------------------------------------------------- multiplier

#[test]
fn multiplier() {
    let p = one("neighbor_ip 10.0.0.1\nmultiplier 3");
    assert_clean(&p);
    assert_eq!(session(&p, "B").multiplier, 3);

    let p = one("neighbor_ip 10.0.0.1\nmultiplier 0");
    assert_eq!(
        messages(&p),
        vec![
            "number '0' outside range [1, 255]",
            "Configuration error: BFD instance B multiplier value 0 not valid (must be in range [1-255]), ignoring",
        ]
    );
    assert_eq!(session(&p, "B").multiplier, 5);
}

// ---------------------------------------------------------------- passive

#[test]
fn passive() {
    let p = one("neighbor_ip 10.0.0.1\npassive");
    assert_clean(&p);
    assert!(session(&p, "B").passive);
}

// ------------------------------------------------------------ ttl/hoplimit

#[test]
fn ttl_and_hoplimit() {
    let p = one("neighbor_ip 10.0.0.1\nttl 10");
    assert_clean(&p);
    assert_eq!(session(&p, "B").ttl, 10);

    let p = one("neighbor_ip fe80::1\nhoplimit 200");
    assert_clean(&p);
    assert_eq!(session(&p, "B").ttl, 200);

    let p = one("neighbor_ip 10.0.0.1\nttl 0");
    assert_eq!(
        messages(&p),
        vec![
            "number '0' outside range [1, 255]",
            "Configuration error: BFD instance B ttl/hoplimit value 0 not valid (must be in range [1-255]), ignoring",
        ]
    );
    assert_eq!(session(&p, "B").ttl, 255);

    let p = one("neighbor_ip 10.0.0.1\nhoplimit 256");
    assert_has(
        &p,
        "Configuration error: BFD instance B ttl/hoplimit value 256 not valid (must be in range [1-255]), ignoring",
    );
}

// --------------------------------------------------------------- max_hops

#[test]
fn max_hops() {
    let p = one("neighbor_ip 10.0.0.1\nmax_hops 3");
    assert_clean(&p);
    assert_eq!(session(&p, "B").max_hops, 3);

    // -1 is kept in a byte as 255 (check disabled) for IPv4 …
    let p = one("neighbor_ip 10.0.0.1\nmax_hops -1");
    assert_clean(&p);
    assert_eq!(session(&p, "B").max_hops, 255);

    let p = one("neighbor_ip 10.0.0.1\nmax_hops 300");
    assert_eq!(
        messages(&p),
        vec![
            "number '300' outside range [-1, 255]",
            "Configuration error: BFD instance B max_hops value 300 not valid (must be in range [-1-255]), ignoring",
        ]
    );
    assert_eq!(session(&p, "B").max_hops, 0);
}

#[test]
fn max_hops_clamped_to_ttl() {
    let p = one("neighbor_ip 10.0.0.1\nttl 10\nmax_hops 20");
    assert_eq!(messages(&p), vec!["BFD instance B: max_hops exceeds ttl/hoplimit - setting to ttl/hoplimit"]);
    assert_eq!(session(&p, "B").max_hops, 10);
    // … but clamped to the IPv6 default hop limit, with a message (as keepalived).
    let p = one("neighbor_ip fe80::1\nmax_hops -1");
    assert_eq!(messages(&p), vec!["BFD instance B: max_hops exceeds ttl/hoplimit - setting to ttl/hoplimit"]);
    assert_eq!(session(&p, "B").max_hops, 64);
}

// --------------------------------------------------------------- multihop

#[test]
fn multihop() {
    let p = one("neighbor_ip 10.0.0.1\nmultihop");
    assert_clean(&p);
    assert!(session(&p, "B").multihop);
    assert_eq!(session(&p, "B").port(), 4784);

    let p = one("multihop yes\nneighbor_ip 10.0.0.1\nmultihop off");
    assert_clean(&p);
    assert!(!session(&p, "B").multihop);

    let p = one("neighbor_ip 10.0.0.1\nmultihop maybe");
    assert_eq!(messages(&p), vec!["Configuration error: BFD instance B multihop setting not valid - maybe"]);
    assert!(!session(&p, "B").multihop);
}

// ----------------------------------------------------------------- weight

#[test]
fn weight() {
    let p = one("neighbor_ip 10.0.0.1\nweight -20 reverse");
    assert_clean(&p);
    let b = p.config.bfd.vrrp_tracked("B").unwrap();
    assert_eq!(b.weight.weight, -20);
    assert!(b.weight.reverse);

    let p = one("neighbor_ip 10.0.0.1\nweight 300 foo");
    assert_eq!(
        messages(&p),
        vec![
            "number '300' outside range [-253, 253]",
            "Configuration error: BFD instance B weight value 300 not valid (must be in range [-253-253]), ignoring",
            "Configuration error: BFD instance B unknown weight option foo",
        ]
    );
    let b = p.config.bfd.vrrp_tracked("B").unwrap();
    assert_eq!(b.weight.weight, 0);
    assert!(!b.weight.reverse);

    let p = one("neighbor_ip 10.0.0.1\nweight 10x");
    assert_eq!(
        messages(&p),
        vec![
            "invalid number '10x'",
            "Configuration error: BFD instance B weight value 10x not valid (must be in range [-253-253]), ignoring",
        ]
    );
}

#[test]
fn weight_is_read_by_the_vrrp_process_only() {
    let p = parse_with(
        "bfd_instance B {\nneighbor_ip 10.0.0.1\nweight 300\nweight\n}\n",
        Subsystems { vrrp: false, check: true, bfd: true },
    );
    assert_clean(&p);
}

// ------------------------------------------------------- vrrp / checker

#[test]
fn event_destinations() {
    let p = parse(
        "bfd_instance V {\n neighbor_ip 10.0.0.1\n vrrp\n}\n\
         bfd_instance C {\n neighbor_ip 10.0.0.2\n checker\n}\n\
         bfd_instance VC {\n neighbor_ip 10.0.0.3\n vrrp\n checker\n}\n",
    );
    assert_clean(&p);
    let v = session(&p, "V");
    assert!(v.vrrp && !v.checker && v.vrrp_keyword && !v.checker_keyword);
    let c = session(&p, "C");
    assert!(!c.vrrp && c.checker);
    let vc = session(&p, "VC");
    assert!(vc.vrrp && vc.checker);
    let bfd = &p.config.bfd;
    assert!(bfd.vrrp_tracked("V").is_some() && bfd.checker_tracked("V").is_none());
    assert!(bfd.vrrp_tracked("C").is_none() && bfd.checker_tracked("C").is_some());
    assert!(bfd.vrrp_tracked("VC").is_some() && bfd.checker_tracked("VC").is_some());
}

// ------------------------------------------------------------ names

#[test]
fn name_length_limit() {
    let ok = "a".repeat(31);
    let p = parse(&format!("bfd_instance {ok} {{\n neighbor_ip 10.0.0.1\n}}\n"));
    assert_clean(&p);
    assert!(p.config.bfd.session(&ok).is_some());

    let long = "averyveryveryveryverylongname_xyz";
    let p = parse(&format!("bfd_instance {long} {{\n neighbor_ip 10.0.0.1\n min_rx 0\n}}\n"));
    assert_eq!(
        messages(&p),
        vec![
            format!("BFD name {long} too long"),
            format!(
                "Configuration error: BFD instance {long} name too long (maximum length is 31 characters) - ignoring"
            ),
        ]
    );
    assert!(p.config.bfd.session(long).is_none());
    assert!(p.config.bfd.vrrp_tracked(long).is_none());
    // The checker process does not check the length (BFD_CHECK does).
    assert!(p.config.bfd.checker_tracked(long).is_some());
}

#[test]
fn missing_name_stops() {
    let p = parse("bfd_instance {\n neighbor_ip 10.0.0.1\n}\n");
    // `{` is split off: the name is missing.
    assert_eq!(p.test_exit_code(), 2);
    assert_has(&p, "*** Configuration line starting `bfd_instance` is missing a parameter after keyword `bfd_instance` at word position 2");
}

#[test]
fn duplicate_names() {
    let p =
        parse("bfd_instance A {\n neighbor_ip 10.0.0.1\n}\nbfd_instance A {\n neighbor_ip 10.0.0.2\n min_rx 0\n}\n");
    assert_eq!(
        messages(&p),
        vec![
            "BFD A already specified",
            "BFD A already specified",
            "Configuration error: BFD instance A already configured - ignoring",
        ]
    );
    assert_eq!(p.config.bfd.instances.len(), 1);
    assert_eq!(session(&p, "A").neighbor, Some(ip("10.0.0.1")));
}

#[test]
fn duplicate_name_after_checker_only_instance() {
    // The VRRP process never filed the first (checker-only) A, so it
    // accepts the second one silently; checker and BFD refuse it.
    let p = parse(
        "bfd_instance A {\n neighbor_ip 10.0.0.1\n checker\n}\nbfd_instance A {\n neighbor_ip 10.0.0.2\n vrrp\n}\n",
    );
    assert_eq!(
        messages(&p),
        vec!["BFD A already specified", "Configuration error: BFD instance A already configured - ignoring"]
    );
    let bfd = &p.config.bfd;
    assert_eq!(bfd.session("A").unwrap().neighbor, Some(ip("10.0.0.1")));
    assert_eq!(bfd.checker_tracked("A").unwrap().neighbor, Some(ip("10.0.0.1")));
    assert_eq!(bfd.vrrp_tracked("A").unwrap().origin.line, 5);
}

// ------------------------------------------------------- duplicate sessions

#[test]
fn duplicate_neighbor() {
    let p = parse("bfd_instance A {\n neighbor_ip 10.0.0.1\n}\nbfd_instance B {\n neighbor_ip 10.0.0.1\n}\n");
    assert_eq!(
        messages(&p),
        vec!["Configuration error: BFD instance B has duplicate neighbor address 10.0.0.1, ignoring instance"]
    );
    assert!(p.config.bfd.session("B").is_none());
    // VRRP and checker still know B.
    assert!(p.config.bfd.vrrp_tracked("B").is_some());
}

#[test]
fn duplicate_source_and_neighbor() {
    let p = parse(
        "bfd_instance F {\n neighbor_ip 10.0.0.9\n source_ip 10.0.0.3\n}\n\
         bfd_instance G {\n neighbor_ip 10.0.0.9\n source_ip 10.0.0.4\n}\n\
         bfd_instance H {\n neighbor_ip 10.0.0.9\n source_ip 10.0.0.3\n}\n\
         bfd_instance I {\n neighbor_ip 10.0.0.9\n}\n",
    );
    assert_eq!(
        messages(&p),
        vec![
            "Configuration error: BFD instance H has duplicate source/neighbor address 10.0.0.3/10.0.0.9, ignoring instance",
            "Configuration error: BFD instance I has duplicate neighbor address 10.0.0.9, ignoring instance",
        ]
    );
    assert!(p.config.bfd.session("G").is_some());
    assert_eq!(p.config.bfd.sessions().count(), 2);
}

#[test]
fn multihop_sessions_are_distinct() {
    let p =
        parse("bfd_instance A {\n neighbor_ip 10.0.0.1\n}\nbfd_instance B {\n neighbor_ip 10.0.0.1\n multihop\n}\n");
    assert_clean(&p);
    assert_eq!(p.config.bfd.sessions().count(), 2);
}

#[test]
fn ipv6_duplicate_is_printed_like_inet_ntop() {
    let p = parse("bfd_instance A {\n neighbor_ip 2001:0db8:0::1\n}\nbfd_instance B {\n neighbor_ip 2001:db8::1\n}\n");
    assert_eq!(
        messages(&p),
        vec!["Configuration error: BFD instance B has duplicate neighbor address 2001:db8::1, ignoring instance"]
    );
}

// -------------------------------------------------------------- misc

#[test]
fn unknown_keyword_in_block() {
    let p = one("neighbor_ip 10.0.0.1\nbogus 1");
    assert_has(&p, "Unknown keyword 'bogus'");
    assert!(p.config.bfd.session("B").is_some());
}

#[test]
fn skipped_when_bfd_inactive() {
    let p = parse_with("bfd_instance B {\n min_rx 0\n}\n", Subsystems { vrrp: true, check: true, bfd: false });
    // VRRP and the checker still read the block (track_bfd, BFD_CHECK);
    // only the BFD process's settings and checks are skipped.
    assert_clean(&p);
    assert!(p.config.bfd.session("B").is_none());
    assert!(p.config.bfd.vrrp_tracked("B").is_some());
    assert!(p.config.bfd.checker_tracked("B").is_some());
    assert!(p.config.seen.bfd);
}

#[test]
fn brace_on_next_line_and_eof_without_close() {
    let p = parse("bfd_instance B\n{\n neighbor_ip 10.0.0.1\n");
    assert!(p.config.bfd.session("B").is_some(), "{:#?}", p.diags.list);
}

#[test]
fn full_example() {
    let p = parse(
        "bfd_instance bfd1 {\n\
           neighbor_ip 192.0.2.1\n\
           source_ip 192.0.2.2\n\
           min_rx 100\n\
           min_tx 100\n\
           idle_tx 2000\n\
           multiplier 3\n\
           passive\n\
           ttl 254\n\
           max_hops 1\n\
           weight 50\n\
           vrrp\n\
         }\n",
    );
    assert_clean(&p);
    let b = session(&p, "bfd1");
    assert_eq!(
        (b.min_rx_us, b.min_tx_us, b.idle_tx_us, b.multiplier, b.ttl, b.max_hops, b.weight.weight),
        (100_000, 100_000, 2_000_000, 3, 254, 1, 50)
    );
    assert!(b.passive && b.vrrp && !b.checker);
    let json = serde_json::to_string(&p.config.bfd).unwrap();
    assert!(json.contains("\"bfd1\""));
}
