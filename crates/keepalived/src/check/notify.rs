//! Notifications of the checker child (keepalived 2.2.7 check/ipwrapper.c
//! `do_rs_notifies`, `do_vs_notifies`, `notify_fifo_rs`, `notify_fifo_vs`;
//! core/smtp.c `smtp_alert`; FEATURES.md §4.3, §4.4, §7):
//!
//! - a real server's `notify_up` / `notify_down`, a virtual server's
//!   `quorum_up` / `quorum_down`: the script alone, no extra arguments;
//! - one line per event on `notify_fifo` and `lvs_notify_fifo`:
//!   `RS [192.168.1.10]:tcp:80 [10.0.0.1]:tcp:80 UP\n` and
//!   `VS [10.0.0.1]:tcp:80 DOWN\n` (`FWM 7`, `[group]:N` for the other
//!   virtual server forms). 2.2.7 writes `size` bytes, the NUL that
//!   snprintf adds is not written (later versions write it);
//! - SMTP alerts (crates/alert), already filtered by the engine
//!   (`smtp_alert`, `smtp_alert_checker`, `no_checker_emails`).
//!
//! The actions come from the engine with its ids; the tables here follow
//! the same order (the validated model's). After a reload the previous
//! tables are kept for the engine's [`Action::Retired`] actions.

use crate::notify_fifo::Fifos;
use keepalived_alert::Alert;
use keepalived_check::{Action, AlertAbout, EngineConfig, RsId, VsId};
use keepalived_config::model::Script;
use keepalived_config::Config;
use keepalived_runtime::script::ScriptRunOpts;
use nix::unistd::Pid;
use std::time::{Duration, Instant};
use tracing::info;

/// keepalived runs the stop notifies with `system_call_script(…, TIMER_HZ,
/// …)`: one second, then SIGKILL.
const STOP_SCRIPT_GRACE: Duration = Duration::from_secs(1);

/// One real server: its names and scripts.
struct RsEntry {
    name: String,
    up: Option<Script>,
    down: Option<Script>,
}

/// One virtual server: its name, quorum scripts and real servers.
struct VsEntry {
    name: String,
    up: Option<Script>,
    down: Option<Script>,
    rs: Vec<RsEntry>,
}

/// What a configuration says about notifications, indexed by engine ids.
struct Tables {
    vs: Vec<VsEntry>,
    /// Checker → its real server (SMTP_MSG_RS names the checker's server).
    checker_rs: Vec<RsId>,
    router_id: Option<String>,
}

impl Tables {
    fn new(cfg: &Config, ecfg: &EngineConfig) -> Tables {
        let vs = ecfg
            .virtual_servers
            .iter()
            .enumerate()
            .map(|(vi, v)| {
                let model = cfg.lvs.virtual_servers.get(vi);
                let rs = v
                    .real_servers
                    .iter()
                    .enumerate()
                    .map(|(ri, r)| {
                        let m = model.and_then(|m| m.real_servers.get(ri));
                        RsEntry {
                            name: r.name.clone(),
                            up: m.and_then(|m| m.notify_up.as_deref().cloned()),
                            down: m.and_then(|m| m.notify_down.as_deref().cloned()),
                        }
                    })
                    .collect();
                VsEntry {
                    name: v.name.clone(),
                    up: model.and_then(|m| m.quorum_up.clone()),
                    down: model.and_then(|m| m.quorum_down.clone()),
                    rs,
                }
            })
            .collect();
        let checker_rs = ecfg.checkers.iter().map(|c| c.rs).collect();
        Tables { vs, checker_rs, router_id: cfg.global.router_id.clone() }
    }

    fn rs(&self, rs: RsId) -> Option<(&VsEntry, &RsEntry)> {
        let v = self.vs.get(rs.vs.0)?;
        Some((v, v.rs.get(rs.rs)?))
    }

