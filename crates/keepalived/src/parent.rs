//! The parent process: reads the configuration in "parent mode", decides
//! which children run (VRRP, checker, BFD), forks them, keeps them alive and
//! orchestrates signals and reloads (keepalived/core/main.c).
//!
//! One mio loop: the signal pipe (signal-hook-mio), one channel per child
//! (watchdog hellos and reports), and a timer heap (hellos, respawn delays,
//! the stop deadline, the reload check's deadline, systemd watchdog).

use crate::child;
use crate::cli::Cli;
use crate::config_copy::ConfigCopy;
use crate::dumps;
use crate::files::{self, DumpKind, PidFile, PidFiles, PidPaths};
use crate::metrics::{self, MetricsServer};
use crate::metrics_render::Facts;
use crate::status::{self, StatusServer};
use keepalived_config::{parse_file, Config, ParseOptions, Parsed, Severity, Subsystems};
use keepalived_runtime::channel::ReadStatus;
use keepalived_runtime::{Channel, ChildMsg, ParentMsg, ProcKind, TimerHeap, TimerId};
use mio::{Events, Interest, Poll, Token};
use nix::sys::signal::{kill, Signal};
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::Pid;
use signal_hook::consts::signal::*;
use signal_hook_mio::v1_0::Signals;
use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};
use tracing::{error, info, warn};

/// keepalived's exit codes (lib/scheduler.h).
pub const EXIT_OK: i32 = 0;
pub const EXIT_FATAL: i32 = 1;
pub const EXIT_CONFIG: i32 = 2;
pub const EXIT_MISSING_PERMISSION: i32 = 4;
pub const EXIT_NO_CONFIG: i32 = 6;

/// Watchdog: a hello every second; a child that has not answered for this
/// long is taken as stuck (deadlocked, or stopped) and is killed, then
/// respawned like any other dead child.
pub const HELLO_INTERVAL: Duration = Duration::from_secs(1);
pub fn hello_timeout() -> Duration {
    // Tests shorten it; production keeps keepalived-like patience.
    std::env::var("KEEPALIVED_RS_WATCHDOG_TIMEOUT_MS")
        .ok()
        .and_then(|v| v.parse().ok())
        .map(Duration::from_millis)
        .unwrap_or(Duration::from_secs(5))
}

/// Until a child's loop first answers a hello it is reading its configuration and building its
/// subsystem, and cannot answer: a huge (or pathological but bounded) configuration may take longer than
/// the watchdog's timeout, which would kill and respawn the child forever. A child that has not
/// started in this time is still taken as stuck. A reload is the same work, so the allowance holds
/// from the SIGHUP until the child reports its reload done (a checker child reloading in an
/// emulated guest was killed mid-reload after 5.9 s, and its respawn flapped a real server).
const STARTUP_ALLOWANCE: Duration = Duration::from_secs(60);

/// How long the watchdog waits for a child's answer: the hello timeout once its loop runs, the
/// start-up allowance while it reads a configuration (at start or on reload).
fn watchdog_limit(answered: bool, reloading: bool, timeout: Duration) -> Duration {
    if answered && !reloading {
        timeout
    } else {
        timeout.max(STARTUP_ALLOWANCE)
    }
}

/// How long `reload_check_config`'s test may take (keepalived: 5 s).
const RELOAD_CHECK_TIMEOUT: Duration = Duration::from_secs(5);

const SIGNALS: Token = Token(0);

fn token_of(kind: ProcKind) -> Token {
    Token(match kind {
        ProcKind::Vrrp => 1,
        ProcKind::Checker => 2,
        ProcKind::Bfd => 3,
    })
}

#[derive(Debug, Clone, Copy)]
enum PTimer {
    Hello,
    Restart(ProcKind),
    StopDeadline,
    ReloadCheckTimeout,
    SdWatchdog,
    /// A status request's children have had their time.
    StatusDeadline(u64),
}

struct Slot {
    kind: ProcKind,
    pid: Option<Pid>,
    chan: Option<Channel<ParentMsg, ChildMsg>>,
    started: Instant,
    /// keepalived `calc_restart_delay` state (seconds).
    next_restart_delay: u64,
    restart_timer: Option<TimerId>,
    hello_seq: u64,
    last_ack: Instant,
    ready: bool,
    /// The child's loop has answered a hello since it was started (until then it is reading its
    /// configuration and building its subsystem: the watchdog's start-up allowance).
    answered: bool,
    reloading: bool,
}

impl Slot {
    fn new(kind: ProcKind) -> Slot {
        let now = Instant::now();
        Slot {
            kind,
            pid: None,
            chan: None,
            started: now,
            next_restart_delay: 0,
            restart_timer: None,
            hello_seq: 0,
            last_ack: now,
            ready: false,
            answered: false,
            reloading: false,
        }
    }
}

struct Stop {
    code: i32,
    deadline: TimerId,
}

#[derive(Default)]
struct Reload {
    in_progress: bool,
    queued: bool,
    /// pid of the `--config-test` child run for `reload_check_config`.
    check_pid: Option<Pid>,
    check_timer: Option<TimerId>,
}

