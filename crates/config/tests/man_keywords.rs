//! The keepalived.conf(5) page (`man/keepalived.conf.5`) documents every
//! keyword of the parser's tables, in the right block, and nothing else.
//!
//! The rule for an entry: a keyword is documented by a tagged paragraph, a
//! `.TP` (or a `.TQ`, which adds a further tag to the same paragraph) whose
//! tag line, the line right after it, starts with the macro `.B`, `.BI` or
//! `.BR`. The keyword is the first word of that macro's first argument,
//! after the roff escapes `\-`, `\&` and `\fX` are resolved. Tags written
//! otherwise (`.I`, `\fB…` in running text, `.IP`) are not entries, so
//! prose, argument lists and the FILES section do not count.
//!
//! Each entry lies in a region opened by a roff comment line
//! `.\" keywords: PATH[; PATH…]` naming the blocks whose keywords it
//! documents: `top level` for the root, block names joined with ` > ` for
//! nested blocks (`virtual_server > real_server > HTTP_GET > url`), exactly
//! the paths `keepalived_config::keywords::walk` reports, plus the pseudo
//! block `(preprocessor)` for the `include` directives, which the
//! preprocessor handles before any keyword table. A region ends at the next
//! such comment or at the next `.SH`. A region may name several blocks when
//! their keywords share one description (the keywords common to every
//! checker, `track_file` and its deprecated `vrrp_track_file`).
//!
//! The tests fail:
//! - for each keyword of each block of the tree that has no entry in a
//!   region naming that block (forward: the page is complete);
//! - for each entry whose keyword is not a keyword of any block its region
//!   names, and for each entry outside any region (reverse: the page
//!   invents nothing; deprecated aliases are keywords of the tables, so
//!   they need no exception);
//! - for a region naming a block the tree does not have;
//! - for a keyword the parser reports as "accepted but not implemented by
//!   keepalived-rs" whose paragraph lacks the mark `(not implemented)`
//!   (a paragraph runs from its `.TP` to the next `.TP`, `.PP`, `.SS`,
//!   `.SH` or region comment);
//! - for a keyword added after keepalived 2.2.7 (listed here from
//!   FEATURES.md §9) whose paragraph lacks the mark `(after 2.2.7)`.
//!
//! A last test runs `groff -man -ww -z` on the page when groff is installed
//! (and `mandoc -Tlint` when mandoc is) and fails on any warning.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

/// Directives handled by the preprocessor, not by a keyword table.
const PREPROCESSOR: &[&str] = &["include", "includer", "includem", "includew", "includeb", "includea"];
const PREPROCESSOR_BLOCK: &str = "(preprocessor)";
const ROOT: &str = "top level";

fn page_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../man/keepalived.conf.5")
}

/// Block path → keywords of that block, from the parser's tables.
fn tree() -> BTreeMap<String, BTreeSet<&'static str>> {
    let mut map: BTreeMap<String, BTreeSet<&'static str>> = BTreeMap::new();
    keepalived_config::keywords::walk(|path, kw| {
        let p = if path.is_empty() { ROOT.to_string() } else { path.join(" > ") };
        map.entry(p).or_default().insert(kw.name);
    });
    map.insert(PREPROCESSOR_BLOCK.to_string(), PREPROCESSOR.iter().copied().collect());
    map
}

/// One documented keyword: where it is, which blocks its region names, and
/// its paragraph (an index into `Page::paras`; the tags of one `.TP`/`.TQ`
/// group share it).
#[derive(Debug)]
struct Entry {
    keyword: String,
    line: usize,
    blocks: Option<Vec<String>>,
    para: usize,
}

/// Resolve the roff escapes that can appear in a keyword.
fn unescape(s: &str) -> String {
    let mut out = String::new();
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('-') => out.push('-'),
            Some('&') => {}
            Some('f') => {
                chars.next();
            }
            Some('e') => out.push('\\'),
            Some(o) => {
                out.push('\\');
                out.push(o);
            }
            None => out.push('\\'),
        }
    }
    out
}

