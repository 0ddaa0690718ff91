//! Alert subjects, bodies and the mail text, in keepalived 2.2.7's layout
//! (core/smtp.c `smtp_alert` / `body_cmd` / `build_to_header_rcpt_addrs`,
//! include/smtp.h's command formats, vrrp/vrrp_notify.c, check/*.c), as
//! checked on the wire against /usr/sbin/keepalived 2.2.7. Everything here is pure: no I/O, no clock reads except in
//! [`rfc822_date_now`].

use serde::Serialize;

/// keepalived formats the subject into a `MAX_HEADERS_LENGTH` (256) buffer:
/// at most 255 bytes survive.
pub const MAX_SUBJECT_LEN: usize = 255;
/// keepalived copies the body into a `MAX_BODY_LENGTH` (512) buffer: at
/// most 511 bytes survive.
pub const MAX_BODY_LEN: usize = 511;

/// States for which keepalived mails a VRRP instance or sync group change
/// (`vrrp_smtp_notifier` / `vrrp_sync_smtp_notifier`). Other states (INIT)
/// never produce mail.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub enum AlertState {
    Master,
    Backup,
    Fault,
    Stop,
    /// Instances only: removed by a reload with `notify_deleted`.
    Deleted,
}

/// One mail to send: the subject (with its `[router_id]` prefix) and the
/// body, already sanitised.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Alert {
    subject: String,
    body: String,
}

impl Alert {
    /// Subject line, without the `Subject: ` header name.
    pub fn subject(&self) -> &str {
        &self.subject
    }

    /// Body text (lines separated by CRLF, no trailing CRLF).
    pub fn body(&self) -> &str {
        &self.body
    }

    /// A VRRP instance changed state: `[router_id] VRRP Instance NAME -
    /// Entering MASTER state` etc.
    pub fn vrrp_instance(router_id: Option<&str>, instance: &str, state: AlertState) -> Alert {
        let (what, body) = match state {
            AlertState::Master => ("Entering MASTER state", "=> VRRP Instance is now owning VRRP VIPs <="),
            AlertState::Backup => ("Entering BACKUP state", "=> VRRP Instance is no longer owning VRRP VIPs <="),
            AlertState::Fault => ("Entering FAULT state", "=> VRRP Instance is no longer owning VRRP VIPs <="),
            AlertState::Stop => ("Stopping", "=> VRRP Instance stopping <="),
            AlertState::Deleted => ("Deleted", "=> VRRP Deleted at reload <="),
        };
        let subject = format!("[{}] VRRP Instance {} - {}", prefix_id(router_id), header_text(instance), what);
        Alert::build(subject, body)
    }

    /// A VRRP sync group changed state: `[router_id] VRRP Group NAME - ...`.
    /// keepalived has no DELETED mail for groups: `Deleted` maps to `None`.
    pub fn vrrp_group(router_id: Option<&str>, group: &str, state: AlertState) -> Option<Alert> {
        let (what, body) = match state {
            AlertState::Master => ("Entering MASTER state", "=> All VRRP group instances are now in MASTER state <="),
            AlertState::Backup => ("Entering BACKUP state", "=> All VRRP group instances are now in BACKUP state <="),
            AlertState::Fault => ("Entering FAULT state", "=> All VRRP group instances are now in FAULT state <="),
            AlertState::Stop => ("Stopping", "=> All VRRP group instances are now stopping <="),
            AlertState::Deleted => return None,
        };
        let subject = format!("[{}] VRRP Group {} - {}", prefix_id(router_id), header_text(group), what);
        Some(Alert::build(subject, body))
    }

    /// A checker changed a real server's state (`SMTP_MSG_RS`):
    /// `[router_id] Realserver RS of virtual server VS - UP|DOWN`, body the
    /// checker's message, e.g. `=> TCP CHECK succeed on service <=`.
    /// `real_server`/`virtual_server` are keepalived's `FMT_RS`/`FMT_VS`
    /// renderings, e.g. `[192.168.1.10]:tcp:80` and `[10.0.0.1]:tcp:80`.
    pub fn real_server(
        router_id: Option<&str>,
        real_server: &str,
        virtual_server: &str,
        up: bool,
        body: &str,
    ) -> Alert {
        let subject = format!(
            "[{}] Realserver {} of virtual server {} - {}",
            prefix_id(router_id),
            header_text(real_server),
            header_text(virtual_server),
            if up { "UP" } else { "DOWN" }
        );
        Alert::build(subject, body)
    }

