//! The engine: every session's state machine and timers, demultiplexing, reload.
//!
//! Cost: a received packet is validated in place ([`keepalived_wire::bfd::Packet::validate`]),
//! demultiplexed by Your Discriminator in a `HashMap` (by source address, also hashed, while it is
//! zero) and handled without allocation but for the answer it may send. Timers live in one min-heap
//! with one live entry per session at most: [`Engine::poll_timeout`] is O(1), a timer O(log n).
//! A session's deadline that moves later (the detection timer on every packet) is not re-queued;
//! its entry fires early, finds nothing due and re-queues the real deadline.
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::net::{IpAddr, SocketAddr};

use keepalived_wire::bfd::{Packet, Repr};

use crate::config::{EngineConfig, SessionConfig};
use crate::drop::{report, DropReason, LogLimit};
use crate::rng::Rng;
use crate::session::{Session, TX_EARLY_MAX_US};
use crate::types::{Action, Counters, Diag, Input, Instant, SessionId, State};

/// All BFD sessions of the child.
#[derive(Debug)]
pub struct Engine {
    cfg: EngineConfig,
    sessions: Vec<Session>,
    by_discr: HashMap<u32, usize>,
    by_neighbor: HashMap<IpAddr, Vec<usize>>,
    rng: Rng,
    started: bool,
    global: Counters,
    global_limit: LogLimit,
    /// (deadline, session); an entry is live while it equals the session's `queued`.
    timers: BinaryHeap<Reverse<(Instant, usize)>>,
}

/// What a dump shows of one session (keepalived's `dump_bfd` and `bfd_dump_timers` fields).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct SessionView {
    /// Local state.
    pub local_state: State,
    /// Remote state.
    pub remote_state: State,
    /// Local discriminator.
    pub local_discr: u32,
    /// Remote discriminator.
    pub remote_discr: u32,
    /// Counters.
    pub counters: Counters,
    /// Local diagnostic.
    pub local_diag: Diag,
    /// Remote diagnostic.
    pub remote_diag: Diag,
    /// Desired Min TX Interval we advertise now (`min_tx` when Up, `idle_tx` otherwise), µs.
    pub local_min_tx_us: u32,
    /// Required Min RX Interval we advertise, µs.
    pub local_min_rx_us: u32,
    /// Our Detect Mult.
    pub local_mult: u8,
    /// Remote Desired Min TX Interval, µs.
    pub remote_min_tx_us: u32,
    /// Remote Required Min RX Interval, µs.
    pub remote_min_rx_us: u32,
    /// Remote Detect Mult.
    pub remote_mult: u8,
    /// Remote Demand bit.
    pub remote_demand: bool,
    /// A poll sequence is in progress.
    pub poll: bool,
    /// Our transmit interval (before jitter), µs.
    pub local_tx_intv_us: u32,
    /// The peer's transmit interval as we expect it, µs.
    pub remote_tx_intv_us: u32,
    /// Our detection time, µs.
    pub local_detect_time_us: u64,
    /// The peer's detection time as we compute it, µs.
    pub remote_detect_time_us: u64,
    /// When the last valid packet was accepted.
    pub last_seen: Option<Instant>,
    /// The last send failed (keepalived's `send error`).
    pub send_error: bool,
    /// Next transmission, detection expiry and reset, when scheduled.
    pub next_tx: Option<Instant>,
    /// Detection timer.
    pub expire_at: Option<Instant>,
    /// Reset of the remote variables in Down.
    pub reset_at: Option<Instant>,
}

impl Engine {
    /// An engine for `cfg`; `seed` drives discriminators and jitter.
    pub fn new(cfg: EngineConfig, seed: u64) -> Engine {
        let mut e = Engine {
            cfg: EngineConfig::default(),
            sessions: Vec::with_capacity(cfg.sessions.len()),
            by_discr: HashMap::with_capacity(cfg.sessions.len()),
            by_neighbor: HashMap::new(),
            rng: Rng::new(seed),
            started: false,
            global: Counters::default(),
            global_limit: LogLimit::default(),
            timers: BinaryHeap::new(),
        };
        for sc in &cfg.sessions {
            let discr = e.new_discr();
            e.by_discr.insert(discr, e.sessions.len());
            e.sessions.push(Session::new(sc.clone(), discr));
        }
        e.cfg = cfg;
        e.index_neighbors();
        e
    }

    /// A random, non-zero local discriminator no session uses (RFC 5880 §6.8.1).
    fn new_discr(&mut self) -> u32 {
        loop {
            let d = self.rng.next_u64() as u32;
            if d != 0 && !self.by_discr.contains_key(&d) {
                return d;
            }
        }
    }

    fn index_neighbors(&mut self) {
        self.by_neighbor.clear();
        for (i, s) in self.sessions.iter().enumerate() {
            self.by_neighbor.entry(s.cfg.neighbor.to_canonical()).or_default().push(i);
        }
    }

