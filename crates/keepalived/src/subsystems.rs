//! Which [`Subsystem`] each child runs, and the per-child settings of the
//! configuration: the one place that knows the three children apart, so
//! the child frame (`child.rs`) does not.

use crate::cli::Cli;
use keepalived_config::model::global::{GlobalDefs, ProcessSettings};
use keepalived_config::{Config, Subsystems};
use keepalived_runtime::{ProcKind, Subsystem};

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
        ProcKind::Bfd => Box::new(crate::bfd::BfdChild::new(cfg)),
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
