//! The keyword tree walker (keepalived lib/parser.c `process_stream`).
//!
//! Each block is a static table mapping keyword strings to handlers, one
//! registration per keyword, like keepalived's `install_keyword*` calls.
//! Handlers receive the tokenised line and the parse context; block keywords
//! open a sub-table; list keywords (`virtual_ipaddress`, `unicast_peer`,
//! `track_*`, `notification_email`, ...) read every line up to `}` as an item.

use crate::diag::{Diagnostics, Origin, Severity};
use crate::lexer::{tokenize_into, Token};
use crate::model::Config;
use crate::preproc::{Line, Preprocessor};
use crate::Subsystems;

/// Parsing stops at once (keepalived exits with status 2 when a keyword's
/// parameter is missing).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stop;

/// Handler result.
pub type Res<T = ()> = Result<T, Stop>;

/// Whether a block keyword's body is parsed or skipped (keepalived's
/// `skip_block` / the keyword `ptr` check).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Enter {
    Yes,
    Skip,
}

pub type Handler = fn(&mut Ctx, &Args<'_>) -> Res;
pub type OpenHandler = fn(&mut Ctx, &Args<'_>) -> Res<Enter>;
pub type CloseHandler = fn(&mut Ctx) -> Res;

/// Which process owns a root keyword. Blocks of an inactive subsystem are
/// skipped silently, as each keepalived process does with the others' blocks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sys {
    Global,
    Vrrp,
    Check,
    Bfd,
    /// Parsed by VRRP and checker (e.g. `track_file`, `SSL` is checker…).
    VrrpOrCheck,
}

pub enum Kind {
    /// A keyword with values on its line.
    Value(Handler),
    /// A script keyword (`notify`, `script`, `misc_path`, …): the raw line is
    /// re-tokenised shell-like; unmatched quotes are the handler's business.
    Script(Handler),
    /// A keyword that opens a block of keywords.
    Block { open: OpenHandler, block: &'static Block },
    /// A keyword whose block is a list of entries, one per line.
    List { open: Option<OpenHandler>, item: Handler, close: Option<CloseHandler> },
}

pub struct Kw {
    pub name: &'static str,
    pub kind: Kind,
    pub sys: Sys,
}

impl Kw {
    pub const fn value(name: &'static str, h: Handler) -> Kw {
        Kw { name, kind: Kind::Value(h), sys: Sys::Global }
    }
    pub const fn script(name: &'static str, h: Handler) -> Kw {
        Kw { name, kind: Kind::Script(h), sys: Sys::Global }
    }
    pub const fn block(name: &'static str, open: OpenHandler, block: &'static Block) -> Kw {
        Kw { name, kind: Kind::Block { open, block }, sys: Sys::Global }
    }
    pub const fn list(name: &'static str, item: Handler) -> Kw {
        Kw { name, kind: Kind::List { open: None, item, close: None }, sys: Sys::Global }
    }
    pub const fn list_with(
        name: &'static str,
        open: Option<OpenHandler>,
        item: Handler,
        close: Option<CloseHandler>,
    ) -> Kw {
        Kw { name, kind: Kind::List { open, item, close }, sys: Sys::Global }
    }
    /// Mark a root keyword as belonging to a subsystem.
    pub const fn sys(mut self, sys: Sys) -> Kw {
        self.sys = sys;
        self
    }
}

pub struct Block {
    /// The keywords by name, built at the block's first use.
    pub index: KwIndexCell,
    /// The block's name as the user writes it (for messages).
    pub name: &'static str,
    /// The keyword tables of this block (usually one; the root block is
    /// assembled from the tables of every subsystem).
    pub parts: &'static [&'static [Kw]],
    /// Run when the block's closing `}` is read (or at end of file).
    pub close: Option<CloseHandler>,
}

impl Block {
    pub fn find(&self, name: &str) -> Option<&'static Kw> {
        self.keywords().find(|k| k.name == name)
    }
    pub fn keywords(&self) -> impl Iterator<Item = &'static Kw> {
        self.parts.iter().flat_map(|p| p.iter())
    }
}

/// A tokenised line as handlers see it.
pub struct Args<'a> {
    pub words: &'a [Token],
    pub line: &'a Line,
    /// The line's text, looked up once.
    text: &'a str,
}

