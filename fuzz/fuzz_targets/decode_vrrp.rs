//! Fuzz the VRRP / IP decoders of keepalived-wire: must never panic.
#![no_main]
use keepalived_wire::advert::Ipv4Advert;
use keepalived_wire::vrrp::{self, ChecksumKind, Family};
use keepalived_wire::{ah, arp, ethernet, ipv4, ipv6, ndisc};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(a) = Ipv4Advert::parse(data) {
        let _ = Ipv4Advert::verify_checksum(data, a.checksum_kind(false));
        let mut out = [0u8; 2048];
        let _ = a.emit(&mut out, a.checksum_kind(false));
        let _ = a.vrrp.addrs.len();
    }
    let _ = ah::verify(data, b"lab-ah1\0", false);
    for fam in [Family::Ipv4, Family::Ipv6] {
        let p = vrrp::Packet::new_unchecked(data, fam);
        if let Ok(r) = vrrp::Repr::parse(&p) {
            if let vrrp::Addrs::V4(l) = r.addrs {
                let _ = l.iter().count();
            }
            let _ = p.verify_checksum(ChecksumKind::Plain);
        }
    }
    let _ = ipv4::Repr::parse(&ipv4::Packet::new_unchecked(data));
    if let Ok(ip) = ipv6::Repr::parse(&ipv6::Packet::new_unchecked(data)) {
        let p = ipv6::Packet::new_unchecked(data);
        let _ = ndisc::Repr::parse(&ndisc::Packet::new_unchecked(p.payload()), ip.src_addr, ip.dst_addr);
    }
    let f = ethernet::Frame::new_unchecked(data);
    if ethernet::Repr::parse(&f).is_ok() {
        let _ = arp::Repr::parse(&arp::Packet::new_unchecked(f.payload()));
    }
});
