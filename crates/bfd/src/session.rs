//! One BFD session: RFC 5880 §6.8 state variables, timers and the §6.8.6 state machine.
//!
//! Timer values are in µs, like the wire fields. keepalived's names are kept where they map
//! (`local_tx_intv`, `remote_tx_intv`, `local_detect_time`, …; see `bfd.h`).
use std::net::SocketAddr;

use keepalived_wire::bfd::{self as wire, Repr};

use crate::config::SessionConfig;
use crate::drop::LogLimit;
use crate::rng::{jitter_window, Rng};
use crate::types::{Action, Counters, Diag, Instant, SessionId, State};

/// How much earlier than its scheduled time a packet may leave when the child is awake anyway
/// ([`Session::schedule_tx`]), µs.
pub const TX_EARLY_MAX_US: u64 = 1_000;

/// A session's state.
#[derive(Clone, Debug)]
pub(crate) struct Session {
    pub cfg: SessionConfig,
    /// Neighbour address and port (3784 or 4784).
    pub dst: SocketAddr,
    pub local_state: State,
    pub remote_state: State,
    pub local_discr: u32,
    pub remote_discr: u32,
    pub local_diag: Diag,
    pub remote_diag: Diag,
    pub remote_min_tx: u32,
    pub remote_min_rx: u32,
    pub remote_mult: u8,
    pub remote_demand: bool,
    /// A packet has been accepted since the last reset (Required Min RX 0 means "stop" only then).
    pub remote_heard: bool,
    /// A poll sequence is in progress (RFC 5880 §6.5).
    pub poll: bool,
    /// Desired Min TX / Required Min RX in effect for the local computations: an increase of the
    /// first and a decrease of the second wait for the poll sequence while Up (RFC 5880 §6.8.3).
    pub tx_eff: u32,
    pub rx_eff: u32,
    /// max(Desired Min TX in effect, remote Required Min RX) (RFC 5880 §6.8.7).
    pub local_tx_intv: u32,
    /// max(Required Min RX in effect, remote Desired Min TX) (RFC 5880 §6.8.4).
    pub remote_tx_intv: u32,
    /// remote Detect Mult × `remote_tx_intv` (RFC 5880 §6.8.4).
    pub local_detect_time: u64,
    /// local Detect Mult × `local_tx_intv` (what the peer should use).
    pub remote_detect_time: u64,
    pub last_seen: Option<Instant>,
    pub next_tx: Option<Instant>,
    /// The earliest the scheduled packet may leave when the child is awake anyway (see
    /// [`Session::schedule_tx`]); never after `next_tx`, never before 75 % of the interval.
    pub tx_from: Option<Instant>,
    pub expire_at: Option<Instant>,
    pub reset_at: Option<Instant>,
    /// The deadline of this session's live entry in the engine's timer heap.
    pub queued: Option<Instant>,
    pub send_error: bool,
    pub counters: Counters,
    pub log_limit: LogLimit,
}

/// What [`Session::receive`] changed.
pub(crate) struct Outcome {
    /// The local state changed.
    pub state_changed: bool,
}

impl Session {
    pub fn new(cfg: SessionConfig, local_discr: u32) -> Session {
        let port = if cfg.multihop { wire::MULTIHOP_CONTROL_PORT } else { wire::CONTROL_PORT };
        let dst = SocketAddr::new(cfg.neighbor.to_canonical(), port);
        let mut s = Session {
            dst,
            local_state: State::Down,
            remote_state: State::Down,
            local_discr,
            remote_discr: 0,
            local_diag: Diag::None,
            remote_diag: Diag::None,
            remote_min_tx: 0,
            remote_min_rx: 0,
            remote_mult: 0,
            remote_demand: false,
            remote_heard: false,
            poll: false,
            tx_eff: cfg.idle_tx_us,
            rx_eff: cfg.min_rx_us,
            local_tx_intv: 0,
            remote_tx_intv: 0,
            local_detect_time: 0,
            remote_detect_time: 0,
            last_seen: None,
            next_tx: None,
            tx_from: None,
            expire_at: None,
            reset_at: None,
            queued: None,
            send_error: false,
            counters: Counters::default(),
            log_limit: LogLimit::default(),
            cfg,
        };
        s.recompute();
        s
    }

    /// The Desired Min TX Interval we advertise: `idle_tx` until Up (RFC 5880 §6.8.3: at least 1 s).
    pub fn desired_min_tx(&self) -> u32 {
        if self.local_state == State::Up {
            self.cfg.min_tx_us
        } else {
            self.cfg.idle_tx_us
        }
    }

