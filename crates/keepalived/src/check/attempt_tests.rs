//! The loop of the attempt tests (tcp, proto, http): poll until the probe
//! under test reports its one result, ready or expired, or fail the test.

use mio::{Events, Poll, Registry, Token};
use std::time::{Duration, Instant};

/// Poll `poll` until `ready` (for a readiness event) or `expired` (on
/// each turn) yields the result from `probes`, at the latest by `give_up`.
pub(crate) fn drive<P, R>(
    poll: &mut Poll,
    give_up: Instant,
    probes: &mut P,
    ready: impl Fn(&mut P, &Registry, Token) -> Option<R>,
    expired: impl Fn(&mut P, &Registry) -> Option<R>,
) -> R {
    let mut events = Events::with_capacity(8);
    while Instant::now() < give_up {
        poll.poll(&mut events, Some(Duration::from_millis(20))).unwrap();
        for e in events.iter() {
            if let Some(r) = ready(probes, poll.registry(), e.token()) {
                return r;
            }
        }
        if let Some(r) = expired(probes, poll.registry()) {
            return r;
        }
    }
    panic!("the attempt never ended");
}
