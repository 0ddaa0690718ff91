//! DNS_CHECK's query and reply, sans-IO (keepalived `dns_make_query` / `dns_recv_thread`).
//!
//! The query: the given id, RD set, one question (`type`, class IN) for `name`. A reply is judged on its
//! header only, as 2.2.7 does: shorter than 8 bytes (2.2.7 compares with the size of a pointer), another
//! id, or QR clear: ignored (keep waiting); RCODE non-zero: a failure; otherwise success (no look at the
//! answer count, the question or the other flags).
use hickory_proto::op::{Message, MessageType, OpCode, Query};
use hickory_proto::rr::{Name, RecordType};

/// keepalived's `DNS_BUFFER_SIZE`: a reply is read into this many bytes.
pub const BUFFER_SIZE: usize = 768;

/// The record types DNS_CHECK knows (`type`), by keepalived's label.
pub fn record_type(label: &str) -> Option<RecordType> {
    let t = match label.to_ascii_uppercase().as_str() {
        "A" => RecordType::A,
        "NS" => RecordType::NS,
        "CNAME" => RecordType::CNAME,
        "SOA" => RecordType::SOA,
        "MX" => RecordType::MX,
        "TXT" => RecordType::TXT,
        "AAAA" => RecordType::AAAA,
        "RRSIG" => RecordType::RRSIG,
        "DNSKEY" => RecordType::DNSKEY,
        _ => return None,
    };
    Some(t)
}

/// The query datagram; `None` when the name cannot be encoded (a label over 63 bytes…).
pub fn query(id: u16, qtype: &str, name: &str) -> Option<Vec<u8>> {
    let rtype = record_type(qtype).unwrap_or(RecordType::SOA);
    let name = if name.is_empty() || name == "." { Name::root() } else { Name::from_ascii(name).ok()? };
    let mut fqdn = name;
    fqdn.set_fqdn(true);
    let mut m = Message::new(id, MessageType::Query, OpCode::Query);
    m.metadata.recursion_desired = true;
    m.add_query(Query::query(fqdn, rtype));
    m.to_vec().ok()
}

/// What a datagram read on the check's socket means.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reply {
    /// Not the answer (too short, other id, a query): keep waiting.
    Ignore,
    /// Our reply with RCODE 0 (NOERROR): the check succeeds, whatever the answer section holds.
    Success,
    /// A non-zero RCODE.
    Rcode(u8),
}

/// Judges a datagram against the query with id `id` on its 12-byte header only (see the module doc):
/// ignored unless at least 8 bytes, with our id and QR set; then the RCODE (low 4 bits of the flags)
/// decides.
pub fn judge(id: u16, data: &[u8]) -> Reply {
    if data.len() < 8 {
        return Reply::Ignore;
    }
    let rid = u16::from_be_bytes([data[0], data[1]]);
    let flags = u16::from_be_bytes([data[2], data[3]]);
    if rid != id || flags & 0x8000 == 0 {
        return Reply::Ignore;
    }
    match (flags & 0xf) as u8 {
        0 => Reply::Success,
        rc => Reply::Rcode(rc),
    }
}

/// keepalived's failure texts (after `DNS_CHECK ([rs]) `).
pub fn rcode_failure(rc: u8) -> String {
    format!("read error occurred. (rcode = {rc})")
}

/// `recv()` failed with `errno` (`text`: its `strerror`); the check fails.
pub fn read_failure(errno: i32, text: &str) -> String {
    format!("failed to read socket; errno {errno} ({text})")
}

/// No reply with our id came within `connect_timeout` of sending the query.
pub const READ_TIMEOUT: &str = "read timeout from socket";
/// `send()` of the query failed.
pub const WRITE_FAILED: &str = "failed to write socket.";
/// `send()` took fewer bytes than the query's length.
pub const WRITE_SHORT: &str = "failed to write all of the datagram.";

/// The UDP socket could not be connected to `server` (`ip:port`, 2.2.7 `inet_sockaddrtopair`):
/// 2.2.7's `connect_fail` status.
pub fn unreachable(server: &str) -> String {
    format!("network unreachable for {server}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_soa_query() {
        let q = query(0x1234, "SOA", "").unwrap();
        assert_eq!(q, [0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 6, 0, 1]);
    }

    #[test]
    fn named_query() {
        let q = query(7, "a", "example.com").unwrap();
        assert_eq!(&q[12..], b"\x07example\x03com\x00\x00\x01\x00\x01");
        assert_eq!(query(7, "A", "example.com.").unwrap(), q);
        assert!(query(7, "A", &"x".repeat(64)).is_none());
    }

    #[test]
    fn replies() {
        assert_eq!(judge(5, &[0, 5, 0x81, 0x80, 0, 1, 0, 0]), Reply::Success);
        assert_eq!(judge(5, &[0, 5, 0x81, 0x83, 0, 1, 0, 0, 0, 0, 0, 0]), Reply::Rcode(3));
        assert_eq!(judge(5, &[0, 6, 0x81, 0x80, 0, 1, 0, 0]), Reply::Ignore);
        assert_eq!(judge(5, &[0, 5, 0x01, 0x00, 0, 1, 0, 0]), Reply::Ignore);
        assert_eq!(judge(5, &[0, 5, 0x81, 0x80, 0, 1, 0]), Reply::Ignore);
        assert_eq!(judge(5, &[]), Reply::Ignore);
    }
}
