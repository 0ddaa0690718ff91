//! IPsec Authentication Header (RFC 2402) as keepalived uses it for VRRPv2/IPv4, auth type 2.
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! | Next Header   |  Payload Len  |          RESERVED             |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                 Security Parameters Index (SPI)               |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                    Sequence Number Field                      |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                                                               |
//! +                Authentication Data (12 octets:                +
//! |                  HMAC-MD5-96 ICV)                             |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```
//!
//! keepalived (`vrrp_build_ipsecah`, `vrrp_update_pkt`, `vrrp_in_chk_ipsecah`):
//! IP protocol 51; next header 112; payload length 4 (= (24 / 4) − 2); reserved 0;
//! SPI = the sender's IPv4 source address (verified on receive); sequence number counting up
//! from 1 per advert (receive: must be greater than the last one seen — the engine's job).
//!
//! ICV = first 12 bytes of HMAC-MD5(key, IPv4 header ‖ AH ‖ VRRP message), key = the 8-byte
//! NUL-padded `auth_pass` ([`crate::vrrp::auth_data`]), where in the hashed copy of the IPv4
//! header (options included, as received) TOS, flags/fragment offset and header checksum are
//! zero, **TTL is zero only for unicast** instances, and the AH ICV field is zero. Identification
//! and total length are hashed as sent (keepalived sets the ID itself so the kernel keeps it).
use std::net::Ipv4Addr;

use hmac::{KeyInit, Mac};

use crate::vrrp::ct_eq;
use crate::{get_array, get_u32, ip_proto, ipv4, put_slice, put_u32, Error, Result};

/// Field byte ranges.
pub mod field {
    use core::ops::Range;
    /// Next header.
    pub const NEXT_HEADER: usize = 0;
    /// Payload length (32-bit words − 2).
    pub const PAYLOAD_LEN: usize = 1;
    /// Reserved.
    pub const RESERVED: Range<usize> = 2..4;
    /// SPI.
    pub const SPI: Range<usize> = 4..8;
    /// Sequence number.
    pub const SEQ: Range<usize> = 8..12;
    /// Integrity check value (HMAC-MD5-96).
    pub const ICV: Range<usize> = 12..24;
}

/// Length of keepalived's AH header (with a 96-bit ICV).
pub const HEADER_LEN: usize = field::ICV.end;
/// ICV length (`HMAC_MD5_TRUNC`).
pub const ICV_LEN: usize = 12;
/// Payload length value for a 96-bit ICV (`IPSEC_AH_PLEN`).
pub const PAYLOAD_LEN: u8 = 4;

type HmacMd5 = hmac::Hmac<md5::Md5>;

/// A read/write view of an AH header.
#[derive(Debug, Clone)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// Wraps without checking.
    pub const fn new_unchecked(buffer: T) -> Packet<T> {
        Packet { buffer }
    }
    /// Wraps and checks the length.
    pub fn new_checked(buffer: T) -> Result<Packet<T>> {
        let p = Self::new_unchecked(buffer);
        p.check_len()?;
        Ok(p)
    }
    /// The buffer holds the 24-byte header.
    pub fn check_len(&self) -> Result<()> {
        if self.buffer.as_ref().len() < HEADER_LEN {
            Err(Error::Truncated)
        } else {
            Ok(())
        }
    }
    /// The buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }
    /// Next header.
    pub fn next_header(&self) -> u8 {
        self.buffer.as_ref().get(field::NEXT_HEADER).copied().unwrap_or(0)
    }
    /// Payload length field.
    pub fn payload_len(&self) -> u8 {
        self.buffer.as_ref().get(field::PAYLOAD_LEN).copied().unwrap_or(0)
    }
    /// SPI.
    pub fn spi(&self) -> u32 {
        get_u32(self.buffer.as_ref(), field::SPI.start)
    }
    /// Sequence number.
    pub fn seq(&self) -> u32 {
        get_u32(self.buffer.as_ref(), field::SEQ.start)
    }
    /// ICV.
    pub fn icv(&self) -> [u8; ICV_LEN] {
        get_array(self.buffer.as_ref(), field::ICV.start)
    }
}

