//! The process runtime shared by keepalived-rs's parent and children: the
//! [`Subsystem`] seam every child runs through, the loop's wait (mio plus a
//! timerfd), a timer heap (mio has no timers), the script runner, and the
//! typed channel between the parent and each child (watchdog hellos,
//! start-up and reload reports, events between children).
//!
//! Nothing here blocks or spawns threads: every process is one mio loop.

pub mod channel;
pub mod event_loop;
pub mod script;
pub mod subsystem;
pub mod timer;

pub use channel::{Channel, ChildMsg, ParentMsg, PeerEvent, ProcKind};
pub use event_loop::EventLoop;
pub use subsystem::{Ctx, DumpRequest, Subsystem, FIRST_TOKEN};
pub use timer::{TimerHeap, TimerId};
