//! Pathological configurations (issue 16): each ends with a clear message
//! within a bounded time, never a hang or a crash. The inputs are made in a
//! temporary directory at test time. Cases that could exhaust memory if a
//! limit regressed are also run through the binary under a bounded address
//! space (crates/keepalived/tests/config_limits.rs).

use keepalived_config::preproc::{PreprocOptions, Preprocessor};
use keepalived_config::{parse_file, Diagnostics, ParseOptions, Parsed};
use std::path::PathBuf;
use std::sync::mpsc;
use std::time::{Duration, Instant};

struct Dir(PathBuf);
impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn dir(tag: &str) -> Dir {
    let d = std::env::temp_dir().join(format!("ka-rs-patho-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    Dir(d)
}

fn write(d: &Dir, name: &str, text: impl AsRef<[u8]>) -> String {
    let p = d.0.join(name);
    std::fs::write(&p, text).unwrap();
    p.to_string_lossy().into_owned()
}

/// Run `f` on a thread; fail (rather than hang the suite) past `secs`.
fn within<T: Send + 'static>(secs: u64, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    let start = Instant::now();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    match rx.recv_timeout(Duration::from_secs(secs)) {
        Ok(v) => v,
        Err(_) => panic!("still running after {:?}", start.elapsed()),
    }
}

fn parse(path: String) -> Parsed {
    within(20, move || parse_file(&path, &ParseOptions::default()))
}

fn messages(p: &Parsed) -> Vec<String> {
    p.diags.iter().map(|d| d.message.clone()).collect()
}

fn assert_has(p: &Parsed, needle: &str) {
    assert!(p.diags.has(needle), "no '{needle}' in {:#?}", messages(p));
}

/// Only the preprocessor: the lines it makes, and its messages.
fn preprocess(path: String) -> (usize, Diagnostics) {
    within(20, move || {
        let mut d = Diagnostics::new();
        let mut pp = Preprocessor::open(&path, &PreprocOptions::default(), &mut d).expect("main file opens");
        let mut n = 0;
        while pp.next_line(&mut d).is_some() {
            n += 1;
        }
        (n, d)
    })
}

// 1. include loops and depth

#[test]
fn a_file_including_itself_is_read_once() {
    let d = dir("self");
    let main = write(&d, "main.conf", "include main.conf\nglobal_defs {\n router_id self\n}\n");
    let p = parse(main.clone());
    assert_has(
        &p,
        &format!("Configuration file '{main}' open problem (include loop: the file is already being read) - skipping"),
    );
    assert_eq!(p.config.global.router_id.as_deref(), Some("self"));
    // As 2.2.7's "Too many open files": logged, not an error.
    assert_eq!(p.test_exit_code(), 0);
}

#[test]
fn two_files_including_each_other() {
    let d = dir("mutual");
    let main = write(&d, "main.conf", "include b.conf\n");
    write(&d, "b.conf", "include main.conf\nglobal_defs {\n router_id b\n}\n");
    let p = parse(main.clone());
    assert_has(&p, &format!("Configuration file '{main}' open problem (include loop"));
    assert_eq!(p.files.len(), 2);
    assert_eq!(p.config.global.router_id.as_deref(), Some("b"));
}

#[test]
fn a_glob_matching_the_including_file() {
    let d = dir("glob");
    let main = write(&d, "main.conf", "include *.conf\n");
    write(&d, "other.conf", "global_defs {\n router_id other\n}\n");
    let p = parse(main.clone());
    assert_has(&p, &format!("Configuration file '{main}' open problem (include loop"));
    assert_eq!(p.config.global.router_id.as_deref(), Some("other"));
}

#[test]
fn a_loop_through_a_symlink_is_the_same_file() {
    let d = dir("symlink");
    let main = write(&d, "main.conf", "include link.conf\n");
    std::os::unix::fs::symlink(&main, d.0.join("link.conf")).unwrap();
    let p = parse(main);
    assert_has(&p, "link.conf' open problem (include loop");
}

#[test]
fn include_depth_is_limited() {
    let d = dir("deep");
    for i in 0..300 {
        write(&d, &format!("f{i}.conf"), format!("include f{}.conf\n", i + 1));
    }
    write(&d, "f300.conf", "global_defs {\n router_id deep\n}\n");
    let p = parse(d.0.join("f0.conf").to_string_lossy().into_owned());
    let f32 = d.0.join("f32.conf");
    assert_has(
        &p,
        &format!(
            "Configuration file '{}' open problem (include nesting deeper than 32 files) - skipping",
            f32.display()
        ),
    );
    assert_eq!(p.files.len(), 32);
    // The message is at the include line of the deepest file read.
    let m = p.diags.iter().find(|m| m.message.contains("nesting")).unwrap();
    assert_eq!(m.origin.map(|o| (o.file.name(), o.line)), Some((d.0.join("f31.conf").to_string_lossy().into(), 1)));
}

