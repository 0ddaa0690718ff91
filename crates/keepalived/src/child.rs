//! A child process (VRRP, checker or BFD): forked by the parent, it dies
//! with the parent, re-reads the configuration with only its own blocks
//! active, writes its pid file and runs its own mio loop, answering the
//! parent's watchdog hellos and acting on the signals the parent relays.
//!
//! What the child runs is a [`Subsystem`] (built by [`crate::subsystems`]);
//! this frame drives any of them the same way: reload (SIGHUP), stop
//! (SIGTERM), dumps (SIGUSR1 data, SIGUSR2 / SIGRTMAX-1 stats, SIGRTMIN+2
//! JSON: a subsystem without such a file writes none), script reaping
//! (SIGCHLD) and events from the other children.

use crate::cli::Cli;
use crate::config_copy::ConfigCopy;
use crate::dumps;
use crate::files::{self, DumpKind, PidFile};
use crate::logging;
use crate::parent::{log_diags, EXIT_CONFIG, EXIT_FATAL, EXIT_OK};
use crate::subsystems;
use keepalived_config::{parse_copy, parse_file, Config, ParseOptions, Parsed};
use keepalived_runtime::channel::ReadStatus;
use keepalived_runtime::event_loop::TIMER;
use keepalived_runtime::{Channel, ChildMsg, Ctx, DumpRequest, EventLoop, ParentMsg, PeerEvent, ProcKind, Subsystem};
use mio::{Interest, Token};
use nix::sys::signal::Signal;
use nix::unistd::Pid;
use signal_hook::consts::signal::*;
use signal_hook_mio::v1_0::Signals;
use std::time::{Duration, Instant};
use tracing::{error, info, warn};

const SIGNALS: Token = Token(0);
const PARENT: Token = Token(1);

/// Everything a child needs, handed over from the parent at fork time.
pub struct ChildStart {
    pub kind: ProcKind,
    /// The child's end of the parent channel (taken when the loop starts).
    pub stream: Option<mio::net::UnixStream>,
    pub cli: Cli,
    pub conf_file: String,
    pub config_id: Option<String>,
    pub parent_pid: Pid,
    /// Our pid file, created and locked by the parent before the fork.
    pub pidfile: Option<PidFile>,
    /// The consolidated configuration written by the parent.
    pub copy: std::sync::Arc<ConfigCopy>,
}

/// Read the configuration with only this child's blocks active, from the
/// consolidated copy the parent wrote (the files only if it is unreadable).
pub fn read_child_config(kind: ProcKind, start: &ChildStart) -> Parsed {
    let opts = ParseOptions {
        config_id: start.config_id.clone(),
        all_config: start.cli.all_config,
        active: subsystems::blocks(kind),
        config_test: false,
        validate: true,
        system: crate::system::system_view(true),
        record_copy: false,
    };
    match start.copy.read() {
        Ok(text) if !text.is_empty() => parse_copy(&text, &opts),
        Ok(_) | Err(_) => {
            warn!("The consolidated configuration is unavailable - reading {}", start.conf_file);
            parse_file(&start.conf_file, &opts)
        }
    }
}

/// keepalived-rs test hook: `KEEPALIVED_RS_TEST_CHILD_EXIT=vrrp=2,bfd=4`
/// makes a child exit with that status once it has read its
/// configuration (exit codes 1/2/4 end the daemon; tests need a child to
/// produce them on demand). Not for production use.
fn test_exit_code(kind: ProcKind) -> Option<i32> {
    let v = std::env::var("KEEPALIVED_RS_TEST_CHILD_EXIT").ok()?;
    let name = subsystems::short_name(kind);
    v.split(',').find_map(|kv| {
        let (k, c) = kv.split_once('=')?;
        (k.trim() == name).then(|| c.trim().parse().ok()).flatten()
    })
}

