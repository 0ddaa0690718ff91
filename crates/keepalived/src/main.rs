//! keepalived-rs: the `keepalived` binary.
//!
//! This build provides keepalived's command line, `--signum`, and the
//! configuration test (`-t`), dump (`-d`) and version/help. The daemon
//! (parent supervisor and VRRP/checker/BFD children) is built on top of the
//! same configuration model.

#[allow(dead_code)] // options used by the daemon (process model) as it lands
mod cli;
#[allow(dead_code)]
mod files;
#[allow(dead_code)]
mod logging;
mod system;

use keepalived_config::{parse_file, ParseOptions, Parsed, Subsystems};
use std::io::Write;

const DEFAULT_CONFIG_FILE: &str = "/etc/keepalived/keepalived.conf";
const OLD_DEFAULT_CONFIG_FILE: &str = "/etc/keepalived.conf";

fn main() {
    let args: Vec<String> = std::env::args().collect();
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
        eprint!("{}", version_banner());
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

    // Not a config test: read the configuration as the parent would.
    let opts = ParseOptions {
        config_id,
        all_config: cli.all_config,
        active: Subsystems { vrrp: !cli.check_only, check: !cli.vrrp_only, bfd: !cli.no_bfd },
        config_test: false,
        validate: true,
        system: system::system_view(false),
    };
    let parsed = parse_file(&conf_file, &opts);
    report(&parsed, None, json);
    if cli.dump_conf {
        dump(&parsed);
    }
    eprintln!(
        "keepalived-rs: this build checks (-t) and dumps (-d) configurations; the daemon \
         (VRRP/checker/BFD processes) is not part of it yet"
    );
    1
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

fn version_banner() -> String {
    format!(
        "Keepalived v{} (keepalived-rs)\n\nCopyright(C) the keepalived-rs authors; keepalived is by Alexandre Cassen\n\n",
        env!("CARGO_PKG_VERSION")
    )
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
