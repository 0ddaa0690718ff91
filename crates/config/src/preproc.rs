//! keepalived's line preprocessor (lib/parser.c `read_line`), re-implemented.
//!
//! It turns the configuration files into a stream of logical lines, each
//! with its origin, doing what keepalived does before any keyword is seen:
//!
//! * comments (`#`, `!` outside double quotes; `\#`, `\!` are literal),
//! * `include` / `includer|m|w|b|a` with glob and brace expansion relative
//!   to the including file, and the include checks,
//! * `@id` / `@^id` conditional lines,
//! * `$NAME=value` definitions (multi-line with trailing `\`), lazy and
//!   recursive `$NAME` / `${NAME}` substitution and the built-ins
//!   `_PWD _INSTANCE _RANDOM _ENV _HASH _BANG`,
//! * `~SEQ(var,start,step,end)`, `~SEQx(...)` and `~LST(...)` repetition,
//! * the 1024-byte line limit and embedded NULs,
//! * splitting `{` and `}` out of lines (outside quotes).
//!
//! Unlike keepalived it never changes the process working directory: a
//! relative include is resolved against the directory of the file that
//! contains it, which is what keepalived's `chdir` achieves.

use crate::diag::{Diagnostics, FileId, Origin, Severity};
use crate::glob;
use std::path::{Path, PathBuf};
use std::rc::Rc;

const HASH_MARK: &str = "\u{E000}";
const BANG_MARK: &str = "\u{E001}";

/// keepalived's MAXBUF: lines of 1024 bytes or more are ignored.
pub const MAXBUF: usize = 1024;

// Limits keepalived does not have (docs/compat.md "Limits"). Where 2.2.7
// has none it hangs, or exhausts memory or file descriptors; these are far
// above anything a real configuration needs.

/// Files open at once through `include` (2.2.7: until open() fails with
/// "Too many open files", i.e. `ulimit -n`).
pub const MAX_INCLUDE_DEPTH: usize = 32;
/// Size of one configuration file (2.2.7 reads line by line, without limit).
pub const MAX_FILE_BYTES: u64 = 64 << 20;
/// Bytes read from all configuration files together.
pub const MAX_TOTAL_BYTES: u64 = 256 << 20;
/// `$` substitutions on one line (2.2.7 loops for ever on `$A=$A`).
pub const MAX_SUBSTITUTIONS: u32 = 10_000;
/// Values of one `~SEQ` (2.2.7 counts up to any `long`).
pub const MAX_SEQ_VALUES: i128 = 100_000;
/// Lines made from one configuration line by `~SEQ`, `~LST` and multi-line
/// definitions, nested ones included (2.2.7: no limit; a multi-line
/// definition naming itself repeats for ever).
pub const MAX_GENERATED_LINES: u64 = 1_000_000;
/// Lines made by expansion in the whole configuration: many lines each
/// just under [`MAX_GENERATED_LINES`] would otherwise take years.
pub const MAX_TOTAL_GENERATED_LINES: u64 = 10_000_000;
/// `~SEQ`/`~LST`s active at once, one inside another (through multi-line definitions). 2.2.7: no
/// limit; a definition whose value repeats itself through a `~SEQ` nests for ever, and each
/// level costs a look at every level above it.
pub const MAX_SEQ_NESTING: usize = 32;
/// Text of one multi-line definition (2.2.7: no limit).
pub const MAX_DEFINITION_BYTES: usize = 1 << 20;

/// Include-check bits (lib/parser.h `include_t`).
pub mod inc {
    pub const R: u8 = 1; // readable
    pub const M: u8 = 2; // match (non-wildcard names must exist)
    pub const W: u8 = 4; // wildcard_match (a wildcard must match something)
    pub const B: u8 = 8; // brace_match (every brace alternative must exist)
    pub const ALL: u8 = R | M | W | B;
}

/// A logical line handed to the keyword parser.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Line {
    pub text: LineText,
    pub origin: Origin,
}

/// The text of a [`Line`]. Nearly every line of a big configuration is a
/// piece of a file, unchanged: it is handed out as a range of the file's
/// text (shared, not copied), and a brace split off a line as a constant;
/// only lines the preprocessor rewrote are strings of their own.
#[derive(Clone, Debug)]
pub enum LineText {
    Owned(String),
    Shared { file: Rc<String>, start: u32, end: u32 },
    Brace(&'static str),
}

impl LineText {
    pub fn as_str(&self) -> &str {
        match self {
            LineText::Owned(s) => s,
            LineText::Shared { file, start, end } => file.get(*start as usize..*end as usize).unwrap_or(""),
            LineText::Brace(b) => b,
        }
    }
}

impl std::ops::Deref for LineText {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl std::fmt::Display for LineText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PartialEq for LineText {
    fn eq(&self, other: &LineText) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for LineText {}

impl PartialEq<str> for LineText {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for LineText {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl From<String> for LineText {
    fn from(s: String) -> LineText {
        LineText::Owned(s)
    }
}

/// A lone brace as a [`LineText`] (`b` is `{` or `}`).
fn brace_text(b: &[u8]) -> Option<LineText> {
    match b {
        b"{" => Some(LineText::Brace("{")),
        b"}" => Some(LineText::Brace("}")),
        _ => None,
    }
}

#[derive(Clone, Debug)]
struct SourceFile {
    /// Name shown in messages.
    name: FileId,
    dir: PathBuf,
    /// The file's contents (invalid UTF-8 replaced), shared with the lines
    /// handed out ([`LineText::Shared`]).
    text: Rc<String>,
    /// Byte offset of the next line.
    pos: usize,
    /// Line number of the line last read (1-based).
    line_no: u32,
    /// (device, inode) of the file, to refuse include loops.
    inode: Option<(u64, u64)>,
}

/// One `include` (a glob with possibly several matching files).
#[derive(Clone, Debug)]
struct Include {
    pattern: String,
    matches: Vec<PathBuf>,
    next: usize,
    num_opened: usize,
    include_type: u8,
    saved_include_check: u8,
    current: Option<SourceFile>,
}

#[derive(Clone, Debug)]
enum Builtin {
    Pwd,
    Instance,
    Random,
    Env,
}

#[derive(Clone, Debug)]
struct Def {
    name: String,
    value: String,
    multiline: bool,
    builtin: Option<Builtin>,
    min_params: usize,
    max_params: usize,
    numbers_only: bool,
}

#[derive(Clone, Debug)]
enum Seq {
    Range { var: String, next: i64, step: i64, last: i64, hex: bool, text: String },
    List { vars: Vec<String>, sets: Vec<Vec<String>>, next: usize, text: String },
}

/// Options that shape preprocessing.
#[derive(Clone, Debug, Default)]
pub struct PreprocOptions {
    /// `-i/--config-id`; `None` means no id (all `@x` lines dropped).
    pub config_id: Option<String>,
    /// `-e/--all-config`: include_check all from the start.
    pub all_config: bool,
    /// `random_seed` if known before parsing.
    pub random_seed: Option<u64>,
    /// Fuzzing: `include` opens nothing; each alternative of its pattern counts as a missing file.
    pub no_includes: bool,
}

/// The streaming preprocessor. Pull lines with [`Preprocessor::next_line`].
pub struct Preprocessor {
    stack: Vec<Include>,
    defs: Vec<Def>,
    seqs: Vec<Seq>,
    /// Lines of a multi-line definition being expanded (next_ptr).
    pending: Vec<String>,
    /// Saved expansions when a multi-line expansion contains another one.
    pending_stack: Vec<(Vec<String>, usize)>,
    /// Number of seqs that existed when the current multi-line expansion began.
    multiline_seq_depth: usize,
    residue: Option<(LineText, Origin)>,
    /// Definition currently receiving continuation lines.
    multiline_def: Option<usize>,
    /// It reached [`MAX_DEFINITION_BYTES`].
    multiline_def_full: bool,
    config_id: Option<String>,
    include_check: u8,
    no_includes: bool,
    rng: u64,
    /// keepalived's `block_depth` for "Extra '}' found" / missing '}' counts.
    pub block_depth: i32,
    /// The origin of the most recently returned line.
    last_origin: Origin,
    /// Names of all files opened (for `-d` and tests).
    pub files_read: Vec<String>,
    /// Whether more than one file is involved (keepalived then names files).
    multi_file: bool,
    /// `${_HASH}`/`${_BANG}` were substituted at least once.
    placeholders: bool,
    /// Recording the consolidated configuration (see [`Preprocessor::take_copy`]).
    copy: Option<String>,
    /// Reading a consolidated configuration instead of files.
    replay: bool,
    /// In replay: the files we are inside of (name, directory, line number).
    replay_stack: Vec<(FileId, PathBuf, u32)>,
    /// Bytes read from configuration files so far ([`MAX_TOTAL_BYTES`]).
    bytes_read: u64,
    /// Lines made by expansion since the last line read from a file
    /// ([`MAX_GENERATED_LINES`]).
    generated: u64,
    /// Lines made by expansion in all, and the limit
    /// ([`MAX_TOTAL_GENERATED_LINES`]; lowered by unit tests).
    generated_total: u64,
    total_limit: u64,
    /// Line buffers given back by the parser ([`Preprocessor::recycle`]).
    spare: Vec<String>,
    /// Byte classes of the physical line last read ([`scan_line`]).
    phys_classes: u8,
    /// Take [`Preprocessor::next_plain_line`] (off only in the test that
    /// compares it with the general path).
    plain_path: bool,
}

/// Marker lines of the consolidated configuration. They start with a NUL,
/// which no configuration line can contain (such lines are ignored).
const COPY_FILE: &str = "\0F ";
const COPY_END: &str = "\0E";

impl Preprocessor {
    /// Open the main configuration file (glob allowed, as keepalived does).
    ///
    /// Returns `None` when no file could be opened; the reason is in `diags`.
    pub fn open(path: &str, opts: &PreprocOptions, diags: &mut Diagnostics) -> Option<Preprocessor> {
        let mut pp = Preprocessor::empty(opts);
        let base = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("/"));
        // keepalived first checks the main file with no include checks of
        // its own (check_conf_file): a missing file is fatal only with -e.
        if pp.open_glob(path, &base, 0, diags) {
            Some(pp)
        } else {
            None
        }
    }

