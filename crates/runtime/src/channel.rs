//! The parent ↔ child channel: a Unix-domain stream socket pair created
//! before the fork, carrying one JSON object per line. The parent sends
//! watchdog hellos; the child answers them from its own event loop (so a
//! stuck or stopped loop stops answering) and reports start-up and reloads.
//!
//! Non-blocking on both ends; partial reads and writes are buffered. A
//! malformed line is counted and skipped, never a panic.

use mio::net::UnixStream;
use serde::{de::DeserializeOwned, Deserialize, Serialize};
use std::io::{self, Read, Write};
use std::marker::PhantomData;

/// The three kinds of child process.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ProcKind {
    Vrrp,
    Checker,
    Bfd,
}

impl ProcKind {
    pub const ALL: [ProcKind; 3] = [ProcKind::Vrrp, ProcKind::Checker, ProcKind::Bfd];

    /// keepalived's name in "VRRP child process(PID) died" style messages.
    pub fn label(self) -> &'static str {
        match self {
            ProcKind::Vrrp => "VRRP",
            ProcKind::Checker => "Healthcheck",
            ProcKind::Bfd => "BFD",
        }
    }
}

/// Parent → child.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ParentMsg {
    /// Watchdog probe; answered with [`ChildMsg::HelloAck`] carrying `seq`.
    Hello { seq: u64 },
    /// An event another child sent this one (relayed by the parent).
    Peer { from: ProcKind, event: PeerEvent },
    /// The status socket asks for the child's live state; answered with
    /// [`ChildMsg::Status`] carrying `id`.
    Status { id: u64 },
}

/// Events between children, relayed by the parent (children have no
/// channel to each other): the BFD child tells the VRRP and checker
/// children about its sessions (keepalived's BFD event pipes), and the VRRP
/// child drives the checker child's IPVS sync daemon.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum PeerEvent {
    /// A BFD session went up or down (`track_bfd`, `BFD_CHECK`).
    Bfd { name: String, up: bool },
    /// `lvs_sync_daemon`: the instance it follows became master (start the
    /// master sync daemon) or left master (start the backup one); sent at
    /// start (the backup daemon) and after a reload too. `syncid`: `id`, else
    /// the instance's VRID (resolved by the VRRP child, which knows it).
    SyncDaemon {
        master: bool,
        #[serde(default)]
        syncid: u8,
    },
}

/// Child → parent.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ChildMsg {
    HelloAck {
        seq: u64,
    },
    /// The child read its configuration and entered its loop.
    Ready,
    /// A reload finished (`ok` false: the new configuration was refused).
    Reloaded {
        ok: bool,
    },
    /// An event for another child: the parent relays it as
    /// [`ParentMsg::Peer`] if that child runs, else drops it.
    Peer {
        to: ProcKind,
        event: PeerEvent,
    },
    /// The answer to [`ParentMsg::Status`] (`doc` null: this child reports
    /// no status).
    Status {
        id: u64,
        doc: serde_json::Value,
    },
}

/// Maximum length of one message line; longer input is a protocol error.
/// A status document of thousands of instances is a few MiB.
const MAX_LINE: usize = 16 * 1024 * 1024;

/// One end of the channel: sends `Tx`, receives `Rx`.
pub struct Channel<Tx, Rx> {
    pub stream: UnixStream,
    rbuf: Vec<u8>,
    wbuf: Vec<u8>,
    /// Lines that did not parse (logged by the owner).
    pub bad_messages: u64,
    _p: PhantomData<(Tx, Rx)>,
}

/// What a read found.
#[derive(Debug, PartialEq, Eq)]
pub enum ReadStatus {
    /// The socket would block; messages may have been collected.
    Open,
    /// The peer closed the connection.
    Closed,
}

impl<Tx: Serialize, Rx: DeserializeOwned> Channel<Tx, Rx> {
    pub fn new(stream: UnixStream) -> Self {
        Channel { stream, rbuf: Vec::new(), wbuf: Vec::new(), bad_messages: 0, _p: PhantomData }
    }

    /// Queue a message and try to write it now.
    pub fn send(&mut self, msg: &Tx) -> io::Result<()> {
        let mut line = serde_json::to_vec(msg).map_err(io::Error::other)?;
        line.push(b'\n');
        self.wbuf.extend_from_slice(&line);
        self.flush()
    }

    /// Write what is buffered; leaves the rest for the next writable event.
    pub fn flush(&mut self) -> io::Result<()> {
        while !self.wbuf.is_empty() {
            match self.stream.write(&self.wbuf) {
                Ok(0) => return Err(io::Error::from(io::ErrorKind::WriteZero)),
                Ok(n) => {
                    self.wbuf.drain(..n);
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(()),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    pub fn has_pending_writes(&self) -> bool {
        !self.wbuf.is_empty()
    }

    /// Read everything available; decoded messages are appended to `out`.
    pub fn read(&mut self, out: &mut Vec<Rx>) -> io::Result<ReadStatus> {
        let mut buf = [0u8; 4096];
        let status = loop {
            match self.stream.read(&mut buf) {
                Ok(0) => break ReadStatus::Closed,
                Ok(n) => {
                    self.rbuf.extend_from_slice(&buf[..n]);
                    if self.rbuf.len() > MAX_LINE && !self.rbuf.contains(&b'\n') {
                        self.rbuf.clear();
                        self.bad_messages += 1;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break ReadStatus::Open,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        };
        while let Some(pos) = self.rbuf.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = self.rbuf.drain(..=pos).collect();
            match serde_json::from_slice::<Rx>(&line[..line.len() - 1]) {
                Ok(m) => out.push(m),
                Err(_) => self.bad_messages += 1,
            }
        }
        Ok(status)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_garbage() {
        let (a, b) = UnixStream::pair().unwrap();
        let mut parent: Channel<ParentMsg, ChildMsg> = Channel::new(a);
        let mut child: Channel<ChildMsg, ParentMsg> = Channel::new(b);
        parent.send(&ParentMsg::Hello { seq: 7 }).unwrap();
        let mut got = Vec::new();
        assert_eq!(child.read(&mut got).unwrap(), ReadStatus::Open);
        assert_eq!(got, vec![ParentMsg::Hello { seq: 7 }]);
        child.stream.write_all(b"not json\n").unwrap();
        child.send(&ChildMsg::HelloAck { seq: 7 }).unwrap();
        let mut got = Vec::new();
        parent.read(&mut got).unwrap();
        assert_eq!(got, vec![ChildMsg::HelloAck { seq: 7 }]);
        assert_eq!(parent.bad_messages, 1);
        drop(child);
        let mut got = Vec::new();
        assert_eq!(parent.read(&mut got).unwrap(), ReadStatus::Closed);
    }
}