#[test]
fn thirty_two_nested_files_are_read() {
    let d = dir("deep-ok");
    for i in 0..31 {
        write(&d, &format!("f{i}.conf"), format!("include f{}.conf\n", i + 1));
    }
    write(&d, "f31.conf", "global_defs {\n router_id deep\n}\n");
    let p = parse(d.0.join("f0.conf").to_string_lossy().into_owned());
    assert_eq!(p.config.global.router_id.as_deref(), Some("deep"), "{:#?}", messages(&p));
    assert_eq!(p.test_exit_code(), 0);
}

#[test]
fn the_same_file_included_twice_in_sequence_is_no_loop() {
    let d = dir("twice");
    write(&d, "vip.conf", "  10.0.0.1\n");
    let main = write(
        &d,
        "main.conf",
        "vrrp_instance A {\n interface lo\n virtual_router_id 1\n virtual_ipaddress {\n  include vip.conf\n  include vip.conf\n }\n}\n",
    );
    let p = parse(main);
    assert!(!p.diags.has("include loop"), "{:#?}", messages(&p));
    assert_eq!(p.files.len(), 3);
}

// 2. $ parameter expansion

#[test]
fn a_self_referencing_definition() {
    let d = dir("defself");
    let main = write(&d, "main.conf", "$A=$A\nglobal_defs {\n router_id $A\n}\n");
    let p = parse(main);
    assert_has(&p, "Parameter substitution on line 'router_id $A' does not end after 10000 substitutions - a definition refers to itself?");
    assert_eq!(p.test_exit_code(), 5);
}

#[test]
fn mutually_recursive_definitions() {
    let d = dir("defmut");
    let main = write(&d, "main.conf", "$A=x $B\n$B=$A\nglobal_defs {\n router_id $A\n}\n");
    let p = parse(main);
    // Growing by two bytes a round: the line length stops it.
    assert_has(&p, "Parameter substitution on line 'router_id $A' would exceed maximum line length");
    let main = write(&d, "main.conf", "$A=${B}\n$B=${A}\nglobal_defs {\n router_id $A\n}\n");
    let p = parse(main);
    assert_has(&p, "does not end after 10000 substitutions");
}

#[test]
fn exponentially_growing_definitions_stop_at_the_line_length() {
    let d = dir("defexp");
    let mut t = String::from("$D0=x x\n");
    for i in 1..=40 {
        t.push_str(&format!("$D{i}=$D{} $D{}\n", i - 1, i - 1));
    }
    t.push_str("global_defs {\n router_id $D40\n}\n");
    let p = parse(write(&d, "main.conf", t));
    assert_has(&p, "Parameter substitution on line 'router_id $D40' would exceed maximum line length");
}

#[test]
fn a_substitution_reaching_1024_bytes_is_refused_as_2_2_7_does() {
    let d = dir("deflen");
    // 2.2.7 refuses when the line would need 1024 bytes with its NUL.
    let fits = "a".repeat(1023 - "router_id ".len());
    let main = write(&d, "main.conf", format!("$V={fits}\nglobal_defs {{\n router_id $V\n}}\n"));
    let p = parse(main);
    assert!(!p.diags.has("exceed"), "{:#?}", messages(&p));
    assert_eq!(p.config.global.router_id.as_deref(), Some(fits.as_str()));
    // keepalived cuts the value line itself at 1023 bytes, so go through
    // two definitions.
    let main = write(&d, "main.conf", format!("$V={fits}\n$W=$V x\nglobal_defs {{\n router_id $W\n}}\n"));
    let p = parse(main);
    assert_has(&p, "Parameter substitution on line 'router_id $W' would exceed maximum line length");
}

#[test]
fn a_multiline_definition_naming_itself() {
    let d = dir("defml");
    // The last line expands the definition again: for ever in 2.2.7.
    let main = write(&d, "main.conf", "$M=router_id x \\\n$M\n\nglobal_defs {\n$M\n}\n");
    let (lines, diags) = preprocess(main);
    assert!(
        diags.has("~SEQ, ~LST or multi-line definition expansion makes more than 1000000 lines - ignoring the rest"),
        "{:#?}",
        diags.list
    );
    assert!(lines <= 1_000_010, "{lines}");
    // On its first line: substituted again and again within one line.
    let main = write(&d, "main.conf", "$M=$M \\\nrouter_id x\n\nglobal_defs {\n$M\n}\n");
    let p = parse(main);
    assert_has(&p, "does not end after 10000 substitutions");
}

