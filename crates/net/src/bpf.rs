//! Classic BPF programs that pass only adverts of a given set of VRIDs, so
//! adverts of other virtual routers on the same LAN do not wake the loop.

use socket2::SockFilter;

/// One classic BPF instruction (`struct sock_filter`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BpfInsn {
    /// Opcode.
    pub code: u16,
    /// Jump offset when true.
    pub jt: u8,
    /// Jump offset when false.
    pub jf: u8,
    /// Constant operand.
    pub k: u32,
}

impl BpfInsn {
    /// The socket2 form, for `SO_ATTACH_FILTER`.
    pub fn to_sock_filter(self) -> SockFilter {
        SockFilter::new(self.code, self.jt, self.jf, self.k)
    }
}

/// The socket2 form of a whole program.
pub(crate) fn to_sock_filters(prog: &[BpfInsn]) -> Vec<SockFilter> {
    prog.iter().map(|i| i.to_sock_filter()).collect()
}

// Classic BPF opcodes (linux/filter.h, linux/bpf_common.h).
const LD: u16 = 0x00;
const LDX: u16 = 0x01;
const ALU: u16 = 0x04;
const JMP: u16 = 0x05;
const RET: u16 = 0x06;
const MISC: u16 = 0x07;
const B: u16 = 0x10;
const ABS: u16 = 0x20;
const IND: u16 = 0x40;
const MSH: u16 = 0xa0;
const JEQ: u16 = 0x10;
const ADD: u16 = 0x00;
const K: u16 = 0x00;
const TAX: u16 = 0x00;
const TXA: u16 = 0x80;

/// Accept: the whole packet.
const ACCEPT: u32 = 0xffff_ffff;
/// Length of the AH header that precedes the VRRP message (RFC 2402,
/// keepalived's HMAC-MD5-96 ICV).
const AH_LEN: u32 = 24;

fn stmt(code: u16, k: u32) -> BpfInsn {
    BpfInsn { code, jt: 0, jf: 0, k }
}

fn jump(code: u16, k: u32, jt: u8, jf: u8) -> BpfInsn {
    BpfInsn { code, jt, jf, k }
}

/// The sorted, de-duplicated VRIDs, or `None` when every VRID is in the set
/// (no filter needed).
fn vrid_list(vrids: &[u8]) -> Option<Vec<u8>> {
    let mut v = vrids.to_vec();
    v.sort_unstable();
    v.dedup();
    (v.len() < 256).then_some(v)
}

/// Appends `jeq #vrid → accept` for each VRID, then `ret #0`, `ret #ACCEPT`
/// (A holds the VRID byte).
fn vrid_tail(prog: &mut Vec<BpfInsn>, vrids: &[u8]) {
    let n = vrids.len();
    for (k, &v) in vrids.iter().enumerate() {
        // From instruction k of the list, the accept is n − k instructions
        // further than the next one (n ≤ 255, so it fits).
        prog.push(jump(JMP | JEQ | K, u32::from(v), (n - k) as u8, 0));
    }
    prog.push(stmt(RET | K, 0));
    prog.push(stmt(RET | K, ACCEPT));
}

/// A program for a raw IPv4 socket (the filter sees the packet from the IPv4
/// header): passes IP protocol 112 whose VRID (byte 1 of the VRRP header,
/// after an IHL×4 byte IPv4 header) is in `vrids`, and IP protocol 51 whose
/// VRID is 24 bytes further (after the AH header); drops everything else,
/// including packets too short to hold the VRID. `None` when `vrids` holds
/// all 256 values (nothing to filter).
///
/// ```text
///  0  ldxb 4*([0]&0xf)        X = IPv4 header length
///  1  ldb  [9]                A = protocol
///  2  jeq  #112  → 8, else 3
///  3  jeq  #51   → 5, else 4
///  4  ret  #0
///  5  txa                      AH: X += 24
///  6  add  #24
///  7  tax
///  8  ldb  [x+1]              A = VRID
///  9… jeq  #vrid → accept     one per VRID
///     ret  #0
///     ret  #-1                accept
/// ```
pub fn vrid_filter_v4(vrids: &[u8]) -> Option<Vec<BpfInsn>> {
    let vrids = vrid_list(vrids)?;
    let mut prog = vec![
        stmt(LDX | B | MSH, 0),
        stmt(LD | B | ABS, 9),
        jump(JMP | JEQ | K, crate::IPPROTO_VRRP as u32, 5, 0),
        jump(JMP | JEQ | K, crate::IPPROTO_AH as u32, 1, 0),
        stmt(RET | K, 0),
        stmt(MISC | TXA, 0),
        stmt(ALU | ADD | K, AH_LEN),
        stmt(MISC | TAX, 0),
        stmt(LD | B | IND, 1),
    ];
    vrid_tail(&mut prog, &vrids);
    Some(prog)
}