impl<'a, T: AsRef<[u8]> + ?Sized> Packet<&'a T> {
    /// What follows the AH header.
    pub fn payload(&self) -> &'a [u8] {
        self.buffer.as_ref().get(HEADER_LEN..).unwrap_or(&[])
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    /// Sets next header.
    pub fn set_next_header(&mut self, v: u8) {
        put_slice(self.buffer.as_mut(), field::NEXT_HEADER, &[v])
    }
    /// Sets the payload length field and zeroes the reserved field.
    pub fn set_payload_len(&mut self, v: u8) {
        put_slice(self.buffer.as_mut(), field::PAYLOAD_LEN, &[v, 0, 0])
    }
    /// Sets the SPI.
    pub fn set_spi(&mut self, v: u32) {
        put_u32(self.buffer.as_mut(), field::SPI.start, v)
    }
    /// Sets the sequence number.
    pub fn set_seq(&mut self, v: u32) {
        put_u32(self.buffer.as_mut(), field::SEQ.start, v)
    }
    /// Sets the ICV.
    pub fn set_icv(&mut self, v: &[u8; ICV_LEN]) {
        put_slice(self.buffer.as_mut(), field::ICV.start, v)
    }
}

/// A validated AH header carrying VRRP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Repr {
    /// SPI (keepalived: the sender's IPv4 address).
    pub spi: u32,
    /// Sequence number.
    pub seq: u32,
    /// ICV as received / to send (see [`sign`] to compute it in place).
    pub icv: [u8; ICV_LEN],
}

impl Repr {
    /// The header keepalived sends from `src`, with a zero ICV (to be filled by [`sign`]).
    pub fn vrrp(src: Ipv4Addr, seq: u32) -> Repr {
        Repr { spi: u32::from(src), seq, icv: [0; ICV_LEN] }
    }
    /// Parses: length, payload length 4 (`BadLength`), next header VRRP (`AhNextHeader`).
    pub fn parse<T: AsRef<[u8]> + ?Sized>(packet: &Packet<&T>) -> Result<Repr> {
        packet.check_len()?;
        if packet.payload_len() != PAYLOAD_LEN {
            return Err(Error::BadLength);
        }
        if packet.next_header() != ip_proto::VRRP {
            return Err(Error::AhNextHeader);
        }
        Ok(Repr { spi: packet.spi(), seq: packet.seq(), icv: packet.icv() })
    }
    /// Header length (24).
    pub const fn buffer_len(&self) -> usize {
        HEADER_LEN
    }
    /// Writes the header.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, packet: &mut Packet<T>) -> Result<()> {
        packet.check_len()?;
        packet.set_next_header(ip_proto::VRRP);
        packet.set_payload_len(PAYLOAD_LEN);
        packet.set_spi(self.spi);
        packet.set_seq(self.seq);
        packet.set_icv(&self.icv);
        Ok(())
    }
}

/// HMAC-MD5-96 ICV of an IPv4 datagram carrying AH.
///
/// `ip_header` is the IPv4 header with options (IHL × 4 bytes, at most 60), `rest` the AH header
/// followed by the VRRP message; the mutable fields are zeroed in copies, not in the inputs.
/// `zero_ttl` must be the instance's unicast flag. `key` is the 8-byte auth data.
pub fn compute_icv(ip_header: &[u8], rest: &[u8], key: &[u8], zero_ttl: bool) -> [u8; ICV_LEN] {
    let mut hdr = [0u8; 60];
    let hl = ip_header.len().min(60);
    hdr[..hl].copy_from_slice(&ip_header[..hl]);
    hdr[ipv4::field::TOS] = 0;
    hdr[ipv4::field::FLG_OFF].fill(0);
    hdr[ipv4::field::CHECKSUM].fill(0);
    if zero_ttl {
        hdr[ipv4::field::TTL] = 0;
    }
    let mut ah = [0u8; HEADER_LEN];
    let al = rest.len().min(HEADER_LEN);
    ah[..al].copy_from_slice(&rest[..al]);
    ah[field::ICV].fill(0);

    // HMAC accepts keys of any length (RFC 2104: longer than the block are hashed, like keepalived).
    let Ok(mut mac) = HmacMd5::new_from_slice(key) else {
        return [0; ICV_LEN];
    };
    mac.update(&hdr[..hl]);
    mac.update(&ah[..al]);
    mac.update(rest.get(HEADER_LEN..).unwrap_or(&[]));
    let digest = mac.finalize().into_bytes();
    let mut out = [0u8; ICV_LEN];
    out.copy_from_slice(&digest[..ICV_LEN]);
    out
}

/// Splits an IPv4+AH datagram into (IPv4 header, AH + payload), bounded by Total Length.
fn split(datagram: &[u8]) -> Result<(&[u8], &[u8])> {
    let p = ipv4::Packet::new_checked(datagram)?;
    if p.protocol() != ip_proto::AH {
        return Err(Error::Protocol);
    }
    let hl = p.header_len();
    let rest = p.payload();
    if hl > 60 || rest.len() < HEADER_LEN {
        return Err(Error::Truncated);
    }
    Ok((datagram.get(..hl).unwrap_or(&[]), rest))
}

