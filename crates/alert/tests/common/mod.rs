//! Test helpers of the alert crate: its settings, a silent server, and a
//! capture of the crate's log lines. The SMTP server (aiosmtpd) and the
//! polling loop are the testkit's.

#![allow(dead_code)]

use std::io::Write;
use std::net::{SocketAddr, TcpListener};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use keepalived_alert::AlertSettings;

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
