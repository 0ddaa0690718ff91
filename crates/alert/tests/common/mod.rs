//! Test helpers: a real SMTP server (Debian's python3-aiosmtpd) writing
//! every message to a file, and a capture of the crate's log lines.

#![allow(dead_code)]

use std::io::Write;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use keepalived_alert::AlertSettings;

pub const PYTHON: &str = "/usr/bin/python3";
const HANDLER: &str = include_str!("alert_sink.py");

/// One message as the server received it.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct Received {
    pub helo: String,
    pub mail_from: String,
    pub rcpt_tos: Vec<String>,
    pub data: String,
    /// Received over STARTTLS.
    #[serde(default)]
    pub tls: bool,
}

impl Received {
    /// Header lines (unfolded lines kept as sent) and the body.
    pub fn split(&self) -> (Vec<String>, String) {
        let (h, b) = self.data.split_once("\r\n\r\n").unwrap_or((&self.data, ""));
        (h.split("\r\n").map(str::to_string).collect(), b.to_string())
    }
}

pub fn aiosmtpd_available() -> bool {
    Command::new(PYTHON)
        .args(["-c", "import aiosmtpd"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

pub fn is_root() -> bool {
    nix::unistd::geteuid().is_root()
}

pub fn temp_dir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("ka-alert-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// `python3 -m aiosmtpd` on 127.0.0.1:port, in the network namespace
/// `netns` when given. Killed (by its own pid) on drop.
pub struct Sink {
    pub port: u16,
    pub dir: PathBuf,
    child: Child,
}

impl Sink {
    pub fn start(tag: &str, netns: Option<&str>, port: u16) -> Sink {
        Sink::start_with(tag, netns, port, false)
    }

    /// With `tls`, the server offers STARTTLS with a self-signed
    /// certificate for another host name, and refuses mail sent in clear
    /// (aiosmtpd's require_starttls).
    pub fn start_with(tag: &str, netns: Option<&str>, port: u16, tls: bool) -> Sink {
        let dir = temp_dir(tag);
        std::fs::write(dir.join("alert_sink.py"), HANDLER).unwrap();
        let out = dir.join("mail");
        std::fs::create_dir_all(&out).unwrap();
        let mut cmd = match netns {
            Some(ns) => {
                let mut c = Command::new("ip");
                c.args(["netns", "exec", ns, PYTHON]);
                c
            }
            None => Command::new(PYTHON),
        };
        let listen = format!("127.0.0.1:{port}");
        cmd.args(["-m", "aiosmtpd", "-n", "-l", &listen]);
        if tls {
            let st = Command::new("openssl")
                .args(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=mail.invalid"])
                .arg("-keyout")
                .arg(dir.join("key.pem"))
                .arg("-out")
                .arg(dir.join("cert.pem"))
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .unwrap();
            assert!(st.success(), "openssl req failed");
            cmd.arg("--tlscert").arg(dir.join("cert.pem")).arg("--tlskey").arg(dir.join("key.pem"));
        }
        cmd.args(["-c", "alert_sink.Sink"])
            .arg(&out)
            .env("PYTHONPATH", &dir)
            .stdout(Stdio::from(std::fs::File::create(dir.join("server.log")).unwrap()))
            .stderr(Stdio::from(std::fs::File::create(dir.join("server.err")).unwrap()));
        let child = cmd.spawn().unwrap();
        let sink = Sink { port, dir, child };
        // Ready when it greets (probe from inside the namespace if any).
        let ready = wait_for(Duration::from_secs(15), || match netns {
            None => TcpStream::connect(("127.0.0.1", port)).is_ok(),
            Some(ns) => Command::new("ip")
                .args(["netns", "exec", ns, PYTHON, "-c"])
                .arg(format!("import socket; socket.create_connection(('127.0.0.1', {port}), 1).close()"))
                .stderr(Stdio::null())
                .status()
                .map(|s| s.success())
                .unwrap_or(false),
        });
        assert!(
            ready,
            "aiosmtpd did not start: {}",
            std::fs::read_to_string(sink.dir.join("server.err")).unwrap_or_default()
        );
        sink
    }

    pub fn messages(&self) -> Vec<Received> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(self.dir.join("mail"))
            .unwrap()
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        files.sort();
        files.iter().map(|p| serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()).collect()
    }

    pub fn wait_messages(&self, n: usize, within: Duration) -> Vec<Received> {
        wait_for(within, || self.messages().len() >= n);
        self.messages()
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

pub fn wait_for(within: Duration, mut f: impl FnMut() -> bool) -> bool {
    let end = Instant::now() + within;
    loop {
        if f() {
            return true;
        }
        if Instant::now() >= end {
            return false;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

pub fn settings(port: u16, recipients: &[&str], timeout: Duration) -> AlertSettings {
    AlertSettings {
        server: SocketAddr::from(([127, 0, 0, 1], port)),
        server_name: "127.0.0.1".into(),
        recipients: recipients.iter().map(|s| s.to_string()).collect(),
        from: "keepalived@lb1.example.org".into(),
        helo_name: "lb1.example.org".into(),
        timeout,
        router_id: Some("lb1".into()),
        keep_capabilities: false,
    }
}

/// A TCP server that accepts connections and never says a word.
pub struct Blackhole {
    pub port: u16,
}

impl Blackhole {
    pub fn start() -> Blackhole {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        std::thread::spawn(move || {
            let mut held = Vec::new();
            for s in l.incoming().flatten() {
                held.push(s);
            }
        });
        Blackhole { port }
    }
}

/// Every log line of the test binary (all threads).
pub fn logs() -> Arc<Mutex<Vec<u8>>> {
    static LOGS: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    LOGS.get_or_init(|| {
        let buf = Arc::new(Mutex::new(Vec::new()));
        let w = buf.clone();
        let sub = tracing_subscriber::fmt()
            .with_ansi(false)
            .with_max_level(tracing::Level::DEBUG)
            .with_writer(move || LogWriter(w.clone()))
            .finish();
        let _ = tracing::subscriber::set_global_default(sub);
        buf
    })
    .clone()
}

/// Log lines containing `needle`.
pub fn log_lines(needle: &str) -> Vec<String> {
    let l = logs();
    let text = String::from_utf8_lossy(&l.lock().unwrap()).to_string();
    text.lines().filter(|x| x.contains(needle)).map(str::to_string).collect()
}

struct LogWriter(Arc<Mutex<Vec<u8>>>);

impl Write for LogWriter {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

pub fn assert_date(line: &str) {
    // "Date: Tue, 24 Nov 2026 23:18:02 +0000"
    let d = line.strip_prefix("Date: ").unwrap_or_else(|| panic!("not a Date header: {line:?}"));
    let b = d.as_bytes();
    assert_eq!(b.len(), 31, "{d:?}");
    assert!(["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"].contains(&&d[..3]), "{d:?}");
    assert_eq!(&d[3..5], ", ", "{d:?}");
    assert!(b[5].is_ascii_digit() && b[6].is_ascii_digit() && b[7] == b' ', "{d:?}");
    assert!(d[20..].starts_with(|c: char| c.is_ascii_digit()) && (b[26] == b'+' || b[26] == b'-'), "{d:?}");
}

pub fn path_exists(p: &str) -> bool {
    Path::new(p).exists()
}
