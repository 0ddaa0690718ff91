//! IPv4 header (RFC 791) as keepalived sends and receives it.
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |Version|  IHL  |Type of Service|          Total Length         |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |         Identification        |Flags|      Fragment Offset    |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |  Time to Live |    Protocol   |         Header Checksum       |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                       Source Address                          |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                    Destination Address                        |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                    Options                    |    Padding    |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```
//!
//! keepalived (`vrrp_build_ip4`, `vrrp_update_pkt`) sends: IHL 5 (no options), TOS 0xc0
//! (internetwork control), ID = a per-instance counter starting at 1 and skipping 0 (so the
//! kernel does not choose one), flags/fragment offset 0 (**DF not set**), TTL 255, protocol 112
//! (or 51 with AH), checksum left to the kernel (`IP_HDRINCL`). On receive the header length
//! (IHL) is honoured, options are skipped, and bytes past Total Length (Ethernet padding) ignored.
use std::net::Ipv4Addr;

use crate::checksum;
use crate::{get_array, get_u16, put_slice, put_u16, Error, Result};

/// Field byte ranges.
pub mod field {
    use core::ops::Range;
    /// Version (high nibble) and IHL (low nibble).
    pub const VER_IHL: usize = 0;
    /// Type of service / DSCP+ECN.
    pub const TOS: usize = 1;
    /// Total length.
    pub const LENGTH: Range<usize> = 2..4;
    /// Identification.
    pub const IDENT: Range<usize> = 4..6;
    /// Flags and fragment offset.
    pub const FLG_OFF: Range<usize> = 6..8;
    /// Time to live.
    pub const TTL: usize = 8;
    /// Protocol.
    pub const PROTOCOL: usize = 9;
    /// Header checksum.
    pub const CHECKSUM: Range<usize> = 10..12;
    /// Source address.
    pub const SRC_ADDR: Range<usize> = 12..16;
    /// Destination address.
    pub const DST_ADDR: Range<usize> = 16..20;
}

/// Length of a header without options.
pub const HEADER_LEN: usize = field::DST_ADDR.end;
/// TTL keepalived sends with and (for multicast) requires (RFC 3768 §5.2.3).
pub const VRRP_TTL: u8 = 255;
/// TOS keepalived sends with (internetwork control).
pub const VRRP_TOS: u8 = 0xc0;
/// The VRRP IPv4 multicast group 224.0.0.18.
pub const VRRP_MCAST_GROUP: Ipv4Addr = Ipv4Addr::new(224, 0, 0, 18);

const FLAG_DF: u16 = 0x4000;
const FLAG_MF: u16 = 0x2000;

/// A read/write view of an IPv4 packet.
#[derive(Debug, Clone)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// Wraps without checking.
    pub const fn new_unchecked(buffer: T) -> Packet<T> {
        Packet { buffer }
    }

    /// Wraps and checks the lengths ([`Packet::check_len`]).
    pub fn new_checked(buffer: T) -> Result<Packet<T>> {
        let p = Self::new_unchecked(buffer);
        p.check_len()?;
        Ok(p)
    }

    /// The buffer holds a header of IHL words and Total Length bytes, and IHL ≤ Total Length.
    /// Bytes past Total Length are allowed (Ethernet padding).
    pub fn check_len(&self) -> Result<()> {
        let len = self.buffer.as_ref().len();
        if len < HEADER_LEN {
            return Err(Error::Truncated);
        }
        let hl = self.header_len();
        let tl = usize::from(self.total_len());
        if hl < HEADER_LEN || tl < hl {
            return Err(Error::BadLength);
        }
        if len < hl || len < tl {
            return Err(Error::Truncated);
        }
        Ok(())
    }

    /// The buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }
    /// Version field.
    pub fn version(&self) -> u8 {
        self.buffer.as_ref().first().map_or(0, |b| b >> 4)
    }
    /// Header length in octets (IHL × 4).
    pub fn header_len(&self) -> usize {
        usize::from(self.buffer.as_ref().first().map_or(0, |b| b & 0x0f)) * 4
    }
    /// Type of service.
    pub fn tos(&self) -> u8 {
        self.buffer.as_ref().get(field::TOS).copied().unwrap_or(0)
    }
    /// Total length.
    pub fn total_len(&self) -> u16 {
        get_u16(self.buffer.as_ref(), field::LENGTH.start)
    }
    /// Identification.
    pub fn ident(&self) -> u16 {
        get_u16(self.buffer.as_ref(), field::IDENT.start)
    }
    /// Don't-fragment flag.
    pub fn dont_frag(&self) -> bool {
        get_u16(self.buffer.as_ref(), field::FLG_OFF.start) & FLAG_DF != 0
    }
    /// More-fragments flag.
    pub fn more_frags(&self) -> bool {
        get_u16(self.buffer.as_ref(), field::FLG_OFF.start) & FLAG_MF != 0
    }
    /// Fragment offset in octets.
    pub fn frag_offset(&self) -> u16 {
        (get_u16(self.buffer.as_ref(), field::FLG_OFF.start) & 0x1fff) << 3
    }
    /// Time to live.
    pub fn ttl(&self) -> u8 {
        self.buffer.as_ref().get(field::TTL).copied().unwrap_or(0)
    }
    /// Protocol.
    pub fn protocol(&self) -> u8 {
        self.buffer.as_ref().get(field::PROTOCOL).copied().unwrap_or(0)
    }
    /// Header checksum field.
    pub fn checksum(&self) -> u16 {
        get_u16(self.buffer.as_ref(), field::CHECKSUM.start)
    }
    /// Source address.
    pub fn src_addr(&self) -> Ipv4Addr {
        Ipv4Addr::from(get_array::<4>(self.buffer.as_ref(), field::SRC_ADDR.start))
    }
    /// Destination address.
    pub fn dst_addr(&self) -> Ipv4Addr {
        Ipv4Addr::from(get_array::<4>(self.buffer.as_ref(), field::DST_ADDR.start))
    }
    /// The header bytes, options included (empty if the IHL exceeds the buffer).
    pub fn header(&self) -> &[u8] {
        self.buffer.as_ref().get(..self.header_len()).unwrap_or(&[])
    }
    /// The header checksum is correct.
    pub fn verify_checksum(&self) -> bool {
        let h = self.header();
        !h.is_empty() && checksum::checksum(h) == 0
    }
}

impl<'a, T: AsRef<[u8]> + ?Sized> Packet<&'a T> {
    /// The payload: from the end of the header (options skipped) to Total Length; empty if the lengths are invalid.
    pub fn payload(&self) -> &'a [u8] {
        let b = self.buffer.as_ref();
        let (hl, tl) = (self.header_len(), usize::from(self.total_len()));
        if hl < HEADER_LEN || tl < hl {
            return &[];
        }
        b.get(hl..tl).unwrap_or(&[])
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    /// Sets version and header length (octets, multiple of 4).
    pub fn set_version_and_header_len(&mut self, version: u8, header_len: usize) {
        if let Some(b) = self.buffer.as_mut().get_mut(field::VER_IHL) {
            *b = (version << 4) | ((header_len / 4) as u8 & 0x0f);
        }
    }
    /// Sets TOS.
    pub fn set_tos(&mut self, v: u8) {
        if let Some(b) = self.buffer.as_mut().get_mut(field::TOS) {
            *b = v;
        }
    }
    /// Sets the total length.
    pub fn set_total_len(&mut self, v: u16) {
        put_u16(self.buffer.as_mut(), field::LENGTH.start, v)
    }
    /// Sets the identification.
    pub fn set_ident(&mut self, v: u16) {
        put_u16(self.buffer.as_mut(), field::IDENT.start, v)
    }
    /// Sets flags (DF only) and a zero fragment offset.
    pub fn set_dont_frag(&mut self, df: bool) {
        put_u16(self.buffer.as_mut(), field::FLG_OFF.start, if df { FLAG_DF } else { 0 })
    }
    /// Sets TTL.
    pub fn set_ttl(&mut self, v: u8) {
        if let Some(b) = self.buffer.as_mut().get_mut(field::TTL) {
            *b = v;
        }
    }
    /// Sets the protocol.
    pub fn set_protocol(&mut self, v: u8) {
        if let Some(b) = self.buffer.as_mut().get_mut(field::PROTOCOL) {
            *b = v;
        }
    }
    /// Sets the checksum field.
    pub fn set_checksum(&mut self, v: u16) {
        put_u16(self.buffer.as_mut(), field::CHECKSUM.start, v)
    }
    /// Sets the source address.
    pub fn set_src_addr(&mut self, a: Ipv4Addr) {
        put_slice(self.buffer.as_mut(), field::SRC_ADDR.start, &a.octets())
    }
    /// Sets the destination address.
    pub fn set_dst_addr(&mut self, a: Ipv4Addr) {
        put_slice(self.buffer.as_mut(), field::DST_ADDR.start, &a.octets())
    }
    /// Computes and stores the header checksum.
    pub fn fill_checksum(&mut self) {
        self.set_checksum(0);
        let c = checksum::checksum(self.header());
        self.set_checksum(c);
    }
    /// The mutable payload (from the header end to Total Length).
    pub fn payload_mut(&mut self) -> &mut [u8] {
        let (hl, tl) = (self.header_len(), usize::from(self.total_len()));
        if hl < HEADER_LEN || tl < hl {
            return &mut [];
        }
        self.buffer.as_mut().get_mut(hl..tl).unwrap_or(&mut [])
    }
}

/// High-level IPv4 header (options are skipped on parse and never emitted).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Repr {
    /// Source address.
    pub src_addr: Ipv4Addr,
    /// Destination address.
    pub dst_addr: Ipv4Addr,
    /// Protocol (112 VRRP, 51 AH).
    pub protocol: u8,
    /// Payload length (Total Length − header length).
    pub payload_len: usize,
    /// Time to live.
    pub ttl: u8,
    /// Type of service.
    pub tos: u8,
    /// Identification.
    pub ident: u16,
    /// Don't-fragment flag (keepalived: not set).
    pub dont_frag: bool,
}

impl Repr {
    /// The header keepalived sends: TOS 0xc0, TTL 255, no DF.
    pub fn vrrp(src_addr: Ipv4Addr, dst_addr: Ipv4Addr, protocol: u8, ident: u16, payload_len: usize) -> Repr {
        Repr { src_addr, dst_addr, protocol, payload_len, ttl: VRRP_TTL, tos: VRRP_TOS, ident, dont_frag: false }
    }

    /// Parses and validates: version 4, lengths, header checksum, not a fragment.
    pub fn parse<T: AsRef<[u8]> + ?Sized>(packet: &Packet<&T>) -> Result<Repr> {
        if packet.buffer.as_ref().is_empty() {
            return Err(Error::Truncated);
        }
        if packet.version() != 4 {
            return Err(Error::IpVersion);
        }
        packet.check_len()?;
        if !packet.verify_checksum() {
            return Err(Error::IpChecksum);
        }
        if packet.more_frags() || packet.frag_offset() != 0 {
            return Err(Error::Fragment);
        }
        Ok(Repr {
            src_addr: packet.src_addr(),
            dst_addr: packet.dst_addr(),
            protocol: packet.protocol(),
            payload_len: usize::from(packet.total_len()) - packet.header_len(),
            ttl: packet.ttl(),
            tos: packet.tos(),
            ident: packet.ident(),
            dont_frag: packet.dont_frag(),
        })
    }

    /// Header length emitted (20: no options).
    pub const fn buffer_len(&self) -> usize {
        HEADER_LEN
    }

    /// Writes the header with its checksum. The buffer must hold at least [`HEADER_LEN`] bytes.
    /// Fails with [`Error::Malformed`] if the payload is longer than 65515 octets.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, packet: &mut Packet<T>) -> Result<()> {
        let total = u16::try_from(self.payload_len + HEADER_LEN).map_err(|_| Error::Malformed)?;
        if packet.buffer.as_ref().len() < HEADER_LEN {
            return Err(Error::Truncated);
        }
        packet.set_version_and_header_len(4, HEADER_LEN);
        packet.set_tos(self.tos);
        packet.set_total_len(total);
        packet.set_ident(self.ident);
        packet.set_dont_frag(self.dont_frag);
        packet.set_ttl(self.ttl);
        packet.set_protocol(self.protocol);
        packet.set_src_addr(self.src_addr);
        packet.set_dst_addr(self.dst_addr);
        packet.fill_checksum();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // v3.pcap: 198.51.100.1 > 224.0.0.18, VRRPv3 VRID 52 (IP header + VRRP, Ethernet stripped).
    const V3_ADVERT: [u8; 32] = [
        0x45, 0xc0, 0x00, 0x20, 0x00, 0x01, 0x00, 0x00, 0xff, 0x70, 0xb0, 0x65, 0xc6, 0x33, 0x64, 0x01, 0xe0, 0x00,
        0x00, 0x12, 0x31, 0x34, 0x96, 0x01, 0x00, 0x64, 0x03, 0x3a, 0xc6, 0x33, 0x64, 0x34,
    ];

    #[test]
    fn parse_emit_captured() {
        let p = Packet::new_checked(&V3_ADVERT[..]).unwrap();
        let r = Repr::parse(&p).unwrap();
        assert_eq!(r, Repr::vrrp([198, 51, 100, 1].into(), VRRP_MCAST_GROUP, 112, 1, 12));
        assert_eq!(p.payload(), &V3_ADVERT[20..]);
        let mut out = [0u8; 32];
        out[20..].copy_from_slice(&V3_ADVERT[20..]);
        r.emit(&mut Packet::new_unchecked(&mut out[..])).unwrap();
        assert_eq!(out, V3_ADVERT);
    }

    #[test]
    fn options_and_padding() {
        // Same datagram with a 4-byte NOP option block and 6 bytes of Ethernet padding.
        let mut b = [0u8; 42];
        b[..20].copy_from_slice(&V3_ADVERT[..20]);
        b[0] = 0x46;
        b[3] = 36;
        b[20..24].copy_from_slice(&[1, 1, 1, 0]);
        b[24..36].copy_from_slice(&V3_ADVERT[20..]);
        let mut p = Packet::new_unchecked(&mut b[..]);
        p.fill_checksum();
        let p = Packet::new_checked(&b[..]).unwrap();
        let r = Repr::parse(&p).unwrap();
        assert_eq!(r.payload_len, 12);
        assert_eq!(p.payload(), &V3_ADVERT[20..]);
    }

    #[test]
    fn errors() {
        assert_eq!(Repr::parse(&Packet::new_unchecked(&V3_ADVERT[..10])), Err(Error::Truncated));
        assert_eq!(Repr::parse(&Packet::new_unchecked(&V3_ADVERT[..31])), Err(Error::Truncated));
        let mut b = V3_ADVERT;
        b[0] = 0x65;
        assert_eq!(Repr::parse(&Packet::new_unchecked(&b[..])), Err(Error::IpVersion));
        let mut b = V3_ADVERT;
        b[0] = 0x44;
        assert_eq!(Repr::parse(&Packet::new_unchecked(&b[..])), Err(Error::BadLength));
        let mut b = V3_ADVERT;
        b[8] = 1;
        assert_eq!(Repr::parse(&Packet::new_unchecked(&b[..])), Err(Error::IpChecksum));
    }
}
