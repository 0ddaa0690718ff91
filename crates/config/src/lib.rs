//! keepalived.conf front end for keepalived-rs: the preprocessor, a pest
//! tokeniser, keepalived's keyword tree, the typed model and validation with
//! keepalived's messages and `-t` exit codes.
//!
//! ```no_run
//! use keepalived_config::{parse_file, ParseOptions};
//! let parsed = parse_file("/etc/keepalived/keepalived.conf", &ParseOptions::default());
//! for d in parsed.diags.iter() { eprintln!("{d}"); }
//! std::process::exit(parsed.diags.test_exit_code());
//! ```

pub mod bfd;
mod common;
pub mod diag;
pub mod engine;
pub mod eventlog;
#[doc(hidden)]
pub mod fuzzing;
pub mod glob;
pub mod global;
pub mod ipaddr;
pub mod keywords;
pub mod lexer;
pub mod lvs;
pub mod model;
pub mod numbers;
pub mod preproc;
pub mod script;
pub mod suggest;
pub mod system;
pub mod vrrp;

pub use diag::{Diagnostic, Diagnostics, Origin, Severity};
pub use model::Config;
pub use system::SystemView;

use engine::Ctx;
use preproc::{PreprocOptions, Preprocessor};
use serde::Serialize;

/// Which subsystems' blocks are parsed (each keepalived child parses only
/// its own; `-t` parses all).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Subsystems {
    pub vrrp: bool,
    pub check: bool,
    pub bfd: bool,
}

impl Subsystems {
    pub const fn all() -> Subsystems {
        Subsystems { vrrp: true, check: true, bfd: true }
    }
    pub const fn none() -> Subsystems {
        Subsystems { vrrp: false, check: false, bfd: false }
    }
}

impl Default for Subsystems {
    fn default() -> Self {
        Subsystems::all()
    }
}

#[derive(Clone, Debug)]
pub struct ParseOptions {
    /// `-i`: the config id for `@id` lines (keepalived defaults it to the
    /// host name up to the first dot; the binary does that).
    pub config_id: Option<String>,
    /// `-e`: every include problem is fatal.
    pub all_config: bool,
    pub active: Subsystems,
    /// `-t`: a config test (affects a few readers, as in keepalived).
    pub config_test: bool,
    /// Run validation after parsing.
    pub validate: bool,
    pub system: SystemView,
    /// Keep the consolidated configuration ([`Parsed::copy`]): what the
    /// daemon's parent hands its children.
    pub record_copy: bool,
}

impl Default for ParseOptions {
    fn default() -> Self {
        ParseOptions {
            config_id: None,
            all_config: false,
            active: Subsystems::all(),
            config_test: true,
            validate: true,
            system: SystemView::unknown(),
            record_copy: false,
        }
    }
}

/// The result of reading a configuration.
#[derive(Debug, Serialize)]
pub struct Parsed {
    pub config: Config,
    pub diags: Diagnostics,
    /// The files read, in order.
    pub files: Vec<String>,
    /// The main file could not be opened.
    pub main_missing: bool,
    /// The consolidated configuration, when asked for.
    #[serde(skip)]
    pub copy: Option<String>,
}

impl Parsed {
    /// The exit status of `keepalived -t` for this configuration.
    pub fn test_exit_code(&self) -> i32 {
        if !self.main_missing && self.diags.file_error {
            return diag::EXIT_NO_CONFIG;
        }
        self.diags.test_exit_code()
    }
}

/// Read, preprocess, parse and (optionally) validate a configuration file.
pub fn parse_file(path: &str, opts: &ParseOptions) -> Parsed {
    let mut diags = Diagnostics::new();
    let popts = preproc_options(opts);
    match Preprocessor::open(path, &popts, &mut diags) {
        Some(pp) => run(pp, diags, opts),
        None => {
            // keepalived's check_conf_file failed: -t exits by the status
            // (0 unless -e made the miss fatal), never by include failure.
            diags.file_error = false;
            Parsed { config: Config::default(), diags, files: Vec::new(), main_missing: true, copy: None }
        }
    }
}

/// Read a consolidated configuration recorded by a previous
/// [`parse_file`] with `record_copy` (includes are inline; no file is read).
pub fn parse_copy(copy: &str, opts: &ParseOptions) -> Parsed {
    let pp = Preprocessor::from_copy(copy, &preproc_options(opts));
    run(pp, Diagnostics::new(), opts)
}

/// As [`parse_file`], for text in memory; `name` is used in origins and to
/// resolve relative includes.
pub fn parse_str(name: &str, text: &str, opts: &ParseOptions) -> Parsed {
    let pp = Preprocessor::from_text(name, text, &preproc_options(opts));
    run(pp, Diagnostics::new(), opts)
}

fn preproc_options(opts: &ParseOptions) -> PreprocOptions {
    PreprocOptions { config_id: opts.config_id.clone(), all_config: opts.all_config, ..Default::default() }
}

fn run(mut pp: Preprocessor, diags: Diagnostics, opts: &ParseOptions) -> Parsed {
    if opts.record_copy {
        pp.record_copy();
    }
    let mut ctx = Ctx::new(pp, opts.active, opts.config_test);
    ctx.diags = diags;
    ctx.system = opts.system.clone();
    let completed = ctx.process(&keywords::ROOT_BLOCK, 0, false).is_ok();
    ctx.diags.end_of_reading();
    if completed {
        if ctx.pp.block_depth > 0 {
            let depth = ctx.pp.block_depth;
            let o = ctx.pp.origin();
            ctx.report_at(Severity::MissingEob, Some(o), format!("There are {depth} missing '}}'s or extra '{{'s"));
        }
        if opts.validate {
            global::validate(&mut ctx, &opts.system);
            if opts.active.check {
                lvs::validate(&mut ctx, &opts.system);
            }
            if opts.active.vrrp {
                ipaddr::check_interfaces(&mut ctx, &opts.system);
                vrrp::validate(&mut ctx, &opts.system);
                ipaddr::validate(&mut ctx, &opts.system);
            }
            if opts.active.bfd {
                bfd::validate(&mut ctx, &opts.system);
            }
        }
    }
    let files = ctx.pp.files_read.clone();
    let copy = ctx.pp.take_copy();
    Parsed { config: ctx.cfg, diags: ctx.diags, files, main_missing: false, copy }
}
