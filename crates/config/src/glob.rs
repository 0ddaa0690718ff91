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
    /// More than [`MAX_PATHS`] brace alternatives or matches: nothing is
    /// returned.
    pub too_many: bool,
}

/// Brace alternatives of one pattern, and paths matched by it (glob(3) has
/// no limit: `{a,b}` forty times runs for ever in 2.2.7).
pub const MAX_PATHS: usize = 10_000;

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

/// Expand `{a,b}` alternatives (nested allowed), left to right.
pub fn expand_braces(pattern: &str) -> Vec<String> {
    expand_braces_within(pattern, usize::MAX).unwrap_or_default()
}

/// How many alternatives `pattern` has, or `None` past [`MAX_PATHS`] (the fuzzing front end's
/// includes open nothing: each alternative counts as a missing file).
pub fn alternatives_within(pattern: &str) -> Option<usize> {
    expand_braces_within(pattern, MAX_PATHS).map(|v| v.len())
}

/// [`expand_braces`], or `None` past `limit` alternatives (found without
/// building more than `limit` + 1 of them).
fn expand_braces_within(pattern: &str, limit: usize) -> Option<Vec<String>> {
    let b = pattern.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' {
            i += 2;
            continue;
        }
        if b[i] == b'{' {
            // Find the matching close and the top-level commas.
            let mut depth = 0;
            let mut commas = Vec::new();
            let mut j = i;
            let mut close = None;
            while j < b.len() {
                match b[j] {
                    b'\\' => j += 1,
                    b'{' => depth += 1,
                    b'}' => {
                        depth -= 1;
                        if depth == 0 {
                            close = Some(j);
                            break;
                        }
                    }
                    b',' if depth == 1 => commas.push(j),
                    _ => {}
                }
                j += 1;
            }
            let Some(close) = close else { return Some(vec![pattern.to_string()]) };
            if commas.is_empty() {
                // "{x}" is literal for glob(3) unless it has a comma? GNU glob
                // treats a single alternative as itself.
                let inner = &pattern[i + 1..close];
                let rebuilt = format!("{}{}{}", &pattern[..i], inner, &pattern[close + 1..]);
                return expand_braces_within(&rebuilt, limit);
            }
            let mut out = Vec::new();
            let mut start = i + 1;
            for &c in commas.iter().chain(std::iter::once(&close)) {
                let alt = &pattern[start..c];
                let rebuilt = format!("{}{}{}", &pattern[..i], alt, &pattern[close + 1..]);
                out.extend(expand_braces_within(&rebuilt, limit - out.len())?);
                if out.len() > limit {
                    return None;
                }
                start = c + 1;
            }
            return Some(out);
        }
        i += 1;
    }
    Some(vec![pattern.to_string()])
}

fn has_wildcard(s: &str) -> bool {
    s.bytes().any(|c| matches!(c, b'*' | b'?' | b'['))
}

/// One element of a glob component: each but `Star` matches one byte.
#[derive(Clone, Debug, PartialEq)]
enum Tok {
    Star,
    Any,
    Lit(u8),
    /// `[...]`: single bytes and ranges, negated with `!` or `^`.
    Class {
        items: Vec<(u8, u8)>,
        neg: bool,
    },
}

impl Tok {
    fn matches(&self, c: u8) -> bool {
        match self {
            Tok::Star | Tok::Any => true,
            Tok::Lit(l) => *l == c,
            Tok::Class { items, neg } => items.iter().any(|&(lo, hi)| lo <= c && c <= hi) != *neg,
        }
    }
}

/// Split a glob component into tokens. A `[` without its `]` is literal.
fn tokens(p: &[u8]) -> Vec<Tok> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < p.len() {
        match p[i] {
            b'*' => out.push(Tok::Star),
            b'?' => out.push(Tok::Any),
            b'\\' if i + 1 < p.len() => {
                i += 1;
                out.push(Tok::Lit(p[i]));
            }
            b'[' => match class(p, i) {
                Some((tok, end)) => {
                    out.push(tok);
                    i = end;
                }
                None => out.push(Tok::Lit(b'[')),
            },
            c => out.push(Tok::Lit(c)),
        }
        i += 1;
    }
    out
}

