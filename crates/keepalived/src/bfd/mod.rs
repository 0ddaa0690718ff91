//! The BFD child: the Linux side of the sans-IO engine (`keepalived_bfd`).
//!
//! ```text
//!   UDP 3784 (4784) ─recvmsg+cmsgs─► Input::Packet ─► Engine ─► Action::Send ─► session socket
//!   timerfd (poll_timeout, µs) ─────► handle_timeout ─┘       └► Action::Event ─► PeerEvent::Bfd
//!                                                                 ─► parent ─► VRRP / checker child
//! ```
//!
//! keepalived bfd_scheduler.c is the model: one dual-stack receive socket
//! per port, one sending socket per session, the state of every session
//! sent to the VRRP and checker children at start and after a reload.

mod dump;
mod sock;
mod status;

use keepalived_bfd::{Action, Engine, EngineConfig, Input, Instant, SessionConfig, SessionId, State};
use keepalived_config::Config;
use keepalived_runtime::{Ctx, DumpRequest, PeerEvent, ProcKind, Subsystem, FIRST_TOKEN};
use mio::unix::SourceFd;
use mio::{Interest, Registry, Token};
use socket2::Socket;
use std::collections::VecDeque;
use std::net::{IpAddr, SocketAddr};
use std::os::fd::AsRawFd;
use std::time::Duration;
use tracing::{error, info, warn};

/// RFC 5881 §5: single-hop packets are sent with TTL / hop limit 255.
const GTSM_TTL: u8 = 255;
/// The largest datagram read (a control packet with authentication is at
/// most 24 + 28 bytes; anything longer is read whole and counted as bad).
const RX_BUF: usize = 2048;

/// A receive socket and the port it listens on.
struct RxSock {
    sock: Socket,
    multihop: bool,
}

pub struct BfdChild {
    engine: Engine,
    /// The engine's clock: µs since the child started (monotonic).
    epoch: std::time::Instant,
    /// 3784, then 4784 while a multihop session exists.
    rx: Vec<RxSock>,
    /// One sending socket per session (index = [`SessionId`]); `None` when
    /// it could not be opened.
    tx: Vec<Option<Socket>>,
    /// Sessions whose last send failed (keepalived `send_error`: logged once).
    send_error: Vec<bool>,
    /// Receive buffers, one per datagram of a batch, and what was read.
    bufs: Vec<Vec<u8>>,
    got: Vec<sock::Received>,
    rng: u64,
    /// When to try again to open the sending sockets that failed to open
    /// (keepalived bfd_open_fd_out_thread: every 60 s).
    retry_tx_at: Option<Instant>,
    /// [`Subsystem::wake_spacing`], from the sessions' `min_rx`.
    wake_spacing: Option<Duration>,
}

/// The longest a received packet waits for the child's next wake-up.
const WAKE_SPACING_MAX_US: u64 = 2_000;

/// An eighth of the shortest `min_rx` (the fastest a peer may send), at
/// most [`WAKE_SPACING_MAX_US`]: a packet never waits more than a small
/// part of the time between two of a session's packets.
fn wake_spacing(cfg: &EngineConfig) -> Option<Duration> {
    let min_rx = cfg.sessions.iter().map(|s| s.min_rx_us).min()?;
    Some(Duration::from_micros((u64::from(min_rx) / 8).min(WAKE_SPACING_MAX_US)))
}

/// keepalived retries a session's sending socket every 60 s.
const TX_RETRY_US: u64 = 60_000_000;

/// The sessions of `cfg`, with keepalived-rs's IPv6 default hop limit:
/// RFC 5881 §5 requires 255 where keepalived 2.2.7 defaults to 64 (which
/// FRR and any RFC-conforming peer drop); `hoplimit`/`ttl` still override.
/// Only the sending side changes: received packets are still accepted down
/// to 2.2.7's threshold (64 - max_hops), so a keepalived 2.2.7 peer with
/// the default configuration, which sends with hop limit 64, keeps working
/// in a mixed pair.
pub fn engine_config(cfg: &Config) -> EngineConfig {
    let mut ec = EngineConfig::from_config(cfg);
    for s in ec.sessions.iter_mut() {
        let configured = cfg.bfd.sessions().find(|b| b.name == s.name).is_some_and(|b| b.ttl_configured);
        if s.neighbor.is_ipv6() && !configured && s.max_hops != u8::MAX {
            let threshold = s.ttl.saturating_sub(s.max_hops);
            s.ttl = GTSM_TTL;
            s.max_hops = GTSM_TTL - threshold;
        }
    }
    ec
}

