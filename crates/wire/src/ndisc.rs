//! ICMPv6 Neighbour Advertisement (RFC 4861 §4.4) and keepalived's unsolicited NA.
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |     Type (136)|     Code (0)  |          Checksum             |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |R|S|O|                     Reserved                            |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                                                               |
//! +                       Target Address                          +
//! |                         (16 octets)                           |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! | Type (2)      |  Length (1)   |  Target Link-Layer Address    |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+         (6 octets)            +
//! |                                                               |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```
//!
//! keepalived (`ndisc_send_unsolicited_na_immediate`, Ethernet): Ethernet dst 33:33:00:00:00:01,
//! src = the interface (or VMAC) address; IPv6 traffic class 0, flow label 0, hop limit 255, next
//! header 58, src = the VIP, dst ff02::1; NA flags: Override always, Router iff the interface
//! forwards IPv6 (`gna_router`), never Solicited; target = the VIP; one target link-layer address
//! option (type 2, length 1) with the MAC. Checksum over the IPv6 pseudo-header + ICMPv6.
use std::net::Ipv6Addr;

use crate::ethernet::{self, ethertype, MacAddr};
use crate::{checksum, get_array, get_u16, ip_proto, ipv6, put_slice, put_u16, Error, Result};

/// Field byte ranges.
pub mod field {
    use core::ops::{Range, RangeFrom};
    /// ICMPv6 type.
    pub const TYPE: usize = 0;
    /// ICMPv6 code.
    pub const CODE: usize = 1;
    /// Checksum.
    pub const CHECKSUM: Range<usize> = 2..4;
    /// Flags (R S O) and reserved.
    pub const FLAGS: Range<usize> = 4..8;
    /// Target address.
    pub const TARGET: Range<usize> = 8..24;
    /// Options.
    pub const OPTIONS: RangeFrom<usize> = 24..;
}

/// NA length without options.
pub const HEADER_LEN: usize = field::OPTIONS.start;
/// ICMPv6 type Neighbour Advertisement.
pub const TYPE_NEIGHBOR_ADVERT: u8 = 136;
/// Option type Target Link-Layer Address.
pub const OPT_TARGET_LLADDR: u8 = 2;
/// Router flag.
pub const FLAG_ROUTER: u8 = 0x80;
/// Solicited flag.
pub const FLAG_SOLICITED: u8 = 0x40;
/// Override flag.
pub const FLAG_OVERRIDE: u8 = 0x20;

/// A read/write view of an NA message.
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
    /// At least the 24 fixed bytes.
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
    /// ICMPv6 type.
    pub fn msg_type(&self) -> u8 {
        self.buffer.as_ref().get(field::TYPE).copied().unwrap_or(0)
    }
    /// ICMPv6 code.
    pub fn code(&self) -> u8 {
        self.buffer.as_ref().get(field::CODE).copied().unwrap_or(0)
    }
    /// Checksum field.
    pub fn checksum(&self) -> u16 {
        get_u16(self.buffer.as_ref(), field::CHECKSUM.start)
    }
    /// The flags byte (R S O + 5 reserved bits).
    pub fn flags(&self) -> u8 {
        self.buffer.as_ref().get(field::FLAGS.start).copied().unwrap_or(0)
    }
    /// Target address.
    pub fn target_addr(&self) -> Ipv6Addr {
        Ipv6Addr::from(get_array::<16>(self.buffer.as_ref(), field::TARGET.start))
    }
    /// The ICMPv6 checksum (over the whole buffer) is right for this pseudo-header.
    pub fn verify_checksum(&self, src: Ipv6Addr, dst: Ipv6Addr) -> bool {
        let b = self.buffer.as_ref();
        let Ok(len) = u32::try_from(b.len()) else { return false };
        let acc = checksum::combine(checksum::pseudo_header_v6(src, dst, ip_proto::ICMPV6, len), checksum::sum(b));
        checksum::fold(acc) == 0xffff
    }
}

