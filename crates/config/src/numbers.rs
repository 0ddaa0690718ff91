//! keepalived's value readers (lib/parser.c `read_int`, `read_unsigned`,
//! `read_decimal_unsigned`, `read_timer`, `check_true_false`) with the same
//! error texts, reported at the current line.
//!
//! Each returns `Some(value)` when keepalived's reader returns true.
//! `ignore_error` mirrors keepalived's parameter: outside `-t` an in-range
//! value with trailing junk is still used (and the message says WARNING).

use crate::diag::Severity;
use crate::engine::Ctx;

/// TIMER_MAXIMUM (ULONG_MAX - 1) in microseconds.
pub const TIMER_MAXIMUM: u64 = u64::MAX - 1;
/// Microseconds per second (TIMER_HZ).
pub const TIMER_HZ: u64 = 1_000_000;

/// strtol/strtoul-like prefix parse: returns (value or overflow, rest).
fn strto(s: &str, signed: bool) -> (Option<i128>, &str, bool) {
    let t = s.trim_start_matches([' ', '\t', '\n', '\r', '\x0B', '\x0C']);
    let b = t.as_bytes();
    let mut i = 0;
    let mut neg = false;
    if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
        neg = b[i] == b'-';
        i += 1;
    }
    let start = i;
    while i < b.len() && b[i].is_ascii_digit() {
        i += 1;
    }
    if i == start {
        // No digits: strtol returns 0 with endptr = the whole string.
        return (Some(0), s, false);
    }
    let digits = &t[start..i];
    let v: Option<i128> = digits.parse::<i128>().ok().map(|v| if neg { -v } else { v });
    let _ = signed;
    (v, &t[i..], neg)
}

/// How one of keepalived's unsigned readers behaves.
struct UnsignedSpec {
    base: u32,
    max_type: u128,
    range_name: &'static str,
    warn_on_range: bool,
}

/// `check_true_false`: on/true/yes → true, off/false/no → false.
pub fn check_true_false(s: &str) -> Option<bool> {
    match s {
        "true" | "on" | "yes" => Some(true),
        "false" | "off" | "no" => Some(false),
        _ => None,
    }
}

