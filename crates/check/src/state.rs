//! The engine's per-object state, readable by the shell (dumps, SNMP-like views).
use serde::{Deserialize, Serialize};

use crate::types::Instant;

/// State of one IPVS destination (a real server or a sorry server): keepalived's `real_server_t` flags.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DestState {
    /// keepalived `alive`: in service (for a sorry server: swapped in).
    pub alive: bool,
    /// keepalived `set`: present in IPVS (possibly with weight 0 under inhibit_on_failure).
    pub set: bool,
    /// keepalived `effective_weight`: configured weight plus dynamic weights (MISC, FILE); IPVS gets it
    /// clamped to 0..=i32::MAX.
    pub effective_weight: i64,
    /// Number of checkers currently down (keepalived `num_failed_checkers`).
    pub num_failed: u32,
    /// `inhibit_on_failure` (`sorry_server_inhibit` for a sorry server).
    pub inhibit: bool,
    /// Carried over by a reload (keepalived `reloaded`).
    #[serde(skip)]
    pub(crate) reloaded: bool,
    /// Effective weight before the reload (keepalived `peffective_weight`).
    #[serde(skip)]
    pub(crate) previous_weight: i64,
}

/// State of one virtual server.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct VsState {
    /// The service is in IPVS (keepalived `alive`).
    pub alive: bool,
    /// keepalived `quorum_state_up`.
    pub quorum_up: bool,
    /// ha_suspend: how many instances of the virtual address are on the system.
    pub ha_suspend_addrs: u32,
    /// The sorry server, if configured.
    pub sorry: Option<DestState>,
}

impl VsState {
    /// The sorry server is swapped in.
    pub fn sorry_active(&self) -> bool {
        self.sorry.as_ref().is_some_and(|s| s.alive)
    }
}

/// State of one checker (keepalived `checker_t`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckerState {
    /// The checker's verdict on its real server (keepalived `is_up`).
    pub is_up: bool,
    /// At least one attempt has concluded (keepalived `has_run`): the first result sets the verdict
    /// whatever it was.
    pub has_run: bool,
    /// keepalived `retry_it`: failures counted so far in the current retry sequence.
    pub retry_it: u32,
    /// False while suspended by ha_suspend.
    pub enabled: bool,
    /// An attempt is outstanding (StartCheck emitted, no result yet).
    pub in_flight: bool,
    /// When the next attempt is due (polled checkers).
    pub next_run: Option<Instant>,
    /// Weight this checker adds to its real server (MISC dynamic, FILE).
    pub cur_weight: i64,
    /// HTTP_GET/SSL_GET: index of the URL the next attempt tests.
    pub step: usize,
    /// HTTP: the URL that failed (keepalived `failed_url`).
    pub failed_step: Option<usize>,
    /// MISC: last exit status acted upon (keepalived `last_exit_code`).
    pub last_exit_code: i64,
    /// MISC: when the last attempt started (keepalived `last_ran`).
    pub last_ran: Instant,
    /// SMTP: the next attempt is a `delay_before_retry` retry (keepalived
    /// `smtp_connect_thread`); other attempts (`smtp_start_check_thread`,
    /// the first included) start with `retry_it` 0.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub smtp_retry: bool,
}

impl CheckerState {
    pub(crate) fn new() -> CheckerState {
        CheckerState { is_up: true, enabled: true, ..CheckerState::default() }
    }
}

/// Where the engine is in its life.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Phase {
    /// Built, not started: initial file values and addresses are accepted.
    #[default]
    Configured,
    /// Between [`crate::Input::Start`] and [`crate::Input::Shutdown`]: checkers run.
    Running,
    /// After [`crate::Input::Shutdown`]: every input is ignored and counted.
    Stopped,
}
