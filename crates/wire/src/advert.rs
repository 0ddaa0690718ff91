//! A whole received (or to-be-sent) IPv4 VRRP datagram: IPv4 header (options skipped, bytes past
//! Total Length ignored), optional IPsec AH, VRRP message — what keepalived's raw IPv4 socket
//! returns. (IPv6 raw sockets return the VRRP message alone: use [`crate::vrrp`] directly.)
use crate::vrrp::{self, Auth, ChecksumKind, Family, Version};
use crate::{ah, ip_proto, ipv4, Error, Result};

/// A decoded IPv4 advert. Parsing allocates nothing; the address list borrows the buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ipv4Advert<'a> {
    /// IPv4 header.
    pub ip: ipv4::Repr,
    /// AH header, when the IP protocol is 51.
    pub ah: Option<ah::Repr>,
    /// The VRRP advert.
    pub vrrp: vrrp::Repr<'a>,
}

impl<'a> Ipv4Advert<'a> {
    /// Parses IPv4 (`IpVersion`, `Truncated`, `BadLength`, `IpChecksum`, `Fragment`), protocol 112 or
    /// 51 (`Protocol`), AH (`BadLength`, `AhNextHeader`), then VRRP as [`vrrp::Repr::parse`] (the
    /// VRRP message must fill the rest of the datagram exactly). AH is accepted only with VRRPv2
    /// auth type AH and vice versa (`AuthType`; keepalived counts `authtype_mismatch`).
    /// Checksums and AH ICV are not verified here: see [`Ipv4Advert::verify_checksum`], [`ah::verify`].
    pub fn parse(datagram: &'a [u8]) -> Result<Ipv4Advert<'a>> {
        let p = ipv4::Packet::new_unchecked(datagram);
        let ip = ipv4::Repr::parse(&p)?;
        let payload = p.payload();
        let (ah, msg) = match ip.protocol {
            ip_proto::VRRP => (None, payload),
            ip_proto::AH => {
                let a = ah::Packet::new_unchecked(payload);
                (Some(ah::Repr::parse(&a)?), a.payload())
            }
            _ => return Err(Error::Protocol),
        };
        let vrrp = vrrp::Repr::parse(&vrrp::Packet::new_unchecked(msg, Family::Ipv4))?;
        if ah.is_some() != (vrrp.auth == Auth::Ah) {
            return Err(Error::AuthType);
        }
        Ok(Ipv4Advert { ip, ah, vrrp })
    }

    /// The VRRP message bytes of a datagram already accepted by [`Ipv4Advert::parse`].
    pub fn vrrp_message(datagram: &[u8]) -> &[u8] {
        let p = ipv4::Packet::new_unchecked(datagram);
        let payload = p.payload();
        if p.protocol() == ip_proto::AH {
            payload.get(ah::HEADER_LEN..).unwrap_or(&[])
        } else {
            payload
        }
    }

    /// The checksum kind keepalived uses for this advert (actual destination).
    pub fn checksum_kind(&self, v3_checksum_as_v2: bool) -> ChecksumKind {
        ChecksumKind::ipv4(self.vrrp.version, self.ip.src_addr, self.ip.dst_addr, v3_checksum_as_v2)
    }

    /// Verifies the VRRP checksum of `datagram` (the one parsed) for `kind`.
    pub fn verify_checksum(datagram: &[u8], kind: ChecksumKind) -> bool {
        vrrp::verify_checksum(Self::vrrp_message(datagram), kind)
    }

    /// Total datagram length.
    pub fn buffer_len(&self) -> usize {
        ipv4::HEADER_LEN + self.ah.map_or(0, |a| a.buffer_len()) + self.vrrp.buffer_len()
    }

    /// Writes the datagram (IPv4 header with checksum, AH with the ICV in `self.ah`, VRRP with
    /// the checksum for `kind`); `self.ip.protocol` and `payload_len` are taken as given. Returns
    /// the length. Use [`ah::sign`] afterwards to compute the ICV.
    pub fn emit(&self, buf: &mut [u8], kind: ChecksumKind) -> Result<usize> {
        let len = self.buffer_len();
        let buf = buf.get_mut(..len).ok_or(Error::Truncated)?;
        if self.vrrp.family() != Family::Ipv4 || (self.ah.is_some() && self.vrrp.version != Version::V2) {
            return Err(Error::Malformed);
        }
        self.ip.emit(&mut ipv4::Packet::new_unchecked(&mut *buf))?;
        let mut at = ipv4::HEADER_LEN;
        if let Some(a) = self.ah {
            a.emit(&mut ah::Packet::new_unchecked(&mut buf[at..]))?;
            at += ah::HEADER_LEN;
        }
        self.vrrp.emit(&mut vrrp::Packet::new_unchecked(&mut buf[at..], Family::Ipv4), kind)?;
        Ok(len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    /// pass.pcap: 198.51.100.1 > 224.0.0.18, VRRPv2 VRID 54, PASS "lab-pw1", with 6 bytes of
    /// Ethernet padding appended (ignored: beyond Total Length).
    const PASS_PADDED: [u8; 46] = [
        0x45, 0xc0, 0x00, 0x28, 0x00, 0x01, 0x00, 0x00, 0xff, 0x70, 0xb0, 0x5d, 0xc6, 0x33, 0x64, 0x01, 0xe0, 0x00,
        0x00, 0x12, 0x21, 0x36, 0x96, 0x01, 0x01, 0x01, 0xad, 0x56, 0xc6, 0x33, 0x64, 0x36, 0x6c, 0x61, 0x62, 0x2d,
        0x70, 0x77, 0x31, 0x00, 0, 0, 0, 0, 0, 0,
    ];

    #[test]
    fn pass_padded() {
        let a = Ipv4Advert::parse(&PASS_PADDED).unwrap();
        assert_eq!(a.vrrp.vrid, 54);
        assert_eq!(a.vrrp.check_pass(&vrrp::auth_data(b"lab-pw1")), Ok(()));
        assert!(Ipv4Advert::verify_checksum(&PASS_PADDED, a.checksum_kind(false)));
        let mut out = [0u8; 64];
        let n = a.emit(&mut out, a.checksum_kind(false)).unwrap();
        assert_eq!(out[..n], PASS_PADDED[..40]);
    }

    #[test]
    fn ah_roundtrip_and_sign() {
        let d = crate::ah::tests::AH_ADVERT;
        let a = Ipv4Advert::parse(&d).unwrap();
        assert_eq!(a.vrrp.auth, Auth::Ah);
        assert_eq!(a.ah.unwrap().spi, u32::from(Ipv4Addr::new(198, 51, 100, 1)));
        let mut out = [0u8; 64];
        let mut fresh = a;
        fresh.ah = Some(ah::Repr::vrrp(a.ip.src_addr, 1));
        let n = fresh.emit(&mut out, ChecksumKind::Plain).unwrap();
        ah::sign(&mut out[..n], &vrrp::auth_data(b"lab-ah1"), false).unwrap();
        assert_eq!(out, d);
        // AH header without AH auth type (and the reverse) is an auth-type mismatch.
        let mut b = d;
        b[48] = 0;
        assert_eq!(Ipv4Advert::parse(&b), Err(Error::AuthType));
    }
}
