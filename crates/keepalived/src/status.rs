//! The status socket (keepalived-rs; `keepalived --status`): a Unix stream
//! socket in the parent. A client sends one line, `status`; the parent
//! asks each running child for its status over the parent channel
//! (`ParentMsg::Status`), waits at most [`CHILD_TIMEOUT`] for the answers
//! and writes one JSON document back, then closes. Read-only: actions stay
//! on signals, as keepalived's.
//!
//! Who may read: root, or a member of `status_socket_group`, checked with
//! the peer's credentials (SO_PEERCRED and its supplementary groups). The
//! socket file is world-connectable on purpose: the credential check is
//! the gate, and a refused client gets a clear answer.
//!
//! Nothing here blocks the parent's loop: the listener and the connections
//! are mio sources, a pending request is state with a timer, and a client
//! that sends too much, garbage, or nothing is answered with an error and
//! dropped (counted, with a rate-limited log line).

use keepalived_runtime::ProcKind;
use mio::net::{UnixListener, UnixStream};
use mio::{Interest, Registry, Token};
use serde_json::{json, Map, Value};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use tracing::{info, warn};

/// How long the parent waits for a child's status.
pub const CHILD_TIMEOUT: Duration = Duration::from_secs(1);
/// A client has this long to send its request.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);
/// The longest request line accepted.
const MAX_REQUEST: usize = 256;
/// Connections served at once; more are refused.
const MAX_CONNS: usize = 16;
/// At most one log line about rejected clients per this interval.
const LOG_INTERVAL: Duration = Duration::from_secs(10);

/// The listener's token; connections use the following ones.
pub const LISTENER: Token = Token(8);
const FIRST_CONN: usize = 9;

/// The socket's path: `status_socket`, else next to the parent's pid file
/// (`keepalived.pid` → `keepalived.sock`, so instances and namespaces,
/// which have their own pid files, have their own sockets).
pub fn socket_path(cli_path: Option<&str>, cfg_path: Option<&str>, pid_file: &Path) -> PathBuf {
    if let Some(p) = cli_path.or(cfg_path) {
        return PathBuf::from(p);
    }
    pid_file.with_extension("sock")
}

/// Is `t` one of the status socket's tokens?
pub fn owns(t: Token) -> bool {
    t == LISTENER || (FIRST_CONN..FIRST_CONN + MAX_CONNS).contains(&t.0)
}

enum Phase {
    /// Reading the request line.
    Reading,
    /// Asked the children; their answers so far.
    Waiting { id: u64, asked: Vec<ProcKind>, idle: Vec<ProcKind>, answers: Map<String, Value> },
    /// Writing the answer.
    Writing,
    /// Answer written and our side shut: waiting for the client to close
    /// (closing with its request unread would reset the connection and
    /// lose the answer).
    Closing,
}

struct Conn {
    stream: UnixStream,
    uid: u32,
    rbuf: Vec<u8>,
    wbuf: Vec<u8>,
    phase: Phase,
    since: Instant,
}

/// What the parent must do for a connection.
pub enum Need {
    /// Ask the running children for status request `id`.
    AskChildren { id: u64 },
}

pub struct StatusServer {
    listener: UnixListener,
    path: PathBuf,
    group: Option<nix::unistd::Gid>,
    conns: Vec<Option<Conn>>,
    next_id: u64,
    /// Clients refused or dropped since start.
    pub rejected: u64,
    /// Rejections not logged yet (rate limit).
    unlogged: u64,
    last_log: Option<Instant>,
}

