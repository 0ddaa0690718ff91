//! `vrrp_track_process` against the real kernel: a [`ProcMonitor`] in a mio
//! loop sees processes of a uniquely named copy of `sleep` start, get
//! renamed and die. Needs root (the proc connector only accepts
//! subscriptions from `CAP_NET_ADMIN`); fails otherwise.

use keepalived_config::diag::FileId;
use keepalived_config::model::Weight;
use keepalived_config::vrrp::model::{ParamMatch, TrackProcess};
use keepalived_config::Origin;
use keepalived_netlink::procmon::{ProcMonError, ProcMonitor};
use keepalived_testkit::in_netns;
use keepalived_testkit::netns::inside;
use keepalived_testkit::require;
use mio::{Events, Interest, Poll, Token};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn track(name: &str, process: &str) -> TrackProcess {
    TrackProcess {
        name: name.into(),
        origin: Origin::new(FileId::intern("procmon-test.conf"), 1, 1),
        process: Some(process.into()),
        params: Vec::new(),
        param_match: None,
        weight: Weight::default(),
        quorum: 1,
        quorum_max: u32::MAX,
        terminate_delay_us: 0,
        fork_delay_us: 0,
        full_command: false,
    }
}

/// A copy of `sleep` under a name no other process of this machine has,
/// so that parallel builds and tests cannot disturb the counts.
struct Program {
    dir: PathBuf,
    /// Its file name, hence the `comm` of its processes (< 16 bytes).
    name: String,
    path: PathBuf,
}

