//! The mail keepalived 2.2.7 sends when an instance becomes MASTER, and
//! ours for the same transition, received by the same SMTP server: same
//! envelope, same headers except the Date value, same body.
//!
//! Needs root, /usr/sbin/keepalived, `ip` and python3-aiosmtpd; fails
//! otherwise. keepalived and its SMTP server run in a network namespace of
//! their own (a testkit node: eth0, one end of a veth pair, with an address).

mod common;

use std::time::Duration;

use common::*;
use keepalived_alert::{Alert, AlertSender, AlertState};
use keepalived_testkit::netns::Node;
use keepalived_testkit::prereq::KEEPALIVED;
use keepalived_testkit::require;
use keepalived_testkit::servers::{free_port, Received, Sink};
use keepalived_testkit::wait_for;

// keepalived 2.2.7 sends `RCPT TO:<Name <addr>>` for a `Name <addr>`
// recipient, which the server refuses (501): plain addresses only here.
const RECIPIENTS: [&str; 2] = ["ops@example.org", "night@example.org"];

fn config(port: u16) -> String {
    format!(
        r#"global_defs {{
    router_id lb1
    notification_email {{
        ops@example.org
        night@example.org
    }}
    notification_email_from keepalived@lb1.example.org
    smtp_server 127.0.0.1 {port}
    smtp_helo_name lb1.example.org
    smtp_connect_timeout 5
}}

vrrp_instance VI_1 {{
    state BACKUP
    interface eth0
    virtual_router_id 51
    priority 100
    advert_int 1
    smtp_alert
    virtual_ipaddress {{
        198.51.100.61/24
    }}
}}
"#
    )
}

#[test]
fn master_mail_matches_keepalived() {
    require(&[KEEPALIVED]);
    // keepalived's mail, in its namespace.
    let node = Node::new("al", "ka");
    let port = 2525;
    let theirs_sink = Sink::start("ka", Some(&node.ns), port);
    let mut daemon = node.start(KEEPALIVED, &config(port));
    // keepalived mails the initial BACKUP state too, then MASTER.
    let master = |m: &Vec<Received>| m.iter().find(|m| m.data.contains("Entering MASTER")).cloned();
    wait_for(Duration::from_secs(20), || master(&theirs_sink.messages()).is_some());
    let msgs = theirs_sink.messages();
    daemon.stop();
    let log = daemon.log();
    let Some(theirs) = master(&msgs) else { panic!("keepalived sent no MASTER mail; its log:\n{log}") };
    let backup = msgs.iter().find(|m| m.data.contains("Entering BACKUP")).expect("initial BACKUP mail");
    assert!(backup.data.contains("Subject: [lb1] VRRP Instance VI_1 - Entering BACKUP state\r\n"));

    // Ours, for the same transition and the same settings.
    let ours_sink = Sink::start("rs", None, free_port());
    let mut st = settings(ours_sink.port, &RECIPIENTS, Duration::from_secs(5));
    st.router_id = Some("lb1".into());
    let sender = AlertSender::start(st).unwrap();
    sender.send(Alert::vrrp_instance(Some("lb1"), "VI_1", AlertState::Master)).unwrap();
    let msgs = ours_sink.wait_messages(1, Duration::from_secs(10));
    sender.shutdown(Duration::from_secs(2));
    assert_eq!(msgs.len(), 1, "we sent no mail");
    let ours = msgs[0].clone();

    println!("keepalived 2.2.7 DATA:\n{}", theirs.data.replace("\r\n", "\\r\\n\n"));
    println!("keepalived-rs DATA:\n{}", ours.data.replace("\r\n", "\\r\\n\n"));
    assert_eq!(ours.helo, theirs.helo, "HELO/EHLO name");
    assert_eq!(ours.mail_from, theirs.mail_from);
    assert_eq!(ours.rcpt_tos, theirs.rcpt_tos);
    let (their_headers, their_body) = theirs.split();
    let (our_headers, our_body) = ours.split();
    assert_date(&their_headers[0]);
    assert_date(&our_headers[0]);
    assert_eq!(our_headers[1..], their_headers[1..]);
    assert_eq!(our_body, their_body);
    // The whole text but the Date value.
    let strip = |d: &str| d.split_once("\r\n").map(|(_, rest)| rest.to_string()).unwrap();
    assert_eq!(strip(&ours.data), strip(&theirs.data));
    drop(daemon);
    drop(node);
}
