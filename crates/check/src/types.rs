//! Engine value types: virtual time, ids, inputs, actions and counters.
use serde::{Deserialize, Serialize};

/// A point in virtual time (shared by the engines and their event logs).
pub use keepalived_config::eventlog::Instant;

/// A virtual server: its index in [`crate::EngineConfig::virtual_servers`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct VsId(pub usize);

/// A real server: its virtual server and its index in that virtual server's `real_servers`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct RsId {
    /// The virtual server the real server belongs to.
    pub vs: VsId,
    /// Index in that virtual server's [`crate::VsConfig::real_servers`].
    pub rs: usize,
}

/// A checker: its index in [`crate::EngineConfig::checkers`] (global, configuration order; FILE_CHECKs follow
/// all other checkers, as keepalived queues them after parsing).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct CheckerId(pub usize);

/// An IPVS destination of a virtual server: a real server or the virtual server's sorry server.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Dest {
    /// A real server.
    Real(RsId),
    /// The sorry server of this virtual server.
    Sorry(VsId),
}

/// Outcome of one check attempt, as determined by the shell.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum CheckOutcome {
    /// The attempt succeeded (TCP connected, all of one HTTP URL's tests passed, script exited 0, …).
    Success,
    /// The attempt failed. `reason` is the checker's own detail text, logged by the engine where keepalived
    /// logs it:
    /// * TCP/UDP/PING/HTTP: a whole log line, logged only with `log_all_failures` /
    ///   `checker_log_all_failures` (e.g. `TCP connection to [10.0.0.1]:tcp:80 timeout.`);
    /// * DNS: the text after `DNS_CHECK ([rs]) `; SMTP: the text after `SMTP_CHECK `;
    /// * MISC: `exited with status N` or `due to signal N`; `None` means the script timed out.
    Failure {
        /// The checker's detail text (see above); `None` when it has none.
        reason: Option<String>,
    },
    /// MISC_CHECK with `misc_dynamic`: the script exited 2..=255; success with real server weight
    /// `exit - 2` (the value carried here; the shell maps exit codes).
    Weight(i64),
}

/// An event fed to the engine.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Input {
    /// Start: add the services and alive real servers, schedule the checkers (keepalived's
    /// `init_services` + `register_checkers_thread`). Feed the initial FILE_CHECK values ([`Input::FileValue`])
    /// and VS addresses ([`Input::VsAddress`]) before it.
    Start,
    /// Result of the attempt started by [`Action::StartCheck`]. Results for unknown checkers, for checkers
    /// with no attempt outstanding, or before Start / after Shutdown are ignored and counted.
    CheckResult {
        /// The checker the attempt belongs to.
        checker: CheckerId,
        /// What the attempt gave.
        result: CheckOutcome,
    },
    /// New value of a `track_file` (by its name). Before Start: the initial value (no actions).
    FileValue {
        /// The `track_file` name.
        name: String,
        /// The number the file now holds, as the shell read it.
        value: i64,
    },
    /// BFD session state change for the `bfd_instance` named.
    Bfd {
        /// The `bfd_instance` name.
        name: String,
        /// The session is Up (any other BFD state is down).
        up: bool,
    },
    /// ha_suspend: one instance of a virtual server's address was added to (`present`) or removed from the
    /// system (keepalived counts them: the same address on two interfaces counts twice). Before Start: the
    /// addresses present at start.
    VsAddress {
        /// The virtual server.
        vs: VsId,
        /// One more instance of its address appeared (`true`) or one went away (`false`).
        present: bool,
    },
    /// Shutdown: remove every service (keepalived's `clear_services`), cancel outstanding attempts.
    Shutdown,
}

/// Which SMTP alert to send (the shell formats keepalived's subject and body).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum AlertAbout {
    /// `SMTP_MSG_RS`: a checker changed the real server's state.
    Checker {
        /// The checker whose verdict changed.
        checker: CheckerId,
    },
    /// `SMTP_MSG_RS_SHUT`: the real server is removed (reload) or shut down.
    RsShut {
        /// The real server.
        rs: RsId,
    },
    /// `SMTP_MSG_VS`: quorum change of the virtual server.
    Vs {
        /// The virtual server.
        vs: VsId,
    },
}

