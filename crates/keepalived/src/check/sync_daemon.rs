//! `lvs_sync_daemon INTERFACE [INSTANCE] [id N] [maxlen N] [port N] [ttl N]
//! [group IP]`: the IPVS connection synchronisation daemons.
//!
//! keepalived 2.2.7 has two modes (check/ipvswrapper.c `ipvs_syncd_cmd`,
//! `ipvs_syncd_master`, `ipvs_syncd_backup`; vrrp/vrrp.c,
//! vrrp_scheduler.c, vrrp_daemon.c; check/check_daemon.c
//! `checker_ipvs_syncd_needed`):
//!
//! - with a VRRP instance, the daemons follow it: the backup daemon is
//!   started at start-up, entering MASTER stops the backup daemon and
//!   starts the master one, leaving MASTER does the reverse, the stop stops
//!   the running one. keepalived does this from the VRRP process; in
//!   keepalived-rs only the checker child talks to IPVS, so the VRRP child
//!   sends `PeerEvent::SyncDaemon { master, syncid }` (the instance's new
//!   role and the sync id resolved there: `id`, else the instance's VRID)
//!   and [`Follower`] applies it;
//! - without an instance, the checker process runs both daemons from its
//!   start to its stop ([`Own`], sync id `id` or 0).
//!
//! Failures are logged in keepalived's words:
//! `IPVS cmd IP_VS_SO_SET_STARTDAEMON(1163) error: Daemon has already run(17)`.

use keepalived_config::model::global::{GlobalDefs, LvsSyncDaemon};
use keepalived_netlink::ipvs::{DaemonState, Ipvs, SyncDaemon};
use keepalived_netlink::NetlinkError;
use tracing::info;

/// IP_VS_SO_SET_STARTDAEMON / IP_VS_SO_SET_STOPDAEMON (linux/ip_vs.h).
const START_CMD: (&str, i32) = ("IP_VS_SO_SET_STARTDAEMON", 1163);
const STOP_CMD: (&str, i32) = ("IP_VS_SO_SET_STOPDAEMON", 1164);

fn state_of(master: bool) -> DaemonState {
    if master {
        DaemonState::Master
    } else {
        DaemonState::Backup
    }
}

/// The daemon `ipvs_syncd_cmd` builds from the configuration.
pub fn daemon(sd: &LvsSyncDaemon, state: DaemonState, syncid: u8) -> SyncDaemon {
    SyncDaemon {
        state,
        ifname: sd.interface.clone(),
        syncid,
        sync_maxlen: sd.maxlen.unwrap_or(0),
        mcast_group: sd.group,
        mcast_port: sd.port.unwrap_or(0),
        mcast_ttl: sd.ttl.unwrap_or(0),
    }
}

/// libipvs.c `ipvs_strerror`, for the daemon commands.
fn strerror(start: bool, errno: i32) -> String {
    let text = match errno {
        17 if start => Some("Daemon has already run"),
        3 if !start => Some("No daemon is running"),
        n => keepalived_netlink::ipvs::strerror_any_command(n),
    };
    match text {
        Some(t) => t.to_string(),
        None => nix::errno::Errno::from_raw(errno).desc().to_string(),
    }
}

/// ipvswrapper.c `ipvs_talk`'s error line (`ignore_error` false).
pub fn error_line(start: bool, e: &NetlinkError) -> String {
    let (name, num) = if start { START_CMD } else { STOP_CMD };
    let errno = e.errno().unwrap_or(0);
    format!("IPVS cmd {name}({num}) error: {}({errno})", strerror(start, errno))
}

fn start(ipvs: &mut Ipvs, d: &SyncDaemon, log: bool) {
    if let (Err(e), true) = (ipvs.start_daemon(d), log) {
        info!("{}", error_line(true, &e));
    }
}

fn stop(ipvs: &mut Ipvs, state: DaemonState, log: bool) {
    if let (Err(e), true) = (ipvs.stop_daemon(state), log) {
        info!("{}", error_line(false, &e));
    }
}

/// The followed instance changed role (`ipvs_syncd_master` /
/// `ipvs_syncd_backup`): stop the daemon of the other role, start this
/// one. Nothing without `lvs_sync_daemon`.
pub fn apply(ipvs: &mut Ipvs, g: &GlobalDefs, master: bool, syncid: u8) {
    let Some(sd) = g.lvs_sync_daemon.as_ref() else { return };
    stop(ipvs, state_of(!master), true);
    start(ipvs, &daemon(sd, state_of(master), syncid), true);
}

/// The daemons following the VRRP instance named in `lvs_sync_daemon`.
#[derive(Debug, Default)]
pub struct Follower {
    /// What runs now (its role and settings).
    running: Option<SyncDaemon>,
}

impl Follower {
    pub fn new() -> Follower {
        Follower::default()
    }

