//! SMTP alerts of the VRRP child, end to end, against a real SMTP server
//! (python3-aiosmtpd) in a third lab host:
//!
//! - a two-node cluster (h1 priority 150, h2 100) fails over on SIGTERM;
//!   the mails received (HELO name, envelope, headers but Date, body) are
//!   the same whether the cluster is keepalived 2.2.7 or keepalived-rs;
//! - with the SMTP server blackholed (accepts, never answers) or refused,
//!   the failover time is the protocol's (skew 609 ms, printed and checked
//!   against a generous bound: a loop waiting for SMTP would take seconds)
//!   and each failed mail is logged once, with its reason.
//!
//! Needs root, ../shared/lab, /usr/sbin/keepalived and python3-aiosmtpd.

use keepalived_testkit::peers::{lab_scripts, Lab};
use keepalived_testkit::servers::{spawn, Received, Server, Sink};
use keepalived_testkit::wait_for;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

const OURS: &str = env!("CARGO_BIN_EXE_keepalived");

const KEEPALIVED: &str = "/usr/sbin/keepalived";
const VIP: &str = "198.51.100.77";

fn config(port: u16) -> String {
    format!(
        "global_defs {{
    @h1 router_id rid-h1
    @h2 router_id rid-h2
    notification_email {{
        ops@example.org
        noc@example.org
    }}
    notification_email_from keepalived@example.org
    smtp_server 198.51.100.3 {port}
    smtp_helo_name lab-mail
    smtp_connect_timeout 2
    smtp_alert
    vrrp_garp_master_delay 1
    vrrp_garp_master_refresh 0
}}
vrrp_instance VI_MAIL {{
    state BACKUP
    interface eth0
    virtual_router_id 77
    @h1 priority 150
    @h2 priority 100
    advert_int 1
    virtual_ipaddress {{
        {VIP}/24
    }}
}}
"
    )
}

/// Headers without the Date value, and the body: the comparable part of a mail.
fn comparable(m: &Received) -> String {
    m.data.lines().filter(|l| !l.starts_with("Date: ")).collect::<Vec<_>>().join("\n")
}

/// The SMTP server in lab host 3.
fn sink(lab: &Lab, port: u16) -> Sink {
    Sink::start_at(&format!("smtp-{port}"), Some(&lab.ns(3)), &format!("198.51.100.3:{port}"), false)
}

/// What the sink received, in a stable order.
fn mails(sink: &Sink) -> Vec<Received> {
    let mut v = sink.messages();
    v.sort_by(|a, b| (&a.helo, &a.mail_from, &a.rcpt_tos, &a.data).cmp(&(&b.helo, &b.mail_from, &b.rcpt_tos, &b.data)));
    v
}

/// A server in lab host 3 that accepts connections and never says a word.
fn silent_server(lab: &Lab, port: u16) -> Server {
    let prog = format!(
        "import socket,time\ns=socket.socket()\ns.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1)\n\
         s.bind(('198.51.100.3',{port}))\ns.listen(16)\nkeep=[]\nwhile True:\n    c,_=s.accept()\n    keep.append(c)\n"
    );
    let s = spawn("ip", &["netns", "exec", &lab.ns(3), "/usr/bin/python3", "-c", &prog]);
    let ns = lab.ns(3);
    let ok = wait_for(Duration::from_secs(15), || {
        Command::new("ip")
            .args(["netns", "exec", &ns, "ss", "-Hltn", &format!("sport = :{port}")])
            .output()
            .is_ok_and(|o| !o.stdout.is_empty())
    });
    assert!(ok, "the blackhole on h3:{port} did not start");
    s
}

/// Run the two-node failover with `bin` on both nodes: the kill → VIP on
/// h2 time (SIGTERM of h1) and the daemon logs.
fn failover(lab: &Lab, bin: &str, conf: &Path) -> (Duration, String, String) {
    lab.start_ka(1, bin, conf);
    assert!(wait_for(Duration::from_secs(10), || lab.has_addr(1, VIP)), "h1 never master:\n{}", lab.ka_log(1));
    lab.start_ka(2, bin, conf);
    std::thread::sleep(Duration::from_millis(2500));
    // SIGTERM straight to h1's parent: ka.sh stop would wait for the exit
    // (which waits for the STOP mails) before we start the clock's check.
    let pid = lab.ka_parent_pid(1).expect("h1's pid");
    let t0 = Instant::now();
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), nix::sys::signal::Signal::SIGTERM).unwrap();
    assert!(wait_for(Duration::from_secs(10), || lab.has_addr(2, VIP)), "h2 never took over:\n{}", lab.ka_log(2));
    let took = t0.elapsed();
    lab.stop_ka(1, "TERM");
    std::thread::sleep(Duration::from_millis(1500));
    lab.stop_ka(2, "TERM");
    std::thread::sleep(Duration::from_millis(500));
    (took, lab.ka_log(1), lab.ka_log(2))
}