    /// The mail for an alert, in core/smtp.c's layout.
    fn alert(&self, about: AlertAbout, up: bool, message: &str) -> Option<Alert> {
        let rid = self.router_id.as_deref();
        match about {
            AlertAbout::Checker { checker } => {
                let (v, r) = self.rs(*self.checker_rs.get(checker.0)?)?;
                Some(Alert::real_server(rid, &r.name, &v.name, up, message))
            }
            // SMTP_MSG_RS_SHUT: ipwrapper.c passes "DOWN" as the subject word.
            AlertAbout::RsShut { rs } => {
                let (v, r) = self.rs(rs)?;
                Some(Alert::real_server(rid, &r.name, &v.name, false, message))
            }
            AlertAbout::Vs { vs } => {
                let v = self.vs.get(vs.0)?;
                Some(Alert::virtual_server(rid, &v.name, up, message))
            }
        }
    }
}

/// The FIFO line of a real server (ipwrapper.c `notify_fifo_rs`).
pub fn rs_line(rs: &str, vs: &str, up: bool) -> String {
    format!("RS {rs} {vs} {}\n", state_word(up))
}

/// The FIFO line of a virtual server's quorum (ipwrapper.c `notify_fifo_vs`).
pub fn vs_line(vs: &str, up: bool) -> String {
    format!("VS {vs} {}\n", state_word(up))
}

fn state_word(up: bool) -> &'static str {
    if up {
        "UP"
    } else {
        "DOWN"
    }
}

/// The checker child's notifier: scripts, FIFOs and mail.
pub struct LvsNotifier {
    opts: ScriptRunOpts,
    tables: Tables,
    /// The configuration before the last reload (for retired actions).
    previous: Option<Tables>,
    fifos: Fifos,
    /// Scripts started and not yet reaped (notify scripts, FIFO readers).
    running: Vec<Pid>,
    alerts: Option<keepalived_alert::AlertSender>,
}

impl LvsNotifier {
    /// Opens `notify_fifo` and `lvs_notify_fifo` (their scripts first) and
    /// starts the SMTP sender when mail is configured.
    pub fn new(cfg: &Config, ecfg: &EngineConfig, opts: ScriptRunOpts) -> LvsNotifier {
        let mut n = LvsNotifier {
            opts,
            tables: Tables::new(cfg, ecfg),
            previous: None,
            fifos: Fifos::default(),
            running: Vec::new(),
            alerts: None,
        };
        n.open_fifos(cfg);
        n.start_alerts(cfg, None);
        n
    }

    fn open_fifos(&mut self, cfg: &Config) {
        let g = &cfg.global;
        // check_daemon.c: notify_fifo_open(…, "lvs_").
        self.fifos.open(&g.notify_fifo, &g.lvs_notify_fifo, "lvs_", &self.opts, &mut self.running);
    }

    /// Start the sender, or carry the running one over with new settings.
    fn start_alerts(&mut self, cfg: &Config, previous: Option<keepalived_alert::AlertSender>) {
        let settings = keepalived_alert::AlertSettings::from_global(&cfg.global);
        self.alerts = keepalived_alert::AlertSender::carry_over(previous, settings);
    }

    fn run(&mut self, s: &Script) {
        if let Some(pid) = keepalived_runtime::script::spawn(s, &[], &self.opts, false) {
            self.running.push(pid);
        }
    }

    /// A real server went up or down: its notify_up/notify_down script and
    /// the `RS` FIFO line.
    pub fn rs(&mut self, rs: RsId, up: bool) {
        self.rs_in(false, rs, up);
    }

    /// A virtual server gained or lost its quorum: quorum_up/quorum_down
    /// and the `VS` FIFO line.
    pub fn quorum(&mut self, vs: VsId, up: bool) {
        self.quorum_in(false, vs, up);
    }

    /// Send an SMTP alert the engine asked for.
    pub fn smtp(&mut self, about: AlertAbout, up: bool, message: &str) {
        self.smtp_in(false, about, up, message);
    }

    fn tables(&self, retired: bool) -> Option<&Tables> {
        if retired {
            self.previous.as_ref()
        } else {
            Some(&self.tables)
        }
    }

    fn rs_in(&mut self, retired: bool, rs: RsId, up: bool) {
        let Some((v, r)) = self.tables(retired).and_then(|t| t.rs(rs)) else { return };
        let script = if up { r.up.clone() } else { r.down.clone() };
        let line = rs_line(&r.name, &v.name, up);
        if let Some(s) = script {
            self.run(&s);
        }
        self.fifos.write(line.as_bytes());
    }