impl StatusServer {
    /// Listen on `path` (a stale socket file is replaced). `group`: the
    /// group whose members, besides root, may read the status.
    pub fn open(path: &Path, group: Option<&str>, registry: &Registry) -> io::Result<StatusServer> {
        let gid = match group {
            Some(name) => Some(lookup_group(name)?),
            None => None,
        };
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        // Only a socket is replaced: a regular file at that path is an error.
        if std::fs::symlink_metadata(path).is_ok_and(|m| std::os::unix::fs::FileTypeExt::is_socket(&m.file_type())) {
            std::fs::remove_file(path)?;
        }
        let mut listener = UnixListener::bind(path)?;
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o666))?;
        registry.register(&mut listener, LISTENER, Interest::READABLE)?;
        let conns = (0..MAX_CONNS).map(|_| None).collect();
        info!("Status socket listening on {}", path.display());
        Ok(StatusServer {
            listener,
            path: path.to_path_buf(),
            group: gid,
            conns,
            next_id: 0,
            rejected: 0,
            unlogged: 0,
            last_log: None,
        })
    }

    /// Remove the socket file (at stop).
    pub fn close(self, registry: &Registry) {
        let mut l = self.listener;
        let _ = registry.deregister(&mut l);
        let _ = std::fs::remove_file(&self.path);
    }

    /// A readiness event on one of our tokens.
    pub fn on_ready(&mut self, token: Token, registry: &Registry) -> Vec<Need> {
        if token == LISTENER {
            return self.accept_all(registry);
        }
        let slot = token.0 - FIRST_CONN;
        self.on_conn(slot, registry).into_iter().collect()
    }

    fn accept_all(&mut self, registry: &Registry) -> Vec<Need> {
        let mut needs = Vec::new();
        loop {
            match self.listener.accept() {
                Ok((stream, _)) => needs.extend(self.admit(stream, registry)),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return needs,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    warn!("Status socket: accept failed: {e}");
                    return needs;
                }
            }
        }
    }

    /// Check the client's credentials and give it a slot.
    fn admit(&mut self, mut stream: UnixStream, registry: &Registry) -> Option<Need> {
        let creds = nix::sys::socket::getsockopt(&stream, nix::sys::socket::sockopt::PeerCredentials);
        let (uid, gid, pid) = match creds {
            Ok(c) => (c.uid(), c.gid(), c.pid()),
            Err(e) => {
                self.refuse(stream, None, &format!("no peer credentials ({e})"));
                return None;
            }
        };
        let Some(slot) = self.conns.iter().position(Option::is_none) else {
            self.refuse(stream, Some(uid), "too many clients");
            return None;
        };
        let token = Token(FIRST_CONN + slot);
        if let Err(e) = registry.register(&mut stream, token, Interest::READABLE | Interest::WRITABLE) {
            warn!("Status socket: unable to watch a client: {e}");
            return None;
        }
        let conn =
            Conn { stream, uid, rbuf: Vec::new(), wbuf: Vec::new(), phase: Phase::Reading, since: Instant::now() };
        self.conns[slot] = Some(conn);
        if !self.allowed(uid, gid, pid) {
            self.reject(slot, registry, "permission denied");
            return None;
        }
        // The request may have arrived before registration (edge-triggered).
        self.on_conn(slot, registry)
    }

    /// Read or write what a connection is ready for.
    fn on_conn(&mut self, slot: usize, registry: &Registry) -> Option<Need> {
        let conn = self.conns.get_mut(slot)?.as_mut()?;
        match conn.phase {
            Phase::Reading => self.read_request(slot, registry),
            Phase::Waiting { .. } | Phase::Closing => {
                // Only the client's close matters now.
                if peer_closed(&mut conn.stream) {
                    self.drop_conn(slot, registry);
                }
                None
            }
            Phase::Writing => {
                self.flush(slot, registry);
                None
            }
        }
    }

    fn read_request(&mut self, slot: usize, registry: &Registry) -> Option<Need> {
        let conn = self.conns.get_mut(slot)?.as_mut()?;
        let mut buf = [0u8; 512];
        let closed = loop {
            match conn.stream.read(&mut buf) {
                Ok(0) => break true,
                Ok(n) => {
                    conn.rbuf.extend_from_slice(&buf[..n]);
                    if conn.rbuf.len() > MAX_REQUEST {
                        break false;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break false,
                Err(_) => break true,
            }
        };
        let line_end = conn.rbuf.iter().position(|&b| b == b'\n');
        let Some(end) = line_end.filter(|&e| e <= MAX_REQUEST) else {
            if conn.rbuf.len() > MAX_REQUEST {
                self.reject(slot, registry, "request too long");
            } else if closed {
                // A client that hangs up without a request: nothing to answer.
                self.drop_conn(slot, registry);
            }
            return None;
        };
        let request = String::from_utf8_lossy(&conn.rbuf[..end]).trim().to_string();
        if request != "status" {
            self.reject(slot, registry, "unknown request (the only request is \"status\")");
            return None;
        }
        self.next_id += 1;
        let id = self.next_id;
        conn.phase = Phase::Waiting { id, asked: Vec::new(), idle: Vec::new(), answers: Map::new() };
        Some(Need::AskChildren { id })
    }

    /// The parent asked these children for request `id`; `not_running`:
    /// children the configuration wants that are not running now (being
    /// restarted). With none to ask, the answer goes now.
    pub fn asked(&mut self, id: u64, kinds: Vec<ProcKind>, not_running: Vec<ProcKind>, registry: &Registry) {
        let Some(slot) = self.slot_of(id) else { return };
        if let Some(Conn { phase: Phase::Waiting { asked, idle, .. }, .. }) = self.conns[slot].as_mut() {
            *asked = kinds;
            *idle = not_running;
        }
        self.maybe_finish(slot, false, registry);
    }

    /// A child's answer to request `id`.
    pub fn answer(&mut self, id: u64, kind: ProcKind, doc: Value, registry: &Registry) {
        let Some(slot) = self.slot_of(id) else { return };
        if let Some(Conn { phase: Phase::Waiting { answers, .. }, .. }) = self.conns[slot].as_mut() {
            answers.insert(child_key(kind).to_string(), doc);
        }
        self.maybe_finish(slot, false, registry);
    }

    /// Request `id`'s time is up: answer with what came.
    pub fn expire(&mut self, id: u64, registry: &Registry) {
        if let Some(slot) = self.slot_of(id) {
            self.maybe_finish(slot, true, registry);
        }
    }

    /// Drop clients that sent no request in time (called every second).
    pub fn sweep(&mut self, registry: &Registry) {
        let now = Instant::now();
        for slot in 0..self.conns.len() {
            let Some(c) = self.conns[slot].as_ref() else { continue };
            if now.duration_since(c.since) <= REQUEST_TIMEOUT {
                continue;
            }
            match c.phase {
                Phase::Reading => self.reject(slot, registry, "no request in time"),
                // A client that does not read its answer, or does not close.
                Phase::Writing | Phase::Closing => self.drop_conn(slot, registry),
                Phase::Waiting { .. } => {}
            }
        }
    }

    fn slot_of(&self, id: u64) -> Option<usize> {
        self.conns.iter().position(|c| matches!(c, Some(Conn { phase: Phase::Waiting { id: i, .. }, .. }) if *i == id))
    }

    /// Once every asked child answered (or at the deadline), write the
    /// document.
    fn maybe_finish(&mut self, slot: usize, deadline: bool, registry: &Registry) {
        let Some(conn) = self.conns[slot].as_mut() else { return };
        let Phase::Waiting { asked, idle, answers, .. } = &mut conn.phase else { return };
        if !deadline && asked.iter().any(|k| !answers.contains_key(child_key(*k))) {
            return;
        }
        let mut children = Map::new();
        for k in asked.iter() {
            let v = match answers.remove(child_key(*k)) {
                Some(Value::Null) => json!({ "answered": true, "status": null }),
                Some(doc) => json!({ "answered": true, "status": doc }),
                None => json!({ "answered": false,
                    "error": format!("the {} child did not answer within {} ms", k.label(), CHILD_TIMEOUT.as_millis()) }),
            };
            children.insert(child_key(*k).to_string(), v);
        }
        for k in idle.iter() {
            let v = json!({ "answered": false, "error": format!("the {} child is not running", k.label()) });
            children.insert(child_key(*k).to_string(), v);
        }
        let doc = json!({
            "keepalived_rs": env!("CARGO_PKG_VERSION"),
            "pid": std::process::id(),
            "time_us": now_us(),
            "children": children,
        });
        let mut text = doc.to_string();
        text.push('\n');
        conn.wbuf = text.into_bytes();
        conn.phase = Phase::Writing;
        conn.since = Instant::now();
        self.flush(slot, registry);
    }

    /// Write what is pending; once all is written, shut our side and
    /// wait for the client to close.
    fn flush(&mut self, slot: usize, registry: &Registry) {
        let Some(conn) = self.conns[slot].as_mut() else { return };
        while !conn.wbuf.is_empty() {
            match conn.stream.write(&conn.wbuf) {
                Ok(0) => break,
                Ok(n) => {
                    conn.wbuf.drain(..n);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(_) => break,
            }
        }
        if !conn.wbuf.is_empty() || conn.stream.shutdown(std::net::Shutdown::Write).is_err() {
            return self.drop_conn(slot, registry);
        }
        conn.phase = Phase::Closing;
        conn.since = Instant::now();
        if peer_closed(&mut conn.stream) {
            self.drop_conn(slot, registry);
        }
    }

    /// Answer an error on a connection, count it, and close.
    fn reject(&mut self, slot: usize, registry: &Registry, why: &str) {
        let Some(conn) = self.conns[slot].as_mut() else { return };
        let uid = conn.uid;
        let mut line = json!({ "error": why }).to_string();
        line.push('\n');
        conn.wbuf = line.into_bytes();
        conn.phase = Phase::Writing;
        conn.since = Instant::now();
        self.flush(slot, registry);
        self.count_rejection(Some(uid), why);
    }

    fn drop_conn(&mut self, slot: usize, registry: &Registry) {
        if let Some(mut c) = self.conns.get_mut(slot).and_then(Option::take) {
            let _ = registry.deregister(&mut c.stream);
        }
    }

    /// Root, or the configured group as primary or supplementary group.
    fn allowed(&self, uid: u32, gid: u32, pid: i32) -> bool {
        if uid == 0 {
            return true;
        }
        let Some(group) = self.group else { return false };
        gid == group.as_raw() || supplementary_groups(pid).contains(&group.as_raw())
    }

    /// Answer an error to a client we do not serve, and drop it.
    fn refuse(&mut self, mut stream: UnixStream, uid: Option<u32>, why: &str) {
        let mut line = json!({ "error": why }).to_string();
        line.push('\n');
        // Best effort: the socket buffer takes a short line.
        let _ = stream.write(line.as_bytes());
        self.count_rejection(uid, why);
    }

    fn count_rejection(&mut self, uid: Option<u32>, why: &str) {
        self.rejected += 1;
        self.unlogged += 1;
        let now = Instant::now();
        if self.last_log.is_some_and(|t| now.duration_since(t) < LOG_INTERVAL) {
            return;
        }
        let who = uid.map_or_else(|| "a client".to_string(), |u| format!("a client with uid {u}"));
        warn!(
            "Status socket: rejected {who}: {why} ({} rejected since the last report, {} in all)",
            self.unlogged, self.rejected
        );
        self.unlogged = 0;
        self.last_log = Some(now);
    }
}

/// `vrrp`, `checker`, `bfd`: the document's key for a child.
fn child_key(k: ProcKind) -> &'static str {
    crate::subsystems::short_name(k)
}

fn now_us() -> u64 {
    let d = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    d.as_micros() as u64
}

/// The client hung up (a read returns end of file), or keeps sending when
/// it should be waiting (then it is dropped too: a loop reading a client
/// that never stops would hold the parent).
fn peer_closed(s: &mut UnixStream) -> bool {
    let mut b = [0u8; 4096];
    let mut junk = 0usize;
    loop {
        match s.read(&mut b) {
            Ok(0) => return true,
            Ok(n) => {
                junk += n;
                if junk > 64 * 1024 {
                    return true;
                }
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return e.kind() != io::ErrorKind::WouldBlock,
        }
    }
}

/// The groups a process is in, from /proc (SO_PEERCRED gives only the
/// primary group). Empty when the process is gone.
fn supplementary_groups(pid: i32) -> Vec<u32> {
    let Ok(text) = std::fs::read_to_string(format!("/proc/{pid}/status")) else { return Vec::new() };
    let line = text.lines().find_map(|l| l.strip_prefix("Groups:")).unwrap_or("");
    line.split_whitespace().filter_map(|g| g.parse().ok()).collect()
}

fn lookup_group(name: &str) -> io::Result<nix::unistd::Gid> {
    if let Ok(n) = name.parse::<u32>() {
        return Ok(nix::unistd::Gid::from_raw(n));
    }
    match nix::unistd::Group::from_name(name) {
        Ok(Some(g)) => Ok(g.gid),
        Ok(None) => Err(io::Error::other(format!("unknown group {name}"))),
        Err(e) => Err(io::Error::other(format!("unable to look up group {name}: {e}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_socket_lies_next_to_the_pid_file_unless_set() {
        let pid = Path::new("/run/keepalived/keepalived_web.pid");
        assert_eq!(socket_path(None, None, pid), PathBuf::from("/run/keepalived/keepalived_web.sock"));
        assert_eq!(socket_path(None, Some("/x/c.sock"), pid), PathBuf::from("/x/c.sock"));
        assert_eq!(socket_path(Some("/y/l.sock"), Some("/x/c.sock"), pid), PathBuf::from("/y/l.sock"));
    }

    #[test]
    fn groups_of_this_process_and_of_none() {
        let ours = supplementary_groups(std::process::id() as i32);
        let getgroups: Vec<u32> = nix::unistd::getgroups().unwrap_or_default().iter().map(|g| g.as_raw()).collect();
        assert_eq!(ours, getgroups);
        assert!(supplementary_groups(-1).is_empty());
        assert!(lookup_group("no-such-group-here").is_err());
        assert_eq!(lookup_group("4242").unwrap().as_raw(), 4242);
    }
}