    /// A `PeerEvent::SyncDaemon` from the VRRP child. The first one starts
    /// the daemon of the instance's role (vrrp_scheduler.c
    /// `vrrp_init_state`); a change of role is [`apply`]; the same role with
    /// other settings (a reload) restarts it quietly, as vrrp_daemon.c
    /// `reload_vrrp_thread`; a repeat does nothing.
    pub fn on_event(&mut self, ipvs: &mut Ipvs, g: &GlobalDefs, master: bool, syncid: u8) {
        let Some(sd) = g.lvs_sync_daemon.as_ref().filter(|s| s.vrrp_instance.is_some()) else { return };
        let want = daemon(sd, state_of(master), syncid);
        match self.running.take() {
            None => start(ipvs, &want, true),
            Some(cur) if cur == want => {}
            Some(cur) if cur.state != want.state && same_settings(&cur, &want) => {
                apply(ipvs, g, master, syncid);
            }
            Some(cur) => {
                stop(ipvs, cur.state, false);
                start(ipvs, &want, false);
                stop(ipvs, state_of(!master), false);
            }
        }
        self.running = Some(want);
    }

    /// The stop: the running daemon is stopped (vrrp_daemon.c
    /// `vrrp_terminate_phase1`).
    pub fn shutdown(&mut self, ipvs: &mut Ipvs) {
        if let Some(cur) = self.running.take() {
            stop(ipvs, cur.state, true);
        }
    }
}

fn same_settings(a: &SyncDaemon, b: &SyncDaemon) -> bool {
    SyncDaemon { state: b.state, ..a.clone() } == *b
}

/// The checker's own daemons: `lvs_sync_daemon` without a VRRP instance.
#[derive(Debug, Default)]
pub struct Own {
    running: Option<LvsSyncDaemon>,
}

/// check_daemon.c `checker_ipvs_syncd_needed`.
fn own_config(g: &GlobalDefs) -> Option<&LvsSyncDaemon> {
    g.lvs_sync_daemon.as_ref().filter(|s| s.vrrp_instance.is_none())
}

fn own_syncid(sd: &LvsSyncDaemon) -> u8 {
    sd.syncid.and_then(|i| u8::try_from(i).ok()).unwrap_or(0)
}

impl Own {
    /// Start (check_daemon.c `start_check`): stop what an abnormal end may
    /// have left, then start the master and the backup daemons.
    pub fn start(ipvs: &mut Ipvs, g: &GlobalDefs) -> Own {
        let mut own = Own::default();
        own.reload(ipvs, g);
        own
    }

    /// A reload: the daemons are stopped first only when their settings
    /// changed (`ipvs_syncd_changed`).
    pub fn reload(&mut self, ipvs: &mut Ipvs, g: &GlobalDefs) {
        // As 2.2.7: daemons of a removed setting are left running; an
        // unchanged setting is started again (and logs "already run").
        let new = own_config(g);
        if let Some(sd) = new {
            if self.running.as_ref() != Some(sd) {
                stop(ipvs, DaemonState::Master, false);
                stop(ipvs, DaemonState::Backup, false);
            }
            self.start_both(ipvs, sd);
        }
        self.running = new.cloned();
    }

    fn start_both(&mut self, ipvs: &mut Ipvs, sd: &LvsSyncDaemon) {
        let id = own_syncid(sd);
        start(ipvs, &daemon(sd, DaemonState::Master, id), true);
        start(ipvs, &daemon(sd, DaemonState::Backup, id), true);
    }