/// The keyword of a tag line, if the line is an entry.
fn tag_keyword(line: &str) -> Option<String> {
    let rest = ["B ", "BI ", "BR "].iter().find_map(|m| line.strip_prefix('.')?.strip_prefix(m))?.trim_start();
    let first = match rest.strip_prefix('"') {
        Some(q) => q.split('"').next().unwrap_or(""),
        None => rest.split_whitespace().next().unwrap_or(""),
    };
    unescape(first).split_whitespace().next().map(str::to_string)
}

/// The page as the tests see it.
struct Page {
    entries: Vec<Entry>,
    /// Each block a region names, with the line of the region's comment.
    regions: Vec<(usize, String)>,
    /// The roff text of each tagged paragraph: from its `.TP` up to the next
    /// `.TP`, `.PP`, `.SS`, `.SH` or region comment.
    paras: Vec<String>,
}

/// Parse the page's regions, entries and paragraphs.
fn parse_page(text: &str) -> Page {
    let mut page = Page { entries: Vec::new(), regions: Vec::new(), paras: Vec::new() };
    let mut blocks: Option<Vec<String>> = None;
    let mut tag_next = false;
    let mut in_para = false;
    for (i, line) in text.lines().enumerate() {
        let n = i + 1;
        if let Some(spec) = line.strip_prefix(".\\\" keywords:") {
            let list: Vec<String> = spec.split(';').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect();
            for b in &list {
                page.regions.push((n, b.clone()));
            }
            blocks = Some(list);
            tag_next = false;
            in_para = false;
            continue;
        }
        if line.starts_with(".SH") {
            blocks = None;
        }
        let macro_name = line.split_whitespace().next().unwrap_or("");
        if [".SH", ".SS", ".PP", ".LP", ".P"].contains(&macro_name) {
            in_para = false;
        }
        if line == ".TP" {
            page.paras.push(String::new());
            in_para = true;
        }
        if in_para {
            let p = page.paras.last_mut().expect("a paragraph was started");
            p.push_str(line);
            p.push('\n');
        }
        if tag_next {
            tag_next = false;
            if let Some(keyword) = tag_keyword(line) {
                let para = if in_para { page.paras.len() - 1 } else { usize::MAX };
                page.entries.push(Entry { keyword, line: n, blocks: blocks.clone(), para });
            }
        }
        if line == ".TP" || line == ".TQ" {
            tag_next = true;
        }
    }
    page
}