    /// Preprocess text held in memory (tests, fuzzing, `--config-fd`).
    pub fn from_text(name: &str, text: &str, opts: &PreprocOptions) -> Preprocessor {
        let mut pp = Preprocessor::empty(opts);
        let dir = Path::new(name).parent().map(Path::to_path_buf).unwrap_or_else(|| PathBuf::from("."));
        let file = SourceFile {
            name: FileId::intern(name),
            dir,
            text: Rc::new(text.to_string()),
            pos: 0,
            line_no: 0,
            inode: None,
        };
        pp.stack.push(Include {
            pattern: name.to_string(),
            matches: vec![PathBuf::from(name)],
            next: 1,
            num_opened: 1,
            include_type: 0,
            saved_include_check: pp.include_check,
            current: Some(file),
        });
        pp.files_read.push(name.to_string());
        pp
    }

    /// Record the consolidated configuration while reading: every line of
    /// every file in the order read, with file boundaries, includes
    /// resolved. keepalived's children read such a copy (written by the
    /// parent) rather than the files, so a file edited on disk reaches them
    /// only through a reload.
    pub fn record_copy(&mut self) {
        let mut c = String::new();
        // Files already open (the main file): their boundary first.
        for inc in &self.stack {
            if let Some(f) = &inc.current {
                c.push_str(COPY_FILE);
                c.push_str(&f.name.name());
                c.push('\n');
            }
        }
        self.copy = Some(c);
    }

    /// The consolidated configuration recorded so far.
    pub fn take_copy(&mut self) -> Option<String> {
        self.copy.take()
    }

    /// Read a consolidated configuration made by [`Preprocessor::record_copy`].
    pub fn from_copy(copy: &str, opts: &PreprocOptions) -> Preprocessor {
        let mut pp = Preprocessor::from_text("(consolidated configuration)", copy, opts);
        pp.files_read.clear();
        pp.replay = true;
        pp
    }

    fn empty(opts: &PreprocOptions) -> Preprocessor {
        let seed = opts.random_seed.unwrap_or_else(|| {
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(1)
        });
        let mut pp = Preprocessor {
            stack: Vec::new(),
            defs: Vec::new(),
            seqs: Vec::new(),
            pending: Vec::new(),
            pending_stack: Vec::new(),
            multiline_seq_depth: 0,
            residue: None,
            plain_path: true,
            multiline_def: None,
            multiline_def_full: false,
            config_id: opts.config_id.clone(),
            include_check: if opts.all_config { inc::ALL } else { 0 },
            no_includes: opts.no_includes,
            rng: seed ^ 0x9E37_79B9_7F4A_7C15,
            block_depth: 0,
            last_origin: Origin::new(FileId::intern(""), 0, 0),
            files_read: Vec::new(),
            multi_file: false,
            placeholders: false,
            copy: None,
            replay: false,
            replay_stack: Vec::new(),
            bytes_read: 0,
            generated: 0,
            generated_total: 0,
            total_limit: MAX_TOTAL_GENERATED_LINES,
            spare: Vec::new(),
            phys_classes: C_ANY,
        };
        let std_def = |name: &str, value: &str, builtin, min, max, num| Def {
            name: name.to_string(),
            value: value.to_string(),
            multiline: false,
            builtin,
            min_params: min,
            max_params: max,
            numbers_only: num,
        };
        pp.defs.push(std_def("_PWD", "", Some(Builtin::Pwd), 0, 0, false));
        pp.defs.push(std_def("_INSTANCE", "", Some(Builtin::Instance), 0, 0, false));
        pp.defs.push(std_def("_RANDOM", "", Some(Builtin::Random), 0, 2, true));
        pp.defs.push(std_def("_ENV", "", Some(Builtin::Env), 1, 1, false));
        // Placeholders survive the decommenting that follows substitution and
        // become '#'/'!' when the line is handed out (the documented intent:
        // "replaced by a '#' character, which would otherwise start a comment").
        pp.defs.push(std_def("_HASH", HASH_MARK, None, 0, 0, false));
        pp.defs.push(std_def("_BANG", BANG_MARK, None, 0, 0, false));
        pp
    }

    /// `include_check` in global_defs (keepalived `include_check_set`).
    pub fn set_include_check(&mut self, words: &[&str], diags: &mut Diagnostics) {
        if words.is_empty() {
            self.include_check = inc::ALL;
            return;
        }
        for (i, word) in words.iter().enumerate() {
            let (mode, name) = if let Some(n) = word.strip_prefix('-') {
                (-1, n)
            } else if let Some(n) = word.strip_prefix('+') {
                (1, n)
            } else if i == 0 {
                self.include_check = 0;
                (0, *word)
            } else {
                let o = self.origin();
                diags.push(
                    Severity::GeneralError,
                    Some(o),
                    format!("Duplicate include_check '{word}' specified - ignoring"),
                );
                continue;
            };
            let flag = match name {
                "read" => inc::R,
                "match" => inc::M,
                "wildcard_match" => inc::W,
                "brace_match" => inc::B,
                _ => {
                    let o = self.origin();
                    diags.push(
                        Severity::GeneralError,
                        Some(o),
                        format!("Unknown include_check type '{name}' - ignoring"),
                    );
                    0
                }
            };
            if flag != 0 {
                match mode {
                    0 => self.include_check = inc::R | flag,
                    1 => self.include_check |= flag,
                    _ => self.include_check &= !flag,
                }
            }
        }
    }

    /// `random_seed` in global_defs reseeds `${_RANDOM}`.
    pub fn set_random_seed(&mut self, seed: u64) {
        self.rng = seed ^ 0x9E37_79B9_7F4A_7C15;
    }

    /// The origin of the line most recently returned.
    pub fn origin(&self) -> Origin {
        self.last_origin
    }

    fn cur_file(&self) -> Option<&SourceFile> {
        self.stack.last().and_then(|i| i.current.as_ref())
    }

    /// Origin for a message about the current raw line (before splitting).
    fn raw_origin(&self, col: u32) -> Origin {
        match self.cur_file() {
            Some(f) => Origin::new(f.name, f.line_no, col),
            None => self.last_origin,
        }
    }

    /// Expand and open an include glob; `base` is the including file's dir.
    fn open_glob(&mut self, pattern: &str, base: &Path, include_type: u8, diags: &mut Diagnostics) -> bool {
        let res = if self.no_includes {
            // Fuzzing: nothing is opened; each alternative counts as a missing file.
            match glob::alternatives_within(pattern) {
                Some(n) => glob::GlobResult { missing_files: n, ..Default::default() },
                None => glob::GlobResult { too_many: true, ..Default::default() },
            }
        } else {
            glob::expand(pattern, base)
        };
        if res.too_many {
            // keepalived's text for a failing glob(3), with the reason.
            let msg = format!(
                "Error reading config file(s): glob(\"{pattern}\") has more than {} alternatives or matches, skipping.",
                glob::MAX_PATHS
            );
            self.file_error_with(inc::R, include_type, msg, diags);
            return false;
        }
        let check = self.include_check | include_type;
        if res.paths.is_empty() {
            if res.missing_files > 0 || res.missing_dirs > 0 {
                let t = if glob::has_brace(pattern) { inc::B } else { inc::M };
                self.file_error_with(t, include_type, format!("Config files missing '{pattern}'."), diags);
            } else if res.have_wildcards && check & inc::W != 0 {
                self.file_error_with(inc::W, include_type, format!("No config files matched '{pattern}'."), diags);
            }
            return false;
        }
        if res.missing_files > 0 || res.missing_dirs > 0 {
            self.file_error_with(inc::B, include_type, format!("Some config files missing: \"{pattern}\"."), diags);
            if check & inc::B != 0 {
                return false;
            }
        }
        let mut include = Include {
            pattern: pattern.to_string(),
            matches: res.paths,
            next: 0,
            num_opened: 0,
            include_type,
            saved_include_check: self.include_check,
            current: None,
        };
        let nested = !self.stack.is_empty();
        if !self.open_next_match(&mut include, nested, diags) {
            if include.matches.is_empty() {
                self.file_error_with(inc::R, include_type, format!("{pattern} - no matching file"), diags);
            }
            return false;
        }
        self.stack.push(include);
        true
    }

    /// file_config_error with an include type that is not yet on the stack.
    fn file_error_with(&mut self, error_type: u8, include_type: u8, msg: String, diags: &mut Diagnostics) {
        let fatal = (self.include_check | include_type) & error_type != 0;
        let origin = self.cur_file().map(|f| Origin::new(f.name, f.line_no, 1));
        if fatal {
            diags.push(Severity::FileNotFound, origin, msg);
            diags.file_error = true;
        } else {
            diags.log(origin, msg);
        }
    }

    fn open_next_match(&mut self, include: &mut Include, nested: bool, diags: &mut Diagnostics) -> bool {
        while include.next < include.matches.len() {
            let path = include.matches[include.next].clone();
            include.next += 1;
            let shown = path.to_string_lossy().into_owned();
            let (bytes, inode) = match self.read_config_file(&path, &shown) {
                Ok(r) => r,
                Err(msg) => {
                    self.file_error_with(inc::R, include.include_type, msg, diags);
                    continue;
                }
            };
            if nested || include.matches.len() > 1 {
                self.multi_file = true;
            }
            include.num_opened += 1;
            self.files_read.push(shown.clone());
            if let Some(c) = self.copy.as_mut() {
                c.push_str(COPY_FILE);
                c.push_str(&shown);
                c.push('\n');
            }
            include.current = Some(SourceFile {
                name: FileId::intern(&shown),
                dir: path.parent().map(Path::to_path_buf).unwrap_or_else(|| PathBuf::from(".")),
                text: Rc::new(match String::from_utf8(bytes) {
                    Ok(t) => t,
                    Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
                }),
                pos: 0,
                line_no: 0,
                inode: Some(inode),
            });
            return true;
        }
        false
    }