impl<'a, T: AsRef<[u8]> + ?Sized> Packet<&'a T> {
    /// The options.
    pub fn options(&self) -> &'a [u8] {
        self.buffer.as_ref().get(field::OPTIONS).unwrap_or(&[])
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    /// Sets type and code.
    pub fn set_type_code(&mut self, t: u8, c: u8) {
        put_slice(self.buffer.as_mut(), field::TYPE, &[t, c])
    }
    /// Sets the checksum field.
    pub fn set_checksum(&mut self, v: u16) {
        put_u16(self.buffer.as_mut(), field::CHECKSUM.start, v)
    }
    /// Sets the flags byte and zeroes the reserved bytes.
    pub fn set_flags(&mut self, f: u8) {
        put_slice(self.buffer.as_mut(), field::FLAGS.start, &[f, 0, 0, 0])
    }
    /// Sets the target.
    pub fn set_target_addr(&mut self, a: Ipv6Addr) {
        put_slice(self.buffer.as_mut(), field::TARGET.start, &a.octets())
    }
    /// Computes and stores the checksum over the whole buffer.
    pub fn fill_checksum(&mut self, src: Ipv6Addr, dst: Ipv6Addr) {
        self.set_checksum(0);
        let b = self.buffer.as_ref();
        let len = u32::try_from(b.len()).unwrap_or(u32::MAX);
        let acc = checksum::combine(checksum::pseudo_header_v6(src, dst, ip_proto::ICMPV6, len), checksum::sum(b));
        self.set_checksum(!checksum::fold(acc));
    }
}

/// A validated Neighbour Advertisement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Repr {
    /// R flag.
    pub router: bool,
    /// S flag.
    pub solicited: bool,
    /// O flag.
    pub override_: bool,
    /// Target address.
    pub target_addr: Ipv6Addr,
    /// Target link-layer address option (the only option emitted; others are skipped on parse).
    pub target_lladdr: Option<MacAddr>,
}

impl Repr {
    /// keepalived's unsolicited NA for `vip` from `mac`.
    pub const fn unsolicited(vip: Ipv6Addr, mac: MacAddr, router: bool) -> Repr {
        Repr { router, solicited: false, override_: true, target_addr: vip, target_lladdr: Some(mac) }
    }

    /// Parses an NA (type 136 code 0, else `Malformed`), verifying the checksum against the
    /// pseudo-header (`Checksum`). Options must be well formed (no zero length, within the buffer).
    pub fn parse<T: AsRef<[u8]> + ?Sized>(packet: &Packet<&T>, src: Ipv6Addr, dst: Ipv6Addr) -> Result<Repr> {
        packet.check_len()?;
        if packet.msg_type() != TYPE_NEIGHBOR_ADVERT || packet.code() != 0 {
            return Err(Error::Malformed);
        }
        if !packet.verify_checksum(src, dst) {
            return Err(Error::Checksum);
        }
        let mut target_lladdr = None;
        let mut opts = packet.options();
        while !opts.is_empty() {
            let (Some(&t), Some(&l)) = (opts.first(), opts.get(1)) else { return Err(Error::Truncated) };
            let len = usize::from(l) * 8;
            if len == 0 {
                return Err(Error::Malformed);
            }
            let opt = opts.get(..len).ok_or(Error::Truncated)?;
            if t == OPT_TARGET_LLADDR && len == 8 {
                target_lladdr = Some(MacAddr(get_array(opt, 2)));
            }
            opts = &opts[len..];
        }
        let f = packet.flags();
        Ok(Repr {
            router: f & FLAG_ROUTER != 0,
            solicited: f & FLAG_SOLICITED != 0,
            override_: f & FLAG_OVERRIDE != 0,
            target_addr: packet.target_addr(),
            target_lladdr,
        })
    }

    /// 24, or 32 with the link-layer address option.
    pub const fn buffer_len(&self) -> usize {
        HEADER_LEN + if self.target_lladdr.is_some() { 8 } else { 0 }
    }

    /// Writes the message into the front of `packet`'s buffer, which must be exactly
    /// [`Repr::buffer_len`] long (the checksum covers the whole buffer).
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(
        &self,
        packet: &mut Packet<T>,
        src: Ipv6Addr,
        dst: Ipv6Addr,
    ) -> Result<()> {
        if packet.buffer.as_ref().len() != self.buffer_len() {
            return Err(if packet.buffer.as_ref().len() < self.buffer_len() {
                Error::Truncated
            } else {
                Error::BadLength
            });
        }
        packet.set_type_code(TYPE_NEIGHBOR_ADVERT, 0);
        let mut f = 0;
        if self.router {
            f |= FLAG_ROUTER;
        }
        if self.solicited {
            f |= FLAG_SOLICITED;
        }
        if self.override_ {
            f |= FLAG_OVERRIDE;
        }
        packet.set_flags(f);
        packet.set_target_addr(self.target_addr);
        if let Some(mac) = self.target_lladdr {
            let b = packet.buffer.as_mut();
            put_slice(b, HEADER_LEN, &[OPT_TARGET_LLADDR, 1]);
            put_slice(b, HEADER_LEN + 2, &mac.0);
        }
        packet.fill_checksum(src, dst);
        Ok(())
    }
}

