//! Logging with tracing, as keepalived logs.
//!
//! Every part of keepalived-rs logs through `tracing` (`tracing::info!`,
//! `warn!`, `error!`, `debug!` with structured fields). [`init`] installs the
//! one global subscriber; it feeds two sinks:
//!
//! * **syslog** (unless `-G`): RFC 3164 datagrams written by us to `/dev/log`
//!   over a `UnixDatagram`, shaped as glibc's `syslog(3)` with `LOG_PID`
//!   shapes them: `<PRI>Mmm dd HH:MM:SS IDENT[PID]: message` (local time,
//!   day of month padded with a space, no trailing newline). `PRI` is
//!   `facility | severity` with error → `LOG_ERR`, warn → `LOG_WARNING`,
//!   info → `LOG_INFO`, debug and trace → `LOG_DEBUG`; an event with the
//!   field `alert = true` is sent as `LOG_ALERT` (keepalived's "child
//!   process(PID) died" lines). The PID is `getpid()` at write time, so a
//!   forked child logs its own pid. The socket is non-blocking: with no
//!   syslog daemon, or a full queue, a line is dropped and counted
//!   ([`syslog_dropped`]); a vanished `/dev/log` is reconnected on the next
//!   line. Nothing here blocks, panics or rate-limits.
//! * **console** (stderr) only with `-l` *and* `-n`, as keepalived's
//!   `vlog_message()` (lib/logger.c) writes to stderr only when both
//!   `LOG_CONSOLE` and `DONT_FORK` are set: `Tue Nov 24 20:15:38 2026: message`
//!   (`strftime("%c")` in the C locale, local time).
//!
//! Levels: info and above; `-D` adds debug, `-DD` adds trace.
//!
//! Idents are keepalived's: `Keepalived` (parent), `Keepalived_vrrp`,
//! `Keepalived_healthcheckers`, `Keepalived_bfd`; when `net_namespace` and/or
//! `instance` is set (keepalived's `make_syslog_ident()`), each gets
//! `_<net_namespace>` then `_<instance>` appended, e.g.
//! `Keepalived_vrrp_blue_inst1` (see [`ident_suffix`], [`set_ident_suffix`]).
//! A child calls [`set_process`] right after `fork()`.
//!
//! Facility (`-S`), parsed as keepalived's `parse_cmdline()` does: a number
//! 0-7 or `local0`..`local7` (`local` alone is `local0`, since keepalived's
//! number reader accepts an empty string as 0) selects `LOG_LOCAL0-7`;
//! `user` and `daemon` name `LOG_USER` and `LOG_DAEMON` (the default). Any
//! other value prints `Invalid log facility 'VALUE'` on stderr and keeps the
//! default; keepalived does not exit for it, and neither do we.
//!
//! Structured fields: in text form they follow the message as ` key=value`
//! (strings in `Debug` form only when they contain a space or quote).
//!
//! `--log-format=json` (keepalived-rs extension): each console line is one
//! JSON object, `{"timestamp":"2026-11-24T20:15:38.123456Z","level":"INFO",
//! "ident":"Keepalived_vrrp","pid":1234,"message":"...","fields":{...}}`
//! (timestamp RFC 3339 in UTC; `fields` only when the event has any, and
//! `"alert":true` on LOG_ALERT lines). Syslog
//! then carries the same object as its message text after `IDENT[PID]: `,
//! so a syslog daemon keeps its own header (PRI, time, ident, pid) and
//! log shippers can parse the body as JSON. `--log-format=text` is the
//! default; any other value is an error.
//!
//! Testing hook: the environment variable `KEEPALIVED_RS_SYSLOG_SOCKET`, read
//! by [`init`], replaces `/dev/log` with another datagram socket path.

use crate::cli::Cli;
use jiff::civil::DateTime;
use jiff::tz::TimeZone;
use jiff::Timestamp;
use keepalived_runtime::ProcKind;
use std::fmt::Write as _;
use std::io::Write as _;
use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::SystemTime;
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::layer::{Context, Layer};
use tracing_subscriber::prelude::*;

/// syslog facilities (`<syslog.h>`).
pub const LOG_USER: i32 = 1 << 3;
pub const LOG_DAEMON: i32 = 3 << 3;
pub const LOG_LOCAL0: i32 = 16 << 3;

/// syslog severities (`<syslog.h>`).
pub const LOG_ALERT: i32 = 1;
pub const LOG_ERR: i32 = 3;
pub const LOG_WARNING: i32 = 4;
pub const LOG_INFO: i32 = 6;
pub const LOG_DEBUG: i32 = 7;

/// The default syslog socket.
pub const DEFAULT_SYSLOG_SOCKET: &str = "/dev/log";
/// Environment variable naming another syslog socket (tests).
pub const SYSLOG_SOCKET_ENV: &str = "KEEPALIVED_RS_SYSLOG_SOCKET";

