//! One mail, one SMTP dialogue, on the delivery thread (blocking I/O with
//! socket timeouts). keepalived (core/smtp.c) speaks plain SMTP:
//! `HELO name`, `MAIL FROM:<a>`, one `RCPT TO:<b>` per recipient, `DATA`,
//! the text, `QUIT`, every step bounded by `smtp_connect_timeout`, and any
//! unexpected reply ends the dialogue with `QUIT`, without retry.
//!
//! Differences, on purpose:
//! - lettre greets with `EHLO name` (never `HELO`): needed to learn whether
//!   the relay offers STARTTLS; every relay answering HELO answers EHLO.
//! - STARTTLS is used when the relay offers it (opportunistic). The relays
//!   keepalived users point at are usually internal with self-signed or
//!   mismatched certificates, and keepalived itself sends in clear, so the
//!   certificate is NOT verified (encryption against passive sniffing only;
//!   never worse than keepalived's plain text). If the TLS handshake fails
//!   the mail is sent again in clear on a new connection, once, within the
//!   same deadline.
//! - Besides keepalived's per-step bound, the whole mail is bounded by
//!   [`MAIL_DEADLINE_FACTOR`] × `smtp_connect_timeout`.

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use lettre::transport::smtp::client::{CertificateStore, SmtpConnection, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use serde::Serialize;

use crate::message::envelope_address;
use crate::settings::AlertSettings;

/// The whole dialogue of one mail (connection to QUIT) lasts at most this
/// many times `smtp_connect_timeout`; each step at most one timeout.
pub const MAIL_DEADLINE_FACTOR: u32 = 2;

/// The step of the dialogue that failed, named as keepalived's log does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Stage {
    /// TCP connection, greeting and EHLO.
    Connect,
    StartTls,
    Mail,
    Rcpt,
    Data,
    /// The message text and the final ".".
    Body,
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Stage::Connect => "connection/greeting",
            Stage::StartTls => "STARTTLS",
            Stage::Mail => "MAIL",
            Stage::Rcpt => "RCPT",
            Stage::Data => "DATA",
            Stage::Body => "BODY",
        })
    }
}

/// Why one mail was not delivered.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub enum DeliveryError {
    /// Nothing listens on the SMTP server's port.
    Refused,
    /// The server did not answer in time (`smtp_connect_timeout`).
    Timeout { stage: Stage },
    /// The mail's overall deadline passed before this step.
    Deadline { stage: Stage },
    /// The server answered with an error code.
    Rejected { stage: Stage, code: u16, text: String },
    /// The server closed the connection.
    Closed { stage: Stage },
    /// Anything else (network unreachable, unparsable reply, TLS...).
    Other { stage: Stage, reason: String },
}

impl fmt::Display for DeliveryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DeliveryError::Refused => f.write_str("connection refused"),
            DeliveryError::Timeout { stage } => write!(f, "timeout waiting for the server ({stage})"),
            DeliveryError::Deadline { stage } => write!(f, "mail deadline reached before {stage}"),
            DeliveryError::Rejected { stage, code, text } => {
                write!(f, "{stage} command rejected, SMTP status code = {code}")?;
                if !text.is_empty() {
                    write!(f, " ({text})")?;
                }
                Ok(())
            }
            DeliveryError::Closed { stage } => write!(f, "server closed the connection ({stage})"),
            DeliveryError::Other { stage, reason } => write!(f, "{stage}: {reason}"),
        }
    }
}

impl std::error::Error for DeliveryError {}

/// How a delivered mail went.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Delivered {
    pub encrypted: bool,
}

/// Time left for one step: one `timeout`, cut to what is left of the
/// mail's deadline (and of the shutdown deadline, if earlier).
fn step_timeout(timeout: Duration, deadline: Instant, stage: Stage) -> Result<Duration, DeliveryError> {
    let left = deadline.saturating_duration_since(Instant::now());
    if left < Duration::from_millis(1) {
        return Err(DeliveryError::Deadline { stage });
    }
    Ok(timeout.min(left))
}

fn classify(stage: Stage, e: &lettre::transport::smtp::Error) -> DeliveryError {
    if let Some(code) = e.status() {
        let text =
            std::error::Error::source(e).map(|s| crate::message::header_text(&s.to_string())).unwrap_or_default();
        return DeliveryError::Rejected { stage, code: u16::from(code), text };
    }
    let mut source = std::error::Error::source(e);
    while let Some(err) = source {
        if let Some(io_err) = err.downcast_ref::<io::Error>() {
            return match io_err.kind() {
                io::ErrorKind::ConnectionRefused => DeliveryError::Refused,
                io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => DeliveryError::Timeout { stage },
                io::ErrorKind::ConnectionReset
                | io::ErrorKind::ConnectionAborted
                | io::ErrorKind::BrokenPipe
                | io::ErrorKind::UnexpectedEof => DeliveryError::Closed { stage },
                _ => DeliveryError::Other { stage, reason: io_err.to_string() },
            };
        }
        source = err.source();
    }
    let reason = e.to_string();
    // lettre's wording when the server closes before a full reply.
    if reason.contains("incomplete response") {
        return DeliveryError::Closed { stage };
    }
    DeliveryError::Other { stage, reason }
}

