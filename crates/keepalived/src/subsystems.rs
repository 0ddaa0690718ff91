//! Which [`Subsystem`] each child runs, and the per-child settings of the
//! configuration: the one place that knows the three children apart, so
//! the child frame (`child.rs`) does not.

use crate::cli::Cli;
use crate::dumps;
use keepalived_config::model::global::{GlobalDefs, ProcessSettings};
use keepalived_config::{Config, Subsystems};
use keepalived_runtime::{Ctx, DumpRequest, PeerEvent, ProcKind, Subsystem};
use mio::Token;
use std::time::Duration;

pub use crate::check::BuildError;

impl From<String> for BuildError {
    /// A configuration the subsystem refuses: exit status 2, as keepalived.
    fn from(message: String) -> BuildError {
        BuildError { message: Some(message), exit: crate::parent::EXIT_CONFIG }
    }
}

/// Build the subsystem of a `kind` child from its configuration. `Err`
/// carries the message to log (if not logged already) and the child's
/// exit status: 2 for a configuration it refuses, 1 when IPVS cannot be
/// opened (both stop the daemon, as keepalived's).
pub fn build(kind: ProcKind, cfg: &Config, cli: &Cli) -> Result<Box<dyn Subsystem>, BuildError> {
    Ok(match kind {
        ProcKind::Vrrp => Box::new(crate::vrrp::VrrpChild::new(cfg, cli.dont_release_vrrp)?),
        ProcKind::Checker => Box::new(crate::check::CheckChild::new(cfg, cli)?),
        ProcKind::Bfd => Box::new(Idle { kind }),
    })
}

/// The configuration blocks a `kind` child reads.
pub fn blocks(kind: ProcKind) -> Subsystems {
    Subsystems { vrrp: kind == ProcKind::Vrrp, check: kind == ProcKind::Checker, bfd: kind == ProcKind::Bfd }
}

/// `vrrp`, `checker`, `bfd`: the child's name in test hooks.
pub fn short_name(kind: ProcKind) -> &'static str {
    match kind {
        ProcKind::Vrrp => "vrrp",
        ProcKind::Checker => "checker",
        ProcKind::Bfd => "bfd",
    }
}

/// keepalived's per-child process settings (`vrrp_priority`,
/// `checker_rt_priority`, `bfd_process_name`, …).
pub fn process_settings(kind: ProcKind, g: &GlobalDefs) -> &ProcessSettings {
    match kind {
        ProcKind::Vrrp => &g.vrrp,
        ProcKind::Checker => &g.checker,
        ProcKind::Bfd => &g.bfd,
    }
}

/// A child whose subsystem this build does not run yet: it answers the
/// watchdog, reloads and dumps its configuration, and does nothing else.
struct Idle {
    kind: ProcKind,
}

impl Subsystem for Idle {
    fn register(&mut self, _ctx: &mut Ctx<'_>) -> std::io::Result<()> {
        Ok(())
    }
    fn start(&mut self, _ctx: &mut Ctx<'_>) {}
    fn poll_timeout(&mut self) -> Option<Duration> {
        None
    }
    fn on_ready(&mut self, _token: Token, _ctx: &mut Ctx<'_>) {}
    fn on_timers(&mut self, _ctx: &mut Ctx<'_>) {}
    fn on_sigchld(&mut self, _ctx: &mut Ctx<'_>) {
        keepalived_runtime::script::reap_all();
    }
    fn on_peer(&mut self, _from: ProcKind, _event: PeerEvent, _ctx: &mut Ctx<'_>) {}
    fn reload(&mut self, _cfg: &Config, _ctx: &mut Ctx<'_>) -> bool {
        true
    }
    fn dump(&mut self, what: DumpRequest, cfg: &Config) -> Option<String> {
        (what == DumpRequest::Data).then(|| dumps::child_data(self.kind, cfg, &[]))
    }
    fn shutdown(&mut self, _ctx: &mut Ctx<'_>) {}
}