    /// Recomputes the negotiated intervals and detection times (RFC 5880 §6.8.3, §6.8.4, §6.8.7).
    pub fn recompute(&mut self) {
        let up = self.local_state == State::Up;
        let desired = self.desired_min_tx();
        if !up || !self.poll || desired <= self.tx_eff {
            self.tx_eff = desired;
        }
        if !up || !self.poll || self.cfg.min_rx_us >= self.rx_eff {
            self.rx_eff = self.cfg.min_rx_us;
        }
        self.local_tx_intv = self.tx_eff.max(self.remote_min_rx);
        self.remote_tx_intv = self.rx_eff.max(self.remote_min_tx);
        self.local_detect_time = u64::from(self.remote_mult) * u64::from(self.remote_tx_intv);
        self.remote_detect_time = u64::from(self.cfg.multiplier) * u64::from(self.local_tx_intv);
        if matches!(self.local_state, State::Init | State::Up) {
            self.expire_at = self.last_seen.map(|t| t.add_us(self.local_detect_time));
        }
    }

    /// The earliest of the session's deadlines.
    pub fn due(&self) -> Option<Instant> {
        [self.next_tx, self.expire_at, self.reset_at].into_iter().flatten().min()
    }

    /// Periodic transmission is allowed (RFC 5880 §6.8.7).
    pub fn may_transmit(&self) -> bool {
        self.local_state != State::AdminDown
            // "MUST NOT transmit … if bfd.RemoteDiscr is zero and the system is taking the Passive role"
            && !(self.cfg.passive && self.remote_discr == 0)
            // "MUST NOT periodically transmit … if bfd.RemoteMinRxInterval is zero"
            && !(self.remote_heard && self.remote_min_rx == 0)
            // Demand mode: the peer asked for no periodic packets once both are Up.
            && !(self.remote_demand && self.local_state == State::Up && self.remote_state == State::Up)
    }

    /// The next transmission time: the interval reduced by a random 0-25 % (RFC 5880 §6.8.7).
    ///
    /// The packet may also leave up to [`TX_EARLY_MAX_US`] (and 1/16 of the interval) before that
    /// time, but never before the window's 75 %, when the child is awake for something else (a
    /// packet received, another session's transmission): the interval is still inside the RFC's
    /// window, and most transmissions then cost no wake-up of their own (docs/compat.md).
    pub fn schedule_tx(&mut self, now: Instant, rng: &mut Rng) {
        let wait = rng.jitter(self.local_tx_intv, self.cfg.multiplier);
        let lo = jitter_window(self.local_tx_intv, self.cfg.multiplier).map_or(wait, |(lo, _)| lo);
        let early = (u64::from(self.local_tx_intv) / 16).min(TX_EARLY_MAX_US).min(wait.saturating_sub(lo));
        self.next_tx = Some(now.add_us(wait));
        self.tx_from = Some(now.add_us(wait - early));
    }

    /// The scheduled packet may leave at `now` (see [`Session::schedule_tx`]).
    pub fn tx_due(&self, now: Instant) -> bool {
        self.tx_from.or(self.next_tx).is_some_and(|t| t <= now)
    }

    /// Builds and queues a control packet; `final_flag` answers a poll.
    pub fn send(&mut self, id: SessionId, final_flag: bool, out: &mut Vec<Action>) {
        if self.poll && final_flag {
            // RFC 5880 §6.8.3: the new parameters MAY ride in the F packet; keepalived then
            // considers its own poll done (`bfd_build_packet`).
            self.poll = false;
            self.recompute();
        }
        let r = Repr {
            diag: self.local_diag.code(),
            state: self.local_state.to_wire(),
            poll: self.poll,
            final_flag,
            control_plane_independent: false,
            demand: false,
            detect_mult: self.cfg.multiplier.max(1),
            my_discriminator: self.local_discr,
            your_discriminator: self.remote_discr,
            desired_min_tx: self.desired_min_tx(),
            required_min_rx: self.cfg.min_rx_us,
            required_min_echo_rx: 0,
            auth: None,
        };
        if let Ok(data) = r.to_vec() {
            self.counters.tx += 1;
            out.push(Action::Send { session: id, dst: self.dst, data });
        }
    }

    fn log(out: &mut Vec<Action>, level: &str, text: String) {
        out.push(Action::Log { level: level.into(), text });
    }

    fn event(&self, id: SessionId, up: bool, out: &mut Vec<Action>) {
        out.push(Action::Event {
            session: id,
            name: self.cfg.name.clone(),
            up,
            to_vrrp: self.cfg.to_vrrp,
            to_checker: self.cfg.to_checker,
        });
    }

    /// Down (keepalived `bfd_state_down` + `bfd_state_fall`).
    pub fn enter_down(&mut self, id: SessionId, now: Instant, diag: Diag, out: &mut Vec<Action>) {
        let was_up = self.local_state == State::Up;
        if was_up {
            Self::log(
                out,
                "warning",
                format!(
                    "({}) Entering Down state (Local diagnostic - {}, Remote diagnostic - {})",
                    self.cfg.name,
                    diag.text(),
                    self.remote_diag.text()
                ),
            );
        }
        self.local_state = State::Down;
        self.local_diag = diag;
        self.poll = false;
        self.expire_at = None;
        // RFC 5880 §6.8.1: bfd.RemoteDiscr is zeroed once a Detection Time passes without packets
        // (keepalived's reset thread).
        self.reset_at = (self.local_detect_time > 0).then(|| now.add_us(self.local_detect_time));
        self.recompute();
        // RFC 5882 §3.2 / keepalived: a peer's AdminDown is not a failure to report.
        if was_up && self.remote_state != State::AdminDown {
            self.event(id, false, out);
        }
    }

