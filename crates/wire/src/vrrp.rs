//! VRRP advertisements: VRRPv2 (RFC 3768) and VRRPv3 (RFC 5798, RFC 9568), over IPv4 and IPv6.
//!
//! VRRPv2 (RFC 3768 §5.1):
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |Version| Type  | Virtual Rtr ID|   Priority    | Count IP Addrs|
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |   Auth Type   |   Adver Int   |          Checksum             |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                         IP Address (1)                        |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                            .                                  |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                         IP Address (n)                        |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                     Authentication Data (1)                   |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                     Authentication Data (2)                   |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```
//! VRRPv3 (RFC 5798 §5.1, RFC 9568 §5.1):
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |Version| Type  | Virtual Rtr ID|   Priority    |Count IPvX Addr|
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |(rsvd) |     Max Adver Int     |          Checksum             |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                                                               |
//! +                                                               +
//! |                       IPvX Address(es)                        |
//! +                                                               +
//! |                                                               |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```
//!
//! As keepalived lays it out (`vrrp_pkt_len`, `expected_vrrp_pkt_len`): the 8 bytes of
//! authentication data exist only for VRRPv2 over **IPv4**; VRRPv2 over IPv6 (a keepalived
//! extension) has the v2 header and the addresses only. The v2 Adver Int is in seconds, the v3
//! Max Adver Int in centiseconds (12 bits; the 4 reserved bits are sent as zero, ignored on receive).
//!
//! Checksums ([`ChecksumKind`]):
//! * VRRPv2/IPv4: Internet checksum over the VRRP message only ([`ChecksumKind::Plain`]);
//! * VRRPv3/IPv4: with the IPv4 pseudo-header (src, **actual** dst, 0, 112, length);
//!   keepalived's `old_unicast_checksum` uses 224.0.0.18 as dst even for unicast
//!   ([`ChecksumKind::ipv4_old_unicast`]); `v3_checksum_as_v2` computes it like v2 (plain), and
//!   keepalived then does not verify received checksums at all;
//! * IPv6 (v2 and v3): with the IPv6 pseudo-header; the kernel computes and verifies it
//!   (`IPV6_CHECKSUM`), so keepalived itself never does.
use core::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};

use crate::checksum;
use crate::{get_array, get_u16, ip_proto, ipv4, ipv6, put_slice, put_u16, Error, Result};

/// Field byte ranges.
pub mod field {
    use core::ops::{Range, RangeFrom};
    /// Version (high nibble) and type (low nibble).
    pub const VER_TYPE: usize = 0;
    /// Virtual router id.
    pub const VRID: usize = 1;
    /// Priority.
    pub const PRIORITY: usize = 2;
    /// Count of addresses.
    pub const COUNT: usize = 3;
    /// v2: authentication type.
    pub const AUTH_TYPE: usize = 4;
    /// v2: advertisement interval, seconds.
    pub const ADVER_INT_V2: usize = 5;
    /// v3: 4 reserved bits + 12-bit max advertisement interval, centiseconds.
    pub const ADVER_INT_V3: Range<usize> = 4..6;
    /// Checksum.
    pub const CHECKSUM: Range<usize> = 6..8;
    /// Addresses (then, for v2/IPv4, the 8 bytes of authentication data).
    pub const ADDRS: RangeFrom<usize> = 8..;
}

/// Length of the fixed header.
pub const HEADER_LEN: usize = field::ADDRS.start;
/// Length of the VRRPv2 authentication data (`VRRP_AUTH_LEN`).
pub const AUTH_DATA_LEN: usize = 8;
/// Type ADVERTISEMENT, the only VRRP type.
pub const TYPE_ADVERTISEMENT: u8 = 1;
/// Largest v3 Max Adver Int (12 bits), centiseconds.
pub const MAX_V3_ADVER_INT: u16 = 0x0fff;
/// Priority 0: the master is leaving.
pub const PRIORITY_STOP: u8 = 0;
/// Priority 255: the address owner.
pub const PRIORITY_OWNER: u8 = 255;

/// VRRP version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Version {
    /// VRRPv2, RFC 3768.
    V2,
    /// VRRPv3, RFC 5798 / RFC 9568.
    V3,
}

impl Version {
    /// The number in the version field.
    pub const fn number(self) -> u8 {
        match self {
            Version::V2 => 2,
            Version::V3 => 3,
        }
    }
}

/// Address family of the carrying IP (it decides the address size and whether v2 has auth data).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Family {
    /// IPv4: 4-byte addresses.
    Ipv4,
    /// IPv6: 16-byte addresses.
    Ipv6,
}

impl Family {
    /// Size of one address.
    pub const fn addr_len(self) -> usize {
        match self {
            Family::Ipv4 => 4,
            Family::Ipv6 => 16,
        }
    }
}