    /// Check and read one matched file (keepalived `check_glob_file` and
    /// its open), within the include limits. The error is the message.
    fn read_config_file(&mut self, path: &Path, shown: &str) -> Result<(Vec<u8>, (u64, u64)), String> {
        use std::io::Read;
        use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
        if shown.ends_with('/') {
            return Err(format!("Configuration file '{shown}' is a directory - skipping"));
        }
        let not_regular = || format!("Configuration file '{shown}' is not a regular non-executable file - skipping");
        let problem = |why: &str| format!("Configuration file '{shown}' open problem ({why}) - skipping");
        match std::fs::metadata(path) {
            Ok(m) if m.is_file() && !is_executable(&m) => {}
            _ => return Err(not_regular()),
        }
        if self.stack.len() >= MAX_INCLUDE_DEPTH {
            return Err(problem(&format!("include nesting deeper than {MAX_INCLUDE_DEPTH} files")));
        }
        // O_NONBLOCK: a file swapped for a FIFO after the check above must
        // not block the open; the type is checked again on the open file.
        let nonblock = nix::fcntl::OFlag::O_NONBLOCK.bits();
        let file = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(nonblock)
            .open(path)
            .map_err(|e| problem(&io_reason(&e)))?;
        let m = file.metadata().map_err(|e| problem(&io_reason(&e)))?;
        if !m.is_file() || is_executable(&m) {
            return Err(not_regular());
        }
        let inode = (m.dev(), m.ino());
        if self.stack.iter().any(|i| i.current.as_ref().is_some_and(|f| f.inode == Some(inode))) {
            // 2.2.7 re-opens it until "Too many open files".
            return Err(problem("include loop: the file is already being read"));
        }
        // st_size can be wrong (/proc files say 0): read at most one byte
        // past the limit rather than trusting it.
        let room = MAX_TOTAL_BYTES.saturating_sub(self.bytes_read);
        let cap = MAX_FILE_BYTES.min(room);
        // Sized from st_size (one read for a regular file), within the cap.
        let mut bytes = Vec::with_capacity(m.len().min(cap) as usize + 1);
        file.take(cap + 1).read_to_end(&mut bytes).map_err(|e| problem(&io_reason(&e)))?;
        if bytes.len() as u64 > cap {
            return Err(if cap == MAX_FILE_BYTES {
                problem(&format!("larger than {} MiB", MAX_FILE_BYTES >> 20))
            } else {
                problem(&format!("the configuration files together exceed {} MiB", MAX_TOTAL_BYTES >> 20))
            });
        }
        self.bytes_read += bytes.len() as u64;
        Ok((bytes, inode))
    }

    /// Read the next physical line, decommented, from the include stack.
    /// Returns `None` at the end of all files.
    fn next_physical(&mut self, diags: &mut Diagnostics) -> Option<String> {
        loop {
            let top = self.stack.last_mut()?;
            let file = top.current.as_mut()?;
            if file.pos >= file.text.len() {
                if let Some(c) = self.copy.as_mut() {
                    c.push_str(COPY_END);
                    c.push('\n');
                }
                // End of this file: restore include_check, try the next match.
                let mut inc = self.stack.pop()?;
                self.include_check = inc.saved_include_check;
                inc.current = None;
                let nested = !self.stack.is_empty();
                if self.open_next_match(&mut inc, nested, diags) {
                    // keepalived saves include_check when the glob opens.
                    self.stack.push(inc);
                } else if inc.num_opened == 0 {
                    diags.log(None, format!("No config files matched '{}'.", inc.pattern));
                }
                continue;
            }
            let rest = &file.text[file.pos..];
            // The end of the line and the classes of its bytes in one pass
            // (lines are short: memchr's set-up costs more than it saves).
            let (len, flags) = scan_line(rest.as_bytes());
            let start = file.pos;
            file.pos += len + 1;
            let raw = &file.text[start..start + len];
            if self.replay && raw.starts_with('\0') {
                // A file boundary of the consolidated configuration.
                if let Some(name) = raw.strip_prefix(COPY_FILE) {
                    let id = FileId::intern(name);
                    let dir = Path::new(name).parent().map(Path::to_path_buf).unwrap_or_else(|| PathBuf::from("."));
                    let saved = (file.name, std::mem::replace(&mut file.dir, dir), file.line_no);
                    self.replay_stack.push(saved);
                    file.name = id;
                    file.line_no = 0;
                    self.files_read.push(name.to_string());
                } else if raw == COPY_END {
                    if let Some((name, dir, line_no)) = self.replay_stack.pop() {
                        file.name = name;
                        file.dir = dir;
                        file.line_no = line_no;
                    }
                }
                continue;
            }
            file.line_no += 1;
            if let Some(c) = self.copy.as_mut() {
                // Lines that are ignored anyway are recorded empty (line
                // numbers are kept; the parent reported them).
                if raw.len() < MAXBUF - 1 && !raw.bytes().any(|b| b == 0) {
                    c.push_str(raw);
                }
                c.push('\n');
            }
            if raw.len() >= MAXBUF - 1 {
                let o = self.raw_origin(1);
                diags.push(Severity::GeneralError, Some(o), "line too long - ignoring");
                self.end_multiline_def_on_blank();
                continue;
            }
            if flags & C_NUL != 0 {
                let o = self.raw_origin(1);
                diags.push(
                    Severity::GeneralError,
                    Some(o),
                    "configuration appears to have embedded NULs - ignoring line",
                );
                continue;
            }
            let text = raw.trim_end_matches(['\r', '\n']);
            if text.is_empty() {
                self.end_multiline_def_on_blank();
                continue;
            }
            let lead = text.len() - trim_blank_start(text).len();
            if flags & C_SPECIAL == 0 {
                // Nothing to decomment (the common case).
                let t = trim_blank_end(&text[lead..]);
                if t.is_empty() {
                    continue;
                }
                let out = take_buffer(&mut self.spare, t);
                self.phys_classes = flags;
                self.last_origin = self.raw_origin(lead as u32 + 1);
                return Some(out);
            }
            let text = text.to_string();
            let (line, unterminated) = decomment(&text);
            if unterminated {
                let o = self.raw_origin(1);
                diags.push(Severity::GeneralError, Some(o), format!("Unterminated quote '{}'", line.0));
            }
            if line.0.is_empty() {
                continue;
            }
            // Decommenting only removes bytes: the classes still cover it.
            self.phys_classes = flags;
            self.last_origin = self.raw_origin(lead as u32 + 1);
            return Some(line.0);
        }
    }

    /// Give back the text of a line handed out by [`Preprocessor::next_line`]
    /// once it is handled: the next line reuses its buffer, which saves an
    /// allocation and a free per line of a big configuration.
    pub fn recycle(&mut self, text: LineText) {
        let LineText::Owned(mut text) = text else { return };
        if self.spare.len() < 8 && (MIN_BUFFER..=MAXBUF).contains(&text.capacity()) {
            text.clear();
            self.spare.push(text);
        }
    }

    fn end_multiline_def_on_blank(&mut self) {
        if let Some(i) = self.multiline_def.take() {
            if self.defs[i].value.is_empty() {
                self.defs[i].multiline = false;
            }
        }
    }

    /// The next logical line, or `None` at the end of the configuration.
    pub fn next_line(&mut self, diags: &mut Diagnostics) -> Option<Line> {
        if self.plain_path {
            if let Some(line) = self.next_plain_line(diags) {
                return Some(line);
            }
        }
        let mut buf;
        // Byte classes the line may contain: a line read straight from a
        // file skips the `$` and brace scans when it has neither.
        let mut classes;
        loop {
            classes = C_ANY;
            if let Some((text, origin)) = self.residue.take() {
                self.last_origin = origin;
                buf = match text {
                    LineText::Owned(t) => t,
                    other => take_buffer(&mut self.spare, &other),
                };
            } else if !self.seqs.is_empty() && self.seqs.len() > self.multiline_seq_depth {
                if !self.count_generated(diags) {
                    continue;
                }
                buf = self.step_seq();
            } else if !self.pending.is_empty() {
                if !self.count_generated(diags) {
                    continue;
                }
                buf = self.pending.remove(0);
                if self.pending.is_empty() {
                    if let Some((p, depth)) = self.pending_stack.pop() {
                        self.pending = p;
                        self.multiline_seq_depth = depth;
                    } else {
                        self.multiline_seq_depth = 0;
                    }
                }
            } else {
                buf = self.next_physical(diags)?;
                classes = self.phys_classes;
                self.generated = 0;
                if let Some(i) = self.multiline_def {
                    self.continue_definition(i, &buf, diags);
                    continue;
                }
            }
            if buf.is_empty() {
                continue;
            }
            match self.process_line(buf, classes & C_DOLLAR != 0, diags) {
                Some(l) => {
                    if self.is_include(&l) {
                        // In a consolidated configuration the included
                        // lines follow inline.
                        if !self.replay {
                            self.do_include(&l, diags);
                        }
                        continue;
                    }
                    buf = l;
                    break;
                }
                None => continue,
            }
        }
        if self.placeholders && buf.contains(['\u{E000}', '\u{E001}']) {
            buf = buf.replace(HASH_MARK, "#").replace(BANG_MARK, "!");
        }
        Some(self.split_braces(buf, classes & (C_DOLLAR | C_BRACE) != 0, diags))
    }

