//! Deterministic randomness from the engine's seed: discriminators and transmit jitter.

/// SplitMix64 (small, fast, good enough for jitter and discriminators; not cryptographic).
#[derive(Clone, Debug)]
pub(crate) struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `lo..=hi` (`lo` when `hi < lo`).
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        if hi <= lo {
            return lo;
        }
        lo + self.next_u64() % (hi - lo + 1)
    }

    /// A transmit interval for `interval_us`: 75-100 % of it, 75-90 % when Detect Mult is 1
    /// (RFC 5880 §6.8.7). Never 0.
    pub fn jitter(&mut self, interval_us: u32, detect_mult: u8) -> u64 {
        jitter_window(interval_us, detect_mult).map_or(1, |(lo, hi)| self.range(lo, hi).max(1))
    }
}

/// The inclusive window [`Rng::jitter`] draws from, µs.
pub fn jitter_window(interval_us: u32, detect_mult: u8) -> Option<(u64, u64)> {
    let i = u64::from(interval_us);
    if i == 0 {
        return None;
    }
    let lo = (i * 3).div_ceil(4);
    let hi = if detect_mult == 1 { i * 9 / 10 } else { i };
    Some((lo, hi.max(lo)))
}
