//! keepalived-rs: the `keepalived` binary.
//!
//! keepalived's command line, `--signum`, the configuration test (`-t`) and
//! dump (`-d`), and the daemon: a parent supervisor that forks and watches
//! the VRRP, checker and BFD children.

mod bfd;
mod capabilities;
mod check;
mod child;
#[allow(dead_code)] // some options take effect in the protocol engines
mod cli;
mod config_copy;
mod core_dump;
mod daemon;
mod dump_paths;
mod dumps;
mod files;
mod genhash;
mod global_dump;
mod logging;
mod metrics;
mod metrics_render;
mod netns;
mod notify_fifo;
mod parent;
mod parent_requests;
mod pidfile;
mod status;
mod status_client;
mod subsystems;
mod system;
mod track_file;
mod umask;
mod vrrp;

use keepalived_config::{parse_file, ParseOptions, Parsed, Subsystems};
use std::io::Write;
use tracing::{error, info, warn};

const DEFAULT_CONFIG_FILE: &str = "/etc/keepalived/keepalived.conf";
const OLD_DEFAULT_CONFIG_FILE: &str = "/etc/keepalived.conf";

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let prog = args.first().map(String::as_str).unwrap_or("keepalived");
    if prog.rsplit('/').next() == Some("genhash") {
        std::process::exit(genhash::run(prog, true, args.len(), args.get(1..).unwrap_or_default()));
    }
    // keepalived `-T`/`--genhash`: the options after it are genhash's.
    if let Some(at) = args.iter().skip(1).take_while(|a| *a != "--").position(|a| a == "-T" || a == "--genhash") {
        if at > 0 {
            let name = if args[at + 1] == "-T" { "-T" } else { "genhash" };
            eprintln!("Warning -- `{name}` not used as first option, previous options ignored");
        }
        std::process::exit(genhash::run(prog, false, args.len(), args.get(at + 2..).unwrap_or_default()));
    }
    let cli = match cli::parse(&args) {
        Ok(c) => c,
        Err(msg) => {
            eprintln!("{msg}");
            std::process::exit(1);
        }
    };
    std::process::exit(run(&cli));
}

fn run(cli: &cli::Cli) -> i32 {
    if cli.help {
        // keepalived's -h prints the usage only.
        eprint!("{}", cli::usage());
        return 0;
    }
    if cli.version {
        eprint!("{}", version_banner());
        return 0;
    }
    if let Some(name) = &cli.signum {
        return match signum(name) {
            Some(n) => {
                println!("{n}");
                0
            }
            None => {
                eprintln!("Unknown sigfunc {name}");
                1
            }
        };
    }
    if cli.status {
        return status_client::run(cli);
    }
    if !cli.unexpected.is_empty() {
        println!("Unexpected argument(s): {}", cli.unexpected.join(" "));
    }

    let conf_file = config_file(cli);
    let config_id = cli.config_id.clone().or_else(default_config_id);
    let json = cli.log_format.as_deref() == Some("json");

    if let Some(log_file) = &cli.config_test {
        let system = system::system_view(true);
        let opts = ParseOptions {
            config_id,
            all_config: cli.all_config,
            active: Subsystems::all(),
            config_test: true,
            validate: true,
            system,
            record_copy: false,
        };
        let parsed = parse_file(&conf_file, &opts);
        report(&parsed, log_file.as_deref(), json);
        if cli.dump_conf {
            dump(&parsed);
        }
        let code = parsed.test_exit_code();
        // The process exits now: freeing a large model would only cost time.
        std::mem::forget(parsed);
        return code;
    }

    run_daemon(cli, conf_file, config_id)
}