/// keepalived's per-child process settings: name, nice, realtime
/// scheduling, memory locking, CPU affinity.
fn apply_process_settings(kind: ProcKind, cfg: &Config) {
    let s = subsystems::process_settings(kind, &cfg.global);
    if let Some(name) = &s.process_name {
        if let Ok(c) = std::ffi::CString::new(name.as_bytes()) {
            if let Err(e) = nix::sys::prctl::set_name(&c) {
                warn!("Unable to set process name {name}: {e}");
            }
        }
    }
    if s.priority != 0 {
        if let Err(e) = keepalived_sys::set_nice(s.priority) {
            warn!("Unable to set process priority to {}: {e}", s.priority);
        }
    }
    if let Some(rt) = s.rt_priority {
        if let Err(e) = keepalived_sys::set_realtime(rt, s.rlimit_rttime) {
            warn!("Unable to set realtime priority {rt}: {e}");
        }
    }
    if s.no_swap {
        use nix::sys::mman::{mlockall, MlockAllFlags};
        if let Err(e) = mlockall(MlockAllFlags::MCL_CURRENT | MlockAllFlags::MCL_FUTURE) {
            warn!("Unable to lock process memory: {e}");
        }
    }
    if !s.cpu_affinity.is_empty() {
        let mut set = nix::sched::CpuSet::new();
        for &c in &s.cpu_affinity {
            let _ = set.set(c as usize);
        }
        if let Err(e) = nix::sched::sched_setaffinity(Pid::from_raw(0), &set) {
            warn!("Unable to set CPU affinity: {e}");
        }
    }
}

/// Run the child; returns its exit status.
pub fn run(mut start: ChildStart) -> i32 {
    let kind = start.kind;
    // Die with the parent; if it is already gone, stop now (keepalived
    // checks the parent did not exit before PR_SET_PDEATHSIG took effect).
    let _ = nix::sys::prctl::set_pdeathsig(Signal::SIGTERM);
    if nix::unistd::getppid() != start.parent_pid {
        return EXIT_OK;
    }
    logging::set_process(Some(kind));
    let mut frame = match Frame::open(&mut start) {
        Ok(f) => f,
        Err(code) => return code,
    };
    let exit = frame.run(&start);
    info!("Stopped");
    if let Some(p) = frame.pidfile.take() {
        p.remove();
    }
    exit
}

/// The child's loop and what it holds.
struct Frame {
    kind: ProcKind,
    ev: EventLoop,
    signals: Signals,
    chan: Channel<ChildMsg, ParentMsg>,
    sub: Box<dyn Subsystem>,
    /// Only what the frame itself needs of the configuration (dump paths):
    /// the subsystem keeps what it runs, and the data dump re-reads it.
    cfg: Config,
    pidfile: Option<PidFile>,
    outbox: Vec<(ProcKind, PeerEvent)>,
    /// When to unmap the code of the first state changes (see [`SETTLE_AGAIN`]).
    settle_at: Option<Instant>,
}

/// How long after start-up or a reload a child unmaps its code pages once
/// more: the first state changes (VRRP's master-down timer is 3 adverts
/// and a skew, BFD sessions come up within a few intervals) run code the
/// steady state does not, and each of those pages would otherwise stay
/// mapped until the next reload.
const SETTLE_AGAIN: Duration = Duration::from_secs(10);

/// Signals every child acts on. SIGRTMIN+2 (JSON) and SIGRTMAX-1
/// (STATS_CLEAR) are real-time signals numbered at run time.
fn child_signals() -> std::io::Result<Signals> {
    let rtmin2 = keepalived_sys::sigrtmin() + 2;
    let rtmax1 = keepalived_sys::sigrtmax() - 1;
    Signals::new([SIGHUP, SIGTERM, SIGINT, SIGUSR1, SIGUSR2, SIGCHLD, rtmin2, rtmax1])
}

/// The dump a signal asks for, if it is one.
fn dump_request(sig: i32) -> Option<DumpRequest> {
    match sig {
        SIGUSR1 => Some(DumpRequest::Data),
        SIGUSR2 => Some(DumpRequest::Stats { clear: false }),
        s if s == keepalived_sys::sigrtmax() - 1 => Some(DumpRequest::Stats { clear: true }),
        s if s == keepalived_sys::sigrtmin() + 2 => Some(DumpRequest::Json),
        _ => None,
    }
}

/// Keep only what the frame needs of a configuration (a thousand
/// instances' model is a few MiB the child would carry for nothing).
fn frame_config(cfg: Config) -> Config {
    let slim = slim_config(cfg);
    keepalived_sys::malloc_trim();
    slim
}

/// The root and global part of `cfg`; the rest is dropped on return, so
/// before the trim (a partially moved binding lives to the end of its
/// scope).
fn slim_config(cfg: Config) -> Config {
    Config { root: cfg.root, global: cfg.global, ..Default::default() }
}

