//! The mio tokens of one kind of probe: a range of the checker child's, reused once freed.
use mio::Token;

/// Tokens `first..first+count`; a freed one is handed out again before a new one.
pub(crate) struct Tokens {
    free: Vec<Token>,
    /// The first token never handed out.
    pub(super) next: usize,
    end: usize,
}

impl Tokens {
    pub(crate) fn new(first: usize, count: usize) -> Tokens {
        Tokens { free: Vec::new(), next: first, end: first.saturating_add(count) }
    }

    /// A token not in use, unless all of the range are.
    pub(crate) fn take(&mut self) -> Option<Token> {
        if let Some(t) = self.free.pop() {
            return Some(t);
        }
        (self.next < self.end).then(|| {
            self.next += 1;
            Token(self.next - 1)
        })
    }

    /// `token` is no longer in use.
    pub(crate) fn give_back(&mut self, token: Token) {
        self.free.push(token);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_freed_token_comes_back_before_a_new_one_and_the_range_ends() {
        let mut t = Tokens::new(100, 2);
        assert_eq!(t.take(), Some(Token(100)));
        assert_eq!(t.take(), Some(Token(101)));
        assert_eq!(t.take(), None);
        t.give_back(Token(100));
        assert_eq!(t.take(), Some(Token(100)));
        assert_eq!(t.take(), None);
        assert_eq!(Tokens::new(usize::MAX, 5).take(), None, "the range saturates");
    }
}