    /// The fast path of [`Preprocessor::next_line`] for the lines that make
    /// up nearly all of a big configuration: read straight from a file, with
    /// nothing to decomment, substitute, expand or include. `None` leaves the
    /// line unread for the general path. For every line it takes, the result
    /// (text, origin, block depth, messages) is the general path's: the
    /// property test `plain_path_equals_general_path` compares the two.
    fn next_plain_line(&mut self, diags: &mut Diagnostics) -> Option<Line> {
        if let Some((text, _)) = &self.residue {
            // A lone brace split off the end of a line (`real_server … {`)
            // needs none of the general path's checks.
            let brace = brace_text(text.as_bytes())?; // Any other residue: the general path.
            let (_, origin) = self.residue.take()?;
            self.last_origin = origin;
            self.count_brace(brace.as_bytes(), origin, diags);
            return Some(Line { text: brace, origin });
        }
        let quiet = self.seqs.is_empty()
            && self.pending.is_empty()
            && self.multiline_def.is_none()
            && !self.replay
            && !self.placeholders;
        if !quiet {
            return None;
        }
        loop {
            let file = self.stack.last_mut()?.current.as_mut()?;
            // The end of the file (the position passes it after a last line
            // without a newline) is the general path's business.
            let rest = file.text.as_bytes().get(file.pos..).unwrap_or_default();
            if rest.is_empty() {
                return None;
            }
            let (len, flags) = scan_line(rest);
            if flags & (C_NUL | C_SPECIAL | C_DOLLAR) != 0 || len >= MAXBUF - 1 {
                return None;
            }
            let raw = &rest[..len];
            let text = &raw[..raw.len() - raw.iter().rev().take_while(|&&b| b == b'\r').count()];
            let lead = text.iter().take_while(|&&b| b == b' ' || b == b'\t').count();
            let t = &text[lead..];
            let t = &t[..t.len() - t.iter().rev().take_while(|&&b| b == b' ' || b == b'\t').count()];
            if !t.is_empty() && (matches!(t[0], b'@' | b'$' | b'~') || t.starts_with(b"include")) {
                return None;
            }
            let start = file.pos;
            file.pos += len + 1;
            file.line_no += 1;
            if let Some(c) = self.copy.as_mut() {
                c.push_str(&file.text[start..start + len]);
                c.push('\n');
            }
            if t.is_empty() {
                continue;
            }
            // No quotes here: the first brace is the first `{` or `}`.
            let brace = if flags & C_BRACE != 0 { t.iter().position(|&c| c == b'{' || c == b'}') } else { None };
            let t_start = start + lead;
            let text = &file.text[t_start..t_start + t.len()];
            self.phys_classes = flags;
            self.generated = 0;
            let origin = Origin::new(file.name, file.line_no, lead as u32 + 1);
            self.last_origin = origin;
            let shared = |start: usize, len: usize| LineText::Shared {
                file: Rc::clone(&file.text),
                start: start as u32,
                end: (start + len) as u32,
            };
            let lone = brace_text(t);
            return Some(match brace {
                // What split_braces does with a line without braces: nothing.
                None => Line { text: shared(t_start, t.len()), origin },
                // `keyword … {`: the words, then the brace part as the next line.
                Some(p) if p > 0 => {
                    let head = trim_blank_end(&text[..p]).len();
                    let rest = brace_text(&t[p..]).unwrap_or_else(|| shared(t_start + p, t.len() - p));
                    self.residue = Some((rest, origin.at_col(origin.col + p as u32)));
                    Line { text: shared(t_start, head), origin }
                }
                // A line that is a lone brace.
                _ if lone.is_some() => {
                    let brace = lone?;
                    self.count_brace(brace.as_bytes(), origin, diags);
                    Line { text: brace, origin }
                }
                _ => {
                    let out = take_buffer(&mut self.spare, text);
                    self.split_braces(out, true, diags)
                }
            });
        }
    }

    /// A continuation line of the multi-line definition `defs[i]`.
    fn continue_definition(&mut self, i: usize, buf: &str, diags: &mut Diagnostics) {
        let cont = buf.ends_with('\\');
        let piece = if cont {
            let mut p = buf[..buf.len() - 1].trim_end_matches(is_blank).to_string();
            p.push('\n');
            p
        } else {
            self.multiline_def = None;
            if self.defs[i].value.is_empty() {
                self.defs[i].multiline = false;
            }
            buf.to_string()
        };
        if !(piece.len() >= 2 || (!piece.is_empty() && !cont)) {
            return;
        }
        let len = self.defs[i].value.len();
        if len + piece.len() > MAX_DEFINITION_BYTES {
            // Reported once; the rest of the definition's lines are still
            // consumed.
            if !self.multiline_def_full {
                self.multiline_def_full = true;
                let (o, name) = (self.origin(), self.defs[i].name.clone());
                diags.push(
                    Severity::GeneralError,
                    Some(o),
                    format!("Definition {name} is longer than {} KiB - ignoring the rest", MAX_DEFINITION_BYTES >> 10),
                );
            }
            return;
        }
        self.defs[i].value.push_str(&piece);
    }

    /// Count a line made by expansion; past [`MAX_GENERATED_LINES`] for one
    /// configuration line, report it and drop the rest of the expansion.
    fn count_generated(&mut self, diags: &mut Diagnostics) -> bool {
        self.generated += 1;
        self.generated_total += 1;
        let msg = if self.generated_total > self.total_limit {
            if self.generated_total > self.total_limit + 1 {
                // Reported once; every later expansion is dropped.
                self.abandon_expansion();
                return false;
            }
            format!(
                "~SEQ, ~LST and multi-line definitions make more than {} lines in all - ignoring the rest",
                self.total_limit
            )
        } else if self.generated > MAX_GENERATED_LINES {
            format!("~SEQ, ~LST or multi-line definition expansion makes more than {MAX_GENERATED_LINES} lines - ignoring the rest")
        } else {
            return true;
        };
        let o = self.origin();
        diags.push(Severity::GeneralError, Some(o), msg);
        self.abandon_expansion();
        false
    }

    /// Drop every pending `~SEQ`/`~LST` repetition and multi-line
    /// definition line.
    fn abandon_expansion(&mut self) {
        self.seqs.clear();
        self.pending.clear();
        self.pending_stack.clear();
        self.multiline_seq_depth = 0;
    }

    /// Lines still to come from the active `~SEQ`/`~LST`s: the product of
    /// their remaining counts (they nest), saturating.
    fn planned_lines(&self) -> i128 {
        self.seqs.iter().fold(1i128, |acc, q| {
            let left = match q {
                Seq::Range { next, step, last, .. } => (i128::from(*last) - i128::from(*next)) / i128::from(*step) + 1,
                Seq::List { sets, next, .. } => (sets.len() - *next) as i128,
            };
            acc.saturating_mul(left.max(1))
        })
    }

    /// Refuse a `~SEQ`/`~LST` of `count` values that, nested in the active
    /// ones, would make more than [`MAX_GENERATED_LINES`] lines.
    fn check_planned(&mut self, kind: &str, count: i128, buf: &str, diags: &mut Diagnostics) -> bool {
        let msg = if self.seqs.len() >= MAX_SEQ_NESTING {
            format!("{kind} nested deeper than {MAX_SEQ_NESTING} levels '{buf}'")
        } else if self.planned_lines().saturating_mul(count) > i128::from(MAX_GENERATED_LINES) {
            format!("{kind} would make more than {MAX_GENERATED_LINES} lines '{buf}'")
        } else {
            return true;
        };
        let o = self.origin();
        diags.push(Severity::GeneralError, Some(o), msg);
        // The enclosing repetitions would only hit it again.
        self.abandon_expansion();
        false
    }

    /// `@id` filtering, definitions, `~SEQ`/`~LST`, `$` substitution.
    /// Returns `None` when the line is consumed.
    /// `may_have_dollar`: false if the line is known to have no `$`.
    fn process_line(&mut self, mut buf: String, may_have_dollar: bool, diags: &mut Diagnostics) -> Option<String> {
        let mut passes = 0u32;
        loop {
            passes += 1;
            if passes > MAX_SUBSTITUTIONS {
                // The first line of a multi-line definition naming the
                // definition again: 2.2.7 loops for ever.
                let o = self.origin();
                diags.push(Severity::GeneralError, Some(o), endless_substitution(&buf));
                self.abandon_expansion();
                return None;
            }
            if let Some(rest) = buf.strip_prefix('@') {
                let (rev, rest) = match rest.strip_prefix('^') {
                    Some(r) => (true, r),
                    None => (false, rest),
                };
                let sp = rest.find([' ', '\t'])?;
                let id = &rest[..sp];
                let matches = self.config_id.as_deref() == Some(id);
                if matches == rev {
                    return None;
                }
                buf = rest[sp..].trim_start_matches(is_blank).to_string();
                if buf.is_empty() {
                    return None;
                }
            }
            if buf.starts_with('$') && self.check_definition(&buf) {
                return None;
            }
            if buf.starts_with("~SEQ") || buf.starts_with("~LST") {
                let ok = if buf.as_bytes()[1] == b'S' { self.add_seq(&buf, diags) } else { self.add_lst(&buf, diags) };
                if !ok {
                    let kind = if buf.as_bytes()[1] == b'S' { "~SEQ" } else { "~LST" };
                    let o = self.origin();
                    diags.push(Severity::GeneralError, Some(o), format!("Invalid {kind} specification '{buf}'"));
                }
                return None;
            }
            if buf.starts_with('~') {
                return Some(buf);
            }
            if may_have_dollar && buf.bytes().any(|b| b == b'$') {
                match self.replace_params(&buf, diags) {
                    None => return Some(buf),
                    Some(new) => {
                        let (d, _) = decomment(&new);
                        buf = d.0;
                        if buf.is_empty() {
                            return None;
                        }
                        if buf.starts_with('@') || buf.contains('$') {
                            continue;
                        }
                        // keepalived re-examines the line only for '@'/'$';
                        // a substituted ~SEQ is handled on the next pass.
                        if buf.starts_with("~SEQ") || buf.starts_with("~LST") {
                            continue;
                        }
                        return Some(buf);
                    }
                }
            }
            return Some(buf);
        }
    }

