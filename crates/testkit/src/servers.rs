//! Real servers for the checker and alert tests: nginx (HTTP_GET,
//! SSL_GET, genhash), aiosmtpd (SMTP_CHECK, alert mail), and any other
//! server process (dnsmasq, socat...) through [`spawn`]. Each is a
//! [`Server`], killed by its own pid when dropped.

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::wait::wait_for;

/// A server process, killed at the end of the test.
pub struct Server(pub Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Start `cmd args` quietly.
pub fn spawn(cmd: &str, args: &[&str]) -> Server {
    let child = Command::new(cmd).args(args).stdout(Stdio::null()).stderr(Stdio::null()).spawn();
    Server(child.unwrap_or_else(|e| panic!("{cmd}: {e}")))
}

/// Panic unless `addr` (`ip:port`) accepts a TCP connection within 10 s.
pub fn wait_listening(addr: &str) {
    let up = wait_for(Duration::from_secs(10), || TcpStream::connect(addr).is_ok());
    assert!(up, "{addr} never listened");
}

/// An empty scratch directory for test `tag` of this process.
pub fn scratch(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("ka-rs-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// A free TCP port on 127.0.0.1.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A self-signed certificate for `cn`: `dir`/k.pem (key) and `dir`/c.pem.
pub fn self_signed(dir: &Path, cn: &str) {
    let st = Command::new("openssl")
        .args(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", &format!("/CN={cn}")])
        .arg("-keyout")
        .arg(dir.join("k.pem"))
        .arg("-out")
        .arg(dir.join("c.pem"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("openssl");
    assert!(st.success(), "openssl req failed");
}

/// nginx in the foreground in `dir` with `servers` (the `http { }`
/// server blocks), once it listens on every `ip:port` of `listen`.
pub fn nginx(dir: &Path, servers: &str, listen: &[&str]) -> Server {
    let d = dir.display();
    let conf = format!(
        "daemon off; master_process off; worker_processes 1; error_log {d}/error.log; pid {d}/nginx.pid;\n\
         events {{}}\nhttp {{ access_log off; client_body_temp_path {d}; proxy_temp_path {d}; fastcgi_temp_path {d};\n\
         uwsgi_temp_path {d}; scgi_temp_path {d}; default_type text/plain;\n{servers}\n}}\n"
    );
    std::fs::write(dir.join("nginx.conf"), conf).unwrap();
    let child = Command::new("nginx").args(["-p", &d.to_string(), "-c", &format!("{d}/nginx.conf")]).spawn();
    let ng = Server(child.expect("nginx"));
    for a in listen {
        let up = wait_for(Duration::from_secs(5), || TcpStream::connect(a).is_ok());
        let log = std::fs::read_to_string(dir.join("error.log")).unwrap_or_default();
        assert!(up, "nginx did not listen on {a}: {log}");
    }
    ng
}

pub use crate::mail::{Received, Sink};
