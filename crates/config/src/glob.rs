//! Glob with brace expansion, as keepalived calls glob(3) for `include`:
//! `GLOB_BRACE | GLOB_MARK` plus its ALTDIRFUNC hooks that count missing
//! files and directories (which decide between "missing" and "no match").

use std::path::{Path, PathBuf};

#[derive(Debug, Default)]
pub struct GlobResult {
    pub paths: Vec<PathBuf>,
    /// Literal (non-wildcard) names that did not exist.
    pub missing_files: usize,
    /// Directories that could not be opened.
    pub missing_dirs: usize,
    pub have_wildcards: bool,
}

/// True if `pattern` contains an unescaped `{`.
pub fn has_brace(pattern: &str) -> bool {
    let b = pattern.as_bytes();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'\\' => i += 2,
            b'{' => return true,
            _ => i += 1,
        }
    }
    false
}

/// At most this many alternatives of one pattern are expanded (and looked up): each `{a,b}`
/// doubles their number, so `{a,b}{a,b}…` on one line would otherwise take time and memory
/// exponential in its length (22 of them: 9 s and 430 MB).
pub const MAX_ALTERNATIVES: usize = 4096;

/// Expand `{a,b}` alternatives (nested allowed), left to right; at most [`MAX_ALTERNATIVES`]
/// of them (see [`too_many_alternatives`]).
pub fn expand_braces(pattern: &str) -> Vec<String> {
    let mut out = Vec::new();
    expand_into(pattern, &mut out);
    out
}

/// `pattern` has more alternatives than [`expand_braces`] expands.
pub fn too_many_alternatives(pattern: &str) -> bool {
    let mut out = Vec::new();
    expand_into(pattern, &mut out) == Expanded::Truncated
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Expanded {
    All,
    Truncated,
}

/// Append the alternatives of `pattern` to `out`, until it holds [`MAX_ALTERNATIVES`].
fn expand_into(pattern: &str, out: &mut Vec<String>) -> Expanded {
    let Some((open, commas, close)) = first_brace(pattern) else {
        if out.len() >= MAX_ALTERNATIVES {
            return Expanded::Truncated;
        }
        out.push(pattern.to_string());
        return Expanded::All;
    };
    // "{x}": GNU glob treats a single alternative as itself.
    let mut start = open + 1;
    for &c in commas.iter().chain(std::iter::once(&close)) {
        let rebuilt = format!("{}{}{}", &pattern[..open], &pattern[start..c], &pattern[close + 1..]);
        if expand_into(&rebuilt, out) == Expanded::Truncated {
            return Expanded::Truncated;
        }
        start = c + 1;
    }
    Expanded::All
}

/// The first unescaped `{` with a matching `}`: its position, the top-level commas, the close.
/// `None` when there is none (an unmatched `{` is literal).
fn first_brace(pattern: &str) -> Option<(usize, Vec<usize>, usize)> {
    let b = pattern.as_bytes();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'\\' => i += 2,
            b'{' => return matching_close(b, i),
            _ => i += 1,
        }
    }
    None
}

fn matching_close(b: &[u8], open: usize) -> Option<(usize, Vec<usize>, usize)> {
    let mut depth = 0;
    let mut commas = Vec::new();
    let mut j = open;
    while j < b.len() {
        match b[j] {
            b'\\' => j += 1,
            b'{' => depth += 1,
            b'}' => {
                depth -= 1;
                if depth == 0 {
                    return Some((open, commas, j));
                }
            }
            b',' if depth == 1 => commas.push(j),
            _ => {}
        }
        j += 1;
    }
    None
}

fn has_wildcard(s: &str) -> bool {
    s.bytes().any(|c| matches!(c, b'*' | b'?' | b'['))
}

/// fnmatch(3) without flags, enough for config globs: `*`, `?`, `[...]`,
/// `[!...]`, backslash escapes. A leading dot must be matched literally.
pub fn fnmatch(pat: &[u8], name: &[u8]) -> bool {
    if name.first() == Some(&b'.') && pat.first() != Some(&b'.') {
        return false;
    }
    fn m(p: &[u8], n: &[u8]) -> bool {
        match p.first() {
            None => n.is_empty(),
            Some(b'*') => (0..=n.len()).any(|k| m(&p[1..], &n[k..])),
            Some(b'?') => !n.is_empty() && m(&p[1..], &n[1..]),
            Some(b'[') => {
                if n.is_empty() {
                    return false;
                }
                let mut i = 1;
                let neg = matches!(p.get(1), Some(b'!') | Some(b'^'));
                if neg {
                    i += 1;
                }
                let mut matched = false;
                let mut first = true;
                while i < p.len() && (first || p[i] != b']') {
                    first = false;
                    if i + 2 < p.len() && p[i + 1] == b'-' && p[i + 2] != b']' {
                        if p[i] <= n[0] && n[0] <= p[i + 2] {
                            matched = true;
                        }
                        i += 3;
                    } else {
                        if p[i] == n[0] {
                            matched = true;
                        }
                        i += 1;
                    }
                }
                if i >= p.len() {
                    // No closing bracket: literal '['.
                    return n[0] == b'[' && m(&p[1..], &n[1..]);
                }
                matched != neg && m(&p[i + 1..], &n[1..])
            }
            Some(b'\\') if p.len() > 1 => !n.is_empty() && n[0] == p[1] && m(&p[2..], &n[1..]),
            Some(&c) => !n.is_empty() && n[0] == c && m(&p[1..], &n[1..]),
        }
    }
    m(pat, name)
}

fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut it = s.chars();
    while let Some(c) = it.next() {
        if c == '\\' {
            if let Some(n) = it.next() {
                out.push(n);
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Expand `pattern` relative to `base` (if not absolute). Results of each
/// brace alternative are sorted, alternatives keep their order (GNU glob).
/// The returned paths are as the user wrote them (relative stays relative
/// to `base`, joined), directories get a trailing `/` (GLOB_MARK).
pub fn expand(pattern: &str, base: &Path) -> GlobResult {
    let mut res = GlobResult::default();
    for alt in expand_braces(pattern) {
        let full = if alt.starts_with('/') { alt.clone() } else { format!("{}/{}", base.display(), alt) };
        let comps: Vec<&str> = full.split('/').collect();
        let mut found = vec![String::new()];
        let absolute = full.starts_with('/');
        for (ci, comp) in comps.iter().enumerate() {
            if comp.is_empty() {
                if ci == 0 && absolute {
                    found = vec![String::from("/")];
                }
                continue;
            }
            let last = ci == comps.len() - 1;
            let mut next = Vec::new();
            for dir in &found {
                let join = |name: &str| {
                    if dir.is_empty() || dir.ends_with('/') {
                        format!("{dir}{name}")
                    } else {
                        format!("{dir}/{name}")
                    }
                };
                if has_wildcard(comp) {
                    res.have_wildcards = true;
                    let d = if dir.is_empty() { ".".to_string() } else { dir.clone() };
                    match std::fs::read_dir(&d) {
                        Ok(rd) => {
                            let mut names: Vec<String> = rd
                                .filter_map(|e| e.ok())
                                .map(|e| e.file_name().to_string_lossy().into_owned())
                                .collect();
                            names.sort();
                            for n in names {
                                if fnmatch(comp.as_bytes(), n.as_bytes()) {
                                    next.push(join(&n));
                                }
                            }
                        }
                        Err(_) => res.missing_dirs += 1,
                    }
                } else {
                    let p = join(&unescape(comp));
                    if std::fs::symlink_metadata(&p).is_ok() {
                        next.push(p);
                    } else if last {
                        res.missing_files += 1;
                    } else {
                        res.missing_dirs += 1;
                    }
                }
            }
            found = next;
            if found.is_empty() {
                break;
            }
        }
        for f in found {
            if f.is_empty() {
                continue;
            }
            let mut p = f;
            if Path::new(&p).is_dir() && !p.ends_with('/') {
                p.push('/');
            }
            res.paths.push(PathBuf::from(p));
        }
    }
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn braces() {
        assert_eq!(expand_braces("a{b,c}d"), vec!["abd", "acd"]);
        assert_eq!(expand_braces("{x,y{1,2}}"), vec!["x", "y1", "y2"]);
        assert_eq!(expand_braces("plain"), vec!["plain"]);
        assert!(has_brace("a{b}"));
        assert!(!has_brace("a\\{b"));
        assert_eq!(expand_braces("a{b"), vec!["a{b"]);
        assert_eq!(expand_braces("{a}{b,c}"), vec!["ab", "ac"]);
        let many = "{a,b}".repeat(22);
        assert_eq!(expand_braces(&many).len(), MAX_ALTERNATIVES);
        assert!(too_many_alternatives(&many));
        assert!(!too_many_alternatives(&"{a,b}".repeat(12)));
    }

    #[test]
    fn matching() {
        assert!(fnmatch(b"*.conf", b"a.conf"));
        assert!(!fnmatch(b"*.conf", b".a.conf"));
        assert!(fnmatch(b"x[0-9]?", b"x5z"));
        assert!(fnmatch(b"x[!0-9]", b"xa"));
        assert!(!fnmatch(b"x[!0-9]", b"x1"));
    }
}