impl Ctx {
    fn warn_prefix(&self, ignore_error: bool) -> &'static str {
        if ignore_error && !self.config_test {
            "WARNING - "
        } else {
            ""
        }
    }

    /// `read_int` (base 10).
    pub fn read_int(&mut self, s: &str, min: i32, max: i32, ignore_error: bool) -> Option<i32> {
        let warn = self.warn_prefix(ignore_error);
        let (v, rest, _) = strto(s, true);
        let val = v.unwrap_or(i128::MAX);
        let ok_range = val >= min as i128 && val <= max as i128;
        if !rest.is_empty() {
            self.report(Severity::InvalidNumber, format!("{warn}invalid number '{s}'"));
        } else if v.is_none() || val < i32::MIN as i128 || val > i32::MAX as i128 {
            self.report(Severity::InvalidNumber, format!("{warn}number '{s}' outside integer range"));
        } else if !ok_range {
            self.report(Severity::InvalidNumber, format!("number '{s}' outside range [{min}, {max}]"));
        } else {
            return Some(val as i32);
        }
        if ignore_error && ok_range && !self.config_test {
            Some(val as i32)
        } else {
            None
        }
    }

    /// `read_unsigned` (base 10).
    pub fn read_unsigned(&mut self, s: &str, min: u32, max: u32, ignore_error: bool) -> Option<u32> {
        self.read_unsigned_base(s, 10, min, max, ignore_error)
    }

    /// `read_unsigned_base_strvec`: base 0 accepts 0x/0 prefixes (strtoul).
    pub fn read_unsigned_base(&mut self, s: &str, base: u32, min: u32, max: u32, ignore_error: bool) -> Option<u32> {
        let spec =
            UnsignedSpec { base, max_type: u32::MAX as u128, range_name: "unsigned integer", warn_on_range: true };
        self.read_unsigned_any(s, &spec, min as u128, max as u128, ignore_error).map(|v| v as u32)
    }

    /// `read_unsigned64`.
    pub fn read_unsigned64(&mut self, s: &str, min: u64, max: u64, ignore_error: bool) -> Option<u64> {
        // keepalived's 64-bit reader omits the WARNING prefix on range errors.
        let spec =
            UnsignedSpec { base: 10, max_type: u64::MAX as u128, range_name: "unsigned 64 bit", warn_on_range: false };
        self.read_unsigned_any(s, &spec, min as u128, max as u128, ignore_error).map(|v| v as u64)
    }

    /// keepalived's `read_unsigned_func` / `read_unsigned64_func`.
    fn read_unsigned_any(
        &mut self,
        s: &str,
        spec: &UnsignedSpec,
        min: u128,
        max: u128,
        ignore_error: bool,
    ) -> Option<u128> {
        if let Some(v) = plain_decimal(s, spec.base).filter(|v| *v <= spec.max_type && *v >= min && *v <= max) {
            // The usual well-formed value: what the full path below returns.
            return Some(v);
        }
        let warn = self.warn_prefix(ignore_error);
        let t = s.trim_start_matches([' ', '\t', '\n', '\r', '\x0B', '\x0C']);
        let (val, rest) = parse_unsigned_prefix(t, spec.base);
        let v = val.unwrap_or(u128::MAX);
        let ok_range = v >= min && v <= max;
        if t.starts_with('-') {
            self.report(Severity::InvalidNumber, format!("{warn}negative number '{s}'"));
        } else if !rest.is_empty() {
            self.report(Severity::InvalidNumber, format!("{warn}invalid number '{s}'"));
        } else if val.is_none() || v > spec.max_type {
            self.report(Severity::InvalidNumber, format!("{warn}number '{s}' outside {} range", spec.range_name));
        } else if !ok_range {
            let w = if spec.warn_on_range { warn } else { "" };
            self.report(Severity::InvalidNumber, format!("{w}number '{s}' outside range [{min}, {max}]"));
        } else {
            return Some(v);
        }
        if ignore_error && ok_range && !self.config_test {
            Some(v)
        } else {
            None
        }
    }

    /// `read_decimal_unsigned`: a decimal with at most `shift` decimal
    /// places, returned scaled by 10^shift. `min`/`max` are scaled too.
    pub fn read_decimal(&mut self, s: &str, min: u64, max: u64, shift: u32, ignore_error: bool) -> Option<u64> {
        // Fast path for the usual well-formed value ("3", "0.5"): no
        // allocation. Anything unusual takes keepalived's full path below.
        if let Some(v) = simple_decimal(s, shift) {
            if v >= min && v <= max {
                return Some(v);
            }
        }
        let warn = self.warn_prefix(ignore_error);
        if s.starts_with('-') {
            self.report(Severity::InvalidNumber, format!("{warn}negative number '{s}'"));
            return None;
        }
        let (int_part, frac_part) = match s.find('.') {
            Some(p) => (&s[..p], &s[p + 1..]),
            None => (s, ""),
        };
        // Bytes, as keepalived's C string: the cut may fall inside a multi-byte character (the number
        // is then invalid anyway; a `String` cut there panicked, found by the fuzzer).
        let mut frac = frac_part.as_bytes().to_vec();
        let mut round_up = false;
        if frac.len() > shift as usize {
            self.report(Severity::InvalidNumber, format!("{warn}number '{s}' has too many decimal places"));
            round_up = frac[shift as usize] >= b'5';
            frac.truncate(shift as usize);
        }
        frac.resize(frac.len().max(shift as usize), b'0');
        let digits = format!("{int_part}{}", String::from_utf8_lossy(&frac));
        let t = digits.trim_start_matches([' ', '\t', '\n', '\r', '\x0B', '\x0C']);
        let (val, rest) = parse_unsigned_prefix(t, 10);
        let valid = rest.is_empty() && !t.starts_with('-');
        let mut v = val.unwrap_or(u128::MAX);
        if round_up {
            v = v.saturating_add(1);
        }
        if !valid {
            self.report(Severity::InvalidNumber, format!("{warn}invalid number '{s}'"));
        } else if val.is_none() || v > u64::MAX as u128 {
            self.report(Severity::InvalidNumber, format!("{warn}number '{s}' outside unsigned decimal range"));
            return None;
        } else if v < min as u128 || v > max as u128 {
            let dp = 10u64.pow(shift);
            let w = shift as usize;
            self.report(
                Severity::InvalidNumber,
                format!(
                    "{warn}number '{s}' outside range [{}.{:0w$}, {}.{:0w$}]",
                    min / dp,
                    min % dp,
                    max / dp,
                    max % dp,
                ),
            );
        } else {
            return Some(v as u64);
        }
        if ignore_error && v >= min as u128 && v <= max as u128 {
            Some(v as u64)
        } else {
            None
        }
    }

    /// `read_timer`: seconds with microsecond resolution, returned in µs.
    /// `max_us == 0` means TIMER_MAXIMUM.
    pub fn read_timer(&mut self, s: &str, min_us: u64, max_us: u64, ignore_error: bool) -> Option<u64> {
        let max = if max_us == 0 { TIMER_MAXIMUM } else { max_us };
        self.read_decimal(s, min_us, max, 6, ignore_error)
    }
}

