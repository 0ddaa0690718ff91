//! keepalived's command line (keepalived/core/main.c `parse_cmdline`),
//! with clap: the same short and long options, the same optional-argument
//! rules (`-t[FILE]`, `--config-test[=FILE]`), and keepalived's messages and
//! exit status 1 for a bad command line.

use clap::{Arg, ArgAction, ArgMatches, Command};

/// The parsed command line.
#[derive(Debug, Default, Clone)]
pub struct Cli {
    pub use_file: Option<String>,
    pub vrrp_only: bool,
    pub check_only: bool,
    pub no_bfd: bool,
    pub all: bool,
    pub log_console: bool,
    pub log_detail: u8,
    pub log_facility: Option<String>,
    pub no_syslog: bool,
    pub umask: Option<String>,
    pub release_vips: bool,
    pub dont_release_vrrp: bool,
    pub dont_release_ipvs: bool,
    pub dont_respawn: bool,
    pub dont_fork: bool,
    pub dump_conf: bool,
    pub pid: Option<String>,
    pub vrrp_pid: Option<String>,
    pub checkers_pid: Option<String>,
    pub bfd_pid: Option<String>,
    pub address_monitoring: bool,
    pub snmp: bool,
    pub snmp_agent_socket: Option<String>,
    pub namespace: Option<String>,
    pub core_dump: bool,
    pub core_dump_pattern: Option<Option<String>>,
    pub all_config: bool,
    pub config_id: Option<String>,
    pub signum: Option<String>,
    /// `-t`: `Some(None)` logs to stderr, `Some(Some(FILE))` appends to FILE.
    pub config_test: Option<Option<String>>,
    pub config_fd: Option<String>,
    pub genhash: bool,
    pub version: bool,
    pub help: bool,
    /// Beyond keepalived: `--log-format=json`.
    pub log_format: Option<String>,
    /// Beyond keepalived: `--status` prints the running daemon's state
    /// (`--json`: the raw document).
    pub status: bool,
    pub json: bool,
    /// Beyond keepalived: the status socket's path and allowed group.
    pub status_socket: Option<String>,
    pub status_group: Option<String>,
    /// Beyond keepalived: serve Prometheus metrics here (`host:port`, `unix:/path`).
    pub metrics: Option<String>,
    /// Non-option words (keepalived prints and ignores them).
    pub unexpected: Vec<String>,
    /// The arguments as given (without the program name), for the
    /// `reload_check_config` test run.
    pub raw_args: Vec<String>,
}

impl Cli {
    /// keepalived re-runs itself with its original arguments plus
    /// `--config-test=LOG` to check a configuration before a reload; options
    /// that would change what a test does are left out.
    pub fn raw_args_for_config_test(&self) -> Vec<String> {
        let mut out = Vec::new();
        let mut skip_next = false;
        for a in &self.raw_args {
            if skip_next {
                skip_next = false;
                continue;
            }
            if a == "-t" || a.starts_with("--config-test") || a == "-d" || a == "--dump-conf" {
                continue;
            }
            if a == "--config-fd" {
                skip_next = true;
                continue;
            }
            if a.starts_with("--config-fd=") {
                continue;
            }
            out.push(a.clone());
        }
        out
    }
}

fn flag(name: &'static str, short: Option<char>, long: &'static str, help: &'static str) -> Arg {
    let mut a = Arg::new(name).long(long).action(ArgAction::Count).help(help);
    if let Some(s) = short {
        a = a.short(s);
    }
    a
}

fn value(name: &'static str, short: Option<char>, long: &'static str, help: &'static str) -> Arg {
    let mut a = Arg::new(name).long(long).num_args(1).allow_hyphen_values(true).action(ArgAction::Set).help(help);
    if let Some(s) = short {
        a = a.short(s);
    }
    a
}

/// An option whose argument is optional: only `-tFILE` / `--opt=FILE` give it.
fn optional(name: &'static str, short: Option<char>, long: &'static str, help: &'static str) -> Arg {
    let mut a = Arg::new(name)
        .long(long)
        .num_args(0..=1)
        .require_equals(true)
        .default_missing_value("")
        .action(ArgAction::Set)
        .help(help);
    if let Some(s) = short {
        a = a.short(s);
    }
    a
}