impl Program {
    /// `tag`: one letter per test, as the tests of this binary run at once.
    fn new(tag: char) -> Program {
        let name = format!("kapm{}{tag}", std::process::id() % 1_000_000);
        let dir = std::env::temp_dir().join(format!("ka-procmon-it-{}{tag}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(&name);
        std::fs::copy("/bin/sleep", &path).unwrap();
        Program { dir, name, path }
    }

    fn spawn(&self, args: &[&str]) -> Child {
        Command::new(&self.path).args(args).spawn().unwrap()
    }
}

impl Drop for Program {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn stop(mut c: Child) {
    let _ = c.kill();
    let _ = c.wait();
}

/// The monitor in a mio loop, with every change recorded.
struct Harness {
    poll: Poll,
    events: Events,
    mon: ProcMonitor,
    state: BTreeMap<String, bool>,
    log: Vec<(String, bool, Instant)>,
}

impl Harness {
    fn new(tracks: &[TrackProcess]) -> Harness {
        let poll = Poll::new().unwrap();
        let mut initial = Vec::new();
        let mut mon = ProcMonitor::new(tracks, Some(1024 * 1024), true, &mut initial).unwrap();
        poll.registry().register(&mut mon, Token(0), Interest::READABLE).unwrap();
        let mut h = Harness { poll, events: Events::with_capacity(8), mon, state: BTreeMap::new(), log: Vec::new() };
        h.record(initial);
        h
    }

    fn record(&mut self, changes: Vec<(String, bool)>) {
        let now = Instant::now();
        for (name, up) in changes {
            assert_ne!(self.state.get(&name), Some(&up), "{name} reported {up} twice in a row");
            self.state.insert(name.clone(), up);
            self.log.push((name, up, now));
        }
    }

    /// One wait for the monitor's socket. A signal (the children the test starts and reaps) may
    /// interrupt it: that is an empty wake-up, as in the daemon's loop.
    fn poll_once(&mut self, timeout: Duration) {
        match self.poll.poll(&mut self.events, Some(timeout)) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => self.events.clear(),
            Err(e) => panic!("poll: {e}"),
        }
    }

    /// Run the loop until `want` holds (each tracker named has the given
    /// state) or 10 s pass.
    fn wait_step(&mut self, step: &str, want: &[(&str, bool)]) {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if want.iter().all(|(n, up)| self.state.get(*n) == Some(up)) {
                return;
            }
            let now = Instant::now();
            assert!(now < deadline, "{step}: wanted {want:?}, have {:?} (log {:?})", self.state, self.log);
            let mut timeout = deadline - now;
            if let Some(t) = self.mon.poll_timeout() {
                timeout = timeout.min(t.saturating_duration_since(now));
            }
            self.poll_once(timeout);
            let now = Instant::now();
            let mut changes = Vec::new();
            self.mon.read(now, &mut changes).unwrap();
            self.mon.on_timeout(now, &mut changes);
            self.record(changes);
        }
    }

    /// Keep the loop running for `d`, so that a wrong report would show.
    fn settle(&mut self, d: Duration) {
        let end = Instant::now() + d;
        while Instant::now() < end {
            self.poll_once(Duration::from_millis(20));
            let now = Instant::now();
            let mut changes = Vec::new();
            self.mon.read(now, &mut changes).unwrap();
            self.mon.on_timeout(now, &mut changes);
            self.record(changes);
        }
    }

    fn count(&self, name: &str) -> u32 {
        self.mon.tracker().count(name).unwrap()
    }
}

#[test]
fn processes_start_are_renamed_and_die() {
    if inside() {
        return; // the run under `unshare -n` is for in_other_netns only
    }
    require(&[]);
    let prog = Program::new('a');
    let name = prog.name.clone();
    let argv0 = format!("{name}arg");
    let renamed = format!("{name}ren");

    let single = track("single", &name);
    let mut two = track("two", &name);
    two.quorum = 2;
    let mut never = track("never", &name);
    never.quorum = 0;
    never.quorum_max = 0;
    let mut delayed = track("delayed", &name);
    delayed.terminate_delay_us = 300_000;
    let mut args = track("args", prog.path.to_str().unwrap());
    args.params = vec!["30".into()];
    args.param_match = Some(ParamMatch::Exact);
    args.full_command = true;
    let mut exec_a = track("exec_a", &argv0);
    exec_a.full_command = true;
    let rename = track("rename", &renamed);

    let mut h = Harness::new(&[single, two, never, delayed, args, exec_a, rename]);
    // Initial states, without any delay.
    assert_eq!(
        h.log.iter().map(|(n, u, _)| (n.as_str(), *u)).collect::<Vec<_>>(),
        vec![
            ("single", false),
            ("two", false),
            ("never", true),
            ("delayed", false),
            ("args", false),
            ("exec_a", false),
            ("rename", false)
        ]
    );

    // One process: quorum 1 reached, quorum_max 0 exceeded. Started by its
    // full path with "30": the exact parameter tracker counts it too.
    let a = prog.spawn(&["30"]);
    h.wait_step("first process", &[("single", true), ("never", false), ("delayed", true), ("args", true)]);
    assert!(!h.state["two"]);
    assert!(h.mon.kernel_answer() == Some(0), "the kernel answered the subscription");

    // A second one, with other parameters: quorum 2 reached; the exact
    // parameter tracker does not count it.
    let b = prog.spawn(&["31"]);
    h.wait_step("second process", &[("two", true)]);
    assert_eq!((h.count("single"), h.count("args")), (2, 1));

    stop(a);
    h.wait_step("first killed", &[("two", false), ("args", false)]);
    assert!(h.state["single"]);

    // The last one: down at once, except `delayed` (terminate_delay 0.3 s).
    stop(b);
    h.wait_step("second killed", &[("single", false), ("never", true)]);
    let single_down = h.log.iter().rev().find(|(n, u, _)| n == "single" && !u).unwrap().2;
    assert!(h.state["delayed"]);
    h.wait_step("terminate delay", &[("delayed", false)]);
    let delayed_down = h.log.iter().rev().find(|(n, u, _)| n == "delayed" && !u).unwrap().2;
    let waited = delayed_down - single_down;
    assert!(waited >= Duration::from_millis(250), "terminate_delay honoured: {waited:?}");

    // `exec -a`: another argv[0], the same comm.
    let c = Command::new("bash").args(["-c", &format!("exec -a {argv0} {} 30", prog.path.display())]).spawn().unwrap();
    h.wait_step("exec -a", &[("exec_a", true), ("single", true)]);
    assert!(!h.state["args"], "argv[0] differs from the configured path");
    stop(c);
    h.wait_step("exec -a killed", &[("exec_a", false), ("single", false), ("delayed", false)]);

    // A process renaming itself (writing /proc/self/comm): a shell waiting
    // on its input, so that it forks nothing.
    let mut d = Command::new("sh")
        .args(["-c", &format!("printf {renamed} > /proc/$$/comm; read x")])
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    h.wait_step("renamed", &[("rename", true)]);
    assert_eq!(h.count("rename"), 1);
    d.stdin.take().unwrap().write_all(b"\n").unwrap();
    d.wait().unwrap();
    h.wait_step("renamed process ended", &[("rename", false)]);

    // A process in another network namespace is seen all the same: events
    // are global, only the listening socket must be in the initial one.
    let e = Command::new("unshare").args(["-n", prog.path.to_str().unwrap(), "30"]).spawn().unwrap();
    h.wait_step("process in another netns", &[("single", true)]);
    stop(e);
    h.wait_step("process in another netns killed", &[("single", false)]);

    // A reload with other trackers: counted again from /proc at once.
    let f = prog.spawn(&["30"]);
    h.wait_step("before reload", &[("single", true)]);
    let mut after = Vec::new();
    h.mon.reload(&[track("reloaded", &name), track("other", "kapm-nothing")], &mut after);
    assert_eq!(after, vec![("reloaded".to_string(), true), ("other".to_string(), false)]);
    assert_eq!(h.mon.tracker().count("single"), None);
    h.state.clear();
    h.record(after);
    stop(f);
    h.wait_step("after reload", &[("reloaded", false)]);

    h.settle(Duration::from_millis(400));
    assert_eq!(h.mon.tracker().pids().count(), 0);
    let stats = h.mon.stats();
    assert!(stats.events > 0 && stats.overflows == 0, "{stats:?}");
}

/// The monitor cannot subscribe from another network namespace: checked by
/// re-running this test binary under `unshare -n`.
#[test]
fn refused_outside_the_initial_network_namespace() {
    in_netns("refused_outside_the_initial_network_namespace", &[], || {
        let mut out = Vec::new();
        match ProcMonitor::new(&[track("x", "x")], None, false, &mut out) {
            Err(ProcMonError::Subscribe(e)) => {
                assert_eq!(e.raw_os_error(), Some(111), "ECONNREFUSED expected, got {e}");
                let text = ProcMonError::Subscribe(e).to_string();
                println!("in another netns: {text}");
                assert!(text.contains("only delivered in the initial network namespace"), "{text}");
            }
            Ok(_) => panic!("the proc connector accepted a subscription from another network namespace"),
            Err(e) => panic!("unexpected error: {e}"),
        }
    });
}

/// Lost events (a receive buffer too small for a burst): as keepalived,
/// count again from /proc one second later, with a bigger buffer.
#[test]
fn lost_events_lead_to_a_rescan() {
    if inside() {
        return;
    }
    require(&[]);
    let prog = Program::new('b');
    let mut initial = Vec::new();
    // The kernel rounds this up to its minimum (a few KiB): room for a few
    // dozen events.
    let mut mon = ProcMonitor::new(&[track("t", &prog.name)], Some(1), false, &mut initial).unwrap();
    assert_eq!(initial, vec![("t".to_string(), false)]);
    let before = mon.receive_buffer().unwrap();
    // Not reading while this process starts among a burst of others.
    let keep = prog.spawn(&["30"]);
    for _ in 0..200 {
        Command::new("true").status().unwrap();
    }
    let mut changes = Vec::new();
    let now = Instant::now();
    mon.read(now, &mut changes).unwrap();
    assert!(mon.stats().overflows >= 1, "no overflow: {:?}", mon.stats());
    let due = mon.poll_timeout().expect("a rescan is scheduled");
    assert!(due >= now + Duration::from_millis(900), "rescan after about a second");
    mon.on_timeout(due, &mut changes);
    assert_eq!(mon.stats().rescans, 1);
    assert!(mon.receive_buffer().unwrap() > before, "the receive buffer grew");
    assert_eq!(mon.tracker().count("t"), Some(1));
    assert_eq!(mon.tracker().is_up("t"), Some(true));
    // Whether the start was seen as an event or found by the rescan, it is
    // reported once.
    assert_eq!(changes, vec![("t".to_string(), true)]);
    stop(keep);
}
