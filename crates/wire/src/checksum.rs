//! The Internet checksum (RFC 1071) and the IPv4/IPv6 pseudo-headers.
//!
//! ```text
//! IPv4 pseudo-header (RFC 768 / RFC 5798 §5.2.8)      IPv6 pseudo-header (RFC 8200 §8.1)
//! +--------+--------+--------+--------+             +-----------------------------------+
//! |          Source Address           |             |     Source Address (16 octets)    |
//! +--------+--------+--------+--------+             +-----------------------------------+
//! |        Destination Address        |             |  Destination Address (16 octets)  |
//! +--------+--------+--------+--------+             +-----------------------------------+
//! |  zero  |  proto |  Upper-Layer Len|             |   Upper-Layer Packet Length (32)  |
//! +--------+--------+--------+--------+             +-----------------------------------+
//!                                                   |      zero (24)       |Next Header |
//!                                                   +-----------------------------------+
//! ```
use std::net::{Ipv4Addr, Ipv6Addr};

/// One's-complement sum of `data` (odd trailing byte padded with zero), not folded, not inverted.
pub fn sum(data: &[u8]) -> u32 {
    let mut acc: u32 = 0;
    let mut chunks = data.chunks_exact(2);
    for c in &mut chunks {
        acc = acc.wrapping_add(u32::from(u16::from_be_bytes([c[0], c[1]])));
        // Fold early enough that u32 never overflows (65537 words would).
        if acc & 0x8000_0000 != 0 {
            acc = (acc & 0xffff) + (acc >> 16);
        }
    }
    if let [last] = chunks.remainder() {
        acc = acc.wrapping_add(u32::from(*last) << 8);
    }
    acc
}

/// Folds a 32-bit accumulator into 16 bits (one's complement), without inverting.
pub fn fold(mut acc: u32) -> u16 {
    while acc > 0xffff {
        acc = (acc & 0xffff) + (acc >> 16);
    }
    acc as u16
}

/// Adds two accumulators (each as returned by [`sum`]).
pub fn combine(a: u32, b: u32) -> u32 {
    u32::from(fold(a)) + u32::from(fold(b))
}

/// The Internet checksum of `data` = `!fold(sum(data))`; 0 over a message with a correct checksum field.
pub fn checksum(data: &[u8]) -> u16 {
    !fold(sum(data))
}

/// Accumulator of the IPv4 pseudo-header.
pub fn pseudo_header_v4(src: Ipv4Addr, dst: Ipv4Addr, proto: u8, len: u16) -> u32 {
    let mut acc = sum(&src.octets()) + sum(&dst.octets());
    acc += u32::from(proto) + u32::from(len);
    acc
}

/// Accumulator of the IPv6 pseudo-header.
pub fn pseudo_header_v6(src: Ipv6Addr, dst: Ipv6Addr, next_header: u8, len: u32) -> u32 {
    let mut acc = sum(&src.octets()) + sum(&dst.octets());
    acc += (len >> 16) + (len & 0xffff) + u32::from(next_header);
    acc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc1071_example() {
        // RFC 1071 §3: 0001 f203 f4f5 f6f7 -> sum ddf2, checksum 220d.
        let d = [0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7];
        assert_eq!(fold(sum(&d)), 0xddf2);
        assert_eq!(checksum(&d), 0x220d);
    }

    #[test]
    fn odd_length_and_large() {
        assert_eq!(fold(sum(&[0xab])), 0xab00);
        let big = vec![0xffu8; 200_001];
        let _ = checksum(&big);
    }
}