/// VRRPv2 authentication type values (RFC 2338 §5.3.6; keepalived `VRRP_AUTH_*`).
pub mod auth_type {
    /// No authentication.
    pub const NONE: u8 = 0;
    /// Simple text password.
    pub const PASS: u8 = 1;
    /// IPsec AH.
    pub const AH: u8 = 2;
}

/// VRRPv2 authentication (VRRPv3 has none: always [`Auth::None`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Auth {
    /// Auth type 0; the auth data is sent as zeros and ignored on receive.
    None,
    /// Auth type 1: the 8 bytes of clear-text password, NUL-padded (see [`auth_data`]).
    Pass([u8; AUTH_DATA_LEN]),
    /// Auth type 2: IPsec AH carries the authentication (see [`crate::ah`]); auth data zero.
    Ah,
}

impl Auth {
    /// The auth type value.
    pub const fn auth_type(&self) -> u8 {
        match self {
            Auth::None => auth_type::NONE,
            Auth::Pass(_) => auth_type::PASS,
            Auth::Ah => auth_type::AH,
        }
    }
}

/// keepalived's `auth_data` from an `auth_pass`: the first 8 bytes, NUL-padded.
/// It is both the PASS password on the wire and the AH HMAC-MD5 key.
pub fn auth_data(pass: &[u8]) -> [u8; AUTH_DATA_LEN] {
    let mut out = [0u8; AUTH_DATA_LEN];
    let n = pass.len().min(AUTH_DATA_LEN);
    out[..n].copy_from_slice(&pass[..n]);
    out
}

/// Compares in constant time.
pub(crate) fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// An IP address type that can appear in an address list.
pub trait WireAddr: Copy + Eq + fmt::Debug + private::Sealed {
    /// Octets on the wire.
    const LEN: usize;
    /// The family.
    const FAMILY: Family;
    /// Reads from exactly `LEN` bytes (zeros if shorter).
    fn read(bytes: &[u8]) -> Self;
    /// Writes `LEN` bytes.
    fn write(&self, out: &mut [u8]);
}

mod private {
    pub trait Sealed {}
    impl Sealed for std::net::Ipv4Addr {}
    impl Sealed for std::net::Ipv6Addr {}
}

impl WireAddr for Ipv4Addr {
    const LEN: usize = 4;
    const FAMILY: Family = Family::Ipv4;
    fn read(bytes: &[u8]) -> Self {
        Ipv4Addr::from(get_array::<4>(bytes, 0))
    }
    fn write(&self, out: &mut [u8]) {
        put_slice(out, 0, &self.octets())
    }
}

impl WireAddr for Ipv6Addr {
    const LEN: usize = 16;
    const FAMILY: Family = Family::Ipv6;
    fn read(bytes: &[u8]) -> Self {
        Ipv6Addr::from(get_array::<16>(bytes, 0))
    }
    fn write(&self, out: &mut [u8]) {
        put_slice(out, 0, &self.octets())
    }
}

/// A list of addresses that either borrows a received buffer (no allocation, decoded lazily)
/// or borrows a slice of addresses (to emit).
#[derive(Clone, Copy)]
pub struct AddrList<'a, A> {
    inner: ListInner<'a, A>,
}

#[derive(Clone, Copy)]
enum ListInner<'a, A> {
    Wire(&'a [u8]),
    Slice(&'a [A]),
}

impl<'a, A: WireAddr> AddrList<'a, A> {
    /// Borrows wire bytes; `None` unless the length is a multiple of the address size.
    pub fn from_wire(bytes: &'a [u8]) -> Option<Self> {
        if bytes.len().is_multiple_of(A::LEN) {
            Some(AddrList { inner: ListInner::Wire(bytes) })
        } else {
            None
        }
    }
    /// Borrows addresses.
    pub const fn from_slice(addrs: &'a [A]) -> Self {
        AddrList { inner: ListInner::Slice(addrs) }
    }
    /// Number of addresses.
    pub fn len(&self) -> usize {
        match self.inner {
            ListInner::Wire(b) => b.len() / A::LEN,
            ListInner::Slice(s) => s.len(),
        }
    }
    /// No addresses.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// The `i`th address.
    pub fn get(&self, i: usize) -> Option<A> {
        match self.inner {
            ListInner::Wire(b) => b.get(i * A::LEN..(i + 1) * A::LEN).map(A::read),
            ListInner::Slice(s) => s.get(i).copied(),
        }
    }
    /// Iterates without allocating.
    pub fn iter(&self) -> AddrIter<'a, A> {
        AddrIter { list: *self, pos: 0 }
    }
    /// The list holds `addr`.
    pub fn contains(&self, addr: &A) -> bool {
        self.iter().any(|a| a == *addr)
    }
    /// Writes the addresses (`len() * LEN` bytes).
    fn write(&self, out: &mut [u8]) {
        for (i, a) in self.iter().enumerate() {
            if let Some(dst) = out.get_mut(i * A::LEN..(i + 1) * A::LEN) {
                a.write(dst);
            }
        }
    }
}

