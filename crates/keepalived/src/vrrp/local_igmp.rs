//! `disable_local_igmp` (keepalived 2.2.7 vrrp_daemon.c
//! `set_disable_local_igmp` / `reset_disable_local_igmp`): at start the
//! VRRP child turns `net.ipv4.igmp_link_local_mcast_reports` off if it is
//! on, and at stop puts it back. A reload changes nothing (the parent
//! refuses a reload that changes the keyword).

use tracing::info;

const PATH: &str = "/proc/sys/net/ipv4/igmp_link_local_mcast_reports";

/// What start changed, for stop to undo.
#[derive(Debug, Default)]
pub struct LocalIgmp {
    /// The sysctl was '1' and this process wrote '0'.
    changed: bool,
}

impl LocalIgmp {
    /// Turn the reports off (only if they were on), logging as keepalived.
    pub fn disable() -> LocalIgmp {
        let was = match std::fs::read(PATH) {
            Ok(b) => b.first().copied(),
            Err(e) => {
                info!("Unable to open {PATH} - errno {}", e.raw_os_error().unwrap_or(0));
                return LocalIgmp::default();
            }
        };
        if was != Some(b'1') {
            return LocalIgmp::default();
        }
        if let Err(e) = std::fs::write(PATH, b"0") {
            info!("Unable to write {PATH} - errno {}", e.raw_os_error().unwrap_or(0));
            return LocalIgmp::default();
        }
        LocalIgmp { changed: true }
    }

    /// Put the reports back on if `disable` turned them off.
    pub fn restore(&mut self) {
        if std::mem::take(&mut self.changed) {
            if let Err(e) = std::fs::write(PATH, b"1") {
                info!("Unable to write {PATH} - errno {}", e.raw_os_error().unwrap_or(0));
            }
        }
    }
}
