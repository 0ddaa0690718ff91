//! `keepalived-replay -f keepalived.conf [-i CONFIG_ID] EVENTS.jsonl`
//!
//! Replays a recorded VRRP event log (one `{"t": µs, "input": …}` per line,
//! as written by the engine's recorder and used by the conformance goldens)
//! against the VRRP engine built from the configuration, and prints every
//! action with its time as JSON lines. The same log and configuration give
//! the same actions, byte for byte: a user's run can be reproduced exactly.

use keepalived_config::{parse_file, ParseOptions};
use std::io::{BufReader, Write};

fn usage() -> ! {
    eprintln!("usage: keepalived-replay -f CONFIG [-i CONFIG_ID] EVENTS.jsonl");
    std::process::exit(1);
}

fn main() {
    let mut conf = None;
    let mut config_id = None;
    let mut events = None;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "-f" => conf = args.next(),
            "-i" => config_id = args.next(),
            "-h" | "--help" => usage(),
            _ if events.is_none() => events = Some(a),
            _ => usage(),
        }
    }
    let (Some(conf), Some(events)) = (conf, events) else { usage() };
    let parsed = parse_file(&conf, &ParseOptions { config_id, ..Default::default() });
    for d in parsed.diags.iter() {
        eprintln!("{d}");
    }
    if parsed.main_missing || parsed.diags.stopped {
        std::process::exit(2);
    }
    let file = match std::fs::File::open(&events) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("{events}: {e}");
            std::process::exit(1);
        }
    };
    match keepalived_vrrp::replay::replay(&parsed.config, BufReader::new(file)) {
        Ok(actions) => {
            let out = keepalived_vrrp::replay::write_actions(&actions);
            let _ = std::io::stdout().write_all(out.as_bytes());
        }
        Err(e) => {
            eprintln!("{events}: {e}");
            std::process::exit(1);
        }
    }
}