/// What the parent's loop ends with.
pub enum Outcome {
    /// The daemon stops with this status.
    Exit(i32),
    /// We are a freshly forked child: the caller drops the parent's state
    /// and runs the child.
    Child(Box<child::ChildStart>),
}

pub struct Parent {
    cli: Cli,
    conf_file: String,
    config_id: Option<String>,
    cfg: Config,
    poll: Poll,
    signals: Signals,
    timers: TimerHeap<PTimer>,
    slots: HashMap<ProcKind, Slot>,
    /// Children this configuration wants.
    wanted: HashSet<ProcKind>,
    pid_paths: PidPaths,
    /// All pid files, created and locked by the parent before forking, as
    /// keepalived does; each child writes its own pid into its file.
    pidfiles: PidFiles,
    /// The consolidated configuration the children read.
    copy: std::sync::Arc<ConfigCopy>,
    stop: Option<Stop>,
    reload: Reload,
    sd_notify: bool,
    /// Set after fork in the child branch: unwind to `main` as a child.
    become_child: Option<Box<child::ChildStart>>,
    /// The last state of every BFD session relayed to each child, replayed
    /// to a respawned VRRP or checker child (which starts with every
    /// tracked session down and would otherwise wait for the next change).
    bfd_states: HashMap<(ProcKind, String), bool>,
    /// The status socket (`keepalived --status`), if it could be opened.
    status: Option<StatusServer>,
    /// The Prometheus metrics endpoint (`--metrics`, `metrics_listen`), if set and opened.
    metrics: Option<MetricsServer>,
    /// Restarts and reloads, for the metrics.
    facts: Facts,
}

/// Read the configuration as the parent does: only global keywords are
/// acted on, other blocks only tell which subsystems have configuration.
pub fn read_parent_config(conf_file: &str, config_id: Option<String>, cli: &Cli) -> Parsed {
    let opts = ParseOptions {
        config_id,
        all_config: cli.all_config,
        active: Subsystems::none(),
        config_test: false,
        validate: true,
        system: crate::system::system_view(false),
        record_copy: true,
    };
    parse_file(conf_file, &opts)
}

/// Log a configuration's diagnostics through tracing (the daemon's log).
pub fn log_diags(parsed: &Parsed) {
    for d in parsed.diags.iter() {
        match d.severity {
            Severity::Notice => info!("{d}"),
            Severity::Warning | Severity::Deprecated => warn!("{d}"),
            _ => warn!("{d}"),
        }
    }
}

/// Which children the configuration needs (keepalived `running_vrrp()` and
/// friends, with `-P -C -B --all`).
pub fn wanted_children(cfg: &Config, cli: &Cli) -> HashSet<ProcKind> {
    let mut w = HashSet::new();
    let have_static = !cfg.ip.addresses.is_empty() || !cfg.ip.routes.is_empty() || !cfg.ip.rules.is_empty();
    if !cli.check_only && (cfg.seen.vrrp || have_static || cli.all) {
        w.insert(ProcKind::Vrrp);
    }
    if !cli.vrrp_only && (cfg.seen.check || cli.all) {
        w.insert(ProcKind::Checker);
    }
    if !cli.no_bfd && cfg.seen.bfd {
        w.insert(ProcKind::Bfd);
    }
    w
}

impl Parent {
    pub fn new(
        cli: Cli,
        conf_file: String,
        config_id: Option<String>,
        cfg: Config,
        pid_paths: PidPaths,
        pidfiles: PidFiles,
        copy: ConfigCopy,
    ) -> std::io::Result<Parent> {
        let poll = Poll::new()?;
        let mut signals = Signals::new([
            SIGHUP,
            SIGTERM,
            SIGINT,
            SIGUSR1,
            SIGUSR2,
            SIGCHLD,
            keepalived_sys::sigrtmin() + 2,
            keepalived_sys::sigrtmax() - 1,
        ])?;
        poll.registry().register(&mut signals, SIGNALS, Interest::READABLE)?;
        let wanted = wanted_children(&cfg, &cli);
        let sd_notify = std::env::var_os("NOTIFY_SOCKET").is_some();
        let status = open_status(&cli, &cfg, &pid_paths, &poll);
        let metrics = open_metrics(&cli, &cfg, &poll);
        let facts = Facts { start_time: unix_now(), ..Facts::default() };
        Ok(Parent {
            cli,
            conf_file,
            config_id,
            cfg,
            poll,
            signals,
            timers: TimerHeap::new(),
            slots: HashMap::new(),
            wanted,
            pid_paths,
            pidfiles,
            copy: std::sync::Arc::new(copy),
            stop: None,
            reload: Reload::default(),
            sd_notify,
            become_child: None,
            bfd_states: HashMap::new(),
            status,
            metrics,
            facts,
        })
    }