/// keepalived's idents (PACKAGE_NAME, PROG_VRRP, PROG_CHECK, PROG_BFD).
pub const IDENT_PARENT: &str = "Keepalived";
pub const IDENT_VRRP: &str = "Keepalived_vrrp";
pub const IDENT_CHECKER: &str = "Keepalived_healthcheckers";
pub const IDENT_BFD: &str = "Keepalived_bfd";

/// Longest message text sent to syslog (longer ones are cut).
const MAX_SYSLOG_MSG: usize = 8000;

/// How the process logs, from the command line.
#[derive(Clone, Debug)]
pub struct LogConfig {
    /// Log to stderr (`-l` together with `-n`).
    pub console: bool,
    /// Log to syslog (not `-G`).
    pub syslog: bool,
    /// syslog facility (LOG_DAEMON by default).
    pub facility: i32,
    /// Number of `-D`.
    pub detail: u8,
    /// `--log-format=json`.
    pub json: bool,
}

impl LogConfig {
    /// From `-l -n -G -S -D --log-format`. An invalid `-S` prints keepalived's
    /// `Invalid log facility 'X'` on stderr and keeps LOG_DAEMON (keepalived
    /// carries on too); an unknown `--log-format` is an error.
    pub fn from_cli(cli: &Cli) -> Result<LogConfig, String> {
        let mut facility = LOG_DAEMON;
        if let Some(s) = &cli.log_facility {
            match parse_facility(s) {
                Ok(f) => facility = f,
                Err(msg) => eprintln!("{msg}"),
            }
        }
        let json = match cli.log_format.as_deref() {
            None | Some("text") => false,
            Some("json") => true,
            Some(other) => return Err(format!("Invalid log format '{other}' (expected text or json)")),
        };
        Ok(LogConfig {
            console: cli.log_console && cli.dont_fork,
            syslog: !cli.no_syslog,
            facility,
            detail: cli.log_detail,
            json,
        })
    }

    /// The most verbose level logged.
    pub fn max_level(&self) -> LevelFilter {
        match self.detail {
            0 => LevelFilter::INFO,
            1 => LevelFilter::DEBUG,
            _ => LevelFilter::TRACE,
        }
    }
}

/// keepalived's `read_unsigned(str, 0, 7)`: optional leading white space,
/// optional `+`, decimal digits only; the empty string reads as 0.
fn read_facility_number(s: &str) -> Option<u32> {
    let t = s.trim_start_matches([' ', '\t', '\n', '\r', '\x0b', '\x0c']);
    let digits = t.strip_prefix('+').unwrap_or(t);
    if t.starts_with('-') || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if digits.is_empty() {
        // strtoul() consumed nothing, *endptr is NUL: keepalived takes 0.
        return Some(0);
    }
    let v: u64 = digits.parse().ok()?;
    (v <= 7).then_some(v as u32)
}

/// `-S` as keepalived's `parse_cmdline()`; the error is its message.
pub fn parse_facility(s: &str) -> Result<i32, String> {
    let n = read_facility_number(s).or_else(|| s.strip_prefix("local").and_then(read_facility_number));
    if let Some(n) = n {
        return Ok(LOG_LOCAL0 + ((n as i32) << 3));
    }
    match s {
        "daemon" => Ok(LOG_DAEMON),
        "user" => Ok(LOG_USER),
        _ => Err(format!("Invalid log facility '{s}'")),
    }
}

/// syslog severity for a tracing level (`alert` = LOG_ALERT requested).
pub fn severity(level: Level, alert: bool) -> i32 {
    if alert {
        LOG_ALERT
    } else if level == Level::ERROR {
        LOG_ERR
    } else if level == Level::WARN {
        LOG_WARNING
    } else if level == Level::INFO {
        LOG_INFO
    } else {
        LOG_DEBUG
    }
}

// ---------------------------------------------------------------- idents

struct IdentState {
    process: Option<ProcKind>,
    suffix: String,
}

static IDENT: Mutex<IdentState> = Mutex::new(IdentState { process: None, suffix: String::new() });

fn ident_state() -> std::sync::MutexGuard<'static, IdentState> {
    IDENT.lock().unwrap_or_else(|e| e.into_inner())
}

/// The base ident of a process (`None` = parent).
pub fn base_ident(kind: Option<ProcKind>) -> &'static str {
    match kind {
        None => IDENT_PARENT,
        Some(ProcKind::Vrrp) => IDENT_VRRP,
        Some(ProcKind::Checker) => IDENT_CHECKER,
        Some(ProcKind::Bfd) => IDENT_BFD,
    }
}

/// keepalived's `make_syslog_ident()` suffix: `_NETNS` then `_INSTANCE`,
/// each only when set (empty when neither is).
pub fn ident_suffix(net_namespace: Option<&str>, instance: Option<&str>) -> String {
    let mut s = String::new();
    for part in [net_namespace, instance].into_iter().flatten() {
        s.push('_');
        s.push_str(part);
    }
    s
}