impl Frame {
    /// Read the configuration, build the subsystem, open the loop and the
    /// parent channel. `Err`: the exit status.
    fn open(start: &mut ChildStart) -> Result<Frame, i32> {
        let kind = start.kind;
        let ev = EventLoop::new().map_err(|e| {
            error!("Unable to create the event loop: {e}");
            EXIT_FATAL
        })?;
        let mut signals = child_signals().map_err(|e| {
            error!("Unable to set up signal handling: {e}");
            EXIT_FATAL
        })?;
        let _ = ev.poll.registry().register(&mut signals, SIGNALS, Interest::READABLE);
        // Test hook: a child slow to read its configuration (the watchdog's start-up allowance).
        if let Some(ms) = std::env::var("KEEPALIVED_RS_TEST_CHILD_START_DELAY_MS").ok().and_then(|v| v.parse().ok()) {
            std::thread::sleep(std::time::Duration::from_millis(ms));
        }
        let parsed = read_child_config(kind, start);
        log_diags(&parsed);
        if parsed.diags.stopped || parsed.main_missing {
            return Err(EXIT_CONFIG);
        }
        let cfg = parsed.config;
        if let Some(code) = test_exit_code(kind) {
            return Err(code);
        }
        apply_process_settings(kind, &cfg);
        let pidfile = start.pidfile.take().map(|mut p| {
            if let Err(e) = p.write_pid(std::process::id()) {
                warn!("Unable to write pid file {}: {e}", p.path.display());
            }
            p
        });
        let Some(stream) = start.stream.take() else {
            error!("No channel to the parent");
            return Err(EXIT_FATAL);
        };
        let mut chan: Channel<ChildMsg, ParentMsg> = Channel::new(stream);
        let _ = ev.poll.registry().register(&mut chan.stream, PARENT, Interest::READABLE | Interest::WRITABLE);
        let _ = chan.send(&ChildMsg::Ready);
        // keepalived's children log no start line of their own (the parent
        // logs "Starting ... child process, pid=N").
        let sub = subsystems::build(kind, &cfg, &start.cli).map_err(|e| {
            if let Some(m) = e.message {
                error!("{m}");
            }
            e.exit
        })?;
        let cfg = frame_config(cfg);
        Ok(Frame { kind, ev, signals, chan, sub, cfg, pidfile, outbox: Vec::new(), settle_at: None })
    }

    fn run(&mut self, start: &ChildStart) -> i32 {
        self.with_ctx(|sub, ctx| {
            if let Err(e) = sub.register(ctx) {
                error!("Unable to watch the subsystem's sockets: {e}");
            }
            sub.start(ctx);
        });
        // Start-up is done: from here on only what the child needs.
        crate::capabilities::drop_unneeded(self.kind, &self.cfg.global);
        self.settle();
        let mut exit: Option<i32> = None;
        let mut woke = Instant::now();
        while exit.is_none() {
            let deadline = match (self.sub.poll_deadline(), self.settle_at) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            if let Some(spacing) = self.sub.wake_spacing() {
                // What arrives meanwhile waits for the next wake-up, which
                // is never later than the subsystem's deadline.
                let until = deadline.map_or(woke + spacing, |d| d.min(woke + spacing));
                let left = until.saturating_duration_since(Instant::now());
                if !left.is_zero() {
                    std::thread::sleep(left);
                }
            }
            let waited = self.ev.wait_until(deadline);
            woke = Instant::now();
            if let Err(e) = waited {
                if e.kind() != std::io::ErrorKind::Interrupted {
                    error!("poll failed: {e}");
                    exit = Some(EXIT_FATAL);
                }
                continue;
            }
            let ready: Vec<(Token, bool)> = self.ev.events.iter().map(|e| (e.token(), e.is_writable())).collect();
            for (token, writable) in ready {
                match token {
                    SIGNALS => exit = exit.or(self.on_signals(start)),
                    TIMER => self.ev.timer_fired(),
                    PARENT => exit = exit.or(self.on_parent(writable)),
                    t => self.with_ctx(|sub, ctx| sub.on_ready(t, ctx)),
                }
            }
            self.with_ctx(|sub, ctx| sub.on_timers(ctx));
            if self.settle_at.is_some_and(|t| t <= Instant::now()) {
                keepalived_sys::settle_memory();
                self.settle_at = None;
            }
        }
        self.with_ctx(|sub, ctx| sub.shutdown(ctx));
        exit.unwrap_or(EXIT_OK)
    }

    /// Start-up or a reload is done: give back the heap's free pages and
    /// unmap the code that ran (the parser above all), now and once more
    /// after the first state changes.
    fn settle(&mut self) {
        keepalived_sys::settle_memory();
        self.settle_at = Some(Instant::now() + SETTLE_AGAIN);
    }

