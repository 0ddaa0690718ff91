//! Derived configurations for the differential `-t` test (issue 14 item 6):
//! every keyword of our keyword tree with a missing, malformed and
//! out-of-range value, placed in a minimal valid configuration of its block,
//! plus the hand-written validation cases of tests/data/config-derived.conf.
//! Each case is run through both binaries' `-t` in one network namespace.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use keepalived_testkit::netns::samples_setup;

use keepalived_config::engine::Kind;

pub struct Case {
    pub name: String,
    pub text: String,
    /// The keyword the case is about (None for hand-written cases).
    pub keyword: Option<&'static str>,
}

/// An instance that gives no message of its own.
const BASE_VRRP: &str = "vrrp_instance VI_1 {\n  interface eth0\n  virtual_router_id 51\n  priority 100\n  \
                         virtual_ipaddress {\n    10.9.9.9\n  }\n@@INST@@}\n";

/// Values tried for each value keyword: missing, malformed, negative, zero,
/// too large for any of keepalived's ranges, a decimal, just past the
/// common 1..255 and u32 ranges, hexadecimal, and an extra word.
const VALUES: &[(&str, &str)] = &[
    ("none", ""),
    ("word", " bad"),
    ("neg", " -1"),
    ("zero", " 0"),
    ("huge", " 99999999999"),
    ("dec", " 1.5"),
    ("256", " 256"),
    ("u32", " 4294967296"),
    ("hex", " 0x10"),
    ("extra", " 1 extra"),
];
/// Values tried for each script keyword.
const SCRIPTS: &[(&str, &str)] = &[("none", ""), ("missing", " /nonexistent/ka-derived.sh")];
/// Entries tried in each list keyword's block.
const ITEMS: &[(&str, &str)] = &[("empty", ""), ("word", "    bad\n"), ("addr", "    10.0.0.1/33\n")];

/// The configuration that holds `line` in the block at `path` (a path of
/// our keyword tree); None for blocks not placed here.
fn place(path: &[&str], line: &str) -> Option<String> {
    let inst = |extra: &str| BASE_VRRP.replace("@@INST@@", extra);
    let rs = |body: &str| {
        format!(
            "virtual_server 10.1.0.1 80 {{\n  protocol TCP\n  lb_algo rr\n  lb_kind NAT\n  \
             real_server 10.1.0.2 80 {{\n{body}  }}\n}}\n"
        )
    };
    let checker = |name: &str, base: &str, inner: &str| rs(&format!("    {name} {{\n{base}{inner}    }}\n"));
    Some(match path {
        [] => format!("{line}\n{}", inst("")),
        ["global_defs"] => format!("global_defs {{\n{line}\n}}\n{}", inst("")),
        ["vrrp_instance"] => inst(&format!("{line}\n")),
        ["vrrp_instance", "authentication"] => inst(&format!("  authentication {{\n{line}\n  }}\n")),
        ["vrrp_sync_group"] => format!(
            "{}{}vrrp_sync_group G1 {{\n  group {{\n    VI_1\n    VI_2\n  }}\n{line}\n}}\n",
            inst(""),
            inst("").replace("VI_1", "VI_2").replace(" 51\n", " 52\n").replace("10.9.9.9", "10.9.9.8")
        ),
        ["vrrp_script"] => {
            format!("vrrp_script S1 {{\n  script /bin/true\n{line}\n}}\n{}", inst("  track_script {\n    S1\n  }\n"))
        }
        ["track_file" | "vrrp_track_file"] => format!(
            "{} F1 {{\n  file /tmp/ka-derived-f1\n{line}\n}}\n{}",
            path[0],
            inst("  track_file {\n    F1\n  }\n")
        ),
        ["vrrp_track_process"] => format!(
            "vrrp_track_process P1 {{\n  process init\n{line}\n}}\n{}",
            inst("  track_process {\n    P1\n  }\n")
        ),
        ["garp_group"] => format!("garp_group {{\n  interface eth0\n{line}\n}}\n{}", inst("")),
        ["track_group"] => format!("track_group TG {{\n{line}\n}}\n{}", inst("")),
        ["SSL"] => format!("SSL {{\n{line}\n}}\n{}", inst("")),
        ["bfd_instance"] => format!("bfd_instance B1 {{\n  neighbor_ip 10.1.0.2\n{line}\n}}\n{}", inst("")),
        ["virtual_server"] => {
            rs("    TCP_CHECK {\n    }\n").replace("  real_server", &format!("{line}\n  real_server"))
        }
        ["virtual_server", "real_server"] => rs(&format!("{line}\n    TCP_CHECK {{\n    }}\n")),
        ["virtual_server", "real_server", c @ ("HTTP_GET" | "SSL_GET")] => {
            checker(c, "      url {\n        path /\n      }\n", &format!("{line}\n"))
        }
        ["virtual_server", "real_server", c @ ("HTTP_GET" | "SSL_GET"), "url"] => {
            checker(c, "", &format!("      url {{\n        path /\n{line}\n      }}\n"))
        }
        ["virtual_server", "real_server", "SMTP_CHECK", "host"] => {
            checker("SMTP_CHECK", "", &format!("      host {{\n        connect_ip 10.1.0.2\n{line}\n      }}\n"))
        }
        ["virtual_server", "real_server", "MISC_CHECK"] => {
            checker("MISC_CHECK", "      misc_path /bin/true\n", &format!("{line}\n"))
        }
        ["virtual_server", "real_server", "FILE_CHECK"] => format!(
            "track_file F1 {{\n  file /tmp/ka-derived-f1\n}}\n{}",
            checker("FILE_CHECK", "      track_file F1\n", &format!("{line}\n"))
        ),
        ["virtual_server", "real_server", "BFD_CHECK"] => format!(
            "bfd_instance B1 {{\n  neighbor_ip 10.1.0.2\n}}\n{}",
            checker("BFD_CHECK", "      name B1\n", &format!("{line}\n"))
        ),
        ["virtual_server", "real_server", c] => checker(c, "", &format!("{line}\n")),
        _ => return None,
    })
}

