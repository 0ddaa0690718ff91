//! keepalived's SMTP alerts (`notification_email`, `smtp_server`,
//! `smtp_alert*`, `no_email_faults`): the mails keepalived 2.2.7 sends for
//! VRRP instance and sync group transitions and for checker events, in
//! its exact layout (core/smtp.c), delivered by one dedicated thread per
//! child process so that the event loops never wait for SMTP.
//!
//! Use: build [`AlertSettings::from_global`] (None: no mail configured),
//! [`AlertSender::start`] it, decide per instance/group with
//! [`vrrp_smtp_alert`] and [`LastEmailState::should_send`], and
//! [`AlertSender::send`] an [`Alert`].

pub mod message;
pub mod sender;
pub mod settings;
pub mod smtp;

pub use message::{mail_data, quorum_body, rfc822_date_now, Alert, AlertState};
pub use sender::{AlertSender, AlertStats, SendError, DROP_LOG_INTERVAL, QUEUE_CAPACITY};
pub use settings::{
    default_email_from, real_server_smtp_alert, virtual_server_smtp_alert, vrrp_smtp_alert, AlertSettings,
    LastEmailState, DEFAULT_SMTP_TIMEOUT,
};
pub use smtp::{deliver, Delivered, DeliveryError, Stage, MAIL_DEADLINE_FACTOR};
