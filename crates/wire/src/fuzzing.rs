//! Fuzz target bodies, shared by the cargo-fuzz targets (`fuzz/`) and the corpus replay test
//! (`tests/fuzz_corpus.rs`) so the two cannot drift. Each takes arbitrary bytes and must never
//! panic; where a decoder has an encoder, what parses must emit and parse back to the same value.
//! Not part of the API.

use crate::advert::Ipv4Advert;
use crate::vrrp::{self, ChecksumKind, Family};
use crate::{ah, arp, bfd, ethernet, ipv4, ipv6, ndisc};
use std::net::Ipv6Addr;

/// Room for any emitted message (VRRP: 255 IPv6 addresses).
const OUT_LEN: usize = 4200;

/// VRRP v2/v3 over IPv4 (whole datagram, AH included) and IPv6 (the message alone).
pub fn vrrp(data: &[u8]) {
    ipv4_advert(data);
    for fam in [Family::Ipv4, Family::Ipv6] {
        vrrp_message(data, fam);
    }
    // The IPv4 header alone, and the checked view.
    let _ = ipv4::Repr::parse(&ipv4::Packet::new_unchecked(data));
    let _ = ipv4::Packet::new_checked(data).map(|p| (p.payload().len(), p.verify_checksum()));
}

fn ipv4_advert(data: &[u8]) {
    let Ok(a) = Ipv4Advert::parse(data) else { return };
    let kind = a.checksum_kind(false);
    let _ = Ipv4Advert::verify_checksum(data, kind);
    let _ = Ipv4Advert::verify_checksum(data, a.checksum_kind(true));
    let _ = ah::verify(data, b"lab-ah1\0", false);
    let mut out = vec![0u8; OUT_LEN];
    let n = a.emit(&mut out, kind).expect("a parsed IPv4 advert emits");
    let again = Ipv4Advert::parse(&out[..n]).expect("an emitted IPv4 advert parses");
    assert_eq!(again, a, "IPv4 advert round trip");
    assert!(Ipv4Advert::verify_checksum(&out[..n], kind), "emitted checksum verifies");
}

fn vrrp_message(data: &[u8], fam: Family) {
    let p = vrrp::Packet::new_unchecked(data, fam);
    let _ = (p.verify_checksum(ChecksumKind::Plain), p.addr_bytes(), p.auth_data(), p.message());
    let _ = vrrp::Packet::new_checked(data, fam).map(|c| (c.count(), c.max_adver_int(), c.message_len()));
    let Ok(r) = vrrp::Repr::parse(&p) else { return };
    let _ = r.addrs.len();
    if let vrrp::Addrs::V6(l) = r.addrs {
        let _ = l.iter().count();
    }
    let mut out = vec![0u8; OUT_LEN];
    let n = r.emit_into(&mut out, ChecksumKind::Plain).expect("a parsed VRRP message emits");
    assert_eq!(n, data.len(), "VRRP message length");
    let again = vrrp::Repr::parse_checked(&vrrp::Packet::new_unchecked(&out[..n], fam), ChecksumKind::Plain);
    assert_eq!(again, Ok(r), "VRRP round trip");
}

/// IPsec AH (the header, and HMAC-MD5-96 over whole datagrams).
pub fn ah(data: &[u8]) {
    let _ = ah::verify(data, b"lab-ah1\0", false);
    let _ = ah::verify(data, b"lab-ah1\0", true);
    let mut m = data.to_vec();
    if ah::sign(&mut m, b"k", true).is_ok() {
        // The ICV now matches; verify also wants the SPI to be the source address.
        let hl = usize::from(m[0] & 15) * 4;
        let spi_is_src = m.get(hl + 4..hl + 8) == m.get(12..16);
        assert_eq!(ah::verify(&m, b"k", true).is_ok(), spi_is_src, "a signed datagram verifies");
    }
    let _ = ah::Packet::new_checked(data).map(|p| (p.spi(), p.seq(), p.icv(), p.payload().len()));
    let p = ah::Packet::new_unchecked(data);
    let Ok(r) = ah::Repr::parse(&p) else { return };
    let _ = p.payload();
    let mut out = [0u8; ah::HEADER_LEN];
    r.emit(&mut ah::Packet::new_unchecked(&mut out[..])).expect("a parsed AH header emits");
    assert_eq!(ah::Repr::parse(&ah::Packet::new_unchecked(&out[..])), Ok(r), "AH round trip");
}