impl<A: WireAddr> PartialEq for AddrList<'_, A> {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().eq(other.iter())
    }
}

impl<A: WireAddr> Eq for AddrList<'_, A> {}

impl<A: WireAddr> fmt::Debug for AddrList<'_, A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl<'a, A: WireAddr> IntoIterator for AddrList<'a, A> {
    type Item = A;
    type IntoIter = AddrIter<'a, A>;
    fn into_iter(self) -> AddrIter<'a, A> {
        self.iter()
    }
}

/// Iterator over an [`AddrList`].
#[derive(Clone)]
pub struct AddrIter<'a, A> {
    list: AddrList<'a, A>,
    pos: usize,
}

impl<A: WireAddr> Iterator for AddrIter<'_, A> {
    type Item = A;
    fn next(&mut self) -> Option<A> {
        let a = self.list.get(self.pos)?;
        self.pos += 1;
        Some(a)
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = self.list.len().saturating_sub(self.pos);
        (n, Some(n))
    }
}

impl<A: WireAddr> ExactSizeIterator for AddrIter<'_, A> {}

/// The address list of an advert, by family.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Addrs<'a> {
    /// IPv4 addresses.
    V4(AddrList<'a, Ipv4Addr>),
    /// IPv6 addresses.
    V6(AddrList<'a, Ipv6Addr>),
}

impl<'a> Addrs<'a> {
    /// IPv4 addresses from a slice.
    pub const fn v4(addrs: &'a [Ipv4Addr]) -> Self {
        Addrs::V4(AddrList::from_slice(addrs))
    }
    /// IPv6 addresses from a slice.
    pub const fn v6(addrs: &'a [Ipv6Addr]) -> Self {
        Addrs::V6(AddrList::from_slice(addrs))
    }
    /// The family.
    pub const fn family(&self) -> Family {
        match self {
            Addrs::V4(_) => Family::Ipv4,
            Addrs::V6(_) => Family::Ipv6,
        }
    }
    /// Number of addresses.
    pub fn len(&self) -> usize {
        match self {
            Addrs::V4(l) => l.len(),
            Addrs::V6(l) => l.len(),
        }
    }
    /// No addresses.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    fn write(&self, out: &mut [u8]) {
        match self {
            Addrs::V4(l) => l.write(out),
            Addrs::V6(l) => l.write(out),
        }
    }
}

/// How the VRRP checksum is computed (see the module documentation).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChecksumKind {
    /// Over the VRRP message alone: VRRPv2/IPv4, and VRRPv3/IPv4 with `v3_checksum_as_v2`.
    Plain,
    /// IPv4 pseudo-header (src, dst, 0, 112, VRRP length) + message: VRRPv3/IPv4.
    Ipv4 {
        /// Source address.
        src: Ipv4Addr,
        /// Destination used in the pseudo-header.
        dst: Ipv4Addr,
    },
    /// IPv6 pseudo-header (src, dst, length, 112) + message.
    Ipv6 {
        /// Source address.
        src: Ipv6Addr,
        /// Destination used in the pseudo-header.
        dst: Ipv6Addr,
    },
}

impl ChecksumKind {
    /// What keepalived uses for an IPv4 advert from `src` to its actual `dst`:
    /// v2 → plain; v3 → pseudo-header; v3 with `v3_checksum_as_v2` → plain.
    pub const fn ipv4(version: Version, src: Ipv4Addr, dst: Ipv4Addr, v3_checksum_as_v2: bool) -> Self {
        match version {
            Version::V2 => ChecksumKind::Plain,
            Version::V3 if v3_checksum_as_v2 => ChecksumKind::Plain,
            Version::V3 => ChecksumKind::Ipv4 { src, dst },
        }
    }
    /// keepalived's `old_unicast_checksum` for VRRPv3/IPv4 unicast: pseudo-header with 224.0.0.18.
    pub const fn ipv4_old_unicast(src: Ipv4Addr) -> Self {
        ChecksumKind::Ipv4 { src, dst: ipv4::VRRP_MCAST_GROUP }
    }
    /// IPv6, with the actual destination (what the kernel computes).
    pub const fn ipv6(src: Ipv6Addr, dst: Ipv6Addr) -> Self {
        ChecksumKind::Ipv6 { src, dst }
    }
    /// IPv6 pseudo-header with ff02::12 in place of a unicast destination (the IPv6 analogue of
    /// `old_unicast_checksum`; keepalived itself leaves IPv6 checksums to the kernel).
    pub const fn ipv6_old_unicast(src: Ipv6Addr) -> Self {
        ChecksumKind::Ipv6 { src, dst: ipv6::VRRP_MCAST_GROUP }
    }
}

