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
    let (n, m) = (a.len(), b.len());
    if n.abs_diff(m) > limit {
        return None;
    }
    let far = limit + 1;
    let mut prev2 = vec![far; m + 1];
    let mut prev: Vec<usize> = (0..=m).map(|j| j.min(far)).collect();
    let mut cur = vec![far; m + 1];
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
        std::mem::swap(&mut prev2, &mut prev);
        std::mem::swap(&mut prev, &mut cur);
    }
    (prev[m] <= limit).then_some(prev[m])
}

/// The closest candidate within a third of the word's length (at least 1,
/// at most 3 edits), or a case-insensitive match.
pub fn closest<'a>(word: &str, candidates: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    let limit = (word.chars().count() / 3).clamp(1, 3);
    let mut best: Option<(usize, &'a str)> = None;
    for c in candidates {
        if c.eq_ignore_ascii_case(word) {
            return Some(c);
        }
        let Some(d) = distance_within(word, c, limit) else { continue };
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
}
