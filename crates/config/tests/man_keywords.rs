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
//! - for a region naming a block the tree does not have.
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

/// One documented keyword: where it is and which blocks its region names.
#[derive(Debug)]
struct Entry {
    keyword: String,
    line: usize,
    blocks: Option<Vec<String>>,
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

/// Parse the page's regions and entries.
fn parse_page(text: &str) -> (Vec<Entry>, Vec<(usize, String)>) {
    let mut entries = Vec::new();
    let mut regions_named = Vec::new();
    let mut blocks: Option<Vec<String>> = None;
    let mut tag_next = false;
    for (i, line) in text.lines().enumerate() {
        let n = i + 1;
        if let Some(spec) = line.strip_prefix(".\\\" keywords:") {
            let list: Vec<String> = spec.split(';').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect();
            for b in &list {
                regions_named.push((n, b.clone()));
            }
            blocks = Some(list);
            tag_next = false;
            continue;
        }
        if line.starts_with(".SH") {
            blocks = None;
        }
        if tag_next {
            tag_next = false;
            if let Some(keyword) = tag_keyword(line) {
                entries.push(Entry { keyword, line: n, blocks: blocks.clone() });
            }
        }
        if line == ".TP" || line == ".TQ" {
            tag_next = true;
        }
    }
    (entries, regions_named)
}

fn read_page() -> String {
    let p = page_path();
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

#[test]
fn every_parser_keyword_is_documented_in_its_block() {
    let tree = tree();
    let (entries, _) = parse_page(&read_page());
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
    let (entries, regions) = parse_page(&read_page());
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
    let (entries, _) =
        parse_page(".SH X\n.\\\" keywords: top level\n.TP\n.B a\ntext\n.TQ\n.BR b \" x\"\n.SH Y\n.TP\n.B c\n");
    let got: Vec<(&str, bool)> = entries.iter().map(|e| (e.keyword.as_str(), e.blocks.is_some())).collect();
    assert_eq!(got, vec![("a", true), ("b", true), ("c", false)]);
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
