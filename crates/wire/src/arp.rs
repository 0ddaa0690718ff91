//! ARP (RFC 826) for Ethernet/IPv4, and keepalived's gratuitous ARP.
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |        Hardware Type (1)      |     Protocol Type (0x0800)    |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |  HLEN (6)     |   PLEN (4)    |           Operation           |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                 Sender Hardware Address (6)                   |
//! +                               +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                               |   Sender Protocol Address     |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+                               +
//! |                               |                               |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+                               +
//! |                 Target Hardware Address (6)                   |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                 Target Protocol Address                       |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```
//!
//! keepalived's gratuitous ARP (`send_gratuitous_arp_immediate`, Ethernet): Ethernet destination
//! ff:ff:ff:ff:ff:ff, source = the interface (or VMAC) address; ARP **request**; sender MAC = that
//! address; sender IP = target IP = the VIP; target MAC = the broadcast address (not zero).
//! 42 bytes, no padding (the NIC pads).
use std::net::Ipv4Addr;

use crate::ethernet::{self, ethertype, MacAddr};
use crate::{get_array, get_u16, put_slice, put_u16, Error, Result};

/// Field byte ranges.
pub mod field {
    use core::ops::Range;
    /// Hardware type.
    pub const HTYPE: Range<usize> = 0..2;
    /// Protocol type.
    pub const PTYPE: Range<usize> = 2..4;
    /// Hardware address length.
    pub const HLEN: usize = 4;
    /// Protocol address length.
    pub const PLEN: usize = 5;
    /// Operation.
    pub const OPER: Range<usize> = 6..8;
    /// Sender hardware address.
    pub const SHA: Range<usize> = 8..14;
    /// Sender protocol address.
    pub const SPA: Range<usize> = 14..18;
    /// Target hardware address.
    pub const THA: Range<usize> = 18..24;
    /// Target protocol address.
    pub const TPA: Range<usize> = 24..28;
}

/// Length of an Ethernet/IPv4 ARP packet.
pub const PACKET_LEN: usize = field::TPA.end;
/// Hardware type Ethernet.
pub const HTYPE_ETHERNET: u16 = 1;

/// ARP operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Operation {
    /// 1.
    Request,
    /// 2.
    Reply,
    /// Anything else.
    Unknown(u16),
}

impl From<u16> for Operation {
    fn from(v: u16) -> Self {
        match v {
            1 => Operation::Request,
            2 => Operation::Reply,
            x => Operation::Unknown(x),
        }
    }
}

impl From<Operation> for u16 {
    fn from(o: Operation) -> u16 {
        match o {
            Operation::Request => 1,
            Operation::Reply => 2,
            Operation::Unknown(x) => x,
        }
    }
}

/// A read/write view of an ARP packet.
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
    /// The buffer holds 28 bytes (more is padding).
    pub fn check_len(&self) -> Result<()> {
        if self.buffer.as_ref().len() < PACKET_LEN {
            Err(Error::Truncated)
        } else {
            Ok(())
        }
    }
    /// The buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }
    /// Hardware type.
    pub fn hardware_type(&self) -> u16 {
        get_u16(self.buffer.as_ref(), field::HTYPE.start)
    }
    /// Protocol type.
    pub fn protocol_type(&self) -> u16 {
        get_u16(self.buffer.as_ref(), field::PTYPE.start)
    }
    /// Hardware address length.
    pub fn hardware_len(&self) -> u8 {
        self.buffer.as_ref().get(field::HLEN).copied().unwrap_or(0)
    }
    /// Protocol address length.
    pub fn protocol_len(&self) -> u8 {
        self.buffer.as_ref().get(field::PLEN).copied().unwrap_or(0)
    }
    /// Operation.
    pub fn operation(&self) -> Operation {
        get_u16(self.buffer.as_ref(), field::OPER.start).into()
    }
    /// Sender hardware address.
    pub fn source_hardware_addr(&self) -> MacAddr {
        MacAddr(get_array(self.buffer.as_ref(), field::SHA.start))
    }
    /// Sender protocol address.
    pub fn source_protocol_addr(&self) -> Ipv4Addr {
        Ipv4Addr::from(get_array::<4>(self.buffer.as_ref(), field::SPA.start))
    }
    /// Target hardware address.
    pub fn target_hardware_addr(&self) -> MacAddr {
        MacAddr(get_array(self.buffer.as_ref(), field::THA.start))
    }
    /// Target protocol address.
    pub fn target_protocol_addr(&self) -> Ipv4Addr {
        Ipv4Addr::from(get_array::<4>(self.buffer.as_ref(), field::TPA.start))
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    /// Sets hardware/protocol types and lengths for Ethernet/IPv4.
    pub fn set_ethernet_ipv4(&mut self) {
        let b = self.buffer.as_mut();
        put_u16(b, field::HTYPE.start, HTYPE_ETHERNET);
        put_u16(b, field::PTYPE.start, ethertype::IPV4);
        put_slice(b, field::HLEN, &[6, 4]);
    }
    /// Sets the operation.
    pub fn set_operation(&mut self, o: Operation) {
        put_u16(self.buffer.as_mut(), field::OPER.start, o.into())
    }
    /// Sets the sender hardware address.
    pub fn set_source_hardware_addr(&mut self, a: MacAddr) {
        put_slice(self.buffer.as_mut(), field::SHA.start, &a.0)
    }
    /// Sets the sender protocol address.
    pub fn set_source_protocol_addr(&mut self, a: Ipv4Addr) {
        put_slice(self.buffer.as_mut(), field::SPA.start, &a.octets())
    }
    /// Sets the target hardware address.
    pub fn set_target_hardware_addr(&mut self, a: MacAddr) {
        put_slice(self.buffer.as_mut(), field::THA.start, &a.0)
    }
    /// Sets the target protocol address.
    pub fn set_target_protocol_addr(&mut self, a: Ipv4Addr) {
        put_slice(self.buffer.as_mut(), field::TPA.start, &a.octets())
    }
}

