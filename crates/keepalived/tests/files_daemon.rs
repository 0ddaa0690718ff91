//! `daemon::daemonize()` forks without exec, which keepalived-sys allows
//! only in a single-threaded process; libtest runs every test on a thread,
//! so this test has its own `main` (`harness = false`) and re-executes
//! itself as the process to daemonize.

#[allow(dead_code)]
#[path = "../src/daemon.rs"]
mod daemon;

use std::path::Path;
use std::time::{Duration, Instant};

const REPORT_ENV: &str = "KA_RS_DAEMONIZE_REPORT";

/// The process to daemonize: reports what the daemon sees.
fn helper(report: &Path) {
    let before = std::process::id();
    if !keepalived_sys::ensure_single_threaded() {
        std::fs::write(report, "multi-threaded\n").unwrap();
        return;
    }
    daemon::daemonize().expect("daemonize");
    // From here on we are the daemon: stdout/stderr are /dev/null.
    let me = nix::unistd::getpid();
    let sid = nix::unistd::getsid(None).unwrap();
    let link = |fd: u32| std::fs::read_link(format!("/proc/self/fd/{fd}")).unwrap().display().to_string();
    let text = format!(
        "before={before}\npid={me}\nsid={sid}\nppid_changed={}\ncwd={}\nfd0={}\nfd1={}\nfd2={}\ndone\n",
        nix::unistd::getppid().as_raw() as u32 != before,
        std::env::current_dir().unwrap().display(),
        link(0),
        link(1),
        link(2)
    );
    let tmp = report.with_extension("tmp");
    std::fs::write(&tmp, text).unwrap();
    std::fs::rename(&tmp, report).unwrap();
}

fn daemonize_detaches() {
    let dir = std::env::temp_dir().join(format!("ka-rs-files-daemon-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let report = dir.join("report");
    let st = std::process::Command::new(std::env::current_exe().unwrap())
        .env(REPORT_ENV, &report)
        .stdin(std::process::Stdio::null())
        .status()
        .unwrap();
    // The original process exits 0 at once.
    assert!(st.success(), "{st:?}");
    let deadline = Instant::now() + Duration::from_secs(10);
    let text = loop {
        if let Ok(t) = std::fs::read_to_string(&report) {
            break t;
        }
        assert!(Instant::now() < deadline, "the daemon did not report");
        std::thread::sleep(Duration::from_millis(20));
    };
    let _ = std::fs::remove_dir_all(&dir);
    assert_ne!(text, "multi-threaded\n", "the helper process had threads");
    let field = |k: &str| text.lines().find_map(|l| l.strip_prefix(k)).unwrap_or_else(|| panic!("{k} in {text}"));
    assert_ne!(field("pid="), field("before="), "runs in a forked child");
    assert_eq!(field("sid="), field("pid="), "session leader");
    assert_eq!(field("ppid_changed="), "true", "waited for the original process to exit");
    assert_eq!(field("cwd="), "/");
    for fd in ["fd0=", "fd1=", "fd2="] {
        assert_eq!(field(fd), "/dev/null", "{fd}");
    }
}

fn main() {
    if let Some(report) = std::env::var_os(REPORT_ENV) {
        helper(Path::new(&report));
        return;
    }
    // `cargo test -- --list` and filters: only one test here.
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "--list") {
        println!("daemonize_detaches: test");
        return;
    }
    if let Some(filter) = args.iter().find(|a| !a.starts_with('-')) {
        if !"daemonize_detaches".contains(filter.as_str()) {
            println!(
                "\nrunning 0 tests\n\ntest result: ok. 0 passed; 0 failed; 0 ignored; 0 measured; 1 filtered out\n"
            );
            return;
        }
    }
    println!("\nrunning 1 test");
    daemonize_detaches();
    println!("test daemonize_detaches ... ok\n\ntest result: ok. 1 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out\n");
}
