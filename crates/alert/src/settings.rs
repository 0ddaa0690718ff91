//! What the sender needs from the global configuration, and keepalived's
//! rules deciding who mails about what.

use std::net::SocketAddr;
use std::time::Duration;

use keepalived_config::global::model::GlobalDefs;
use serde::Serialize;

use crate::message::AlertState;

/// keepalived's `DEFAULT_SMTP_CONNECTION_TIMEOUT`: 30 s.
pub const DEFAULT_SMTP_TIMEOUT: Duration = Duration::from_secs(30);

/// HELO name keepalived uses when `smtp_helo_name` is unset and no host
/// name could be found.
pub const DEFAULT_HELO_NAME: &str = "localhost";

/// Everything the delivery thread needs; built once per (re)load.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AlertSettings {
    /// `smtp_server` address and port (default port 25).
    pub server: SocketAddr,
    /// `smtp_server` as written (host name or address): the TLS server name.
    pub server_name: String,
    /// `notification_email` entries, as configured (already RFC5322-quoted).
    pub recipients: Vec<String>,
    /// `notification_email_from`.
    pub from: String,
    /// `smtp_helo_name` (keepalived: "localhost" when unset).
    pub helo_name: String,
    /// `smtp_connect_timeout`: bounds the connection and every reply wait,
    /// as keepalived's `smtp_connection_to`.
    pub timeout: Duration,
    /// `router_id`, the subject prefix.
    pub router_id: Option<String>,
    /// keepalived-rs `no_capability_drop`: the delivery thread keeps the
    /// capabilities of the child that started it (by default it drops
    /// them all: an SMTP client needs none, and capabilities are per
    /// thread, so the child's own drop does not reach it).
    #[serde(skip)]
    pub keep_capabilities: bool,
}

impl AlertSettings {
    /// Settings from the parsed global section, or `None` when keepalived
    /// would send no mail at all: no `notification_email` or no
    /// `smtp_server` (smtp.c: "Only send mail if email specified").
    /// `notification_email_from` defaults to `<user>@<hostname>` when the
    /// config validation did not set it.
    pub fn from_global(g: &GlobalDefs) -> Option<AlertSettings> {
        let smtp = g.smtp_server.as_ref()?;
        if g.notification_email.is_empty() {
            return None;
        }
        let from = match &g.notification_email_from {
            Some(f) if !f.is_empty() => f.clone(),
            _ => default_email_from(),
        };
        let timeout = if g.smtp_connect_timeout == 0 {
            DEFAULT_SMTP_TIMEOUT
        } else {
            Duration::from_micros(g.smtp_connect_timeout)
        };
        Some(AlertSettings {
            server: smtp.addr,
            server_name: smtp.name.clone(),
            recipients: g.notification_email.clone(),
            from,
            helo_name: g.smtp_helo_name.clone().unwrap_or_else(|| DEFAULT_HELO_NAME.to_string()),
            timeout,
            router_id: g.router_id.clone(),
            keep_capabilities: g.no_capability_drop,
        })
    }
}

/// keepalived's default sender (global_data.c `set_default_email_from`):
/// `<login of the running uid>@<local name>`. keepalived's local name is
/// the canonical name of uname's nodename; we use the nodename itself (no
/// resolver call). Falls back to `root@localhost`-style pieces when either
/// part cannot be found.
pub fn default_email_from() -> String {
    let user = nix::unistd::User::from_uid(nix::unistd::getuid())
        .ok()
        .flatten()
        .map(|u| u.name)
        .unwrap_or_else(|| "root".to_string());
    let host = nix::unistd::gethostname()
        .ok()
        .and_then(|h| h.into_string().ok())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".to_string());
    format!("{user}@{host}")
}

/// keepalived's `smtp_alert` resolution for a VRRP instance or sync group
/// (vrrp.c): the instance/group's own `smtp_alert`, else the global
/// `smtp_alert_vrrp`, else the global `smtp_alert`, else off.
pub fn vrrp_smtp_alert(own: Option<bool>, g: &GlobalDefs) -> bool {
    own.or(g.smtp_alert_vrrp).or(g.smtp_alert).unwrap_or(false)
}