    fn is_include(&self, buf: &str) -> bool {
        let b = buf.as_bytes();
        if !buf.starts_with("include") || b.len() <= 7 {
            return false;
        }
        if b[7].is_ascii_whitespace() {
            return true;
        }
        b.len() > 8 && b[8].is_ascii_whitespace() && b"rmwba".contains(&b[7])
    }

    fn do_include(&mut self, buf: &str, diags: &mut Diagnostics) {
        let b = buf.as_bytes();
        let (include_type, rest) = if b[7].is_ascii_whitespace() {
            (0, &buf[8..])
        } else {
            let t = match b[7] {
                b'r' => inc::R,
                b'a' => inc::ALL,
                b'w' => inc::R | inc::M | inc::W,
                b'm' => inc::R | inc::M,
                _ => inc::R | inc::B,
            };
            (t, &buf[9..])
        };
        let pattern = rest.trim_start_matches(is_blank).to_string();
        let base = self.cur_file().map(|f| f.dir.clone()).unwrap_or_else(|| PathBuf::from("."));
        self.open_glob(&pattern, &base, include_type, diags);
    }

    /// Split at the first `{`/`}` outside quotes; the residue becomes the
    /// next line. Tracks the block depth for "Extra '}' found".
    /// `may_have_brace`: false if the line is known to have no brace.
    fn split_braces(&mut self, mut text: String, may_have_brace: bool, diags: &mut Diagnostics) -> Line {
        let origin = self.last_origin;
        if let Some(p) = if may_have_brace { first_brace(text.as_bytes()) } else { None } {
            let b = text.as_bytes();
            let skip = if p == 0 { 1 + blank_prefix(&b[1..]) } else { 0 };
            let rest = trim_blank_end(&text[p + skip..]);
            if !rest.is_empty() {
                let col = origin.col + (p + skip) as u32;
                self.residue = Some((LineText::Owned(take_buffer(&mut self.spare, rest)), origin.at_col(col)));
                text.truncate(p + skip);
            }
        }
        let keep = trim_blank_end(&text).len();
        text.truncate(keep);
        self.count_brace(text.as_bytes(), origin, diags);
        Line { text: LineText::Owned(text), origin }
    }

    /// Track the block depth for a line that is a lone brace.
    fn count_brace(&mut self, text: &[u8], origin: Origin, diags: &mut Diagnostics) {
        match text {
            b"{" => self.block_depth += 1,
            b"}" => {
                self.block_depth -= 1;
                if self.block_depth < 0 {
                    diags.push(Severity::UnexpectedEob, Some(origin), "Extra '}' found");
                    self.block_depth = 0;
                }
            }
            _ => {}
        }
    }

    /// `$NAME=value` (keepalived `check_definition`). Returns true if `buf`
    /// was a definition.
    fn check_definition(&mut self, buf: &str) -> bool {
        let b = buf.as_bytes();
        if b.len() < 2 || !(b[1].is_ascii_alphabetic() || b[1] == b'_') {
            return false;
        }
        let mut p = 2;
        while p < b.len() && b[p] != b'=' {
            if !(b[p].is_ascii_alphanumeric() || b[p] == b'_') {
                return false;
            }
            p += 1;
        }
        if p >= b.len() {
            return false;
        }
        let name = buf[1..p].to_string();
        let mut value = buf[p + 1..].trim_start_matches(is_blank).to_string();
        let multiline = value.ends_with('\\');
        if multiline {
            value.pop();
            let trimmed = value.trim_end_matches([' ', '\t']).to_string();
            value = if trimmed.is_empty() { String::new() } else { trimmed + "\n" };
        }
        let idx = match self.defs.iter().position(|d| d.name == name) {
            Some(i) => {
                self.defs[i].builtin = None;
                self.defs[i].max_params = 0;
                i
            }
            None => {
                self.defs.push(Def {
                    name,
                    value: String::new(),
                    multiline: false,
                    builtin: None,
                    min_params: 0,
                    max_params: 0,
                    numbers_only: false,
                });
                self.defs.len() - 1
            }
        };
        self.defs[idx].value = value;
        self.defs[idx].multiline = multiline;
        if multiline {
            self.multiline_def = Some(idx);
            self.multiline_def_full = false;
        }
        true
    }

    fn set_definition(&mut self, name: &str, value: &str) {
        match self.defs.iter_mut().find(|d| d.name == name) {
            Some(d) => {
                d.value = value.to_string();
                d.builtin = None;
                d.multiline = false;
            }
            None => self.defs.push(Def {
                name: name.to_string(),
                value: value.to_string(),
                multiline: false,
                builtin: None,
                min_params: 0,
                max_params: 0,
                numbers_only: false,
            }),
        }
    }

    fn random(&mut self) -> u64 {
        // xorshift64*: deterministic for a given random_seed.
        let mut x = self.rng;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.rng = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 33
    }

    /// Find a definition referenced at `s` (just after the `$`).
    /// Returns (def index, length of the reference text after '$', params).
    fn find_reference(
        &self,
        s: &str,
        diags: &mut Diagnostics,
        origin: &Origin,
    ) -> Option<(usize, usize, Option<String>)> {
        let b = s.as_bytes();
        let braces = b.first() == Some(&b'{');
        let start = usize::from(braces);
        if start >= b.len() || !(b[start].is_ascii_alphabetic() || b[start] == b'_') {
            return None;
        }
        let mut p = start + 1;
        while p < b.len() && (b[p].is_ascii_alphanumeric() || b[p] == b'_') {
            p += 1;
        }
        let name = &s[start..p];
        let mut params: Option<String> = None;
        let mut num_params = 0usize;
        let mut numbers_only = true;
        let reflen;
        if braces {
            let pstart = p;
            let mut in_param = false;
            let mut last_non_space = None;
            while p < b.len() && (b[p] == b' ' || b[p] == b'\t' || b[p].is_ascii_alphanumeric() || b[p] == b'_') {
                if b[p] != b' ' && b[p] != b'\t' {
                    last_non_space = Some(p);
                    if !b[p].is_ascii_digit() {
                        numbers_only = false;
                    }
                    if !in_param {
                        in_param = true;
                        num_params += 1;
                    }
                } else {
                    in_param = false;
                }
                p += 1;
            }
            if p >= b.len() || b[p] != b'}' {
                return None;
            }
            if num_params > 0 {
                if last_non_space.map(|l| l + 1) != Some(p) {
                    return None;
                }
                params = Some(s[pstart..p].trim().to_string());
            }
            reflen = p + 1;
        } else {
            if p < b.len() && !matches!(b[p], b' ' | b'\t' | b',' | b')') {
                return None;
            }
            reflen = p;
        }
        let at_end = reflen == s.len();
        let idx = self.defs.iter().position(|d| d.name == name && (at_end || !d.multiline))?;
        let d = &self.defs[idx];
        if params.is_some() {
            if d.max_params == 0 {
                return None;
            }
            if d.numbers_only && !numbers_only {
                diags.push(
                    Severity::GeneralError,
                    Some(*origin),
                    format!("Definition {} requires numeric parameters only.", d.name),
                );
                return None;
            }
            if num_params > d.max_params || num_params < d.min_params {
                diags.push(
                    Severity::GeneralError,
                    Some(*origin),
                    format!(
                        "Definition {} requires between {} and {} parameters, {} specified.",
                        d.name, d.min_params, d.max_params, num_params
                    ),
                );
                return None;
            }
        }
        Some((idx, reflen, params))
    }

    fn def_value(&mut self, idx: usize, params: Option<&str>, diags: &mut Diagnostics) -> String {
        let origin = self.origin();
        match self.defs[idx].builtin {
            None => self.defs[idx].value.clone(),
            Some(Builtin::Pwd) => self.cur_file().map(|f| f.dir.to_string_lossy().into_owned()).unwrap_or_default(),
            Some(Builtin::Instance) => self.config_id.clone().unwrap_or_default(),
            Some(Builtin::Env) => params.and_then(|p| std::env::var(p.trim()).ok()).unwrap_or_default(),
            Some(Builtin::Random) => {
                let mut it = params.unwrap_or("").split_whitespace().map(|n| n.parse::<u64>().unwrap_or(u64::MAX));
                let min = it.next().unwrap_or(0);
                let mut max = it.next().unwrap_or(32767);
                if min > max {
                    diags.push(
                        Severity::GeneralError,
                        Some(origin),
                        format!("${{_RANDOM}}: min {min} exceeds max {max}, using {min}"),
                    );
                    max = min;
                }
                let span = max - min + 1;
                let r = if span == 0 { self.random() } else { self.random() % span };
                (r.wrapping_add(min)).to_string()
            }
        }
    }

    /// keepalived `replace_param`: substitute every `$NAME`/`${NAME}`,
    /// rescanning substituted text (recursive). Returns `None` if nothing
    /// was replaced. A multi-line definition queues its further lines.
    fn replace_params(&mut self, buf: &str, diags: &mut Diagnostics) -> Option<String> {
        let mut s = buf.to_string();
        let mut pos = 0;
        let mut found = false;
        let origin = self.origin();
        let mut substitutions = 0u32;
        while let Some(off) = s[pos..].find('$') {
            let at = pos + off;
            if at + 1 >= s.len() {
                break;
            }
            match self.find_reference(&s[at + 1..], diags, &origin) {
                Some((idx, _, _)) if self.defs[idx].multiline && self.generated_total > self.total_limit => {
                    // Expansion is over (reported): not even copied.
                    pos = at + 1;
                }
                Some((idx, reflen, params)) => {
                    substitutions += 1;
                    if substitutions > MAX_SUBSTITUTIONS {
                        // A definition naming itself, directly or through
                        // others, without growing: 2.2.7 loops for ever.
                        diags.push(Severity::GeneralError, Some(origin), endless_substitution(buf));
                        return None;
                    }
                    found = true;
                    if matches!(self.defs[idx].name.as_str(), "_HASH" | "_BANG") {
                        self.placeholders = true;
                    }
                    let value = self.def_value(idx, params.as_deref(), diags);
                    // keepalived's line buffer is MAXBUF bytes (with its NUL).
                    let first_len =
                        if self.defs[idx].multiline { value.find('\n').unwrap_or(value.len()) } else { value.len() };
                    if s.len() - (1 + reflen) + first_len >= MAXBUF {
                        diags.log(
                            Some(origin),
                            format!("Parameter substitution on line '{buf}' would exceed maximum line length"),
                        );
                        return None;
                    }
                    if self.defs[idx].multiline {
                        let first = self.queue_multiline(&value);
                        s.replace_range(at..at + 1 + reflen, &first);
                    } else {
                        s.replace_range(at..at + 1 + reflen, &value);
                        if value.trim_start_matches(is_blank).starts_with('~') {
                            break;
                        }
                    }
                    pos = at;
                }
                None => pos = at + 1,
            }
        }
        if found {
            Some(s)
        } else {
            None
        }
    }