/// The checksum of a VRRP `message` (its checksum field taken as zero).
pub fn compute_checksum(message: &[u8], kind: ChecksumKind) -> u16 {
    let mut acc = checksum::sum(message.get(..field::CHECKSUM.start).unwrap_or(message));
    acc = checksum::combine(acc, checksum::sum(message.get(field::CHECKSUM.end..).unwrap_or(&[])));
    let len = message.len();
    let pseudo = match kind {
        ChecksumKind::Plain => 0,
        ChecksumKind::Ipv4 { src, dst } => {
            checksum::pseudo_header_v4(src, dst, ip_proto::VRRP, u16::try_from(len).unwrap_or(u16::MAX))
        }
        ChecksumKind::Ipv6 { src, dst } => {
            checksum::pseudo_header_v6(src, dst, ip_proto::VRRP, u32::try_from(len).unwrap_or(u32::MAX))
        }
    };
    !checksum::fold(checksum::combine(acc, pseudo))
}

/// The checksum field of `message` is right for `kind`.
pub fn verify_checksum(message: &[u8], kind: ChecksumKind) -> bool {
    message.len() >= HEADER_LEN && compute_checksum(message, kind) == get_u16(message, field::CHECKSUM.start)
}

/// Length of a VRRP message of this version/family with `count` addresses.
pub const fn message_len(version: Version, family: Family, count: usize) -> usize {
    let auth = match (version, family) {
        (Version::V2, Family::Ipv4) => AUTH_DATA_LEN,
        _ => 0,
    };
    HEADER_LEN + count * family.addr_len() + auth
}

/// A read/write view of a VRRP message. The family is not on the wire: the caller knows it.
#[derive(Debug, Clone)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
    family: Family,
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// Wraps without checking.
    pub const fn new_unchecked(buffer: T, family: Family) -> Packet<T> {
        Packet { buffer, family }
    }
    /// Wraps and checks the length ([`Packet::check_len`]).
    pub fn new_checked(buffer: T, family: Family) -> Result<Packet<T>> {
        let p = Self::new_unchecked(buffer, family);
        p.check_len()?;
        Ok(p)
    }
    /// The buffer holds the header and the whole message its count announces (longer is allowed;
    /// [`Repr::parse`] requires the exact length).
    pub fn check_len(&self) -> Result<()> {
        let len = self.buffer.as_ref().len();
        if len < HEADER_LEN || len < self.message_len() {
            Err(Error::Truncated)
        } else {
            Ok(())
        }
    }
    /// The buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }
    /// The family given at construction.
    pub const fn family(&self) -> Family {
        self.family
    }
    fn byte(&self, at: usize) -> u8 {
        self.buffer.as_ref().get(at).copied().unwrap_or(0)
    }
    /// Version field (raw).
    pub fn version(&self) -> u8 {
        self.byte(field::VER_TYPE) >> 4
    }
    /// Type field (raw).
    pub fn msg_type(&self) -> u8 {
        self.byte(field::VER_TYPE) & 0x0f
    }
    /// Virtual router id.
    pub fn vrid(&self) -> u8 {
        self.byte(field::VRID)
    }
    /// Priority.
    pub fn priority(&self) -> u8 {
        self.byte(field::PRIORITY)
    }
    /// Count of addresses.
    pub fn count(&self) -> u8 {
        self.byte(field::COUNT)
    }
    /// v2: auth type.
    pub fn auth_type(&self) -> u8 {
        self.byte(field::AUTH_TYPE)
    }
    /// v2: advert interval, seconds.
    pub fn adver_int_v2(&self) -> u8 {
        self.byte(field::ADVER_INT_V2)
    }
    /// v3: max advert interval, centiseconds (reserved bits masked).
    pub fn adver_int_v3(&self) -> u16 {
        get_u16(self.buffer.as_ref(), field::ADVER_INT_V3.start) & MAX_V3_ADVER_INT
    }
    /// v3: the 4 reserved bits.
    pub fn reserved_v3(&self) -> u8 {
        self.byte(field::ADVER_INT_V3.start) >> 4
    }
    /// The interval in the unit of the version field (v2 seconds, v3 centiseconds; else v3 layout).
    pub fn max_adver_int(&self) -> u16 {
        if self.version() == 2 {
            u16::from(self.adver_int_v2())
        } else {
            self.adver_int_v3()
        }
    }
    /// Checksum field.
    pub fn checksum(&self) -> u16 {
        get_u16(self.buffer.as_ref(), field::CHECKSUM.start)
    }
    /// Has 8 bytes of auth data (v2 over IPv4).
    pub fn has_auth_data(&self) -> bool {
        self.version() == 2 && self.family == Family::Ipv4
    }
    /// Message length implied by version, family and count.
    pub fn message_len(&self) -> usize {
        let v = if self.version() == 2 { Version::V2 } else { Version::V3 };
        message_len(v, self.family, usize::from(self.count()))
    }
    /// v2/IPv4: the 8 bytes of auth data (zeros if absent).
    pub fn auth_data(&self) -> [u8; AUTH_DATA_LEN] {
        if !self.has_auth_data() {
            return [0; AUTH_DATA_LEN];
        }
        get_array(self.buffer.as_ref(), self.message_len() - AUTH_DATA_LEN)
    }
    /// The whole message (header, addresses, auth data), without trailing bytes; empty if truncated.
    pub fn message(&self) -> &[u8] {
        self.buffer.as_ref().get(..self.message_len()).unwrap_or(&[])
    }
    /// The checksum is right for `kind`.
    pub fn verify_checksum(&self, kind: ChecksumKind) -> bool {
        verify_checksum(self.message(), kind)
    }
    /// v2 PASS: the auth data equals `expected` (constant time).
    pub fn verify_pass(&self, expected: &[u8; AUTH_DATA_LEN]) -> bool {
        self.has_auth_data() && self.message_len() <= self.buffer.as_ref().len() && ct_eq(&self.auth_data(), expected)
    }
}