    fn notify(&self, states: &[sd_notify::NotifyState<'_>]) {
        if self.sd_notify {
            if let Err(e) = sd_notify::notify(states) {
                warn!("systemd notification failed: {e}");
            }
        }
    }

    /// Start the wanted children and run the loop until the daemon stops
    /// (or, in a forked child, until the fork returns there).
    pub fn run(mut self) -> Outcome {
        if self.wanted.is_empty() {
            warn!("Warning - keepalived has no configuration to run");
        }
        // Children whose subsystem has no configuration: their pid files
        // go (keepalived removes unused child pid files).
        let running: Vec<ProcKind> = self.wanted.iter().copied().collect();
        self.pidfiles.remove_unused(&running);
        for k in ProcKind::ALL {
            if !self.wanted.contains(&k) {
                let _ = std::fs::remove_file(self.pid_paths.for_kind(k));
            }
        }
        let kinds: Vec<ProcKind> = self.ordered_wanted();
        // The children inherit our heap: give its free pages back first.
        keepalived_sys::malloc_trim();
        for k in kinds {
            self.start_child(k);
            if let Some(c) = self.become_child.take() {
                return Outcome::Child(c);
            }
        }
        // Our start-up (the parser above all) is done.
        keepalived_sys::settle_memory();
        let now = Instant::now();
        self.timers.add(now, HELLO_INTERVAL, PTimer::Hello);
        if let Some(wd) = sd_notify::watchdog_enabled() {
            if self.sd_notify {
                self.timers.add(now, wd / 2, PTimer::SdWatchdog);
            }
        }
        self.maybe_ready();
        let mut events = Events::with_capacity(64);
        loop {
            let timeout = self.timers.poll_timeout(Instant::now());
            if let Err(e) = self.poll.poll(&mut events, timeout) {
                if e.kind() != std::io::ErrorKind::Interrupted {
                    error!("Terminating: poll returned error {e}");
                    return Outcome::Exit(EXIT_FATAL);
                }
            }
            for ev in events.iter() {
                match ev.token() {
                    SIGNALS => {
                        let sigs: Vec<i32> = self.signals.pending().collect();
                        for s in sigs {
                            self.on_signal(s);
                            if let Some(c) = self.become_child.take() {
                                return Outcome::Child(c);
                            }
                        }
                    }
                    t if status::owns(t) => self.on_status(t),
                    t if metrics::owns(t) => self.on_metrics(t),
                    t => {
                        if let Some(kind) = ProcKind::ALL.into_iter().find(|k| token_of(*k) == t) {
                            self.on_channel(kind, ev.is_writable());
                        }
                    }
                }
            }
            let now = Instant::now();
            while let Some((_, t)) = self.timers.pop_expired(now) {
                self.on_timer(t);
                if let Some(c) = self.become_child.take() {
                    return Outcome::Child(c);
                }
            }
            if let Some(code) = self.finished() {
                return Outcome::Exit(code);
            }
        }
    }

    /// keepalived starts the checker, then VRRP, then BFD.
    fn ordered_wanted(&self) -> Vec<ProcKind> {
        [ProcKind::Checker, ProcKind::Vrrp, ProcKind::Bfd].into_iter().filter(|k| self.wanted.contains(k)).collect()
    }

    fn start_child(&mut self, kind: ProcKind) {
        let slot = self.slots.entry(kind).or_insert_with(|| Slot::new(kind));
        if slot.pid.is_some() {
            return;
        }
        let (parent_end, child_end) = match mio::net::UnixStream::pair() {
            Ok(p) => p,
            Err(e) => {
                error!("Unable to create the channel for the {} child: {e}", kind.label());
                return;
            }
        };
        // The child's pid file: locked by us (again, after a respawn).
        if self.pidfiles.child_mut(kind).is_none() {
            match PidFile::lock(self.pid_paths.for_kind(kind)) {
                Ok(p) => *pid_slot(&mut self.pidfiles, kind) = Some(p),
                Err(e) => error!("{e}"),
            }
        }
        let parent_pid = nix::unistd::getpid();
        match keepalived_sys::fork() {
            Ok(nix::unistd::ForkResult::Child) => {
                drop(parent_end);
                let pidfile = pid_slot(&mut self.pidfiles, kind).take();
                self.become_child = Some(Box::new(child::ChildStart {
                    kind,
                    stream: Some(child_end),
                    cli: self.cli.clone(),
                    conf_file: self.conf_file.clone(),
                    config_id: self.config_id.clone(),
                    parent_pid,
                    pidfile,
                    copy: self.copy.clone(),
                }));
            }
            Ok(nix::unistd::ForkResult::Parent { child }) => {
                drop(child_end);
                let mut chan = Channel::new(parent_end);
                if let Err(e) = self.poll.registry().register(
                    &mut chan.stream,
                    token_of(kind),
                    Interest::READABLE | Interest::WRITABLE,
                ) {
                    error!("Unable to watch the {} child's channel: {e}", kind.label());
                }
                let now = Instant::now();
                let slot = self.slots.entry(kind).or_insert_with(|| Slot::new(kind));
                slot.pid = Some(child);
                slot.chan = Some(chan);
                slot.started = now;
                slot.last_ack = now;
                slot.ready = false;
                slot.reloading = false;
                info!("Starting {} child process, pid={}", kind.label(), child);
                self.replay_bfd_states(kind);
            }
            Err(e) => {
                error!("Unable to fork the {} child: {e}", kind.label());
            }
        }
    }

    fn on_channel(&mut self, kind: ProcKind, writable: bool) {
        let Some(slot) = self.slots.get_mut(&kind) else { return };
        let Some(chan) = slot.chan.as_mut() else { return };
        if writable {
            let _ = chan.flush();
        }
        let mut msgs = Vec::new();
        let status = chan.read(&mut msgs);
        let bad = chan.bad_messages;
        let mut relay = Vec::new();
        let mut status_answers = Vec::new();
        for m in msgs {
            match m {
                ChildMsg::HelloAck { seq } => {
                    if seq == slot.hello_seq {
                        slot.last_ack = Instant::now();
                        slot.answered = true;
                    }
                }
                ChildMsg::Ready => {
                    slot.ready = true;
                    slot.last_ack = Instant::now();
                }
                ChildMsg::Reloaded { ok } => {
                    slot.reloading = false;
                    slot.last_ack = Instant::now();
                    if !ok {
                        warn!("{} child refused the new configuration; it keeps the previous one", kind.label());
                    }
                }
                ChildMsg::Peer { to, event } => relay.push((to, event)),
                ChildMsg::Status { id, doc } => {
                    slot.last_ack = Instant::now();
                    status_answers.push((id, doc));
                }
            }
        }
        self.relay_peer_events(kind, relay);
        for (id, doc) in status_answers {
            self.route_answer(id, kind, doc);
        }
        let Some(slot) = self.slots.get_mut(&kind) else { return };
        if bad > 0 {
            warn!(count = bad, "{} child sent {} malformed channel messages", kind.label(), bad);
            if let Some(c) = slot.chan.as_mut() {
                c.bad_messages = 0;
            }
        }
        if matches!(status, Ok(ReadStatus::Closed) | Err(_)) {
            // The child is exiting; SIGCHLD tells how. Stop watching.
            if let Some(mut c) = slot.chan.take() {
                let _ = self.poll.registry().deregister(&mut c.stream);
            }
        }
        self.maybe_ready();
        self.maybe_reload_done();
    }

    /// The status socket: serve its clients; a request goes to every
    /// running child, answered when all have replied or at the deadline.
    fn on_status(&mut self, token: Token) {
        let Some(st) = self.status.as_mut() else { return };
        let needs = st.on_ready(token, self.poll.registry());
        for id in needs {
            let (asked, not_running) = self.ask_children(id);
            if let Some(st) = self.status.as_mut() {
                st.asked(id, asked, not_running, self.poll.registry());
            }
        }
    }

    /// The metrics endpoint: a scrape asks the children as a status
    /// request does, with its own ids.
    fn on_metrics(&mut self, token: Token) {
        let Some(m) = self.metrics.as_mut() else { return };
        let ids = m.on_ready(token, self.poll.registry());
        for id in ids {
            let (asked, not_running) = self.ask_children(id);
            if let Some(m) = self.metrics.as_mut() {
                m.asked(id, asked, not_running, &self.facts, self.poll.registry());
            }
        }
    }

    /// Ask every running child for status request `id` (with a deadline);
    /// returns the children asked and the wanted ones not running.
    fn ask_children(&mut self, id: u64) -> (Vec<ProcKind>, Vec<ProcKind>) {
        let mut asked = Vec::new();
        for k in ProcKind::ALL {
            let Some(chan) = self.slots.get_mut(&k).filter(|s| s.pid.is_some()).and_then(|s| s.chan.as_mut()) else {
                continue;
            };
            match chan.send(&ParentMsg::Status { id }) {
                Ok(()) => asked.push(k),
                Err(e) => warn!("Unable to ask the {} child for its status: {e}", k.label()),
            }
        }
        let not_running: Vec<ProcKind> = self.ordered_wanted().into_iter().filter(|k| !asked.contains(k)).collect();
        if !asked.is_empty() {
            self.timers.add(Instant::now(), status::CHILD_TIMEOUT, PTimer::StatusDeadline(id));
        }
        (asked, not_running)
    }

    /// A child's status document goes to the status socket or the metrics
    /// endpoint, by the request's id.
    fn route_answer(&mut self, id: u64, kind: ProcKind, doc: serde_json::Value) {
        let registry = self.poll.registry();
        if metrics::is_metrics_id(id) {
            if let Some(m) = self.metrics.as_mut() {
                m.answer(id, kind, doc, &self.facts, registry);
            }
        } else if let Some(st) = self.status.as_mut() {
            st.answer(id, kind, doc, registry);
        }
    }

    /// Child-to-child events: passed on to the child they are for, if it
    /// runs (a child that is not running would not act on them either).
    fn relay_peer_events(&mut self, from: ProcKind, events: Vec<(ProcKind, keepalived_runtime::PeerEvent)>) {
        for (to, event) in events {
            if let keepalived_runtime::PeerEvent::Bfd { name, up } = &event {
                self.bfd_states.insert((to, name.clone()), *up);
            }
            let Some(chan) = self.slots.get_mut(&to).and_then(|s| s.chan.as_mut()) else { continue };
            if let Err(e) = chan.send(&ParentMsg::Peer { from, event }) {
                warn!("Unable to pass an event to the {} child: {e}", to.label());
            }
        }
    }

    /// A (re)started VRRP or checker child hears the BFD sessions' last
    /// states (queued on its channel, read once its loop runs). keepalived
    /// loses them: its respawned VRRP child keeps every track_bfd down until
    /// the session next changes (docs/compat.md).
    fn replay_bfd_states(&mut self, kind: ProcKind) {
        let mut states: Vec<(String, bool)> =
            self.bfd_states.iter().filter(|((to, _), _)| *to == kind).map(|((_, n), up)| (n.clone(), *up)).collect();
        states.sort();
        let Some(chan) = self.slots.get_mut(&kind).and_then(|s| s.chan.as_mut()) else { return };
        for (name, up) in states {
            let event = keepalived_runtime::PeerEvent::Bfd { name, up };
            if let Err(e) = chan.send(&ParentMsg::Peer { from: ProcKind::Bfd, event }) {
                warn!("Unable to pass an event to the {} child: {e}", kind.label());
            }
        }
    }

    /// READY=1 once every wanted child has read its configuration.
    fn maybe_ready(&mut self) {
        if self.reload.in_progress || self.stop.is_some() {
            return;
        }
        let all = self.wanted.iter().all(|k| self.slots.get(k).is_some_and(|s| s.ready));
        if all {
            self.notify(&[sd_notify::NotifyState::Ready]);
        }
    }

    fn on_signal(&mut self, sig: i32) {
        let rtmin2 = keepalived_sys::sigrtmin() + 2;
        let rtmax1 = keepalived_sys::sigrtmax() - 1;
        match sig {
            SIGCHLD => self.reap(),
            SIGTERM | SIGINT => {
                // keepalived's sigend (once).
                if self.stop.is_none() {
                    info!("Stopping");
                }
                self.begin_stop(EXIT_OK)
            }
            SIGHUP => self.request_reload(),
            SIGUSR1 => {
                info!("Printing parent data for process({}) on signal", std::process::id());
                let path = files::dump_path(DumpKind::ParentData, &self.cfg.global, &self.cfg.root);
                dumps::write(&path, &dumps::parent_data(&self.cfg, &self.child_pids()));
                self.relay(sig, false);
            }
            s if s == SIGUSR2 || s == rtmin2 || s == rtmax1 => self.relay(s, true),
            _ => {}
        }
    }

    fn child_pids(&self) -> Vec<(ProcKind, Option<i32>)> {
        ProcKind::ALL.into_iter().map(|k| (k, self.slots.get(&k).and_then(|s| s.pid).map(|p| p.as_raw()))).collect()
    }

    /// keepalived `propagate_signal`: USR2/STATS_CLEAR/JSON go to VRRP only.
    fn relay(&self, sig: i32, vrrp_only: bool) {
        for slot in self.slots.values() {
            if vrrp_only && slot.kind != ProcKind::Vrrp {
                continue;
            }
            if let Some(pid) = slot.pid {
                if let Err(e) = send_raw(pid, sig) {
                    warn!("Unable to relay signal {sig} to {} child ({pid}): {e}", slot.kind.label());
                }
            }
        }
    }

    fn reap(&mut self) {
        loop {
            match waitpid(None, Some(WaitPidFlag::WNOHANG)) {
                Ok(WaitStatus::StillAlive) | Err(_) => break,
                Ok(st) => {
                    let Some(pid) = st.pid() else { continue };
                    if self.reload.check_pid == Some(pid) {
                        self.reload_check_done(st);
                        continue;
                    }
                    let kind = self.slots.values().find(|s| s.pid == Some(pid)).map(|s| s.kind);
                    if let Some(kind) = kind {
                        self.child_exited(kind, pid, st);
                    }
                }
            }
        }
    }

    fn child_exited(&mut self, kind: ProcKind, pid: Pid, st: WaitStatus) {
        let Some(slot) = self.slots.get_mut(&kind) else { return };
        slot.pid = None;
        slot.ready = false;
        slot.answered = false;
        slot.reloading = false;
        if let Some(mut c) = slot.chan.take() {
            let _ = self.poll.registry().deregister(&mut c.stream);
        }
        // The child is gone: its pid file is stale.
        self.pidfiles.child_exit(kind);
        let _ = std::fs::remove_file(self.pid_paths.for_kind(kind));
        if self.stop.is_some() {
            return;
        }
        // keepalived's report_child_status names the child by its pid (its
        // child_finder_name knows only scripts): "pid 1234 exited ...".
        let prog = format!("pid {pid}");
        match st {
            WaitStatus::Exited(_, code @ (EXIT_FATAL | EXIT_CONFIG | EXIT_MISSING_PERMISSION)) => {
                let what = match code {
                    EXIT_CONFIG => "CONFIG",
                    EXIT_MISSING_PERMISSION => "missing permission",
                    _ => "FATAL",
                };
                error!("{prog} exited with permanent error {what}. Terminating");
                self.begin_stop(code);
                return;
            }
            WaitStatus::Exited(_, 0) => {}
            WaitStatus::Exited(_, code) => info!("{prog} exited with status {code}"),
            WaitStatus::Signaled(_, Signal::SIGSEGV, _) => {
                error!("{prog} exited due to segmentation fault (SIGSEGV).");
            }
            WaitStatus::Signaled(_, sig, _) => info!("{prog} exited due to signal {}", sig as i32),
            _ => {}
        }
        if self.cli.dont_respawn {
            error!(alert = true, "{} child process({}) died: Exiting", kind.label(), pid);
            // keepalived raises SIGTERM: sigend logs "Stopping".
            info!("Stopping");
            self.begin_stop(EXIT_OK);
            return;
        }
        error!(alert = true, "{} child process({}) died: Respawning", kind.label(), pid);
        *self.facts.restarts.entry(crate::subsystems::short_name(kind)).or_default() += 1;
        let delay = {
            let slot = self.slots.get_mut(&kind).expect("slot exists");
            calc_restart_delay(slot.started.elapsed(), &mut slot.next_restart_delay)
        };
        if delay > 0 {
            info!("Restart of {} process delayed {} seconds to limit respawn rate", kind.label(), delay);
        }
        let id = self.timers.add(Instant::now(), Duration::from_secs(delay), PTimer::Restart(kind));
        if let Some(slot) = self.slots.get_mut(&kind) {
            slot.restart_timer = Some(id);
        }
        self.maybe_reload_done();
    }

    fn on_timer(&mut self, t: PTimer) {
        match t {
            PTimer::Hello => {
                self.watchdog();
                if let Some(st) = self.status.as_mut() {
                    st.sweep(self.poll.registry());
                }
                if let Some(m) = self.metrics.as_mut() {
                    m.sweep(self.poll.registry());
                }
                self.timers.add(Instant::now(), HELLO_INTERVAL, PTimer::Hello);
            }
            PTimer::Restart(kind) => {
                if let Some(s) = self.slots.get_mut(&kind) {
                    s.restart_timer = None;
                }
                if self.stop.is_none() && self.wanted.contains(&kind) {
                    self.start_child(kind);
                }
            }
            PTimer::StopDeadline => {
                for slot in self.slots.values() {
                    if let Some(pid) = slot.pid {
                        warn!("{} process failed to die - forcing termination", slot.kind.label());
                        let _ = kill(pid, Signal::SIGKILL);
                    }
                }
            }
            PTimer::ReloadCheckTimeout => {
                if let Some(pid) = self.reload.check_pid {
                    warn!("config-test timed out");
                    let _ = kill(pid, Signal::SIGKILL);
                }
            }
            PTimer::StatusDeadline(id) => {
                let registry = self.poll.registry();
                if metrics::is_metrics_id(id) {
                    if let Some(m) = self.metrics.as_mut() {
                        m.expire(id, &self.facts, registry);
                    }
                } else if let Some(st) = self.status.as_mut() {
                    st.expire(id, registry);
                }
            }
            PTimer::SdWatchdog => {
                self.notify(&[sd_notify::NotifyState::Watchdog]);
                if let Some(wd) = sd_notify::watchdog_enabled() {
                    self.timers.add(Instant::now(), wd / 2, PTimer::SdWatchdog);
                }
            }
        }
    }

    /// Send hellos; kill children that stopped answering.
    fn watchdog(&mut self) {
        if self.stop.is_some() {
            return;
        }
        let timeout = hello_timeout();
        let now = Instant::now();
        for slot in self.slots.values_mut() {
            let Some(pid) = slot.pid else { continue };
            let limit = watchdog_limit(slot.answered, slot.reloading, timeout);
            if now.duration_since(slot.last_ack) > limit {
                error!(
                    "{} child process({}) has not answered the watchdog for {} ms - killing it",
                    slot.kind.label(),
                    pid,
                    now.duration_since(slot.last_ack).as_millis()
                );
                // SIGKILL works on a stopped process too; SIGCHLD follows.
                let _ = kill(pid, Signal::SIGKILL);
                slot.last_ack = now;
                continue;
            }
            if let Some(chan) = slot.chan.as_mut() {
                slot.hello_seq += 1;
                if let Err(e) = chan.send(&ParentMsg::Hello { seq: slot.hello_seq }) {
                    warn!("watchdog hello to {} child failed: {e}", slot.kind.label());
                }
            }
        }
    }

    fn begin_stop(&mut self, code: i32) {
        if let Some(s) = self.stop.as_mut() {
            // A permanent error while stopping wins over a plain stop.
            if s.code == EXIT_OK {
                s.code = code;
            }
            return;
        }
        // "Stopping" is logged by the callers that are keepalived's sigend;
        // a child's permanent error stops without it, as 2.2.7.
        self.notify(&[sd_notify::NotifyState::Stopping]);
        for slot in self.slots.values_mut() {
            if let Some(id) = slot.restart_timer.take() {
                self.timers.cancel(id);
            }
            if let Some(pid) = slot.pid {
                let _ = kill(pid, Signal::SIGTERM);
                // A stopped child must be able to act on SIGTERM.
                let _ = kill(pid, Signal::SIGCONT);
            }
        }
        let wait = Duration::from_secs(u64::from(self.cfg.root.child_wait_time));
        let deadline = self.timers.add(Instant::now(), wait, PTimer::StopDeadline);
        self.stop = Some(Stop { code, deadline });
    }

    /// When stopping and every child is gone: shutdown script, pid file,
    /// the exit status.
    fn finished(&mut self) -> Option<i32> {
        let stop = self.stop.as_ref()?;
        if self.slots.values().any(|s| s.pid.is_some()) {
            return None;
        }
        let code = stop.code;
        self.timers.cancel(stop.deadline);
        if let Some(script) = self.cfg.global.shutdown_script.clone() {
            let t = Duration::from_secs(u64::from(self.cfg.global.shutdown_script_timeout.max(1)));
            let opts = files::ScriptRunOpts::from_global(&self.cfg.global, self.cli.log_detail > 0);
            files::run_script_blocking_with(&script, t, "shutdown script", &opts);
        }
        self.pidfiles.parent_exit();
        if let Some(st) = self.status.take() {
            st.close(self.poll.registry());
        }
        if let Some(m) = self.metrics.take() {
            m.close(self.poll.registry());
        }
        Some(code)
    }

    fn request_reload(&mut self) {
        if self.stop.is_some() {
            return;
        }
        if self.reload.in_progress {
            self.reload.queued = true;
            info!("Reload requested while reloading - queued");
            return;
        }
        self.reload.in_progress = true;
        info!("Reloading ...");
        match sd_notify::NotifyState::monotonic_usec_now() {
            Ok(m) => self.notify(&[sd_notify::NotifyState::Reloading, m]),
            Err(_) => self.notify(&[sd_notify::NotifyState::Reloading]),
        }
        if let Some(log) = self.cfg.global.reload_check_config.clone() {
            self.start_reload_check(&log);
        } else {
            self.do_reload();
        }
    }

    /// `reload_check_config`: run `keepalived <args> --config-test=LOG`
    /// first; the reload goes ahead only if it exits 0.
    fn start_reload_check(&mut self, log: &str) {
        info!("validate conf before Reload");
        if log != "/dev/null" {
            let _ = std::fs::OpenOptions::new().write(true).create(true).truncate(true).open(log);
        }
        let exe = std::fs::read_link("/proc/self/exe").unwrap_or_else(|_| "keepalived".into());
        let mut cmd = std::process::Command::new(exe);
        cmd.args(self.cli.raw_args_for_config_test())
            .arg(format!("--config-test={log}"))
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null());
        match cmd.spawn() {
            Ok(child) => {
                self.reload.check_pid = Some(Pid::from_raw(child.id() as i32));
                // Reaped by our SIGCHLD handler, not by std.
                std::mem::forget(child);
                self.reload.check_timer =
                    Some(self.timers.add(Instant::now(), RELOAD_CHECK_TIMEOUT, PTimer::ReloadCheckTimeout));
            }
            Err(e) => {
                error!("Could not run config-test: {e}");
                self.end_reload();
            }
        }
    }

