//! The one netlink transport of this crate: a socket of one protocol and
//! the few ways we talk on it.
//!
//! - [`Transport::request`]: one request, wait for its acknowledgement;
//!   `EEXIST` on an add and the caller's "absent" errnos on a delete become
//!   their own errors.
//! - [`Transport::dump`]: one dump request, the multi-part answer read up to
//!   `NLMSG_DONE`, restarted when the kernel marks it interrupted.
//! - [`Transport::exchange`]: the primitive under both (send, then hand
//!   every message answering our sequence number to a closure).
//! - [`Transport::talk`]: a batch (nf_tables) and its acknowledgements.
//! - [`Transport::listen`]/[`Transport::bind_groups`] and the non-blocking
//!   reads of the monitors, with the [`mio::event::Source`] delegation.
//!
//! Every path reads whole datagrams ([`Transport::receive`]) and splits them
//! with the checked splitter of the crate, so nothing panics on what the
//! kernel sends.

use crate::{messages, Msg, NetlinkError, DUMP_ATTEMPTS, NLMSG_HDRLEN};
use netlink_packet_core::{NLMSG_DONE, NLMSG_ERROR, NLMSG_NOOP, NLMSG_OVERRUN, NLM_F_DUMP, NLM_F_DUMP_INTR};
use netlink_sys::{Socket, SocketAddr};
use std::io;
use std::ops::ControlFlow;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};

const EINTR: i32 = 4;
pub(crate) const EEXIST: i32 = 17;

// Extended ACK (linux/netlink.h).
pub(crate) const NETLINK_EXT_ACK_FLAGS_CAPPED: u16 = 0x100;
pub(crate) const NETLINK_EXT_ACK_FLAGS_TLVS: u16 = 0x200;
pub(crate) const NLMSGERR_ATTR_MSG: u16 = 1;

/// What an acknowledged request is, for naming the kernel's refusals.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Expect {
    /// Any refusal is a [`NetlinkError::Change`].
    Ack,
    /// `EEXIST` is [`NetlinkError::AlreadyExists`].
    Add,
    /// These errnos are [`NetlinkError::NotFound`].
    Del { absent: &'static [i32] },
}

/// What the kernel answered to one message of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Answer {
    pub seq: u32,
    /// 0: acknowledged; else a positive errno.
    pub errno: i32,
    /// The kernel's explanation (extended ACK), when it gave one.
    pub hint: Option<String>,
}

/// A netlink socket of one protocol and its sequence numbers.
#[derive(Debug)]
pub(crate) struct Transport {
    socket: Socket,
    seq: u32,
}

impl Transport {
    /// A socket for requests to the kernel: bound, connected to the kernel,
    /// and asking it to explain refusals without echoing our request (old
    /// kernels lack these options, which is harmless).
    pub(crate) fn connect(protocol: isize) -> Result<Transport, NetlinkError> {
        let mut socket = Socket::new(protocol).map_err(NetlinkError::Socket)?;
        socket.bind_auto().map_err(NetlinkError::Socket)?;
        socket.connect(&SocketAddr::new(0, 0)).map_err(NetlinkError::Socket)?;
        let _ = socket.set_ext_ack(true);
        let _ = socket.set_cap_ack(true);
        Ok(Transport { socket, seq: 0 })
    }

    /// A socket that is opened but neither bound nor connected (tests that
    /// only build messages).
    #[cfg(test)]
    pub(crate) fn unconnected(protocol: isize) -> io::Result<Transport> {
        Ok(Transport { socket: Socket::new(protocol)?, seq: 0 })
    }

    /// A non-blocking socket subscribed to multicast `groups` (numbers, as
    /// `NETLINK_ADD_MEMBERSHIP` takes them).
    pub(crate) fn listen(protocol: isize, groups: &[u32]) -> io::Result<Transport> {
        let mut socket = Socket::new(protocol)?;
        socket.bind_auto()?;
        for group in groups {
            socket.add_membership(*group)?;
        }
        Ok(Transport { socket, seq: 0 })
    }