    /// A real server removed at reload or shut down (`SMTP_MSG_RS_SHUT`):
    /// subject as [`Alert::real_server`] with DOWN, body
    /// `=> Shutting down <=` or `=> Removing <=`.
    pub fn real_server_removed(
        router_id: Option<&str>,
        real_server: &str,
        virtual_server: &str,
        shutting_down: bool,
    ) -> Alert {
        let body = if shutting_down { "=> Shutting down <=" } else { "=> Removing <=" };
        Alert::real_server(router_id, real_server, virtual_server, false, body)
    }

    /// A virtual server gained or lost quorum (`SMTP_MSG_VS`):
    /// `[router_id] Virtualserver VS - UP|DOWN`; the body is built by
    /// [`quorum_body`].
    pub fn virtual_server(router_id: Option<&str>, virtual_server: &str, up: bool, body: &str) -> Alert {
        let subject = format!(
            "[{}] Virtualserver {} - {}",
            prefix_id(router_id),
            header_text(virtual_server),
            if up { "UP" } else { "DOWN" }
        );
        Alert::build(subject, body)
    }

    /// Any other alert: `[router_id] SUBJECT`, or just `SUBJECT` without a
    /// router_id (keepalived's fallback branch).
    pub fn generic(router_id: Option<&str>, subject: &str, body: &str) -> Alert {
        let subject = match router_id {
            Some(id) => format!("[{}] {}", header_text(id), header_text(subject)),
            None => header_text(subject),
        };
        Alert::build(subject, body)
    }

    fn build(subject: String, body: &str) -> Alert {
        Alert { subject: truncate(subject, MAX_SUBJECT_LEN), body: truncate(body_text(body), MAX_BODY_LEN) }
    }
}

/// keepalived's quorum message (check/ipwrapper.c `update_quorum_state`):
/// `=> Gained quorum Q+H=T <= W <=` and variants; `=> Shutting down <=`
/// when stopping.
pub fn quorum_body(
    up: bool,
    starting: bool,
    stopping: bool,
    quorum: u32,
    hysteresis: u32,
    threshold: i64,
    weight_sum: i64,
) -> String {
    if stopping {
        return "=> Shutting down <=".to_string();
    }
    let what = match (up, starting) {
        (true, true) => "Starting with quorum up",
        (true, false) => "Gained quorum",
        (false, true) => "Starting with quorum down",
        (false, false) => "Lost quorum",
    };
    format!("=> {what} {quorum}+{hysteresis}={threshold} <= {weight_sum} <=")
}

/// keepalived prints a NULL router_id with glibc's `%s` as `(null)`; ours
/// only happens when the caller has no router_id at all.
fn prefix_id(router_id: Option<&str>) -> String {
    header_text(router_id.unwrap_or("(null)"))
}

/// Text placed in a header (subject parts, From, To): any control
/// character (CR, LF, TAB, NUL, DEL...) becomes a space, so a hostile
/// instance name such as `"vi\r\nBcc: x@y"` cannot start a new header or
/// end the header block. keepalived relies on its config parser never
/// producing such characters; we enforce it.
pub fn header_text(s: &str) -> String {
    s.chars().map(|c| if c.is_control() { ' ' } else { c }).collect()
}

/// Body text: line breaks (CRLF, bare CR, bare LF) become CRLF, other
/// control characters except TAB become spaces. A line made of a single
/// "." is dot-stuffed by the SMTP client, so it cannot end the DATA early.
fn body_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\r' => {
                if chars.peek() == Some(&'\n') {
                    chars.next();
                }
                out.push_str("\r\n");
            }
            '\n' => out.push_str("\r\n"),
            '\t' => out.push('\t'),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// Cut to at most `max` bytes on a character boundary (keepalived cuts
/// bytes; we never split a UTF-8 sequence nor a CRLF pair).
fn truncate(mut s: String, max: usize) -> String {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    if end > 0 && s.as_bytes()[end - 1] == b'\r' {
        end -= 1;
    }
    s.truncate(end);
    s
}

/// An address for the envelope (`MAIL FROM:` / `RCPT TO:`). keepalived
/// 2.2.7 wraps the configured text whole (`RCPT TO:<Ops <ops@x.org>>`),
/// which relays reject (501) for the `Name <addr>` form; like later
/// keepalived versions (2.2.8+), we send the part from the last `<` when
/// the text ends with `>`, else `<text>`: identical to 2.2.7 for plain
/// addresses. Control characters are removed so that no command can be
/// injected.
pub fn envelope_address(configured: &str) -> String {
    let clean: String = configured.chars().filter(|c| !c.is_control()).collect();
    if clean.ends_with('>') {
        if let Some(start) = clean.rfind('<') {
            return clean[start..].to_string();
        }
    }
    format!("<{clean}>")
}

