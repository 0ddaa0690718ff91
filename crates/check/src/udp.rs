//! UDP_CHECK's datagram and reply test, sans-IO (keepalived `udp_bind_connect`, `check_udp_reply`).
use keepalived_config::lvs::model::UdpCheck;

/// keepalived's `UDP_BUFSIZE`.
const DEFAULT_LEN: usize = 32;

/// `len` bytes of `keepalived check - ` repeated (keepalived `set_buf`).
pub fn filler(len: usize) -> Vec<u8> {
    b"keepalived check - ".iter().copied().cycle().take(len).collect()
}

/// The datagram sent: `payload`, or 32 bytes of keepalived's filler.
pub fn payload(c: &UdpCheck) -> Vec<u8> {
    c.payload.clone().unwrap_or_else(|| filler(DEFAULT_LEN))
}

/// How many bytes of a reply are read: `max_reply_length + 1` (a longer datagram is truncated to that
/// and fails the length test); without `require_reply`, 1.
pub fn read_len(c: &UdpCheck) -> usize {
    if c.require_reply {
        usize::from(c.max_reply_length) + 1
    } else {
        1
    }
}

/// Whether a reply (as read, at most [`read_len`] bytes) passes. As in 2.2.7, lengths and data are tested
/// only when `require_reply` gave data; then the first min(reply, data) bytes must match outside the
/// wildcard nibbles.
pub fn reply_ok(c: &UdpCheck, reply: &[u8]) -> bool {
    let Some(data) = c.reply_data.as_deref().filter(|_| c.require_reply) else { return true };
    if reply.len() < usize::from(c.min_reply_length) || reply.len() > usize::from(c.max_reply_length) {
        return false;
    }
    let mask = c.reply_mask.as_deref();
    reply.iter().zip(data).enumerate().all(|(i, (r, d))| {
        let wild = mask.and_then(|m| m.get(i)).copied().unwrap_or(0);
        (r ^ d) & !wild == 0
    })
}

/// keepalived's failure texts (logged with `log_all_failures` while up).
pub fn failed(rs: &str) -> String {
    format!("UDP connection to {rs} failed.")
}

/// A reply came but failed [`reply_ok`] (length outside `min_reply_length`..=`max_reply_length`,
/// or data differing outside the mask).
pub fn mismatch(rs: &str) -> String {
    format!("UDP check to {rs} reply data mismatch.")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(data: Option<&[u8]>, mask: Option<&[u8]>) -> UdpCheck {
        UdpCheck {
            payload: None,
            require_reply: true,
            reply_data: data.map(<[u8]>::to_vec),
            reply_mask: mask.map(<[u8]>::to_vec),
            min_reply_length: 0,
            max_reply_length: 255,
        }
    }

    #[test]
    fn default_payload() {
        assert_eq!(payload(&check(None, None)), b"keepalived check - keepalived ch");
    }

    #[test]
    fn matching() {
        let c = check(Some(&[0x12, 0x34]), Some(&[0x00, 0x0f]));
        assert!(reply_ok(&c, &[0x12, 0x3f, 0x99]));
        assert!(reply_ok(&c, &[0x12]));
        assert!(!reply_ok(&c, &[0x13, 0x34]));
        assert!(!reply_ok(&c, &[0x12, 0x44]));
        let mut c = check(Some(&[0x12]), None);
        c.min_reply_length = 2;
        c.max_reply_length = 3;
        assert!(!reply_ok(&c, &[0x12]));
        assert!(reply_ok(&c, &[0x12, 0]));
        assert!(!reply_ok(&c, &[0x12, 0, 0, 0]));
    }

    #[test]
    fn without_data_any_reply_passes() {
        let mut c = check(None, None);
        c.min_reply_length = 10;
        assert!(reply_ok(&c, &[]));
        assert_eq!(read_len(&c), 256);
    }
}
