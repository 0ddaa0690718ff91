//! The process umask: `-u` / `umask` parsed as keepalived does, applied
//! before anything is created, and cleared around creations that need an
//! exact mode.

use crate::cli::Cli;
use keepalived_config::model::global::GlobalDefs;
use nix::sys::stat::Mode;

/// keepalived's default umask (`S_IXUSR | S_IRWXG | S_IRWXO`).
pub const DEFAULT_UMASK: u32 = 0o177;

/// Run `f` with the umask bits `keep` cleared (keepalived's
/// `umask(umask_val & ~MODE)` ... `umask(umask_val)` around creations), so
/// the object gets exactly its requested mode.
pub(crate) fn with_umask_cleared<T>(keep: u32, f: impl FnOnce() -> T) -> T {
    let prev = nix::sys::stat::umask(Mode::empty());
    let prev_bits = prev.bits() as u32;
    nix::sys::stat::umask(Mode::from_bits_truncate((prev_bits & !keep) as _));
    let r = f();
    nix::sys::stat::umask(prev);
    r
}

/// keepalived main.c `set_umask`: strtoll base 0 (`0x1f`, `077`, `63`);
/// `None` unless the whole string is a value within 0777.
pub fn parse_umask(s: &str) -> Option<u32> {
    let t = s.trim_start_matches([' ', '\t', '\n', '\r', '\x0b', '\x0c']);
    let t = t.strip_prefix('+').unwrap_or(t);
    if let Some(neg) = t.strip_prefix('-') {
        // "-0" is 0 for strtoll; anything else negative is invalid.
        return (!neg.is_empty() && neg.chars().all(|c| c == '0')).then_some(0);
    }
    let (digits, radix) = if let Some(h) = t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        (h, 16)
    } else if t.len() > 1 && t.starts_with('0') {
        (&t[1..], 8)
    } else {
        (t, 10)
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    let v = u64::from_str_radix(digits, radix).ok()?;
    (v <= 0o777).then_some(v as u32)
}

/// The umask in force: `-u` (when valid) wins over the config's `umask`,
/// else keepalived's default 0177.
pub fn effective_umask(cli: &Cli, global: &GlobalDefs) -> u32 {
    cli.umask.as_deref().and_then(parse_umask).or(global.umask).unwrap_or(DEFAULT_UMASK)
}

/// Apply `-u` / `umask` (command line wins). An invalid `-u` prints
/// keepalived's `Invalid --umask option X` (no newline) to stderr and is
/// ignored.
pub fn apply_umask(cli: &Cli, global: &GlobalDefs) {
    if let Some(u) = &cli.umask {
        if parse_umask(u).is_none() {
            eprint!("Invalid --umask option {u}");
        }
    }
    let m = effective_umask(cli, global);
    nix::sys::stat::umask(Mode::from_bits_truncate(m as _));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::files::test_util::*;

    // ------------------------------------------------------------ umask

    #[test]
    fn umask_parsing() {
        assert_eq!(parse_umask("0177"), Some(0o177));
        assert_eq!(parse_umask("077"), Some(0o77));
        assert_eq!(parse_umask("0x1f"), Some(0x1f));
        assert_eq!(parse_umask("18"), Some(18));
        assert_eq!(parse_umask("0"), Some(0));
        assert_eq!(parse_umask(" 022"), Some(0o22));
        assert_eq!(parse_umask("0777"), Some(0o777));
        assert_eq!(parse_umask("01000"), None);
        assert_eq!(parse_umask("-1"), None);
        assert_eq!(parse_umask("08"), None);
        assert_eq!(parse_umask("22x"), None);
        assert_eq!(parse_umask(""), None);
        assert_eq!(parse_umask("0x"), None);
        assert_eq!(parse_umask("-0"), Some(0));
        assert_eq!(parse_umask("+077"), Some(0o77));
        assert_eq!(parse_umask("0x+5"), None);
        assert_eq!(parse_umask("0+5"), None);
    }

    #[test]
    fn umask_precedence_and_apply() {
        let _g = lock_process();
        let mut g = GlobalDefs::default();
        g.umask = Some(0o027);
        assert_eq!(effective_umask(&Cli::default(), &GlobalDefs::default()), 0o177);
        assert_eq!(effective_umask(&Cli::default(), &g), 0o027);
        let cli = Cli { umask: Some("0002".into()), ..Default::default() };
        assert_eq!(effective_umask(&cli, &g), 0o002);
        // An invalid -u is ignored.
        let bad = Cli { umask: Some("99999".into()), ..Default::default() };
        assert_eq!(effective_umask(&bad, &g), 0o027);
        assert_eq!(effective_umask(&bad, &GlobalDefs::default()), 0o177);

        let prev = nix::sys::stat::umask(Mode::from_bits_truncate(0o022));
        apply_umask(&cli, &g);
        let now = nix::sys::stat::umask(Mode::from_bits_truncate(0o022));
        assert_eq!(now.bits() as u32, 0o002);
        apply_umask(&Cli::default(), &GlobalDefs::default());
        let now = nix::sys::stat::umask(prev);
        assert_eq!(now.bits() as u32, 0o177);
    }
}