pub fn command() -> Command {
    Command::new("keepalived").disable_help_flag(true).disable_version_flag(true).args_override_self(true).args([
        value("use-file", Some('f'), "use-file", "Use the specified configuration file"),
        flag("vrrp", Some('P'), "vrrp", "Only run with VRRP subsystem"),
        flag("check", Some('C'), "check", "Only run with Health-checker subsystem"),
        flag("no_bfd", Some('B'), "no_bfd", "Don't run BFD subsystem"),
        flag("all", None, "all", "Force all child processes to run, even if have no configuration"),
        flag("log-console", Some('l'), "log-console", "Log messages to local console"),
        flag("log-detail", Some('D'), "log-detail", "Detailed log messages"),
        value(
            "log-facility",
            Some('S'),
            "log-facility",
            "Set syslog facility to LOG_LOCAL[0-7], user or daemon (default)",
        ),
        flag("no-syslog", Some('G'), "no-syslog", "Don't log via syslog"),
        value("umask", Some('u'), "umask", "umask for file creation (in numeric form)"),
        flag("release-vips", Some('X'), "release-vips", "Drop VIP on transition from signal."),
        flag("dont-release-vrrp", Some('V'), "dont-release-vrrp", "Don't remove VRRP VIPs and VROUTEs on daemon stop"),
        flag("dont-release-ipvs", Some('I'), "dont-release-ipvs", "Don't remove IPVS topology on daemon stop"),
        flag("dont-respawn", Some('R'), "dont-respawn", "Don't respawn child processes"),
        flag("dont-fork", Some('n'), "dont-fork", "Don't fork the daemon process"),
        flag("dump-conf", Some('d'), "dump-conf", "Dump the configuration data"),
        value("pid", Some('p'), "pid", "Use specified pidfile for parent process"),
        value("vrrp_pid", Some('r'), "vrrp_pid", "Use specified pidfile for VRRP child process"),
        flag(
            "genhash",
            Some('T'),
            "genhash",
            "Enter into genhash utility mode (this should be the first option used).",
        ),
        value("checkers_pid", Some('c'), "checkers_pid", "Use specified pidfile for checkers child process"),
        flag(
            "address-monitoring",
            Some('a'),
            "address-monitoring",
            "Report all address additions/deletions notified via netlink",
        ),
        value("bfd_pid", Some('b'), "bfd_pid", "Use specified pidfile for BFD child process"),
        flag("snmp", Some('x'), "snmp", "Enable SNMP subsystem"),
        value("snmp-agent-socket", Some('A'), "snmp-agent-socket", "Use the specified socket for master agent"),
        value("namespace", Some('s'), "namespace", "Run in network namespace NAME (overrides config)"),
        flag("core-dump", Some('m'), "core-dump", "Produce core dump if terminate abnormally"),
        optional(
            "core-dump-pattern",
            Some('M'),
            "core-dump-pattern",
            "Also set /proc/sys/kernel/core_pattern to PATN (default 'core')",
        ),
        flag("all-config", Some('e'), "all-config", "Error if any configuration file missing (same as includet)"),
        value("config-id", Some('i'), "config-id", "Skip any configuration lines beginning '@' that don't match id"),
        value("signum", None, "signum", "Return signal number for STOP, RELOAD, DATA, STATS, STATS_CLEAR, JSON"),
        optional(
            "config-test",
            Some('t'),
            "config-test",
            "Check the configuration for obvious errors, output to stderr by default",
        ),
        value("config-fd", None, "config-fd", "internal"),
        value("log-format", None, "log-format", "Log format: text (default) or json (keepalived-rs)"),
        flag("status", None, "status", "Print the running daemon's state (keepalived-rs)"),
        flag("json", None, "json", "With --status: print the JSON document"),
        value("status-socket", None, "status-socket", "The status socket's path (keepalived-rs)"),
        value("status-group", None, "status-group", "The group allowed to read the status (keepalived-rs)"),
        value("metrics", None, "metrics", "Serve Prometheus metrics on host:port or unix:/path (keepalived-rs)"),
        flag("version", Some('v'), "version", "Display the version number"),
        flag("help", Some('h'), "help", "Display this help message"),
        Arg::new("unexpected").num_args(0..).action(ArgAction::Append).trailing_var_arg(false),
    ])
}

fn s(m: &ArgMatches, id: &str) -> Option<String> {
    m.get_one::<String>(id).cloned()
}

fn c(m: &ArgMatches, id: &str) -> u8 {
    m.get_count(id)
}

