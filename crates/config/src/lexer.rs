//! Tokeniser for keyword lines, a pest grammar (`line.pest`).

use pest::Parser;
use pest_derive::Parser;

#[derive(Parser)]
#[grammar = "line.pest"]
struct LineParser;

/// One word of a line, with its 1-based column in the logical line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Token {
    pub text: String,
    pub col: u32,
    /// Written in double quotes (so `"{"` is not a brace).
    pub quoted: bool,
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
pub fn tokenize(line: &str) -> Tokens {
    let mut out = Tokens::default();
    match LineParser::parse(Rule::line, line) {
        Ok(mut pairs) => {
            let Some(top) = pairs.next() else { return out };
            for p in top.into_inner() {
                let col = p.as_span().start() as u32 + 1;
                match p.as_rule() {
                    Rule::word => out.words.push(Token { text: p.as_str().to_string(), col, quoted: false }),
                    Rule::quoted => {
                        let inner = p.into_inner().next().map(|i| i.as_str()).unwrap_or("");
                        out.words.push(Token { text: inner.to_string(), col, quoted: true });
                    }
                    Rule::unterminated => out.unmatched_quote = true,
                    _ => {}
                }
            }
        }
        Err(_) => {
            let mut col = 1;
            for w in line.split([' ', '\t']) {
                if !w.is_empty() {
                    out.words.push(Token { text: w.to_string(), col, quoted: false });
                }
                col += w.len() as u32 + 1;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(s: &str) -> Vec<String> {
        tokenize(s).words.into_iter().map(|t| t.text).collect()
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
    fn columns() {
        let t = tokenize("  ab \"c d\"");
        assert_eq!(t.words[0].col, 3);
        assert_eq!(t.words[1].col, 6);
    }
}