/// Ethernet frames carrying ARP (gratuitous ARP, keepalived's and the peers').
pub fn arp(data: &[u8]) {
    let _ = arp::Repr::parse(&arp::Packet::new_unchecked(data));
    let _ = arp::Packet::new_checked(data).map(|p| (p.operation(), p.source_protocol_addr()));
    let _ = ethernet::Frame::new_checked(data).map(|f| (f.ethertype(), f.payload().len()));
    let f = ethernet::Frame::new_unchecked(data);
    let Ok(eth) = ethernet::Repr::parse(&f) else { return };
    let mut out = [0u8; ethernet::HEADER_LEN];
    eth.emit(&mut ethernet::Frame::new_unchecked(&mut out[..]));
    assert_eq!(ethernet::Repr::parse(&ethernet::Frame::new_unchecked(&out[..])), Ok(eth), "Ethernet round trip");
    let Ok(r) = arp::Repr::parse(&arp::Packet::new_unchecked(f.payload())) else { return };
    let _ = r.is_gratuitous();
    let mut out = [0u8; arp::PACKET_LEN];
    r.emit(&mut arp::Packet::new_unchecked(&mut out[..])).expect("a parsed ARP packet emits");
    assert_eq!(arp::Repr::parse(&arp::Packet::new_unchecked(&out[..])), Ok(r), "ARP round trip");
}

/// IPv6 packets carrying Neighbour Advertisements; also the bytes as a bare NA.
pub fn ndisc(data: &[u8]) {
    neighbor_advert(data, Ipv6Addr::LOCALHOST, ipv6::ALL_NODES);
    let _ = ipv6::Packet::new_checked(data).map(|p| (p.payload_len(), p.next_header()));
    let _ = ndisc::Packet::new_checked(data).map(|p| p.options().len());
    let p = ipv6::Packet::new_unchecked(data);
    let Ok(ip) = ipv6::Repr::parse(&p) else { return };
    // The header re-emitted in front of the payload it announced.
    let mut out =
        data.get(..ipv6::HEADER_LEN + ip.payload_len).expect("a parsed IPv6 packet holds its payload").to_vec();
    out[..ipv6::HEADER_LEN].fill(0);
    ip.emit(&mut ipv6::Packet::new_unchecked(&mut out[..])).expect("a parsed IPv6 header emits");
    assert_eq!(ipv6::Repr::parse(&ipv6::Packet::new_unchecked(&out[..])), Ok(ip), "IPv6 round trip");
    neighbor_advert(p.payload(), ip.src_addr, ip.dst_addr);
}

fn neighbor_advert(msg: &[u8], src: Ipv6Addr, dst: Ipv6Addr) {
    let Ok(r) = ndisc::Repr::parse(&ndisc::Packet::new_unchecked(msg), src, dst) else { return };
    let mut out = vec![0u8; r.buffer_len()];
    r.emit(&mut ndisc::Packet::new_unchecked(&mut out[..]), src, dst).expect("a parsed NA emits");
    assert_eq!(ndisc::Repr::parse(&ndisc::Packet::new_unchecked(&out[..]), src, dst), Ok(r), "NA round trip");
}

/// BFD control packets (RFC 5880 §4.1, with every authentication section).
pub fn bfd(data: &[u8]) {
    let p = bfd::Packet::new_unchecked(data);
    let _ = (p.validate(), p.auth_section(), bfd::Packet::new_checked(data).is_ok());
    let Ok(r) = bfd::Repr::parse(&p) else { return };
    let out = r.to_vec().expect("a parsed BFD packet emits");
    assert_eq!(bfd::Repr::parse(&bfd::Packet::new_unchecked(&out[..])), Ok(r), "BFD round trip");
}
