//! A real SMTP server (Debian's python3-aiosmtpd) writing every message
//! it receives to a JSON file, for the alert tests.

use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::servers::{scratch, self_signed};
use crate::wait::wait_for;

const PYTHON: &str = "/usr/bin/python3";
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

/// `python3 -m aiosmtpd` on 127.0.0.1:port, in the network namespace
/// `netns` when given. Killed (by its own pid) on drop.
pub struct Sink {
    pub port: u16,
    host: String,
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
        Sink::start_at(tag, netns, &format!("127.0.0.1:{port}"), tls)
    }

    /// [`Sink::start_with`] listening on `listen` (`ip:port`).
    pub fn start_at(tag: &str, netns: Option<&str>, listen: &str, tls: bool) -> Sink {
        crate::prereq::require_python("aiosmtpd");
        let (host, port) = listen.rsplit_once(':').expect("ip:port");
        let port: u16 = port.parse().expect("a port");
        let dir = scratch(&format!("alert-{tag}"));
        std::fs::write(dir.join("alert_sink.py"), HANDLER).unwrap();
        let out = dir.join("mail");
        std::fs::create_dir_all(&out).unwrap();
        let mut cmd = in_ns(netns, PYTHON);
        cmd.args(["-m", "aiosmtpd", "-n", "-l", listen]);
        if tls {
            self_signed(&dir, "mail.invalid");
            cmd.arg("--tlscert").arg(dir.join("c.pem")).arg("--tlskey").arg(dir.join("k.pem"));
        }
        cmd.args(["-c", "alert_sink.Sink"])
            .arg(&out)
            .env("PYTHONPATH", &dir)
            .stdout(Stdio::from(std::fs::File::create(dir.join("server.log")).unwrap()))
            .stderr(Stdio::from(std::fs::File::create(dir.join("server.err")).unwrap()));
        let sink = Sink { port, host: host.to_string(), dir, child: cmd.spawn().unwrap() };
        let ready = wait_for(Duration::from_secs(15), || sink.greets(netns));
        let err = std::fs::read_to_string(sink.dir.join("server.err")).unwrap_or_default();
        assert!(ready, "aiosmtpd did not start: {err}");
        sink
    }

    /// It accepts a connection (probed from inside the namespace if any).
    fn greets(&self, netns: Option<&str>) -> bool {
        let (host, port) = (&self.host, self.port);
        match netns {
            None => TcpStream::connect((host.as_str(), port)).is_ok(),
            Some(_) => in_ns(netns, PYTHON)
                .arg("-c")
                .arg(format!("import socket; socket.create_connection(('{host}', {port}), 1).close()"))
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success()),
        }
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

/// `program`, run inside the named namespace when there is one.
fn in_ns(netns: Option<&str>, program: &str) -> Command {
    match netns {
        Some(ns) => {
            let mut c = Command::new("ip");
            c.args(["netns", "exec", ns, program]);
            c
        }
        None => Command::new(program),
    }
}
