//! The BFD child's SIGUSR1 data file (`keepalived_bfd.data`) compared
//! with keepalived 2.2.7's on the same configuration: keepalived-rs and
//! then keepalived 2.2.7 run in h1 against keepalived 2.2.7 in h2, two
//! sessions Up (IPv4, IPv6), one towards an absent neighbour (Down,
//! passive, idle_tx, max_hops), one for the checker only. Once Up, both
//! dumps are compared line by line from `------< BFD Data >------` on,
//! with file descriptors, thread addresses, timer times, discriminators
//! and the last-seen time normalised. Needs root, /usr/sbin/keepalived and
//! ../shared/lab.

mod bfdlab;

use bfdlab::{log_count, pid_file, signal};
use keepalived_testkit::peers::{lab_scripts, Lab};
use keepalived_testkit::wait_for;
use nix::sys::signal::Signal;
use std::time::Duration;

const OURS: &str = env!("CARGO_BIN_EXE_keepalived");

const KEEPALIVED: &str = "/usr/sbin/keepalived";

fn seat_conf() -> String {
    "global_defs {\n  router_id h1\n}\n\
         bfd_instance H2_V4 {\n  neighbor_ip 198.51.100.2\n  source_ip 198.51.100.1\n  min_rx 100\n  min_tx 100\n  multiplier 3\n}\n\
         bfd_instance H2_V6 {\n  neighbor_ip 2001:db8::2\n  source_ip 2001:db8::1\n  min_rx 100\n  min_tx 100\n  multiplier 3\n  hoplimit 255\n}\n\
         bfd_instance ABSENT {\n  neighbor_ip 198.51.100.9\n  min_rx 250\n  min_tx 300\n  idle_tx 2000\n  multiplier 5\n  passive\n  ttl 200\n  max_hops 10\n  vrrp\n}\n\
         bfd_instance CHK {\n  neighbor_ip 198.51.100.10\n  source_ip 198.51.100.1\n  checker\n}\n"
        .to_string()
}

/// A line with the values that differ between runs replaced.
fn normalise(l: &str) -> String {
    let keys = [
        " fd_in = ",
        " thread_in = ",
        "   fd_out ",
        "   thread_out ",
        "   thread_exp ",
        "   thread_rst ",
        "   thread_open_fd_out ",
        "   sands_out = ",
        "   sands_exp = ",
        "   sands_rst = ",
        "   local discriminator = ",
        "   remote discriminator = ",
        "   last seen = ",
    ];
    for k in keys {
        if let Some(rest) = l.strip_prefix(k) {
            // keepalived prints a sands as [disabled] while its thread holds the time.
            let _ = rest;
            return format!("{k}X");
        }
    }
    l.to_string()
}

fn bfd_section(text: &str) -> Vec<String> {
    text.lines().skip_while(|l| !l.starts_with("------< BFD Data >")).map(normalise).collect()
}

fn dump_with(scripts: &std::path::Path, seat: &str, tag: &str) -> (String, Vec<String>) {
    let lab = Lab::up(scripts, tag, 2);
    let peer_c = lab.run.join("peer.conf");
    std::fs::write(&peer_c, bfdlab::peer_conf()).unwrap();
    lab.start_ka_args(2, KEEPALIVED, &peer_c, &[]);
    let seat_c = lab.run.join("seat.conf");
    std::fs::write(&seat_c, seat_conf()).unwrap();
    lab.start_ka_args(1, seat, &seat_c, &["-D"]);
    let up = |n: &str| log_count(&lab, 1, &format!("({n}) Entering Up state")) >= 1;
    assert!(wait_for(Duration::from_secs(15), || up("H2_V4") && up("H2_V6")), "{seat}:\n{}", lab.ka_log(1));
    std::thread::sleep(Duration::from_secs(1));
    let data = lab.tmp_dir(1).join("keepalived_bfd.data");
    signal(pid_file(&lab, 1, "bfd").expect("BFD child"), Signal::SIGUSR1);
    assert!(wait_for(Duration::from_secs(3), || std::fs::read_to_string(&data).is_ok_and(|t| t.contains("last_seen"))));
    std::thread::sleep(Duration::from_millis(200));
    let text = std::fs::read_to_string(&data).unwrap();
    (text.clone(), bfd_section(&text))
}

#[test]
fn bfd_data_file_matches_keepalived_2_2_7() {
    let scripts = lab_scripts(&["ip", KEEPALIVED]);
    let (our_text, ours) = dump_with(&scripts, OURS, "bdo");
    let (their_text, theirs) = dump_with(&scripts, KEEPALIVED, "bdk");
    assert!(our_text.starts_with("------< Global definitions >------"), "{our_text}");
    // The global section as the BFD process writes it (no default
    // interface, lower-priority GARP values unset).
    let head =
        |t: &str| t.lines().take_while(|l| !l.starts_with("------< BFD Data")).map(str::to_string).collect::<Vec<_>>();
    let (oh, th) = (head(&our_text), head(&their_text));
    let only: Vec<&String> =
        oh.iter().filter(|l| !th.contains(l)).chain(th.iter().filter(|l| !oh.contains(l))).collect();
    eprintln!("global section lines in one dump only: {only:#?}");
    // Known: keepalived's build property `libnftnl version` (docs/compat.md).
    let known = |l: &str| l.starts_with(" libnftnl version");
    assert!(only.iter().all(|l| known(l)), "global section differences: {only:#?}");
    let diffs: Vec<String> = ours
        .iter()
        .zip(theirs.iter())
        .enumerate()
        .filter(|(_, (a, b))| a != b)
        .map(|(i, (a, b))| format!("line {i}: ours {a:?}\n         2.2.7 {b:?}"))
        .collect();
    assert!(
        diffs.is_empty() && ours.len() == theirs.len(),
        "{} lines ours, {} keepalived 2.2.7; differences:\n{}\n--- ours:\n{our_text}\n--- 2.2.7:\n{their_text}",
        ours.len(),
        theirs.len(),
        diffs.join("\n")
    );
}