    fn quorum_in(&mut self, retired: bool, vs: VsId, up: bool) {
        let Some(v) = self.tables(retired).and_then(|t| t.vs.get(vs.0)) else { return };
        let script = if up { v.up.clone() } else { v.down.clone() };
        let line = vs_line(&v.name, up);
        if let Some(s) = script {
            self.run(&s);
        }
        self.fifos.write(line.as_bytes());
    }

    fn smtp_in(&mut self, retired: bool, about: AlertAbout, up: bool, message: &str) {
        let Some(sender) = self.alerts.as_ref() else { return };
        let Some(alert) = self.tables(retired).and_then(|t| t.alert(about, up, message)) else { return };
        // A full queue is counted and logged by the sender.
        let _ = sender.send(alert);
    }

    /// Handles the engine's notification actions (`NotifyRs`,
    /// `NotifyQuorum`, `SmtpAlert`, and those wrapped in `Retired`, which
    /// use the configuration before the last reload). False for any other
    /// action.
    pub fn handle(&mut self, action: &Action) -> bool {
        self.handle_in(false, action)
    }

    fn handle_in(&mut self, retired: bool, action: &Action) -> bool {
        match action {
            Action::NotifyRs { rs, up } => self.rs_in(retired, *rs, *up),
            Action::NotifyQuorum { vs, up } => self.quorum_in(retired, *vs, *up),
            Action::SmtpAlert { about, up, message } => self.smtp_in(retired, *about, *up, message),
            Action::Retired(inner) if !retired => return self.handle_in(true, inner),
            _ => return false,
        }
        true
    }

    /// A child exited: forget it. True if it was one of ours.
    pub fn reaped(&mut self, pid: Pid) -> bool {
        self.fifos.reaped(pid);
        let before = self.running.len();
        self.running.retain(|p| *p != pid);
        self.running.len() != before
    }

    /// A reload (check_daemon.c `reload_check_thread` / `start_check`):
    /// the scripts still running (FIFO readers included) are SIGTERMed, the
    /// FIFOs closed and reopened from the new configuration, the SMTP
    /// sender is carried over with the new settings; the old tables serve
    /// the retired actions.
    pub fn reload(&mut self, cfg: &Config, ecfg: &EngineConfig) {
        self.kill_scripts();
        self.fifos.close();
        let new = Tables::new(cfg, ecfg);
        self.previous = Some(std::mem::replace(&mut self.tables, new));
        self.open_fifos(cfg);
        let sender = self.alerts.take();
        self.start_alerts(cfg, sender);
    }

    /// The first step of a stop (check_daemon.c
    /// `checker_terminate_phase1`): SIGTERM the scripts still running, FIFO
    /// readers included, before the stop notifies are sent.
    pub fn kill_scripts(&mut self) {
        self.fifos.kill_readers();
        for pid in &self.running {
            let _ = nix::sys::signal::killpg(*pid, nix::sys::signal::Signal::SIGTERM);
        }
    }

    /// The end of a stop: give the stop notifies their second (then
    /// SIGKILL), close the FIFOs (removing those we made), send the queued
    /// mail within a bound.
    pub fn shutdown(&mut self) {
        self.wait_scripts(STOP_SCRIPT_GRACE);
        self.fifos.close();
        if let Some(a) = self.alerts.take() {
            let st = a.shutdown(Duration::from_secs(3));
            if st.abandoned > 0 {
                info!("{} SMTP alerts not sent at stop", st.abandoned);
            }
        }
    }

    fn wait_scripts(&mut self, grace: Duration) {
        use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
        let deadline = Instant::now() + grace;
        while !self.running.is_empty() && Instant::now() < deadline {
            let pids = self.running.clone();
            for pid in pids {
                match waitpid(pid, Some(WaitPidFlag::WNOHANG)) {
                    Ok(WaitStatus::StillAlive) => {}
                    _ => {
                        self.reaped(pid);
                    }
                }
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        for pid in self.running.drain(..) {
            let _ = nix::sys::signal::killpg(pid, nix::sys::signal::Signal::SIGKILL);
            let _ = waitpid(pid, None);
        }
    }
}

impl Drop for LvsNotifier {
    fn drop(&mut self) {
        self.fifos.close();
    }
}

#[cfg(test)]
mod tests;