#[test]
fn a_multiline_definition_is_still_expanded() {
    let d = dir("defml-ok");
    let main = write(&d, "main.conf", "$M=global_defs { \\\n router_id ml \\\n}\n$M\n");
    let p = parse(main);
    assert_eq!(p.config.global.router_id.as_deref(), Some("ml"), "{:#?}", messages(&p));
}

// 3. ~SEQ and ~LST

#[test]
fn a_huge_seq_is_refused_at_once() {
    let d = dir("seqhuge");
    let main = write(&d, "main.conf", "global_defs {\n~SEQ(i,0,1,4000000000) router_id r$i\n}\n");
    let p = parse(main);
    assert_has(
        &p,
        "~SEQ has 4000000001 values, more than the maximum of 100000 '~SEQ(i,0,1,4000000000) router_id r$i'",
    );
    assert_has(&p, "Invalid ~SEQ specification '~SEQ(i,0,1,4000000000) router_id r$i'");
    assert_eq!(p.test_exit_code(), 5);
}

#[test]
fn a_seq_of_100000_values_is_accepted() {
    let d = dir("seqmax");
    let main = write(&d, "main.conf", "~SEQ(i,1,100000) $X_$i=$i\n");
    let (_, diags) = preprocess(main);
    assert!(diags.list.is_empty(), "{:#?}", diags.list);
}

#[test]
fn a_definition_repeating_itself_through_a_seq_stops_at_the_nesting_limit() {
    // Found by the fuzzer: each `$RS` opens one more ~SEQ inside the others; with no limit on the
    // nesting, every level looked at all those above it and `-t` ran for minutes.
    let d = dir("seq-self");
    let p = parse(write(&d, "main.conf", "$RS=\\\n~SEQ(1,2)$RS\n$RS\n"));
    assert_has(&p, "~SEQ nested deeper than 32 levels '~SEQ(1,2)$RS'");
}

#[test]
fn a_seq_whose_comma_is_a_multibyte_character() {
    // Found by the fuzzer: the byte after the variable was sliced off, inside the character.
    let d = dir("seq-utf8");
    let p = parse(write(&d, "main.conf", "~SEQ(n \u{FFFD}1,2) x\n~SEQ(n é 1,2) x\n"));
    assert!(!messages(&p).is_empty());
}

#[test]
fn zero_and_wrong_way_steps() {
    let d = dir("seqstep");
    for (seq, msg) in [("~SEQ(i,0,0,10)", "Invalid ~SEQ values"), ("~SEQ(i,0,-1,10)", "Invalid ~SEQ values")] {
        let main = write(&d, "main.conf", format!("global_defs {{\n{seq} router_id r$i\n}}\n"));
        let p = parse(main);
        assert_has(&p, &format!("{msg} '{seq} router_id r$i'"));
        assert_has(&p, &format!("Invalid ~SEQ specification '{seq} router_id r$i'"));
    }
    // A downward sequence, and ends at the limits of a long.
    let main = write(&d, "main.conf", "~SEQ(i,10,-5,0) $X$i=1\n~SEQ(i,9223372036854775806,1,9223372036854775807) $Y=$i\n~SEQ(i,-9223372036854775807,-1,-9223372036854775808) $Z=$i\n");
    let (_, diags) = preprocess(main);
    assert!(diags.list.is_empty(), "{:#?}", diags.list);
}

#[test]
fn nested_seqs_are_limited_by_their_product() {
    let d = dir("seqnest");
    let main = write(&d, "main.conf", "global_defs {\n~SEQ(i,1,100000) ~SEQ(j,1,100000) router_id r$i$j\n}\n");
    let p = parse(main);
    assert_has(&p, "~SEQ would make more than 1000000 lines '~SEQ(j,1,100000) router_id r$i$j'");
    // Reported once: the enclosing ~SEQ is dropped too.
    assert_eq!(p.diags.iter().filter(|m| m.message.contains("would make")).count(), 1);
    let main = write(&d, "main.conf", "global_defs {\n~LST(i,a,b,c) ~SEQ(j,1,4000000000) router_id r$i$j\n}\n");
    let p = parse(main);
    assert_eq!(p.diags.iter().filter(|m| m.message.contains("more than the maximum")).count(), 1);
    // Small nested sequences still work.
    let main = write(&d, "main.conf", "global_defs {\n~SEQ(i,1,3) ~LST(x,a,b) router_id ${i}${x}\n}\n");
    let p = parse(main);
    assert_eq!(p.config.global.router_id.as_deref(), Some("3b"), "{:#?}", messages(&p));
}

