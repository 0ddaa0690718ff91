//! The wait of a child's loop: mio for readiness, and a timerfd for the
//! deadline. epoll's timeouts are whole milliseconds (mio rounds up) and
//! the kernel lets them fire up to 0.1 % late, so work scheduled from the
//! wake-up would drift ~1 ms a second; a timerfd (hrtimer, 50 µs slack)
//! wakes the loop on time, as keepalived's own timerfd does.

use mio::unix::SourceFd;
use mio::{Events, Interest, Poll, Token};
use nix::sys::timerfd::{ClockId, Expiration, TimerFd, TimerFlags, TimerSetTimeFlags};
use std::os::fd::{AsFd, AsRawFd};
use std::time::{Duration, Instant};

/// The token of the loop's own timerfd.
pub const TIMER: Token = Token(2);

pub struct EventLoop {
    pub poll: Poll,
    pub events: Events,
    timerfd: Option<TimerFd>,
    /// The deadline the timerfd is armed for and has not fired yet: the
    /// same deadline again needs no `timerfd_settime`.
    armed: Option<Instant>,
}

impl EventLoop {
    pub fn new() -> std::io::Result<EventLoop> {
        let poll = Poll::new()?;
        let timerfd = TimerFd::new(ClockId::CLOCK_MONOTONIC, TimerFlags::TFD_NONBLOCK | TimerFlags::TFD_CLOEXEC).ok();
        if let Some(t) = timerfd.as_ref() {
            poll.registry().register(&mut SourceFd(&t.as_fd().as_raw_fd()), TIMER, Interest::READABLE)?;
        }
        Ok(EventLoop { poll, events: Events::with_capacity(256), timerfd, armed: None })
    }

    /// Wait for events or until `timeout` has passed (`None`: no deadline).
    pub fn wait(&mut self, timeout: Option<Duration>) -> std::io::Result<()> {
        let poll_timeout = match (timeout, self.timerfd.as_ref()) {
            (Some(t), Some(tfd)) if !t.is_zero() => {
                let ts = nix::sys::time::TimeSpec::from_duration(t);
                self.armed = None;
                match tfd.set(Expiration::OneShot(ts), TimerSetTimeFlags::empty()) {
                    Ok(()) => None,
                    Err(_) => Some(t),
                }
            }
            (t, _) => t,
        };
        self.poll.poll(&mut self.events, poll_timeout)
    }

    /// Wait for events or until `deadline` (`None`: no deadline). The
    /// timerfd is re-armed only when the deadline moved: a loop woken by
    /// I/O whose next timer did not change pays no `timerfd_settime`.
    pub fn wait_until(&mut self, deadline: Option<Instant>) -> std::io::Result<()> {
        let Some(d) = deadline else { return self.poll.poll(&mut self.events, None) };
        let left = d.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return self.poll.poll(&mut self.events, Some(Duration::ZERO));
        }
        if self.armed == Some(d) {
            return self.poll.poll(&mut self.events, None);
        }
        let Some(tfd) = self.timerfd.as_ref() else { return self.poll.poll(&mut self.events, Some(left)) };
        let ts = nix::sys::time::TimeSpec::from_duration(left);
        if tfd.set(Expiration::OneShot(ts), TimerSetTimeFlags::empty()).is_err() {
            self.armed = None;
            return self.poll.poll(&mut self.events, Some(left));
        }
        self.armed = Some(d);
        self.poll.poll(&mut self.events, None)
    }

    /// The timerfd fired. Its expiry count is not read: the next
    /// `timerfd_settime` resets it, and the registration is edge-triggered
    /// (mio), so an unread count does not wake the loop again - one system
    /// call less per timer wake-up.
    pub fn timer_fired(&mut self) {
        self.armed = None;
    }
}