fn read_page() -> String {
    let p = page_path();
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

#[test]
fn every_parser_keyword_is_documented_in_its_block() {
    let tree = tree();
    let entries = parse_page(&read_page()).entries;
    let mut documented: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for e in &entries {
        for b in e.blocks.iter().flatten() {
            documented.entry(b.as_str()).or_default().insert(e.keyword.as_str());
        }
    }
    let mut missing = Vec::new();
    let mut total = 0;
    for (block, kws) in &tree {
        for kw in kws {
            total += 1;
            if !documented.get(block.as_str()).is_some_and(|d| d.contains(kw)) {
                missing.push(format!("{block}: {kw}"));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "{} of {total} keyword(s) of the parser's tables have no entry in man/keepalived.conf.5:\n  {}",
        missing.len(),
        missing.join("\n  ")
    );
    // The walk must have seen the whole tree (guards against an empty walk).
    assert!(total > 500, "only {total} (block, keyword) pairs in the tree");
}

#[test]
fn every_documented_keyword_is_known_to_the_parser() {
    let tree = tree();
    let Page { entries, regions, .. } = parse_page(&read_page());
    let mut bad = Vec::new();
    for (line, block) in &regions {
        if !tree.contains_key(block) {
            bad.push(format!("line {line}: region names '{block}', which is not a block of the parser"));
        }
    }
    for e in &entries {
        match &e.blocks {
            None => bad.push(format!("line {}: entry '{}' outside any `.\\\" keywords:` region", e.line, e.keyword)),
            Some(blocks) => {
                let known = blocks.iter().any(|b| tree.get(b).is_some_and(|k| k.contains(e.keyword.as_str())));
                if !known {
                    bad.push(format!(
                        "line {}: '{}' is documented under {} but is not a keyword there",
                        e.line,
                        e.keyword,
                        blocks.join("; ")
                    ));
                }
            }
        }
    }
    assert!(bad.is_empty(), "man/keepalived.conf.5:\n  {}", bad.join("\n  "));
}

#[test]
fn entry_rule_examples() {
    assert_eq!(tag_keyword(".B priority \\fIINT[1,255]\\fR").as_deref(), Some("priority"));
    assert_eq!(tag_keyword(".B flag\\-1").as_deref(), Some("flag-1"));
    assert_eq!(tag_keyword(".BI \"lvs_sched \" SCHED").as_deref(), Some("lvs_sched"));
    assert_eq!(tag_keyword(".I /etc/keepalived/keepalived.conf"), None);
    assert_eq!(tag_keyword("\\fB(not implemented)\\fR"), None);
    let page = parse_page(
        ".SH X\n.\\\" keywords: top level\n.TP\n.B a\ntext\n.TQ\n.BR b \" x\"\nmore\n.PP\nout\n.SH Y\n.TP\n.B c\n",
    );
    let got: Vec<(&str, bool, usize)> =
        page.entries.iter().map(|e| (e.keyword.as_str(), e.blocks.is_some(), e.para)).collect();
    assert_eq!(got, vec![("a", true, 0), ("b", true, 0), ("c", false, 1)]);
    assert_eq!(page.paras[0], ".TP\n.B a\ntext\n.TQ\n.BR b \" x\"\nmore\n");
    assert_eq!(page.regions, vec![(2, ROOT.to_string())]);
}

/// The keywords for which the parser emits "… is accepted but not
/// implemented by keepalived-rs": each root, global_defs and vrrp_instance
/// keyword is fed with a dummy argument, plus the such keywords of other
/// blocks and the root lists.
fn keywords_with_unimplemented_notice() -> BTreeSet<String> {
    use keepalived_config::{parse_str, ParseOptions, SystemView};
    let opts = ParseOptions { system: SystemView::with_interfaces(&["lo", "eth0"]), ..Default::default() };
    let mut texts = vec![
        "vrrp_instance VI_1 {\ninterface eth0\nvirtual_router_id 1\nauth_hmac {\n}\n}\n".to_string(),
        "virtual_server 192.0.2.1 80 {\nprotocol TCP\nsnmp_name v\nreal_server 10.0.0.1 80 {\nsnmp_name r\n}\n}\n"
            .to_string(),
        "linkbeat_interfaces {\neth0\n}\n".to_string(),
    ];
    keepalived_config::keywords::walk(|path, kw| match path {
        [] => texts.push(format!("{} x\n", kw.name)),
        ["global_defs"] => texts.push(format!("global_defs {{\n{} x\n}}\n", kw.name)),
        ["vrrp_instance"] => {
            texts.push(format!("vrrp_instance VI_1 {{\ninterface eth0\nvirtual_router_id 1\n{} x\n}}\n", kw.name))
        }
        _ => {}
    });
    let mut found = BTreeSet::new();
    for text in &texts {
        let parsed = parse_str("keepalived.conf", text, &opts);
        for d in parsed.diags.iter() {
            if d.message.contains("accepted but not implemented") {
                let word = d.message.split_whitespace().next().unwrap_or("").trim_matches('\'');
                found.insert(word.to_string());
            }
        }
    }
    found
}

/// Every keyword the parser calls unimplemented is marked
/// "(not implemented)" in its paragraph of the page.
#[test]
fn keywords_the_build_calls_unimplemented_are_marked() {
    let page = parse_page(&read_page());
    let marked = |kw: &str| {
        page.entries
            .iter()
            .filter(|e| e.keyword == kw && e.para != usize::MAX)
            .any(|e| page.paras[e.para].contains("(not implemented)"))
    };
    let notices = keywords_with_unimplemented_notice();
    assert!(notices.len() >= 15, "only {} keywords report themselves unimplemented: {notices:?}", notices.len());
    for k in ["auth_hmac", "snmp_name", "enable_dbus", "vrrp_iptables"] {
        assert!(notices.contains(k), "{k} no longer reports itself unimplemented: update the page");
    }
    let unmarked: Vec<&str> = notices.iter().map(String::as_str).filter(|k| !marked(k)).collect();
    assert!(unmarked.is_empty(), "not marked \"(not implemented)\" in man/keepalived.conf.5: {unmarked:?}");
    // Implemented by this build (the VRRP child): no notice, no mark.
    for k in [
        "nftables",
        "unicast_ttl",
        "kernel_rx_buf_size",
        "fifo_write_vrrp_states_on_reload",
        "interface_up_down_delays",
        "disable_local_igmp",
        "track_src_ip",
        "lvs_sync_daemon_interface",
        "garp_extra_if",
        "vrrp_garp_extra_if",
        "track_group",
    ] {
        assert!(!notices.contains(k), "'{k}' is implemented but reports itself unimplemented");
        assert!(!marked(k), "'{k}' is implemented but marked \"(not implemented)\"");
    }
}

/// The keywords keepalived added after 2.2.7, which 2.2.7 rejects as
/// unknown (FEATURES.md §9 item 7; `key` is new inside `auth_hmac` only).
const AFTER_2_2_7: &[&str] = &[
    "active_key",
    "anti_replay",
    "auth_hmac",
    "dbus_no_interface_name",
    "iproute_etc_dir",
    "iproute_usr_dir",
    "json_dump_file",
    "json_version",
    "mode",
    "multihop",
    "no_virtual_ipaddress",
    "owner_ignore_adverts",
    "set_supplementary_groups",
    "sni_name",
    "snmp_rs_stats_update_interval",
    "snmp_vs_stats_update_interval",
    "state_dump_file",
    "stats_dump_file",
    "thread_timer_expired",
    "time_window",
    "timer_expired_backup",
    "tls_compliant",
    "use_symlink_paths",
    "v3_checksum_as_v2",
    "vrrp_delay_after_boot",
    "vrrp_owner_ignore_adverts",
];

/// Each keyword added after keepalived 2.2.7 is marked "(after 2.2.7)" in
/// the paragraph of every entry documenting it (`key` in `auth_hmac`).
#[test]
fn keywords_added_after_2_2_7_are_marked() {
    let page = parse_page(&read_page());
    let mut unmarked = Vec::new();
    let check = |kw: &str, block: Option<&str>, unmarked: &mut Vec<String>| {
        let entries: Vec<&Entry> = page
            .entries
            .iter()
            .filter(|e| e.keyword == kw)
            .filter(|e| block.is_none_or(|b| e.blocks.iter().flatten().any(|x| x == b)))
            .collect();
        assert!(!entries.is_empty(), "no entry for {kw}");
        for e in entries {
            if e.para == usize::MAX || !page.paras[e.para].contains("(after 2.2.7)") {
                unmarked.push(format!("line {}: {kw}", e.line));
            }
        }
    };
    for kw in AFTER_2_2_7 {
        check(kw, None, &mut unmarked);
    }
    check("key", Some("vrrp_instance > auth_hmac"), &mut unmarked);
    assert!(unmarked.is_empty(), "not marked \"(after 2.2.7)\" in man/keepalived.conf.5:\n  {}", unmarked.join("\n  "));
}

/// Run a formatter's lint if it is installed; its warnings fail the test.
fn lint(program: &str, args: &[&str]) -> Option<String> {
    let out = std::process::Command::new(program).args(args).arg(page_path()).output().ok()?;
    let mut text = String::from_utf8_lossy(&out.stderr).into_owned();
    text.push_str(&String::from_utf8_lossy(&out.stdout));
    Some(text)
}

#[test]
fn page_formats_without_warnings() {
    if let Some(msgs) = lint("groff", &["-man", "-Tutf8", "-ww", "-z"]) {
        assert!(msgs.trim().is_empty(), "groff warnings:\n{msgs}");
    }
    if let Some(msgs) = lint("mandoc", &["-Tlint", "-W", "warning"]) {
        assert!(msgs.trim().is_empty(), "mandoc -Tlint:\n{msgs}");
    }
}