/// Parse the command line. On error returns keepalived's message.
pub fn parse(args: &[String]) -> Result<Cli, String> {
    // getopt treats an empty `--opt=` as a missing argument.
    for a in args.iter().skip(1) {
        if let Some(rest) = a.strip_prefix("--") {
            if let Some(name) = rest.strip_suffix('=') {
                if !name.contains('=') {
                    return Err(format!("Missing parameter for option --{name}"));
                }
            }
        }
    }
    let m = match command().try_get_matches_from(args) {
        Ok(m) => m,
        Err(e) => return Err(clap_error_to_keepalived(&e, args)),
    };
    let opt_val = |id: &str| -> Option<Option<String>> {
        m.value_source(id)?;
        match s(&m, id) {
            Some(v) if !v.is_empty() => Some(Some(v)),
            _ => Some(None),
        }
    };
    Ok(Cli {
        use_file: s(&m, "use-file"),
        vrrp_only: c(&m, "vrrp") > 0,
        check_only: c(&m, "check") > 0,
        no_bfd: c(&m, "no_bfd") > 0,
        all: c(&m, "all") > 0,
        log_console: c(&m, "log-console") > 0,
        log_detail: c(&m, "log-detail"),
        log_facility: s(&m, "log-facility"),
        no_syslog: c(&m, "no-syslog") > 0,
        umask: s(&m, "umask"),
        release_vips: c(&m, "release-vips") > 0,
        dont_release_vrrp: c(&m, "dont-release-vrrp") > 0,
        dont_release_ipvs: c(&m, "dont-release-ipvs") > 0,
        dont_respawn: c(&m, "dont-respawn") > 0,
        dont_fork: c(&m, "dont-fork") > 0,
        dump_conf: c(&m, "dump-conf") > 0,
        pid: s(&m, "pid"),
        vrrp_pid: s(&m, "vrrp_pid"),
        checkers_pid: s(&m, "checkers_pid"),
        bfd_pid: s(&m, "bfd_pid"),
        address_monitoring: c(&m, "address-monitoring") > 0,
        snmp: c(&m, "snmp") > 0,
        snmp_agent_socket: s(&m, "snmp-agent-socket"),
        namespace: s(&m, "namespace"),
        core_dump: c(&m, "core-dump") > 0,
        core_dump_pattern: opt_val("core-dump-pattern"),
        all_config: c(&m, "all-config") > 0,
        config_id: s(&m, "config-id"),
        signum: s(&m, "signum"),
        config_test: opt_val("config-test"),
        config_fd: s(&m, "config-fd"),
        genhash: c(&m, "genhash") > 0,
        version: c(&m, "version") > 0,
        help: c(&m, "help") > 0,
        log_format: s(&m, "log-format"),
        status: c(&m, "status") > 0,
        json: c(&m, "json") > 0,
        status_socket: s(&m, "status-socket"),
        status_group: s(&m, "status-group"),
        metrics: s(&m, "metrics"),
        unexpected: m.get_many::<String>("unexpected").map(|v| v.cloned().collect()).unwrap_or_default(),
        raw_args: args.iter().skip(1).cloned().collect(),
    })
}

/// Map clap's error to keepalived's getopt-style message.
fn clap_error_to_keepalived(e: &clap::Error, args: &[String]) -> String {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    let invalid = e.get(ContextKind::InvalidArg).and_then(|v| match v {
        ContextValue::String(s) => Some(s.clone()),
        _ => None,
    });
    match e.kind() {
        ErrorKind::UnknownArgument => {
            let arg = invalid.unwrap_or_default();
            let arg = arg.split('=').next().unwrap_or("").to_string();
            format!("Unknown option {arg}")
        }
        ErrorKind::InvalidValue | ErrorKind::NoEquals | ErrorKind::WrongNumberOfValues | ErrorKind::TooFewValues => {
            let arg = invalid.unwrap_or_default();
            let name = arg.split_whitespace().next().unwrap_or("").to_string();
            let name = name.split('=').next().unwrap_or("").to_string();
            // clap names the option as "--use-file <use-file>"; keepalived
            // names it as typed.
            let typed = args
                .iter()
                .skip(1)
                .find(|a| a.starts_with('-') && (name.contains(a.as_str()) || a.starts_with(&name)))
                .cloned()
                .unwrap_or(name);
            format!("Missing parameter for option {typed}")
        }
        _ => {
            let msg = e.to_string();
            msg.lines().next().unwrap_or("invalid command line").trim_start_matches("error: ").to_string()
        }
    }
}