    /// The configuration.
    pub fn config(&self) -> &EngineConfig {
        &self.cfg
    }

    /// Drops counted when no session could be named (unknown discriminator or neighbour).
    pub fn global_counters(&self) -> &Counters {
        &self.global
    }

    /// Handle one input at `now`.
    pub fn handle(&mut self, now: Instant, input: Input, out: &mut Vec<Action>) {
        match input {
            Input::Start => self.start(now, out),
            Input::Packet { src, dst, ttl, multihop, data } => {
                self.handle_packet(now, src, dst, ttl, multihop, &data, out)
            }
            Input::SendFailed { session } => {
                if let Some(s) = self.sessions.get_mut(session.0) {
                    if !s.send_error {
                        out.push(Action::Log {
                            level: "error".into(),
                            text: format!("({}) Error sending packet", s.cfg.name),
                        });
                    }
                    s.send_error = true;
                }
            }
            Input::Shutdown => self.shutdown(out),
        }
    }

    /// Every session starts; the active ones send at once (keepalived `bfd_register_workers`).
    fn start(&mut self, now: Instant, out: &mut Vec<Action>) {
        if self.started {
            return;
        }
        self.started = true;
        for i in 0..self.sessions.len() {
            self.start_session(i, now, out);
        }
    }

    fn start_session(&mut self, i: usize, now: Instant, out: &mut Vec<Action>) {
        let s = &mut self.sessions[i];
        if s.local_state == State::AdminDown {
            return;
        }
        if s.may_transmit() {
            s.send(SessionId(i), false, out);
        }
        s.schedule_tx(now, &mut self.rng);
        self.queue(i);
    }

    /// Puts session `i`'s earliest deadline in the heap unless an entry at or before it is there.
    fn queue(&mut self, i: usize) {
        let s = &mut self.sessions[i];
        if let Some(d) = s.due() {
            if s.queued.is_none_or(|q| d < q) {
                s.queued = Some(d);
                self.timers.push(Reverse((d, i)));
            }
        }
    }

    /// AdminDown (diag 7) on the wire at once for every session that may transmit (RFC 5880 §6.8.16).
    fn shutdown(&mut self, out: &mut Vec<Action>) {
        for (i, s) in self.sessions.iter_mut().enumerate() {
            admin_down_and_send(s, SessionId(i), out);
        }
    }