/// Computes the ICV of an IPv4 datagram (IPv4 header, AH, VRRP; bytes past Total Length
/// ignored) and writes it into the AH header.
pub fn sign(datagram: &mut [u8], key: &[u8], zero_ttl: bool) -> Result<()> {
    let (hl, icv) = {
        let (hdr, rest) = split(datagram)?;
        (hdr.len(), compute_icv(hdr, rest, key, zero_ttl))
    };
    put_slice(datagram, hl + field::ICV.start, &icv);
    Ok(())
}

/// Verifies an IPv4+AH datagram as keepalived does: the ICV (constant time), then SPI = source
/// address. Both fail with [`Error::AuthFailure`]. The sequence number check is the engine's.
pub fn verify(datagram: &[u8], key: &[u8], zero_ttl: bool) -> Result<()> {
    let (hdr, rest) = split(datagram)?;
    let icv = compute_icv(hdr, rest, key, zero_ttl);
    if !ct_eq(&icv, rest.get(field::ICV).unwrap_or(&[])) {
        return Err(Error::AuthFailure);
    }
    if get_u32(rest, field::SPI.start) != get_u32(hdr, ipv4::field::SRC_ADDR.start) {
        return Err(Error::AuthFailure);
    }
    Ok(())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::vrrp::auth_data;

    /// ah.pcap: 198.51.100.1 > 224.0.0.18, AH spi 0xc6336401 seq 1, VRRPv2 VRID 55 (key "lab-ah1").
    pub(crate) const AH_ADVERT: [u8; 64] = [
        0x45, 0xc0, 0x00, 0x40, 0x00, 0x01, 0x00, 0x00, 0xff, 0x33, 0xb0, 0x82, 0xc6, 0x33, 0x64, 0x01, 0xe0, 0x00,
        0x00, 0x12, 0x70, 0x04, 0x00, 0x00, 0xc6, 0x33, 0x64, 0x01, 0x00, 0x00, 0x00, 0x01, 0x75, 0xbb, 0xfc, 0xd1,
        0x46, 0xb6, 0x6d, 0xa5, 0x5e, 0xff, 0x71, 0x4b, 0x21, 0x37, 0x96, 0x01, 0x02, 0x01, 0x1c, 0x5b, 0xc6, 0x33,
        0x64, 0x37, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    ];

    #[test]
    fn captured_icv() {
        let key = auth_data(b"lab-ah1");
        assert_eq!(verify(&AH_ADVERT, &key, false), Ok(()));
        // The NUL padding of the key does not matter to HMAC.
        assert_eq!(verify(&AH_ADVERT, b"lab-ah1", false), Ok(()));
        assert_eq!(verify(&AH_ADVERT, &auth_data(b"lab-ah2"), false), Err(Error::AuthFailure));
        assert_eq!(verify(&AH_ADVERT, &key, true), Err(Error::AuthFailure));
        let mut b = AH_ADVERT;
        b[32..44].fill(0);
        sign(&mut b, &key, false).unwrap();
        assert_eq!(b, AH_ADVERT);
        // TOS, checksum and TTL-for-multicast... only TOS/frag/checksum are mutable.
        let mut b = AH_ADVERT;
        b[1] = 0;
        b[10] = 0;
        assert_eq!(verify(&b, &key, false), Ok(()));
        b[4] = 9; // identification is covered
        assert_eq!(verify(&b, &key, false), Err(Error::AuthFailure));
    }

    #[test]
    fn repr_roundtrip_and_spi() {
        let p = Packet::new_checked(&AH_ADVERT[20..]).unwrap();
        let r = Repr::parse(&p).unwrap();
        assert_eq!(r.spi, u32::from(Ipv4Addr::new(198, 51, 100, 1)));
        assert_eq!(r.seq, 1);
        let mut out = [0u8; 24];
        r.emit(&mut Packet::new_unchecked(&mut out[..])).unwrap();
        assert_eq!(out[..], AH_ADVERT[20..44]);
        // SPI must equal the source: re-sign with a wrong SPI.
        let key = auth_data(b"lab-ah1");
        let mut b = AH_ADVERT;
        b[27] = 9;
        sign(&mut b, &key, false).unwrap();
        assert_eq!(verify(&b, &key, false), Err(Error::AuthFailure));
        let mut b = AH_ADVERT;
        b[20] = 6;
        assert_eq!(Repr::parse(&Packet::new_unchecked(&b[20..])), Err(Error::AhNextHeader));
        b[21] = 5;
        assert_eq!(Repr::parse(&Packet::new_unchecked(&b[20..])), Err(Error::BadLength));
    }
}
