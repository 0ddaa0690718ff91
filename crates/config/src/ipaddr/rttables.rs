//! iproute2 name tables (keepalived lib/rttables.c): routing tables,
//! protocols, scopes, dsfields, realms, interface groups, route types.
//!
//! A number (strtoul base 0, the whole word) is taken as is when within the
//! table's maximum; otherwise the name is looked up in
//! `/etc/iproute2/<file>` and then in keepalived's built-in defaults (only
//! those whose id the file does not define).

use std::sync::OnceLock;

const IPROUTE2_DIR: &str = "/etc/iproute2/";

/// `strtoul(s, &end, 0)` when the whole word is consumed. Overflow gives
/// `u64::MAX` (ULONG_MAX); a leading `-` negates (wraps) as strtoul does.
pub(crate) fn strtoul_whole(s: &str, base: u32) -> Option<u64> {
    let t = s.trim_start_matches([' ', '\t', '\n', '\r', '\x0B', '\x0C']);
    let (neg, body) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let (radix, digits) = if base == 0 || base == 16 {
        if (body.starts_with("0x") || body.starts_with("0X"))
            && body.as_bytes().get(2).is_some_and(|c| c.is_ascii_hexdigit())
        {
            (16, &body[2..])
        } else if base == 0 && body.starts_with('0') {
            (8, body)
        } else {
            (if base == 0 { 10 } else { base }, body)
        }
    } else {
        (base, body)
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    let v = u64::from_str_radix(digits, radix).unwrap_or(u64::MAX);
    Some(if neg { v.wrapping_neg() } else { v })
}

struct Entry {
    id: u32,
    name: String,
}

fn read_file(name: &str, max: u32) -> Vec<Entry> {
    let Ok(text) = std::fs::read_to_string(format!("{IPROUTE2_DIR}{name}")) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for line in text.lines() {
        // keepalived tokenises each line like a config line: '#'/'!' start
        // a comment; exactly two words are needed.
        let line = match line.find(['#', '!']) {
            Some(p) => &line[..p],
            None => line,
        };
        let words: Vec<&str> = line.split_whitespace().collect();
        if words.len() != 2 {
            continue;
        }
        let num = words[0];
        if num.starts_with('-') {
            continue;
        }
        match strtoul_whole(num, 0) {
            Some(id) if id <= max as u64 => out.push(Entry { id: id as u32, name: words[1].to_string() }),
            _ => {}
        }
    }
    out
}

fn build(file: &str, defaults: &[(u32, &str)], max: u32) -> Vec<Entry> {
    let mut v = read_file(file, max);
    for (id, name) in defaults {
        if !v.iter().any(|e| e.id == *id) {
            v.push(Entry { id: *id, name: name.to_string() });
        }
    }
    v
}

struct Table {
    file: &'static str,
    defaults: &'static [(u32, &'static str)],
    max: u32,
    cell: &'static OnceLock<Vec<Entry>>,
}

impl Table {
    fn find(&self, name: &str) -> Option<u32> {
        if let Some(v) = strtoul_whole(name, 0) {
            let id = v as u32;
            return (id <= self.max).then_some(id);
        }
        let list = self.cell.get_or_init(|| build(self.file, self.defaults, self.max));
        list.iter().find(|e| e.name == name).map(|e| e.id)
    }
}

static TABLES: OnceLock<Vec<Entry>> = OnceLock::new();
static PROTOS: OnceLock<Vec<Entry>> = OnceLock::new();
static SCOPES: OnceLock<Vec<Entry>> = OnceLock::new();
static DSFIELDS: OnceLock<Vec<Entry>> = OnceLock::new();
static REALMS: OnceLock<Vec<Entry>> = OnceLock::new();
static GROUPS: OnceLock<Vec<Entry>> = OnceLock::new();

/// `find_rttables_table` (names from rt_tables; default, main, local).
pub fn table(name: &str) -> Option<u32> {
    Table {
        file: "rt_tables",
        defaults: &[(253, "default"), (254, "main"), (255, "local")],
        max: u32::MAX,
        cell: &TABLES,
    }
    .find(name)
}

/// `find_rttables_proto`.
pub fn proto(name: &str) -> Option<u8> {
    const D: &[(u32, &str)] = &[
        (0, "none"),
        (1, "redirect"),
        (2, "kernel"),
        (3, "boot"),
        (4, "static"),
        (8, "gated"),
        (9, "ra"),
        (10, "mrt"),
        (11, "zebra"),
        (12, "bird"),
        (42, "babel"),
        (13, "dnrouted"),
        (14, "xorp"),
        (15, "ntk"),
        (16, "dhcp"),
    ];
    Table { file: "rt_protos", defaults: D, max: 255, cell: &PROTOS }.find(name).map(|v| v as u8)
}

/// `find_rttables_scope`.
pub fn scope(name: &str) -> Option<u8> {
    const D: &[(u32, &str)] = &[(0, "global"), (255, "nowhere"), (254, "host"), (253, "link"), (200, "site")];
    Table { file: "rt_scopes", defaults: D, max: 255, cell: &SCOPES }.find(name).map(|v| v as u8)
}