/// `DIGITS[.DIGITS]` with at most `shift` decimals and no overflow, scaled
/// by 10^shift; `None` for anything else.
fn simple_decimal(s: &str, shift: u32) -> Option<u64> {
    let (int_part, frac) = match s.split_once('.') {
        Some((i, f)) => (i, f),
        None => (s, ""),
    };
    if int_part.is_empty() || int_part.len() > 12 || frac.len() > shift as usize {
        return None;
    }
    if !int_part.bytes().all(|c| c.is_ascii_digit()) || !frac.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let mut v: u64 = 0;
    for c in int_part.bytes().chain(frac.bytes()) {
        v = v * 10 + u64::from(c - b'0');
    }
    for _ in frac.len()..shift as usize {
        v = v.checked_mul(10)?;
    }
    Some(v)
}

/// Parse an unsigned prefix in `base` (0 = auto like strtoul). Returns the
/// value (None on overflow) and the unparsed rest. With no digits at all the
/// rest is the whole input (strtoul sets endptr to the start).
/// `s` as a plain decimal number ("80", "0"): only digits, at most 19 of
/// them, read the same in `base` (10, or 0 without a leading zero, which
/// would make it octal). Anything else is `None`, for the full path.
fn plain_decimal(s: &str, base: u32) -> Option<u128> {
    let b = s.as_bytes();
    if b.is_empty() || b.len() > 19 || !(base == 10 || (base == 0 && (b[0] != b'0' || b.len() == 1))) {
        return None;
    }
    b.iter().try_fold(0u128, |v, &c| c.is_ascii_digit().then(|| v * 10 + u128::from(c - b'0')))
}

