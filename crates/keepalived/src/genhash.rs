//! genhash (keepalived 2.2.7 check_genhash.c): fetch one URL as HTTP_GET / SSL_GET does and print the
//! MD5 digest of its body, for a checker's `digest`. Run as `genhash …` (by the name the binary is
//! called by) or `keepalived --genhash …` / `-T …`.
use crate::check::http::{HttpJob, HttpProbes, Started};
use crate::check::tcp::TcpTarget;
use keepalived_check::http_response::{request, Part, Protocol, UrlTests};
use mio::{Events, Poll, Token};
use std::io::Write;
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

const DELIM_BEGIN: &str = "-----------------------[";
const DELIM_END: &str = "]-----------------------\n";

#[derive(Default)]
struct Opts {
    verbose: bool,
    ssl: bool,
    sni: bool,
    server: Option<IpAddr>,
    port: Option<u16>,
    url: Option<String>,
    vhost: Option<String>,
    fwmark: Option<u32>,
    proto: Option<Protocol>,
    /// Seconds; none: wait for ever.
    timeout: Option<u64>,
}

const LONG: &[(&str, char, bool)] = &[
    ("help", 'h', false),
    ("verbose", 'v', false),
    ("use-ssl", 'S', false),
    ("use-sni", 'I', false),
    ("server", 's', true),
    ("use-virtualhost", 'V', true),
    ("port", 'p', true),
    ("url", 'u', true),
    ("fwmark", 'm', true),
    ("protocol", 'P', true),
    ("timeout", 't', true),
];

fn usage(prog: &str, am_genhash: bool) {
    let t = if am_genhash { "" } else { " --genhash" };
    eprint!(
        "Usage: {prog}{t} COMMAND [OPTIONS]\nCommands:\n   -s server-address -p port -u url\n   -S -s server-address -p port -u url\n   -h\n\n"
    );
    eprint!(
        "Options:\nEither long or short options are allowed.\n   --use-ssl         -S       Use SSL connection to remote server.\n   --use-sni         -I       Use SNI during SSL handshake (uses virtualhost setting; see -V).\n   --server          -s       Use the specified remote server address.\n   --port            -p       Use the specified remote server port.\n   --url             -u       Use the specified remote server url.\n   --use-virtualhost -V       Use the specified virtualhost in GET query.\n   --verbose         -v       Use verbose mode output.\n   --help            -h       Display this short inlined help screen.\n   --fwmark          -m       Use the specified FW mark.\n   --protocol        -P       Use the specified HTTP protocol - '1.0', 1.0c', '1.1'.\n                                1.0c means 1.0 with 'Connection: close'\n   --timeout         -t       Timeout in seconds\n"
    );
}