// 4. nesting, long lines and tokens

#[test]
fn deep_block_nesting() {
    let d = dir("braces");
    let mut t = String::from("global_defs {\n");
    t.push_str(&"{\n".repeat(100_000));
    let p = parse(write(&d, "main.conf", t));
    assert_has(&p, "There are 100001 missing '}'s or extra '{'s");
    let mut t = String::from("virtual_server 10.0.0.1 80 {\n");
    t.push_str(&"real_server 10.0.0.2 80 {\n".repeat(100_000));
    let start = Instant::now();
    let p = parse(write(&d, "main.conf", t));
    assert_has(&p, "There are 100001 missing '}'s or extra '{'s");
    assert!(start.elapsed() < Duration::from_secs(15), "{:?}", start.elapsed());
}

#[test]
fn a_10_mb_line() {
    let d = dir("longline");
    let t = format!("global_defs {{\n{}\n router_id after\n}}\n", "a".repeat(10_000_000));
    let p = parse(write(&d, "main.conf", t));
    assert_has(&p, "line too long - ignoring");
    assert_eq!(p.config.global.router_id.as_deref(), Some("after"));
}

#[test]
fn a_long_token_and_a_big_file() {
    let d = dir("bigfile");
    let tok = "b".repeat(1000);
    let mut t = format!("global_defs {{\n router_id {tok}\n");
    t.push_str(&" notification_email_from abcdefghijklmnopqrstuvwxyz@example.com\n".repeat(100_000));
    t.push_str("}\n");
    let p = parse(write(&d, "main.conf", t));
    assert_eq!(p.config.global.router_id.as_deref(), Some(tok.as_str()));
    assert_eq!(p.test_exit_code(), 0, "{:#?}", messages(&p));
}

// 5. bytes that are not UTF-8, NULs

#[test]
fn non_utf8_bytes() {
    let d = dir("nonutf8");
    let main = write(
        &d,
        "main.conf",
        b"global_defs {\n router_id \xff\xfe\x80\n rout\xe9r_id x\n notification_email_from \"a\xc3\x28b\"\n}\n",
    );
    let p = parse(main);
    assert_has(&p, "Unknown keyword 'rout\u{FFFD}r_id'");
    assert_eq!(p.config.global.router_id.as_deref(), Some("\u{FFFD}\u{FFFD}\u{FFFD}"));
}

#[test]
fn nul_bytes() {
    let d = dir("nul");
    let main = write(
        &d,
        "main.conf",
        b"global_defs {\n router_id a\0b\n rou\0ter_id x\n notification_email_from \"a\0b\"\n}\n\0\0\0\n",
    );
    let p = parse(main);
    assert_eq!(
        p.diags.iter().filter(|m| m.message == "configuration appears to have embedded NULs - ignoring line").count(),
        4
    );
    assert_ne!(p.config.global.router_id.as_deref(), Some("ab"));
}

// 6. special files

#[test]
fn a_fifo_is_refused_without_blocking() {
    let d = dir("fifo");
    let fifo = d.0.join("pipe.conf");
    nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o644)).unwrap();
    let main = write(&d, "main.conf", "include pipe.conf\n");
    let p = parse(main);
    assert_has(&p, &format!("Configuration file '{}' is not a regular non-executable file - skipping", fifo.display()));
    // As the main file.
    let p = parse(fifo.to_string_lossy().into_owned());
    assert!(p.main_missing);
    assert_has(&p, "is not a regular non-executable file - skipping");
}

#[test]
fn an_auth_hmac_key_file_that_is_a_fifo_or_a_device() {
    let d = dir("hmac-fifo");
    let fifo = d.0.join("key");
    nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
    for key in [fifo.display().to_string(), "/dev/zero".into()] {
        let conf = format!(
            "vrrp_instance VI_1 {{\n interface eth0\n virtual_router_id 1\n priority 100\n \
             auth_hmac {{\n  key 1 file:{key}\n  active_key 1\n }}\n virtual_ipaddress {{\n  10.0.0.1\n }}\n}}\n"
        );
        let p = parse(write(&d, "main.conf", conf));
        assert_has(&p, &format!("(VI_1) auth_hmac key file '{key}' is not a regular file"));
    }
}