    fn reload_check_done(&mut self, st: WaitStatus) {
        self.reload.check_pid = None;
        if let Some(t) = self.reload.check_timer.take() {
            self.timers.cancel(t);
        }
        match st {
            WaitStatus::Exited(_, 0) => self.do_reload(),
            _ => {
                let log = self.cfg.global.reload_check_config.clone().unwrap_or_default();
                error!("New config failed validation, see {log} for details");
                self.end_reload();
            }
        }
    }

    /// Re-read the configuration; refuse changes keepalived cannot apply
    /// at a reload; signal the children (and start newly needed ones).
    fn do_reload(&mut self) {
        let mut parsed = read_parent_config(&self.conf_file, self.config_id.clone(), &self.cli);
        log_diags(&parsed);
        if parsed.main_missing || parsed.diags.stopped || parsed.diags.file_error {
            error!("Configuration could not be read - keeping the running configuration");
            self.end_reload();
            return;
        }
        let new_copy = parsed.copy.take().unwrap_or_default();
        let new = std::mem::take(&mut parsed.config);
        drop(parsed);
        let old = &self.cfg;
        let mut refused = false;
        let mut refuse = |what: &str| {
            error!("Cannot change {what} at a reload - please restart keepalived");
            refused = true;
        };
        if new.root.net_namespace != old.root.net_namespace {
            refuse("network namespace");
        }
        if new.root.net_namespace_ipvs != old.root.net_namespace_ipvs {
            refuse("IPVS network namespace");
        }
        if new.root.instance != old.root.instance {
            refuse("instance name");
        }
        if new.global.nftables != old.global.nftables {
            refuse("nftables table name");
        }
        if new.global.nftables_ipvs != old.global.nftables_ipvs {
            refuse("IPVS nftables table name");
        }
        if new.global.tmp_config_directory != old.global.tmp_config_directory {
            refuse("config_directory");
        }
        if new.global.disable_local_igmp != old.global.disable_local_igmp {
            refuse("disable_local_igmp");
        }
        if refused {
            self.end_reload();
            return;
        }
        self.cfg = new;
        // Children read the new configuration from the copy.
        if let Err(e) = self.copy.write(&new_copy) {
            error!("Unable to update the consolidated configuration: {e}");
        }
        drop(new_copy);
        self.wanted = wanted_children(&self.cfg, &self.cli);
        // Running children reload; children newly needed start.
        let kinds: Vec<ProcKind> = self.ordered_wanted();
        for k in ProcKind::ALL {
            let running = self.slots.get(&k).and_then(|s| s.pid);
            if let Some(pid) = running {
                if let Some(s) = self.slots.get_mut(&k) {
                    s.reloading = true;
                }
                let _ = kill(pid, Signal::SIGHUP);
            } else if kinds.contains(&k) && self.slots.get(&k).is_none_or(|s| s.restart_timer.is_none()) {
                self.start_child(k);
                if self.become_child.is_some() {
                    return;
                }
            }
        }
        keepalived_sys::settle_memory();
        self.maybe_reload_done();
    }

