//! A byte-level builder for netlink messages with nested attributes, for
//! the requests whose attribute order and framing we want to control
//! exactly (macvlan creation, `IFLA_AF_SPEC` device settings, nf_tables
//! batches): each is checked byte for byte against what keepalived 2.2.7
//! or iproute2 sends.

/// `NLA_F_NESTED`: set on nested attributes (nf_tables requires it).
pub(crate) const NLA_F_NESTED: u16 = 0x8000;

/// One netlink message under construction.
#[derive(Clone, Debug)]
pub(crate) struct MsgBuilder {
    buf: Vec<u8>,
    /// Offsets of the nests still open.
    open: Vec<usize>,
}

impl MsgBuilder {
    /// A message of `kind` with `flags`; the sequence number is set by
    /// [`MsgBuilder::finish`].
    pub(crate) fn new(kind: u16, flags: u16) -> MsgBuilder {
        let mut buf = Vec::with_capacity(128);
        buf.extend_from_slice(&0u32.to_ne_bytes());
        buf.extend_from_slice(&kind.to_ne_bytes());
        buf.extend_from_slice(&flags.to_ne_bytes());
        buf.extend_from_slice(&0u32.to_ne_bytes()); // sequence
        buf.extend_from_slice(&0u32.to_ne_bytes()); // port id
        MsgBuilder { buf, open: Vec::new() }
    }

    /// Fixed header bytes after `struct nlmsghdr` (`ifinfomsg`, `nfgenmsg`…).
    pub(crate) fn raw(&mut self, bytes: &[u8]) -> &mut Self {
        self.buf.extend_from_slice(bytes);
        self.pad();
        self
    }

    fn pad(&mut self) {
        while !self.buf.len().is_multiple_of(4) {
            self.buf.push(0);
        }
    }

    pub(crate) fn attr(&mut self, kind: u16, value: &[u8]) -> &mut Self {
        // Attribute values are far below 64 KiB here; a longer one would be
        // a bug in this crate, not bad input.
        let len = u16::try_from(4 + value.len()).unwrap_or(u16::MAX);
        self.buf.extend_from_slice(&len.to_ne_bytes());
        self.buf.extend_from_slice(&kind.to_ne_bytes());
        self.buf.extend_from_slice(value);
        self.pad();
        self
    }

    pub(crate) fn u8(&mut self, kind: u16, v: u8) -> &mut Self {
        self.attr(kind, &[v])
    }

    /// A native-endian `u32` (rtnetlink).
    pub(crate) fn u32_ne(&mut self, kind: u16, v: u32) -> &mut Self {
        self.attr(kind, &v.to_ne_bytes())
    }

    /// A big-endian `u32` (nf_tables attributes are network order).
    pub(crate) fn u32_be(&mut self, kind: u16, v: u32) -> &mut Self {
        self.attr(kind, &v.to_be_bytes())
    }

    /// A NUL-terminated string.
    pub(crate) fn str(&mut self, kind: u16, s: &str) -> &mut Self {
        let mut v = Vec::with_capacity(s.len() + 1);
        v.extend_from_slice(s.as_bytes());
        v.push(0);
        self.attr(kind, &v)
    }

    /// A string without its NUL, as iproute2 and keepalived send
    /// `IFLA_IFNAME` and `IFLA_INFO_KIND` (the padding ends it anyway).
    pub(crate) fn str_bare(&mut self, kind: u16, s: &str) -> &mut Self {
        self.attr(kind, s.as_bytes())
    }

    /// Open a nested attribute; `flag` is ORed into its type.
    pub(crate) fn begin(&mut self, kind: u16, flag: u16) -> &mut Self {
        self.open.push(self.buf.len());
        self.buf.extend_from_slice(&0u16.to_ne_bytes());
        self.buf.extend_from_slice(&(kind | flag).to_ne_bytes());
        self
    }

    /// Close the innermost open nest.
    pub(crate) fn end(&mut self) -> &mut Self {
        if let Some(start) = self.open.pop() {
            let len = u16::try_from(self.buf.len() - start).unwrap_or(u16::MAX);
            self.buf[start..start + 2].copy_from_slice(&len.to_ne_bytes());
        }
        self
    }

    /// The finished message with its length and sequence number.
    pub(crate) fn finish(mut self, seq: u32) -> Vec<u8> {
        while !self.open.is_empty() {
            self.end();
        }
        let len = u32::try_from(self.buf.len()).unwrap_or(u32::MAX);
        self.buf[0..4].copy_from_slice(&len.to_ne_bytes());
        self.buf[8..12].copy_from_slice(&seq.to_ne_bytes());
        self.buf
    }
}

/// Split a datagram into its messages' raw bytes (for tests and fixtures).
#[cfg(test)]
pub(crate) fn split(datagram: &[u8]) -> Vec<Vec<u8>> {
    use crate::{align4, NLMSG_HDRLEN};
    let mut v = Vec::new();
    let mut off = 0;
    while off + NLMSG_HDRLEN <= datagram.len() {
        let len = u32::from_ne_bytes([datagram[off], datagram[off + 1], datagram[off + 2], datagram[off + 3]]) as usize;
        if len < NLMSG_HDRLEN || off + len > datagram.len() {
            break;
        }
        v.push(datagram[off..off + len].to_vec());
        off += align4(len);
    }
    v
}

/// Decode a hex fixture (whitespace ignored).
#[cfg(test)]
pub(crate) fn unhex(s: &str) -> Vec<u8> {
    let digits: Vec<u8> = s.bytes().filter(|c| c.is_ascii_hexdigit()).collect();
    digits
        .chunks(2)
        .map(|p| {
            let h = |c: u8| (c as char).to_digit(16).unwrap_or(0) as u8;
            h(p[0]) << 4 | h(p.get(1).copied().unwrap_or(b'0'))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nests_are_sized_and_padded() {
        let mut m = MsgBuilder::new(16, 5);
        m.raw(&[0; 16]).begin(18, 0).str(1, "macvlan").begin(2, 0).u32_ne(1, 1).end().end();
        let b = m.finish(7);
        assert_eq!(b.len(), 16 + 16 + 28);
        assert_eq!(&b[0..4], &60u32.to_ne_bytes());
        assert_eq!(&b[8..12], &7u32.to_ne_bytes());
        assert_eq!(&b[32..34], &28u16.to_ne_bytes());
        assert_eq!(split(&b), vec![b.clone()]);
    }
}