#[test]
fn device_and_proc_files() {
    let d = dir("dev");
    for dev in ["/dev/zero", "/dev/urandom", "/dev/null"] {
        let p = parse(write(&d, "main.conf", format!("include {dev}\n")));
        assert_has(&p, &format!("Configuration file '{dev}' is not a regular non-executable file - skipping"));
    }
    // A regular file by its type, unreadable from offset 0.
    let p = parse(write(&d, "main.conf", "include /proc/self/mem\n"));
    assert_has(&p, "Configuration file '/proc/self/mem' open problem (Input/output error) - skipping");
}

#[test]
fn a_directory() {
    let d = dir("incdir");
    std::fs::create_dir(d.0.join("sub")).unwrap();
    let p = parse(write(&d, "main.conf", "include sub\n"));
    assert_has(&p, &format!("Configuration file '{}/' is a directory - skipping", d.0.join("sub").display()));
}

#[test]
fn a_file_over_64_mib_is_refused() {
    let d = dir("sparse");
    let big = d.0.join("huge.conf");
    // Sparse: 100 GiB of NULs that take no disk space.
    std::fs::File::create(&big).unwrap().set_len(100 << 30).unwrap();
    let p = parse(write(&d, "main.conf", "include huge.conf\nglobal_defs {\n router_id after\n}\n"));
    assert_has(&p, &format!("Configuration file '{}' open problem (larger than 64 MiB) - skipping", big.display()));
    assert_eq!(p.config.global.router_id.as_deref(), Some("after"));
}

#[test]
fn the_files_together_are_limited() {
    let d = dir("total");
    // One line: read and refused as too long in one step.
    write(&d, "big.conf", "c".repeat(60 << 20));
    let main = write(&d, "main.conf", "include big.conf\n".repeat(5));
    let (_, diags) = preprocess(main);
    let big = d.0.join("big.conf");
    let want = format!(
        "Configuration file '{}' open problem (the configuration files together exceed 256 MiB) - skipping",
        big.display()
    );
    assert!(diags.has(&want), "{:#?}", diags.list);
    assert_eq!(diags.list.iter().filter(|m| m.message == want).count(), 1);
}

// Globs

#[test]
fn exponential_brace_alternatives() {
    let d = dir("braces40");
    let pat = "{a,b}".repeat(40);
    let p = parse(write(&d, "main.conf", format!("include {pat}\n")));
    assert_has(
        &p,
        &format!(
            "Error reading config file(s): glob(\"{pat}\") has more than 10000 alternatives or matches, skipping."
        ),
    );
}

#[test]
fn a_glob_of_many_stars() {
    let d = dir("stars");
    write(&d, &"a".repeat(200), "global_defs {\n router_id stars\n}\n");
    let p = parse(write(&d, "main.conf", format!("include {}*b\ninclude {}*\n", "*a".repeat(30), "*a".repeat(30))));
    assert_eq!(p.config.global.router_id.as_deref(), Some("stars"), "{:#?}", messages(&p));
}

#[test]
fn a_glob_matching_too_many_files() {
    let d = dir("manyfiles");
    // Ten links to their own directory: each `*` level matches ten times
    // more (creating 10,001 files is slow on some file systems).
    std::fs::create_dir(d.0.join("c")).unwrap();
    for i in 0..10 {
        std::os::unix::fs::symlink(".", d.0.join(format!("c/l{i}"))).unwrap();
    }
    let p = parse(write(&d, "main.conf", "include c/*/*/*/*/*/*.conf\ninclude c/*/*/*/*/*.conf\n"));
    assert_has(&p, "glob(\"c/*/*/*/*/*/*.conf\") has more than 10000 alternatives or matches, skipping.");
    // 10,000 paths are still looked at (none matches).
    assert!(!p.diags.has("glob(\"c/*/*/*/*/*.conf\") has more"), "{:#?}", messages(&p));
}

// Messages

#[test]
fn messages_kept_are_limited() {
    let d = dir("msgs");
    let mut t = "x\n".repeat(150_000);
    t.push_str("global_defs {\n");
    let p = parse(write(&d, "main.conf", t));
    let m = messages(&p);
    assert_eq!(m.len(), 100_002, "{:#?}", &m[m.len().saturating_sub(3)..]);
    assert_eq!(m[99_999], "Unknown keyword 'x' (in top level)");
    assert_eq!(m[100_000], "50000 further configuration messages not shown (more than 100000)");
    // Messages after reading are kept; the exit code counts every one.
    assert_eq!(m[100_001], "There are 1 missing '}'s or extra '{'s");
    assert_eq!(p.test_exit_code(), 5);
}