fn parse_unsigned_prefix(t: &str, base: u32) -> (Option<u128>, &str) {
    let (body, sign_len) = match t.as_bytes().first() {
        Some(b'+') | Some(b'-') => (&t[1..], 1),
        _ => (t, 0),
    };
    let (radix, digits_start) = match base {
        0 => {
            if body.starts_with("0x") || body.starts_with("0X") {
                if body.as_bytes().get(2).is_some_and(|c| c.is_ascii_hexdigit()) {
                    (16, 2)
                } else {
                    (8, 0)
                }
            } else if body.starts_with('0') {
                (8, 0)
            } else {
                (10, 0)
            }
        }
        16 if body.starts_with("0x") || body.starts_with("0X") => (16, 2),
        b => (b, 0),
    };
    let rest = &body[digits_start..];
    let n = rest.bytes().take_while(|c| (*c as char).is_digit(radix)).count();
    if n == 0 {
        return (Some(0), t);
    }
    let v = u128::from_str_radix(&rest[..n], radix).ok();
    let v = if sign_len == 1 && t.starts_with('-') {
        // strtoul of a negative wraps; callers report "negative number".
        v
    } else {
        v
    };
    (v, &rest[n..])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::preproc::{PreprocOptions, Preprocessor};
    use crate::Subsystems;

    fn ctx() -> Ctx {
        let pp = Preprocessor::from_text("t", "", &PreprocOptions::default());
        Ctx::new(pp, Subsystems::all(), true)
    }

    #[test]
    fn ints() {
        let mut c = ctx();
        assert_eq!(c.read_int("-5", -10, 10, false), Some(-5));
        assert_eq!(c.read_int("11", -10, 10, false), None);
        assert!(c.diags.has("number '11' outside range [-10, 10]"));
        assert_eq!(c.read_int("1x", 0, 10, false), None);
        assert!(c.diags.has("invalid number '1x'"));
        assert_eq!(c.read_int("99999999999", 0, 10, false), None);
        assert!(c.diags.has("number '99999999999' outside integer range"));
    }

    #[test]
    fn a_decimal_cut_inside_a_character() {
        // Found by the fuzzer: "1.5é" with 2 decimal places cut the 'é' in two and panicked.
        let mut c = ctx();
        assert_eq!(c.read_decimal("1.5é", 0, 1000, 2, false), None);
        assert!(c.diags.has("number '1.5é' has too many decimal places"));
        assert!(c.diags.has("invalid number '1.5é'"));
        assert_eq!(c.read_decimal("1.5é", 0, 1000, 3, false), None);
    }

    #[test]
    fn unsigneds() {
        let mut c = ctx();
        assert_eq!(c.read_unsigned("255", 1, 255, false), Some(255));
        assert_eq!(c.read_unsigned("-1", 1, 255, false), None);
        assert!(c.diags.has("negative number '-1'"));
        assert_eq!(c.read_unsigned("256", 1, 255, false), None);
        assert!(c.diags.has("number '256' outside range [1, 255]"));
        assert_eq!(c.read_unsigned("99999999999", 0, 10, false), None);
        assert!(c.diags.has("number '99999999999' outside unsigned integer range"));
        assert_eq!(c.read_unsigned_base("0x1f", 0, 0, 100, false), Some(31));
        assert_eq!(c.read_unsigned_base("017", 0, 0, 100, false), Some(15));
    }

    #[test]
    fn decimals_and_timers() {
        let mut c = ctx();
        assert_eq!(c.read_timer("2.71828", 0, 0, false), Some(2_718_280));
        assert_eq!(c.read_timer("0", 1, u32::MAX as u64, false), None);
        assert!(c.diags.has("number '0' outside range [0.000001, 4294.967295]"));
        assert_eq!(c.read_decimal("1.234", 0, 100_000, 2, false), Some(123));
        assert!(c.diags.has("number '1.234' has too many decimal places"));
        assert_eq!(c.read_decimal("1.235", 0, 100_000, 2, true), Some(124));
        assert_eq!(c.read_decimal("abc", 0, 10, 2, false), None);
        assert!(c.diags.has("invalid number 'abc'"));
        assert_eq!(c.read_decimal("-1", 0, 10, 2, false), None);
        assert!(c.diags.has("negative number '-1'"));
        c.read_decimal("300", 1, 25500, 2, false);
        assert!(c.diags.has("number '300' outside range [0.01, 255.00]"));
    }

    #[test]
    fn bools() {
        for t in ["true", "on", "yes"] {
            assert_eq!(check_true_false(t), Some(true));
        }
        for f in ["false", "off", "no"] {
            assert_eq!(check_true_false(f), Some(false));
        }
        assert_eq!(check_true_false("True"), None);
    }
}