/// The daemon: the parent supervisor, which forks the children; a forked
/// child comes back here as `Outcome::Child` and runs its own loop.
fn run_daemon(cli: &cli::Cli, conf_file: String, config_id: Option<String>) -> i32 {
    let logcfg = match logging::LogConfig::from_cli(cli) {
        Ok(c) => c,
        Err(msg) => {
            eprintln!("{msg}");
            return 1;
        }
    };
    logging::init(&logcfg);
    for opt in unsupported_options(cli) {
        warn!("{opt}");
    }
    info!("Starting {}", version_string());
    // keepalived checks $TMPDIR once at start-up (and says if it is unusable).
    files::set_tmp_dir();
    let mut parsed = parent::read_parent_config(&conf_file, config_id.clone(), cli);
    parent::log_diags(&parsed);
    if parsed.main_missing || parsed.diags.file_error {
        return parent::EXIT_NO_CONFIG;
    }
    if parsed.diags.stopped {
        return parent::EXIT_CONFIG;
    }
    // Take what we keep and drop the rest now: the children inherit the
    // parent's heap at fork.
    let config_text = parsed.copy.take().unwrap_or_default();
    let mut cfg = std::mem::take(&mut parsed.config);
    drop(parsed);
    if cli.dump_conf {
        dump_json(&cfg);
    }
    files::apply_namespace_override(cli, &mut cfg.root);
    let suffix = logging::ident_suffix(cfg.root.net_namespace.as_deref(), cfg.root.instance.as_deref());
    if !suffix.is_empty() {
        logging::set_ident_suffix(&suffix);
    }
    files::apply_umask(cli, &cfg.global);
    let core_guard = files::apply_core_dump(cli);
    // A namespace gets its own pid directory (keepalived set_run_mount).
    let run_mount = cfg.root.net_namespace.as_deref().map(files::set_run_mount);
    if let Some(ns) = cfg.root.net_namespace.clone() {
        if let Err(e) = files::enter_netns(&ns) {
            error!("Unable to set network namespace {ns} - exiting ({e})");
            return parent::EXIT_FATAL;
        }
    }
    let pid_paths = files::PidPaths::resolve(cli, &cfg.root);
    let pid_dir = pid_paths.create_dir();
    let wanted: Vec<keepalived_runtime::ProcKind> = parent::wanted_children(&cfg, cli).into_iter().collect();
    let pidfiles = match files::PidFiles::lock(&pid_paths, &wanted) {
        Ok(p) => p,
        Err(e) => {
            // keepalived: any pid-file problem means "already running".
            if !matches!(e, files::PidError::Locked(_)) {
                error!("{e}");
            }
            info!("daemon is already running");
            return parent::EXIT_OK;
        }
    };
    if !cli.dont_fork {
        if let Err(e) = files::daemonize() {
            error!("Unable to daemonize: {e}");
            return parent::EXIT_FATAL;
        }
    }
    let mut pidfiles = pidfiles;
    if let Some(p) = pidfiles.parent.as_mut() {
        if let Err(e) = p.write_pid(std::process::id()) {
            error!("Unable to write pid file {}: {e}", pid_paths.parent.display());
        }
    }
    if let Some(script) = cfg.global.startup_script.clone() {
        let t = std::time::Duration::from_secs(u64::from(cfg.global.startup_script_timeout.max(1)));
        let opts = files::ScriptRunOpts::from_global(&cfg.global, cli.log_detail > 0);
        files::run_script_blocking_with(&script, t, "startup script", &opts);
    }
    let _ = nix::sys::prctl::set_child_subreaper(true);
    let copy = match config_copy::ConfigCopy::new().and_then(|c| c.write(&config_text).map(|_| c)) {
        Ok(c) => c,
        Err(e) => {
            error!("Unable to create the consolidated configuration: {e}");
            return parent::EXIT_FATAL;
        }
    };
    // The children read the copy, not this text.
    drop(config_text);
    let parent = match parent::Parent::new(cli.clone(), conf_file, config_id, cfg, pid_paths, pidfiles, copy) {
        Ok(p) => p,
        Err(e) => {
            error!("Unable to start: {e}");
            return parent::EXIT_FATAL;
        }
    };
    match parent.run() {
        parent::Outcome::Exit(code) => {
            drop(core_guard);
            if let Some(d) = pid_dir {
                d.remove();
            }
            if let Some(m) = run_mount {
                m.clear();
            }
            info!("Stopped {}", version_string());
            code
        }
        parent::Outcome::Child(start) => {
            // The parent's state was dropped on the way here (its signal
            // handlers unregistered, its channels closed). The core-pattern
            // guard, the pid directory and the namespace mount belong to
            // the parent.
            std::mem::forget(core_guard);
            std::mem::forget(pid_dir);
            std::mem::forget(run_mount);
            child::run(*start)
        }
    }
}

/// Options keepalived has that this build does not act on: said clearly.
fn unsupported_options(cli: &cli::Cli) -> Vec<String> {
    let mut v = Vec::new();
    if cli.snmp || cli.snmp_agent_socket.is_some() {
        v.push("SNMP (-x/-A) is not supported by keepalived-rs - option ignored".to_string());
    }
    if cli.genhash {
        v.push("genhash mode (-T) is not available in this build of keepalived-rs - option ignored".to_string());
    }
    v
}

fn dump_json(cfg: &keepalived_config::Config) {
    match serde_json::to_string_pretty(cfg) {
        Ok(s) => info!("{s}"),
        Err(e) => warn!("Unable to dump configuration: {e}"),
    }
}

/// `-f`, else the default file, else keepalived's old default location.
fn config_file(cli: &cli::Cli) -> String {
    if let Some(f) = &cli.use_file {
        return f.clone();
    }
    if std::fs::metadata(DEFAULT_CONFIG_FILE).is_err() && std::fs::metadata(OLD_DEFAULT_CONFIG_FILE).is_ok() {
        eprintln!(
            "WARNING - using deprecated default config file '{OLD_DEFAULT_CONFIG_FILE}' - please move to '{DEFAULT_CONFIG_FILE}'"
        );
        return OLD_DEFAULT_CONFIG_FILE.to_string();
    }
    DEFAULT_CONFIG_FILE.to_string()
}

/// keepalived's default config id: the node name up to the first dot.
fn default_config_id() -> Option<String> {
    let host = nix::unistd::gethostname().ok()?.to_string_lossy().into_owned();
    let short = host.split('.').next().unwrap_or("").to_string();
    if short.is_empty() {
        None
    } else {
        Some(short)
    }
}