/// Work for the shell.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Action {
    /// Run one attempt of this checker; answer with [`Input::CheckResult`] (possibly much later). For
    /// HTTP_GET/SSL_GET/SMTP_CHECK the URL / host to test is [`crate::Engine::checker`]`(id).step`.
    StartCheck {
        /// The checker to run.
        checker: CheckerId,
    },
    /// Abandon the outstanding attempt (shutdown, reload). A result arriving later is ignored.
    CancelCheck {
        /// The checker whose attempt is abandoned.
        checker: CheckerId,
    },
    /// `ipvsadm -A`: add the virtual service (all its group entries).
    AddService {
        /// The virtual server.
        vs: VsId,
    },
    /// `ipvsadm -E`: scheduler, flags, persistence changed (reload).
    EditService {
        /// The virtual server.
        vs: VsId,
    },
    /// `ipvsadm -D`.
    DelService {
        /// The virtual server.
        vs: VsId,
    },
    /// `ipvsadm -a` with this weight.
    AddDest {
        /// The virtual server.
        vs: VsId,
        /// The destination added.
        dest: Dest,
        /// Its IPVS weight.
        weight: i64,
    },
    /// `ipvsadm -e` with this weight (also inhibit_on_failure's weight 0 instead of removal).
    EditDest {
        /// The virtual server.
        vs: VsId,
        /// The destination changed.
        dest: Dest,
        /// Its new IPVS weight.
        weight: i64,
    },
    /// `ipvsadm -d`.
    DelDest {
        /// The virtual server.
        vs: VsId,
        /// The destination removed.
        dest: Dest,
    },
    /// `ipvsadm -C` (shutdown with `lvs_flush_on_stop` without argument).
    Flush,
    /// The real server's state changed: run notify_up / notify_down, write the FIFO
    /// `RS [rs] [vs] UP|DOWN` line (keepalived's `do_rs_notifies`).
    NotifyRs {
        /// The real server.
        rs: RsId,
        /// Its new state.
        up: bool,
    },
    /// The quorum state changed: run quorum_up / quorum_down, write the FIFO `VS [vs] UP|DOWN` line.
    NotifyQuorum {
        /// The virtual server.
        vs: VsId,
        /// The quorum is now reached.
        up: bool,
    },
    /// Send an SMTP alert (already filtered by smtp_alert and no_checker_emails): `up` is the subject's state
    /// word (`UP`/`DOWN`: for a checker alert the real server's state, for a VS the quorum state), `message`
    /// keepalived's body text (e.g. `=> TCP CHECK failed on service <=`).
    SmtpAlert {
        /// What the alert is about (selects keepalived's subject).
        about: AlertAbout,
        /// The subject's state word: `UP` when true, `DOWN` when false.
        up: bool,
        /// keepalived's body text.
        message: String,
    },
    /// A log line, with keepalived's text.
    Log(String),
    /// Only from [`crate::Engine::reload`]: an action about an object of the *previous* configuration (its
    /// ids index the old [`crate::EngineConfig`]): removed real servers and services, quorum notifies of
    /// the old virtual server, cancelled attempts of the old checkers.
    Retired(Box<Action>),
}

/// Inputs the engine ignored (counted, never fatal).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counters {
    /// CheckResult for a checker id out of range.
    pub unknown_checker: u64,
    /// CheckResult with no attempt outstanding (duplicate, after cancel, event-driven checker).
    pub unexpected_result: u64,
    /// Inputs before Start that have no meaning then, or any input after Shutdown.
    pub not_running: u64,
    /// FileValue / Bfd for a name nothing tracks, VsAddress for an unknown VS.
    pub unknown_name: u64,
    /// Check attempts started.
    pub checks_started: u64,
    /// Check results applied.
    pub results: u64,
}
