//! "Did you mean …?" for unknown keywords: the closest known keyword by
//! edit distance, if it is close enough to be a plausible typo.

/// Damerau-Levenshtein (optimal string alignment) distance.
pub fn distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let (n, m) = (a.len(), b.len());
    let mut d = vec![vec![0usize; m + 1]; n + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=n {
        for j in 1..=m {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            d[i][j] = (d[i - 1][j] + 1).min(d[i][j - 1] + 1).min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d[i][j] = d[i][j].min(d[i - 2][j - 2] + 1);
            }
        }
    }
    d[n][m]
}

/// The closest candidate within a third of the word's length (at least 1,
/// at most 3 edits), or a case-insensitive match.
pub fn closest<'a>(word: &str, candidates: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    let len = word.chars().count();
    let limit = (len / 3).clamp(1, 3);
    let mut best: Option<(usize, &'a str)> = None;
    for c in candidates {
        if c.eq_ignore_ascii_case(word) {
            return Some(c);
        }
        // The distance is at least the difference in length: skip the quadratic table.
        if c.chars().count().abs_diff(len) > limit {
            continue;
        }
        let d = distance(word, c);
        if d <= limit && best.is_none_or(|(bd, _)| d < bd) {
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
}
