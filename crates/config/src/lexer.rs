//! Tokeniser for keyword lines, a pest grammar (`line.pest`).

use pest::Parser;
use pest_derive::Parser;

#[derive(Parser)]
#[grammar = "line.pest"]
struct LineParser;

/// One word of a line: its byte range in the line (the inside of the quotes
/// for a quoted word), its 1-based column, and whether it was quoted.
/// Tokens borrow nothing and own nothing: no allocation per word.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Token {
    pub start: u32,
    pub end: u32,
    pub col: u32,
    /// Written in double quotes (so `"{"` is not a brace).
    pub quoted: bool,
}

impl Token {
    /// The word's text in `line` (the line it was read from).
    pub fn text<'a>(&self, line: &'a str) -> &'a str {
        line.get(self.start as usize..self.end as usize).unwrap_or("")
    }
}

/// Result of tokenising a line.
#[derive(Debug, Default)]
pub struct Tokens {
    pub words: Vec<Token>,
    /// Set when a `"` was not closed; the rest of the line was dropped.
    pub unmatched_quote: bool,
}

/// Split a logical line into words. Never fails: the grammar accepts any
/// input, and if pest ever rejected one we would fall back to whitespace.
///
/// Lines without a double quote (nearly all) are split on white space
/// directly: on that subset the grammar reduces to exactly that, and a
/// property test checks both paths agree. This keeps a 10,000-server
/// configuration well under keepalived's parse time.
pub fn tokenize(line: &str) -> Tokens {
    let mut words = Vec::new();
    let unmatched_quote = tokenize_into(line, &mut words);
    Tokens { words, unmatched_quote }
}

/// As [`tokenize`], into a reused buffer; returns whether a quote was left
/// open.
pub fn tokenize_into(line: &str, words: &mut Vec<Token>) -> bool {
    words.clear();
    if split_plain_into(line, words) {
        return false;
    }
    words.clear();
    let t = tokenize_pest(line);
    words.extend_from_slice(&t.words);
    t.unmatched_quote
}

#[cfg(test)]
fn split_plain(line: &str) -> Vec<Token> {
    let mut v = Vec::new();
    split_plain_into(line, &mut v);
    v
}

/// Split `line` on white space into `words`. Returns false, leaving `words`
/// incomplete, at the first double quote: such a line needs the grammar.
fn split_plain_into(line: &str, words: &mut Vec<Token>) -> bool {
    // White space is ASCII, so bytes suffice; multi-byte characters are
    // never split since their bytes are all >= 0x80. One table look-up a
    // byte classifies it: a run of blanks, then a run of word bytes.
    let b = line.as_bytes();
    let mut i = 0;
    loop {
        while i < b.len() && LEX[b[i] as usize] == WS {
            i += 1;
        }
        if i == b.len() {
            return true;
        }
        let start = i;
        while i < b.len() && LEX[b[i] as usize] == 0 {
            i += 1;
        }
        if i < b.len() && LEX[b[i] as usize] == QUOTE {
            return false;
        }
        words.push(Token { start: start as u32, end: i as u32, col: start as u32 + 1, quoted: false });
    }
}

const WS: u8 = 1;
const QUOTE: u8 = 2;

/// Byte classes for [`split_plain_into`]: the grammar's `ws` and `"`.
static LEX: [u8; 256] = {
    let mut t = [0u8; 256];
    t[b' ' as usize] = WS;
    t[b'\t' as usize] = WS;
    t[0x0C] = WS;
    t[0x0B] = WS;
    t[b'\r' as usize] = WS;
    t[b'\n' as usize] = WS;
    t[b'"' as usize] = QUOTE;
    t
};

fn plain_token(line: &str, w: &str) -> Token {
    let start = (w.as_ptr() as usize - line.as_ptr() as usize) as u32;
    Token { start, end: start + w.len() as u32, col: start + 1, quoted: false }
}

/// The grammar-driven tokeniser (any line, quotes included).
pub fn tokenize_pest(line: &str) -> Tokens {
    let mut out = Tokens::default();
    match LineParser::parse(Rule::line, line) {
        Ok(mut pairs) => {
            let Some(top) = pairs.next() else { return out };
            for p in top.into_inner() {
                let span = p.as_span();
                let col = span.start() as u32 + 1;
                match p.as_rule() {
                    Rule::word => {
                        out.words.push(Token { start: span.start() as u32, end: span.end() as u32, col, quoted: false })
                    }
                    Rule::quoted => {
                        let (start, end) = match p.into_inner().next() {
                            Some(i) => (i.as_span().start() as u32, i.as_span().end() as u32),
                            None => (span.start() as u32 + 1, span.start() as u32 + 1),
                        };
                        out.words.push(Token { start, end, col, quoted: true });
                    }
                    Rule::unterminated => out.unmatched_quote = true,
                    _ => {}
                }
            }
        }
        Err(_) => {
            // Unreachable (the grammar accepts any line); never panic.
            out.words = line
                .split([' ', '\t', '\x0C', '\x0B', '\r', '\n'])
                .filter(|w| !w.is_empty())
                .map(|w| plain_token(line, w))
                .collect();
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(s: &str) -> Vec<String> {
        tokenize(s).words.into_iter().map(|t| t.text(s).to_string()).collect()
    }

    #[test]
    fn words_and_quotes() {
        assert_eq!(words("a  b\tc"), vec!["a", "b", "c"]);
        assert_eq!(words("notify \"/bin/x y\" root"), vec!["notify", "/bin/x y", "root"]);
        assert_eq!(words("a\"b c\"d"), vec!["a", "b c", "d"]);
        assert_eq!(words("e \"\""), vec!["e", ""]);
        let t = tokenize("x \"open");
        assert!(t.unmatched_quote);
        assert_eq!(t.words.len(), 1);
    }

    #[test]
    fn fast_path_agrees_with_grammar() {
        for l in ["a b", "  a\tb  c ", "", "   ", "x{y}", "\u{e9}t\u{e9} x", "a\x0Cb\x0Bc"] {
            assert_eq!(split_plain(l), tokenize_pest(l).words, "{l:?}");
        }
    }

    #[test]
    fn columns() {
        let t = tokenize("  ab \"c d\"");
        assert_eq!(t.words[0].col, 3);
        assert_eq!(t.words[1].col, 6);
    }
}

#[cfg(test)]
mod prop {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn plain_split_equals_grammar(line in "[a-z0-9{}:./ \\t\\x0B\\x0C-]{0,60}") {
            prop_assert_eq!(split_plain(&line), tokenize_pest(&line).words);
        }
    }
}