/// A seed from the kernel's random pool (discriminators, ports, jitter).
fn random_seed() -> u64 {
    use std::io::Read;
    let mut b = [0u8; 8];
    match std::fs::File::open("/dev/urandom").and_then(|mut f| f.read_exact(&mut b)) {
        Ok(()) => u64::from_ne_bytes(b),
        Err(_) => {
            let t = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
            t.as_nanos() as u64 ^ u64::from(std::process::id()) << 32
        }
    }
}

impl BfdChild {
    pub fn new(cfg: &Config) -> BfdChild {
        let ec = engine_config(cfg);
        let spacing = wake_spacing(&ec);
        let mut rng = random_seed();
        let engine = Engine::new(ec, next_rand(&mut rng));
        let mut child = BfdChild {
            engine,
            epoch: std::time::Instant::now(),
            rx: Vec::new(),
            tx: Vec::new(),
            send_error: Vec::new(),
            bufs: vec![vec![0; RX_BUF]; sock::BATCH],
            got: Vec::with_capacity(sock::BATCH),
            rng,
            retry_tx_at: None,
            wake_spacing: spacing,
        };
        child.open_rx(None);
        let sessions = child.engine.config().sessions.clone();
        child.tx = sessions.iter().map(|s| child.open_tx(s)).collect();
        child.send_error = vec![false; sessions.len()];
        child.schedule_tx_retry();
        child
    }

    /// Arm the 60 s retry while a session has no sending socket.
    fn schedule_tx_retry(&mut self) {
        let missing = self.tx.iter().any(Option::is_none);
        self.retry_tx_at = match (missing, self.retry_tx_at) {
            (false, _) => None,
            (true, Some(t)) => Some(t),
            (true, None) => Some(self.now().add_us(TX_RETRY_US)),
        };
    }

    /// Try again to open the sending sockets that are missing.
    fn retry_tx(&mut self) {
        self.retry_tx_at = None;
        let sessions = self.engine.config().sessions.clone();
        for (i, s) in sessions.iter().enumerate() {
            if self.tx.get(i).is_some_and(Option::is_none) {
                self.tx[i] = self.open_tx(s);
            }
        }
        self.schedule_tx_retry();
    }

    /// The engine's clock (µs since the child started; monotonic).
    fn now(&self) -> Instant {
        Instant(u64::try_from(self.epoch.elapsed().as_micros()).unwrap_or(u64::MAX))
    }

    /// The receive sockets the sessions need: 3784 always, 4784 while a
    /// multihop session exists. New sockets are registered when `reg` is
    /// given (after start).
    fn open_rx(&mut self, reg: Option<&Registry>) {
        let want_mh = self.engine.config().sessions.iter().any(|s| s.multihop);
        if self.rx.is_empty() {
            self.add_rx(sock::SINGLE_HOP_PORT, false, reg);
        }
        let have_mh = self.rx.iter().any(|r| r.multihop);
        if want_mh && !have_mh {
            self.add_rx(sock::MULTIHOP_PORT, true, reg);
        } else if !want_mh && have_mh {
            if let Some(k) = self.rx.iter().position(|r| r.multihop) {
                let r = self.rx.remove(k);
                if let Some(reg) = reg {
                    let _ = reg.deregister(&mut SourceFd(&r.sock.as_raw_fd()));
                }
            }
        }
    }

    fn add_rx(&mut self, port: u16, multihop: bool, reg: Option<&Registry>) {
        match sock::open_rx(port) {
            Ok(sock) => {
                let k = self.rx.len();
                if let Some(reg) = reg {
                    let fd = sock.as_raw_fd();
                    if let Err(e) = reg.register(&mut SourceFd(&fd), Token(FIRST_TOKEN + k), Interest::READABLE) {
                        error!("Unable to watch the BFD socket on port {port}: {e}");
                    }
                }
                self.rx.push(RxSock { sock, multihop });
            }
            Err(e) => error!("Unable to open the BFD receive socket on port {port}: {e}"),
        }
    }