    /// A socket bound to the legacy group bit mask `groups` (the proc
    /// connector subscribes this way).
    pub(crate) fn bind_groups(protocol: isize, groups: u32) -> io::Result<Transport> {
        let mut socket = Socket::new(protocol)?;
        socket.bind(&SocketAddr::new(0, groups))?;
        Ok(Transport { socket, seq: 0 })
    }

    pub(crate) fn set_non_blocking(&self) -> io::Result<()> {
        self.socket.set_non_blocking(true)
    }

    /// Set the receive buffer; `force`: beyond `net.core.rmem_max`
    /// (`SO_RCVBUFFORCE`, needs `CAP_NET_ADMIN`), falling back to the
    /// capped `SO_RCVBUF` when not allowed.
    pub(crate) fn set_receive_buffer(&self, bytes: usize, force: bool) -> io::Result<()> {
        let forced =
            force && nix::sys::socket::setsockopt(&self.socket, nix::sys::socket::sockopt::RcvBufForce, &bytes).is_ok();
        if forced {
            return Ok(());
        }
        self.socket.set_rx_buf_sz(i32::try_from(bytes).unwrap_or(i32::MAX))
    }

    /// The receive buffer the kernel granted, in bytes.
    pub(crate) fn receive_buffer(&self) -> io::Result<usize> {
        self.socket.get_rx_buf_sz()
    }

    /// The next sequence number (1 for the first request of a socket).
    pub(crate) fn next_seq(&mut self) -> u32 {
        self.seq = self.seq.wrapping_add(1);
        self.seq
    }

