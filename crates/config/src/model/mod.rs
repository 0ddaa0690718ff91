//! The typed configuration model: one tree for all processes, serde
//! serialisable (`keepalived -d` prints it as JSON).
//!
//! Each area owns its module: `global` (root options and global_defs),
//! `vrrp` (instances, sync groups, trackers, garp groups…), `ip`
//! (addresses, routes, rules), `lvs` (virtual servers, checkers, SSL),
//! `bfd` (BFD instances).

use crate::diag::Origin;
use crate::engine::Sys;
use serde::Serialize;

pub use crate::bfd::model as bfd;
pub use crate::global::model as global;
pub use crate::ipaddr::model as ip;
pub use crate::lvs::model as lvs;
pub use crate::vrrp::model as vrrp;

#[derive(Clone, Debug, Default, Serialize)]
pub struct Config {
    pub root: global::RootOptions,
    pub global: global::GlobalDefs,
    pub vrrp: vrrp::VrrpConfig,
    pub ip: ip::StaticConfig,
    pub lvs: lvs::LvsConfig,
    pub bfd: bfd::BfdConfig,
    /// Which subsystems have configuration (decides which children run),
    /// also when their blocks were skipped.
    pub seen: Seen,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct Seen {
    pub vrrp: bool,
    pub check: bool,
    pub bfd: bool,
}

impl Seen {
    pub fn mark(&mut self, sys: Sys) {
        match sys {
            Sys::Vrrp => self.vrrp = true,
            Sys::Check => self.check = true,
            Sys::Bfd => self.bfd = true,
            Sys::VrrpOrCheck | Sys::Global => {}
        }
    }
}

/// A script to run: argv, optional user/group (keepalived `notify_script_t`).
///
/// The configured form is `KEYWORD "cmd arg 'a b'" [user [group]]`: the
/// first word after the keyword is the whole command line, split again
/// shell-like into `args`; further words are the user and group.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Script {
    pub args: Vec<String>,
    pub user: Option<String>,
    /// A group starting with ':' also sets the supplementary groups.
    pub group: Option<String>,
    pub origin: Origin,
}

impl Script {
    pub fn path(&self) -> &str {
        self.args.first().map(String::as_str).unwrap_or("")
    }
    /// The command line as keepalived prints it (`cmd_str_r`): each word in
    /// single quotes, except a first word that is a bare redirection.
    pub fn cmd_str(&self) -> String {
        let quote = |(i, a): (usize, &String)| {
            if i == 0 && (a.starts_with('<') || a.starts_with('>')) {
                a.clone()
            } else {
                format!("'{a}'")
            }
        };
        self.args.iter().enumerate().map(quote).collect::<Vec<_>>().join(" ")
    }
}

/// A tracker weight with keepalived's `reverse` flag.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Weight {
    pub weight: i32,
    pub reverse: bool,
}