    /// Call the subsystem with a context, then pass on the events it sent
    /// to other children.
    fn with_ctx(&mut self, f: impl FnOnce(&mut dyn Subsystem, &mut Ctx<'_>)) {
        let mut ctx = Ctx::new(self.ev.poll.registry(), &mut self.outbox);
        f(self.sub.as_mut(), &mut ctx);
        for (to, event) in self.outbox.drain(..) {
            if let Err(e) = self.chan.send(&ChildMsg::Peer { to, event }) {
                warn!("Unable to send an event to the {} child: {e}", to.label());
            }
        }
    }

    /// Signals relayed by the parent; `Some(status)` to stop.
    fn on_signals(&mut self, start: &ChildStart) -> Option<i32> {
        let mut exit = None;
        let sigs: Vec<i32> = self.signals.pending().collect();
        for sig in sigs {
            match sig {
                SIGTERM | SIGINT => exit = Some(EXIT_OK),
                SIGHUP => match reload(self.kind, start) {
                    Ok(Some(cfg)) => {
                        let mut ok = false;
                        self.with_ctx(|sub, ctx| ok = sub.reload(&cfg, ctx));
                        self.cfg = frame_config(cfg);
                        self.settle();
                        let _ = self.chan.send(&ChildMsg::Reloaded { ok });
                    }
                    Ok(None) => {
                        let _ = self.chan.send(&ChildMsg::Reloaded { ok: false });
                    }
                    Err(code) => exit = Some(code),
                },
                SIGCHLD => self.with_ctx(|sub, ctx| sub.on_sigchld(ctx)),
                s => {
                    if let Some(req) = dump_request(s) {
                        self.dump(req, start);
                        // The configuration read for the dump is gone: its heap and parser code too.
                        if matches!(req, DumpRequest::Data | DumpRequest::Json) {
                            keepalived_sys::settle_memory();
                        }
                    }
                }
            }
        }
        exit
    }

    /// Write the file a dump signal asks for, if this subsystem has one.
    fn dump(&mut self, req: DumpRequest, start: &ChildStart) {
        // The data and JSON dumps show the configuration, which the child
        // does not keep (docs/compat.md): re-read the parent's copy.
        let reread = matches!(req, DumpRequest::Data | DumpRequest::Json);
        let full = if reread { read_child_config(self.kind, start).config } else { Config::default() };
        let Some(text) = self.sub.dump(req, &full) else { return };
        let path = files::dump_path(DumpKind::of(self.kind, req), &self.cfg.global, &self.cfg.root);
        match req {
            DumpRequest::Json => dumps::write_atomic(&path, &text),
            _ => dumps::write(&path, &text),
        }
    }

    /// The parent's channel; `Some(status)` to stop.
    fn on_parent(&mut self, writable: bool) -> Option<i32> {
        if writable {
            let _ = self.chan.flush();
        }
        let mut msgs = Vec::new();
        let mut exit = None;
        match self.chan.read(&mut msgs) {
            Ok(ReadStatus::Open) => {}
            // The parent is gone (PDEATHSIG will follow): stop.
            Ok(ReadStatus::Closed) | Err(_) => exit = Some(EXIT_OK),
        }
        for m in msgs {
            match m {
                ParentMsg::Hello { seq } => {
                    let _ = self.chan.send(&ChildMsg::HelloAck { seq });
                }
                ParentMsg::Peer { from, event } => self.with_ctx(|sub, ctx| sub.on_peer(from, event, ctx)),
                ParentMsg::Status { id } => {
                    let doc = self.sub.status().unwrap_or(serde_json::Value::Null);
                    let _ = self.chan.send(&ChildMsg::Status { id, doc });
                }
            }
        }
        if self.chan.bad_messages > 0 {
            warn!(count = self.chan.bad_messages, "malformed messages from the parent");
            self.chan.bad_messages = 0;
        }
        exit
    }
}

/// SIGHUP: re-read the configuration. As in keepalived, a keyword missing
/// its parameter ends the child with status 2 (and so the daemon: use
/// `reload_check_config` to have such a configuration refused instead); a
/// configuration file that has gone is refused (`Ok(None)`) and the old
/// one kept.
fn reload(kind: ProcKind, start: &ChildStart) -> Result<Option<Config>, i32> {
    info!("Reloading");
    let parsed = read_child_config(kind, start);
    log_diags(&parsed);
    if parsed.diags.stopped {
        return Err(EXIT_CONFIG);
    }
    if parsed.main_missing {
        error!("Configuration file missing - keeping the running configuration");
        return Ok(None);
    }
    Ok(Some(parsed.config))
}