/// `find_rttables_dsfield`.
pub fn dsfield(name: &str) -> Option<u8> {
    Table { file: "rt_dsfield", defaults: &[], max: 255, cell: &DSFIELDS }.find(name).map(|v| v as u8)
}

/// `find_rttables_realms`.
pub fn realm(name: &str) -> Option<u32> {
    Table { file: "rt_realms", defaults: &[], max: 255, cell: &REALMS }.find(name)
}

/// `find_rttables_group`.
pub fn group(name: &str) -> Option<u32> {
    Table { file: "group", defaults: &[], max: i32::MAX as u32, cell: &GROUPS }.find(name)
}

/// `get_realms`: `[FROM/]TO` → FROM << 16 | TO.
pub fn realms(s: &str) -> Option<u32> {
    match s.split_once('/') {
        Some((a, b)) => {
            let a = realm(a)?;
            let b = realm(b)?;
            Some((a << 16) | b)
        }
        None => realm(s),
    }
}

/// RTN_BLACKHOLE, RTN_UNREACHABLE, RTN_PROHIBIT.
pub const RTN_BLACKHOLE: u8 = 6;
pub const RTN_UNREACHABLE: u8 = 7;
pub const RTN_PROHIBIT: u8 = 8;

/// `find_rttables_rtntype`: a route type name or number 0..=255.
pub fn rtntype(s: &str) -> Option<u8> {
    const NAMES: &[(u8, &str)] = &[
        (2, "local"),
        (10, "nat"),
        (3, "broadcast"),
        (3, "brd"),
        (4, "anycast"),
        (5, "multicast"),
        (8, "prohibit"),
        (7, "unreachable"),
        (6, "blackhole"),
        (11, "xresolve"),
        (1, "unicast"),
        (9, "throw"),
    ];
    if let Some((id, _)) = NAMES.iter().find(|(_, n)| *n == s) {
        return Some(*id);
    }
    if s.starts_with('-') {
        return None;
    }
    if s.is_empty() {
        // strtoul("") consumes nothing and the end is '\0'.
        return Some(0);
    }
    match strtoul_whole(s, 0) {
        Some(v) if v <= 255 => Some(v as u8),
        _ => None,
    }
}

/// keepalived `inet_proto_a2n`: a protocol number 0..=127 or a name from
/// /etc/protocols.
pub fn ip_proto(s: &str) -> Option<i64> {
    let t = s.trim_start_matches([' ', '\t', '\n', '\r', '\x0B', '\x0C']);
    if t.is_empty() || t.starts_with('-') {
        return None;
    }
    let digits: String = t.chars().take_while(|c| c.is_ascii_digit()).collect();
    let num = if digits.is_empty() { 0 } else { digits.parse::<u64>().unwrap_or(u64::MAX) };
    if num > 127 {
        return None;
    }
    if digits.len() == t.len() {
        return Some(num as i64);
    }
    protocol_by_name(t)
}

fn protocol_by_name(name: &str) -> Option<i64> {
    static PROTOCOLS: OnceLock<Vec<(String, i64)>> = OnceLock::new();
    let list = PROTOCOLS.get_or_init(|| {
        let mut v = Vec::new();
        if let Ok(text) = std::fs::read_to_string("/etc/protocols") {
            for line in text.lines() {
                let line = line.split('#').next().unwrap_or("");
                let mut w = line.split_whitespace();
                let (Some(n), Some(num)) = (w.next(), w.next()) else {
                    continue;
                };
                let Ok(num) = num.parse::<i64>() else {
                    continue;
                };
                v.push((n.to_string(), num));
                for alias in w {
                    v.push((alias.to_string(), num));
                }
            }
        }
        if v.is_empty() {
            for (n, p) in [
                ("ip", 0),
                ("icmp", 1),
                ("igmp", 2),
                ("tcp", 6),
                ("udp", 17),
                ("ipv6", 41),
                ("gre", 47),
                ("esp", 50),
                ("ah", 51),
                ("ipv6-icmp", 58),
                ("ospf", 89),
                ("vrrp", 112),
                ("sctp", 132),
                ("udplite", 136),
            ] {
                v.push((n.to_string(), p));
            }
        }
        v
    });
    list.iter().find(|(n, _)| n == name).map(|(_, p)| *p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_names() {
        assert_eq!(table("main"), Some(254));
        assert_eq!(table("100"), Some(100));
        assert_eq!(table("0x10"), Some(16));
        assert_eq!(scope("link"), Some(253));
        assert_eq!(scope("256"), None);
        assert_eq!(proto("static"), Some(4));
        assert_eq!(rtntype("blackhole"), Some(6));
        assert_eq!(rtntype("10.0.0.0/8"), None);
        assert_eq!(realms("1/2"), Some((1 << 16) | 2));
        assert_eq!(ip_proto("200"), None);
        assert_eq!(ip_proto("6"), Some(6));
        assert_eq!(ip_proto("tcp"), Some(6));
    }
}
