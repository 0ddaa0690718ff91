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
    /// Its length on the wire (more than `data` when the capture snapped it).
    pub orig_len: usize,
    /// Where its bytes start in the file.
    pub at: usize,
}

/// A parsed pcap file.
pub struct Pcap {
    /// 1: Ethernet.
    pub linktype: u32,
    pub frames: Vec<Frame>,
    /// The last record was cut short (a capture stopped by SIGINT) and left out.
    pub truncated: bool,
}

/// Parse a classic pcap file.
pub fn parse(data: &[u8]) -> Pcap {
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
    let (mut frames, mut truncated) = (Vec::new(), false);
    let mut at = 24;
    while at + 16 <= data.len() {
        let (sec, frac, incl) = (u64::from(u32_at(at)), u64::from(u32_at(at + 4)), u32_at(at + 8) as usize);
        let orig_len = u32_at(at + 12) as usize;
        at += 16;
        if at + incl > data.len() {
            truncated = true;
            break;
        }
        let t_us = sec * 1_000_000 + if nano { frac / 1000 } else { frac };
        frames.push(Frame { t_us, data: data[at..at + incl].to_vec(), orig_len, at });
        at += incl;
    }
    Pcap { linktype: u32_at(20), frames, truncated }
}

/// The Ethernet frames of the pcap file at `path`.
pub fn read_pcap(path: &Path) -> Vec<Frame> {
    let data = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let pcap = parse(&data);
    assert_eq!(pcap.linktype, 1, "{}: Ethernet link type expected", path.display());
    pcap.frames
}

/// A tcpdump in a node's peer namespace (on `peth0`), writing a pcap file.
pub struct Capture {
    child: Child,
    pub file: PathBuf,
}

impl Capture {
    /// Capture `filter` on the node's far end (`peth0` in its peer namespace).
    pub fn start(node: &Node, filter: &str) -> Capture {
        Capture::start_on(&node.peer, "peth0", &node.path("capture.pcap"), filter)
    }

    /// Capture `filter` on interface `iface` of namespace `ns` into `file`.
    pub fn start_on(ns: &str, iface: &str, file: &Path, filter: &str) -> Capture {
        // -Z root: tcpdump would drop to its own user and fail to write here.
        let child = Command::new("ip")
            .args(["netns", "exec", ns, "tcpdump", "-Z", "root", "-U", "-n", "-i", iface, "-w"])
            .arg(file)
            .arg(filter)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("tcpdump");
        std::thread::sleep(Duration::from_millis(500));
        Capture { child, file: file.to_path_buf() }
    }

    /// Stop and return the capture as `tcpdump -e -n -r` text.
    pub fn finish(self) -> String {
        self.finish_as("-e -n")
    }

    /// Stop and return the capture as `tcpdump FLAGS -r` text.
    pub fn finish_as(mut self, flags: &str) -> String {
        let pid = nix::unistd::Pid::from_raw(self.child.id() as i32);
        let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGINT);
        let _ = self.child.wait();
        sh(&format!("tcpdump {flags} -r {} 2>/dev/null", self.file.display()))
    }
}

/// The gratuitous ARPs for `addr` in a capture's text.
pub fn garps(text: &str, addr: &str) -> Vec<String> {
    text.lines()
        .filter(|l| l.contains(&format!("who-has {addr} ")) && l.contains(&format!("tell {addr},")))
        .map(str::to_string)
        .collect()
}