/// Print diagnostics as keepalived does under -t (stderr, or appended to
/// the --config-test=FILE), each prefixed with its file:line:col.
fn report(parsed: &Parsed, log_file: Option<&str>, json: bool) {
    let mut out = String::new();
    for d in parsed.diags.iter() {
        if json {
            let v = serde_json::json!({
                "severity": d.severity.label(),
                "file": d.origin.as_ref().map(|o| o.file.to_string()),
                "line": d.origin.as_ref().map(|o| o.line),
                "col": d.origin.as_ref().map(|o| o.col),
                "message": d.message,
            });
            out.push_str(&v.to_string());
        } else {
            out.push_str(&d.to_string());
        }
        out.push('\n');
    }
    match log_file {
        Some(path) => {
            let res = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .and_then(|mut f| f.write_all(out.as_bytes()));
            if let Err(e) = res {
                eprintln!("Unable to write config test log file {path}: {e}");
                eprint!("{out}");
            }
        }
        None => eprint!("{out}"),
    }
}

fn dump(parsed: &Parsed) {
    match serde_json::to_string_pretty(&parsed.config) {
        Ok(s) => println!("{s}"),
        Err(e) => eprintln!("Unable to dump configuration: {e}"),
    }
}

/// The keepalived release whose behaviour keepalived-rs reproduces.
const KEEPALIVED_RELEASE: &str = "2.2.7";

/// keepalived's `version_string`, with our own name and version in the
/// place of keepalived's build date: tools that parse `keepalived -v`
/// (e.g. mehdy/keepalived-exporter takes the second word of the first line
/// without its `v`) read the release we reproduce and pick its signals.
fn version_string() -> String {
    format!("Keepalived v{KEEPALIVED_RELEASE} (keepalived-rs {})", env!("CARGO_PKG_VERSION"))
}

/// What this build has, in keepalived's `Config options:` words (SNMP and
/// DBus are not implemented).
const CONFIG_OPTIONS: &str =
    "NFTABLES LVS REGEX VRRP VRRP_AUTH VRRP_VMAC JSON BFD OLD_CHKSUM_COMPAT INIT=systemd SYSTEMD_NOTIFY";

/// The same, as the keepalived `configure` options that would give it.
const CONFIGURE_OPTIONS: &str =
    "--enable-json --enable-regex --enable-bfd --disable-snmp --disable-dbus --with-init=systemd";

/// keepalived's `System options:` that describe what keepalived-rs uses.
const SYSTEM_OPTIONS: &str =
    "MEMFD_CREATE IPV6_MULTICAST_ALL IPV4_DEVCONF RTA_ENCAP RTA_EXPIRES RTA_PREF FRA_L3MDEV IFA_FLAGS VRF";

/// keepalived `report_distro`: PRETTY_NAME from /etc/os-release.
fn distro() -> Option<String> {
    let text = std::fs::read_to_string("/etc/os-release").ok()?;
    let v = text.lines().find_map(|l| l.strip_prefix("PRETTY_NAME="))?;
    let v = v.strip_prefix('"').unwrap_or(v);
    Some(v.strip_suffix('"').unwrap_or(v).to_string())
}

/// `keepalived -v`: keepalived's lines in keepalived's order.
fn version_banner() -> String {
    let mut s = format!("{}\n\n", version_string());
    s.push_str("Copyright(C) 2001-2022 Alexandre Cassen, <acassen@gmail.com>\n");
    s.push_str(&format!(
        "keepalived-rs {}: a rewrite of keepalived {KEEPALIVED_RELEASE} in Rust, by the keepalived-rs authors\n\n",
        env!("CARGO_PKG_VERSION")
    ));
    s.push_str("Built with kernel headers for Linux none (keepalived-rs is built without kernel headers)\n");
    if let Ok(u) = nix::sys::utsname::uname() {
        s.push_str(&format!(
            "Running on {} {} {}\n",
            u.sysname().to_string_lossy(),
            u.release().to_string_lossy(),
            u.version().to_string_lossy()
        ));
    }
    if let Some(d) = distro() {
        s.push_str(&format!("Distro: {d}\n"));
    }
    s.push('\n');
    s.push_str(&format!("configure options: {CONFIGURE_OPTIONS}\n\n"));
    s.push_str(&format!("Config options:  {CONFIG_OPTIONS}\n\n"));
    s.push_str(&format!("System options:  {SYSTEM_OPTIONS}\n"));
    s
}

/// `--signum=NAME`: the signal keepalived uses for each function (Linux
/// numbering: SIGRTMIN is 34, SIGRTMAX 64 with glibc).
fn signum(name: &str) -> Option<i32> {
    const SIGRTMIN: i32 = 34;
    const SIGRTMAX: i32 = 64;
    Some(match name {
        "STOP" => 15,
        "RELOAD" => 1,
        "DATA" => 10,
        "STATS" => 12,
        "STATS_CLEAR" => SIGRTMAX - 1,
        "JSON" => SIGRTMIN + 2,
        _ => return None,
    })
}
