//! SIGUSR1 `keepalived_bfd.data` in keepalived 2.2.7's layout
//! (bfd_data.c `dump_bfd_data` / `dump_bfd`), and the SIGUSR2
//! `keepalived_bfd.stats` counters (keepalived has none: docs/compat.md).

use keepalived_bfd::{Engine, Instant, SessionConfig, SessionId, State};
use keepalived_config::Config;
use std::fmt::Write as _;

macro_rules! w {
    ($o:expr, $($arg:tt)*) => {{ let _ = writeln!($o, $($arg)*); }};
}

/// keepalived BFD_STATE_STR.
fn state_str(s: State) -> &'static str {
    match s {
        State::AdminDown => "AdminDown",
        State::Down => "Down",
        State::Init => "Init",
        State::Up => "Up",
    }
}

/// The data file: global definitions, the BFD data, the topology.
pub fn bfd_data(
    cfg: &Config,
    engine: &Engine,
    epoch: std::time::Instant,
    now: Instant,
    rx: &[i32],
    tx: &[i32],
) -> String {
    let mut o = crate::dumps::global_data(cfg);
    w!(o, "------< BFD Data >------");
    w!(o, " fd_in = {}", rx.first().copied().unwrap_or(-1));
    // keepalived prints its read thread's address ("0x%p"); there is none here.
    w!(o, " thread_in = 0x{:p}", std::ptr::null::<u8>());
    let sessions = &engine.config().sessions;
    if !sessions.is_empty() {
        w!(o, "------< BFD Topology >------");
        for (k, s) in sessions.iter().enumerate() {
            dump_session(&mut o, engine, SessionId(k), s, tx.get(k).copied().unwrap_or(-1));
        }
    }
    let _ = (epoch, now);
    o
}

fn dump_session(o: &mut String, engine: &Engine, id: SessionId, s: &SessionConfig, fd_out: i32) {
    w!(o, " BFD Instance = {}", s.name);
    w!(o, "   Neighbor IP = {}", s.neighbor);
    if let Some(src) = s.source {
        w!(o, "   Source IP = {src}");
    }
    w!(o, "   Required min RX interval = {} us", s.min_rx_us);
    w!(o, "   Desired min TX interval = {} us", s.min_tx_us);
    w!(o, "   Desired idle TX interval = {} us", s.idle_tx_us);
    w!(o, "   Detection multiplier = {}", s.multiplier);
    w!(o, "   {} = {}", if s.neighbor.is_ipv4() { "TTL" } else { "hoplimit" }, s.ttl);
    w!(o, "   max_hops = {}", s.max_hops);
    w!(o, "   passive = {}", s.passive);
    w!(o, "   send event to VRRP process = {}", if s.to_vrrp { "Yes" } else { "No" });
    w!(o, "   send event to checker process = {}", if s.to_checker { "Yes" } else { "No" });
    w!(o, "   fd_out {fd_out}");
    let Some(v) = engine.session(id) else { return };
    w!(o, "   local state = {}", state_str(v.local_state));
    w!(o, "   remote state = {}", state_str(v.remote_state));
    w!(o, "   local discriminator = 0x{:x}", v.local_discr);
    w!(o, "   remote discriminator = 0x{:x}", v.remote_discr);
}

/// The per-session counters: packets sent and accepted, and every drop
/// reason of RFC 5880 §6.8.6 that occurred.
pub fn bfd_stats(engine: &Engine) -> String {
    let mut o = String::new();
    for (k, s) in engine.config().sessions.iter().enumerate() {
        let Some(v) = engine.session(SessionId(k)) else { continue };
        w!(o, "BFD Instance: {}", s.name);
        w!(o, "  State: {}", state_str(v.local_state));
        w!(o, "  Packets sent: {}", v.counters.tx);
        w!(o, "  Packets received: {}", v.counters.rx);
        w!(o, "  Packets dropped: {}", v.counters.drops.values().sum::<u64>());
        for (reason, n) in &v.counters.drops {
            w!(o, "    {reason}: {n}");
        }
    }
    o
}