/// Which process is logging (changes the syslog ident); `None` = parent.
pub fn set_process(kind: Option<ProcKind>) {
    ident_state().process = kind;
}

/// `_NETNS` / `_INSTANCE` suffix for the idents (see [`ident_suffix`]).
pub fn set_ident_suffix(suffix: &str) {
    ident_state().suffix = suffix.to_string();
}

/// The current ident, e.g. `Keepalived_vrrp_blue`.
pub fn ident() -> String {
    let st = ident_state();
    format!("{}{}", base_ident(st.process), st.suffix)
}

// ---------------------------------------------------------------- syslog

static SYSLOG_DROPPED: AtomicU64 = AtomicU64::new(0);

/// Lines that could not be sent to syslog since start (in this process and,
/// for lines dropped before a fork, its parent).
#[cfg(test)]
pub fn syslog_dropped() -> u64 {
    SYSLOG_DROPPED.load(Ordering::Relaxed)
}

/// The syslog socket path: `$KEEPALIVED_RS_SYSLOG_SOCKET` if set and not
/// empty, else `/dev/log`.
pub fn syslog_socket_path(env: Option<std::ffi::OsString>) -> PathBuf {
    match env {
        Some(p) if !p.is_empty() => PathBuf::from(p),
        _ => PathBuf::from(DEFAULT_SYSLOG_SOCKET),
    }
}

/// A non-blocking connection to the syslog socket, reopened on demand.
struct SyslogSink {
    path: PathBuf,
    sock: Option<UnixDatagram>,
}

impl SyslogSink {
    fn new(path: PathBuf) -> SyslogSink {
        SyslogSink { path, sock: None }
    }

    fn connect(path: &Path) -> Option<UnixDatagram> {
        let s = UnixDatagram::unbound().ok()?;
        s.connect(path).ok()?;
        s.set_nonblocking(true).ok()?;
        Some(s)
    }

    /// Send one datagram; on failure reconnect once (the syslog daemon may
    /// have restarted and recreated the socket), else drop and count.
    fn send(&mut self, line: &[u8]) {
        for attempt in 0..2 {
            if self.sock.is_none() {
                self.sock = Self::connect(&self.path);
            }
            let Some(sock) = &self.sock else { break };
            match sock.send(line) {
                Ok(_) => return,
                Err(e) => {
                    use std::io::ErrorKind;
                    // A full queue: the daemon is alive but slow; don't spin.
                    if e.kind() == ErrorKind::WouldBlock || attempt == 1 {
                        break;
                    }
                    self.sock = None;
                }
            }
        }
        SYSLOG_DROPPED.fetch_add(1, Ordering::Relaxed);
    }
}

/// One RFC 3164 line as glibc's `syslog()` with `LOG_PID` writes it.
pub fn format_syslog(pri: i32, tm: &DateTime, ident: &str, pid: u32, msg: &str) -> String {
    let mut msg = msg;
    if msg.len() > MAX_SYSLOG_MSG {
        let mut end = MAX_SYSLOG_MSG;
        while !msg.is_char_boundary(end) {
            end -= 1;
        }
        msg = &msg[..end];
    }
    format!("<{pri}>{} {ident}[{pid}]: {msg}", tm.strftime("%b %e %H:%M:%S"))
}

/// keepalived's console line: `strftime("%c")` in the C locale (which is
/// `%a %b %e %H:%M:%S %Y`; jiff's own `%c` is another layout), `: `, text.
pub fn format_console(tm: &DateTime, msg: &str) -> String {
    format!("{}: {msg}", tm.strftime("%a %b %e %H:%M:%S %Y"))
}

// ---------------------------------------------------------------- events

/// An event's message and structured fields.
#[derive(Default, Debug)]
struct Fields {
    message: String,
    fields: Vec<(&'static str, serde_json::Value)>,
    alert: bool,
}

impl Visit for Fields {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            let _ = write!(self.message, "{value:?}");
        } else {
            self.fields.push((field.name(), serde_json::Value::String(format!("{value:?}"))));
        }
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.message.push_str(value);
        } else {
            self.fields.push((field.name(), value.into()));
        }
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        if field.name() == "alert" {
            self.alert = value;
        } else {
            self.fields.push((field.name(), value.into()));
        }
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.fields.push((field.name(), value.into()));
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.fields.push((field.name(), value.into()));
    }
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.fields.push((field.name(), value.into()));
    }
}

impl Fields {
    /// Message followed by ` key=value` for each field.
    fn text(&self) -> String {
        let mut s = self.message.clone();
        for (k, v) in &self.fields {
            if !s.is_empty() {
                s.push(' ');
            }
            match v {
                serde_json::Value::String(t) if !t.is_empty() && !t.contains([' ', '"', '=']) => {
                    let _ = write!(s, "{k}={t}");
                }
                serde_json::Value::String(t) => {
                    let _ = write!(s, "{k}={t:?}");
                }
                other => {
                    let _ = write!(s, "{k}={other}");
                }
            }
        }
        s
    }