/// The same for a virtual server (check_data.c): its own `smtp_alert`,
/// else `smtp_alert_checker`, else `smtp_alert`, else off.
pub fn virtual_server_smtp_alert(own: Option<bool>, g: &GlobalDefs) -> bool {
    own.or(g.smtp_alert_checker).or(g.smtp_alert).unwrap_or(false)
}

/// The same for a real server: its own `smtp_alert`, else
/// `smtp_alert_checker`, else `smtp_alert`, else ON (keepalived keeps this
/// inconsistent default for backward compatibility).
pub fn real_server_smtp_alert(own: Option<bool>, g: &GlobalDefs) -> bool {
    own.or(g.smtp_alert_checker).or(g.smtp_alert).unwrap_or(true)
}

/// keepalived's `last_email_state`: one per instance and per sync group, so
/// that a state is mailed once even when notifies repeat.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct LastEmailState(Option<AlertState>);

impl LastEmailState {
    /// Whether to mail about `state` now, remembering it when so
    /// (`vrrp_smtp_notifier`): alerts enabled, not a FAULT under
    /// `no_email_faults`, and not the state last mailed.
    pub fn should_send(&mut self, smtp_alert: bool, no_email_faults: bool, state: AlertState) -> bool {
        if !smtp_alert || (no_email_faults && state == AlertState::Fault) || self.0 == Some(state) {
            return false;
        }
        self.0 = Some(state);
        true
    }

    /// The state last mailed about.
    pub fn last(&self) -> Option<AlertState> {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolution_order() {
        let mut g = GlobalDefs::default();
        assert!(!vrrp_smtp_alert(None, &g));
        g.smtp_alert = Some(true);
        assert!(vrrp_smtp_alert(None, &g));
        g.smtp_alert_vrrp = Some(false);
        assert!(!vrrp_smtp_alert(None, &g));
        assert!(vrrp_smtp_alert(Some(true), &g));
        assert!(virtual_server_smtp_alert(None, &g));
        g.smtp_alert_checker = Some(false);
        assert!(!virtual_server_smtp_alert(None, &g));
        assert!(!real_server_smtp_alert(None, &g));
        assert!(real_server_smtp_alert(None, &GlobalDefs::default()));
        assert!(!virtual_server_smtp_alert(None, &GlobalDefs::default()));
    }

    #[test]
    fn last_email_state() {
        let mut l = LastEmailState::default();
        assert!(!l.should_send(false, false, AlertState::Master));
        assert!(l.should_send(true, false, AlertState::Master));
        assert!(!l.should_send(true, false, AlertState::Master));
        assert!(!l.should_send(true, true, AlertState::Fault));
        assert_eq!(l.last(), Some(AlertState::Master));
        assert!(l.should_send(true, false, AlertState::Fault));
        assert!(l.should_send(true, false, AlertState::Backup));
    }

    #[test]
    fn settings_need_server_and_recipients() {
        let mut g = GlobalDefs::default();
        assert!(AlertSettings::from_global(&g).is_none());
        g.smtp_server = Some(keepalived_config::global::model::SmtpServer {
            name: "127.0.0.1".into(),
            addr: "127.0.0.1:25".parse().unwrap(),
        });
        assert!(AlertSettings::from_global(&g).is_none());
        g.notification_email = vec!["a@b".into()];
        let s = AlertSettings::from_global(&g).unwrap();
        assert_eq!(s.timeout, DEFAULT_SMTP_TIMEOUT);
        assert_eq!(s.helo_name, "localhost");
        assert!(s.from.contains('@'));
        g.smtp_connect_timeout = 5_000_000;
        assert_eq!(AlertSettings::from_global(&g).unwrap().timeout, Duration::from_secs(5));
    }
}
