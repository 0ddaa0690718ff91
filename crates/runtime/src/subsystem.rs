//! The one seam between a child process and what it runs. The child's
//! frame (`keepalived/src/child.rs`) owns the loop, the signals and the
//! parent channel, and knows nothing of VRRP, health checks or BFD; each of
//! those is a [`Subsystem`] it drives through these calls:
//!
//! ```text
//!   register ─► loop { wait(poll_timeout) ─► on_ready(token)* ─► on_timers }
//!                       signals: SIGHUP ─► reload   SIGCHLD ─► on_sigchld
//!                                SIGUSR1/SIGUSR2/… ─► dump
//!                       parent:  Peer event ─► on_peer   Status ─► status
//!   SIGTERM ─► shutdown
//! ```
//!
//! Events for other children leave through [`Ctx::send`]; the parent
//! relays them (children have no channel to each other).

use crate::channel::{PeerEvent, ProcKind};
use keepalived_config::Config;
use mio::{Registry, Token};
use std::time::{Duration, Instant};

/// Tokens below this belong to the frame (signals, parent, timer).
pub const FIRST_TOKEN: usize = 16;

/// What a dump signal asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DumpRequest {
    /// SIGUSR1: the data file (`/tmp/keepalived.data`, `_check`, `_bfd`).
    Data,
    /// SIGUSR2 (and SIGRTMAX-1 with `clear`): the stats file.
    Stats { clear: bool },
    /// SIGRTMIN+2: the JSON file.
    Json,
}

/// What a subsystem can do to the world outside it, besides its own I/O.
pub struct Ctx<'a> {
    pub registry: &'a Registry,
    outbox: &'a mut Vec<(ProcKind, PeerEvent)>,
}

impl<'a> Ctx<'a> {
    pub fn new(registry: &'a Registry, outbox: &'a mut Vec<(ProcKind, PeerEvent)>) -> Ctx<'a> {
        Ctx { registry, outbox }
    }

    /// Send an event to another child (through the parent).
    pub fn send(&mut self, to: ProcKind, event: PeerEvent) {
        self.outbox.push((to, event));
    }
}

/// A child's work: VRRP, the checkers and IPVS, or BFD.
pub trait Subsystem {
    /// Register every event source, with tokens from [`FIRST_TOKEN`] on.
    /// Called once, before the loop; sources opened later are registered
    /// by the subsystem itself through [`Ctx::registry`].
    fn register(&mut self, ctx: &mut Ctx<'_>) -> std::io::Result<()>;

    /// Start work (first adverts, first checks) once registered.
    fn start(&mut self, ctx: &mut Ctx<'_>);

    /// How long the loop may sleep; `None`: until an event.
    fn poll_timeout(&mut self) -> Option<Duration>;

    /// When the loop must wake next; `None`: only on an event. A subsystem
    /// that knows its deadlines as instants returns them as they are, so
    /// that an unchanged deadline does not re-arm the loop's timer.
    fn poll_deadline(&mut self) -> Option<Instant> {
        self.poll_timeout().map(|t| Instant::now() + t)
    }

    /// The least time between two wake-ups that a busy subsystem asks for
    /// (`None`: wake at every event). Events arriving meanwhile are handled
    /// together at the next wake-up, which comes no later than
    /// [`Subsystem::poll_deadline`]: a wake-up costs a context switch, and a
    /// child woken by every one of thousands of packets a second spends
    /// more on switching than on the packets.
    fn wake_spacing(&self) -> Option<Duration> {
        None
    }

    /// A registered source is ready.
    fn on_ready(&mut self, token: Token, ctx: &mut Ctx<'_>);

    /// Called after every wake-up: run what is due.
    fn on_timers(&mut self, ctx: &mut Ctx<'_>);

    /// SIGCHLD: reap finished scripts.
    fn on_sigchld(&mut self, ctx: &mut Ctx<'_>);

    /// An event from another child.
    fn on_peer(&mut self, from: ProcKind, event: PeerEvent, ctx: &mut Ctx<'_>);

    /// SIGHUP with a re-read configuration (only this child's blocks).
    /// Returns false when the subsystem refused it and keeps running the
    /// old one.
    fn reload(&mut self, cfg: &Config, ctx: &mut Ctx<'_>) -> bool;

    /// A dump file's text, or `None` when this subsystem writes no such
    /// file (keepalived: only the VRRP child writes stats and JSON, and no
    /// JSON without instances). `cfg` is the configuration re-read for the
    /// data dump.
    fn dump(&mut self, what: DumpRequest, cfg: &Config) -> Option<String>;

    /// The live state for the status socket (`keepalived --status`): a
    /// JSON document, or `None` when this subsystem reports none yet.
    fn status(&mut self) -> Option<serde_json::Value> {
        None
    }

    /// SIGTERM: release what the subsystem holds (addresses, IPVS entries)
    /// as keepalived does at stop, and run the stop notifies.
    fn shutdown(&mut self, ctx: &mut Ctx<'_>);
}
