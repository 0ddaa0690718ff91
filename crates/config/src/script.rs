//! The second, shell-like tokeniser keepalived uses for script keywords
//! (lib/parser.c `alloc_strvec_quoted_escaped_common`): single and double
//! quotes, and with `escapes` the C escapes `\a \b \E \f \n \r \t \v \nnn
//! \xHH \cC`. Used twice: once on the whole line with quotes only (so the
//! command is one word, followed by user and group), then on the command
//! with escapes to make its argv.

/// Error: a quote was not closed, or the string ends in a lone backslash.
#[derive(Debug, PartialEq, Eq)]
pub enum ShellSplitError {
    MissingQuote(char),
    TrailingBackslash,
}

pub fn split(src: &str, escapes: bool) -> Result<Vec<String>, ShellSplitError> {
    let b = src.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    let is_ws = |c: u8| matches!(c, b' ' | b'\t' | b'\x0C' | b'\n' | b'\r' | b'\x0B');
    while i < b.len() {
        while i < b.len() && is_ws(b[i]) {
            i += 1;
        }
        if i >= b.len() {
            break;
        }
        let mut word: Vec<u8> = Vec::new();
        let mut quote: u8 = 0;
        while i < b.len() {
            let c = b[i];
            if c == b'\\' {
                i += 1;
                if i >= b.len() {
                    return Err(ShellSplitError::TrailingBackslash);
                }
                if escapes {
                    let e = b[i];
                    if e == b'x' && i + 1 < b.len() && b[i + 1].is_ascii_hexdigit() {
                        i += 1;
                        let mut v: u8 = 0;
                        let mut n = 0;
                        while n < 2 && i < b.len() && b[i].is_ascii_hexdigit() {
                            v = (v << 4) | (b[i] as char).to_digit(16).unwrap_or(0) as u8;
                            i += 1;
                            n += 1;
                        }
                        word.push(v);
                    } else if e == b'c' && i + 1 < b.len() {
                        word.push(b[i + 1] & 0x1f);
                        i += 2;
                    } else if (b'0'..=b'7').contains(&e) {
                        let mut v: u8 = e - b'0';
                        i += 1;
                        for _ in 0..2 {
                            if i < b.len() && (b'0'..=b'7').contains(&b[i]) {
                                v = v.wrapping_shl(3).wrapping_add(b[i] - b'0');
                                i += 1;
                            }
                        }
                        word.push(v);
                    } else {
                        word.push(match e {
                            b'a' => 0x07,
                            b'b' => 0x08,
                            b'E' => 0x1b,
                            b'f' => 0x0c,
                            b'n' => b'\n',
                            b'r' => b'\r',
                            b't' => b'\t',
                            b'v' => 0x0b,
                            other => other,
                        });
                        i += 1;
                    }
                } else {
                    word.push(b'\\');
                    word.push(b[i]);
                    i += 1;
                }
                continue;
            }
            if quote != 0 {
                if c == quote {
                    quote = 0;
                } else {
                    word.push(c);
                }
                i += 1;
                continue;
            }
            if c == b'"' || c == b'\'' {
                quote = c;
                i += 1;
                continue;
            }
            if is_ws(c) {
                break;
            }
            word.push(c);
            i += 1;
        }
        if quote != 0 {
            return Err(ShellSplitError::MissingQuote(quote as char));
        }
        out.push(String::from_utf8_lossy(&word).into_owned());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_and_escapes() {
        assert_eq!(
            split("notify \"/x.sh a 'b c'\" root grp", false).unwrap(),
            vec!["notify", "/x.sh a 'b c'", "root", "grp"]
        );
        assert_eq!(split("/x.sh a 'b c' \"d\\\"e\"", true).unwrap(), vec!["/x.sh", "a", "b c", "d\"e"]);
        assert_eq!(split("a\\tb \\x41\\101 \\cA", true).unwrap(), vec!["a\tb", "AA", "\u{1}"]);
        assert_eq!(split("a 'b", true), Err(ShellSplitError::MissingQuote('\'')));
        assert_eq!(split("a \\", true), Err(ShellSplitError::TrailingBackslash));
        assert_eq!(split("a\\ b", false).unwrap(), vec!["a\\ b"]);
    }
}