    fn maybe_reload_done(&mut self) {
        if !self.reload.in_progress || self.reload.check_pid.is_some() {
            return;
        }
        if self.slots.values().any(|s| s.reloading && s.pid.is_some()) {
            return;
        }
        self.end_reload();
    }

    fn end_reload(&mut self) {
        self.reload.in_progress = false;
        self.facts.reloads += 1;
        self.facts.last_reload_time = Some(unix_now());
        self.notify(&[sd_notify::NotifyState::Ready]);
        if self.reload.queued {
            self.reload.queued = false;
            info!("Processing queued reload");
            self.request_reload();
        }
    }
}

/// Open the metrics endpoint when asked for (`--metrics` over
/// `metrics_listen`); without it the daemon runs on (logged).
fn open_metrics(cli: &Cli, cfg: &Config, poll: &Poll) -> Option<MetricsServer> {
    let text = cli.metrics.as_deref().or(cfg.global.metrics_listen.as_deref())?;
    let opened =
        metrics::Addr::parse(text).and_then(|a| MetricsServer::open(&a, poll.registry()).map_err(|e| e.to_string()));
    match opened {
        Ok(m) => Some(m),
        Err(e) => {
            warn!("Unable to serve metrics on {text}: {e} - no metrics");
            None
        }
    }
}