impl<'a> Args<'a> {
    pub fn new(words: &'a [Token], line: &'a Line) -> Args<'a> {
        Args { words, line, text: line.text.as_str() }
    }
    pub fn len(&self) -> usize {
        self.words.len()
    }
    pub fn is_empty(&self) -> bool {
        self.words.is_empty()
    }
    /// Word `i`, if present.
    pub fn get(&self, i: usize) -> Option<&'a str> {
        self.words.get(i).map(|t| t.text(self.text))
    }
    /// Word `i`, or "" if absent.
    pub fn word(&self, i: usize) -> &'a str {
        self.get(i).unwrap_or("")
    }
    /// All words from `i` on.
    pub fn rest(&self, i: usize) -> impl Iterator<Item = &'a str> {
        let line: &'a str = self.text;
        self.words.iter().skip(i).map(move |t| t.text(line))
    }
    pub fn origin(&self) -> Origin {
        self.line.origin
    }
    /// Origin of word `i` (its column), or of the line.
    pub fn origin_of(&self, i: usize) -> Origin {
        match self.words.get(i) {
            Some(t) => self.line.origin.at_col(self.line.origin.col + t.col - 1),
            None => self.line.origin,
        }
    }
    /// The logical line's text (for script keywords).
    pub fn raw(&self) -> &'a str {
        self.text
    }
}

/// Options for a parse.
#[derive(Clone, Debug)]
pub struct EngineOptions {
    pub active: Subsystems,
}

/// The parse context handed to every handler.
pub struct Ctx {
    pub cfg: Config,
    pub diags: Diagnostics,
    pub pp: Preprocessor,
    pub active: Subsystems,
    /// Origin of the line being handled.
    pub origin: Origin,
    /// Names of the blocks we are in, outermost first (for messages).
    pub block_path: Vec<&'static str>,
    /// True while checking a config (`-t`): a few readers behave differently.
    pub config_test: bool,
    /// The system seen while parsing (keepalived looks interfaces up as it
    /// parses: `if_get_by_ifname`). Unknown unless set by the caller.
    pub system: crate::system::SystemView,
    pushback: Option<Line>,
    /// "Unknown keyword" messages already built, by block and word: the
    /// typo hint costs an edit distance per keyword of the block, and a
    /// file can repeat one unknown word many thousands of times.
    unknown_messages: std::collections::HashMap<(usize, Vec<&'static str>, String), String>,
    /// The addresses of the instance being read, indexed for keepalived's duplicate checks (a
    /// linear scan per address was quadratic: 40,000 excluded VIPs took 1.5 s).
    pub vip_index: crate::vrrp::VipIndex,
    /// Token buffers of finished blocks, reused by the next ones.
    word_bufs: Vec<Vec<Token>>,
}

impl Ctx {
    pub fn new(pp: Preprocessor, active: Subsystems, config_test: bool) -> Ctx {
        let origin = pp.origin();
        Ctx {
            cfg: Config::default(),
            diags: Diagnostics::new(),
            pp,
            active,
            origin,
            block_path: Vec::new(),
            vip_index: Default::default(),
            config_test,
            system: crate::system::SystemView::unknown(),
            pushback: None,
            unknown_messages: std::collections::HashMap::new(),
            word_bufs: Vec::new(),
        }
    }

    /// The "Unknown keyword" message for `word` in `block`, cached.
    fn unknown_keyword(&mut self, block: &'static Block, word: &str) -> String {
        // Bounded: distinct words are few in real files.
        if self.unknown_messages.len() >= 1024 {
            self.unknown_messages.clear();
        }
        let key = (block as *const Block as usize, self.block_path.clone(), word.to_string());
        if let Some(m) = self.unknown_messages.get(&key) {
            return m.clone();
        }
        let msg = unknown_keyword_message(block, word, &self.block_path);
        self.unknown_messages.insert(key, msg.clone());
        msg
    }

    /// Report a configuration error at the current line.
    pub fn report(&mut self, sev: Severity, msg: impl Into<String>) {
        let o = self.origin;
        self.diags.push(sev, Some(o), msg);
    }
    /// `report_config_error(CONFIG_GENERAL_ERROR, …)`.
    pub fn error(&mut self, msg: impl Into<String>) {
        self.report(Severity::GeneralError, msg);
    }
    /// `report_config_error(CONFIG_WARNING, …)`.
    pub fn warning(&mut self, msg: impl Into<String>) {
        self.report(Severity::Warning, msg);
    }
    /// `report_config_error(CONFIG_DEPRECATED, …)`.
    pub fn deprecated(&mut self, msg: impl Into<String>) {
        self.report(Severity::Deprecated, msg);
    }
    /// keepalived `log_message`: printed, but the status is unchanged.
    pub fn log(&mut self, msg: impl Into<String>) {
        let o = self.origin;
        self.diags.log(Some(o), msg);
    }
    /// A report with an explicit origin (validation after parsing).
    pub fn report_at(&mut self, sev: Severity, origin: Option<Origin>, msg: impl Into<String>) {
        self.diags.push(sev, origin, msg);
    }