    /// AdminDown, diag 7 (keepalived `bfd_state_admindown`).
    pub fn enter_admin_down(&mut self, out: &mut Vec<Action>) {
        self.local_state = State::AdminDown;
        self.local_diag = Diag::AdminDown;
        self.poll = false;
        Self::log(out, "warning", format!("({}) Entering AdminDown state", self.cfg.name));
        self.next_tx = None;
        self.tx_from = None;
        self.expire_at = None;
        self.reset_at = None;
        self.recompute();
    }

    fn enter_init(&mut self) {
        self.local_state = State::Init;
        self.local_diag = Diag::None;
        self.reset_at = None;
        self.recompute();
    }

    fn enter_up(&mut self, id: SessionId, out: &mut Vec<Action>) {
        self.local_state = State::Up;
        self.local_diag = Diag::None;
        self.reset_at = None;
        Self::log(out, "info", format!("({}) Entering Up state", self.cfg.name));
        // Desired Min TX goes from idle_tx to min_tx: a timer change, so a poll (RFC 5880 §6.8.3).
        if self.cfg.idle_tx_us != self.cfg.min_tx_us {
            self.poll = true;
        }
        self.recompute();
        self.event(id, true, out);
    }

    /// Detection time passed without a packet (keepalived `bfd_expire_thread`).
    pub fn expire(&mut self, id: SessionId, now: Instant, out: &mut Vec<Action>) {
        self.expire_at = None;
        if self.local_state == State::Up {
            let dead = self.last_seen.map_or(0, |t| now.since(t));
            let overdue = dead.saturating_sub(self.local_detect_time);
            Self::log(
                out,
                "warning",
                format!("({}) Expired after {} ms ({} usec overdue)", self.cfg.name, dead / 1000, overdue),
            );
        }
        self.remote_discr = 0;
        self.enter_down(id, now, Diag::TimeExpired, out);
    }

    /// A Detection Time in Down without packets (keepalived `bfd_reset_state`).
    pub fn reset(&mut self) {
        self.reset_at = None;
        self.remote_state = State::Down;
        self.remote_discr = 0;
        self.remote_diag = Diag::None;
        self.remote_demand = false;
        self.poll = false;
        self.recompute();
    }

    /// A valid packet for this session (RFC 5880 §6.8.6 from "Set bfd.RemoteDiscr" on).
    pub fn receive(&mut self, id: SessionId, now: Instant, r: &Repr, out: &mut Vec<Action>) -> Outcome {
        let old_detect = self.local_detect_time;
        let old_state = self.local_state;
        self.remote_discr = r.my_discriminator;
        self.remote_state = State::from_wire(r.state);
        self.remote_diag = Diag::from_code(r.diag).unwrap_or(Diag::None);
        self.remote_min_rx = r.required_min_rx;
        self.remote_min_tx = r.desired_min_tx;
        self.remote_demand = r.demand;
        self.remote_mult = r.detect_mult;
        self.remote_heard = true;
        self.send_error = false;
        self.last_seen = Some(now);
        self.counters.rx += 1;
        if r.final_flag {
            // "If the Final (F) bit is set, terminate any Poll Sequence in progress" (§6.8.6).
            self.poll = false;
        }
        self.recompute();
        if self.local_detect_time != old_detect {
            let pad = self.cfg.name.len() + 2;
            Self::log(
                out,
                "info",
                format!("{:pad$} Detection time is {} us (was {} us)", "", self.local_detect_time, old_detect),
            );
        }
        self.step(id, now, out);
        Outcome { state_changed: self.local_state != old_state }
    }

    /// The state table of RFC 5880 §6.8.6.
    fn step(&mut self, id: SessionId, now: Instant, out: &mut Vec<Action>) {
        if self.remote_state == State::AdminDown {
            if self.local_state != State::Down {
                // RFC 5880 §6.8.6 and RFC 5882 §3.2: diag 3, Neighbor Signaled Session Down.
                self.enter_down(id, now, Diag::NeighborDown, out);
            }
            return;
        }
        match (self.local_state, self.remote_state) {
            (State::Down, State::Down) => self.enter_init(),
            (State::Down, State::Init) | (State::Init, State::Init | State::Up) => self.enter_up(id, out),
            (State::Up, State::Down) => self.enter_down(id, now, Diag::NeighborDown, out),
            _ => {}
        }
    }
}
