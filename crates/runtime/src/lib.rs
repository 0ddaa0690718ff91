//! The process runtime shared by keepalived-rs's parent and children: a
//! timer heap for the mio loops (mio has no timers), and the typed channel
//! between the parent and each child (watchdog hellos, start-up and reload
//! reports).
//!
//! Nothing here blocks or spawns threads: every process is one mio loop.

pub mod channel;
pub mod timer;

pub use channel::{Channel, ChildMsg, ParentMsg, ProcKind};
pub use timer::{TimerHeap, TimerId};