    /// Queue the lines of a multi-line definition after its first, which
    /// is returned (keepalived's `next_ptr` and multiline stack).
    fn queue_multiline(&mut self, value: &str) -> String {
        let mut lines: Vec<String> = value.split('\n').map(str::to_string).collect();
        if lines.last().is_some_and(String::is_empty) {
            lines.pop();
        }
        let first = if lines.is_empty() { String::new() } else { lines.remove(0) };
        if !self.pending.is_empty() {
            let saved = std::mem::take(&mut self.pending);
            self.pending_stack.push((saved, self.multiline_seq_depth));
        }
        self.multiline_seq_depth = self.seqs.len();
        self.pending = lines;
        first
    }

    fn step_seq(&mut self) -> String {
        let last = self.seqs.len() - 1;
        let (buf, done) = match &mut self.seqs[last] {
            Seq::Range { var, next, step, last: end, hex, text } => {
                let val = if *hex { format!("{:x}", *next) } else { next.to_string() };
                let var = var.clone();
                let text = text.clone();
                // Near i64's ends the next value may not exist: then this
                // was the last one.
                let done = match next.checked_add(*step) {
                    Some(n) => {
                        *next = n;
                        (*step > 0 && n > *end) || (*step < 0 && n < *end)
                    }
                    None => true,
                };
                self.set_definition(&var, &val);
                (text, done)
            }
            Seq::List { vars, sets, next, text } => {
                let set = sets[*next].clone();
                let vars = vars.clone();
                let text = text.clone();
                *next += 1;
                let done = *next >= sets.len();
                for (v, val) in vars.iter().zip(set.iter()) {
                    self.set_definition(v, val);
                }
                (text, done)
            }
        };
        if done {
            self.seqs.pop();
        }
        buf
    }

    /// `~SEQ(var, [start, [step,]] end) text` / `~SEQx(...)`.
    fn add_seq(&mut self, buf: &str, diags: &mut Diagnostics) -> bool {
        let origin = self.origin();
        let mut p = &buf[4..];
        let hex = p.starts_with('x');
        if hex {
            p = &p[1..];
        }
        p = p.trim_start_matches(is_blank);
        let Some(rest) = p.strip_prefix('(') else { return false };
        let rest = rest.trim_start_matches(is_blank);
        let var_len = rest.find([' ', '\t', ',', ')']).unwrap_or(rest.len());
        let var = &rest[..var_len];
        let after = rest[var_len..].trim_start_matches(is_blank);
        if after.is_empty() || after.starts_with(')') || var.is_empty() || var.starts_with('{') {
            diags.push(Severity::GeneralError, Some(origin), format!("Invalid ~SEQ definition '{buf}'"));
            return false;
        }
        // 2.2.7 skips one byte, whatever it is (normally the ','); a whole character here, so that a
        // multi-byte one is not cut (it panicked: found by the fuzzer). The parameters are invalid then
        // in both.
        let skip = after.chars().next().map_or(0, char::len_utf8);
        let after = after[skip..].trim_start_matches(is_blank);
        let Some(close) = after.find(')') else {
            diags.push(Severity::GeneralError, Some(origin), format!("~SEQ missing terminating ')' '{buf}'"));
            return false;
        };
        let mut params = after[..close].to_string();
        if params.contains('$') {
            let saved = std::mem::take(&mut self.pending);
            if let Some(r) = self.replace_params(&params, diags) {
                params = r;
            }
            if !self.pending.is_empty() {
                self.pending = saved;
                diags.push(
                    Severity::GeneralError,
                    Some(origin),
                    format!("~SEQ parameter is multiline definition '{buf}'"),
                );
                return false;
            }
            self.pending = saved;
        }
        let nums: Vec<Option<i64>> = params.split(',').map(|n| parse_c_long(n.trim())).collect();
        if nums.iter().any(Option::is_none) || nums.is_empty() || nums.len() > 3 {
            diags.push(Severity::GeneralError, Some(origin), format!("Invalid ~SEQ definition '{buf}'"));
            return false;
        }
        let n: Vec<i64> = nums.into_iter().flatten().collect();
        let (start, step, end) = match n.len() {
            1 => {
                let end = n[0];
                (if end < 0 { -1 } else { 1 }, if end < 1 { -1 } else { 1 }, end)
            }
            2 => (n[0], if n[0] <= n[1] { 1 } else { -1 }, n[1]),
            _ => {
                let (start, step, end) = (n[0], n[1], n[2]);
                if step == 0 || (start < end && step < 0) || (start > end && step > 0) {
                    diags.push(Severity::GeneralError, Some(origin), format!("Invalid ~SEQ values '{buf}'"));
                    return false;
                }
                (start, step, end)
            }
        };
        if hex && (start < 0 || end < 0) {
            diags.push(
                Severity::GeneralError,
                Some(origin),
                format!("~SEQx is only valid for positive numbers '{buf}'"),
            );
            return false;
        }
        // An empty range still yields its text once (below).
        let count = ((i128::from(end) - i128::from(start)) / i128::from(step) + 1).max(1);
        if count > MAX_SEQ_VALUES {
            diags.push(
                Severity::GeneralError,
                Some(origin),
                format!("~SEQ has {count} values, more than the maximum of {MAX_SEQ_VALUES} '{buf}'"),
            );
            // Enclosing repetitions would only repeat the message.
            self.abandon_expansion();
            return false;
        }
        if !self.check_planned("~SEQ", count, buf, diags) {
            return false;
        }
        let text = after[close + 1..].trim_start_matches(is_blank).to_string();
        // keepalived pushes the sequence even if it is empty (start past end
        // in the step direction): it then yields the text once.
        self.seqs.push(Seq::Range { var: var.to_string(), next: start, step, last: end, hex, text });
        true
    }