    /// When [`Engine::handle_timeout`] must next be called (possibly a little early: it then does
    /// nothing and the next call gives the real deadline).
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.timers.peek().map(|Reverse((t, _))| *t)
    }

    /// Run every timer due at or before `now`, and send the packets that may leave a little early
    /// ([`Session::schedule_tx`]): the shell calls this on every wake-up, so a transmission near a
    /// received packet or another session's transmission shares its wake-up.
    pub fn handle_timeout(&mut self, now: Instant, out: &mut Vec<Action>) {
        let horizon = now.add_us(TX_EARLY_MAX_US);
        let mut not_yet = Vec::new();
        while let Some(&Reverse((t, i))) = self.timers.peek() {
            if t > horizon {
                break;
            }
            self.timers.pop();
            let Some(s) = self.sessions.get_mut(i) else { continue };
            if s.queued != Some(t) {
                continue; // superseded by an earlier entry
            }
            if t > now && !s.tx_due(now) {
                not_yet.push(Reverse((t, i)));
                continue;
            }
            s.queued = None;
            Self::run_session_timers(s, SessionId(i), now, &mut self.rng, out);
            self.queue(i);
        }
        self.timers.extend(not_yet);
    }

    fn run_session_timers(s: &mut Session, id: SessionId, now: Instant, rng: &mut Rng, out: &mut Vec<Action>) {
        if s.expire_at.is_some_and(|t| t <= now) {
            s.expire(id, now, out);
            // A Down goes on the wire at once, not at the next scheduled packet.
            if s.may_transmit() {
                s.send(id, false, out);
                s.schedule_tx(now, rng);
            }
        }
        if s.reset_at.is_some_and(|t| t <= now) {
            s.reset();
        }
        if s.tx_due(now) {
            if s.may_transmit() {
                s.send(id, false, out);
            }
            s.schedule_tx(now, rng);
        }
    }

    /// The session a packet names, if any: by Your Discriminator when non-zero, else by source (and
    /// local address when the session has one), as keepalived's `find_bfd_by_addr`.
    fn lookup(&self, your_discr: u32, src: IpAddr, dst: Option<IpAddr>, multihop: bool) -> Option<usize> {
        if your_discr != 0 {
            return self.by_discr.get(&your_discr).copied();
        }
        let dst = dst.map(|d| d.to_canonical());
        self.by_neighbor.get(&src)?.iter().copied().find(|&i| {
            let c = &self.sessions[i].cfg;
            c.multihop == multihop && (c.source.is_none() || dst.is_none() || c.source.map(|s| s.to_canonical()) == dst)
        })
    }

    fn drop_packet(
        &mut self,
        at: Option<usize>,
        reason: DropReason,
        src: SocketAddr,
        now: Instant,
        out: &mut Vec<Action>,
    ) {
        match at.and_then(|i| self.sessions.get_mut(i)) {
            Some(s) => report(reason, src, now, &mut s.counters, &mut s.log_limit, out),
            None => report(reason, src, now, &mut self.global, &mut self.global_limit, out),
        }
    }

    /// [`Input::Packet`] without the owned buffer: the shell can hand its receive buffer over
    /// as is (no allocation per received packet). Every check of RFC 5880 §6.8.6, then the
    /// session's state machine.
    #[allow(clippy::too_many_arguments)]
    pub fn handle_packet(
        &mut self,
        now: Instant,
        src: SocketAddr,
        dst: Option<IpAddr>,
        ttl: u8,
        multihop: bool,
        data: &[u8],
        out: &mut Vec<Action>,
    ) {
        if !self.started {
            // The shell feeds Start first; a packet before it starts the engine.
            self.start(now, out);
        }
        let src_ip = src.ip().to_canonical();
        let p = Packet::new_unchecked(data);
        if let Err(inv) = p.validate() {
            // Count it on the session it claims to be for when it can be told.
            let your = if data.len() >= 12 { p.your_discriminator() } else { 0 };
            let at = self.lookup(your, src_ip, dst, multihop);
            return self.drop_packet(at, inv.into(), src, now, out);
        }
        let your = p.your_discriminator();
        let Some(i) = self.lookup(your, src_ip, dst, multihop) else {
            let reason = if your != 0 { DropReason::UnknownDiscr(your) } else { DropReason::UnknownNeighbor };
            return self.drop_packet(None, reason, src, now, out);
        };
        if let Some(reason) = self.session_check(i, src_ip, ttl, multihop, p.auth_present()) {
            return self.drop_packet(Some(i), reason, src, now, out);
        }
        let Ok(r) = Repr::parse(&p) else {
            return; // validate() passed, so parse cannot fail
        };
        self.accept(i, now, &r, out);
    }

    /// The checks that need the session: mode, neighbour, GTSM, authentication, AdminDown.
    fn session_check(&self, i: usize, src: IpAddr, ttl: u8, multihop: bool, auth: bool) -> Option<DropReason> {
        let s = &self.sessions[i];
        let c = &s.cfg;
        if c.multihop != multihop {
            return Some(DropReason::ModeMismatch { multihop });
        }
        if c.neighbor.to_canonical() != src {
            return Some(DropReason::NeighborMismatch);
        }
        // keepalived `bfd_check_packet_ttl`: skipped when max_hops is 255 or the TTL is unknown (0);
        // with the defaults (ttl 255, max_hops 0) it is RFC 5881 §5's "TTL MUST be 255".
        if c.max_hops != u8::MAX && ttl != 0 && u16::from(c.max_hops) + u16::from(ttl) < u16::from(c.ttl) {
            let min = c.ttl - c.max_hops.min(c.ttl);
            return Some(DropReason::Ttl { ttl, min, v6: src.is_ipv6() });
        }
        if auth {
            return Some(DropReason::AuthUnexpected);
        }
        if s.local_state == State::AdminDown {
            return Some(DropReason::AdminDown);
        }
        None
    }

    /// A valid packet for session `i`: state machine, then the immediate answers: F for a P, and
    /// any state change on the wire at once.
    fn accept(&mut self, i: usize, now: Instant, r: &Repr, out: &mut Vec<Action>) {
        let id = SessionId(i);
        let s = &mut self.sessions[i];
        let old_intv = s.local_tx_intv;
        let o = s.receive(id, now, r, out);
        let sent_state = o.state_changed && s.may_transmit();
        if r.poll || sent_state {
            // RFC 5880 §6.8.7: a Final answers a Poll "without respect to the transmission timer";
            // a state change (a Down above all) goes out at once too.
            s.send(id, r.poll, out);
        }
        if s.next_tx.is_none() || sent_state {
            // Keep the spacing after an unscheduled state-change packet.
            s.schedule_tx(now, &mut self.rng);
        } else if s.local_tx_intv < old_intv {
            // A shorter interval applies now (keepalived `bfd_sender_reschedule`).
            let (due, from) = (s.next_tx, s.tx_from);
            s.schedule_tx(now, &mut self.rng);
            if due < s.next_tx {
                (s.next_tx, s.tx_from) = (due, from);
            }
        }
        self.queue(i);
    }

    /// The engine for `cfg`, keeping the state of surviving sessions (same name, neighbour and
    /// mode): discriminators, states, timers and counters. Changed timers start a poll sequence.
    /// Removed sessions send AdminDown (diag 7) at once; those [`Action::Send`]s carry the session's
    /// index in the OLD configuration, so the shell sends them before closing the old sockets.
    pub fn reload(mut self, cfg: EngineConfig, now: Instant, out: &mut Vec<Action>) -> Engine {
        let mut old: Vec<Option<Session>> = std::mem::take(&mut self.sessions).into_iter().map(Some).collect();
        let mut kept: Vec<Option<Session>> = Vec::with_capacity(cfg.sessions.len());
        for sc in &cfg.sessions {
            let found = old.iter_mut().find(|o| o.as_ref().is_some_and(|s| same_session(&s.cfg, sc)));
            kept.push(found.and_then(Option::take).map(|mut s| {
                update_config(&mut s, sc.clone());
                s
            }));
        }
        for (i, o) in old.iter_mut().enumerate() {
            if let Some(s) = o.as_mut() {
                admin_down_and_send(s, SessionId(i), out);
            }
        }
        let mut e = Engine {
            cfg: EngineConfig::default(),
            sessions: Vec::with_capacity(cfg.sessions.len()),
            by_discr: HashMap::with_capacity(cfg.sessions.len()),
            by_neighbor: HashMap::new(),
            rng: self.rng,
            started: self.started,
            global: self.global,
            global_limit: self.global_limit,
            timers: BinaryHeap::new(),
        };
        for s in kept.iter().flatten() {
            e.by_discr.insert(s.local_discr, usize::MAX);
        }
        let mut fresh = Vec::new();
        for (i, (k, sc)) in kept.into_iter().zip(&cfg.sessions).enumerate() {
            let s = match k {
                Some(s) => s,
                None => {
                    fresh.push(i);
                    let d = e.new_discr();
                    Session::new(sc.clone(), d)
                }
            };
            e.by_discr.insert(s.local_discr, i);
            e.sessions.push(s);
        }
        e.cfg = cfg;
        e.index_neighbors();
        if e.started {
            for i in fresh {
                e.start_session(i, now, out);
            }
        }
        for i in 0..e.sessions.len() {
            e.sessions[i].queued = None;
            e.queue(i);
        }
        e
    }

    /// A session's state for dumps.
    pub fn session(&self, id: SessionId) -> Option<SessionView> {
        let s = self.sessions.get(id.0)?;
        Some(SessionView {
            local_state: s.local_state,
            remote_state: s.remote_state,
            local_discr: s.local_discr,
            remote_discr: s.remote_discr,
            counters: s.counters.clone(),
            local_diag: s.local_diag,
            remote_diag: s.remote_diag,
            local_min_tx_us: s.desired_min_tx(),
            local_min_rx_us: s.cfg.min_rx_us,
            local_mult: s.cfg.multiplier,
            remote_min_tx_us: s.remote_min_tx,
            remote_min_rx_us: s.remote_min_rx,
            remote_mult: s.remote_mult,
            remote_demand: s.remote_demand,
            poll: s.poll,
            local_tx_intv_us: s.local_tx_intv,
            remote_tx_intv_us: s.remote_tx_intv,
            local_detect_time_us: s.local_detect_time,
            remote_detect_time_us: s.remote_detect_time,
            last_seen: s.last_seen,
            send_error: s.send_error,
            next_tx: s.next_tx,
            expire_at: s.expire_at,
            reset_at: s.reset_at,
        })
    }
}