    /// The stop (`checker_terminate_phase2`): both stopped, quietly.
    pub fn shutdown(&mut self, ipvs: &mut Ipvs) {
        if self.running.take().is_some() {
            stop(ipvs, DaemonState::Master, false);
            stop(ipvs, DaemonState::Backup, false);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sd() -> LvsSyncDaemon {
        LvsSyncDaemon {
            interface: "eth0".into(),
            vrrp_instance: Some("VI_1".into()),
            port: Some(8849),
            group: "224.0.0.82".parse().ok(),
            ..Default::default()
        }
    }

    #[test]
    fn daemon_from_settings() {
        let d = daemon(&sd(), DaemonState::Master, 50);
        assert_eq!(d.ifname, "eth0");
        assert_eq!((d.syncid, d.mcast_port, d.mcast_ttl, d.sync_maxlen), (50, 8849, 0, 0));
        assert_eq!(d.mcast_group, "224.0.0.82".parse().ok());
        let b = daemon(&sd(), DaemonState::Backup, 50);
        assert!(same_settings(&d, &b));
        assert!(!same_settings(&d, &daemon(&sd(), DaemonState::Backup, 51)));
    }

    #[test]
    fn errors_in_keepalived_words() {
        let e =
            |n| NetlinkError::Change { action: "x".into(), source: std::io::Error::from_raw_os_error(n), hint: None };
        assert_eq!(
            error_line(true, &e(17)),
            "IPVS cmd IP_VS_SO_SET_STARTDAEMON(1163) error: Daemon has already run(17)"
        );
        assert_eq!(error_line(false, &e(3)), "IPVS cmd IP_VS_SO_SET_STOPDAEMON(1164) error: No daemon is running(3)");
        assert_eq!(error_line(true, &e(19)), "IPVS cmd IP_VS_SO_SET_STARTDAEMON(1163) error: No such device(19)");
    }

    // ------------------------------------------------------------ in the IPVS guest
    // Run by `daemons_in_the_ipvs_guest` (below) inside shared/ipvs-vm: this
    // host's kernel has no IPVS.

    fn guest_ipvs() -> Option<Ipvs> {
        if !keepalived_testkit::vm::guest() {
            return None;
        }
        let ip = |args: &[&str]| std::process::Command::new("ip").args(args).status().map(|s| s.success());
        let _ = ip(&["link", "add", "ka_sync0", "type", "dummy"]);
        // The master sync thread needs an address on its interface.
        let _ = ip(&["addr", "add", "10.99.0.1/24", "dev", "ka_sync0"]);
        assert_eq!(ip(&["link", "set", "ka_sync0", "up"]).ok(), Some(true));
        Some(Ipvs::open().expect("IPVS in the guest"))
    }

    /// Stopping a sync daemon a few milliseconds after its start can hang
    /// the guest's 6.1 kernel under TCG (crates/netlink/tests/ipvs.rs);
    /// VRRP transitions are never that quick. Read after a pause.
    fn running(ipvs: &mut Ipvs) -> Vec<(DaemonState, u8)> {
        std::thread::sleep(std::time::Duration::from_millis(500));
        let mut v: Vec<(DaemonState, u8)> =
            ipvs.daemons().expect("daemons").into_iter().map(|d| (d.state, d.syncid)).collect();
        v.sort_by_key(|(s, _)| *s == DaemonState::Backup);
        v
    }

    fn global(sync: Option<LvsSyncDaemon>) -> GlobalDefs {
        let mut g = GlobalDefs::default();
        g.lvs_sync_daemon = sync;
        g
    }

    #[test]
    fn guest_follower_tracks_the_instance() {
        let Some(mut ipvs) = guest_ipvs() else { return };
        let sd =
            LvsSyncDaemon { interface: "ka_sync0".into(), vrrp_instance: Some("VI_1".into()), ..Default::default() };
        let g = global(Some(sd.clone()));
        let mut f = Follower::new();
        f.on_event(&mut ipvs, &g, false, 51);
        assert_eq!(running(&mut ipvs), vec![(DaemonState::Backup, 51)], "backup at start");
        f.on_event(&mut ipvs, &g, true, 51);
        f.on_event(&mut ipvs, &g, true, 51);
        assert_eq!(running(&mut ipvs), vec![(DaemonState::Master, 51)]);
        f.on_event(&mut ipvs, &g, false, 51);
        assert_eq!(running(&mut ipvs), vec![(DaemonState::Backup, 51)]);
        f.on_event(&mut ipvs, &g, false, 60);
        assert_eq!(running(&mut ipvs), vec![(DaemonState::Backup, 60)], "new settings: restarted");
        f.shutdown(&mut ipvs);
        assert_eq!(running(&mut ipvs), vec![]);
        // Without an instance the events are not ours to follow.
        let own = global(Some(LvsSyncDaemon { vrrp_instance: None, ..sd }));
        f.on_event(&mut ipvs, &own, true, 1);
        assert_eq!(running(&mut ipvs), vec![]);
    }

    #[test]
    fn guest_own_daemons_run_both_roles() {
        let Some(mut ipvs) = guest_ipvs() else { return };
        let sd = LvsSyncDaemon { interface: "ka_sync0".into(), syncid: Some(9), ..Default::default() };
        let g = global(Some(sd.clone()));
        let mut own = Own::start(&mut ipvs, &g);
        assert_eq!(running(&mut ipvs), vec![(DaemonState::Master, 9), (DaemonState::Backup, 9)]);
        own.reload(&mut ipvs, &g);
        assert_eq!(running(&mut ipvs), vec![(DaemonState::Master, 9), (DaemonState::Backup, 9)]);
        let g2 = global(Some(LvsSyncDaemon { syncid: None, ..sd }));
        own.reload(&mut ipvs, &g2);
        assert_eq!(running(&mut ipvs), vec![(DaemonState::Master, 0), (DaemonState::Backup, 0)], "changed: restarted");
        own.shutdown(&mut ipvs);
        assert_eq!(running(&mut ipvs), vec![]);
    }

    /// Boots the IPVS guest and runs the `guest_` tests of this module there
    /// (testkit's `vm::run_matching`: this binary's other tests need no guest).
    #[test]
    fn daemons_in_the_ipvs_guest() {
        use keepalived_testkit::vm;
        if vm::guest() {
            return;
        }
        let stdout = vm::run_matching("check::sync_daemon::tests::guest_", 120);
        assert!(stdout.contains("test result: ok. 2 passed"), "guest run failed:\n{stdout}");
    }
}