fn unix_now() -> f64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0.0, |d| d.as_secs_f64())
}

/// Open the status socket; without it the daemon runs on (logged).
fn open_status(cli: &Cli, cfg: &Config, pid_paths: &PidPaths, poll: &Poll) -> Option<StatusServer> {
    let g = &cfg.global;
    let path = status::socket_path(cli.status_socket.as_deref(), g.status_socket.as_deref(), &pid_paths.parent);
    let group = cli.status_group.as_deref().or(g.status_socket_group.as_deref());
    match StatusServer::open(&path, group, poll.registry()) {
        Ok(s) => Some(s),
        Err(e) => {
            warn!("Unable to open the status socket {}: {e} - keepalived --status will not work", path.display());
            None
        }
    }
}

fn pid_slot(p: &mut PidFiles, k: ProcKind) -> &mut Option<PidFile> {
    match k {
        ProcKind::Vrrp => &mut p.vrrp,
        ProcKind::Checker => &mut p.checker,
        ProcKind::Bfd => &mut p.bfd,
    }
}

/// keepalived `calc_restart_delay`: restart at once after a minute of
/// uptime; otherwise 0, 1, 2, 4, … 32, 60, 60 … seconds.
pub fn calc_restart_delay(uptime: Duration, next: &mut u64) -> u64 {
    if uptime >= Duration::from_secs(60) {
        *next = 0;
        return 0;
    }
    let delay = *next;
    *next = match *next {
        0 => 1,
        n if n > 30 => 60,
        n => n * 2,
    };
    delay
}

