//! The root of the keyword tree, and walks over the whole tree (keyword
//! counts, "is this a keyword of another block?").

use crate::engine::{Block, Kind, Kw, KwIndexCell};

/// The top level: every subsystem contributes its root keywords.
pub static ROOT_BLOCK: Block = Block {
    index: KwIndexCell::new(),
    name: "top level",
    parts: &[crate::global::ROOT, crate::vrrp::ROOT, crate::ipaddr::ROOT, crate::lvs::ROOT, crate::bfd::ROOT],
    close: None,
};

/// Visit every keyword with the path of blocks leading to it.
pub fn walk(mut f: impl FnMut(&[&'static str], &'static Kw)) {
    fn go(
        block: &'static Block,
        path: &mut Vec<&'static str>,
        depth: usize,
        f: &mut dyn FnMut(&[&'static str], &'static Kw),
    ) {
        if depth > 8 {
            return;
        }
        for kw in block.keywords() {
            f(path, kw);
            if let Kind::Block { block: sub, .. } = &kw.kind {
                path.push(kw.name);
                go(sub, path, depth + 1, f);
                path.pop();
            }
        }
    }
    go(&ROOT_BLOCK, &mut Vec::new(), 0, &mut f);
}

/// All distinct keyword strings of the tree.
pub fn all_keywords() -> std::collections::BTreeSet<&'static str> {
    let mut set = std::collections::BTreeSet::new();
    walk(|_, kw| {
        set.insert(kw.name);
    });
    set
}

/// If `word` is a keyword somewhere else in the tree, return it with the
/// path of the block that has it ("global_defs", "virtual_server > real_server").
/// The first place in walk order is kept; the map is built once, as a file
/// of many unknown keywords would otherwise walk the tree for each.
pub fn find_elsewhere(word: &str) -> Option<(&'static str, String)> {
    static PLACES: std::sync::OnceLock<std::collections::HashMap<&'static str, String>> = std::sync::OnceLock::new();
    let places = PLACES.get_or_init(|| {
        let mut m = std::collections::HashMap::new();
        walk(|path, kw| {
            m.entry(kw.name).or_insert_with(|| {
                if path.is_empty() {
                    "the top level".to_string()
                } else {
                    path.join(" > ")
                }
            });
        });
        m
    });
    places.get_key_value(word).map(|(k, p)| (*k, p.clone()))
}