    /// `~LST(var, v1, v2, ...)` or `~LST({a,b}, {1,2}, {3,4})`.
    fn add_lst(&mut self, buf: &str, diags: &mut Diagnostics) -> bool {
        let origin = self.origin();
        let b = buf.as_bytes();
        let mut p = 4;
        let skip_ws = |p: &mut usize| {
            while *p < b.len() && (b[*p] == b' ' || b[*p] == b'\t') {
                *p += 1;
            }
        };
        skip_ws(&mut p);
        if p >= b.len() || b[p] != b'(' {
            return false;
        }
        p += 1;
        skip_ws(&mut p);
        let mut end_char = b',';
        if p < b.len() && b[p] == b'{' {
            end_char = b'}';
            p += 1;
            skip_ws(&mut p);
        }
        let word = |p: &mut usize, stops: &[u8]| -> String {
            let s = *p;
            while *p < b.len() && !stops.contains(&b[*p]) {
                *p += 1;
            }
            buf[s..*p].to_string()
        };
        let mut vars = Vec::new();
        loop {
            vars.push(word(&mut p, b" \t,}"));
            skip_ws(&mut p);
            if p < b.len() && b[p] == end_char {
                break;
            }
            if p >= b.len() || b[p] != b',' {
                return false;
            }
            p += 1;
            skip_ws(&mut p);
        }
        if b[p] == b'}' {
            p += 1;
            skip_ws(&mut p);
        }
        if p >= b.len() || b[p] != b',' {
            return false;
        }
        p += 1;
        skip_ws(&mut p);
        let mut sets = Vec::new();
        loop {
            let mut end_char = b',';
            if p < b.len() && b[p] == b'{' {
                end_char = b'}';
                p += 1;
                skip_ws(&mut p);
            }
            let mut values = Vec::new();
            loop {
                values.push(word(&mut p, b" \t,})"));
                skip_ws(&mut p);
                if p < b.len() && (b[p] == end_char || (b[p] == b')' && end_char == b',')) {
                    break;
                }
                if p >= b.len() || b[p] != b',' {
                    return false;
                }
                p += 1;
                skip_ws(&mut p);
                if values.len() > vars.len() - 1 {
                    diags.push(
                        Severity::GeneralError,
                        Some(origin),
                        format!("~LST specification has too many values '{buf}'"),
                    );
                    return false;
                }
            }
            while values.len() < vars.len() {
                values.push(String::new());
            }
            sets.push(values);
            if p < b.len() && b[p] == b'}' && end_char == b'}' {
                p += 1;
                skip_ws(&mut p);
            }
            if p < b.len() && b[p] == b')' {
                break;
            }
            if p >= b.len() || b[p] != b',' {
                return false;
            }
            p += 1;
            skip_ws(&mut p);
        }
        if vars.is_empty() || sets.is_empty() {
            return false;
        }
        p += 1;
        skip_ws(&mut p);
        if !self.check_planned("~LST", sets.len() as i128, buf, diags) {
            return false;
        }
        let text = buf.get(p..).unwrap_or("").to_string();
        self.seqs.push(Seq::List { vars, sets, next: 0, text });
        true
    }
}

/// A line whose `$` substitution goes on past [`MAX_SUBSTITUTIONS`].
fn endless_substitution(line: &str) -> String {
    format!(
        "Parameter substitution on line '{line}' does not end after {MAX_SUBSTITUTIONS} substitutions - a definition refers to itself?"
    )
}

/// An I/O error as keepalived prints `strerror(errno)`, without Rust's
/// " (os error N)" suffix.
fn io_reason(e: &std::io::Error) -> String {
    let text = e.to_string();
    match text.rfind(" (os error ") {
        Some(i) => text[..i].to_string(),
        None => text,
    }
}

/// Parse an integer the way `strtol(s, _, 0)` does (decimal, 0x hex, 0 octal).
fn parse_c_long(s: &str) -> Option<i64> {
    let (neg, body) = match s.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    // The magnitude first, so that LONG_MIN (-9223372036854775808) reads.
    let v = if let Some(h) = body.strip_prefix("0x").or_else(|| body.strip_prefix("0X")) {
        u64::from_str_radix(h, 16).ok()?
    } else if body.len() > 1 && body.starts_with('0') {
        u64::from_str_radix(&body[1..], 8).ok()?
    } else {
        body.parse::<u64>().ok()?
    };
    let v = if neg { -i128::from(v) } else { i128::from(v) };
    i64::try_from(v).ok()
}

/// The first `{` or `}` outside double quotes (an unclosed quote hides the
/// rest of the line), in one pass.
fn first_brace(b: &[u8]) -> Option<usize> {
    let mut i = 0;
    while let Some(j) = b[i..].iter().position(|&c| matches!(c, b'{' | b'}' | b'"')) {
        let k = i + j;
        if b[k] != b'"' {
            return Some(k);
        }
        i = k + 1 + b[k + 1..].iter().position(|&c| c == b'"')? + 1;
    }
    None
}

/// Line buffers are at least this big, so a recycled one rarely grows.
const MIN_BUFFER: usize = 64;

/// A copy of `s` in a recycled buffer if there is one.
fn take_buffer(spare: &mut Vec<String>, s: &str) -> String {
    let mut out = spare.pop().unwrap_or_else(|| String::with_capacity(MIN_BUFFER.max(s.len())));
    out.push_str(s);
    out
}

/// Byte classes of [`byte_classes`].
const C_NUL: u8 = 1;
/// Bytes decommenting deals with: `#`, `!`, `"`, `\\`.
const C_SPECIAL: u8 = 2;
/// The end of a line (never in the union [`scan_line`] returns).
const C_NEWLINE: u8 = 4;
const C_DOLLAR: u8 = 8;
const C_BRACE: u8 = 16;
/// Nothing known about a line (it did not come straight from a file).
const C_ANY: u8 = 0xFF;

static CLASSES: [u8; 256] = {
    let mut t = [0u8; 256];
    t[0] = C_NUL;
    t[b'#' as usize] = C_SPECIAL;
    t[b'!' as usize] = C_SPECIAL;
    t[b'"' as usize] = C_SPECIAL;
    t[b'\\' as usize] = C_SPECIAL;
    t[b'\n' as usize] = C_NEWLINE;
    t[b'$' as usize] = C_DOLLAR;
    t[b'{' as usize] = C_BRACE;
    t[b'}' as usize] = C_BRACE;
    t
};

/// The length of the first line of `s` (up to `\n` or the end) and the
/// union of the classes of its bytes: one table look-up a byte instead of a
/// scan for each kind.
fn scan_line(s: &[u8]) -> (usize, u8) {
    let mut flags = 0;
    for (i, &b) in s.iter().enumerate() {
        let c = CLASSES[b as usize];
        if c == C_NEWLINE {
            return (i, flags);
        }
        flags |= c;
    }
    (s.len(), flags)
}

/// `s` without leading blanks (space, tab: ASCII, so bytes suffice).
fn trim_blank_start(s: &str) -> &str {
    &s[blank_prefix(s.as_bytes())..]
}

/// The number of leading blanks of `b`.
fn blank_prefix(b: &[u8]) -> usize {
    b.iter().take_while(|&&c| c == b' ' || c == b'\t').count()
}

/// `s` without trailing blanks.
fn trim_blank_end(s: &str) -> &str {
    let n = s.bytes().rev().take_while(|&b| b == b' ' || b == b'\t').count();
    &s[..s.len() - n]
}

/// Blank as keepalived means it (isblank): space or tab. A plain fn is a
/// much cheaper pattern than a char array for `trim_*_matches`.
fn is_blank(c: char) -> bool {
    c == ' ' || c == '\t'
}

fn is_executable(m: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::PermissionsExt;
    m.permissions().mode() & 0o111 != 0
}

/// A decommented line: (text, leading whitespace removed). The bool says
/// whether a double quote was left open.
pub(crate) struct Decommented(pub String);

/// keepalived `decomment`: strip leading blanks, cut at the first `#`/`!`
/// outside double quotes, turn `\#`/`\!` into `#`/`!`, strip trailing blanks.
/// A trailing `\` is kept (it marks a multi-line definition).
pub(crate) fn decomment(line: &str) -> (Decommented, bool) {
    let s = line.trim_start_matches(is_blank);
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut quote = false;
    let mut cont = false;
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        match c {
            b'"' => {
                quote = !quote;
                out.push(c);
                i += 1;
            }
            b'\\' => {
                if i + 1 < b.len() {
                    if !quote && (b[i + 1] == b'#' || b[i + 1] == b'!') {
                        out.push(b[i + 1]);
                    } else {
                        out.push(c);
                        out.push(b[i + 1]);
                    }
                    i += 2;
                } else {
                    cont = true;
                    i += 1;
                }
            }
            b'#' | b'!' if !quote => break,
            _ => {
                out.push(c);
                i += 1;
            }
        }
    }
    let mut text = String::from_utf8_lossy(&out).into_owned();
    let trimmed_len = text.trim_end_matches(is_blank).len();
    text.truncate(trimmed_len);
    if cont {
        text.push('\\');
    }
    (Decommented(text), quote)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(text: &str, id: Option<&str>) -> (Vec<String>, Diagnostics) {
        let opts = PreprocOptions { config_id: id.map(str::to_string), ..Default::default() };
        let mut pp = Preprocessor::from_text("t.conf", text, &opts);
        let mut d = Diagnostics::new();
        let mut out = Vec::new();
        while let Some(l) = pp.next_line(&mut d) {
            out.push(l.text.to_string());
        }
        (out, d)
    }

    #[test]
    fn comments_anywhere_outside_quotes() {
        let (l, _) = lines("a b # c\nx \"y # z\" ! w\n  ! all\nq\\#r\n", None);
        assert_eq!(l, vec!["a b", "x \"y # z\"", "q#r"]);
    }

    #[test]
    fn braces_are_split_out() {
        let (l, _) = lines("vrrp_instance VI_1 {\nvirtual_ipaddress { 1.2.3.4 }\n}\n", None);
        assert_eq!(l, vec!["vrrp_instance VI_1", "{", "virtual_ipaddress", "{", "1.2.3.4", "}", "}"]);
    }

    #[test]
    fn brace_in_quotes_not_split() {
        let (l, _) = lines("notify \"/x {a}\" {\n", None);
        assert_eq!(l, vec!["notify \"/x {a}\"", "{"]);
    }

    #[test]
    fn extra_close_brace() {
        let (_, d) = lines("}\n", None);
        assert!(d.has("Extra '}' found"));
    }

    #[test]
    fn conditional_lines() {
        let (l, _) = lines("@main a\n@^main b\n@other c\n@^other d\n", Some("main"));
        assert_eq!(l, vec!["a", "d"]);
        let (l, _) = lines("@main a\n@^main b\n", None);
        assert_eq!(l, vec!["b"]);
    }

    #[test]
    fn conditional_before_definition() {
        let (l, _) = lines("@main $P=1\n@^main $P=2\nv $P\n", Some("main"));
        assert_eq!(l, vec!["v 1"]);
    }

    #[test]
    fn definitions_lazy_recursive_and_undefined() {
        let (l, _) = lines("$A=$B x\n$B=b\nv $A ${A} $UNDEF\n", None);
        assert_eq!(l, vec!["v b x b x $UNDEF"]);
        // An undefined ${X} stays, and its braces are then split out, as in
        // keepalived (a shell-style ${VAR:-x} gives brace errors there too).
        let (l, _) = lines("v ${UNDEF}\n", None);
        assert_eq!(l, vec!["v $", "{", "UNDEF", "}"]);
    }

    #[test]
    fn definition_redefined() {
        let (l, _) = lines("$A=1\nv $A\n$A=2\nv $A\n", None);
        assert_eq!(l, vec!["v 1", "v 2"]);
    }

    #[test]
    fn definition_needs_no_space_in_name() {
        let (l, _) = lines("$A =1\nv $A\n", None);
        assert_eq!(l, vec!["$A =1", "v $A"]);
        let (l, _) = lines("$A B=1\n", None);
        assert_eq!(l, vec!["$A B=1"]);
    }

    #[test]
    fn multiline_definition() {
        let text = "$BLK= \\\n  a 1 \\\n  b 2\nblock {\n$BLK\n}\n";
        let (l, _) = lines(text, None);
        assert_eq!(l, vec!["block", "{", "a 1", "b 2", "}"]);
    }

    #[test]
    fn builtins() {
        let (l, _) = lines("v ${_HASH} ${_BANG} ${_INSTANCE}\n", Some("node1"));
        assert_eq!(l, vec!["v # ! node1"]);
        std::env::set_var("KA_RS_TEST_ENV", "val");
        let (l, _) = lines("v ${_ENV KA_RS_TEST_ENV}\n", None);
        assert_eq!(l, vec!["v val"]);
        let (l, _) = lines("v ${_RANDOM 5 5}\n", None);
        assert_eq!(l, vec!["v 5"]);
        let (l, _) = lines("v ${_PWD}\n", None);
        assert_eq!(l, vec!["v"]);
    }