/// The `[...]` starting at `p[open]`, and the index of its `]`.
fn class(p: &[u8], open: usize) -> Option<(Tok, usize)> {
    let mut i = open + 1;
    let neg = matches!(p.get(i), Some(b'!') | Some(b'^'));
    if neg {
        i += 1;
    }
    let mut items = Vec::new();
    let mut first = true;
    while i < p.len() && (first || p[i] != b']') {
        first = false;
        if i + 2 < p.len() && p[i + 1] == b'-' && p[i + 2] != b']' {
            items.push((p[i], p[i + 2]));
            i += 3;
        } else {
            items.push((p[i], p[i]));
            i += 1;
        }
    }
    (i < p.len()).then_some((Tok::Class { items, neg }, i))
}

/// fnmatch(3) without flags, enough for config globs: `*`, `?`, `[...]`,
/// `[!...]`, backslash escapes. A leading dot must be matched literally.
///
/// Linear backtracking to the last `*` only (as glibc), so a pattern of
/// many `*` cannot take exponential time.
pub fn fnmatch(pat: &[u8], name: &[u8]) -> bool {
    if name.first() == Some(&b'.') && pat.first() != Some(&b'.') {
        return false;
    }
    let p = tokens(pat);
    let (mut pi, mut ni) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ni < name.len() {
        if pi < p.len() && p[pi] == Tok::Star {
            star = Some((pi, ni));
            pi += 1;
        } else if pi < p.len() && p[pi].matches(name[ni]) {
            pi += 1;
            ni += 1;
        } else if let Some((sp, sn)) = star {
            // Let the last `*` take one more byte and retry.
            pi = sp + 1;
            ni = sn + 1;
            star = Some((sp, sn + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|t| *t == Tok::Star)
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
    let Some(alts) = expand_braces_within(pattern, MAX_PATHS) else {
        res.too_many = true;
        return res;
    };
    for alt in alts {
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
            if next.len() + res.paths.len() > MAX_PATHS {
                res.too_many = true;
                res.paths.clear();
                return res;
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
    }

    #[test]
    fn matching() {
        assert!(fnmatch(b"*.conf", b"a.conf"));
        assert!(!fnmatch(b"*.conf", b".a.conf"));
        assert!(fnmatch(b"x[0-9]?", b"x5z"));
        assert!(fnmatch(b"x[!0-9]", b"xa"));
        assert!(!fnmatch(b"x[!0-9]", b"x1"));
        assert!(fnmatch(b"*a*b", b"xaxb"));
        assert!(!fnmatch(b"*a*b", b"xaxbx"));
        assert!(fnmatch(b"a[b", b"a[b"));
        assert!(fnmatch(b"a\\*", b"a*"));
        assert!(!fnmatch(b"a\\*", b"ab"));
        assert!(fnmatch(b"[]]x", b"]x"));
        assert!(fnmatch(b"**", b""));
        assert!(fnmatch(b"?*?", b"ab"));
        assert!(!fnmatch(b"?*?", b"a"));
    }

    #[test]
    fn many_stars_take_linear_time() {
        let pat = "*a".repeat(30) + "*b";
        let name = "a".repeat(255);
        let t = std::time::Instant::now();
        assert!(!fnmatch(pat.as_bytes(), name.as_bytes()));
        assert!(t.elapsed() < std::time::Duration::from_secs(1));
    }

    #[test]
    fn brace_alternatives_are_limited() {
        assert_eq!(expand_braces_within(&"{a,b}".repeat(13), MAX_PATHS).map(|v| v.len()), Some(8192));
        assert_eq!(expand_braces_within(&"{a,b}".repeat(40), MAX_PATHS), None);
        let r = expand(&"{a,b}".repeat(40), Path::new("/nonexistent"));
        assert!(r.too_many && r.paths.is_empty());
    }
}