    fn open_tx(&mut self, s: &SessionConfig) -> Option<Socket> {
        match sock::open_tx(s, next_rand(&mut self.rng)) {
            Ok(sock) => Some(sock),
            Err(e) => {
                error!("({}) socket() error ({e})", s.name);
                error!("({}) Unable to open output socket, retrying in 60 s", s.name);
                None
            }
        }
    }

    /// Feed `input` and carry out the actions, feeding back send failures.
    fn feed(&mut self, input: Input, ctx: &mut Ctx<'_>) {
        let mut out = Vec::new();
        let now = self.now();
        self.engine.handle(now, input, &mut out);
        self.run(out, ctx, &[]);
    }

    /// Carry out `actions`, then feed back the send failures they met.
    fn run(&mut self, actions: Vec<Action>, ctx: &mut Ctx<'_>, removed: &[(IpAddr, Socket)]) {
        let mut queue = VecDeque::new();
        self.execute(actions, ctx, &mut queue, removed);
        while let Some(i) = queue.pop_front() {
            let mut out = Vec::new();
            let now = self.now();
            self.engine.handle(now, i, &mut out);
            self.execute(out, ctx, &mut queue, &[]);
        }
    }

    /// Carry out `actions`. `removed`: sockets of sessions a reload just
    /// dropped (their AdminDown goes out on them).
    fn execute(
        &mut self,
        actions: Vec<Action>,
        ctx: &mut Ctx<'_>,
        queue: &mut VecDeque<Input>,
        removed: &[(IpAddr, Socket)],
    ) {
        for a in actions {
            match a {
                Action::Send { session, dst, data } => {
                    if let Err(e) = self.send(session, dst, &data, removed) {
                        queue.push_back(Input::SendFailed { session });
                        self.send_failed(session, &e);
                    }
                }
                Action::Event { name, up, to_vrrp, to_checker, .. } => forward(ctx, name, up, to_vrrp, to_checker),
                Action::Log { level, text } => match level.as_str() {
                    "error" => error!("{text}"),
                    "warning" => warn!("{text}"),
                    _ => info!("{text}"),
                },
            }
        }
    }

    fn send(
        &mut self,
        session: SessionId,
        dst: SocketAddr,
        data: &[u8],
        removed: &[(IpAddr, Socket)],
    ) -> std::io::Result<()> {
        let own = self.engine.config().sessions.get(session.0).is_some_and(|s| s.neighbor == dst.ip());
        let sock = if own { self.tx.get(session.0).and_then(Option::as_ref) } else { None };
        let sock = sock.or_else(|| removed.iter().find(|(ip, _)| *ip == dst.ip()).map(|(_, s)| s));
        let Some(sock) = sock else {
            return Err(std::io::Error::new(std::io::ErrorKind::NotConnected, "no socket"));
        };
        sock.send_to(data, &dst.into())?;
        if let Some(e) = self.send_error.get_mut(session.0) {
            *e = false;
        }
        Ok(())
    }

    /// keepalived bfd_send_packet logs a failing send once, until one succeeds.
    fn send_failed(&mut self, session: SessionId, e: &std::io::Error) {
        let Some(flag) = self.send_error.get_mut(session.0) else { return };
        if !*flag {
            *flag = true;
            let name = self.engine.config().sessions.get(session.0).map_or("?", |s| s.name.as_str());
            error!("({name}) sendto() error ({e})");
        }
    }

    /// keepalived bfd_register_workers: every session's state goes to the
    /// VRRP and checker children at start and after a reload.
    fn announce(&self, ctx: &mut Ctx<'_>) {
        for (k, s) in self.engine.config().sessions.iter().enumerate() {
            let up = self.engine.session(SessionId(k)).is_some_and(|v| v.local_state == State::Up);
            forward(ctx, s.name.clone(), up, s.to_vrrp, s.to_checker);
        }
    }

    /// Read what socket `k` has queued, [`sock::BATCH`] datagrams a system
    /// call, each to the engine straight from its buffer.
    fn read(&mut self, k: usize, ctx: &mut Ctx<'_>) {
        loop {
            let Some(r) = self.rx.get(k) else { return };
            let multihop = r.multihop;
            if let Err(e) = sock::recv_batch(&r.sock, &mut self.bufs, &mut self.got) {
                warn!("BFD receive error: {e}");
                return;
            }
            let now = self.now();
            let mut out = Vec::new();
            for (got, buf) in self.got.iter().zip(&self.bufs) {
                let data = buf.get(..got.len.min(buf.len())).unwrap_or_default();
                self.engine.handle_packet(now, got.src, got.dst, got.ttl, multihop, data, &mut out);
            }
            self.run(out, ctx, &[]);
            if self.got.len() < self.bufs.len() {
                return;
            }
        }
    }