/// keepalived's usage text (printed to stderr by `-h`).
pub fn usage() -> String {
    let lines = [
        "Usage: keepalived [OPTION...]",
        "  -f, --use-file=FILE          Use the specified configuration file",
        "                                default '/etc/keepalived/keepalived.conf'",
        "  -P, --vrrp                   Only run with VRRP subsystem",
        "  -C, --check                  Only run with Health-checker subsystem",
        "  -B, --no_bfd                 Don't run BFD subsystem",
        "      --all                    Force all child processes to run, even if have no configuration",
        "  -l, --log-console            Log messages to local console",
        "  -D, --log-detail             Detailed log messages",
        "  -S, --log-facility=([0-7]|local[0-7]|user|daemon)",
        "                               Set syslog facility to LOG_LOCAL[0-7], user or daemon (default)",
        "  -G, --no-syslog              Don't log via syslog",
        "  -u, --umask=MASK             umask for file creation (in numeric form)",
        "  -X, --release-vips           Drop VIP on transition from signal.",
        "  -V, --dont-release-vrrp      Don't remove VRRP VIPs and VROUTEs on daemon stop",
        "  -I, --dont-release-ipvs      Don't remove IPVS topology on daemon stop",
        "  -R, --dont-respawn           Don't respawn child processes",
        "  -n, --dont-fork              Don't fork the daemon process",
        "  -d, --dump-conf              Dump the configuration data",
        "  -p, --pid=FILE               Use specified pidfile for parent process",
        "  -r, --vrrp_pid=FILE          Use specified pidfile for VRRP child process",
        "  -T, --genhash                Enter into genhash utility mode (this should be the first option used).",
        "  -c, --checkers_pid=FILE      Use specified pidfile for checkers child process",
        "  -a, --address-monitoring     Report all address additions/deletions notified via netlink",
        "  -b, --bfd_pid=FILE           Use specified pidfile for BFD child process",
        "  -x, --snmp                   Enable SNMP subsystem",
        "  -A, --snmp-agent-socket=FILE Use the specified socket for master agent",
        "  -s, --namespace=NAME         Run in network namespace NAME (overrides config)",
        "  -m, --core-dump              Produce core dump if terminate abnormally",
        "  -M, --core-dump-pattern=PATN Also set /proc/sys/kernel/core_pattern to PATN (default 'core')",
        "  -e, --all-config             Error if any configuration file missing (same as includet)",
        "  -i, --config-id id           Skip any configuration lines beginning '@' that don't match id",
        "                                or any lines beginning @^ that do match.",
        "                                The config-id defaults to the node name if option not used",
        "      --signum=SIGFUNC         Return signal number for STOP, RELOAD, DATA, STATS, STATS_CLEAR, JSON",
        "  -t, --config-test[=LOG_FILE] Check the configuration for obvious errors, output to",
        "                                stderr by default",
        "      --log-format=FORMAT      Log format: text (default) or json (keepalived-rs)",
        "      --status [--json]        Print the running daemon's state (keepalived-rs)",
        "      --status-socket=PATH     The status socket (keepalived-rs)",
        "      --status-group=GROUP     The group allowed to read the status (keepalived-rs)",
        "      --metrics=ADDR           Serve Prometheus metrics on host:port or unix:/path (keepalived-rs)",
        "  -v, --version                Display the version number",
        "  -h, --help                   Display this help message",
    ];
    let mut s = lines.join("\n");
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(v: &[&str]) -> Result<Cli, String> {
        let mut a = vec!["keepalived".to_string()];
        a.extend(v.iter().map(|s| s.to_string()));
        parse(&a)
    }

    #[test]
    fn config_test_optional_argument() {
        assert_eq!(p(&["-t"]).unwrap().config_test, Some(None));
        assert_eq!(p(&["--config-test"]).unwrap().config_test, Some(None));
        assert_eq!(p(&["--config-test=/tmp/x"]).unwrap().config_test, Some(Some("/tmp/x".into())));
        let c = p(&["-t", "-f", "a.conf"]).unwrap();
        assert_eq!(c.config_test, Some(None));
        assert_eq!(c.use_file.as_deref(), Some("a.conf"));
    }

    #[test]
    fn values_and_flags() {
        let c = p(&["-f", "x.conf", "-i", "node1", "-e", "-d", "-PDD", "--use-file=y.conf"]).unwrap();
        assert_eq!(c.use_file.as_deref(), Some("y.conf"));
        assert_eq!(c.config_id.as_deref(), Some("node1"));
        assert!(c.all_config && c.dump_conf && c.vrrp_only);
        assert_eq!(c.log_detail, 2);
        assert_eq!(p(&["-ffile.conf"]).unwrap().use_file.as_deref(), Some("file.conf"));
    }

    #[test]
    fn errors_like_getopt() {
        assert_eq!(p(&["-Z"]).unwrap_err(), "Unknown option -Z");
        assert_eq!(p(&["--bogus"]).unwrap_err(), "Unknown option --bogus");
        assert_eq!(p(&["-f"]).unwrap_err(), "Missing parameter for option -f");
        assert_eq!(p(&["--use-file="]).unwrap_err(), "Missing parameter for option --use-file");
    }
}
