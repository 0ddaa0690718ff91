//! keepalived-rs wire formats, in the style of smoltcp's `src/wire`.
//!
//! Every format has
//! * a checked zero-copy view `Packet<T: AsRef<[u8]>>` (`new_unchecked`, `check_len`, `new_checked`,
//!   field accessors, setters for `T: AsMut<[u8]>`), with the byte ranges of its fields in `mod field`;
//! * a validated high-level `Repr` with `parse`, `emit` and `buffer_len`.
//!
//! No I/O, no `unsafe`, no panics on any input, and no heap allocation on the parse path: a VRRP
//! advert's address list is an [`vrrp::AddrList`] borrowing the received buffer.
//!
//! | module | format |
//! | --- | --- |
//! | [`vrrp`] | VRRPv2 (RFC 3768) and VRRPv3 (RFC 5798/9568) adverts, over IPv4 and IPv6, all checksum variants |
//! | [`ah`] | IPsec AH (RFC 2402) as keepalived uses it for VRRPv2 auth type 2 (HMAC-MD5-96) |
//! | [`ipv4`], [`ipv6`] | IP headers as keepalived sends and receives them |
//! | [`advert`] | a whole received IPv4 datagram: IPv4 header, optional AH, VRRP |
//! | [`ethernet`], [`arp`] | Ethernet II framing, (gratuitous) ARP |
//! | [`ndisc`] | ICMPv6 (unsolicited) Neighbour Advertisement |
//! | [`bfd`] | BFD control packets (RFC 5880 §4.1) with every authentication section |
//! | [`checksum`] | the Internet checksum and pseudo-headers |
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod advert;
pub mod ah;
pub mod arp;
pub mod bfd;
pub mod checksum;
mod error;
pub mod ethernet;
#[doc(hidden)]
pub mod fuzzing;
pub mod ipv4;
pub mod ipv6;
pub mod ndisc;
pub mod vrrp;

pub use error::Error;
pub use ethernet::MacAddr;

/// `Result` of this crate.
pub type Result<T> = core::result::Result<T, Error>;

/// IP protocol numbers used here.
pub mod ip_proto {
    /// VRRP (RFC 3768 §5.2.4).
    pub const VRRP: u8 = 112;
    /// IPsec Authentication Header (RFC 2402).
    pub const AH: u8 = 51;
    /// ICMPv6.
    pub const ICMPV6: u8 = 58;
}

/// Big-endian helpers over slices; callers have checked the length.
pub(crate) fn get_u16(b: &[u8], at: usize) -> u16 {
    match b.get(at..at + 2) {
        Some(s) => u16::from_be_bytes([s[0], s[1]]),
        None => 0,
    }
}

pub(crate) fn get_u32(b: &[u8], at: usize) -> u32 {
    match b.get(at..at + 4) {
        Some(s) => u32::from_be_bytes([s[0], s[1], s[2], s[3]]),
        None => 0,
    }
}

pub(crate) fn put_u16(b: &mut [u8], at: usize, v: u16) {
    if let Some(s) = b.get_mut(at..at + 2) {
        s.copy_from_slice(&v.to_be_bytes());
    }
}

pub(crate) fn put_u32(b: &mut [u8], at: usize, v: u32) {
    if let Some(s) = b.get_mut(at..at + 4) {
        s.copy_from_slice(&v.to_be_bytes());
    }
}

pub(crate) fn get_array<const N: usize>(b: &[u8], at: usize) -> [u8; N] {
    let mut out = [0u8; N];
    if let Some(s) = b.get(at..at + N) {
        out.copy_from_slice(s);
    }
    out
}

pub(crate) fn put_slice(b: &mut [u8], at: usize, v: &[u8]) {
    if let Some(s) = b.get_mut(at..at + v.len()) {
        s.copy_from_slice(v);
    }
}