/// One case per keyword and value of our keyword tree.
pub fn generated() -> Vec<Case> {
    let mut cases = Vec::new();
    keepalived_config::keywords::walk(|path, kw| {
        let variants: Vec<(String, String)> = match &kw.kind {
            Kind::Value(_) => VALUES.iter().map(|(n, v)| (n.to_string(), format!("  {}{v}", kw.name))).collect(),
            Kind::Script(_) => SCRIPTS.iter().map(|(n, v)| (n.to_string(), format!("  {}{v}", kw.name))).collect(),
            Kind::List { .. } => {
                ITEMS.iter().map(|(n, v)| (n.to_string(), format!("  {} {{\n{v}  }}", kw.name))).collect()
            }
            Kind::Block { .. } => Vec::new(),
        };
        for (vname, line) in variants {
            if let Some(text) = place(path, &line) {
                let mut p = path.join(">");
                if !p.is_empty() {
                    p.push('>');
                }
                cases.push(Case { name: format!("{p}{}={vname}", kw.name), text, keyword: Some(kw.name) });
            }
        }
    });
    cases
}

/// The hand-written cases: `=== NAME` lines, each followed by a whole
/// configuration.
pub fn hand_written(file: &Path) -> Vec<Case> {
    let text = std::fs::read_to_string(file).unwrap_or_default();
    let mut cases: Vec<Case> = Vec::new();
    for line in text.lines() {
        if let Some(name) = line.strip_prefix("=== ") {
            cases.push(Case { name: name.trim().to_string(), text: String::new(), keyword: None });
        } else if let Some(c) = cases.last_mut() {
            c.text.push_str(line);
            c.text.push('\n');
        }
    }
    cases
}

/// What one binary printed and returned for one case.
pub struct Outcome {
    pub rc: i32,
    pub out: String,
}

/// `-t` on every case in DIR ($1) with BIN ($2), outputs tagged TAG ($3).
const RUN_ALL: &str = r#"cd "$1"
for f in c*.conf; do
  timeout 20 "$2" -t -f "$1/$f" >"$1/$f.$3.out" 2>&1 </dev/null
  echo $? >"$1/$f.$3.rc"
done
"#;

/// Runs `bin -t` on every case (written as DIR/cNNNN.conf) in one
/// throw-away network namespace set up as for the sample test.
pub fn run_all(bin: &str, dir: &Path, tag: &str, n: usize) -> Vec<Outcome> {
    let st = Command::new("timeout")
        .args(["3000", "unshare", "-n", "bash", "-c"])
        .arg(samples_setup(&["eth0", "eth1", "eth2", "eth3"]) + RUN_ALL)
        .arg("_")
        .arg(dir)
        .arg(bin)
        .arg(tag)
        .status()
        .expect("run keepalived -t");
    assert!(st.success(), "the -t runner failed: {st}");
    read_all(dir, tag, n)
}

/// The results of an earlier `run_all`.
pub fn read_all(dir: &Path, tag: &str, n: usize) -> Vec<Outcome> {
    (0..n)
        .map(|i| {
            let rc = std::fs::read_to_string(dir.join(format!("c{i:04}.conf.{tag}.rc")))
                .ok()
                .and_then(|s| s.trim().parse().ok())
                .unwrap_or(-1);
            let out = std::fs::read_to_string(dir.join(format!("c{i:04}.conf.{tag}.out"))).unwrap_or_default();
            Outcome { rc, out }
        })
        .collect()
}

/// The distinct non-empty lines, normalised by `strip`.
pub fn message_set(out: &str, strip: fn(&str) -> String) -> BTreeSet<String> {
    out.lines().map(|l| strip(l).trim_end().to_string()).filter(|l| !l.trim().is_empty()).collect()
}
