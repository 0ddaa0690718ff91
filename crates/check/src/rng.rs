//! A tiny seeded PRNG (xorshift64*), so that warmup delays are reproducible from the seed.
use serde::{Deserialize, Serialize};

/// keepalived's `RAND_MAX` (glibc `random()` returns 0..=2^31-1).
const RAND_MAX: u64 = 0x7fff_ffff;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        // splitmix the seed so that small seeds give unrelated streams; never 0
        let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        Rng((z ^ (z >> 31)) | 1)
    }

    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// keepalived `random()`: 0..=RAND_MAX.
    pub fn random(&mut self) -> u64 {
        (self.next_u64() >> 33) & RAND_MAX
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