/// A program for a raw IPv6 VRRP socket (the filter sees the packet from
/// the VRRP header, the IPv6 header and extension headers already
/// consumed): passes messages whose VRID (byte 1) is in `vrids`. `None`
/// when `vrids` holds all 256 values.
pub fn vrid_filter_v6(vrids: &[u8]) -> Option<Vec<BpfInsn>> {
    let vrids = vrid_list(vrids)?;
    let mut prog = vec![stmt(LD | B | ABS, 1)];
    vrid_tail(&mut prog, &vrids);
    Some(prog)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A tiny classic-BPF interpreter for the instructions used above.
    fn run(prog: &[BpfInsn], pkt: &[u8]) -> u32 {
        let (mut a, mut x, mut pc) = (0u32, 0u32, 0usize);
        let byte = |off: u32| pkt.get(off as usize).copied().map(u32::from);
        loop {
            let BpfInsn { code, jt, jf, k } = prog[pc];
            pc += 1;
            match code {
                c if c == LDX | B | MSH => match byte(k) {
                    Some(b) => x = (b & 0xf) * 4,
                    None => return 0,
                },
                c if c == LD | B | ABS => match byte(k) {
                    Some(b) => a = b,
                    None => return 0,
                },
                c if c == LD | B | IND => match byte(x + k) {
                    Some(b) => a = b,
                    None => return 0,
                },
                c if c == JMP | JEQ | K => pc += usize::from(if a == k { jt } else { jf }),
                c if c == RET | K => return k,
                c if c == MISC | TXA => a = x,
                c if c == MISC | TAX => x = a,
                c if c == ALU | ADD | K => a = a.wrapping_add(k),
                c => panic!("opcode {c:#x}"),
            }
        }
    }

    fn ipv4(proto: u8, ihl: u8, vrid: u8) -> Vec<u8> {
        let hl = usize::from(ihl) * 4;
        let mut p = vec![0u8; hl + if proto == 51 { 24 } else { 0 } + 8];
        p[0] = 0x40 | ihl;
        p[9] = proto;
        let at = hl + if proto == 51 { 24 } else { 0 };
        p[at] = 0x21;
        p[at + 1] = vrid;
        p
    }

    #[test]
    fn v4_program() {
        let prog = vrid_filter_v4(&[54, 7, 7, 200]).unwrap();
        assert_eq!(prog.len(), 9 + 3 + 2);
        for ihl in [5, 6, 15] {
            for proto in [112, 51] {
                for vrid in [7, 54, 200] {
                    assert_eq!(run(&prog, &ipv4(proto, ihl, vrid)), ACCEPT, "{proto} {ihl} {vrid}");
                }
                for vrid in [0, 1, 53, 55, 255] {
                    assert_eq!(run(&prog, &ipv4(proto, ihl, vrid)), 0, "{proto} {ihl} {vrid}");
                }
            }
            assert_eq!(run(&prog, &ipv4(17, ihl, 54)), 0);
        }
        // Too short for the VRID.
        let p = ipv4(51, 5, 54);
        assert_eq!(run(&prog, &p[..45]), 0);
        assert_eq!(run(&prog, &p[..46]), ACCEPT);
        // An empty set drops everything.
        let none = vrid_filter_v4(&[]).unwrap();
        assert_eq!(run(&none, &ipv4(112, 5, 1)), 0);
    }

    #[test]
    fn v4_all_but_one() {
        let vrids: Vec<u8> = (0..=255).filter(|&v| v != 9).collect();
        let prog = vrid_filter_v4(&vrids).unwrap();
        for v in 0..=255u8 {
            assert_eq!(run(&prog, &ipv4(112, 5, v)) != 0, v != 9, "{v}");
            assert_eq!(run(&prog, &ipv4(51, 5, v)) != 0, v != 9, "{v}");
        }
        let all: Vec<u8> = (0..=255).collect();
        assert!(vrid_filter_v4(&all).is_none());
        assert!(vrid_filter_v6(&all).is_none());
    }

    #[test]
    fn v6_program() {
        let prog = vrid_filter_v6(&[1, 255]).unwrap();
        assert_eq!(run(&prog, &[0x31, 1, 100]), ACCEPT);
        assert_eq!(run(&prog, &[0x31, 255, 100]), ACCEPT);
        assert_eq!(run(&prog, &[0x31, 2, 100]), 0);
        assert_eq!(run(&prog, &[0x31]), 0);
    }
}