/// A validated Ethernet/IPv4 ARP packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Repr {
    /// Operation.
    pub operation: Operation,
    /// Sender MAC.
    pub source_hardware_addr: MacAddr,
    /// Sender IPv4.
    pub source_protocol_addr: Ipv4Addr,
    /// Target MAC.
    pub target_hardware_addr: MacAddr,
    /// Target IPv4.
    pub target_protocol_addr: Ipv4Addr,
}

impl Repr {
    /// keepalived's gratuitous ARP for `vip` from `mac`.
    pub const fn gratuitous(mac: MacAddr, vip: Ipv4Addr) -> Repr {
        Repr {
            operation: Operation::Request,
            source_hardware_addr: mac,
            source_protocol_addr: vip,
            target_hardware_addr: MacAddr::BROADCAST,
            target_protocol_addr: vip,
        }
    }
    /// Sender IP = target IP (a gratuitous request or reply).
    pub fn is_gratuitous(&self) -> bool {
        self.source_protocol_addr == self.target_protocol_addr
    }
    /// Parses; anything but Ethernet/IPv4 (1, 0x0800, 6, 4) is `Malformed`.
    pub fn parse<T: AsRef<[u8]> + ?Sized>(packet: &Packet<&T>) -> Result<Repr> {
        packet.check_len()?;
        if packet.hardware_type() != HTYPE_ETHERNET
            || packet.protocol_type() != ethertype::IPV4
            || packet.hardware_len() != 6
            || packet.protocol_len() != 4
        {
            return Err(Error::Malformed);
        }
        Ok(Repr {
            operation: packet.operation(),
            source_hardware_addr: packet.source_hardware_addr(),
            source_protocol_addr: packet.source_protocol_addr(),
            target_hardware_addr: packet.target_hardware_addr(),
            target_protocol_addr: packet.target_protocol_addr(),
        })
    }
    /// 28.
    pub const fn buffer_len(&self) -> usize {
        PACKET_LEN
    }
    /// Writes the packet.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, packet: &mut Packet<T>) -> Result<()> {
        packet.check_len()?;
        packet.set_ethernet_ipv4();
        packet.set_operation(self.operation);
        packet.set_source_hardware_addr(self.source_hardware_addr);
        packet.set_source_protocol_addr(self.source_protocol_addr);
        packet.set_target_hardware_addr(self.target_hardware_addr);
        packet.set_target_protocol_addr(self.target_protocol_addr);
        Ok(())
    }
}

/// Length of a whole gratuitous ARP frame as keepalived sends it.
pub const GARP_FRAME_LEN: usize = ethernet::HEADER_LEN + PACKET_LEN;

/// Writes keepalived's whole gratuitous ARP frame (Ethernet broadcast + [`Repr::gratuitous`])
/// into `buf`, returning its length (42).
pub fn emit_gratuitous_frame(buf: &mut [u8], mac: MacAddr, vip: Ipv4Addr) -> Result<usize> {
    let buf = buf.get_mut(..GARP_FRAME_LEN).ok_or(Error::Truncated)?;
    let eth = ethernet::Repr { src_addr: mac, dst_addr: MacAddr::BROADCAST, ethertype: ethertype::ARP };
    let mut frame = ethernet::Frame::new_unchecked(&mut *buf);
    eth.emit(&mut frame);
    Repr::gratuitous(mac, vip).emit(&mut Packet::new_unchecked(frame.payload_mut()))?;
    Ok(GARP_FRAME_LEN)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// v2.pcap: keepalived GARP for 198.51.100.51 from 02:00:00:00:00:01 (whole Ethernet frame).
    const GARP: [u8; 42] = [
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x01, 0x08, 0x00,
        0x06, 0x04, 0x00, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0xc6, 0x33, 0x64, 0x33, 0xff, 0xff, 0xff, 0xff,
        0xff, 0xff, 0xc6, 0x33, 0x64, 0x33,
    ];
    /// unicast.pcap: kernel ARP reply 198.51.100.2 is-at 02:00:00:00:00:02 (ARP part).
    const REPLY: [u8; 28] = [
        0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0xc6, 0x33, 0x64, 0x02,
        0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0xc6, 0x33, 0x64, 0x01,
    ];

    #[test]
    fn garp_captured() {
        let mac = MacAddr([2, 0, 0, 0, 0, 1]);
        let vip = Ipv4Addr::new(198, 51, 100, 51);
        let r = Repr::parse(&Packet::new_checked(&GARP[14..]).unwrap()).unwrap();
        assert_eq!(r, Repr::gratuitous(mac, vip));
        assert!(r.is_gratuitous());
        let mut out = [0u8; 64];
        assert_eq!(emit_gratuitous_frame(&mut out, mac, vip), Ok(42));
        assert_eq!(out[..42], GARP);
        assert_eq!(emit_gratuitous_frame(&mut out[..41], mac, vip), Err(Error::Truncated));
    }

    #[test]
    fn reply_captured() {
        let r = Repr::parse(&Packet::new_checked(&REPLY[..]).unwrap()).unwrap();
        assert_eq!(r.operation, Operation::Reply);
        assert!(!r.is_gratuitous());
        let mut out = [0u8; 28];
        r.emit(&mut Packet::new_unchecked(&mut out[..])).unwrap();
        assert_eq!(out, REPLY);
        let mut b = REPLY;
        b[1] = 6;
        assert_eq!(Repr::parse(&Packet::new_unchecked(&b[..])), Err(Error::Malformed));
    }
}
