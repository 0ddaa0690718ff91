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

use crate::parent_requests::{self, accept_next, Gathered, Protocol, Requests};
use keepalived_runtime::ProcKind;
use mio::net::{UnixListener, UnixStream};
use mio::{Interest, Registry, Token};
use serde_json::{json, Map, Value};
use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tracing::{info, warn};

/// How long the parent waits for a child's status.
pub const CHILD_TIMEOUT: Duration = Duration::from_secs(1);

/// The listener's token; connections use the following ones.
pub const LISTENER: Token = Token(8);

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
    parent_requests::owns(LISTENER, t)
}

/// One line, `status`, answered with one JSON document.
struct Line;

impl Protocol for Line {
    type Stream = UnixStream;
    type Request = ();
    type Context = ();
    const NAME: &'static str = "Status socket";
    /// The longest request line accepted.
    const MAX_REQUEST: usize = 256;
    const TOO_LARGE: &'static str = "request too long";
    const TOO_SLOW: &'static str = "no request in time";

    fn parse(buf: &[u8]) -> Option<Result<(), &'static str>> {
        let end = buf.iter().position(|&b| b == b'\n').filter(|&e| e <= Self::MAX_REQUEST)?;
        let request = String::from_utf8_lossy(&buf[..end]).trim().to_string();
        Some(if request == "status" { Ok(()) } else { Err("unknown request (the only request is \"status\")") })
    }

    fn render(_: &(), g: Gathered, _: &()) -> Vec<u8> {
        let doc = json!({
            "keepalived_rs": env!("CARGO_PKG_VERSION"),
            "pid": std::process::id(),
            "time_us": now_us(),
            "children": children(g),
        });
        let mut text = doc.to_string();
        text.push('\n');
        text.into_bytes()
    }

    fn error(why: &'static str) -> Vec<u8> {
        error_line(why)
    }
}

/// `{"error": why}` and a newline.
fn error_line(why: &str) -> Vec<u8> {
    let mut line = json!({ "error": why }).to_string();
    line.push('\n');
    line.into_bytes()
}

/// The document's `children`: each child's status, or why there is none.
fn children(g: Gathered) -> Map<String, Value> {
    let Gathered { asked, idle, mut answers } = g;
    let mut children = Map::new();
    for k in asked.iter() {
        let v = match answers.remove(k) {
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
    children
}

pub struct StatusServer {
    listener: UnixListener,
    path: PathBuf,
    group: Option<nix::unistd::Gid>,
    requests: Requests<Line>,
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
        let mut listener = parent_requests::bind_unix(path)?;
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o666))?;
        registry.register(&mut listener, LISTENER, Interest::READABLE)?;
        info!("Status socket listening on {}", path.display());
        let requests = Requests::new(LISTENER, 0);
        Ok(StatusServer { listener, path: path.to_path_buf(), group: gid, requests })
    }

    /// Remove the socket file (at stop).
    pub fn close(self, registry: &Registry) {
        self.requests.close(registry);
        let mut l = self.listener;
        let _ = registry.deregister(&mut l);
        let _ = std::fs::remove_file(&self.path);
    }

    /// A readiness event on one of our tokens; returns the ids of requests
    /// that need the children asked.
    pub fn on_ready(&mut self, token: Token, registry: &Registry) -> Vec<u64> {
        if token == LISTENER {
            return self.accept_all(registry);
        }
        self.requests.on_ready(token, registry).into_iter().collect()
    }

    fn accept_all(&mut self, registry: &Registry) -> Vec<u64> {
        let mut needs = Vec::new();
        loop {
            match accept_next(|| self.listener.accept()) {
                Ok(Some((stream, _))) => needs.extend(self.admit(stream, registry)),
                Ok(None) => return needs,
                Err(e) => {
                    warn!("Status socket: accept failed: {e}");
                    return needs;
                }
            }
        }
    }

    /// Check the client's credentials and give it a slot.
    fn admit(&mut self, stream: UnixStream, registry: &Registry) -> Option<u64> {
        let creds = nix::sys::socket::getsockopt(&stream, nix::sys::socket::sockopt::PeerCredentials);
        let (uid, gid, pid) = match creds {
            Ok(c) => (c.uid(), c.gid(), c.pid()),
            Err(e) => {
                let why = format!("no peer credentials ({e})");
                self.requests.refuse(stream, None, &error_line(&why), &why);
                return None;
            }
        };
        let Some(slot) = self.requests.free_slot() else {
            let why = "too many clients";
            self.requests.refuse(stream, Some(uid), &error_line(why), why);
            return None;
        };
        if let Err(e) = self.requests.insert(slot, stream, Some(uid), registry) {
            warn!("Status socket: unable to watch a client: {e}");
            return None;
        }
        if !self.allowed(uid, gid, pid) {
            self.requests.reject(slot, "permission denied", registry);
            return None;
        }
        // The request may have arrived before registration (edge-triggered).
        self.requests.on_conn(slot, registry)
    }

    /// The parent asked these children for request `id`; `not_running`:
    /// children the configuration wants that are not running now (being
    /// restarted). With none to ask, the answer goes now.
    pub fn asked(&mut self, id: u64, kinds: Vec<ProcKind>, not_running: Vec<ProcKind>, registry: &Registry) {
        self.requests.asked(id, kinds, not_running, &(), registry);
    }

    /// A child's answer to request `id`.
    pub fn answer(&mut self, id: u64, kind: ProcKind, doc: Value, registry: &Registry) {
        self.requests.answer(id, kind, doc, &(), registry);
    }

    /// Request `id`'s time is up: answer with what came.
    pub fn expire(&mut self, id: u64, registry: &Registry) {
        self.requests.expire(id, &(), registry);
    }

    /// Drop clients that sent no request in time (called every second).
    pub fn sweep(&mut self, registry: &Registry) {
        self.requests.sweep(registry);
    }

    /// Root, or the configured group as primary or supplementary group.
    fn allowed(&self, uid: u32, gid: u32, pid: i32) -> bool {
        if uid == 0 {
            return true;
        }
        let Some(group) = self.group else { return false };
        gid == group.as_raw() || supplementary_groups(pid).contains(&group.as_raw())
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
