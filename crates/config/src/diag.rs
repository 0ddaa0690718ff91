//! Diagnostics: what the parser and the validators report, with keepalived's
//! severities, so that `keepalived -t` exits with the same status as keepalived.

use serde::Serialize;
use std::fmt;
use std::sync::{Arc, Mutex, OnceLock};

/// A configuration file name, interned: origins are attached to every line
/// and token, so they are plain `Copy` values (no reference counting on the
/// hot path); the name is looked up only when a message is printed.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FileId(u32);

fn file_table() -> &'static Mutex<Vec<Arc<str>>> {
    static FILES: OnceLock<Mutex<Vec<Arc<str>>>> = OnceLock::new();
    FILES.get_or_init(|| Mutex::new(Vec::new()))
}

impl FileId {
    /// The id of `name`, registering it on first use.
    pub fn intern(name: &str) -> FileId {
        let mut t = file_table().lock().unwrap_or_else(|e| e.into_inner());
        if let Some(i) = t.iter().position(|n| &**n == name) {
            return FileId(i as u32);
        }
        t.push(Arc::from(name));
        FileId((t.len() - 1) as u32)
    }

    pub fn name(&self) -> Arc<str> {
        let t = file_table().lock().unwrap_or_else(|e| e.into_inner());
        t.get(self.0 as usize).cloned().unwrap_or_else(|| Arc::from("?"))
    }
}

impl fmt::Display for FileId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name())
    }
}

impl fmt::Debug for FileId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", &*self.name())
    }
}

impl Serialize for FileId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.name())
    }
}

/// Where a token or a message comes from: file, line and column (1-based).
///
/// The file name is the path as it was opened (an `include` glob match is
/// stored as matched), so messages point at the file the user edits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct Origin {
    pub file: FileId,
    pub line: u32,
    pub col: u32,
}

impl Origin {
    pub fn new(file: FileId, line: u32, col: u32) -> Origin {
        Origin { file, line, col }
    }
    /// The same place, another column (used for tokens of one line).
    pub fn at_col(&self, col: u32) -> Origin {
        Origin { file: self.file, line: self.line, col }
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file, self.line, self.col)
    }
}

/// keepalived's `config_err_t`, in keepalived's numeric order.
///
/// keepalived keeps the *numerically largest* status reported (lib/parser.c,
/// `vreport_config_error`), so a plain warning reported after a bad interface
/// turns exit 4 into exit 5. We reproduce that quirk because scripts test the
/// exit code of `keepalived -t`. `Notice` is ours: information that never
/// changes the exit status (e.g. a keyword accepted but whose feature this
/// build does not provide).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[repr(u8)]
pub enum Severity {
    FileNotFound = 1,
    BadIf,
    Fatal,
    MultipleFiles,
    UnknownKeyword,
    UnexpectedBob,
    MissingBob,
    UnexpectedEob,
    MissingEob,
    UnmatchedQuote,
    MissingParameter,
    InvalidNumber,
    GeneralError,
    Warning,
    Deprecated,
    SecurityError,
    /// keepalived-rs only: never affects the exit status.
    Notice = 100,
}

impl Severity {
    pub fn label(self) -> &'static str {
        match self {
            Severity::FileNotFound => "file-not-found",
            Severity::BadIf => "bad-interface",
            Severity::Fatal => "fatal",
            Severity::MultipleFiles => "multiple-files",
            Severity::UnknownKeyword => "unknown-keyword",
            Severity::UnexpectedBob => "unexpected-brace",
            Severity::MissingBob => "missing-brace",
            Severity::UnexpectedEob => "unexpected-brace",
            Severity::MissingEob => "missing-brace",
            Severity::UnmatchedQuote => "unmatched-quote",
            Severity::MissingParameter => "missing-parameter",
            Severity::InvalidNumber => "invalid-number",
            Severity::GeneralError => "error",
            Severity::Warning => "warning",
            Severity::Deprecated => "deprecated",
            Severity::SecurityError => "security",
            Severity::Notice => "notice",
        }
    }
}

/// One reported problem. `message` is keepalived's text for the same case.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    pub severity: Severity,
    pub origin: Option<Origin>,
    pub message: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.origin {
            Some(o) => write!(f, "{}: {}", o, self.message),
            None => f.write_str(&self.message),
        }
    }
}

