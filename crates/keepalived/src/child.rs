//! A child process (VRRP, checker or BFD): forked by the parent, it dies
//! with the parent, re-reads the configuration with only its own blocks
//! active, writes its pid file and runs its own mio loop, answering the
//! parent's watchdog hellos and acting on the signals the parent relays.
//!
//! The protocol engines plug into this loop; what every child does is
//! here: reload (SIGHUP), stop (SIGTERM), data dumps (SIGUSR1) and, for
//! VRRP, stats/JSON dumps (SIGUSR2, SIGRTMAX-1, SIGRTMIN+2).

use crate::cli::Cli;
use crate::config_copy::ConfigCopy;
use crate::dumps;
use crate::files::{self, DumpKind, PidFile};
use crate::logging;
use crate::parent::{log_diags, EXIT_CONFIG, EXIT_FATAL, EXIT_OK};
use keepalived_config::model::global::{GlobalDefs, ProcessSettings};
use keepalived_config::{parse_copy, parse_file, Config, ParseOptions, Parsed, Subsystems};
use keepalived_runtime::channel::ReadStatus;
use keepalived_runtime::{Channel, ChildMsg, ParentMsg, ProcKind};
use mio::unix::SourceFd;
use mio::{Events, Interest, Poll, Token};
use nix::sys::signal::Signal;
use nix::unistd::Pid;
use signal_hook::consts::signal::*;
use signal_hook_mio::v1_0::Signals;
use tracing::{error, info, warn};

const SIGNALS: Token = Token(0);
const PARENT: Token = Token(1);
const TIMER: Token = Token(2);

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

fn subsystems(kind: ProcKind) -> Subsystems {
    Subsystems { vrrp: kind == ProcKind::Vrrp, check: kind == ProcKind::Checker, bfd: kind == ProcKind::Bfd }
}