fn tls_parameters(server_name: &str) -> Option<TlsParameters> {
    // Opportunistic only: no verification (see the module comment).
    TlsParameters::builder(server_name.to_string())
        .certificate_store(CertificateStore::None)
        .dangerous_accept_invalid_certs(true)
        .dangerous_accept_invalid_hostnames(true)
        .build_rustls()
        .ok()
}

/// Deliver one mail text (`data`, from [`crate::message::mail_data`]) to
/// every recipient. `hard_deadline` is the shutdown deadline, if any.
pub fn deliver(
    settings: &AlertSettings,
    data: &[u8],
    hard_deadline: Option<Instant>,
) -> Result<Delivered, DeliveryError> {
    let timeout = settings.timeout.max(Duration::from_millis(1));
    let mut deadline = Instant::now() + timeout * MAIL_DEADLINE_FACTOR;
    if let Some(h) = hard_deadline {
        deadline = deadline.min(h);
    }
    match attempt(settings, data, timeout, deadline, true) {
        Err(Attempt::TlsFailed(reason)) => {
            tracing::info!(
                smtp_server = %settings.server,
                %reason,
                "STARTTLS with the SMTP server failed; sending the alert in clear as keepalived does"
            );
            attempt(settings, data, timeout, deadline, false).map_err(Attempt::into_error)
        }
        other => other.map_err(Attempt::into_error),
    }
}

enum Attempt {
    Failed(DeliveryError),
    TlsFailed(String),
}

impl Attempt {
    fn into_error(self) -> DeliveryError {
        match self {
            Attempt::Failed(e) => e,
            Attempt::TlsFailed(reason) => DeliveryError::Other { stage: Stage::StartTls, reason },
        }
    }
}

impl From<DeliveryError> for Attempt {
    fn from(e: DeliveryError) -> Self {
        Attempt::Failed(e)
    }
}

fn attempt(
    settings: &AlertSettings,
    data: &[u8],
    timeout: Duration,
    deadline: Instant,
    try_tls: bool,
) -> Result<Delivered, Attempt> {
    let hello = ClientId::Domain(crate::message::header_text(&settings.helo_name).replace(' ', ""));
    let server: SocketAddr = settings.server;

    let t = step_timeout(timeout, deadline, Stage::Connect)?;
    let mut conn = SmtpConnection::connect(server, Some(t), &hello, None, None)
        .map_err(|e| Attempt::Failed(classify(Stage::Connect, &e)))?;

    let mut encrypted = false;
    if try_tls && conn.can_starttls() {
        if let Some(params) = tls_parameters(&settings.server_name) {
            let t = step_timeout(timeout, deadline, Stage::StartTls)?;
            let _ = conn.set_timeout(Some(t));
            match conn.starttls(&params, &hello) {
                Ok(()) => encrypted = true,
                Err(e) if e.status().is_some() => {
                    // The relay refused STARTTLS itself: the session is
                    // still usable in clear only if lettre did not abort it.
                    if conn.has_broken() {
                        return Err(Attempt::TlsFailed(e.to_string()));
                    }
                }
                Err(e) => return Err(Attempt::TlsFailed(e.to_string())),
            }
        }
    }

    let result = dialogue(&mut conn, settings, data, timeout, deadline);
    // keepalived ends every dialogue with QUIT, success or not; a QUIT
    // failure after the text was accepted does not undo the delivery.
    // Its reply is awaited at most 100 ms past the deadline.
    if !conn.has_broken() {
        let left = deadline.saturating_duration_since(Instant::now());
        let _ = conn.set_timeout(Some(timeout.min(left.max(Duration::from_millis(100)))));
        let _ = conn.quit();
    }
    result.map(|()| Delivered { encrypted }).map_err(Attempt::Failed)
}

fn dialogue(
    conn: &mut SmtpConnection,
    settings: &AlertSettings,
    data: &[u8],
    timeout: Duration,
    deadline: Instant,
) -> Result<(), DeliveryError> {
    let step = |conn: &mut SmtpConnection, stage: Stage, line: Option<String>| -> Result<(), DeliveryError> {
        let t = step_timeout(timeout, deadline, stage)?;
        let _ = conn.set_timeout(Some(t));
        let r = match line {
            Some(l) => conn.command(l),
            None => conn.message(data),
        };
        r.map(|_| ()).map_err(|e| classify(stage, &e))
    };
    step(conn, Stage::Mail, Some(format!("MAIL FROM:{}\r\n", envelope_address(&settings.from))))?;
    for r in &settings.recipients {
        step(conn, Stage::Rcpt, Some(format!("RCPT TO:{}\r\n", envelope_address(r))))?;
    }
    step(conn, Stage::Data, Some("DATA\r\n".to_string()))?;
    step(conn, Stage::Body, None)
}
