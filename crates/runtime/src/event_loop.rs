//! The wait of a child's loop: mio for readiness, and a timerfd for the
//! deadline. epoll's timeouts are whole milliseconds (mio rounds up) and
//! the kernel lets them fire up to 0.1 % late, so work scheduled from the
//! wake-up would drift ~1 ms a second; a timerfd (hrtimer, 50 µs slack)
//! wakes the loop on time, as keepalived's own timerfd does.

use mio::unix::SourceFd;
use mio::{Events, Interest, Poll, Token};
use nix::sys::timerfd::{ClockId, Expiration, TimerFd, TimerFlags, TimerSetTimeFlags};
use std::os::fd::{AsFd, AsRawFd};
use std::time::Duration;

/// The token of the loop's own timerfd.
pub const TIMER: Token = Token(2);

pub struct EventLoop {
    pub poll: Poll,
    pub events: Events,
    timerfd: Option<TimerFd>,
}

impl EventLoop {
    pub fn new() -> std::io::Result<EventLoop> {
        let poll = Poll::new()?;
        let timerfd = TimerFd::new(ClockId::CLOCK_MONOTONIC, TimerFlags::TFD_NONBLOCK | TimerFlags::TFD_CLOEXEC).ok();
        if let Some(t) = timerfd.as_ref() {
            poll.registry().register(&mut SourceFd(&t.as_fd().as_raw_fd()), TIMER, Interest::READABLE)?;
        }
        Ok(EventLoop { poll, events: Events::with_capacity(64), timerfd })
    }

    /// Wait for events or until `timeout` has passed (`None`: no deadline).
    pub fn wait(&mut self, timeout: Option<Duration>) -> std::io::Result<()> {
        let poll_timeout = match (timeout, self.timerfd.as_ref()) {
            (Some(t), Some(tfd)) if !t.is_zero() => {
                let ts = nix::sys::time::TimeSpec::from_duration(t);
                match tfd.set(Expiration::OneShot(ts), TimerSetTimeFlags::empty()) {
                    Ok(()) => None,
                    Err(_) => Some(t),
                }
            }
            (t, _) => t,
        };
        self.poll.poll(&mut self.events, poll_timeout)
    }

    /// The timerfd fired: consume its expiry count.
    pub fn timer_fired(&self) {
        if let Some(t) = self.timerfd.as_ref() {
            let _ = t.wait();
        }
    }
}