/// C's `strtoul` of a whole string after leading blanks (keepalived's fwmark/timeout checks).
fn unsigned(arg: &str) -> Option<u64> {
    let s = arg.trim_start_matches([' ', '\t']);
    if s.is_empty() || s.starts_with('-') || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// One option; `Err` with the message for stderr.
fn apply(o: &mut Opts, c: char, arg: Option<&str>) -> Result<(), String> {
    let a = arg.unwrap_or("");
    match c {
        'v' => o.verbose = true,
        'S' => o.ssl = true,
        'I' => o.sni = true,
        's' => o.server = Some(a.parse().map_err(|_| format!("server should be an IP, not {a}"))?),
        'V' => o.vhost = Some(a.to_string()),
        'p' => {
            let p: u16 = a.parse().ok().filter(|p| *p > 0).ok_or_else(|| format!("invalid port number '{a}'"))?;
            o.port = Some(p);
        }
        'u' => o.url = Some(a.to_string()),
        'm' => {
            o.fwmark =
                Some(unsigned(a).and_then(|v| u32::try_from(v).ok()).ok_or_else(|| format!("invalid fwmark '{a}'"))?)
        }
        'P' => {
            o.proto = Some(match a {
                "1.0" => Protocol::V1_0,
                "1.0c" | "1.0C" => Protocol::V1_0C,
                "1.1" => Protocol::V1_1,
                _ => return Err(format!("invalid HTTP protocol version '{a}'")),
            })
        }
        't' => {
            o.timeout = Some(
                unsigned(a).filter(|t| *t <= u64::from(u32::MAX)).ok_or_else(|| format!("invalid timeout '{a}'"))?,
            )
        }
        _ => {}
    }
    Ok(())
}

enum Parse {
    Ok(Opts),
    /// Show the usage (after any message already printed).
    Usage,
    /// A bad value: message printed, then the usage.
    Bad,
}

/// A long option by name or unambiguous prefix (getopt_long).
fn long(name: &str) -> Option<(char, bool)> {
    if let Some(l) = LONG.iter().find(|l| l.0 == name) {
        return Some((l.1, l.2));
    }
    let m: Vec<_> = LONG.iter().filter(|l| l.0.starts_with(name)).collect();
    (m.len() == 1).then(|| (m[0].1, m[0].2))
}

fn short(c: char) -> Option<bool> {
    "hvSIsVpumPt".contains(c).then(|| "sVpumPt".contains(c))
}

/// getopt_long over `args` (the options, without the program name).
fn parse(args: &[String]) -> Parse {
    let mut o = Opts::default();
    let bad = std::cell::Cell::new(false);
    let mut rest = Vec::new();
    let mut i = 0;
    while i < args.len() {
        let a = &args[i];
        i += 1;
        let mut one = |c: char, val: Option<String>, shown: String, i: &mut usize| -> Result<(), String> {
            let needs = short(c).unwrap_or(false);
            let val = match (needs, val) {
                (true, Some(v)) => Some(v),
                (true, None) if *i < args.len() => {
                    *i += 1;
                    Some(args[*i - 1].clone())
                }
                (true, None) => {
                    eprintln!("Missing parameter for option {shown}");
                    bad.set(true);
                    return Ok(());
                }
                (false, _) => None,
            };
            if c == 'h' {
                bad.set(true);
                return Ok(());
            }
            apply(&mut o, c, val.as_deref())
        };
        let r = if let Some(l) = a.strip_prefix("--").filter(|l| !l.is_empty()) {
            let (name, val) = l.split_once('=').map_or((l, None), |(n, v)| (n, Some(v.to_string())));
            match long(name) {
                Some((c, _)) => one(c, val, format!("--{name}"), &mut i),
                None => {
                    eprintln!("Unknown option {a}");
                    bad.set(true);
                    Ok(())
                }
            }
        } else if let Some(cl) = a.strip_prefix('-').filter(|c| !c.is_empty()) {
            shorts(cl, &mut |c, val| one(c, val, format!("-{c}"), &mut i), &bad)
        } else {
            rest.push(a.clone());
            Ok(())
        };
        if let Err(msg) = r {
            eprintln!("{msg}");
            return Parse::Bad;
        }
    }
    if bad.get() {
        return Parse::Usage;
    }
    if !rest.is_empty() {
        eprintln!("Unexpected argument(s): {}", rest.join(" "));
        return Parse::Usage;
    }
    if o.server.is_none() || o.port.is_none() || o.url.is_none() {
        return Parse::Usage;
    }
    Parse::Ok(o)
}

/// A cluster of short options (`-vS`, `-p80`).
fn shorts(
    cl: &str,
    one: &mut dyn FnMut(char, Option<String>) -> Result<(), String>,
    bad: &std::cell::Cell<bool>,
) -> Result<(), String> {
    for (k, c) in cl.char_indices() {
        match short(c) {
            None => {
                eprintln!("Unknown option -{c}");
                bad.set(true);
            }
            Some(true) => {
                let tail = &cl[k + c.len_utf8()..];
                return one(c, (!tail.is_empty()).then(|| tail.to_string()));
            }
            Some(false) => one(c, None)?,
        }
    }
    Ok(())
}

/// keepalived's `dump_buffer`: offset, 16 hex bytes (` -` after 8), their printable characters.
fn dump_buffer(b: &[u8], out: &mut String) {
    use std::fmt::Write as _;
    for (n, line) in b.chunks(16).enumerate() {
        let _ = write!(out, "{:04} ", (n * 16) & 0xffff);
        for i in 0..16 {
            match line.get(i) {
                Some(c) => {
                    let _ = write!(out, " {c:02x}");
                }
                None => out.push_str("   "),
            }
            if i == 7 {
                out.push_str(" -");
            }
        }
        out.push_str("   ");
        out.extend(
            (0..16).map(|i| line.get(i).map_or(' ', |c| if (0x20..=0x7e).contains(c) { *c as char } else { '.' })),
        );
        out.push('\n');
    }
}

fn trace(part: Part, b: &[u8]) {
    let mut s = String::new();
    match part {
        Part::Header => {
            s.push_str(&format!("{DELIM_BEGIN}    HTTP Header Buffer    {DELIM_END}"));
            dump_buffer(b, &mut s);
            s.push_str(&format!("{DELIM_BEGIN} HTTP Header Ascii Buffer {DELIM_END}"));
            s.push_str(&String::from_utf8_lossy(b));
            s.push('\n');
        }
        Part::FirstBody => {
            s.push_str(&format!("{DELIM_BEGIN}        HTML Buffer        {DELIM_END}"));
            dump_buffer(b, &mut s);
        }
        Part::Body => dump_buffer(b, &mut s),
    }
    print!("{s}");
}

/// genhash: returns the exit status (0 once the options were good, as 2.2.7). `argc`: 2.2.7's
/// (all the command line's words), `args`: the options.
pub fn run(prog: &str, am_genhash: bool, argc: usize, args: &[String]) -> i32 {
    let parsed = if argc <= 2 { Parse::Usage } else { parse(args) };
    let o = match parsed {
        Parse::Ok(o) => o,
        _ => {
            usage(prog, am_genhash);
            return 1;
        }
    };
    let started = Instant::now();
    let url = o.url.clone().unwrap_or_default();
    fetch(&o);
    if o.verbose {
        println!("\nGlobal response time for [{url}] = {} usecs", started.elapsed().as_micros());
    }
    let _ = std::io::stdout().flush();
    0
}

fn job(o: &Opts) -> Option<HttpJob> {
    let dst = SocketAddr::new(o.server?, o.port?);
    let target = TcpTarget { dst, bindto: None, bind_if: None, fwmark: o.fwmark };
    let request = request(o.url.as_deref()?, o.proto.unwrap_or(Protocol::V1_0), o.vhost.as_deref(), dst);
    let tls = if o.ssl {
        let cfg = match crate::check::tls::client_config(None) {
            Ok(c) => c,
            Err(_) => {
                eprintln!("Cannot initialize SSL context.");
                return None;
            }
        };
        let sni = if o.sni { o.vhost.as_deref() } else { None };
        Some((cfg, crate::check::tls::server_name(sni, dst.ip())))
    } else {
        None
    };
    // No timeout by default (2.2.7: UINT_MAX).
    let timeout = Duration::from_secs(o.timeout.unwrap_or(u64::from(u32::MAX)));
    let trace = o.verbose.then_some(trace as fn(Part, &[u8]));
    Some(HttpJob { target, request, tls, url: UrlTests::default(), want_digest: true, timeout, trace })
}

/// One attempt, printing what 2.2.7's genhash prints.
fn fetch(o: &Opts) {
    let Some(job) = job(o) else { return };
    let (Ok(mut poll), mut events) = (Poll::new(), Events::with_capacity(8)) else { return };
    let mut probes: HttpProbes<()> = HttpProbes::new(0, 1);
    let mut done = match probes.start(poll.registry(), (), job, Instant::now()) {
        Started::Done(f) => Some(f),
        Started::Pending => None,
        Started::Error => return,
    };
    while done.is_none() {
        let wait = probes.next_deadline().map(|d| d.saturating_duration_since(Instant::now()));
        if poll.poll(&mut events, wait.map(|w| w.min(Duration::from_secs(3600)))).is_err() {
            continue;
        }
        let now = Instant::now();
        done = match events.iter().next() {
            Some(_) => probes.on_ready(poll.registry(), Token(0), now).map(|(_, f)| f),
            None => probes.expired(poll.registry(), now).pop().map(|(_, f)| f),
        };
    }
    if let Some(f) = done {
        report(o, &f);
    }
}

fn report(o: &Opts, f: &crate::check::http::Finished) {
    use keepalived_check::http_response::Verdict;
    match (&f.answer, &f.verdict) {
        (Some((_, false)), _) => eprintln!("no data received from remote webserver"),
        (Some((digest, true)), _) => {
            if o.verbose {
                let mut s = format!("\n{DELIM_BEGIN}    HTML hash resulting    {DELIM_END}");
                dump_buffer(digest, &mut s);
                s.push_str(&format!("{DELIM_BEGIN} HTML hash final resulting {DELIM_END}"));
                print!("{s}");
            }
            println!("{}", digest.iter().map(|b| format!("{b:02x}")).collect::<String>());
        }
        (None, Verdict::Fail { msg }) => println!("{msg}"),
        (None, Verdict::Pass { .. }) => {}
    }
}
