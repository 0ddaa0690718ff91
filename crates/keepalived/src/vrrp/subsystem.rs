//! The VRRP child as a [`Subsystem`]: the shell (sockets, engine, scripts)
//! when there are instances, nothing otherwise; a reload that brings the
//! first instances starts it.

use super::VrrpShell;
use crate::dumps;
use keepalived_config::Config;
use keepalived_runtime::{Ctx, DumpRequest, PeerEvent, ProcKind, Subsystem};
use mio::{Registry, Token};
use std::time::Duration;
use tracing::{error, info};

pub struct VrrpChild {
    shell: Option<VrrpShell>,
    /// `-V`: leave the addresses in place at stop, send no priority 0.
    dont_release: bool,
}

impl VrrpChild {
    /// The shell for `cfg`'s instances (none: an idle child, as keepalived's
    /// VRRP process with only static addresses).
    pub fn new(cfg: &Config, dont_release: bool) -> Result<VrrpChild, String> {
        let shell = if cfg.vrrp.instances.is_empty() { None } else { Some(VrrpShell::new(cfg)?) };
        Ok(VrrpChild { shell, dont_release })
    }
}

/// lvs_sync_daemon: the followed instance's roles go to the checker child.
fn send_peer_events(shell: Option<&mut VrrpShell>, ctx: &mut Ctx<'_>) {
    for ev in shell.map(|s| s.take_peer_events()).unwrap_or_default() {
        ctx.send(ProcKind::Checker, ev);
    }
}

fn register(sh: &mut VrrpShell, reg: &Registry) {
    if let Err(e) = sh.register(reg) {
        error!("Unable to watch the VRRP sockets: {e}");
    }
}

impl Subsystem for VrrpChild {
    fn register(&mut self, ctx: &mut Ctx<'_>) -> std::io::Result<()> {
        match self.shell.as_mut() {
            Some(sh) => sh.register(ctx.registry),
            None => Ok(()),
        }
    }

    fn start(&mut self, ctx: &mut Ctx<'_>) {
        if let Some(sh) = self.shell.as_mut() {
            sh.start();
        }
        send_peer_events(self.shell.as_mut(), ctx);
    }

    fn poll_timeout(&mut self) -> Option<Duration> {
        self.shell.as_mut().and_then(|s| s.poll_timeout())
    }

    fn on_ready(&mut self, token: Token, ctx: &mut Ctx<'_>) {
        if let Some(sh) = self.shell.as_mut() {
            sh.on_ready(token);
        }
        send_peer_events(self.shell.as_mut(), ctx);
    }

    fn on_timers(&mut self, ctx: &mut Ctx<'_>) {
        if let Some(sh) = self.shell.as_mut() {
            sh.on_timers();
        }
        send_peer_events(self.shell.as_mut(), ctx);
    }

    fn on_sigchld(&mut self, ctx: &mut Ctx<'_>) {
        match self.shell.as_mut() {
            Some(sh) => sh.on_sigchld(),
            None => keepalived_runtime::script::reap_all(),
        }
        send_peer_events(self.shell.as_mut(), ctx);
    }

    /// track_bfd: keepalived's vrrp_bfd_thread reading the BFD event pipe.
    fn on_peer(&mut self, _from: ProcKind, event: PeerEvent, ctx: &mut Ctx<'_>) {
        if let (PeerEvent::Bfd { name, up }, Some(sh)) = (event, self.shell.as_mut()) {
            sh.bfd_event(name, up);
        }
        send_peer_events(self.shell.as_mut(), ctx);
    }

    /// The running shell reloads in place (instances matched as keepalived
    /// does); a child that had no instances starts them; on error the old
    /// shell keeps running.
    fn reload(&mut self, cfg: &Config, ctx: &mut Ctx<'_>) -> bool {
        match self.shell.take() {
            Some(sh) => match sh.reload(cfg, ctx.registry) {
                Ok(new) => self.shell = Some(new),
                Err((old, e)) => {
                    error!("Reload of the VRRP instances failed, keeping the running ones: {e}");
                    self.shell = Some(old);
                    return false;
                }
            },
            None if !cfg.vrrp.instances.is_empty() => match VrrpShell::new(cfg) {
                Ok(mut sh) => {
                    register(&mut sh, ctx.registry);
                    sh.start();
                    self.shell = Some(sh);
                }
                Err(e) => {
                    error!("{e}");
                    return false;
                }
            },
            None => {}
        }
        send_peer_events(self.shell.as_mut(), ctx);
        true
    }

    fn dump(&mut self, what: DumpRequest, cfg: &Config) -> Option<String> {
        let live = self.shell.as_ref().map(|s| s.live()).unwrap_or_default();
        match what {
            // keepalived's dump_data_vrrp: global definitions, then the VRRP data.
            DumpRequest::Data => match self.shell.as_ref() {
                Some(sh) => Some(sh.dump_data(cfg)),
                None => Some(dumps::child_data(ProcKind::Vrrp, cfg, &live)),
            },
            DumpRequest::Stats { clear } => {
                let text = dumps::vrrp_stats(&live);
                // STATS_CLEAR zeroes the counters once written.
                if let (true, Some(sh)) = (clear, self.shell.as_mut()) {
                    sh.clear_stats();
                }
                Some(text)
            }
            // keepalived writes no JSON file when there are no instances.
            DumpRequest::Json => self.shell.as_ref().map(|sh| sh.dump_json(cfg)),
        }
    }

    fn status(&mut self) -> Option<serde_json::Value> {
        let sh = self.shell.as_ref();
        Some(sh.map_or_else(|| serde_json::json!({ "instances": [], "sync_groups": [] }), |s| s.status()))
    }

    fn shutdown(&mut self, _ctx: &mut Ctx<'_>) {
        let Some(sh) = self.shell.as_mut() else { return };
        if self.dont_release {
            info!("Leaving the VRRP addresses in place (--dont-release-vrrp)");
            sh.shutdown_keeping_addresses();
        } else {
            // Priority 0 from masters, addresses removed, STOP notifies.
            sh.shutdown();
        }
    }
}