/// kill(2) with a raw signal number (real-time signals).
fn send_raw(pid: Pid, sig: i32) -> std::io::Result<()> {
    keepalived_sys::kill_raw(pid.as_raw(), sig)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_watchdog_is_patient_while_a_child_reads_a_configuration() {
        let t = Duration::from_secs(5);
        assert_eq!(watchdog_limit(true, false, t), t);
        assert_eq!(watchdog_limit(false, false, t), STARTUP_ALLOWANCE);
        assert_eq!(watchdog_limit(true, true, t), STARTUP_ALLOWANCE);
        // A test's longer timeout is never shortened.
        assert_eq!(watchdog_limit(true, true, Duration::from_secs(90)), Duration::from_secs(90));
    }

    #[test]
    fn restart_backoff_sequence() {
        let mut next = 0;
        let quick = Duration::from_secs(1);
        let seq: Vec<u64> = (0..10).map(|_| calc_restart_delay(quick, &mut next)).collect();
        assert_eq!(seq, vec![0, 1, 2, 4, 8, 16, 32, 60, 60, 60]);
        // A child that ran for a minute restarts at once, and the sequence resets.
        assert_eq!(calc_restart_delay(Duration::from_secs(60), &mut next), 0);
        assert_eq!(calc_restart_delay(quick, &mut next), 0);
        assert_eq!(calc_restart_delay(quick, &mut next), 1);
    }
}
