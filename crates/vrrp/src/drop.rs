//! Why a received advert is dropped (or merely noted), in one place.
//!
//! Each [`DropReason`] knows the `vrrp_stats` counter keepalived increments
//! for it (RFC 5798 §5.2 / §7.1 receive checks; keepalived's
//! `vrrp_check_packet`), the bit that rate-limits its log line (one line per
//! reason until the next state transition or master change) and the log text.
//! `report` is the only place that counts, rate-limits and logs.

use std::fmt;
use std::net::IpAddr;

use crate::types::{Action, Stats};

/// A receive check that failed, with what its log line needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DropReason {
    /// VRRP length (or IPv4 total length) disagrees with the address count
    /// (RFC 5798 §7.1 "MUST verify that the received packet contains the
    /// complete VRRP packet"). `packet_len_err`.
    Length,
    /// Multicast advert with a TTL / hop limit other than 255 (RFC 5798 §5.1.1.3,
    /// §5.1.2.3, §7.1). `ip_ttl_err`.
    Ttl {
        /// The TTL / hop limit received.
        ttl: u8,
    },
    /// VRRP version is not the instance's (§7.1). `vers_err`.
    Version {
        /// The version in the advert.
        got: u8,
        /// The instance's version.
        want: u8,
    },
    /// VRRPv2 auth type not 0, 1 or 2 (RFC 3768 §5.3.6). `invalid_authtype`.
    InvalidAuthType {
        /// The auth type in the advert.
        got: u8,
    },
    /// VRRPv2 auth type not the instance's. `authtype_mismatch`.
    AuthTypeMismatch {
        /// The auth type in the advert.
        got: u8,
        /// The instance's auth type.
        want: u8,
    },
    /// VRRPv2 PASS data differs. `auth_failure`.
    BadPassword,
    /// IPsec AH ICV (or sequence) check failed. `auth_failure`.
    AhIcv,
    /// VRRPv2 advert interval differs (RFC 3768 §7.1). keepalived 2.2.7 counts
    /// nothing (its `advert_interval_err` is never incremented).
    IntervalV2 {
        /// Our advert interval, seconds.
        mine_s: u64,
        /// The advert's interval, seconds.
        rcvd_s: u16,
    },
    /// Type is not 1 = ADVERTISEMENT (§5.2.2). `invalid_type_rcvd`.
    Type {
        /// The type in the advert.
        got: u8,
    },
    /// VRRPv3 advert interval differs: logged only, the advert is processed
    /// (RFC 5798 §6.4.2 adopts the master's interval). No counter.
    IntervalV3 {
        /// Our advert interval, centiseconds.
        ours_cs: u64,
        /// The advert's interval, centiseconds.
        rcvd_cs: u16,
    },
    /// VRRP checksum is wrong (§5.2.8). `chk_err`.
    Checksum {
        /// The advert's VRRP version (the checksum covers a pseudo-header in v3).
        version: u8,
    },
    /// Multicast advert on a unicast instance or the reverse. `addr_list_err`.
    CastMismatch {
        /// The instance is unicast (the advert came multicast).
        unicast: bool,
    },
    /// `owner_ignore_adverts` on an address owner. No counter.
    OwnerIgnore,
    /// Address count differs from the VIP count (§7.1 "MAY verify").
    /// `addr_list_err`; drops only with
    /// `EngineOptions::drop_on_vip_mismatch`.
    AddrCount {
        /// The instance's VIP count.
        want: usize,
        /// The advert's address count.
        got: u8,
    },
    /// A configured VIP is missing from the advert. `addr_list_err`; drops
    /// only with `EngineOptions::drop_on_vip_mismatch`.
    AddrMissing {
        /// The advert's VRID.
        vrid: u8,
        /// The first configured VIP the advert lacks.
        missing: IpAddr,
    },
    /// Unicast peer's TTL / hop limit outside its `min_ttl`..`max_ttl`. `ip_ttl_err`.
    TtlRange {
        /// The TTL / hop limit received.
        ttl: u8,
        /// The peer's `min_ttl`.
        min: u8,
        /// The peer's `max_ttl`.
        max: u8,
    },
    /// Unicast source that is not a configured peer (`check_unicast_src`). No counter.
    NotPeer,
}

impl DropReason {
    /// The `vrrp_stats` counter keepalived 2.2.7 increments, if any.
    pub fn counter(self, s: &mut Stats) -> Option<&mut u64> {
        use DropReason::*;
        match self {
            Length => Some(&mut s.packet_len_err),
            Ttl { .. } | TtlRange { .. } => Some(&mut s.ip_ttl_err),
            Version { .. } => Some(&mut s.vers_err),
            InvalidAuthType { .. } => Some(&mut s.invalid_authtype),
            AuthTypeMismatch { .. } => Some(&mut s.authtype_mismatch),
            BadPassword | AhIcv => Some(&mut s.auth_failure),
            Type { .. } => Some(&mut s.invalid_type_rcvd),
            Checksum { .. } => Some(&mut s.chk_err),
            CastMismatch { .. } | AddrCount { .. } | AddrMissing { .. } => Some(&mut s.addr_list_err),
            IntervalV2 { .. } | IntervalV3 { .. } | OwnerIgnore | NotPeer => None,
        }
    }