/// Sessions survive a reload when name, neighbour (so family) and mode are unchanged.
fn same_session(a: &SessionConfig, b: &SessionConfig) -> bool {
    a.name == b.name && a.neighbor.to_canonical() == b.neighbor.to_canonical() && a.multihop == b.multihop
}

/// New configuration for a surviving session; a change of the advertised timers starts a poll
/// sequence (RFC 5880 §6.8.3; keepalived `bfd_cmp_timers` compares min_rx and min_tx).
fn update_config(s: &mut Session, sc: SessionConfig) {
    let old_tx = s.desired_min_tx();
    let old_rx = s.cfg.min_rx_us;
    s.cfg = sc;
    if s.desired_min_tx() != old_tx || s.cfg.min_rx_us != old_rx {
        s.poll = true;
    }
    s.recompute();
}

/// Ends a session: AdminDown, diag 7, one packet at once unless the session may not transmit.
fn admin_down_and_send(s: &mut Session, id: SessionId, out: &mut Vec<Action>) {
    if s.local_state == State::AdminDown {
        return;
    }
    let heard_passive = !(s.cfg.passive && s.remote_discr == 0);
    let started = s.next_tx.is_some();
    s.enter_admin_down(out);
    if started && heard_passive {
        s.send(id, false, out);
    }
}