/// The DATA text of a mail as keepalived 2.2.7's `body_cmd` writes it,
/// without the final `.` line (the SMTP client adds `CRLF.CRLF`, giving
/// exactly keepalived's `"BODY\r\n" "\r\n.\r\n"` tail):
///
/// ```text
/// Date: Tue, 24 Nov 2026 23:18:02 +0000
/// From: FROM
/// Subject: SUBJECT
/// X-Mailer: Keepalived
/// To: RCPT1, RCPT2
///
/// BODY
/// ```
///
/// All recipients on one `To:` line, separated by `", "`, as configured
/// (2.2.7 does not fold it; 2.4 does). No MIME headers and no Message-ID:
/// keepalived sends none. Unlike keepalived, neither the `To:` line nor the
/// whole text is cut at 1024 bytes (which loses the end of the mail, and
/// its final dot, with many recipients).
pub fn mail_data(date: &str, from: &str, recipients: &[String], alert: &Alert) -> Vec<u8> {
    let mut s = String::with_capacity(256 + alert.body.len());
    s.push_str("Date: ");
    s.push_str(&header_text(date));
    s.push_str("\r\nFrom: ");
    s.push_str(&header_text(from));
    s.push_str("\r\nSubject: ");
    s.push_str(&alert.subject);
    s.push_str("\r\nX-Mailer: Keepalived\r\nTo:");
    for (i, r) in recipients.iter().enumerate() {
        s.push_str(if i == 0 { " " } else { ", " });
        s.push_str(&header_text(r));
    }
    s.push_str("\r\n\r\n");
    s.push_str(&alert.body);
    s.push_str("\r\n");
    s.into_bytes()
}

