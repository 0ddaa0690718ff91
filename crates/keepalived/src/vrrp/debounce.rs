//! `interface_up_down_delays` (keepalived 2.2.7 keepalived_netlink.c
//! `update_interface_flags`): a link of an interface with a delay that goes
//! down (up) is acted on only once it has stayed so for the down (up)
//! delay; going back before then cancels the change. An interface never
//! seen up acts at once. vrrp.c caps each delay below
//! `(down_timer_adverts - 1) * advert_int` of the instances on it.

use keepalived_config::Config;
use std::collections::HashMap;
use std::time::{Duration, Instant};
use tracing::info;

#[derive(Debug, Default)]
pub struct Debounce {
    /// Interface → (down, up) delay.
    delays: HashMap<String, (Duration, Duration)>,
    /// Interface → the state last acted on.
    applied: HashMap<String, bool>,
    /// Interface → (state to act on, when).
    pending: HashMap<String, (bool, Instant)>,
}

impl Debounce {
    /// The delays of `cfg`, capped for the instances on each interface;
    /// `is_up` gives an interface's state at start.
    pub fn new(cfg: &Config, is_up: impl Fn(&str) -> Option<bool>) -> Debounce {
        let mut d = Debounce::default();
        for e in &cfg.vrrp.up_down_delays {
            let delays = (Duration::from_micros(e.down_us), Duration::from_micros(e.up_us));
            d.delays.insert(e.name.clone(), delays);
        }
        d.cap(cfg);
        let names: Vec<String> = d.delays.keys().cloned().collect();
        for n in names {
            if is_up(&n) == Some(true) {
                d.applied.insert(n, true);
            }
        }
        d
    }

    /// vrrp.c `vrrp_complete_instance` / `check_debounce_timers`.
    fn cap(&mut self, cfg: &Config) {
        for v in &cfg.vrrp.instances {
            let Some(ifname) = v.interface.as_deref() else { continue };
            let Some((down, up)) = self.delays.get_mut(ifname) else { continue };
            if down.is_zero() && up.is_zero() {
                continue;
            }
            let adverts = v.down_timer_adverts.unwrap_or(3);
            if adverts <= 1 {
                info!("{}: cannot use debounce timers with down_timer_adverts = 1 - resetting", v.name);
                (*down, *up) = (Duration::ZERO, Duration::ZERO);
                continue;
            }
            let adv_us = v.advert_int_us.unwrap_or(1_000_000);
            let max = Duration::from_micros(adv_us * u64::from(adverts - 1));
            if *down >= max || *up >= max {
                info!(
                    "{}: interface {ifname} debounce timer(s) not less that {} * advert_int - resetting",
                    v.name,
                    adverts - 1
                );
                for t in [&mut *down, &mut *up] {
                    if *t >= max {
                        // keepalived's integer microseconds.
                        *t = max - Duration::from_micros(adv_us / 256);
                    }
                }
            }
        }
    }

    /// A link change: `Some(up)` to act on now, `None` when it is delayed,
    /// joins a pending change, or cancels one.
    pub fn change(&mut self, name: &str, up: bool, now: Instant) -> Option<bool> {
        let Some(&(down_delay, up_delay)) = self.delays.get(name) else { return Some(up) };
        if let Some(&(target, _)) = self.pending.get(name) {
            if target == up {
                return None;
            }
            // Back to the state acted on: keepalived cancels silently (its
            // flags are then the same as before).
            self.pending.remove(name);
        }
        let was_up = self.applied.get(name).copied();
        if was_up == Some(up) {
            return None;
        }
        let delay = if up { up_delay } else { down_delay };
        if was_up.is_some() && !delay.is_zero() {
            self.pending.insert(name.to_string(), (up, now + delay));
            let (from, to) = if up { ("down", "up") } else { ("up", "down") };
            info!("{name}: Adding flags change from {from} to {to} delay by {}", delay.as_micros());
            return None;
        }
        self.applied.insert(name.to_string(), up);
        Some(up)
    }

    /// The next pending change.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.pending.values().map(|(_, at)| *at).min()
    }

    /// The changes due by `now`, to act on.
    pub fn expired(&mut self, now: Instant) -> Vec<(String, bool)> {
        let due: Vec<String> = self.pending.iter().filter(|(_, (_, at))| *at <= now).map(|(n, _)| n.clone()).collect();
        let mut out = Vec::new();
        for n in due {
            if let Some((up, _)) = self.pending.remove(&n) {
                self.applied.insert(n.clone(), up);
                out.push((n, up));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(text: &str) -> Config {
        let opts = keepalived_config::ParseOptions {
            system: keepalived_config::SystemView::with_interfaces(&["eth0"]),
            ..Default::default()
        };
        keepalived_config::parse_str("k.conf", text, &opts).config
    }

    #[test]
    fn a_short_flap_is_ignored_and_a_long_one_acted_on_late() {
        let c = cfg("interface_up_down_delays {\neth0 1 0.5\n}\n");
        let mut d = Debounce::new(&c, |_| Some(true));
        let t = Instant::now();
        assert_eq!(d.change("eth0", false, t), None);
        assert_eq!(d.change("eth0", true, t + Duration::from_millis(300)), None, "back up: cancelled");
        assert_eq!(d.poll_timeout(), None);
        assert_eq!(d.change("eth0", false, t), None);
        assert_eq!(d.poll_timeout(), Some(t + Duration::from_secs(1)));
        assert!(d.expired(t + Duration::from_millis(999)).is_empty());
        assert_eq!(d.expired(t + Duration::from_secs(1)), vec![("eth0".to_string(), false)]);
        assert_eq!(d.change("eth0", true, t), None);
        assert_eq!(d.expired(t + Duration::from_millis(500)), vec![("eth0".to_string(), true)]);
        // Other interfaces act at once.
        assert_eq!(d.change("eth1", false, t), Some(false));
    }

    #[test]
    fn delays_are_capped_below_the_instances_down_timer() {
        let c =
            cfg("interface_up_down_delays {\neth0 5 5\n}\nvrrp_instance V {\ninterface eth0\nvirtual_router_id 1\n\
             advert_int 1\nvirtual_ipaddress {\n192.0.2.1\n}\n}\n");
        let d = Debounce::new(&c, |_| Some(true));
        let cap = Duration::from_micros(2_000_000 - 3906);
        assert_eq!(d.delays["eth0"], (cap, cap));
    }
}
