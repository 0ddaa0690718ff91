//! keepalived's `random()` over the shared seeded generator, so that warmup delays are
//! reproducible from the seed.
use serde::{Deserialize, Serialize};

/// keepalived's `RAND_MAX` (glibc `random()` returns 0..=2^31-1).
const RAND_MAX: u64 = 0x7fff_ffff;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rng(keepalived_config::eventlog::Rng);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(keepalived_config::eventlog::Rng::new(seed))
    }

    /// keepalived `random()`: 0..=RAND_MAX.
    pub fn random(&mut self) -> u64 {
        (self.0.next_u64() >> 33) & RAND_MAX
    }

    /// keepalived's warmup draw: `warmup * random() / RAND_MAX` (0..=warmup).
    pub fn warmup(&mut self, warmup: u64) -> u64 {
        if warmup == 0 {
            return 0;
        }
        let r = u128::from(self.random());
        (u128::from(warmup) * r / u128::from(RAND_MAX)) as u64
    }
}
