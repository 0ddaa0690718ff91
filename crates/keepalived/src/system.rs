//! The running system as validation sees it (filled from netlink).

use keepalived_config::SystemView;

pub fn system_view(check_scripts: bool) -> SystemView {
    let mut v = SystemView::unknown();
    v.check_scripts = check_scripts;
    v.hostname = nix::sys::utsname::uname().map(|u| u.nodename().to_string_lossy().into_owned()).unwrap_or_default();
    v
}