    fn json(&self, now: SystemTime, level: Level, ident: &str, pid: u32) -> String {
        let mut obj = serde_json::Map::new();
        obj.insert("timestamp".into(), rfc3339_utc(now).into());
        obj.insert("level".into(), level.as_str().into());
        obj.insert("ident".into(), ident.into());
        obj.insert("pid".into(), pid.into());
        obj.insert("message".into(), self.message.clone().into());
        if self.alert {
            obj.insert("alert".into(), true.into());
        }
        if !self.fields.is_empty() {
            let f: serde_json::Map<String, serde_json::Value> =
                self.fields.iter().map(|(k, v)| (k.to_string(), v.clone())).collect();
            obj.insert("fields".into(), f.into());
        }
        serde_json::Value::Object(obj).to_string()
    }
}

type ConsoleWriter = Box<dyn std::io::Write + Send>;

/// The layer that writes keepalived's log lines.
pub struct KeepalivedLayer {
    cfg: LogConfig,
    syslog: Option<Mutex<SyslogSink>>,
    console: Option<Mutex<ConsoleWriter>>,
}

impl KeepalivedLayer {
    fn new(cfg: &LogConfig, syslog_path: PathBuf, console: ConsoleWriter) -> KeepalivedLayer {
        KeepalivedLayer {
            cfg: cfg.clone(),
            syslog: cfg.syslog.then(|| Mutex::new(SyslogSink::new(syslog_path))),
            console: cfg.console.then(|| Mutex::new(console)),
        }
    }
}

impl<S: Subscriber> Layer<S> for KeepalivedLayer {
    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        let mut f = Fields::default();
        event.record(&mut f);
        let level = *event.metadata().level();
        let now = SystemTime::now();
        let pid = std::process::id();
        let ident = ident();
        let json = self.cfg.json.then(|| f.json(now, level, &ident, pid));
        let tm = local_time(now);
        if let Some(console) = &self.console {
            let line = match &json {
                Some(j) => format!("{j}\n"),
                None => format!("{}\n", format_console(&tm, &f.text())),
            };
            let mut w = console.lock().unwrap_or_else(|e| e.into_inner());
            let _ = w.write_all(line.as_bytes());
            let _ = w.flush();
        }
        if let Some(sink) = &self.syslog {
            let pri = self.cfg.facility | severity(level, f.alert);
            let text = match json {
                Some(j) => j,
                None => f.text(),
            };
            let line = format_syslog(pri, &tm, &ident, pid, &text);
            sink.lock().unwrap_or_else(|e| e.into_inner()).send(line.as_bytes());
        }
    }
}

/// Install the global subscriber (once, in the parent before forking).
/// A second call does nothing.
pub fn init(cfg: &LogConfig) {
    let path = syslog_socket_path(std::env::var_os(SYSLOG_SOCKET_ENV));
    let layer = KeepalivedLayer::new(cfg, path, Box::new(std::io::stderr()));
    let _ = tracing_subscriber::registry().with(layer.with_filter(cfg.max_level())).try_init();
}