/// The overall status, computed as keepalived does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum ConfigStatus {
    Ok,
    Reported(Severity),
}

/// `keepalived -t` exit codes (keepalived/core/main.c `config_test_exit`).
pub const EXIT_TEST_OK: i32 = 0;
pub const EXIT_TEST_CONFIG: i32 = 4;
pub const EXIT_TEST_ERRORS: i32 = 5;
pub const EXIT_TEST_SECURITY: i32 = 6;
/// A missing parameter stops keepalived at once with KEEPALIVED_EXIT_CONFIG.
pub const EXIT_CONFIG: i32 = 2;
/// Include-check failures: KEEPALIVED_EXIT_NO_CONFIG.
pub const EXIT_NO_CONFIG: i32 = 6;

#[derive(Clone, Debug, Default, Serialize)]
pub struct Diagnostics {
    pub list: Vec<Diagnostic>,
    /// keepalived's stored status: replaced whenever a numerically larger
    /// severity is reported (the "least severe wins" quirk).
    status: Option<Severity>,
    /// Set when an include check (includer/… or include_check) failed.
    pub file_error: bool,
    /// Set when parsing stopped at a missing parameter (exit 2).
    pub stopped: bool,
    /// Messages not kept past [`MAX_MESSAGES`] while reading.
    #[serde(skip)]
    dropped: usize,
    /// Reading is over: the rest (validation, one per object) is kept.
    #[serde(skip)]
    unlimited: bool,
}

/// Messages kept while reading a configuration. A file of a few MB of bad
/// lines would otherwise hold one message per line (keepalived prints them
/// as it goes, it keeps none); the status, hence the exit code, still
/// counts every one.
pub const MAX_MESSAGES: usize = 100_000;

impl Diagnostics {
    pub fn new() -> Diagnostics {
        Diagnostics::default()
    }

    pub fn push(&mut self, severity: Severity, origin: Option<Origin>, message: impl Into<String>) {
        if severity != Severity::Notice {
            match self.status {
                Some(s) if s >= severity => {}
                _ => self.status = Some(severity),
            }
        }
        self.keep(Diagnostic { severity, origin, message: message.into() });
    }

    fn keep(&mut self, d: Diagnostic) {
        if self.list.len() >= MAX_MESSAGES && !self.unlimited {
            self.dropped += 1;
            return;
        }
        self.list.push(d);
    }

    /// The configuration has been read: say how many messages were not
    /// kept, and keep the ones that follow.
    pub fn end_of_reading(&mut self) {
        if self.dropped > 0 {
            let n = std::mem::take(&mut self.dropped);
            self.list.push(Diagnostic {
                severity: Severity::Notice,
                origin: None,
                message: format!("{n} further configuration messages not shown (more than {MAX_MESSAGES})"),
            });
        }
        self.unlimited = true;
    }

    /// Record a message that keepalived logs without touching the status
    /// (`log_message` rather than `report_config_error`).
    pub fn log(&mut self, origin: Option<Origin>, message: impl Into<String>) {
        self.keep(Diagnostic { severity: Severity::Notice, origin, message: message.into() });
    }

    pub fn status(&self) -> ConfigStatus {
        match self.status {
            None => ConfigStatus::Ok,
            Some(s) => ConfigStatus::Reported(s),
        }
    }

    /// The exit code keepalived's `-t` would return.
    pub fn test_exit_code(&self) -> i32 {
        if self.stopped {
            return EXIT_CONFIG;
        }
        match self.status {
            None => EXIT_TEST_OK,
            Some(Severity::FileNotFound | Severity::BadIf | Severity::Fatal) => EXIT_TEST_CONFIG,
            Some(Severity::SecurityError) => EXIT_TEST_SECURITY,
            Some(_) => EXIT_TEST_ERRORS,
        }
    }

    pub fn has(&self, needle: &str) -> bool {
        self.list.iter().any(|d| d.message.contains(needle))
    }

    pub fn iter(&self) -> impl Iterator<Item = &Diagnostic> {
        self.list.iter()
    }
}