    /// Word `i` or stop: keepalived's `null_strvec` handler, which reports
    /// and exits with status 2.
    pub fn req<'a>(&mut self, args: &Args<'a>, i: usize) -> Res<&'a str> {
        if let Some(w) = args.get(i) {
            return Ok(w);
        }
        let first = args.get(0).unwrap_or("***MISSING ***");
        let msg = if i > 0 && i <= args.len() {
            format!(
                "*** Configuration line starting `{}` is missing a parameter after keyword `{}` at word position {}",
                first,
                args.word(i - 1),
                i + 1
            )
        } else {
            format!("*** Configuration line starting `{}` is missing a parameter at word position {}", first, i + 1)
        };
        self.report(Severity::MissingParameter, msg);
        self.diags.stopped = true;
        Err(Stop)
    }

    fn next_line(&mut self) -> Option<Line> {
        if let Some(l) = self.pushback.take() {
            return Some(l);
        }
        self.pp.next_line(&mut self.diags)
    }

    /// Tokenise `line` into `words` (a buffer reused from line to line).
    fn tokens(&mut self, line: &Line, words: &mut Vec<Token>) {
        if tokenize_into(&line.text, words) {
            self.origin = line.origin;
            self.report(Severity::UnmatchedQuote, format!("Unmatched quote: '{}'", line.text));
        }
    }

    /// Consume a block body that is being skipped. `need_bob`: the `{` has
    /// not been read yet; if the next line is not `{`, there is no block.
    fn skip_body(&mut self, need_bob: bool) {
        if need_bob {
            match self.next_line() {
                Some(l) if l.text == "{" => {}
                Some(l) => {
                    self.pushback = Some(l);
                    return;
                }
                None => return,
            }
        }
        let mut depth = 1;
        while let Some(l) = self.next_line() {
            match l.text.as_str() {
                "{" => depth += 1,
                "}" => {
                    depth -= 1;
                    if depth == 0 {
                        return;
                    }
                }
                _ => {}
            }
            self.pp.recycle(l.text);
        }
    }

    /// Read a list block (keepalived `alloc_value_block`), calling `item`
    /// for each entry line.
    fn list_body(&mut self, kw: &'static str, item: Handler) -> Res {
        let mut need_bob = true;
        let mut held: Option<Line> = None;
        let mut words = self.word_bufs.pop().unwrap_or_default();
        loop {
            if let Some(done) = held.take() {
                self.pp.recycle(done.text);
            }
            let Some(line) = self.next_line() else { break };
            let line = &*held.insert(line);
            self.tokens(line, &mut words);
            if words.is_empty() {
                continue;
            }
            if need_bob {
                need_bob = false;
                if words[0].text(&line.text) == "{" && !words[0].quoted {
                    continue;
                }
                self.origin = line.origin;
                self.log(format!("'{{' missing from beginning of block {kw}"));
            }
            if words[0].text(&line.text) == "}" && !words[0].quoted {
                break;
            }
            self.origin = line.origin;
            let args = Args::new(&words, line);
            item(self, &args)?;
        }
        self.give_back(held, words);
        Ok(())
    }

    /// keepalived `process_stream`. Returns when the block's `}` is read or
    /// at end of input.
    pub fn process(&mut self, block: &'static Block, level: usize, mut need_bob: bool) -> Res {
        let mut words = self.word_bufs.pop().unwrap_or_default();
        let index = keyword_index(block);
        // The line being handled; its buffer goes back to the preprocessor
        // when the next one is read (`continue` included).
        let mut held: Option<Line> = None;
        loop {
            if let Some(done) = held.take() {
                self.pp.recycle(done.text);
            }
            let Some(line) = self.next_line() else { break };
            let line = &*held.insert(line);
            let text = line.text.as_str();
            let unmatched = tokenize_into(text, &mut words);
            if unmatched {
                // Every line, script keywords included: 2.2.7 tokenises each
                // line (alloc_strvec) before any handler re-reads it.
                self.origin = line.origin;
                self.report(Severity::UnmatchedQuote, format!("Unmatched quote: '{}'", line.text));
            }
            if words.is_empty() {
                continue;
            }
            self.origin = line.origin;
            let first = &words[0];
            let first_text = first.text(text);
            let is = |s: &str| first_text == s && !first.quoted;
            if need_bob {
                need_bob = false;
                if is("{") && level > 0 {
                    continue;
                }
                self.report(Severity::MissingBob, "Missing '{' at beginning of configuration block");
            } else if is("{") {
                self.report(Severity::UnexpectedBob, "Unexpected '{' - ignoring");
                continue;
            }
            if is("}") && level > 0 {
                break;
            }
            let Some(kw) = index.get(first_text).copied() else {
                let msg = self.unknown_keyword(block, first_text);
                self.report(Severity::UnknownKeyword, msg);
                continue;
            };
            let active = match kw.sys {
                Sys::Global => true,
                Sys::Vrrp => self.active.vrrp,
                Sys::Check => self.active.check,
                Sys::Bfd => self.active.bfd,
                Sys::VrrpOrCheck => self.active.vrrp || self.active.check,
            };
            if !active {
                if level == 0 {
                    self.cfg.seen.mark(kw.sys);
                }
                self.skip_body(true);
                continue;
            }
            let args = Args::new(&words, line);
            match &kw.kind {
                Kind::Value(h) | Kind::Script(h) => h(self, &args)?,
                Kind::Block { open, block: sub } => {
                    let enter = open(self, &args)?;
                    if enter == Enter::Skip {
                        self.skip_body(true);
                        continue;
                    }
                    self.block_path.push(kw.name);
                    let r = self.process(sub, level + 1, true);
                    self.block_path.pop();
                    r?;
                    if let Some(close) = sub.close {
                        close(self)?;
                    }
                }
                Kind::List { open, item, close } => {
                    let enter = match open {
                        Some(o) => o(self, &args)?,
                        None => {
                            if args.len() > 1 {
                                self.error(format!("Block {} has extra parameters {} ...", kw.name, args.word(1)));
                            }
                            Enter::Yes
                        }
                    };
                    if enter == Enter::Skip {
                        self.skip_body(true);
                        continue;
                    }
                    self.list_body(kw.name, *item)?;
                    if let Some(c) = close {
                        c(self)?;
                    }
                }
            }
        }
        self.give_back(held, words);
        Ok(())
    }

    /// Return a block's last line and word buffer for reuse by the next
    /// block (thousands of blocks in a big configuration).
    fn give_back(&mut self, held: Option<Line>, mut words: Vec<Token>) {
        if let Some(done) = held {
            self.pp.recycle(done.text);
        }
        if self.word_bufs.len() < 16 {
            words.clear();
            self.word_bufs.push(words);
        }
    }
}