/// Read the configuration with only this child's blocks active, from the
/// consolidated copy the parent wrote (the files only if it is unreadable).
pub fn read_child_config(kind: ProcKind, start: &ChildStart) -> Parsed {
    let opts = ParseOptions {
        config_id: start.config_id.clone(),
        all_config: start.cli.all_config,
        active: subsystems(kind),
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
    let name = match kind {
        ProcKind::Vrrp => "vrrp",
        ProcKind::Checker => "checker",
        ProcKind::Bfd => "bfd",
    };
    v.split(',').find_map(|kv| {
        let (k, c) = kv.split_once('=')?;
        (k.trim() == name).then(|| c.trim().parse().ok()).flatten()
    })
}

fn process_settings(kind: ProcKind, g: &GlobalDefs) -> &ProcessSettings {
    match kind {
        ProcKind::Vrrp => &g.vrrp,
        ProcKind::Checker => &g.checker,
        ProcKind::Bfd => &g.bfd,
    }
}

/// keepalived's per-child process settings: name, nice, realtime
/// scheduling, memory locking, CPU affinity.
fn apply_process_settings(kind: ProcKind, cfg: &Config) {
    let s = process_settings(kind, &cfg.global);
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

    let poll = match Poll::new() {
        Ok(p) => p,
        Err(e) => {
            error!("Unable to create the event loop: {e}");
            return EXIT_FATAL;
        }
    };
    let rtmin2 = keepalived_sys::sigrtmin() + 2;
    let rtmax1 = keepalived_sys::sigrtmax() - 1;
    let mut signals = match Signals::new([SIGHUP, SIGTERM, SIGINT, SIGUSR1, SIGUSR2, SIGCHLD, rtmin2, rtmax1]) {
        Ok(s) => s,
        Err(e) => {
            error!("Unable to set up signal handling: {e}");
            return EXIT_FATAL;
        }
    };
    let _ = poll.registry().register(&mut signals, SIGNALS, Interest::READABLE);

    let parsed = read_child_config(kind, &start);
    log_diags(&parsed);
    if parsed.diags.stopped || parsed.main_missing {
        return EXIT_CONFIG;
    }
    let mut cfg = parsed.config;
    if let Some(code) = test_exit_code(kind) {
        return code;
    }
    apply_process_settings(kind, &cfg);

    let pidfile = match start.pidfile.take() {
        Some(mut p) => {
            if let Err(e) = p.write_pid(std::process::id()) {
                warn!("Unable to write pid file {}: {e}", p.path.display());
            }
            Some(p)
        }
        None => None,
    };
    let Some(stream) = start.stream.take() else {
        error!("No channel to the parent");
        return EXIT_FATAL;
    };
    let mut chan: Channel<ChildMsg, ParentMsg> = Channel::new(stream);
    let _ = poll.registry().register(&mut chan.stream, PARENT, Interest::READABLE | Interest::WRITABLE);
    let _ = chan.send(&ChildMsg::Ready);
    info!("{} child started, pid {}", kind.label(), std::process::id());

    let mut poll = poll;
    // The VRRP child runs the VRRP engine on the wire.
    let mut shell = if kind == ProcKind::Vrrp && !cfg.vrrp.instances.is_empty() {
        match crate::vrrp::VrrpShell::new(&cfg) {
            Ok(mut sh) => {
                if let Err(e) = sh.register(poll.registry()) {
                    error!("Unable to watch the VRRP sockets: {e}");
                }
                sh.start();
                Some(sh)
            }
            Err(e) => {
                error!("{e}");
                return EXIT_CONFIG;
            }
        }
    } else {
        None
    };
    use nix::sys::timerfd::{ClockId, Expiration, TimerFd, TimerFlags, TimerSetTimeFlags};
    let timerfd = TimerFd::new(ClockId::CLOCK_MONOTONIC, TimerFlags::TFD_NONBLOCK | TimerFlags::TFD_CLOEXEC).ok();
    if let Some(t) = timerfd.as_ref() {
        use std::os::fd::{AsFd, AsRawFd};
        let _ = poll.registry().register(&mut SourceFd(&t.as_fd().as_raw_fd()), TIMER, Interest::READABLE);
    }
    // The running shell holds what it needs: drop the parsed VRRP model
    // (the data dump re-reads the configuration) and return the memory.
    if shell.is_some() {
        slim(&mut cfg);
    }
    let mut events = Events::with_capacity(32);
    let mut exit: Option<i32> = None;
    while exit.is_none() {
        let timeout = shell.as_mut().and_then(|s| s.poll_timeout());
        // epoll timeouts are whole milliseconds (mio rounds up) and the
        // kernel lets them fire up to 0.1 % late, so adverts scheduled from
        // the wake-up would drift ~1 ms a second. A timerfd (hrtimer, 50 µs
        // slack) wakes us on time, as keepalived's timerfd does.
        let poll_timeout = match (timeout, timerfd.as_ref()) {
            (Some(t), Some(tfd)) if !t.is_zero() => {
                let ts = nix::sys::time::TimeSpec::from_duration(t);
                match tfd.set(Expiration::OneShot(ts), TimerSetTimeFlags::empty()) {
                    Ok(()) => None,
                    Err(_) => Some(t),
                }
            }
            (t, _) => t,
        };
        let polled = poll.poll(&mut events, poll_timeout);
        if let Err(e) = polled {
            if e.kind() != std::io::ErrorKind::Interrupted {
                error!("poll failed: {e}");
                exit = Some(EXIT_FATAL);
            }
            continue;
        }
        for ev in events.iter() {
            match ev.token() {
                SIGNALS => {
                    let sigs: Vec<i32> = signals.pending().collect();
                    for s in sigs {
                        match s {
                            SIGTERM | SIGINT => exit = Some(EXIT_OK),
                            SIGHUP => match reload(kind, &start, &mut cfg) {
                                Ok(ok) => {
                                    if ok && kind == ProcKind::Vrrp {
                                        shell = reload_vrrp(shell.take(), &cfg, poll.registry());
                                        if shell.is_some() {
                                            slim(&mut cfg);
                                        }
                                    }
                                    let _ = chan.send(&ChildMsg::Reloaded { ok });
                                }
                                Err(code) => exit = Some(code),
                            },
                            SIGUSR1 => {
                                let dk = match kind {
                                    ProcKind::Vrrp => DumpKind::VrrpData,
                                    ProcKind::Checker => DumpKind::CheckData,
                                    ProcKind::Bfd => DumpKind::BfdData,
                                };
                                let path = files::dump_path(dk, &cfg.global, &cfg.root);
                                let live = shell.as_ref().map(|s| s.live()).unwrap_or_default();
                                let full =
                                    if shell.is_some() { Some(read_child_config(kind, &start).config) } else { None };
                                dumps::write(&path, &dumps::child_data(kind, full.as_ref().unwrap_or(&cfg), &live));
                            }
                            s if kind == ProcKind::Vrrp && (s == SIGUSR2 || s == rtmax1) => {
                                let path = files::dump_path(DumpKind::VrrpStats, &cfg.global, &cfg.root);
                                let live = shell.as_ref().map(|s| s.live()).unwrap_or_default();
                                dumps::write(&path, &dumps::vrrp_stats(&live));
                                // STATS_CLEAR (SIGRTMAX-1) zeroes the counters once written.
                                if s == rtmax1 {
                                    if let Some(sh) = shell.as_mut() {
                                        sh.clear_stats();
                                    }
                                }
                            }
                            // keepalived writes nothing when there are no instances.
                            s if kind == ProcKind::Vrrp && s == rtmin2 && shell.is_some() => {
                                let path = files::dump_path(DumpKind::VrrpJson, &cfg.global, &cfg.root);
                                let live = shell.as_ref().map(|s| s.live()).unwrap_or_default();
                                dumps::write_atomic(&path, &dumps::vrrp_json(&live));
                            }
                            SIGCHLD => match shell.as_mut() {
                                Some(sh) => sh.on_sigchld(),
                                None => reap_scripts(),
                            },
                            _ => {}
                        }
                    }
                }
                TIMER => {
                    if let Some(t) = timerfd.as_ref() {
                        let _ = t.wait();
                    }
                }
                PARENT => {
                    if ev.is_writable() {
                        let _ = chan.flush();
                    }
                    let mut msgs = Vec::new();
                    match chan.read(&mut msgs) {
                        Ok(ReadStatus::Open) => {}
                        // The parent is gone (PDEATHSIG will follow): stop.
                        Ok(ReadStatus::Closed) | Err(_) => exit = Some(EXIT_OK),
                    }
                    for m in msgs {
                        match m {
                            ParentMsg::Hello { seq } => {
                                let _ = chan.send(&ChildMsg::HelloAck { seq });
                            }
                        }
                    }
                    if chan.bad_messages > 0 {
                        warn!(count = chan.bad_messages, "malformed messages from the parent");
                        chan.bad_messages = 0;
                    }
                }
                t => {
                    if let Some(sh) = shell.as_mut() {
                        sh.on_ready(t);
                    }
                }
            }
        }
        if let Some(sh) = shell.as_mut() {
            sh.on_timers();
        }
    }
    if let Some(sh) = shell.as_mut() {
        if start.cli.dont_release_vrrp {
            // -V: keep the addresses and send no priority-0 advert.
            info!("Leaving the VRRP addresses in place (--dont-release-vrrp)");
            sh.shutdown_keeping_addresses();
        } else {
            // Priority 0 from masters, addresses removed, STOP notifies.
            sh.shutdown();
        }
    }
    info!("Stopped");
    if let Some(p) = pidfile {
        p.remove();
    }
    exit.unwrap_or(EXIT_OK)
}

/// Free the parsed VRRP/static model once the VRRP shell has taken what it
/// needs (a thousand instances' model is a few MiB the child would carry
/// for nothing).
fn slim(cfg: &mut Config) {
    cfg.vrrp = Default::default();
    cfg.ip = Default::default();
    keepalived_sys::malloc_trim();
}

/// Apply a re-read configuration to the VRRP child: the running shell
/// reloads in place (instances matched as keepalived does); a child that
/// had no instances starts them; on error the old shell keeps running.
fn reload_vrrp(
    shell: Option<crate::vrrp::VrrpShell>,
    cfg: &Config,
    reg: &mio::Registry,
) -> Option<crate::vrrp::VrrpShell> {
    match shell {
        Some(sh) => match sh.reload(cfg, reg) {
            Ok(new) => Some(new),
            Err((old, e)) => {
                error!("Reload of the VRRP instances failed, keeping the running ones: {e}");
                Some(old)
            }
        },
        None if !cfg.vrrp.instances.is_empty() => match crate::vrrp::VrrpShell::new(cfg) {
            Ok(mut sh) => {
                if let Err(e) = sh.register(reg) {
                    error!("Unable to watch the VRRP sockets: {e}");
                }
                sh.start();
                Some(sh)
            }
            Err(e) => {
                error!("{e}");
                None
            }
        },
        None => None,
    }
}

/// SIGHUP: re-read the configuration. As in keepalived, a keyword missing
/// its parameter ends the child with status 2 (and so the daemon: use
/// `reload_check_config` to have such a configuration refused instead); a
/// configuration file that has gone is refused and the old one kept.
fn reload(kind: ProcKind, start: &ChildStart, cfg: &mut Config) -> Result<bool, i32> {
    info!("Reloading");
    let parsed = read_child_config(kind, start);
    log_diags(&parsed);
    if parsed.diags.stopped {
        return Err(EXIT_CONFIG);
    }
    if parsed.main_missing {
        error!("Configuration file missing - keeping the running configuration");
        return Ok(false);
    }
    *cfg = parsed.config;
    Ok(true)
}

/// Scripts are not run yet by the frame itself; reap anything anyway so no
/// zombie is left.
fn reap_scripts() {
    use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
    while let Ok(st) = waitpid(None, Some(WaitPidFlag::WNOHANG)) {
        if st == WaitStatus::StillAlive {
            break;
        }
    }
}
