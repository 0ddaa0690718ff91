//! Keyword coverage: every keyword string keepalived (master) registers
//! (extracted from its install_keyword* calls into
//! tests/data/keepalived-keywords.txt) exists somewhere in our keyword tree.

use keepalived_config::keywords::{all_keywords, find_elsewhere};

#[test]
fn every_keepalived_keyword_is_known() {
    let ours = all_keywords();
    let theirs = include_str!("data/keepalived-keywords.txt");
    let missing: Vec<&str> = theirs.lines().map(str::trim).filter(|k| !k.is_empty() && !ours.contains(k)).collect();
    assert!(missing.is_empty(), "{} keepalived keyword(s) missing from the tree: {}", missing.len(), missing.join(" "));
    assert!(ours.len() >= theirs.lines().count(), "tree has {} keywords", ours.len());
}

#[test]
fn keyword_lookup_across_blocks() {
    // A global keyword written at the top level is named with its block.
    let (kw, path) = find_elsewhere("router_id").expect("router_id is a keyword");
    assert_eq!(kw, "router_id");
    assert_eq!(path, "global_defs");
}
