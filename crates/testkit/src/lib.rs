//! The one test harness of keepalived-rs (a dev-dependency only). Every
//! kernel-facing or comparison test builds on it, so that a namespace, a
//! lab peer, a real server or a pcap file is set up the same way
//! everywhere and torn down whatever happens:
//!
//! - [`prereq`]: root and the tools a test needs; a missing one fails the
//!   test with a clear message (tests never skip silently).
//! - [`wait`]: the one polling loop.
//! - [`netns`]: a test body re-run in a fresh namespace, named namespace
//!   pairs ([`netns::Node`]), raw sockets opened inside a namespace.
//! - [`daemon`]: keepalived (2.2.7 or ours) on a node, ours alone under
//!   `unshare -n`, their notify scripts and FIFO.
//! - [`peers`]: the `shared/lab` bridge of hosts with keepalived 2.2.7 and
//!   FRR peers.
//! - [`servers`]: real servers for the checkers and alerts (nginx,
//!   aiosmtpd, any child process).
//! - [`kernel`]: addresses, routes, rules and links read through rtnetlink.
//! - [`pcap`]: tcpdump captures and the classic-pcap reader.
//! - [`vm`]: the IPVS guest.
//! - [`fuzz`]: the cargo-fuzz corpora replayed as tests.
//! - [`golden`]: the engines' JSONL goldens.

pub mod daemon;
pub mod fuzz;
pub mod golden;
pub mod kernel;
mod mail;
pub mod netns;
pub mod pcap;
pub mod peers;
pub mod prereq;
pub mod servers;
pub mod vm;
pub mod wait;

pub use netns::{in_netns, run, sh};
pub use prereq::{is_root, require};
pub use wait::wait_for;
