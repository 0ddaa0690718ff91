//! Readers shared by several blocks: scripts, user/group.

use crate::engine::{Args, Ctx};
use crate::model::Script;
use crate::script::{split, ShellSplitError};

impl Ctx {
    /// Stop parsing if a reader met a missing parameter (exit 2).
    pub fn stop_if_stopped(&self) -> crate::engine::Res {
        match self.diags.stopped {
            true => Err(crate::engine::Stop),
            false => Ok(()),
        }
    }

    /// The words of a script keyword's line, quotes and escapes applied
    /// (keepalived `alloc_strvec_quoted_escaped`): None, after its report
    /// for an unterminated quote, when the line cannot be split.
    pub fn split_script_line(&mut self, args: &Args<'_>) -> Option<Vec<String>> {
        match split(args.raw(), false) {
            Ok(w) => Some(w),
            Err(e) => {
                if let ShellSplitError::MissingQuote(q) = e {
                    let msg = format!("String '{}': missing terminating {q}", args.raw());
                    self.report(crate::diag::Severity::UnmatchedQuote, msg);
                }
                None
            }
        }
    }

    /// Parse a script keyword line (keepalived `notify_script_init`):
    /// `KW "cmd args" [user [group]]`. `kind` names the script in messages
    /// ("notify", "vrrp_script", …). Returns `None` (after logging as
    /// keepalived does) when the script must be ignored.
    pub fn read_script(&mut self, args: &Args<'_>, kind: &str) -> Option<Script> {
        self.read_script_at(args, 1, kind)
    }

    /// As [`Ctx::read_script`], with the command at word `first` (1 for
    /// `notify_master CMD`, 2 for e.g. `quorum_up`… all 1 in practice).
    pub fn read_script_at(&mut self, args: &Args<'_>, first: usize, kind: &str) -> Option<Script> {
        let Some(words) = self.split_script_line(args) else {
            self.log("Unable to parse notify script");
            return None;
        };
        let Some(cmd) = words.get(first) else {
            // keepalived's "Unable to parse script '%s'" reads the missing
            // word: a missing parameter, parsing stops (exit 2). The
            // caller returns `stop_if_stopped`.
            let _ = self.req(args, first);
            return None;
        };
        let argv = match split(cmd, true) {
            Ok(a) if !a.is_empty() => a,
            Ok(_) => {
                self.log(format!("Unable to parse script '{cmd}' - ignoring"));
                return None;
            }
            Err(e) => {
                match e {
                    ShellSplitError::MissingQuote(q) => self.report(
                        crate::diag::Severity::UnmatchedQuote,
                        format!("String '{cmd}': missing terminating {q}"),
                    ),
                    ShellSplitError::TrailingBackslash => self.log(format!("Missing escape char at end: '{cmd}'")),
                }
                self.log(format!("Unable to parse script '{cmd}' - ignoring"));
                return None;
            }
        };
        let user = words.get(first + 1).cloned();
        let group = words.get(first + 2).cloned();
        if let Some(u) = &user {
            if !self.check_user_group(u, group.as_deref()) {
                self.log(format!("Invalid user/group for {kind} script {} - ignoring", argv[0]));
                return None;
            }
        } else if crate::global::scripts::get_default_script_user(self).is_none() {
            self.log(format!("Failed to set default user for {kind} script {} - ignoring", argv[0]));
            return None;
        }
        Some(Script { args: argv, user, group, origin: args.origin() })
    }

    /// keepalived `set_uid_gid`: the user (and group) must exist. Logs as
    /// keepalived does and returns false when they do not.
    pub fn check_user_group(&mut self, user: &str, group: Option<&str>) -> bool {
        match nix::unistd::User::from_name(user) {
            Ok(Some(_)) => {}
            Ok(None) => {
                self.log(format!("Script user '{user}' does not exist"));
                return false;
            }
            Err(_) => {
                self.log(format!("Unable to resolve script username '{user}' - ignoring"));
                return false;
            }
        }
        let group = match group {
            Some(g) if g.starts_with(':') => {
                if g.len() > 1 {
                    Some(&g[1..])
                } else {
                    None
                }
            }
            other => other,
        };
        if let Some(g) = group {
            match nix::unistd::Group::from_name(g) {
                Ok(Some(_)) => {}
                Ok(None) => {
                    self.log(format!("Script group '{g}' does not exist"));
                    return false;
                }
                Err(_) => {
                    self.log(format!("Unable to resolve script group name '{g}' - ignoring"));
                    return false;
                }
            }
        }
        true
    }
}