    /// The rate-limit bit of this reason's log line.
    pub(crate) fn rl_flag(self) -> u32 {
        use DropReason::*;
        1 << match self {
            Length => 0,
            Ttl { .. } => 1,
            Version { .. } => 2,
            InvalidAuthType { .. } => 3,
            AuthTypeMismatch { .. } => 4,
            BadPassword => 5,
            IntervalV2 { .. } | IntervalV3 { .. } => 6,
            Type { .. } => 7,
            Checksum { .. } => 8,
            CastMismatch { .. } => 9,
            OwnerIgnore => 10,
            AddrCount { .. } => 11,
            AddrMissing { .. } => 12,
            NotPeer => 13,
            TtlRange { .. } => 14,
            AhIcv => 15,
        }
    }

    /// The log line for instance `name` and advert source `src`.
    pub fn log_line(self, name: &str, src: IpAddr) -> String {
        format!("({name}) {}", Text(self, src))
    }
}

/// The log text after the `(instance) ` prefix.
struct Text(DropReason, IpAddr);

impl fmt::Display for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use DropReason::*;
        let src = self.1;
        match self.0 {
            Length => write!(f, "vrrp packet from {src} has an invalid length"),
            Ttl { ttl } => write!(f, "invalid TTL/HL from {src}. Received {ttl} and expect 255"),
            Version { got, want } => write!(f, "wrong VRRP version from {src}. Received {got} and expect {want}"),
            InvalidAuthType { got } => write!(f, "Invalid auth type from {src}: {got}"),
            AuthTypeMismatch { got, want } => write!(f, "received a {got} auth from {src}, expecting {want}!"),
            BadPassword => write!(f, "received an invalid passwd from {src}!"),
            AhIcv => write!(f, "IPSEC-AH : invalid ICV from {src}"),
            IntervalV2 { mine_s, rcvd_s } => {
                write!(f, "advertisement interval mismatch with {src} mine={mine_s} sec rcv'd={rcvd_s} sec")
            }
            Type { got } => write!(f, "Invalid packet type from {src}. {got} and expect 1"),
            IntervalV3 { ours_cs, rcvd_cs } => {
                write!(f, "advertisement interval mismatch ours = {ours_cs} centi-sec rcv'd={rcvd_cs} centi-sec")
            }
            Checksum { version } => write!(f, "Invalid VRRPv{version} checksum from {src}"),
            CastMismatch { unicast } => {
                let (exp, got) = if unicast { ("un", "mult") } else { ("mult", "un") };
                write!(f, "Expected {exp}icast packet but received {got}icast packet from {src}")
            }
            OwnerIgnore => write!(f, "Dropping packet(s) from {src} since we are address owner"),
            AddrCount { want, got } => write!(f, "expected {want} VIPs but received {got}"),
            AddrMissing { vrid, missing } => {
                write!(f, "ip address associated with VRID {vrid} not present in advert from {src}: {missing}")
            }
            TtlRange { ttl, min, max } => write!(f, "TTL/HL {ttl} from {src} not in range [{min}, {max}]"),
            NotPeer => write!(f, "unicast source address {src} not a unicast peer"),
        }
    }
}

/// Counts `reason` on the instance's `stats`, and logs it unless its
/// rate-limit bit in `rlflags` is already set (then sets it).
pub(crate) fn report(
    reason: DropReason,
    name: &str,
    src: IpAddr,
    stats: &mut Stats,
    rlflags: &mut u32,
    out: &mut Vec<Action>,
) {
    if let Some(c) = reason.counter(stats) {
        *c += 1;
    }
    let flag = reason.rl_flag();
    if *rlflags & flag == 0 {
        *rlflags |= flag;
        out.push(Action::Log(reason.log_line(name, src)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    const SRC: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1));

    #[test]
    fn counts_every_time_logs_once() {
        let (mut s, mut rl, mut out) = (Stats::default(), 0u32, Vec::new());
        for _ in 0..3 {
            report(DropReason::Checksum { version: 3 }, "VI_1", SRC, &mut s, &mut rl, &mut out);
        }
        assert_eq!(s.chk_err, 3);
        assert_eq!(out, vec![Action::Log("(VI_1) Invalid VRRPv3 checksum from 192.0.2.1".into())]);
    }

    #[test]
    fn uncounted_reasons_only_log() {
        let (mut s, mut rl, mut out) = (Stats::default(), 0u32, Vec::new());
        report(DropReason::NotPeer, "VI_1", SRC, &mut s, &mut rl, &mut out);
        assert_eq!(s, Stats::default());
        assert_eq!(out.len(), 1);
    }

    #[test]
    fn interval_reasons_share_one_rate_limit() {
        let v2 = DropReason::IntervalV2 { mine_s: 1, rcvd_s: 3 };
        let v3 = DropReason::IntervalV3 { ours_cs: 100, rcvd_cs: 300 };
        assert_eq!(v2.rl_flag(), v3.rl_flag());
    }
}