#[test]
fn failover_mails_match_keepalived_and_a_dead_relay_changes_nothing() {
    let scripts = lab_scripts(&[KEEPALIVED, "ss", "/usr/bin/python3"]);
    keepalived_testkit::prereq::require_python("aiosmtpd");
    let lab = Lab::up(&scripts, "smtp", 3);

    // 1. The same failover under both implementations, each with its own server.
    let mut received = Vec::new();
    for (tag, bin, port) in [("keepalived 2.2.7", KEEPALIVED, 2525u16), ("keepalived-rs", OURS, 2526)] {
        let server = sink(&lab, port);
        let conf = lab.run.join(format!("mail-{port}.conf"));
        std::fs::write(&conf, config(port)).unwrap();
        let (took, log1, log2) = failover(&lab, bin, &conf);
        // h1: BACKUP, MASTER, Stopping; h2: BACKUP, MASTER, Stopping.
        wait_for(Duration::from_secs(10), || mails(&server).len() >= 6);
        let mails = mails(&server);
        println!("{tag}: SIGTERM failover {} ms, {} mails", took.as_millis(), mails.len());
        for m in &mails {
            println!("  {}", m.data.lines().find(|l| l.starts_with("Subject:")).unwrap_or(""));
        }
        assert!(!mails.is_empty(), "{tag} sent no mail:\nh1:\n{log1}\nh2:\n{log2}");
        received.push(mails);
    }
    let (theirs, ours) = (&received[0], &received[1]);
    let view = |v: &[Received]| {
        let mut x: Vec<(String, String, Vec<String>, String)> =
            v.iter().map(|m| (m.helo.clone(), m.mail_from.clone(), m.rcpt_tos.clone(), comparable(m))).collect();
        x.sort();
        x
    };
    // keepalived 2.2.7 says HELO, we EHLO with the same name (STARTTLS
    // needs EHLO); the aiosmtpd handler records the name either way.
    // keepalived 2.2.7 queues its "Stopping" mails but exits before they
    // leave; keepalived-rs delivers them (docs/compat.md). Everything else
    // must be the same.
    let not_stop = |v: &[Received]| v.iter().filter(|m| !m.data.contains(" - Stopping")).cloned().collect::<Vec<_>>();
    assert_eq!(view(&not_stop(ours)), view(&not_stop(theirs)), "the mails differ");
    assert_eq!(ours.len() - not_stop(ours).len(), 2, "one Stopping mail per node expected");

    // 2. A relay that never answers, then a refused port: failover as usual.
    for (what, blackhole, port) in [("blackholed relay", true, 2527u16), ("refused port", false, 2528)] {
        let _server = blackhole.then(|| silent_server(&lab, port));
        let conf = lab.run.join(format!("dead-{port}.conf"));
        std::fs::write(&conf, config(port)).unwrap();
        let (took, log1, log2) = failover(&lab, OURS, &conf);
        println!("{what}: SIGTERM failover {} ms (protocol: 609 ms skew)", took.as_millis());
        assert!(took < Duration::from_millis(1500), "{what}: failover took {took:?}:\n{log2}");
        for (h, log) in [("h1", &log1), ("h2", &log2)] {
            let failures: Vec<&str> = log.lines().filter(|l| l.contains("SMTP alert not sent")).collect();
            println!("  {h}: {} failure lines", failures.len());
            for f in &failures {
                println!("    {f}");
            }
            // Each mail fails once: the same subject is never reported twice.
            let mut subjects: Vec<&str> = failures.iter().filter_map(|l| l.split("subject=").nth(1)).collect();
            let n = subjects.len();
            subjects.sort();
            subjects.dedup();
            assert_eq!(subjects.len(), n, "{what}: a failure was logged twice on {h}:\n{log}");
            if !blackhole {
                assert!(!failures.is_empty(), "{what}: no failure logged on {h}:\n{log}");
                assert!(
                    failures.iter().all(|l| l.to_lowercase().contains("refused")),
                    "{what}: the reason is missing on {h}:\n{log}"
                );
            }
        }
    }
}
