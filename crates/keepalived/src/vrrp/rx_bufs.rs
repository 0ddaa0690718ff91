//! The receive buffer of each VRRP socket (keepalived 2.2.7 vrrp_scheduler.c
//! `vrrp_create_sockpool`): every instance on the socket adds its
//! `kernel_rx_buf_size`, else the global `vrrp_rx_bufs_policy`'s share (a
//! size, or the multiplier times its advert's length or its interface's
//! MTU). A total of 0 leaves the kernel's default.

use keepalived_config::model::global::GlobalDefs;

/// One instance's share of its socket's `SO_RCVBUF`.
pub fn share(g: &GlobalDefs, kernel_rx_buf_size: Option<u32>, adv_len: usize, ifname: &str) -> usize {
    let p = &g.vrrp_rx_bufs_policy;
    let mult = g.vrrp_rx_bufs_multiplier as usize;
    match kernel_rx_buf_size.filter(|s| *s != 0) {
        Some(s) => s as usize,
        None if p.size.is_some() => p.size.unwrap_or(0) as usize,
        None if p.advert => mult * adv_len,
        None if p.mtu => mult * mtu(ifname).unwrap_or(0),
        None => 0,
    }
}

/// keepalived's `vrrp_adv_len`: the advert as it is sent (IPv4: with its IP
/// header and AH header).
pub fn adv_len(ipv6: bool, v3: bool, vips: usize, ah: bool) -> usize {
    use keepalived_wire::vrrp::{message_len, Family, Version};
    let (family, version) =
        (if ipv6 { Family::Ipv6 } else { Family::Ipv4 }, if v3 { Version::V3 } else { Version::V2 });
    let mut len = message_len(version, family, vips);
    if !ipv6 {
        len += 20;
        if ah {
            len += keepalived_wire::ah::Repr::vrrp(std::net::Ipv4Addr::UNSPECIFIED, 0).buffer_len();
        }
    }
    len
}

/// The interface's MTU (keepalived keeps it from its netlink link dump).
fn mtu(ifname: &str) -> Option<usize> {
    std::fs::read_to_string(format!("/sys/class/net/{ifname}/mtu")).ok()?.trim().parse().ok()
}

/// `None` (the kernel's default) for a total of 0.
pub fn rcvbuf(total: usize) -> Option<usize> {
    (total != 0).then_some(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_follow_keepalived_s_order_of_precedence() {
        let mut g = GlobalDefs::default();
        // 2.2.7 sizes: v2 IPv4 with 2 VIPs = 20 + 8 + 8 + 8; AH adds 24.
        assert_eq!(adv_len(false, false, 2, false), 44);
        assert_eq!(adv_len(false, false, 2, true), 68);
        assert_eq!(adv_len(true, true, 1, false), 24);
        assert_eq!(share(&g, None, 44, "lo"), 0);
        assert_eq!(share(&g, Some(0), 44, "lo"), 0);
        g.vrrp_rx_bufs_policy.advert = true;
        assert_eq!(share(&g, None, 44, "lo"), 3 * 44);
        assert_eq!(share(&g, Some(5000), 44, "lo"), 5000);
        g.vrrp_rx_bufs_policy.size = Some(70000);
        assert_eq!(share(&g, None, 44, "lo"), 70000);
        assert_eq!(rcvbuf(0), None);
    }
}
