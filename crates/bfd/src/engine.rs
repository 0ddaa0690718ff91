//! The engine: every session's state machine and timers.
//!
//! SKELETON: the API the BFD child codes against; the state machine is being written.
use crate::config::EngineConfig;
use crate::types::{Action, Counters, Input, Instant, SessionId, State};

/// All BFD sessions of the child.
#[derive(Debug)]
pub struct Engine {
    cfg: EngineConfig,
    counters: Vec<Counters>,
}

/// What a dump shows of one session (keepalived's `dump_bfd` fields).
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
}

impl Engine {
    /// An engine for `cfg`; `seed` drives discriminators and jitter.
    pub fn new(cfg: EngineConfig, seed: u64) -> Engine {
        let _ = seed;
        let counters = vec![Counters::default(); cfg.sessions.len()];
        Engine { cfg, counters }
    }

    /// The configuration.
    pub fn config(&self) -> &EngineConfig {
        &self.cfg
    }

    /// Handle one input at `now`.
    pub fn handle(&mut self, now: Instant, input: Input, out: &mut Vec<Action>) {
        let _ = (now, input, out);
    }

    /// When [`Engine::handle_timeout`] must next be called.
    pub fn poll_timeout(&self) -> Option<Instant> {
        None
    }

    /// Run every timer due at or before `now`.
    pub fn handle_timeout(&mut self, now: Instant, out: &mut Vec<Action>) {
        let _ = (now, out);
    }

    /// The engine for `cfg`, keeping the state of surviving sessions; removed ones are sent AdminDown.
    pub fn reload(self, cfg: EngineConfig, now: Instant, out: &mut Vec<Action>) -> Engine {
        let _ = (now, out);
        Engine::new(cfg, 0)
    }

    /// A session's state for dumps.
    pub fn session(&self, id: SessionId) -> Option<SessionView> {
        let c = self.counters.get(id.0)?;
        Some(SessionView {
            local_state: State::Down,
            remote_state: State::Down,
            local_discr: 0,
            remote_discr: 0,
            counters: c.clone(),
        })
    }
}
