//! The one polling loop: tests wait for the kernel, a daemon or a file to
//! reach a state, never for a fixed time.

use std::time::{Duration, Instant};

/// How often [`wait_for`] asks again: short enough for timing checks,
/// long enough that a check spawning `ip` or `sh` does not eat a core.
const POLL: Duration = Duration::from_millis(10);

/// Call `f` until it holds or `within` has passed; whether it held.
pub fn wait_for(within: Duration, mut f: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + within;
    loop {
        if f() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(POLL);
    }
}

/// [`wait_for`] in whole seconds (most daemon waits are).
pub fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}
