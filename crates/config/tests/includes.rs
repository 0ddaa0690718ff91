//! include / includer / includem / includew / includeb / includea,
//! include_check and -e, on real files in a temporary directory.

use keepalived_config::{parse_file, ParseOptions};
use std::path::PathBuf;

struct Dir(PathBuf);
impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn dir(tag: &str) -> Dir {
    let d = std::env::temp_dir().join(format!("ka-rs-inc-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(d.join("conf.d")).unwrap();
    std::fs::write(d.join("conf.d/a.conf"), "global_defs {\n router_id A\n}\n").unwrap();
    Dir(d)
}

fn run(d: &Dir, main: &str, all_config: bool) -> keepalived_config::Parsed {
    let f = d.0.join("main.conf");
    std::fs::write(&f, main).unwrap();
    let opts = ParseOptions { all_config, ..Default::default() };
    parse_file(f.to_str().unwrap(), &opts)
}

#[test]
fn plain_include_never_fails() {
    let d = dir("plain");
    let p = run(&d, "include conf.d/*.conf\ninclude missing.conf\ninclude nodir/*.conf\n", false);
    assert_eq!(p.config.global.router_id.as_deref(), Some("A"));
    assert!(p.diags.has("Config files missing 'missing.conf'."));
    assert_eq!(p.test_exit_code(), 0);
}

#[test]
fn include_variants_make_misses_fatal() {
    let d = dir("variants");
    // includer: readable only; a missing plain name is "match", not checked.
    assert_eq!(run(&d, "includer missing.conf\n", false).test_exit_code(), 0);
    // includem: a non-wildcard name must exist.
    assert_eq!(run(&d, "includem missing.conf\n", false).test_exit_code(), 6);
    // includew: a wildcard must match something.
    assert_eq!(run(&d, "includew conf.d/*.none\n", false).test_exit_code(), 6);
    assert_eq!(run(&d, "include conf.d/*.none\n", false).test_exit_code(), 0);
    // includeb: every brace alternative must exist.
    assert_eq!(run(&d, "includeb conf.d/{a,b}.conf\n", false).test_exit_code(), 6);
    assert_eq!(run(&d, "include conf.d/{a,b}.conf\n", false).test_exit_code(), 0);
    // includea: all of them.
    assert_eq!(run(&d, "includea conf.d/a.conf\n", false).test_exit_code(), 0);
    assert_eq!(run(&d, "includea missing.conf\n", false).test_exit_code(), 6);
}

#[test]
fn include_check_and_all_config() {
    let d = dir("check");
    let p = run(&d, "global_defs {\n include_check\n}\ninclude missing.conf\n", false);
    assert_eq!(p.test_exit_code(), 6);
    let p = run(
        &d,
        "global_defs {\n include_check wildcard_match\n}\ninclude missing.conf\ninclude conf.d/*.none\n",
        false,
    );
    assert!(p.diags.has("No config files matched 'conf.d/*.none'."));
    assert_eq!(p.test_exit_code(), 6);
    // -e: as include_check with no options.
    assert_eq!(run(&d, "include missing.conf\n", true).test_exit_code(), 6);
    // A missing main file: exit 0 without -e, 4 with it (keepalived's check_conf_file).
    let opts = ParseOptions::default();
    let missing = d.0.join("nope.conf");
    assert_eq!(parse_file(missing.to_str().unwrap(), &opts).test_exit_code(), 0);
    let opts = ParseOptions { all_config: true, ..Default::default() };
    assert_eq!(parse_file(missing.to_str().unwrap(), &opts).test_exit_code(), 4);
}

#[test]
fn include_check_is_restored_after_an_included_file() {
    let d = dir("restore");
    std::fs::write(d.0.join("conf.d/strict.inc"), "global_defs {\n include_check\n}\n").unwrap();
    // The strict setting made inside strict.inc ends with that file.
    let p = run(&d, "include conf.d/strict.inc\ninclude missing.conf\n", false);
    assert_eq!(p.test_exit_code(), 0);
}

#[test]
fn executable_and_directory_matches_are_skipped() {
    use std::os::unix::fs::PermissionsExt;
    let d = dir("exec");
    let x = d.0.join("conf.d/x.conf");
    std::fs::write(&x, "bogus_keyword\n").unwrap();
    std::fs::set_permissions(&x, std::fs::Permissions::from_mode(0o755)).unwrap();
    let p = run(&d, "include conf.d/*.conf\n", false);
    assert!(p.diags.has("is not a regular non-executable file - skipping"));
    assert!(!p.diags.has("bogus_keyword"));
}
