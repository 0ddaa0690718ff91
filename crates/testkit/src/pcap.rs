//! Packet captures: tcpdump on a node's peer side, and the one classic
//! libpcap reader (µs or ns timestamps, either byte order) for the
//! captures the tests take and the ones they ship.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::netns::{sh, Node};

/// One captured frame: time (µs since the epoch) and bytes.
pub struct Frame {
    pub t_us: u64,
    pub data: Vec<u8>,
}

/// A pcap file's link type (1: Ethernet) and frames. A last frame cut
/// short (a capture stopped by SIGINT) is left out.
pub fn parse(data: &[u8]) -> (u32, Vec<Frame>) {
    assert!(data.len() >= 24, "not a pcap: {} bytes", data.len());
    let magic = u32::from_le_bytes(data[0..4].try_into().unwrap());
    let (le, nano) = match magic {
        0xa1b2c3d4 => (true, false),
        0xa1b23c4d => (true, true),
        0xd4c3b2a1 => (false, false),
        0x4d3cb2a1 => (false, true),
        m => panic!("not a classic pcap (magic {m:#x})"),
    };
    let u32_at = |at: usize| {
        let a: [u8; 4] = data[at..at + 4].try_into().unwrap();
        if le {
            u32::from_le_bytes(a)
        } else {
            u32::from_be_bytes(a)
        }
    };
    let mut frames = Vec::new();
    let mut at = 24;
    while at + 16 <= data.len() {
        let (sec, frac, incl) = (u64::from(u32_at(at)), u64::from(u32_at(at + 4)), u32_at(at + 8) as usize);
        at += 16;
        if at + incl > data.len() {
            break;
        }
        let t_us = sec * 1_000_000 + if nano { frac / 1000 } else { frac };
        frames.push(Frame { t_us, data: data[at..at + incl].to_vec() });
        at += incl;
    }
    (u32_at(20), frames)
}

/// The Ethernet frames of the pcap file at `path`.
pub fn read_pcap(path: &Path) -> Vec<Frame> {
    let data = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let (linktype, frames) = parse(&data);
    assert_eq!(linktype, 1, "{}: Ethernet link type expected", path.display());
    frames
}

/// A tcpdump in a node's peer namespace (on `peth0`), writing a pcap file.
pub struct Capture {
    child: Child,
    pub file: PathBuf,
}

impl Capture {
    pub fn start(node: &Node, filter: &str) -> Capture {
        let file = node.path("capture.pcap");
        // -Z root: tcpdump would drop to its own user and fail to write here.
        let child = Command::new("ip")
            .args(["netns", "exec", &node.peer, "tcpdump", "-Z", "root", "-U", "-n", "-i", "peth0", "-w"])
            .arg(&file)
            .arg(filter)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(500));
        Capture { child, file }
    }

    /// Stop and return the capture as `tcpdump -e -n -r` text.
    pub fn finish(mut self) -> String {
        let pid = nix::unistd::Pid::from_raw(self.child.id() as i32);
        let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGINT);
        let _ = self.child.wait();
        sh(&format!("tcpdump -e -n -r {} 2>/dev/null", self.file.display()))
    }
}

/// The gratuitous ARPs for `addr` in a capture's text.
pub fn garps(text: &str, addr: &str) -> Vec<String> {
    text.lines()
        .filter(|l| l.contains(&format!("who-has {addr} ")) && l.contains(&format!("tell {addr},")))
        .map(str::to_string)
        .collect()
}
