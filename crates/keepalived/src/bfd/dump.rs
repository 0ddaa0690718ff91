//! SIGUSR1 `keepalived_bfd.data` in keepalived 2.2.7's layout
//! (bfd_data.c `dump_bfd_data` / `dump_bfd`), and the SIGUSR2
//! `keepalived_bfd.stats` counters (keepalived has none: docs/compat.md).

use keepalived_bfd::{Engine, Instant, SessionConfig, SessionId, State};
use keepalived_config::Config;
use std::fmt::Write as _;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

macro_rules! w {
    ($o:expr, $($arg:tt)*) => {{ let _ = writeln!($o, $($arg)*); }};
}

/// keepalived BFD_STATE_STR.
fn state_str(s: State) -> &'static str {
    s.text()
}

/// Engine time as wall-clock time (keepalived prints its timers as such).
fn wall(t: Instant, now: Instant) -> SystemTime {
    let back = Duration::from_micros(now.since(t));
    let ahead = Duration::from_micros(t.since(now));
    SystemTime::now().checked_sub(back).and_then(|w| w.checked_add(ahead)).unwrap_or(UNIX_EPOCH)
}

fn secs_us(t: SystemTime) -> (u64, u32) {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    (d.as_secs(), d.subsec_micros())
}

/// keepalived bfd_data.c `conf_write_sands`.
fn sands(o: &mut String, text: &str, at: Option<Instant>, now: Instant) {
    let Some(at) = at else {
        w!(o, "   {text} = [disabled]");
        return;
    };
    let t = wall(at, now);
    let (s, us) = secs_us(t);
    let dt = crate::logging::local_time(t);
    w!(o, "   {text} = {s}.{us:06} ({}.{us:06})", dt.strftime("%a %b %e %H:%M:%S"));
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
    // keepalived dump_bfd_data: the global definitions as the BFD process has them.
    let mut o = crate::dumps::global_data(cfg, false);
    w!(o, "------< BFD Data >------");
    w!(o, " fd_in = {}", rx.first().copied().unwrap_or(-1));
    // keepalived prints its read thread's address ("0x%p"); there is none here.
    w!(o, " thread_in = 0x{:p}", std::ptr::null::<u8>());
    let sessions = &engine.config().sessions;
    if !sessions.is_empty() {
        w!(o, "------< BFD Topology >------");
        for (k, s) in sessions.iter().enumerate() {
            dump_session(&mut o, engine, SessionId(k), s, tx.get(k).copied().unwrap_or(-1), now);
        }
    }
    let _ = epoch;
    o
}

fn dump_session(o: &mut String, engine: &Engine, id: SessionId, s: &SessionConfig, fd_out: i32, now: Instant) {
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
    // keepalived's thread pointers: there are no threads; "(nil)" or a
    // placeholder address where keepalived has one scheduled.
    let thread = |on: bool| if on { "0x0x1".to_string() } else { "0x(nil)".to_string() };
    w!(o, "   thread_open_fd_out {}", thread(false));
    w!(o, "   thread_out {}", thread(v.next_tx.is_some()));
    sands(o, "sands_out", v.next_tx, now);
    w!(o, "   thread_exp {}", thread(v.expire_at.is_some()));
    sands(o, "sands_exp", v.expire_at, now);
    w!(o, "   thread_rst {}", thread(v.reset_at.is_some()));
    sands(o, "sands_rst", v.reset_at, now);
    w!(o, "   send error = {}", v.send_error);
    w!(o, "   local state = {}", state_str(v.local_state));
    w!(o, "   remote state = {}", state_str(v.remote_state));
    w!(o, "   local discriminator = 0x{:x}", v.local_discr);
    w!(o, "   remote discriminator = 0x{:x}", v.remote_discr);
    w!(o, "   local diag = {}", v.local_diag.text());
    w!(o, "   remote diag = {}", v.remote_diag.text());
    w!(o, "   remote min tx intv = {} us", v.remote_min_tx_us);
    w!(o, "   remote min rx intv = {} us", v.remote_min_rx_us);
    // Demand mode is not supported (keepalived neither): never set locally.
    w!(o, "   local demand = 0");
    w!(o, "   remote demand = {}", u8::from(v.remote_demand));
    w!(o, "   remote detect multiplier = {}", v.remote_mult);
    // keepalived clears its final flag once the Final packet is sent.
    w!(o, "   {}poll, !final", if v.poll { "" } else { "!" });
    w!(o, "   local tx intv = {} us", v.local_tx_intv_us);
    // keepalived derives the remote's interval and detection time from a
    // received packet only: 0 while nothing has been heard (Detect Mult 0).
    let heard = v.remote_mult != 0;
    w!(o, "   remote tx intv = {} us", if heard { v.remote_tx_intv_us } else { 0 });
    w!(o, "   local detection time = {} us", v.local_detect_time_us);
    w!(o, "   remote detection time = {} us", if heard { v.remote_detect_time_us } else { 0 });
    match v.last_seen {
        None => w!(o, "   last_seen = [never]"),
        Some(t) => {
            let t = wall(t, now);
            let (s, us) = secs_us(t);
            let dt = crate::logging::local_time(t);
            w!(o, "   last seen = {s}.{us:06} ({}.{us:06})", dt.strftime("%a %b %e %H:%M:%S %Y"));
        }
    }
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
    let g = engine.global_counters();
    w!(o, "No session (unknown discriminator or neighbour)");
    w!(o, "  Packets dropped: {}", g.drops.values().sum::<u64>());
    for (reason, n) in &g.drops {
        w!(o, "    {reason}: {n}");
    }
    o
}
