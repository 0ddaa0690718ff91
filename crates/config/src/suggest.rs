//! "Did you mean …?" for unknown keywords: the closest known keyword by
//! edit distance, if it is close enough to be a plausible typo.

/// Damerau-Levenshtein (optimal string alignment) distance.
pub fn distance(a: &str, b: &str) -> usize {
    let n = a.chars().count().max(b.chars().count());
    distance_within(a, b, n).unwrap_or(n)
}

/// The distance if it is at most `limit`. Only cells within `limit` of the
/// diagonal are computed, three rows at a time, and it stops as soon as a
/// row is all above `limit`: unknown keywords can be many.
pub fn distance_within(a: &str, b: &str, limit: usize) -> Option<usize> {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    Osa::default().within(&a, &b, limit)
}

/// The three rows of the optimal string alignment matrix, kept across the candidates of one
/// word: a fuzzed or mistyped file can hold thousands of unknown words, each compared with every
/// keyword of its block, and allocating per comparison was most of the parse time.
#[derive(Default)]
struct Osa {
    prev2: Vec<usize>,
    prev: Vec<usize>,
    cur: Vec<usize>,
}

impl Osa {
    fn within(&mut self, a: &[char], b: &[char], limit: usize) -> Option<usize> {
        let (n, m) = (a.len(), b.len());
        if n.abs_diff(m) > limit {
            return None;
        }
        let far = limit + 1;
        let Osa { prev2, prev, cur } = self;
        for row in [&mut *prev2, &mut *prev, &mut *cur] {
            row.clear();
            row.resize(m + 1, far);
        }
        for (j, v) in prev.iter_mut().enumerate() {
            *v = j.min(far);
        }
        for i in 1..=n {
            cur.fill(far);
            cur[0] = i.min(far);
            let (lo, hi) = (i.saturating_sub(limit).max(1), (i + limit).min(m));
            let mut row_min = cur[0];
            for j in lo..=hi {
                let cost = usize::from(a[i - 1] != b[j - 1]);
                let mut v = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
                if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                    v = v.min(prev2[j - 2] + 1);
                }
                cur[j] = v.min(far);
                row_min = row_min.min(cur[j]);
            }
            if row_min > limit {
                return None;
            }
            std::mem::swap(prev2, prev);
            std::mem::swap(prev, cur);
        }
        (prev[m] <= limit).then_some(prev[m])
    }
}

/// The closest candidate within a third of the word's length (at least 1,
/// at most 3 edits), or a case-insensitive match.
pub fn closest<'a>(word: &str, candidates: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    let w: Vec<char> = word.chars().collect();
    let limit = (w.len() / 3).clamp(1, 3);
    let (mut osa, mut c_chars) = (Osa::default(), Vec::new());
    let mut best: Option<(usize, &'a str)> = None;
    for c in candidates {
        if c.eq_ignore_ascii_case(word) {
            return Some(c);
        }
        // A string of L bytes has between L/4 and L characters: most candidates are too long or
        // too short to be within `limit`, and are skipped before their characters are read.
        if c.len() + limit < w.len() || c.len().div_ceil(4) > w.len() + limit {
            continue;
        }
        c_chars.clear();
        c_chars.extend(c.chars());
        let Some(d) = osa.within(&w, &c_chars, limit) else { continue };
        if best.is_none_or(|(bd, _)| d < bd) {
            best = Some((d, c));
        }
    }
    best.map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions() {
        let kws = ["virtual_router_id", "priority", "advert_int", "interface"];
        assert_eq!(closest("virtual_routr_id", kws.iter().copied()), Some("virtual_router_id"));
        assert_eq!(closest("priorty", kws.iter().copied()), Some("priority"));
        assert_eq!(closest("Priority", kws.iter().copied()), Some("priority"));
        assert_eq!(closest("VI_2", kws.iter().copied()), None);
    }

    /// The plain full-matrix optimal string alignment distance.
    fn reference(a: &str, b: &str) -> usize {
        let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
        let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
        for i in 0..=a.len() {
            for j in 0..=b.len() {
                d[i][j] = if i == 0 || j == 0 {
                    i + j
                } else {
                    let cost = usize::from(a[i - 1] != b[j - 1]);
                    let mut v = (d[i - 1][j] + 1).min(d[i][j - 1] + 1).min(d[i - 1][j - 1] + cost);
                    if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                        v = v.min(d[i - 2][j - 2] + 1);
                    }
                    v
                };
            }
        }
        d[a.len()][b.len()]
    }

    #[test]
    fn banded_distance_agrees_with_the_full_one() {
        let words =
            ["", "a", "ab", "ba", "abc", "acb", "priority", "priorty", "virtual_router_id", "vrrp_script", "xyz"];
        for a in words {
            for b in words {
                let full = reference(a, b);
                assert_eq!(distance(a, b), full, "{a} {b}");
                for limit in 0..5 {
                    let want = (full <= limit).then_some(full);
                    assert_eq!(distance_within(a, b, limit), want, "{a} {b} {limit}");
                }
            }
        }
        assert_eq!(distance("kitten", "sitting"), 3);
        assert_eq!(distance("ca", "ac"), 1);
    }

    /// `closest` (with its length pre-filter and reused rows) picks what a plain search over the
    /// full distance picks, non-ASCII words included.
    #[test]
    fn closest_agrees_with_a_plain_search() {
        let words = [
            "",
            "a",
            "ab",
            "ba",
            "abc",
            "acb",
            "prio",
            "priority",
            "priorty",
            "prïority",
            "ééé",
            "éa",
            "virtual_router_id",
            "vrrp_script",
            "xyz",
            "αβγδεζηθ",
            "αβγδεζθη",
            "ab_cd_ef_gh_ij_kl",
        ];
        for w in words {
            let limit = (w.chars().count() / 3).clamp(1, 3);
            let plain = words.iter().copied().find(|c| c.eq_ignore_ascii_case(w)).or_else(|| {
                let mut best: Option<(usize, &str)> = None;
                for c in words {
                    let d = reference(w, c);
                    if d <= limit && best.is_none_or(|(bd, _)| d < bd) {
                        best = Some((d, c));
                    }
                }
                best.map(|(_, c)| c)
            });
            assert_eq!(closest(w, words.iter().copied()), plain, "{w}");
        }
    }
}