    #[test]
    fn random_param_errors() {
        let (_, d) = lines("v ${_RANDOM a}\n", None);
        assert!(d.has("Definition _RANDOM requires numeric parameters only."));
        let (_, d) = lines("v ${_RANDOM 1 2 3}\n", None);
        assert!(d.has("Definition _RANDOM requires between 0 and 2 parameters, 3 specified."));
    }

    #[test]
    fn seq_and_seqx() {
        let (l, _) = lines("~SEQ(i, 1, 3) v $i\n", None);
        assert_eq!(l, vec!["v 1", "v 2", "v 3"]);
        let (l, _) = lines("~SEQ(i, 3) v $i\n", None);
        assert_eq!(l, vec!["v 1", "v 2", "v 3"]);
        let (l, _) = lines("~SEQ(i, 10, -5, 0) v $i\n", None);
        assert_eq!(l, vec!["v 10", "v 5", "v 0"]);
        let (l, _) = lines("~SEQx(i, 9, 11) v $i\n", None);
        assert_eq!(l, vec!["v 9", "v a", "v b"]);
        let (_, d) = lines("~SEQ(i, 1, -1, 3) v\n", None);
        assert!(d.has("Invalid ~SEQ values"));
    }

    #[test]
    fn nested_seq_leftmost_outermost() {
        let (l, _) = lines("~SEQ(i, 1, 2) ~SEQ(j, 1, 2) v $i$j\n", None);
        // `$i$j`: `$i` is followed by `$`, which is not a valid end char, so
        // keepalived leaves it; use ${i}.
        assert_eq!(l.len(), 4);
        let (l, _) = lines("~SEQ(i, 1, 2) ~SEQ(j, 1, 2) v ${i}${j}\n", None);
        assert_eq!(l, vec!["v 11", "v 12", "v 21", "v 22"]);
    }

    #[test]
    fn lst_simple_and_tuples() {
        let (l, _) = lines("~LST(x, a, b, c) v $x\n", None);
        assert_eq!(l, vec!["v a", "v b", "v c"]);
        let (l, _) = lines("~LST({a,b},{1,2},{3,4}) v $a $b\n", None);
        assert_eq!(l, vec!["v 1 2", "v 3 4"]);
    }

    #[test]
    fn expansion_in_all_is_limited() {
        let text = "$M=a \\\nb\n\n$M\n$M\n$M\n~SEQ(i,1,3) c\n$M\n";
        let mut pp = Preprocessor::from_text("t.conf", text, &PreprocOptions::default());
        pp.total_limit = 4;
        let mut d = Diagnostics::new();
        let mut out = Vec::new();
        while let Some(l) = pp.next_line(&mut d) {
            out.push(l.text);
        }
        // Each $M makes one line inline and one generated; the fifth
        // generated line is refused, and later definitions stay as written.
        assert_eq!(out, ["a", "b", "a", "b", "a", "b", "c", "$M"]);
        let msgs: Vec<&str> = d.list.iter().map(|m| m.message.as_str()).collect();
        assert_eq!(msgs, ["~SEQ, ~LST and multi-line definitions make more than 4 lines in all - ignoring the rest"]);
    }

    #[test]
    fn a_definition_is_limited_in_size() {
        let piece = format!("{} \\\n", "x".repeat(1000));
        let text = format!("$BIG=\\\n{}end\n$SMALL=y \\\nz\n", piece.repeat(1100));
        let mut pp = Preprocessor::from_text("t.conf", &text, &PreprocOptions::default());
        let mut d = Diagnostics::new();
        while pp.next_line(&mut d).is_some() {}
        let msgs: Vec<&str> = d.list.iter().map(|m| m.message.as_str()).collect();
        assert_eq!(msgs, ["Definition BIG is longer than 1024 KiB - ignoring the rest"]);
        let big = pp.defs.iter().find(|x| x.name == "BIG").unwrap();
        assert!(big.value.len() <= MAX_DEFINITION_BYTES && big.value.len() > MAX_DEFINITION_BYTES - 2000);
        assert_eq!(d.list[0].origin.map(|o| o.line), Some(1049));
        assert_eq!(pp.defs.iter().find(|x| x.name == "SMALL").map(|x| x.value.as_str()), Some("y\nz"));
    }

    #[test]
    fn line_too_long() {
        let long = "x".repeat(1100);
        let (l, d) = lines(&format!("{long}\nok\n"), None);
        assert_eq!(l, vec!["ok"]);
        assert!(d.has("line too long - ignoring"));
    }

    #[test]
    fn crlf_and_nul() {
        let (l, d) = lines("a\r\nb\0c\nd\n", None);
        assert_eq!(l, vec!["a", "d"]);
        assert!(d.has("embedded NULs"));
    }

    #[test]
    fn unterminated_quote_is_reported() {
        let (_, d) = lines("a \"b\n", None);
        assert!(d.has("Unterminated quote 'a \"b'"));
    }

    #[test]
    fn origins_track_lines_and_columns() {
        let opts = PreprocOptions::default();
        let mut pp = Preprocessor::from_text("t.conf", "\n  a {b}\n", &opts);
        let mut d = Diagnostics::new();
        let l1 = pp.next_line(&mut d).unwrap();
        assert_eq!((l1.text.as_str(), l1.origin.line, l1.origin.col), ("a", 2, 3));
        let l2 = pp.next_line(&mut d).unwrap();
        assert_eq!((l2.text.as_str(), l2.origin.line, l2.origin.col), ("{", 2, 5));
        let l3 = pp.next_line(&mut d).unwrap();
        assert_eq!((l3.text.as_str(), l3.origin.col), ("b", 6));
    }

    #[test]
    fn consolidated_copy_replays_like_the_files() {
        let dir = std::env::temp_dir().join(format!("ka-rs-copy-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("d")).unwrap();
        std::fs::write(dir.join("main.conf"), "a 1 # c\n$X=x\n\ninclude d/*.conf\nb $X\n~SEQ(i,1,2) s $i\n").unwrap();
        std::fs::write(dir.join("d/1.conf"), "  in1 {\n\n in2\n").unwrap();
        let run = |pp: &mut Preprocessor| {
            let mut d = Diagnostics::new();
            let mut out = Vec::new();
            while let Some(l) = pp.next_line(&mut d) {
                let name = l.origin.file.name();
                out.push(format!(
                    "{}:{}:{}:{}",
                    name.rsplit('/').next().unwrap_or(""),
                    l.origin.line,
                    l.origin.col,
                    l.text
                ));
            }
            out
        };
        let mut d = Diagnostics::new();
        let mut pp =
            Preprocessor::open(dir.join("main.conf").to_str().unwrap(), &PreprocOptions::default(), &mut d).unwrap();
        pp.record_copy();
        let direct = run(&mut pp);
        let copy = pp.take_copy().unwrap();
        // The files change on disk: the copy does not.
        std::fs::write(dir.join("d/1.conf"), "changed\n").unwrap();
        let mut rp = Preprocessor::from_copy(&copy, &PreprocOptions::default());
        let replayed = run(&mut rp);
        assert_eq!(direct, replayed);
        assert!(direct.contains(&"1.conf:3:2:in2".to_string()), "{direct:?}");
        assert!(direct.contains(&"main.conf:5:1:b x".to_string()), "{direct:?}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn include_relative_and_missing() {
        let dir = std::env::temp_dir().join(format!("ka-rs-inc-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("sub")).unwrap();
        std::fs::write(dir.join("main.conf"), "a\ninclude sub/*.conf\ninclude missing.conf\nz\n").unwrap();
        std::fs::write(dir.join("sub/1.conf"), "b\ninclude ../x{1,2}.inc\n").unwrap();
        std::fs::write(dir.join("sub/2.conf"), "c\n").unwrap();
        std::fs::write(dir.join("x1.inc"), "x1\n").unwrap();
        std::fs::write(dir.join("x2.inc"), "x2\n").unwrap();
        let mut d = Diagnostics::new();
        let mut pp =
            Preprocessor::open(dir.join("main.conf").to_str().unwrap(), &PreprocOptions::default(), &mut d).unwrap();
        let mut out = Vec::new();
        while let Some(l) = pp.next_line(&mut d) {
            out.push((l.text, l.origin.file.name().rsplit('/').next().unwrap_or("").to_string()));
        }
        let texts: Vec<&str> = out.iter().map(|x| x.0.as_str()).collect();
        assert_eq!(texts, vec!["a", "b", "x1", "x2", "c", "z"]);
        assert_eq!(out[2].1, "x1.inc");
        assert!(d.has("Config files missing 'missing.conf'."));
        assert_eq!(d.test_exit_code(), 0, "plain include never fails");

        std::fs::write(dir.join("strict.conf"), "includem missing.conf\n").unwrap();
        let mut d = Diagnostics::new();
        let mut pp =
            Preprocessor::open(dir.join("strict.conf").to_str().unwrap(), &PreprocOptions::default(), &mut d).unwrap();
        while pp.next_line(&mut d).is_some() {}
        assert!(d.file_error);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

#[cfg(test)]
mod plain_path_prop {
    use super::*;
    use proptest::prelude::*;

    fn run(text: &str, plain: bool) -> (Vec<(String, Origin)>, i32, String) {
        let mut pp = Preprocessor::from_text("t.conf", text, &PreprocOptions::default());
        pp.plain_path = plain;
        let mut d = Diagnostics::new();
        let mut out = Vec::new();
        while let Some(l) = pp.next_line(&mut d) {
            out.push((l.text.to_string(), l.origin));
        }
        (out, pp.block_depth, format!("{d:?}"))
    }

    proptest! {
        #[test]
        fn plain_path_equals_general_path(
            lines in proptest::collection::vec(r##"[ \t]{0,2}(include|@x|\$X=1|\$X|~SEQ|[a-z{}\\"#!]{0,3})[ \ta-z{}\r]{0,8}"##, 0..24)
        ) {
            let text = lines.join("\n");
            prop_assert_eq!(run(&text, true), run(&text, false));
        }
    }
}
