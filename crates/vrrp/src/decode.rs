//! From a received datagram to the engine's [`RxAdvert`], for both
//! families: [`decode_ipv4`] takes the whole IPv4 datagram (IP header, AH,
//! VRRP), [`decode_ipv6`] the VRRP message an IPv6 raw socket returns, with
//! the source, destination and hop limit from its control messages. The wire
//! crate parses and verifies (IP header, AH ICV, VRRP length, version, type,
//! checksum); what the engine decides against the instance's configuration
//! (TTL / hop limit, RFC 5798 §5.1.1.3 / §5.1.2.3; authentication type and
//! PASS data, interval, VIP list, peers) travels in the [`RxAdvert`].
//!
//! Errors found before the VRID is known are returned (the shell counts
//! and logs them, rate-limited); errors after it are flags on the advert,
//! so the engine counts them on the instance as keepalived does (for both
//! families). Nothing here allocates.

use crate::types::{AddrList, RxAdvert, RxAuth};
use keepalived_wire::advert::Ipv4Advert;
use keepalived_wire::vrrp::{self, Addrs, Auth, ChecksumKind, Family, Version};
use keepalived_wire::{ah, ipv4, Error};
use std::net::{IpAddr, Ipv6Addr};

/// How to check authentication and checksums of one instance.
#[derive(Clone, Copy, Debug, Default)]
pub struct DecodeOptions<'a> {
    /// The instance's AH key (`auth_pass`, NUL padded) when `auth_type AH`.
    pub ah_key: Option<&'a [u8; 8]>,
    /// The instance is unicast (keepalived zeroes the TTL in the AH ICV then).
    pub unicast: bool,
    /// `v3_checksum_as_v2`.
    pub v3_checksum_as_v2: bool,
    /// Also accept the old unicast checksum (pseudo-header with 224.0.0.18).
    pub old_unicast_checksum: bool,
}

/// The VRID of a datagram whose VRRP header is readable (for counting an
/// error on the right instance), even when the rest is not.
pub fn peek_vrid(datagram: &[u8]) -> Option<u8> {
    let msg = Ipv4Advert::vrrp_message(datagram);
    msg.get(1).copied()
}

/// Decode an IPv4 VRRP (or AH + VRRP) datagram.
pub fn decode_ipv4(datagram: &[u8], opts: &DecodeOptions<'_>) -> Result<RxAdvert, Error> {
    let ip = ipv4::Packet::new_checked(datagram)?;
    let ip_repr = ipv4::Repr::parse(&ip)?;
    let src = IpAddr::V4(ip_repr.src_addr);
    let dst = IpAddr::V4(ip_repr.dst_addr);
    let msg = Ipv4Advert::vrrp_message(datagram);
    let raw = vrrp::Packet::new_unchecked(msg, Family::Ipv4);
    let parsed = Ipv4Advert::parse(datagram);
    let mut adv = RxAdvert::new(src, dst, 0, 0, 0, 0);
    adv.ttl_or_hoplimit = Some(ip_repr.ttl);
    match parsed {
        Ok(a) => {
            adv.version = match a.vrrp.version {
                Version::V2 => 2,
                Version::V3 => 3,
            };
            adv.vrid = a.vrrp.vrid;
            adv.priority = a.vrrp.priority;
            adv.adver_int_cs = interval_cs(adv.version, a.vrrp.max_adver_int);
            (adv.addrs, adv.naddr) = addr_list(&a.vrrp.addrs);
            adv.auth = match a.vrrp.auth {
                Auth::None => RxAuth::None,
                Auth::Pass(p) => RxAuth::Pass(p),
                Auth::Ah => {
                    RxAuth::Ah { ok: opts.ah_key.is_some_and(|k| ah::verify(datagram, k, opts.unicast).is_ok()) }
                }
            };
            let kind = a.checksum_kind(opts.v3_checksum_as_v2);
            adv.checksum_ok = Ipv4Advert::verify_checksum(datagram, kind)
                || (opts.old_unicast_checksum
                    && Ipv4Advert::verify_checksum(datagram, ChecksumKind::ipv4_old_unicast(ip_repr.src_addr)));
            Ok(adv)
        }
        // The VRID is readable: the engine counts the problem on the instance.
        Err(e @ (Error::BadLength | Error::Truncated | Error::VrrpType | Error::VrrpVersion | Error::AuthType))
            if msg.len() >= 8 =>
        {
            header_only(&mut adv, &raw, e);
            // keepalived checks a v2 advert's authentication before its
            // type, so a bad type on a PASS/AH instance must still carry
            // the auth it came with (else it counts as an auth mismatch).
            if adv.version == 2 && !matches!(e, Error::AuthType) {
                adv.auth = match raw.auth_type() {
                    0 => RxAuth::None,
                    1 => RxAuth::Pass(raw.auth_data()),
                    2 => RxAuth::Ah { ok: opts.ah_key.is_some_and(|k| ah::verify(datagram, k, opts.unicast).is_ok()) },
                    t => RxAuth::Other(t),
                };
            }
            Ok(adv)
        }
        Err(e) => Err(e),
    }
}

/// An IPv6 advert's context from the receiving socket's control messages
/// (the raw socket strips the IPv6 header).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ipv6Meta {
    /// Source address (the sender's, normally link-local).
    pub src: Ipv6Addr,
    /// Destination (`IPV6_PKTINFO`): ff02::12 or a unicast address.
    pub dst: Ipv6Addr,
    /// Hop limit (`IPV6_HOPLIMIT`); `None` when the kernel gave none
    /// (keepalived's -1: not checked).
    pub hop_limit: Option<u8>,
}

