//! The checker child (IPVS and health checks). Stub: the child core
//! (branch checkchild) owns this file.
#![allow(dead_code)] // until the child core calls these modules
pub mod dump;
pub mod file_check;
pub mod notify;
pub mod sync_daemon;
