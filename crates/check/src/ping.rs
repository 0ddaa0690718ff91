//! PING_CHECK's echo request and reply, sans-IO (keepalived `ping_it` / `recv_it`), for ping sockets
//! (`SOCK_DGRAM`, `IPPROTO_ICMP{,V6}`): the kernel sets the identifier and (ICMPv4 and ICMPv6) the
//! checksum, and delivers only replies to our identifier, without IP header.

/// keepalived's `ICMP_BUFSIZE`: the payload after the 8-byte header.
pub const PAYLOAD_LEN: usize = 128;
/// A reply is read into this many bytes.
pub const READ_LEN: usize = 8 + PAYLOAD_LEN;

fn types(v6: bool) -> (u8, u8) {
    if v6 {
        (128, 129)
    } else {
        (8, 0)
    }
}

/// The echo request with sequence `seq` (identifier and checksum left to the kernel).
pub fn request(v6: bool, seq: u16) -> Vec<u8> {
    let mut p = vec![types(v6).0, 0, 0, 0, 0, 0];
    p.extend_from_slice(&seq.to_be_bytes());
    p.extend(crate::udp::filler(PAYLOAD_LEN));
    p
}

/// What a datagram read on the ping socket means.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reply {
    /// An echo reply (type 0, ICMPv6 129) with our sequence: the real server answered.
    Success,
    /// An echo reply with another sequence (an earlier request's): keep waiting.
    Ignore,
    /// A failure, with keepalived's log line (logged whatever the state).
    Error(String),
}

/// Judges a datagram read on the ping socket after sending sequence `seq`: shorter than the 8-byte
/// ICMP header or not an echo reply is an error (2.2.7 `recv_it`), another sequence is ignored.
pub fn judge(v6: bool, seq: u16, data: &[u8]) -> Reply {
    let six = if v6 { "v6" } else { "" };
    if data.len() < 8 {
        return Reply::Error(format!("Error, got short ICMP{six} packet, {} bytes", data.len()));
    }
    if data[0] != types(v6).1 {
        return Reply::Error(format!("Got ICMP{six} packet with type 0x{:x}", data[0]));
    }
    if u16::from_be_bytes([data[6], data[7]]) != seq {
        return Reply::Ignore;
    }
    Reply::Success
}

/// keepalived's failure texts (logged with `log_all_failures` while up).
pub fn timeout(rs: &str) -> String {
    format!("ICMP connection to address {rs} timeout.")
}

/// The send or receive failed (2.2.7's `connect_error`; not logged on a read timeout); `vs`: the
/// virtual server.
pub fn failed(rs: &str, vs: &str) -> String {
    format!("ICMP connection to {rs} of {vs} failed.")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn echo() {
        let r = request(false, 0x0102);
        assert_eq!(r.len(), READ_LEN);
        assert_eq!(&r[..8], &[8, 0, 0, 0, 0, 0, 1, 2]);
        let mut reply = r.clone();
        reply[0] = 0;
        assert_eq!(judge(false, 0x0102, &reply), Reply::Success);
        assert_eq!(judge(false, 0x0103, &reply), Reply::Ignore);
        assert_eq!(judge(true, 0x0102, &reply), Reply::Error("Got ICMPv6 packet with type 0x0".into()));
        assert_eq!(judge(false, 1, &reply[..5]), Reply::Error("Error, got short ICMP packet, 5 bytes".into()));
        assert_eq!(request(true, 1)[0], 128);
    }
}