/// A subscriber like [`init`]'s for tests, with the console into `out`.
#[cfg(test)]
fn test_subscriber(
    cfg: &LogConfig,
    syslog_path: PathBuf,
    out: std::sync::Arc<Mutex<Vec<u8>>>,
) -> impl Subscriber + Send + Sync {
    struct Shared(std::sync::Arc<Mutex<Vec<u8>>>);
    impl std::io::Write for Shared {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let layer = KeepalivedLayer::new(cfg, syslog_path, Box::new(Shared(out)));
    tracing_subscriber::registry().with(layer.with_filter(cfg.max_level()))
}

// ---------------------------------------------------------------- time

/// `2026-11-24T20:15:38.123456Z`.
pub fn rfc3339_utc(t: SystemTime) -> String {
    timestamp(t).strftime("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

/// `t` as a jiff timestamp (the epoch if the clock is out of jiff's range,
/// which a real clock never is).
fn timestamp(t: SystemTime) -> Timestamp {
    Timestamp::try_from(t).unwrap_or(Timestamp::UNIX_EPOCH)
}

/// `t` in the local time zone, as glibc's `localtime_r()` sees it.
pub fn local_time(t: SystemTime) -> DateTime {
    static ZONE: OnceLock<TimeZone> = OnceLock::new();
    ZONE.get_or_init(local_zone).to_datetime(timestamp(t))
}

/// The local time zone, read once: `$TZ`, else `/etc/localtime`.
///
/// jiff reads `TZ` as glibc does: empty is UTC; a POSIX rule string
/// (`EST5EDT,M3.2.0,M11.1.0`, `<+0530>-5:30`, `UTC0`) is used as is; a name
/// (`Europe/Paris`, `:Europe/Paris`) or a path is a TZif file under
/// `/usr/share/zoneinfo`; anything unusable is UTC. The one form jiff
/// rejects is a POSIX string naming a DST zone without rules (`XXX5YYY` that
/// is no zoneinfo file): POSIX leaves its rules to the implementation and
/// glibc applies the US ones, so [`us_default_rules`] does the same (as
/// keepalived-rs did before jiff; glibc reads them from zoneinfo's
/// `posixrules` and so ends DST an hour earlier, in the early hours of the
/// first Sunday of November).
fn local_zone() -> TimeZone {
    TimeZone::try_system()
        .unwrap_or_else(|_| std::env::var("TZ").ok().and_then(|tz| us_default_rules(&tz)).unwrap_or(TimeZone::UTC))
}

/// A rule-less DST `TZ` such as `FOO5BAR` or `FOO5BAR4`: the given offsets
/// with the US rules `M3.2.0,M11.1.0`, glibc's built-in default (tzset.c,
/// `parse_rule`, when zoneinfo has no `posixrules`). `None` for anything
/// else.
fn us_default_rules(tz: &str) -> Option<TimeZone> {
    let tz = tz.strip_prefix(':').unwrap_or(tz);
    if tz.is_empty() || tz.contains(',') {
        return None;
    }
    TimeZone::posix(&format!("{tz},M3.2.0,M11.1.0")).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::time::{Duration, UNIX_EPOCH};

    fn cfg(console: bool, syslog: bool, json: bool) -> LogConfig {
        LogConfig { console, syslog, facility: LOG_DAEMON, detail: 0, json }
    }

    #[test]
    fn facility_parsing_like_keepalived() {
        assert_eq!(parse_facility("0"), Ok(LOG_LOCAL0));
        assert_eq!(parse_facility("7"), Ok(23 << 3));
        assert_eq!(parse_facility("local3"), Ok(19 << 3));
        assert_eq!(parse_facility("local"), Ok(LOG_LOCAL0));
        assert_eq!(parse_facility(""), Ok(LOG_LOCAL0));
        assert_eq!(parse_facility(" 5"), Ok(21 << 3));
        assert_eq!(parse_facility("+2"), Ok(18 << 3));
        assert_eq!(parse_facility("daemon"), Ok(LOG_DAEMON));
        assert_eq!(parse_facility("user"), Ok(LOG_USER));
        for bad in ["8", "local8", "bogus", "-1", "3 ", "Daemon", "0x1", "local-1", "99999999999999999999"] {
            assert_eq!(parse_facility(bad), Err(format!("Invalid log facility '{bad}'")), "{bad}");
        }
    }

    #[test]
    fn from_cli_rules() {
        let mut cli = Cli { log_console: true, ..Cli::default() };
        let c = LogConfig::from_cli(&cli).unwrap();
        assert!(!c.console, "-l without -n does not log to the console");
        assert!(c.syslog);
        assert_eq!(c.facility, LOG_DAEMON);
        cli.dont_fork = true;
        cli.no_syslog = true;
        cli.log_facility = Some("local7".into());
        cli.log_detail = 1;
        let c = LogConfig::from_cli(&cli).unwrap();
        assert!(c.console && !c.syslog && !c.json);
        assert_eq!(c.facility, 23 << 3);
        assert_eq!(c.max_level(), LevelFilter::DEBUG);
        cli.log_facility = Some("nope".into());
        assert_eq!(LogConfig::from_cli(&cli).unwrap().facility, LOG_DAEMON);
        cli.log_format = Some("json".into());
        assert!(LogConfig::from_cli(&cli).unwrap().json);
        cli.log_format = Some("xml".into());
        assert!(LogConfig::from_cli(&cli).is_err());
    }

    #[test]
    fn pri_and_line_format() {
        assert_eq!(LOG_DAEMON | severity(Level::ERROR, false), 27);
        assert_eq!(LOG_DAEMON | severity(Level::WARN, false), 28);
        assert_eq!(LOG_DAEMON | severity(Level::INFO, false), 30);
        assert_eq!(LOG_DAEMON | severity(Level::DEBUG, false), 31);
        assert_eq!(LOG_DAEMON | severity(Level::TRACE, false), 31);
        assert_eq!(LOG_DAEMON | severity(Level::INFO, true), 25);
        assert_eq!((19 << 3) | severity(Level::INFO, false), 158);
        // 2026-11-24 20:15:38 UTC is a Tuesday.
        let tm = utc(1_795_551_338);
        assert_eq!(
            format_syslog(30, &tm, "Keepalived_vrrp", 42, "hello"),
            "<30>Nov 24 20:15:38 Keepalived_vrrp[42]: hello"
        );
        assert_eq!(format_console(&tm, "hello"), "Tue Nov 24 20:15:38 2026: hello");
        let tm = utc(1_772_665_200); // 2026-03-04 23:00:00 UTC, Wednesday
        assert_eq!(format_syslog(27, &tm, "Keepalived", 1, "x"), "<27>Mar  4 23:00:00 Keepalived[1]: x");
        assert_eq!(format_console(&tm, "x"), "Wed Mar  4 23:00:00 2026: x");
        let t = UNIX_EPOCH + Duration::from_micros(1_795_551_338_000_123);
        assert_eq!(rfc3339_utc(t), "2026-11-24T20:15:38.000123Z");
    }

    /// `t` seconds after the epoch, seen at UTC.
    fn utc(t: i64) -> DateTime {
        Timestamp::from_second(t).unwrap().to_zoned(TimeZone::UTC).datetime()
    }

    /// Instants around the 2026 DST changes of the zones below, in UTC
    /// seconds: mid-winter and mid-summer noon; the US change on 8 March
    /// (07:00) and 1 November (06:00); the EU one on 29 March and 25
    /// October (01:00); Sydney's on 5 April (16:00) and 3 October (16:00);
    /// each with the second before.
    const INSTANTS: [i64; 14] = [
        1_768_478_400,
        1_784_116_800,
        1_772_953_200,
        1_772_953_199,
        1_793_512_800,
        1_793_512_799,
        1_774_746_000,
        1_774_745_999,
        1_792_890_000,
        1_792_889_999,
        1_775_404_800,
        1_775_404_799,
        1_791_043_200,
        1_791_043_199,
    ];

    /// Environment variable that makes [`local_time_follows_tz_as_glibc`]
    /// print instead of checking (it runs itself with each `TZ`).
    const CHILD_ENV: &str = "KEEPALIVED_RS_LOCALTIME_CHILD";

    /// The console and syslog stamps of [`INSTANTS`] from a copy of this
    /// test binary run with `TZ` set to `tz` (or unset).
    fn ours(tz: Option<&str>) -> Vec<String> {
        let mut cmd = std::process::Command::new(std::env::current_exe().unwrap());
        cmd.args(["--exact", "logging::tests::local_time_follows_tz_as_glibc", "--nocapture", "--test-threads=1"]);
        cmd.env(CHILD_ENV, "1");
        match tz {
            Some(tz) => cmd.env("TZ", tz),
            None => cmd.env_remove("TZ"),
        };
        let out = cmd.output().unwrap();
        assert!(out.status.success(), "{out:?}");
        let text = String::from_utf8(out.stdout).unwrap();
        let lines: Vec<String> = text.lines().filter_map(|l| l.split_once("LT ")).map(|(_, v)| v.to_string()).collect();
        assert_eq!(lines.len(), 2 * INSTANTS.len(), "{text}");
        lines
    }

    /// The same stamps from glibc's `strftime()` in the C locale, through
    /// coreutils `date`: what keepalived itself writes.
    fn glibc(tz: Option<&str>) -> Vec<String> {
        let mut lines = Vec::new();
        for t in INSTANTS {
            for fmt in ["+%c", "+%b %e %H:%M:%S"] {
                let mut cmd = std::process::Command::new("date");
                cmd.args(["-d", &format!("@{t}"), fmt]).env("LC_ALL", "C");
                match tz {
                    Some(tz) => cmd.env("TZ", tz),
                    None => cmd.env_remove("TZ"),
                };
                let out = cmd.output().expect("coreutils date");
                assert!(out.status.success(), "{out:?}");
                lines.push(String::from_utf8(out.stdout).unwrap().trim_end().to_string());
            }
        }
        lines
    }

    /// Local times are jiff's reading of `TZ` (else `/etc/localtime`), and
    /// match glibc's byte for byte: keepalived's console lines
    /// (`strftime("%c")`) and syslog headers (`%b %e %H:%M:%S`).
    #[test]
    fn local_time_follows_tz_as_glibc() {
        if std::env::var_os(CHILD_ENV).is_some() {
            for t in INSTANTS {
                let tm = local_time(UNIX_EPOCH + Duration::from_secs(t as u64));
                println!("LT {}", format_console(&tm, "").trim_end_matches(": "));
                let line = format_syslog(0, &tm, "", 0, "");
                println!("LT {}", &line[3..18]);
            }
            return;
        }
        // It starts processes: not while another test holds files.
        let _g = crate::files::test_util::lock_process();
        // Known answers for the forms that need no zoneinfo files.
        let at = |lines: &[String], i: usize| lines[2 * i].clone();
        let utc = ours(Some("UTC0"));
        assert_eq!(at(&utc, 0), "Thu Jan 15 12:00:00 2026");
        assert_eq!(utc[1], "Jan 15 12:00:00");
        assert_eq!(ours(Some("")), utc, "empty TZ is UTC");
        assert_eq!(ours(Some("Bogus/Zone")), utc, "an unusable TZ is UTC");
        let us = ours(Some("EST5EDT,M3.2.0,M11.1.0"));
        assert_eq!(at(&us, 0), "Thu Jan 15 07:00:00 2026");
        assert_eq!(at(&us, 1), "Wed Jul 15 08:00:00 2026");
        assert_eq!(at(&us, 2), "Sun Mar  8 03:00:00 2026");
        assert_eq!(at(&us, 3), "Sun Mar  8 01:59:59 2026");
        assert_eq!(at(&us, 4), "Sun Nov  1 01:00:00 2026");
        assert_eq!(at(&us, 5), "Sun Nov  1 01:59:59 2026");
        assert_eq!(us[7], "Mar  8 01:59:59");
        // A rule-less DST zone gets the US rules (the one fallback, as
        // before jiff). glibc takes them from zoneinfo's `posixrules` and
        // ends DST an hour early that way, so it is not compared below.
        assert_eq!(ours(Some("FOO5BAR")), us);
        let cet = ours(Some("CET-1CEST,M3.5.0,M10.5.0/3"));
        assert_eq!(at(&cet, 6), "Sun Mar 29 03:00:00 2026");
        assert_eq!(at(&cet, 7), "Sun Mar 29 01:59:59 2026");
        assert_eq!(at(&cet, 8), "Sun Oct 25 02:00:00 2026");
        assert_eq!(at(&cet, 9), "Sun Oct 25 02:59:59 2026");
        assert_eq!(at(&ours(Some("<+0530>-5:30")), 0), "Thu Jan 15 17:30:00 2026");
        // Every form against glibc: rule strings, zoneinfo names and paths
        // (DST zones on both hemispheres), and TZ unset (/etc/localtime).
        for tz in [
            None,
            Some(""),
            Some("UTC"),
            Some("UTC0"),
            Some("EST5EDT,M3.2.0,M11.1.0"),
            Some("CET-1CEST,M3.5.0,M10.5.0/3"),
            Some("AEST-10AEDT,M10.1.0,M4.1.0/3"),
            Some("<+0530>-5:30"),
            Some("EST5"),
            Some("Europe/Paris"),
            Some(":America/New_York"),
            Some("/usr/share/zoneinfo/Australia/Sydney"),
            Some("America/St_Johns"),
            Some("Europe/Dublin"),
            Some("Bogus/Zone"),
        ] {
            assert_eq!(ours(tz), glibc(tz), "TZ={tz:?}");
        }
    }

    #[test]
    fn us_default_rules_only_for_ruleless_dst() {
        let z = us_default_rules("FOO5BAR").unwrap();
        let off = |t: i64| z.to_offset(Timestamp::from_second(t).unwrap()).seconds();
        assert_eq!(off(INSTANTS[0]), -5 * 3600);
        assert_eq!(off(INSTANTS[1]), -4 * 3600);
        let z = us_default_rules(":FOO5BAR3").unwrap();
        assert_eq!(z.to_offset(Timestamp::from_second(INSTANTS[1]).unwrap()).seconds(), -3 * 3600);
        assert!(us_default_rules("").is_none());
        assert!(us_default_rules("EST5EDT,M3.2.0,M11.1.0").is_none());
        assert!(us_default_rules("Europe/Paris").is_none());
    }

    #[test]
    fn idents() {
        assert_eq!(ident_suffix(None, None), "");
        assert_eq!(ident_suffix(Some("blue"), None), "_blue");
        assert_eq!(ident_suffix(None, Some("i1")), "_i1");
        assert_eq!(ident_suffix(Some("blue"), Some("i1")), "_blue_i1");
        assert_eq!(base_ident(None), "Keepalived");
        assert_eq!(base_ident(Some(ProcKind::Vrrp)), "Keepalived_vrrp");
        assert_eq!(base_ident(Some(ProcKind::Checker)), "Keepalived_healthcheckers");
        assert_eq!(base_ident(Some(ProcKind::Bfd)), "Keepalived_bfd");
    }

    fn recv_all(sock: &UnixDatagram) -> Vec<String> {
        let mut out = Vec::new();
        let mut buf = [0u8; 9000];
        while let Ok(n) = sock.recv(&mut buf) {
            out.push(String::from_utf8_lossy(&buf[..n]).into_owned());
        }
        out
    }

    /// The whole path, with a real datagram socket; ident switching shares
    /// global state, so one test covers it.
    #[test]
    fn syslog_datagrams_console_json_and_ident_switch() {
        let dir = std::env::temp_dir().join(format!("ka-rs-log-{}", std::process::id()));
        let _ = std::fs::create_dir_all(&dir);
        let path = dir.join("log.sock");
        let _ = std::fs::remove_file(&path);
        let server = UnixDatagram::bind(&path).unwrap();
        server.set_read_timeout(Some(Duration::from_millis(200))).unwrap();
        let pid = std::process::id();

        let out = Arc::new(Mutex::new(Vec::new()));
        let mut c = cfg(true, true, false);
        c.facility = parse_facility("local3").unwrap();
        let sub = test_subscriber(&c, path.clone(), out.clone());
        tracing::subscriber::with_default(sub, || {
            set_ident_suffix("");
            set_process(None);
            tracing::info!("Starting Keepalived v2.2.7");
            tracing::debug!("not logged without -D");
            set_ident_suffix(&ident_suffix(Some("blue"), None));
            set_process(Some(ProcKind::Vrrp));
            tracing::warn!(instance = "VI_1", prio = 100u64, "(VI_1) Entering MASTER STATE");
            set_process(None);
            tracing::error!(alert = true, "VRRP child process(99) died: Respawning");
            set_ident_suffix("");
        });
        let got = recv_all(&server);
        assert_eq!(got.len(), 3, "{got:?}");
        let strip = |s: &str| -> (String, String) {
            // "<PRI>Mmm dd HH:MM:SS " is 16 characters after the PRI.
            let close = s.find('>').unwrap();
            (s[..=close].to_string(), s[close + 17..].to_string())
        };
        assert_eq!(strip(&got[0]), ("<158>".into(), format!("Keepalived[{pid}]: Starting Keepalived v2.2.7")));
        assert_eq!(
            strip(&got[1]),
            (
                "<156>".into(),
                format!("Keepalived_vrrp_blue[{pid}]: (VI_1) Entering MASTER STATE instance=VI_1 prio=100")
            )
        );
        assert_eq!(
            strip(&got[2]),
            ("<153>".into(), format!("Keepalived_blue[{pid}]: VRRP child process(99) died: Respawning"))
        );
        let console = String::from_utf8(out.lock().unwrap().clone()).unwrap();
        let lines: Vec<&str> = console.lines().collect();
        assert_eq!(lines.len(), 3, "{console}");
        assert!(lines[0].ends_with(": Starting Keepalived v2.2.7"), "{}", lines[0]);
        // "Tue Nov 24 20:15:38 2026: " is 26 characters.
        assert_eq!(lines[0].find(": Starting"), Some(24));

        // JSON: console lines and syslog bodies are the same object.
        let out = Arc::new(Mutex::new(Vec::new()));
        let mut c = cfg(true, true, true);
        c.detail = 1;
        let sub = test_subscriber(&c, path.clone(), out.clone());
        tracing::subscriber::with_default(sub, || {
            set_process(Some(ProcKind::Checker));
            tracing::info!(vs = "10.0.0.1:80", up = true, "Adding service");
            tracing::debug!("detail");
            set_process(None);
        });
        let console = String::from_utf8(out.lock().unwrap().clone()).unwrap();
        let lines: Vec<&str> = console.lines().collect();
        assert_eq!(lines.len(), 2, "{console}");
        let v: serde_json::Value = serde_json::from_str(lines[0]).unwrap();
        assert_eq!(v["level"], "INFO");
        assert_eq!(v["ident"], "Keepalived_healthcheckers");
        assert_eq!(v["pid"], pid);
        assert_eq!(v["message"], "Adding service");
        assert_eq!(v["fields"], serde_json::json!({"vs": "10.0.0.1:80", "up": true}));
        let ts = v["timestamp"].as_str().unwrap();
        assert!(ts.len() == 27 && ts.ends_with('Z') && ts.as_bytes()[10] == b'T', "{ts}");
        let v2: serde_json::Value = serde_json::from_str(lines[1]).unwrap();
        assert_eq!(v2["level"], "DEBUG");
        assert!(v2.get("fields").is_none());
        let got = recv_all(&server);
        assert_eq!(got.len(), 2, "{got:?}");
        assert!(got[0].starts_with("<30>") && got[1].starts_with("<31>"), "{got:?}");
        let body = got[0].split_once("]: ").unwrap().1;
        assert_eq!(body, lines[0]);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn no_syslog_daemon_drops_and_counts() {
        let mut sink = SyslogSink::new(PathBuf::from("/nonexistent/ka-rs/log"));
        let before = syslog_dropped();
        sink.send(b"<30>x");
        sink.send(b"<30>y");
        assert!(syslog_dropped() >= before + 2);
    }

    #[test]
    fn reconnects_when_socket_is_recreated() {
        let dir = std::env::temp_dir().join(format!("ka-rs-log-re-{}", std::process::id()));
        let _ = std::fs::create_dir_all(&dir);
        let path = dir.join("log.sock");
        let _ = std::fs::remove_file(&path);
        let mut sink = SyslogSink::new(path.clone());
        let s1 = UnixDatagram::bind(&path).unwrap();
        sink.send(b"one");
        drop(s1);
        std::fs::remove_file(&path).unwrap();
        let s2 = UnixDatagram::bind(&path).unwrap();
        s2.set_read_timeout(Some(Duration::from_millis(200))).unwrap();
        sink.send(b"two");
        assert_eq!(recv_all(&s2), vec!["two".to_string()]);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn socket_path_override() {
        assert_eq!(syslog_socket_path(None), PathBuf::from("/dev/log"));
        assert_eq!(syslog_socket_path(Some("".into())), PathBuf::from("/dev/log"));
        assert_eq!(syslog_socket_path(Some("/tmp/x.sock".into())), PathBuf::from("/tmp/x.sock"));
    }
}