/// Decode the VRRP message of an IPv6 advert (RFC 5798 §5.1.2, §5.2). As
/// for IPv4, an error found once the VRID is readable (length, version,
/// type, address list) comes back as a flagged advert for the engine to
/// count on the instance; the hop limit travels for the engine's §5.1.2.3
/// check (255 unless unicast); the checksum covers the IPv6 pseudo-header
/// with the actual destination (RFC 5798 §5.2.8).
pub fn decode_ipv6(msg: &[u8], meta: &Ipv6Meta) -> Result<RxAdvert, Error> {
    let raw = vrrp::Packet::new_unchecked(msg, Family::Ipv6);
    let mut adv = RxAdvert::new(IpAddr::V6(meta.src), IpAddr::V6(meta.dst), 0, 0, 0, 0);
    adv.ttl_or_hoplimit = meta.hop_limit;
    match vrrp::Repr::parse(&raw) {
        Ok(r) => {
            adv.version = r.version.number();
            adv.vrid = r.vrid;
            adv.priority = r.priority;
            adv.adver_int_cs = interval_cs(adv.version, r.max_adver_int);
            (adv.addrs, adv.naddr) = addr_list(&r.addrs);
            adv.checksum_ok = vrrp::verify_checksum(msg, ChecksumKind::ipv6(meta.src, meta.dst));
            Ok(adv)
        }
        Err(e @ (Error::BadLength | Error::Truncated | Error::VrrpType | Error::VrrpVersion | Error::AuthType))
            if msg.len() >= vrrp::HEADER_LEN =>
        {
            header_only(&mut adv, &raw, e);
            Ok(adv)
        }
        Err(e) => Err(e),
    }
}

/// The VRID of an IPv6 VRRP message whose header is readable.
pub fn peek_vrid_ipv6(msg: &[u8]) -> Option<u8> {
    msg.get(1).copied()
}

/// The advert interval in centiseconds (v2 carries seconds).
fn interval_cs(version: u8, field: u16) -> u16 {
    if version == 2 {
        field.saturating_mul(100)
    } else {
        field
    }
}

/// The addresses of a parsed advert and their count.
fn addr_list(addrs: &Addrs<'_>) -> (AddrList, u8) {
    let mut list = AddrList::new();
    let mut n = 0u8;
    match addrs {
        Addrs::V4(l) => l.iter().for_each(|a| {
            list.push(IpAddr::V4(a));
            n = n.saturating_add(1);
        }),
        Addrs::V6(l) => l.iter().for_each(|a| {
            list.push(IpAddr::V6(a));
            n = n.saturating_add(1);
        }),
    }
    (list, n)
}

/// An advert whose VRRP header is readable but whose parse failed with `e`:
/// the header fields, and the flag or auth that makes the engine count `e`.
fn header_only(adv: &mut RxAdvert, raw: &vrrp::Packet<&[u8]>, e: Error) {
    adv.vrid = raw.vrid();
    adv.priority = raw.priority();
    adv.version = raw.version();
    adv.kind = raw.msg_type();
    adv.adver_int_cs =
        if adv.version == 2 { u16::from(raw.adver_int_v2()).saturating_mul(100) } else { raw.adver_int_v3() };
    match e {
        Error::BadLength | Error::Truncated => adv.length_ok = false,
        Error::AuthType => adv.auth = RxAuth::Other(raw.auth_type()),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use keepalived_wire::vrrp::Repr;
    use std::net::Ipv4Addr;

    fn datagram(version: Version, prio: u8, auth: Auth, ttl: u8) -> Vec<u8> {
        let vips = [Ipv4Addr::new(198, 51, 100, 52)];
        let v = Repr {
            version,
            vrid: 52,
            priority: prio,
            max_adver_int: if version == Version::V2 { 1 } else { 100 },
            auth,
            addrs: Addrs::v4(&vips),
        };
        let src = Ipv4Addr::new(198, 51, 100, 1);
        let dst = Ipv4Addr::new(224, 0, 0, 18);
        let mut ip = ipv4::Repr::vrrp(src, dst, keepalived_wire::ip_proto::VRRP, 1, v.buffer_len());
        ip.ttl = ttl;
        let a = Ipv4Advert { ip, ah: None, vrrp: v };
        let mut buf = vec![0u8; a.buffer_len()];
        let kind = a.checksum_kind(false);
        a.emit(&mut buf, kind).unwrap();
        buf
    }

    #[test]
    fn decodes_v3_and_flags_checksum() {
        let d = datagram(Version::V3, 150, Auth::None, 255);
        let a = decode_ipv4(&d, &DecodeOptions::default()).unwrap();
        assert_eq!((a.version, a.vrid, a.priority, a.adver_int_cs, a.naddr), (3, 52, 150, 100, 1));
        assert!(a.checksum_ok && a.length_ok);
        assert_eq!(a.ttl_or_hoplimit, Some(255));
        let mut bad = d.clone();
        let last = bad.len() - 1;
        bad[last] ^= 1;
        let a = decode_ipv4(&bad, &DecodeOptions::default()).unwrap();
        assert!(!a.checksum_ok);
        assert_eq!(peek_vrid(&d), Some(52));
    }

    #[test]
    fn v2_interval_in_centiseconds_and_pass() {
        let d = datagram(Version::V2, 100, Auth::Pass(vrrp::auth_data(b"secret")), 64);
        let a = decode_ipv4(&d, &DecodeOptions::default()).unwrap();
        assert_eq!(a.adver_int_cs, 100);
        assert_eq!(a.auth, RxAuth::Pass(vrrp::auth_data(b"secret")));
        assert_eq!(a.ttl_or_hoplimit, Some(64));
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        for n in 0..64 {
            let junk: Vec<u8> = (0..n).map(|i| (i * 37 + 11) as u8).collect();
            let _ = decode_ipv4(&junk, &DecodeOptions::default());
        }
    }
}
