//! `keepalived -v` / `--version` against keepalived 2.2.7's
//! (/usr/sbin/keepalived when installed) and against how monitoring tools
//! read it.

use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_keepalived");
const KEEPALIVED_2_2_7: &str = "/usr/sbin/keepalived";

/// mehdy/keepalived-exporter, internal/types/utils/version.go `ParseVersion`
/// (reads `keepalived -v`'s stderr): "version is always at first line";
/// `strings.Split(firstLine, " ")`, then `version.NewVersion(args[1][1:])`
/// (hashicorp/go-version). It chooses `--signum` (>= 1.3.8) over built-in
/// signal numbers, and the script-state parsing, from that version.
fn mehdy_parse_version(output: &str) -> Option<String> {
    let (first, _rest) = output.split_once('\n')?;
    let word = first.split(' ').nth(1)?;
    let v = word.get(1..)?;
    go_version_ok(v).then(|| v.to_string())
}

/// hashicorp/go-version's `VersionRegexpRaw` (version.go), anchored with
/// `^` and `$` by `NewVersion`.
const GO_VERSION_REGEXP: &str = r"v?([0-9]+(\.[0-9]+)*?)(-([0-9]+[0-9A-Za-z\-~]*(\.[0-9A-Za-z\-~]+)*)|(-?([A-Za-z\-~]+[0-9A-Za-z\-~]*(\.[0-9A-Za-z\-~]+)*)))?(\+([0-9A-Za-z\-~]+(\.[0-9A-Za-z\-~]+)*))??";

/// The part of [`GO_VERSION_REGEXP`] a keepalived release uses: an optional
/// `v`, then dot-separated numbers (no pre-release or metadata suffix,
/// which would make go-version order it before the release).
fn go_version_ok(v: &str) -> bool {
    let _ = GO_VERSION_REGEXP;
    let v = v.strip_prefix('v').unwrap_or(v);
    !v.is_empty() && v.split('.').all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
}

/// The common shell form (`keepalived -v 2>&1 | head -1 | awk '{print $2}'`,
/// used e.g. by Roxy-WI): the second blank-separated word of the first line.
fn awk_second_word(output: &str) -> Option<String> {
    output.lines().next()?.split_whitespace().nth(1).map(str::to_string)
}

/// Each line reduced to keepalived's line kind (its fixed prefix), blank
/// lines kept: the shape of the output.
fn shape(out: &str) -> Vec<&'static str> {
    const KINDS: [&str; 8] = [
        "Keepalived v",
        "Copyright(C) ",
        "Built with kernel headers for Linux ",
        "Running on ",
        "Distro: ",
        "configure options: ",
        "Config options: ",
        "System options: ",
    ];
    out.lines()
        .filter(|l| !l.starts_with("keepalived-rs "))
        .map(|l| if l.is_empty() { "" } else { KINDS.iter().copied().find(|k| l.starts_with(k)).unwrap_or("?") })
        .collect()
}

fn version_output(bin: &str, arg: &str) -> (i32, String, String) {
    let o = Command::new(bin).arg(arg).output().expect("run keepalived -v");
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

#[test]
fn version_is_read_as_keepalived_2_2_7() {
    for arg in ["-v", "--version"] {
        let (rc, stdout, ours) = version_output(BIN, arg);
        assert_eq!(rc, 0);
        assert!(stdout.is_empty(), "keepalived writes -v to stderr: {stdout}");
        let first = ours.lines().next().unwrap_or("");
        assert_eq!(first, format!("Keepalived v2.2.7 (keepalived-rs {})", env!("CARGO_PKG_VERSION")));
        assert_eq!(mehdy_parse_version(&ours).as_deref(), Some("2.2.7"), "{ours}");
        assert_eq!(awk_second_word(&ours).as_deref(), Some("v2.2.7"));
        assert!(ours.contains("keepalived-rs"));
        // What this build has: the JSON dump (exporters' --json mode).
        assert!(ours.lines().any(|l| l.starts_with("Config options: ") && l.split(' ').any(|w| w == "JSON")), "{ours}");
        assert!(ours.lines().any(|l| l.starts_with("configure options: ") && l.contains("--enable-json")), "{ours}");
        // The BFD child runs (issue 13): claimed, as keepalived 2.2.7 does.
        assert!(ours.lines().any(|l| l.starts_with("Config options: ") && l.split(' ').any(|w| w == "BFD")), "{ours}");
    }
}

#[test]
fn version_lines_have_keepalived_2_2_7_shape() {
    keepalived_testkit::prereq::require_tools(&[KEEPALIVED_2_2_7]);
    let (their_rc, their_stdout, theirs) = version_output(KEEPALIVED_2_2_7, "-v");
    let (our_rc, our_stdout, ours) = version_output(BIN, "-v");
    assert_eq!(our_rc, their_rc);
    assert_eq!(our_stdout, their_stdout);
    assert_eq!(shape(&ours), shape(&theirs), "--- ours:\n{ours}--- keepalived 2.2.7:\n{theirs}");
    assert!(!shape(&ours).contains(&"?"), "{ours}");
    // The exporter reads both as the same release.
    assert_eq!(mehdy_parse_version(&theirs), mehdy_parse_version(&ours));
    // The host lines are the same facts.
    let line = |out: &str, p: &str| out.lines().find(|l| l.starts_with(p)).map(str::to_string);
    assert_eq!(line(&ours, "Running on "), line(&theirs, "Running on "));
    assert_eq!(line(&ours, "Distro: "), line(&theirs, "Distro: "));
    assert_eq!(line(&ours, "Copyright(C) "), line(&theirs, "Copyright(C) "));
}

#[test]
fn help_is_the_usage_only_as_in_keepalived() {
    let (rc, _, ours) = version_output(BIN, "-h");
    assert_eq!(rc, 0);
    assert!(ours.starts_with("Usage: "), "{ours}");
    if std::path::Path::new(KEEPALIVED_2_2_7).exists() {
        let (_, _, theirs) = version_output(KEEPALIVED_2_2_7, "-h");
        assert!(theirs.starts_with("Usage: "));
    }
}