/// Length of keepalived's whole unsolicited NA frame (Ethernet + IPv6 + NA with option).
pub const UNSOLICITED_NA_FRAME_LEN: usize = ethernet::HEADER_LEN + ipv6::HEADER_LEN + HEADER_LEN + 8;

/// Writes keepalived's whole unsolicited NA frame for `vip` from `mac` into `buf`, returning its length (86).
pub fn emit_unsolicited_na_frame(buf: &mut [u8], mac: MacAddr, vip: Ipv6Addr, router: bool) -> Result<usize> {
    let buf = buf.get_mut(..UNSOLICITED_NA_FRAME_LEN).ok_or(Error::Truncated)?;
    let eth = ethernet::Repr {
        src_addr: mac,
        dst_addr: MacAddr::ipv6_multicast(ipv6::ALL_NODES),
        ethertype: ethertype::IPV6,
    };
    let na = Repr::unsolicited(vip, mac, router);
    let ip = ipv6::Repr {
        src_addr: vip,
        dst_addr: ipv6::ALL_NODES,
        next_header: ip_proto::ICMPV6,
        payload_len: na.buffer_len(),
        hop_limit: 255,
        traffic_class: 0,
        flow_label: 0,
    };
    let mut frame = ethernet::Frame::new_unchecked(&mut *buf);
    eth.emit(&mut frame);
    let mut ipp = ipv6::Packet::new_unchecked(frame.payload_mut());
    ip.emit(&mut ipp)?;
    na.emit(&mut Packet::new_unchecked(ipp.payload_mut()), vip, ipv6::ALL_NODES)?;
    Ok(UNSOLICITED_NA_FRAME_LEN)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// v3-ipv6.pcap: keepalived unsolicited NA for 2001:db8::53 from 02:00:00:00:00:01 (whole frame).
    const NA: [u8; 86] = [
        0x33, 0x33, 0x00, 0x00, 0x00, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x86, 0xdd, 0x60, 0x00, 0x00, 0x00,
        0x00, 0x20, 0x3a, 0xff, 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x53, 0xff, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
        0x88, 0x00, 0xf8, 0x86, 0x20, 0x00, 0x00, 0x00, 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x53, 0x02, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01,
    ];

    #[test]
    fn na_captured() {
        let vip: Ipv6Addr = "2001:db8::53".parse().unwrap();
        let mac = MacAddr([2, 0, 0, 0, 0, 1]);
        let r = Repr::parse(&Packet::new_checked(&NA[54..]).unwrap(), vip, ipv6::ALL_NODES).unwrap();
        assert_eq!(r, Repr::unsolicited(vip, mac, false));
        let mut out = [0u8; 100];
        assert_eq!(emit_unsolicited_na_frame(&mut out, mac, vip, false), Ok(86));
        assert_eq!(out[..86], NA);
        emit_unsolicited_na_frame(&mut out, mac, vip, true).unwrap();
        assert_eq!(out[58], FLAG_ROUTER | FLAG_OVERRIDE);
        let r = Repr::parse(&Packet::new_unchecked(&out[54..86]), vip, ipv6::ALL_NODES).unwrap();
        assert!(r.router);
    }

    #[test]
    fn na_errors() {
        let vip: Ipv6Addr = "2001:db8::53".parse().unwrap();
        let p = |b: &[u8]| Repr::parse(&Packet::new_unchecked(b), vip, ipv6::ALL_NODES);
        assert_eq!(p(&NA[54..70]), Err(Error::Truncated));
        assert_eq!(p(&NA[54..85]), Err(Error::Checksum));
        let mut b = NA;
        b[55] = 1;
        assert_eq!(p(&b[54..]), Err(Error::Malformed));
        let mut b = NA;
        b[79] = 0; // option length 0
        Packet::new_unchecked(&mut b[54..]).fill_checksum(vip, ipv6::ALL_NODES);
        assert_eq!(p(&b[54..]), Err(Error::Malformed));
    }
}