/// Now in local time as keepalived's `strftime("%a, %d %b %Y %H:%M:%S %z")`
/// (C locale names), e.g. `Tue, 24 Nov 2026 23:18:02 +0000`. Falls back to
/// UTC when the local zone cannot be read.
pub fn rfc822_date_now() -> String {
    let now = jiff::Zoned::now();
    now.strftime("%a, %d %b %Y %H:%M:%S %z").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instance_subjects_and_bodies() {
        let a = Alert::vrrp_instance(Some("lb1"), "VI_1", AlertState::Master);
        assert_eq!(a.subject(), "[lb1] VRRP Instance VI_1 - Entering MASTER state");
        assert_eq!(a.body(), "=> VRRP Instance is now owning VRRP VIPs <=");
        let a = Alert::vrrp_instance(Some("lb1"), "VI_1", AlertState::Backup);
        assert_eq!(a.subject(), "[lb1] VRRP Instance VI_1 - Entering BACKUP state");
        assert_eq!(a.body(), "=> VRRP Instance is no longer owning VRRP VIPs <=");
        let a = Alert::vrrp_instance(Some("lb1"), "VI_1", AlertState::Fault);
        assert_eq!(a.subject(), "[lb1] VRRP Instance VI_1 - Entering FAULT state");
        assert_eq!(a.body(), "=> VRRP Instance is no longer owning VRRP VIPs <=");
        let a = Alert::vrrp_instance(Some("lb1"), "VI_1", AlertState::Stop);
        assert_eq!(a.subject(), "[lb1] VRRP Instance VI_1 - Stopping");
        assert_eq!(a.body(), "=> VRRP Instance stopping <=");
        let a = Alert::vrrp_instance(Some("lb1"), "VI_1", AlertState::Deleted);
        assert_eq!(a.subject(), "[lb1] VRRP Instance VI_1 - Deleted");
        assert_eq!(a.body(), "=> VRRP Deleted at reload <=");
    }

    #[test]
    fn group_subjects_and_bodies() {
        let a = Alert::vrrp_group(Some("lb1"), "G1", AlertState::Master).unwrap();
        assert_eq!(a.subject(), "[lb1] VRRP Group G1 - Entering MASTER state");
        assert_eq!(a.body(), "=> All VRRP group instances are now in MASTER state <=");
        let a = Alert::vrrp_group(Some("lb1"), "G1", AlertState::Backup).unwrap();
        assert_eq!(a.body(), "=> All VRRP group instances are now in BACKUP state <=");
        let a = Alert::vrrp_group(Some("lb1"), "G1", AlertState::Fault).unwrap();
        assert_eq!(a.subject(), "[lb1] VRRP Group G1 - Entering FAULT state");
        let a = Alert::vrrp_group(Some("lb1"), "G1", AlertState::Stop).unwrap();
        assert_eq!(a.subject(), "[lb1] VRRP Group G1 - Stopping");
        assert_eq!(a.body(), "=> All VRRP group instances are now stopping <=");
        assert!(Alert::vrrp_group(Some("lb1"), "G1", AlertState::Deleted).is_none());
    }

    #[test]
    fn checker_forms() {
        let a = Alert::real_server(
            Some("lb1"),
            "[192.168.1.10]:tcp:80",
            "[10.0.0.1]:tcp:80",
            true,
            "=> TCP CHECK succeed on service <=",
        );
        assert_eq!(a.subject(), "[lb1] Realserver [192.168.1.10]:tcp:80 of virtual server [10.0.0.1]:tcp:80 - UP");
        assert_eq!(a.body(), "=> TCP CHECK succeed on service <=");
        let a = Alert::real_server_removed(Some("lb1"), "[1.1.1.1]:tcp:80", "[2.2.2.2]:tcp:80", true);
        assert!(a.subject().ends_with(" - DOWN"));
        assert_eq!(a.body(), "=> Shutting down <=");
        let b = quorum_body(true, false, false, 2, 1, 3, 4);
        assert_eq!(b, "=> Gained quorum 2+1=3 <= 4 <=");
        assert_eq!(quorum_body(false, true, false, 2, 0, 2, 0), "=> Starting with quorum down 2+0=2 <= 0 <=");
        let a = Alert::virtual_server(Some("lb1"), "[10.0.0.1]:tcp:80", true, &b);
        assert_eq!(a.subject(), "[lb1] Virtualserver [10.0.0.1]:tcp:80 - UP");
        assert_eq!(Alert::generic(None, "hello", "b").subject(), "hello");
        assert_eq!(Alert::generic(Some("r"), "hello", "b").subject(), "[r] hello");
    }

    #[test]
    fn header_injection_is_neutralised() {
        let a = Alert::vrrp_instance(Some("lb\r\n1"), "VI\r\nBcc: x@y", AlertState::Master);
        assert!(!a.subject().contains('\r') && !a.subject().contains('\n'));
        let data = mail_data("D\r\nX: y", "me@h\nBcc: a@b", &["a@b\r\nBcc: c@d".to_string()], &a);
        let text = String::from_utf8(data).unwrap();
        let headers = text.split("\r\n\r\n").next().unwrap();
        for line in headers.split("\r\n") {
            assert!(!line.starts_with("Bcc") && !line.starts_with("X:"), "{line:?}");
        }
        assert!(!text.contains('\n') || !text.replace("\r\n", "").contains('\n'));
        let env = envelope_address("a@b\r\nDATA\r\nx");
        assert_eq!(env, "<a@bDATAx>");
        assert_eq!(envelope_address("Ops <ops@x.org>"), "<ops@x.org>");
        assert_eq!(envelope_address("ops@x.org"), "<ops@x.org>");
    }

    #[test]
    fn body_normalised_and_truncated() {
        let a = Alert::generic(Some("r"), "s", "a\nb\rc\r\nd\u{0}e");
        assert_eq!(a.body(), "a\r\nb\r\nc\r\nd e");
        let long = "é".repeat(400);
        let a = Alert::generic(Some("r"), &long, &long);
        assert!(a.subject().len() <= MAX_SUBJECT_LEN && a.body().len() <= MAX_BODY_LEN);
        assert!(a.body().len() >= MAX_BODY_LEN - 1);
    }

    #[test]
    fn data_layout() {
        let a = Alert::vrrp_instance(Some("lb1"), "VI_1", AlertState::Master);
        let rcpts = vec!["a@x.org".to_string(), "\"B, C\" <b@x.org>".to_string()];
        let d = mail_data("Tue, 24 Nov 2026 23:18:02 +0000", "root@lb1", &rcpts, &a);
        assert_eq!(
            String::from_utf8(d).unwrap(),
            "Date: Tue, 24 Nov 2026 23:18:02 +0000\r\nFrom: root@lb1\r\n\
             Subject: [lb1] VRRP Instance VI_1 - Entering MASTER state\r\nX-Mailer: Keepalived\r\n\
             To: a@x.org, \"B, C\" <b@x.org>\r\n\r\n=> VRRP Instance is now owning VRRP VIPs <=\r\n"
        );
    }

    #[test]
    fn date_format() {
        let d = rfc822_date_now();
        // "Tue, 24 Nov 2026 23:18:02 +0000"
        assert_eq!(d.len(), 31, "{d}");
        assert_eq!(&d[3..5], ", ");
        assert!(d[26..].starts_with('+') || d[26..].starts_with('-'));
    }
}