impl<'a, T: AsRef<[u8]> + ?Sized> Packet<&'a T> {
    /// The raw address bytes (count × address size; empty if truncated).
    pub fn addr_bytes(&self) -> &'a [u8] {
        let n = usize::from(self.count()) * self.family.addr_len();
        self.buffer.as_ref().get(HEADER_LEN..HEADER_LEN + n).unwrap_or(&[])
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    fn set_byte(&mut self, at: usize, v: u8) {
        if let Some(b) = self.buffer.as_mut().get_mut(at) {
            *b = v;
        }
    }
    /// Sets version and type.
    pub fn set_version_type(&mut self, version: u8, msg_type: u8) {
        self.set_byte(field::VER_TYPE, (version << 4) | (msg_type & 0x0f))
    }
    /// Sets the VRID.
    pub fn set_vrid(&mut self, v: u8) {
        self.set_byte(field::VRID, v)
    }
    /// Sets the priority.
    pub fn set_priority(&mut self, v: u8) {
        self.set_byte(field::PRIORITY, v)
    }
    /// Sets the count.
    pub fn set_count(&mut self, v: u8) {
        self.set_byte(field::COUNT, v)
    }
    /// v2: sets auth type.
    pub fn set_auth_type(&mut self, v: u8) {
        self.set_byte(field::AUTH_TYPE, v)
    }
    /// v2: sets the interval (seconds).
    pub fn set_adver_int_v2(&mut self, v: u8) {
        self.set_byte(field::ADVER_INT_V2, v)
    }
    /// v3: sets the interval (centiseconds, 12 bits) with zero reserved bits.
    pub fn set_adver_int_v3(&mut self, v: u16) {
        put_u16(self.buffer.as_mut(), field::ADVER_INT_V3.start, v & MAX_V3_ADVER_INT)
    }
    /// Sets the checksum field.
    pub fn set_checksum(&mut self, v: u16) {
        put_u16(self.buffer.as_mut(), field::CHECKSUM.start, v)
    }
    /// Computes and stores the checksum.
    pub fn fill_checksum(&mut self, kind: ChecksumKind) {
        let c = compute_checksum(self.message(), kind);
        self.set_checksum(c);
    }
}

/// A validated VRRP advertisement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Repr<'a> {
    /// Version.
    pub version: Version,
    /// Virtual router id (keepalived accepts 1..=255; 0 is not rejected here).
    pub vrid: u8,
    /// Priority (0: master stops; 255: address owner).
    pub priority: u8,
    /// Advert interval: v2 seconds (≤ 255), v3 centiseconds (≤ 4095).
    pub max_adver_int: u16,
    /// v2 authentication; always [`Auth::None`] for v3.
    pub auth: Auth,
    /// The virtual addresses.
    pub addrs: Addrs<'a>,
}