/// A block's keywords by name (the first registration of a name wins, as
/// [`Block::find`]'s scan does). Built once per block; every line of a
/// configuration looks its keyword up here instead of comparing it with each
/// keyword of the block.
pub type KeywordIndex = std::collections::HashMap<&'static str, &'static Kw, FnvBuild>;

fn keyword_index(block: &'static Block) -> &'static KeywordIndex {
    block.index.0.get_or_init(|| {
        let mut m = KeywordIndex::default();
        for kw in block.keywords() {
            m.entry(kw.name).or_insert(kw);
        }
        m
    })
}

/// Where a [`Block`] keeps its [`KeywordIndex`]: in the static block itself,
/// so entering one of the 20,000 blocks of a big configuration costs no lock
/// and no hash of the block's address.
pub struct KwIndexCell(std::sync::OnceLock<KeywordIndex>);

impl KwIndexCell {
    pub const fn new() -> KwIndexCell {
        KwIndexCell(std::sync::OnceLock::new())
    }
}

impl Default for KwIndexCell {
    fn default() -> Self {
        KwIndexCell::new()
    }
}

/// FNV-1a: keywords are short, trusted strings; SipHash costs more than the
/// scan it replaces.
#[derive(Default, Clone, Copy)]
pub struct FnvBuild;

pub struct Fnv(u64);

impl std::hash::BuildHasher for FnvBuild {
    type Hasher = Fnv;
    fn build_hasher(&self) -> Fnv {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
}

impl std::hash::Hasher for Fnv {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x100_0000_01b3);
        }
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

/// "Unknown keyword 'X'" (keepalived's text) plus, beyond keepalived, the
/// block it was found in and the closest known keyword.
fn unknown_keyword_message(block: &Block, word: &str, path: &[&str]) -> String {
    let mut msg = format!("Unknown keyword '{word}'");
    let where_ = if path.is_empty() { "top level".to_string() } else { path.join(" > ") };
    msg.push_str(&format!(" (in {where_}"));
    if let Some(s) = crate::suggest::closest(word, block.keywords().map(|k| k.name)) {
        msg.push_str(&format!("; did you mean '{s}'?"));
    } else if let Some((other, path)) = crate::keywords::find_elsewhere(word) {
        msg.push_str(&format!("; '{other}' is a keyword of {path}"));
    }
    msg.push(')');
    msg
}