    /// Send one datagram to the kernel, retrying when a signal interrupts.
    pub(crate) fn send(&self, datagram: &[u8]) -> io::Result<()> {
        loop {
            match self.socket.send(datagram, 0) {
                Ok(_) => return Ok(()),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        }
    }

    /// Send one datagram to the kernel on an unconnected socket.
    pub(crate) fn send_to_kernel(&self, datagram: &[u8]) -> io::Result<()> {
        self.socket.send_to(datagram, &SocketAddr::new(0, 0), 0).map(|_| ())
    }

    /// Read one whole datagram, however large (an empty one: end of file).
    pub(crate) fn receive(&self) -> io::Result<Vec<u8>> {
        self.receive_from().map(|(d, _)| d)
    }

    /// Read one whole datagram and the port id of its sender (0: the kernel).
    pub(crate) fn receive_from(&self) -> io::Result<(Vec<u8>, u32)> {
        const MSG_PEEK: i32 = 2;
        const MSG_TRUNC: i32 = 0x20;
        loop {
            // Learn the datagram's size without consuming it. The kernel
            // sizes later dump datagrams by the largest buffer we offered,
            // so offer a generous one.
            let mut probe: Vec<u8> = Vec::with_capacity(32 * 1024);
            let size = match self.socket.recv(&mut probe, MSG_PEEK | MSG_TRUNC) {
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            let mut buf: Vec<u8> = Vec::with_capacity(size.max(16));
            match self.socket.recv_from(&mut buf, 0) {
                Ok((n, from)) => {
                    buf.truncate(n);
                    return Ok((buf, from.port_number()));
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        }
    }

    /// Send `datagram` (whose messages carry sequence number `seq`) and hand
    /// every message of the answer with that number to `on_msg` until it
    /// breaks. Other messages (late answers to earlier requests) are
    /// skipped.
    pub(crate) fn exchange<R>(
        &self,
        datagram: &[u8],
        seq: u32,
        mut on_msg: impl FnMut(&Msg<'_>) -> ControlFlow<R>,
    ) -> Result<R, Failure> {
        self.send(datagram).map_err(Failure::Send)?;
        loop {
            let answer = self.receive().map_err(Failure::Receive)?;
            if answer.is_empty() {
                return Err(Failure::Eof);
            }
            for m in messages(&answer) {
                let m = m.map_err(Failure::Malformed)?;
                if m.seq != seq {
                    continue;
                }
                if let ControlFlow::Break(r) = on_msg(&m) {
                    return Ok(r);
                }
            }
        }
    }

    /// Send one request (built with `NLM_F_ACK` and sequence number `seq`)
    /// and wait for its acknowledgement. `action` names the request in
    /// errors ("add address 192.0.2.1/32 to interface 3").
    pub(crate) fn request(&self, action: &str, datagram: &[u8], seq: u32, expect: Expect) -> Result<(), NetlinkError> {
        let fail = |source: io::Error| NetlinkError::Change { action: action.to_string(), source, hint: None };
        let answer = self.exchange(datagram, seq, |m| match m.kind {
            NLMSG_ERROR => ControlFlow::Break(error_code(m).map(|code| (code, m.flags, m.payload.to_vec()))),
            _ => ControlFlow::Continue(()),
        });
        let (code, flags, payload) = match answer {
            Ok(Some(a)) => a,
            Ok(None) => return Err(fail(invalid_data("a truncated acknowledgement"))),
            Err(Failure::Eof) => {
                return Err(fail(io::Error::new(io::ErrorKind::UnexpectedEof, "the kernel sent no acknowledgement")))
            }
            Err(f) => return Err(fail(f.into_io())),
        };
        if code == 0 {
            return Ok(());
        }
        let errno = code.saturating_abs();
        let source = io::Error::from_raw_os_error(errno);
        let action = action.to_string();
        Err(match expect {
            Expect::Add if errno == EEXIST => NetlinkError::AlreadyExists { action, source },
            Expect::Del { absent } if absent.contains(&errno) => NetlinkError::NotFound { action, source },
            _ => NetlinkError::Change { action, source, hint: ext_ack_message(flags, &payload) },
        })
    }

    /// A dump: `build(seq)` makes the request (with `NLM_F_DUMP`; without
    /// it, a query whose answer ends with the acknowledgement), `decode`
    /// turns each message of the answer into an item (`None`: not ours).
    /// Started again, up to [`DUMP_ATTEMPTS`] times, when the kernel marks
    /// the answer interrupted (`NLM_F_DUMP_INTR`, `EINTR`) or overran.
    pub(crate) fn dump<T>(
        &mut self,
        what: &'static str,
        build: impl Fn(u32) -> Vec<u8>,
        decode: impl Fn(u16, &[u8]) -> Result<Option<T>, String>,
    ) -> Result<Vec<T>, NetlinkError> {
        for _ in 1..=DUMP_ATTEMPTS {
            let seq = self.next_seq();
            if let Some(items) = self.dump_once(what, &build(seq), seq, &decode)? {
                return Ok(items);
            }
        }
        Err(NetlinkError::Interrupted { what, attempts: DUMP_ATTEMPTS })
    }

    /// One dump request and its answer. `None`: the dump was interrupted.
    fn dump_once<T>(
        &self,
        what: &'static str,
        request: &[u8],
        seq: u32,
        decode: &impl Fn(u16, &[u8]) -> Result<Option<T>, String>,
    ) -> Result<Option<Vec<T>>, NetlinkError> {
        let flags = request.get(6..8).map(|f| u16::from_ne_bytes([f[0], f[1]])).unwrap_or(0);
        let is_dump = flags & NLM_F_DUMP == NLM_F_DUMP;
        let mut acc = DumpAcc { items: Vec::new(), interrupted: false };
        let end = self.exchange(request, seq, |m| dump_step(m, is_dump, decode, &mut acc));
        let DumpAcc { items, interrupted } = acc;
        match end {
            Ok(DumpEnd::Code(0)) => Ok((!interrupted).then_some(items)),
            Ok(DumpEnd::Code(c)) if c.checked_neg() == Some(EINTR) => Ok(None),
            Ok(DumpEnd::Code(c)) => {
                Err(NetlinkError::Kernel { what, source: io::Error::from_raw_os_error(c.checked_neg().unwrap_or(c)) })
            }
            Ok(DumpEnd::Malformed(detail)) => Err(NetlinkError::Malformed { what, detail }),
            Err(f) => Err(f.into_dump_error(what)),
        }
    }

    /// Send `datagram` (one message or a batch) and collect the
    /// acknowledgements and errors for it. The kernel processes netlink
    /// requests synchronously in `sendmsg`, so every answer is already
    /// queued when the send returns; we read until `expected` answers
    /// arrived, or one is an error and the queue is empty.
    pub(crate) fn talk(&self, datagram: &[u8], expected: usize) -> io::Result<Vec<Answer>> {
        self.send(datagram)?;
        let mut answers = Vec::new();
        while answers.len() < expected {
            let failed = answers.iter().any(|a: &Answer| a.errno != 0);
            let datagram = if failed {
                match self.receive_now()? {
                    Some(d) => d,
                    None => break,
                }
            } else {
                self.receive()?
            };
            if datagram.is_empty() {
                break;
            }
            for m in messages(&datagram) {
                let m = m.map_err(invalid_data)?;
                if m.kind != NLMSG_ERROR {
                    continue;
                }
                let code = error_code(&m).ok_or_else(|| invalid_data("a truncated acknowledgement"))?;
                // The answer names the request it answers by its header.
                let seq = m.payload.get(12..16).map(|s| u32::from_ne_bytes([s[0], s[1], s[2], s[3]])).unwrap_or(0);
                let hint = if code != 0 { ext_ack_message(m.flags, m.payload) } else { None };
                answers.push(Answer { seq, errno: code.saturating_abs(), hint });
            }
        }
        Ok(answers)
    }

    /// A datagram if one is queued, without blocking.
    fn receive_now(&self) -> io::Result<Option<Vec<u8>>> {
        const MSG_DONTWAIT: i32 = 0x40;
        loop {
            let mut buf: Vec<u8> = Vec::with_capacity(64 * 1024);
            match self.socket.recv(&mut buf, MSG_DONTWAIT) {
                Ok(n) => {
                    buf.truncate(n);
                    return Ok(Some(buf));
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(None),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        }
    }
}

/// Fuzzing ([`crate::fuzzing`]): `datagram` as the whole answer to a dump (`is_dump`) or query,
/// each message taken as [`Transport::exchange`] hands it to the dump; the items read.
pub(crate) fn fuzz_answer<T>(
    datagram: &[u8],
    is_dump: bool,
    decode: &impl Fn(u16, &[u8]) -> Result<Option<T>, String>,
) -> Vec<T> {
    let mut acc = DumpAcc { items: Vec::new(), interrupted: false };
    for m in messages(datagram) {
        let Ok(m) = m else { break };
        if dump_step(&m, is_dump, decode, &mut acc).is_break() {
            break;
        }
        let _ = (error_code(&m), ext_ack_message(m.flags, m.payload));
    }
    acc.items
}

/// What a dump gathered so far.
struct DumpAcc<T> {
    items: Vec<T>,
    /// The kernel marked the answer interrupted or dropped messages.
    interrupted: bool,
}

/// One message of a dump's (or query's) answer: an item, the end, or
/// nothing to do. `is_dump`: the answer ends with `NLMSG_DONE`, not with
/// the acknowledgement.
fn dump_step<T>(
    m: &Msg<'_>,
    is_dump: bool,
    decode: &impl Fn(u16, &[u8]) -> Result<Option<T>, String>,
    acc: &mut DumpAcc<T>,
) -> ControlFlow<DumpEnd> {
    if m.flags & NLM_F_DUMP_INTR != 0 {
        acc.interrupted = true;
    }
    match m.kind {
        NLMSG_NOOP => ControlFlow::Continue(()),
        NLMSG_DONE => ControlFlow::Break(DumpEnd::Code(error_code(m).unwrap_or(0))),
        NLMSG_ERROR => match error_code(m) {
            None => ControlFlow::Break(DumpEnd::Malformed("a truncated error message".into())),
            // An acknowledgement: within a dump, nothing to do.
            Some(0) if is_dump => ControlFlow::Continue(()),
            Some(c) => ControlFlow::Break(DumpEnd::Code(c)),
        },
        // The kernel dropped messages: the list is incomplete.
        NLMSG_OVERRUN => {
            acc.interrupted = true;
            ControlFlow::Continue(())
        }
        kind => match decode(kind, m.bytes) {
            Ok(Some(item)) => {
                acc.items.push(item);
                ControlFlow::Continue(())
            }
            Ok(None) => ControlFlow::Continue(()),
            Err(detail) => ControlFlow::Break(DumpEnd::Malformed(detail)),
        },
    }
}

/// How a dump's answer ended.
enum DumpEnd {
    /// `NLMSG_DONE` or `NLMSG_ERROR` with this code (0, or minus an errno).
    Code(i32),
    Malformed(String),
}

/// Why an exchange failed before the kernel answered.
#[derive(Debug)]
pub(crate) enum Failure {
    Send(io::Error),
    Receive(io::Error),
    /// The kernel closed the answer early.
    Eof,
    /// The answer could not be split into messages.
    Malformed(String),
}

impl Failure {
    fn into_io(self) -> io::Error {
        match self {
            Failure::Send(e) | Failure::Receive(e) => e,
            Failure::Eof => io::Error::new(io::ErrorKind::UnexpectedEof, "the kernel closed the answer"),
            Failure::Malformed(d) => invalid_data(d),
        }
    }

    /// The error of a dump or query of `what`.
    pub(crate) fn into_dump_error(self, what: &'static str) -> NetlinkError {
        match self {
            Failure::Send(source) => NetlinkError::Send { what, source },
            Failure::Receive(source) => NetlinkError::Receive { what, source },
            Failure::Eof => {
                NetlinkError::Malformed { what, detail: "the kernel closed the answer without its end marker".into() }
            }
            Failure::Malformed(detail) => NetlinkError::Malformed { what, detail },
        }
    }
}

fn invalid_data(detail: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, detail.into())
}

/// The code of an `NLMSG_ERROR` or `NLMSG_DONE` message (0 or minus an
/// errno); `None` when truncated.
pub(crate) fn error_code(m: &Msg<'_>) -> Option<i32> {
    let b = m.payload.get(..4)?;
    Some(i32::from_ne_bytes([b[0], b[1], b[2], b[3]]))
}

/// The kernel's explanation of a refusal (`NLMSGERR_ATTR_MSG`), if any.
pub(crate) fn ext_ack_message(flags: u16, payload: &[u8]) -> Option<String> {
    if flags & NETLINK_EXT_ACK_FLAGS_TLVS == 0 {
        return None;
    }
    // errno, then the request's header, or the whole request when not capped.
    let request_len = if flags & NETLINK_EXT_ACK_FLAGS_CAPPED != 0 {
        NLMSG_HDRLEN
    } else {
        let b = payload.get(4..8)?;
        u32::from_ne_bytes([b[0], b[1], b[2], b[3]]) as usize
    };
    let tlvs = payload.get(4usize.checked_add(crate::align4(request_len))?..)?;
    crate::raw::attrs(tlvs).find(|(k, _)| *k == NLMSGERR_ATTR_MSG).map(|(_, v)| {
        let end = v.iter().position(|c| *c == 0).unwrap_or(v.len());
        String::from_utf8_lossy(&v[..end]).trim().to_string()
    })
}

impl mio::event::Source for Transport {
    fn register(&mut self, registry: &mio::Registry, token: mio::Token, interests: mio::Interest) -> io::Result<()> {
        self.socket.register(registry, token, interests)
    }

    fn reregister(&mut self, registry: &mio::Registry, token: mio::Token, interests: mio::Interest) -> io::Result<()> {
        self.socket.reregister(registry, token, interests)
    }

    fn deregister(&mut self, registry: &mio::Registry) -> io::Result<()> {
        self.socket.deregister(registry)
    }
}

impl AsRawFd for Transport {
    fn as_raw_fd(&self) -> RawFd {
        self.socket.as_raw_fd()
    }
}

impl AsFd for Transport {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.socket.as_fd()
    }
}

/// Implement [`mio::event::Source`], `AsRawFd` and `AsFd` for a type by
/// delegating to its `Transport` field.
macro_rules! delegate_source {
    ($ty:ty, $field:ident) => {
        impl mio::event::Source for $ty {
            fn register(
                &mut self,
                registry: &mio::Registry,
                token: mio::Token,
                interests: mio::Interest,
            ) -> std::io::Result<()> {
                self.$field.register(registry, token, interests)
            }

            fn reregister(
                &mut self,
                registry: &mio::Registry,
                token: mio::Token,
                interests: mio::Interest,
            ) -> std::io::Result<()> {
                self.$field.reregister(registry, token, interests)
            }

            fn deregister(&mut self, registry: &mio::Registry) -> std::io::Result<()> {
                self.$field.deregister(registry)
            }
        }

        impl std::os::fd::AsRawFd for $ty {
            fn as_raw_fd(&self) -> std::os::fd::RawFd {
                self.$field.as_raw_fd()
            }
        }

        impl std::os::fd::AsFd for $ty {
            fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
                self.$field.as_fd()
            }
        }
    };
}
pub(crate) use delegate_source;

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(kind: u16, flags: u16, payload: &[u8]) -> Vec<u8> {
        let mut v = Vec::new();
        v.extend_from_slice(&((16 + payload.len()) as u32).to_ne_bytes());
        v.extend_from_slice(&kind.to_ne_bytes());
        v.extend_from_slice(&flags.to_ne_bytes());
        v.extend_from_slice(&[0; 8]);
        v.extend_from_slice(payload);
        v
    }

    /// Feed `datagram` through [`dump_step`] as a dump or a query.
    fn run(datagram: &[u8], is_dump: bool) -> (Option<i32>, Vec<u16>, bool) {
        let decode = |kind: u16, _: &[u8]| Ok(Some(kind));
        let mut acc = DumpAcc { items: Vec::new(), interrupted: false };
        let mut end = None;
        for m in messages(datagram) {
            if let ControlFlow::Break(e) = dump_step(&m.unwrap(), is_dump, &decode, &mut acc) {
                end = Some(match e {
                    DumpEnd::Code(c) => c,
                    DumpEnd::Malformed(_) => i32::MIN,
                });
                break;
            }
        }
        (end, acc.items, acc.interrupted)
    }

    #[test]
    fn dumps_end_at_done_and_queries_at_the_ack() {
        let mut d = msg(100, 2, &[]);
        d.extend(msg(NLMSG_ERROR, 0, &0i32.to_ne_bytes()));
        d.extend(msg(NLMSG_DONE, 2, &0i32.to_ne_bytes()));
        d.extend(msg(101, 2, &[]));
        assert_eq!(run(&d, true), (Some(0), vec![100], false));
        assert_eq!(run(&d, false), (Some(0), vec![100], false));
    }

    #[test]
    fn interrupted_and_refused_dumps() {
        let mut d = msg(100, 2 | NLM_F_DUMP_INTR, &[]);
        d.extend(msg(NLMSG_DONE, 2, &(-EINTR).to_ne_bytes()));
        assert_eq!(run(&d, true), (Some(-EINTR), vec![100], true));
        let d = msg(NLMSG_ERROR, 0, &(-1i32).to_ne_bytes());
        assert_eq!(run(&d, true), (Some(-1), vec![], false));
        let d = msg(NLMSG_ERROR, 0, &[1, 2]);
        assert_eq!(run(&d, true), (Some(i32::MIN), vec![], false));
    }
}