    /// Sending sockets for the new sessions: an unchanged session (same
    /// name, addresses, TTL and mode) keeps its socket, and so its port.
    fn reuse_tx(&mut self, new: &EngineConfig) -> (Vec<Option<Socket>>, Vec<(IpAddr, Socket)>) {
        let old_cfg = self.engine.config().sessions.clone();
        let mut old: Vec<Option<Socket>> = std::mem::take(&mut self.tx);
        let mut tx = Vec::with_capacity(new.sessions.len());
        for s in &new.sessions {
            let same = old_cfg.iter().position(|o| {
                o.name == s.name
                    && o.neighbor == s.neighbor
                    && o.source == s.source
                    && o.ttl == s.ttl
                    && o.multihop == s.multihop
            });
            let kept = same.and_then(|k| old.get_mut(k).and_then(Option::take));
            tx.push(kept.or_else(|| self.open_tx(s)));
        }
        let removed = old_cfg.iter().zip(old).filter_map(|(o, s)| s.map(|s| (o.neighbor, s))).collect();
        (tx, removed)
    }
}

fn next_rand(state: &mut u64) -> u64 {
    // splitmix64: the seed only needs to differ between runs.
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// keepalived bfd_event_send: the session's state to the children the
/// instance names (`vrrp`/`checker`); the parent passes it on to those
/// that run.
fn forward(ctx: &mut Ctx<'_>, name: String, up: bool, to_vrrp: bool, to_checker: bool) {
    if to_vrrp {
        ctx.send(ProcKind::Vrrp, PeerEvent::Bfd { name: name.clone(), up });
    }
    if to_checker {
        ctx.send(ProcKind::Checker, PeerEvent::Bfd { name, up });
    }
}

impl Subsystem for BfdChild {
    fn register(&mut self, ctx: &mut Ctx<'_>) -> std::io::Result<()> {
        for (k, r) in self.rx.iter().enumerate() {
            ctx.registry.register(&mut SourceFd(&r.sock.as_raw_fd()), Token(FIRST_TOKEN + k), Interest::READABLE)?;
        }
        Ok(())
    }

    fn start(&mut self, ctx: &mut Ctx<'_>) {
        self.feed(Input::Start, ctx);
        self.announce(ctx);
    }

    fn poll_timeout(&mut self) -> Option<Duration> {
        let now = self.now();
        self.next_deadline().map(|t| Duration::from_micros(t.since(now)))
    }

    /// The deadline as the same instant while it does not move: the loop
    /// then keeps its armed timer (no `timerfd_settime` per wake-up).
    fn poll_deadline(&mut self) -> Option<std::time::Instant> {
        self.next_deadline().map(|t| self.epoch + Duration::from_micros(t.0))
    }

    /// Packets are handled at most every [`WAKE_SPACING_MAX_US`] (less for
    /// short detection times): at 100 sessions of 50 ms the peers' 2,000
    /// packets a second then cost a few hundred wake-ups instead of 2,000.
    /// A packet waits at most that long; the detection timer still runs at
    /// its time, after the packets queued by then are read.
    fn wake_spacing(&self) -> Option<Duration> {
        self.wake_spacing
    }

    fn on_ready(&mut self, token: Token, ctx: &mut Ctx<'_>) {
        if let Some(k) = token.0.checked_sub(FIRST_TOKEN) {
            self.read(k, ctx);
        }
    }

    fn on_timers(&mut self, ctx: &mut Ctx<'_>) {
        let now = self.now();
        if self.retry_tx_at.is_some_and(|t| t <= now) {
            self.retry_tx();
        }
        // Every wake-up, not only the timer's: besides what is due, packets
        // due within the engine's early-transmit window leave now and need
        // no wake-up of their own (the engine decides which).
        let mut out = Vec::new();
        self.engine.handle_timeout(now, &mut out);
        if !out.is_empty() {
            self.run(out, ctx, &[]);
        }
    }

    fn on_sigchld(&mut self, _ctx: &mut Ctx<'_>) {
        keepalived_runtime::script::reap_all();
    }

    /// PeerEvents are for the VRRP and checker children; none come here.
    fn on_peer(&mut self, _from: ProcKind, _event: PeerEvent, _ctx: &mut Ctx<'_>) {}

    /// keepalived reload_bfd_thread: unchanged sessions keep their state
    /// and socket, removed ones are sent AdminDown.
    fn reload(&mut self, cfg: &Config, ctx: &mut Ctx<'_>) -> bool {
        let new = engine_config(cfg);
        self.wake_spacing = wake_spacing(&new);
        let (tx, removed) = self.reuse_tx(&new);
        let now = self.now();
        let old = std::mem::replace(&mut self.engine, Engine::new(EngineConfig::default(), 0));
        let mut out = Vec::new();
        self.engine = old.reload(new, now, &mut out);
        self.send_error = vec![false; tx.len()];
        self.tx = tx;
        self.retry_tx_at = None;
        self.schedule_tx_retry();
        self.open_rx(Some(ctx.registry));
        self.run(out, ctx, &removed);
        self.announce(ctx);
        true
    }

    fn dump(&mut self, what: DumpRequest, cfg: &Config) -> Option<String> {
        let now = self.now();
        match what {
            DumpRequest::Data => {
                Some(dump::bfd_data(cfg, &self.engine, self.epoch, now, &self.rx_fds(), &self.tx_fds()))
            }
            DumpRequest::Stats { .. } => Some(dump::bfd_stats(&self.engine)),
            DumpRequest::Json => None,
        }
    }

    fn status(&mut self) -> Option<serde_json::Value> {
        Some(status::status(&self.engine, self.now()))
    }

    /// keepalived stops its sessions silently; RFC 5880 §6.8.16: AdminDown
    /// (diag 7) tells the peers at once (docs/compat.md).
    fn shutdown(&mut self, ctx: &mut Ctx<'_>) {
        self.feed(Input::Shutdown, ctx);
    }
}

impl BfdChild {
    /// The engine's next deadline or the sending sockets' retry, whichever is first.
    fn next_deadline(&self) -> Option<Instant> {
        match (self.engine.poll_timeout(), self.retry_tx_at) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    fn rx_fds(&self) -> Vec<i32> {
        self.rx.iter().map(|r| r.sock.as_raw_fd()).collect()
    }
    fn tx_fds(&self) -> Vec<i32> {
        self.tx.iter().map(|s| s.as_ref().map_or(-1, |s| s.as_raw_fd())).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use keepalived_config::{parse_str, ParseOptions, Subsystems};

    fn sessions(text: &str) -> Vec<SessionConfig> {
        let opts = ParseOptions { validate: true, active: Subsystems::all(), ..ParseOptions::default() };
        engine_config(&parse_str("t.conf", text, &opts).config).sessions
    }

    /// RFC 5881 §5: 255 by default for IPv6 too (keepalived 2.2.7: 64);
    /// `hoplimit`/`ttl` still win.
    #[test]
    fn ipv6_hop_limit_defaults_to_255_and_keywords_still_set_it() {
        let s = sessions(
            "bfd_instance A {\n neighbor_ip 2001:db8::2\n}\nbfd_instance B {\n neighbor_ip 2001:db8::3\n hoplimit 64\n}\n\
             bfd_instance C {\n neighbor_ip 192.0.2.2\n}\nbfd_instance D {\n neighbor_ip 192.0.2.3\n ttl 100\n}\n",
        );
        let ttl: Vec<(&str, u8)> = s.iter().map(|s| (s.name.as_str(), s.ttl)).collect();
        assert_eq!(ttl, [("A", 255), ("B", 64), ("C", 255), ("D", 100)]);
        // A keeps accepting what a default keepalived 2.2.7 peer sends
        // (hop limit 64): its threshold stays 64 - max_hops.
        let threshold: Vec<u8> = s.iter().map(|s| s.ttl - s.max_hops.min(s.ttl)).collect();
        assert_eq!(threshold, [64, 64, 255, 100]);
        let s = sessions("bfd_instance E {\n neighbor_ip 2001:db8::4\n max_hops 4\n}\n");
        assert_eq!((s[0].ttl, s[0].ttl - s[0].max_hops), (255, 60));
    }
}