impl<'a> Repr<'a> {
    /// Parses a whole message (no trailing bytes) in keepalived's order of checks:
    /// length (`Truncated`/`BadLength`), version (`VrrpVersion`), v2 auth type (`AuthType`),
    /// type (`VrrpType`). The checksum is **not** verified: use [`Repr::parse_checked`] or
    /// [`Packet::verify_checksum`]. Never allocates.
    pub fn parse<T: AsRef<[u8]> + ?Sized>(packet: &Packet<&'a T>) -> Result<Repr<'a>> {
        let buf = packet.buffer.as_ref();
        if buf.len() < HEADER_LEN {
            return Err(Error::Truncated);
        }
        let version = match packet.version() {
            2 => Version::V2,
            3 => Version::V3,
            _ => {
                // keepalived checks the length first, with the count; v3 layout for others.
                if buf.len() != packet.message_len() {
                    return Err(Error::BadLength);
                }
                return Err(Error::VrrpVersion);
            }
        };
        if buf.len() < packet.message_len() {
            return Err(Error::Truncated);
        }
        if buf.len() != packet.message_len() {
            return Err(Error::BadLength);
        }
        let auth = match version {
            Version::V3 => Auth::None,
            Version::V2 => match (packet.auth_type(), packet.family) {
                (auth_type::NONE, _) => Auth::None,
                (auth_type::PASS, Family::Ipv4) => Auth::Pass(packet.auth_data()),
                (auth_type::AH, Family::Ipv4) => Auth::Ah,
                _ => return Err(Error::AuthType),
            },
        };
        if packet.msg_type() != TYPE_ADVERTISEMENT {
            return Err(Error::VrrpType);
        }
        let bytes = packet.addr_bytes();
        let addrs = match packet.family {
            Family::Ipv4 => Addrs::V4(AddrList::from_wire(bytes).ok_or(Error::BadLength)?),
            Family::Ipv6 => Addrs::V6(AddrList::from_wire(bytes).ok_or(Error::BadLength)?),
        };
        Ok(Repr {
            version,
            vrid: packet.vrid(),
            priority: packet.priority(),
            max_adver_int: packet.max_adver_int(),
            auth,
            addrs,
        })
    }

    /// [`Repr::parse`], then the checksum (`Checksum`).
    pub fn parse_checked<T: AsRef<[u8]> + ?Sized>(packet: &Packet<&'a T>, kind: ChecksumKind) -> Result<Repr<'a>> {
        let r = Self::parse(packet)?;
        if !packet.verify_checksum(kind) {
            return Err(Error::Checksum);
        }
        Ok(r)
    }

    /// Parses `bytes` as a whole message of `family`, checksum not verified.
    pub fn parse_bytes(bytes: &'a [u8], family: Family) -> Result<Repr<'a>> {
        Self::parse(&Packet::new_unchecked(bytes, family))
    }

    /// The family of the address list.
    pub const fn family(&self) -> Family {
        self.addrs.family()
    }

    /// Length of the emitted message.
    pub fn buffer_len(&self) -> usize {
        message_len(self.version, self.family(), self.addrs.len())
    }

    fn validate(&self) -> Result<()> {
        if self.addrs.len() > usize::from(u8::MAX) {
            return Err(Error::Malformed);
        }
        match self.version {
            Version::V2 if self.max_adver_int > u16::from(u8::MAX) => Err(Error::Malformed),
            Version::V3 if self.max_adver_int > MAX_V3_ADVER_INT => Err(Error::Malformed),
            Version::V3 if self.auth != Auth::None => Err(Error::AuthType),
            Version::V2 if self.family() == Family::Ipv6 && self.auth != Auth::None => Err(Error::AuthType),
            _ => Ok(()),
        }
    }

    /// Writes the message into `packet` (whose family must be the address list's and whose buffer
    /// must hold [`Repr::buffer_len`] bytes) and fills the checksum for `kind`.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, packet: &mut Packet<T>, kind: ChecksumKind) -> Result<()> {
        self.validate()?;
        if packet.family != self.family() {
            return Err(Error::Malformed);
        }
        let len = self.buffer_len();
        if packet.buffer.as_ref().len() < len {
            return Err(Error::Truncated);
        }
        packet.set_version_type(self.version.number(), TYPE_ADVERTISEMENT);
        packet.set_vrid(self.vrid);
        packet.set_priority(self.priority);
        packet.set_count(self.addrs.len() as u8);
        match self.version {
            Version::V2 => {
                packet.set_auth_type(self.auth.auth_type());
                packet.set_adver_int_v2(self.max_adver_int as u8);
            }
            Version::V3 => packet.set_adver_int_v3(self.max_adver_int),
        }
        packet.set_checksum(0);
        let buf = packet.buffer.as_mut();
        let alen = self.addrs.len() * self.family().addr_len();
        if let Some(out) = buf.get_mut(HEADER_LEN..HEADER_LEN + alen) {
            self.addrs.write(out);
        }
        if self.version == Version::V2 && self.family() == Family::Ipv4 {
            let data = match self.auth {
                Auth::Pass(p) => p,
                Auth::None | Auth::Ah => [0; AUTH_DATA_LEN],
            };
            put_slice(buf, len - AUTH_DATA_LEN, &data);
        }
        let c = compute_checksum(buf.get(..len).unwrap_or(&[]), kind);
        packet.set_checksum(c);
        Ok(())
    }

    /// Emits into the front of `buf`, returning the length written.
    pub fn emit_into(&self, buf: &mut [u8], kind: ChecksumKind) -> Result<usize> {
        self.emit(&mut Packet::new_unchecked(&mut *buf, self.family()), kind)?;
        Ok(self.buffer_len())
    }

    /// v2 PASS: the password equals `expected` (constant time); `AuthFailure` otherwise.
    pub fn check_pass(&self, expected: &[u8; AUTH_DATA_LEN]) -> Result<()> {
        match self.auth {
            Auth::Pass(p) if ct_eq(&p, expected) => Ok(()),
            _ => Err(Error::AuthFailure),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Captured VRRP messages (IP header stripped); see the IP headers in `crate::advert` tests.
    /// v2.pcap: VRRPv2 VRID 51 prio 150 from 198.51.100.1, auth none, 1 s, 198.51.100.51.
    const V2: [u8; 20] =
        [0x21, 0x33, 0x96, 0x01, 0x00, 0x01, 0x1e, 0x63, 0xc6, 0x33, 0x64, 0x33, 0, 0, 0, 0, 0, 0, 0, 0];
    /// pass.pcap: VRRPv2 VRID 54, PASS "lab-pw1".
    const PASS: [u8; 20] = [
        0x21, 0x36, 0x96, 0x01, 0x01, 0x01, 0xad, 0x56, 0xc6, 0x33, 0x64, 0x36, 0x6c, 0x61, 0x62, 0x2d, 0x70, 0x77,
        0x31, 0x00,
    ];
    /// v3.pcap: VRRPv3 VRID 52 prio 150, 100 cs, 198.51.100.1 > 224.0.0.18.
    const V3: [u8; 12] = [0x31, 0x34, 0x96, 0x01, 0x00, 0x64, 0x03, 0x3a, 0xc6, 0x33, 0x64, 0x34];
    /// unicast.pcap: VRRPv3 VRID 56, 198.51.100.1 > 198.51.100.2 (unicast).
    const V3_UNICAST: [u8; 12] = [0x31, 0x38, 0x96, 0x01, 0x00, 0x64, 0xb9, 0x0e, 0xc6, 0x33, 0x64, 0x38];
    /// v3-ipv6.pcap: VRRPv3 VRID 53, fe80::ff:fe00:1 > ff02::12, 2001:db8::53.
    const V3_6: [u8; 24] =
        [0x31, 0x35, 0x96, 0x01, 0x00, 0x64, 0x0d, 0x3a, 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x53];

    fn h(n: u8) -> Ipv4Addr {
        Ipv4Addr::new(198, 51, 100, n)
    }

    fn roundtrip(bytes: &[u8], family: Family, kind: ChecksumKind) -> Repr<'_> {
        let r = Repr::parse_checked(&Packet::new_checked(bytes, family).unwrap(), kind).unwrap();
        let mut out = [0u8; 64];
        let n = r.emit_into(&mut out, kind).unwrap();
        assert_eq!(&out[..n], bytes);
        r
    }

    #[test]
    fn v2_captured() {
        let r = roundtrip(&V2, Family::Ipv4, ChecksumKind::Plain);
        let vip = [h(51)];
        assert_eq!(
            r,
            Repr {
                version: Version::V2,
                vrid: 51,
                priority: 150,
                max_adver_int: 1,
                auth: Auth::None,
                addrs: Addrs::v4(&vip)
            }
        );
    }

    #[test]
    fn pass_captured() {
        let r = roundtrip(&PASS, Family::Ipv4, ChecksumKind::Plain);
        assert_eq!(r.auth, Auth::Pass(auth_data(b"lab-pw1")));
        assert_eq!(r.check_pass(&auth_data(b"lab-pw1")), Ok(()));
        assert_eq!(r.check_pass(&auth_data(b"lab-pw2")), Err(Error::AuthFailure));
        assert!(Packet::new_unchecked(&PASS[..], Family::Ipv4).verify_pass(&auth_data(b"lab-pw1")));
    }

    #[test]
    fn v3_captured_and_variants() {
        let mcast = ipv4::VRRP_MCAST_GROUP;
        let r = roundtrip(&V3, Family::Ipv4, ChecksumKind::ipv4(Version::V3, h(1), mcast, false));
        assert_eq!((r.version, r.vrid, r.max_adver_int), (Version::V3, 52, 100));
        let p = Packet::new_unchecked(&V3[..], Family::Ipv4);
        assert!(!p.verify_checksum(ChecksumKind::Plain));
        assert!(!p.verify_checksum(ChecksumKind::ipv4(Version::V3, h(2), mcast, false)));
        // Unicast: actual destination; the old keepalived variant uses 224.0.0.18 instead.
        let kind = ChecksumKind::ipv4(Version::V3, h(1), h(2), false);
        roundtrip(&V3_UNICAST, Family::Ipv4, kind);
        let p = Packet::new_unchecked(&V3_UNICAST[..], Family::Ipv4);
        assert!(!p.verify_checksum(ChecksumKind::ipv4_old_unicast(h(1))));
        let mut old = V3_UNICAST;
        Packet::new_unchecked(&mut old[..], Family::Ipv4).fill_checksum(ChecksumKind::ipv4_old_unicast(h(1)));
        assert_ne!(old, V3_UNICAST);
        assert!(Packet::new_unchecked(&old[..], Family::Ipv4).verify_checksum(ChecksumKind::ipv4_old_unicast(h(1))));
        // v3_checksum_as_v2: plain sum over the message.
        let mut asv2 = V3;
        let k = ChecksumKind::ipv4(Version::V3, h(1), mcast, true);
        assert_eq!(k, ChecksumKind::Plain);
        Packet::new_unchecked(&mut asv2[..], Family::Ipv4).fill_checksum(k);
        assert_eq!(checksum::checksum(&asv2), 0);
    }

    #[test]
    fn v3_ipv6_captured() {
        let src: Ipv6Addr = "fe80::ff:fe00:1".parse().unwrap();
        let r = roundtrip(&V3_6, Family::Ipv6, ChecksumKind::ipv6(src, ipv6::VRRP_MCAST_GROUP));
        let vip: [Ipv6Addr; 1] = ["2001:db8::53".parse().unwrap()];
        assert_eq!(r.addrs, Addrs::v6(&vip));
        assert_eq!(r.addrs.len(), 1);
    }

    #[test]
    fn errors_in_keepalived_order() {
        fn p(b: &[u8]) -> Result<Repr<'_>> {
            Repr::parse(&Packet::new_unchecked(b, Family::Ipv4))
        }
        assert_eq!(p(&V2[..7]), Err(Error::Truncated));
        assert_eq!(p(&V2[..19]), Err(Error::Truncated));
        let mut long = [0u8; 24];
        long[..20].copy_from_slice(&V2);
        assert_eq!(p(&long), Err(Error::BadLength));
        let mut b = V2;
        b[0] = 0x11;
        assert_eq!(p(&b), Err(Error::BadLength)); // v1 is sized with the v3 layout: 12 != 20
        assert_eq!(p(&b[..12]), Err(Error::VrrpVersion));
        let mut b = V2;
        b[4] = 3;
        assert_eq!(p(&b), Err(Error::AuthType));
        let mut b = V2;
        b[0] = 0x22;
        assert_eq!(p(&b), Err(Error::VrrpType));
        let mut b = V2;
        b[7] ^= 1;
        assert_eq!(
            Repr::parse_checked(&Packet::new_unchecked(&b[..], Family::Ipv4), ChecksumKind::Plain),
            Err(Error::Checksum)
        );
        // v3 reserved bits are ignored on receive.
        let mut b = V3;
        b[4] |= 0xf0;
        assert_eq!(p(&b).unwrap().max_adver_int, 100);
    }

    #[test]
    fn emit_validation() {
        let vip = [h(1)];
        let mut r = Repr {
            version: Version::V3,
            vrid: 1,
            priority: 100,
            max_adver_int: 4096,
            auth: Auth::None,
            addrs: Addrs::v4(&vip),
        };
        let mut buf = [0u8; 64];
        assert_eq!(r.emit_into(&mut buf, ChecksumKind::Plain), Err(Error::Malformed));
        r.max_adver_int = 4095;
        assert_eq!(r.emit_into(&mut buf[..11], ChecksumKind::Plain), Err(Error::Truncated));
        r.auth = Auth::Ah;
        assert_eq!(r.emit_into(&mut buf, ChecksumKind::Plain), Err(Error::AuthType));
        r.version = Version::V2;
        assert_eq!(r.emit_into(&mut buf, ChecksumKind::Plain), Err(Error::Malformed));
        r.max_adver_int = 255;
        assert_eq!(r.emit_into(&mut buf, ChecksumKind::Plain), Ok(20));
    }

    #[test]
    fn v2_over_ipv6_has_no_auth_data() {
        let vip: [Ipv6Addr; 1] = ["2001:db8::1".parse().unwrap()];
        let r = Repr {
            version: Version::V2,
            vrid: 9,
            priority: 100,
            max_adver_int: 1,
            auth: Auth::None,
            addrs: Addrs::v6(&vip),
        };
        assert_eq!(r.buffer_len(), 24);
        let mut buf = [0u8; 24];
        let kind = ChecksumKind::ipv6("fe80::1".parse().unwrap(), ipv6::VRRP_MCAST_GROUP);
        r.emit_into(&mut buf, kind).unwrap();
        assert_eq!(Repr::parse_checked(&Packet::new_unchecked(&buf[..], Family::Ipv6), kind), Ok(r));
    }
}
