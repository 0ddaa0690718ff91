//! The delivery thread: the daemon's single-threaded event loops hand
//! alerts over without ever waiting for SMTP.
//!
//! keepalived runs its SMTP dialogue as non-blocking steps of the same
//! event loop; we run it on one dedicated thread per child process instead,
//! fed by a bounded queue. Mails go out one after the other, in order.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::message::{mail_data, rfc822_date_now, Alert};
use crate::settings::AlertSettings;
use crate::smtp::deliver;

/// Alerts waiting for the delivery thread. 64 covers a whole reload or
/// shutdown of a large configuration (one mail per instance and group)
/// while bounding memory when the relay is down: with a 30 s timeout a
/// dead relay drains one mail every 30 s.
pub const QUEUE_CAPACITY: usize = 64;

/// At most one "queue full" warning per this interval; the others are
/// counted and reported with the next warning.
pub const DROP_LOG_INTERVAL: Duration = Duration::from_secs(10);

/// Why [`AlertSender::send`] did not queue an alert.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum SendError {
    /// [`QUEUE_CAPACITY`] alerts are already waiting: this one is dropped.
    QueueFull,
    /// The delivery thread is gone (shut down).
    Stopped,
}

impl std::fmt::Display for SendError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SendError::QueueFull => write!(f, "SMTP alert queue full ({QUEUE_CAPACITY} mails waiting): alert dropped"),
            SendError::Stopped => f.write_str("SMTP alert sender stopped: alert dropped"),
        }
    }
}

impl std::error::Error for SendError {}

/// Counters, for logs and future metrics.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct AlertStats {
    /// Accepted by [`AlertSender::send`].
    pub queued: u64,
    /// Accepted by the SMTP server.
    pub sent: u64,
    /// Delivery attempted and failed (logged once each).
    pub failed: u64,
    /// Refused by `send` (queue full or sender stopped).
    pub dropped: u64,
    /// Still queued when the shutdown deadline passed.
    pub abandoned: u64,
}

#[derive(Default)]
struct Counters {
    queued: AtomicU64,
    sent: AtomicU64,
    failed: AtomicU64,
    dropped: AtomicU64,
    abandoned: AtomicU64,
}

struct DropLog {
    last: Option<Instant>,
    suppressed: u64,
}

struct Shared {
    counters: Counters,
    settings: Mutex<Arc<AlertSettings>>,
    /// Set by shutdown: no step of any dialogue goes past it.
    hard_deadline: Mutex<Option<Instant>>,
    drop_log: Mutex<DropLog>,
}

impl Shared {
    fn settings(&self) -> Arc<AlertSettings> {
        self.settings.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    fn hard_deadline(&self) -> Option<Instant> {
        *self.hard_deadline.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Owner of the delivery thread; lives in the child process (VRRP or
/// checker) that raises alerts.
pub struct AlertSender {
    tx: Option<SyncSender<Alert>>,
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

impl AlertSender {
    /// Spawn the delivery thread (named `smtp-alert`). Fails only when the
    /// system cannot create a thread.
    pub fn start(settings: AlertSettings) -> std::io::Result<AlertSender> {
        let (tx, rx) = sync_channel(QUEUE_CAPACITY);
        let shared = Arc::new(Shared {
            counters: Counters::default(),
            settings: Mutex::new(Arc::new(settings)),
            hard_deadline: Mutex::new(None),
            drop_log: Mutex::new(DropLog { last: None, suppressed: 0 }),
        });
        let worker_shared = shared.clone();
        let thread = std::thread::Builder::new().name("smtp-alert".into()).spawn(move || run(rx, worker_shared))?;
        Ok(AlertSender { tx: Some(tx), shared, thread: Some(thread) })
    }

    /// The sender after a configuration is (re)loaded, as the VRRP and checker children keep it:
    /// `previous` carries on with the new settings, or is shut down (1 s to deliver what is
    /// queued) when mail is no longer configured; without one, a sender is started if mail is
    /// configured. A sender that cannot start is logged and left out: alerts are then not sent.
    pub fn carry_over(previous: Option<AlertSender>, settings: Option<AlertSettings>) -> Option<AlertSender> {
        match (previous, settings) {
            (Some(a), Some(s)) => {
                a.update_settings(s);
                Some(a)
            }
            (Some(a), None) => {
                a.shutdown(Duration::from_secs(1));
                None
            }
            (None, Some(s)) => match AlertSender::start(s) {
                Ok(a) => Some(a),
                Err(e) => {
                    tracing::error!("Unable to start the SMTP alert sender: {e}");
                    None
                }
            },
            (None, None) => None,
        }
    }

    /// Queue an alert; never blocks. A full queue drops the alert (counted,
    /// and logged at most once per [`DROP_LOG_INTERVAL`]).
    pub fn send(&self, alert: Alert) -> Result<(), SendError> {
        let Some(tx) = &self.tx else {
            return Err(self.dropped(SendError::Stopped, &alert));
        };
        match tx.try_send(alert) {
            Ok(()) => {
                self.shared.counters.queued.fetch_add(1, Ordering::Relaxed);
                Ok(())
            }
            Err(TrySendError::Full(alert)) => Err(self.dropped(SendError::QueueFull, &alert)),
            Err(TrySendError::Disconnected(alert)) => Err(self.dropped(SendError::Stopped, &alert)),
        }
    }

    fn dropped(&self, why: SendError, alert: &Alert) -> SendError {
        let total = self.shared.counters.dropped.fetch_add(1, Ordering::Relaxed) + 1;
        let mut log = self.shared.drop_log.lock().unwrap_or_else(PoisonError::into_inner);
        let now = Instant::now();
        if log.last.is_none_or(|t| now.duration_since(t) >= DROP_LOG_INTERVAL) {
            tracing::warn!(subject = alert.subject(), dropped_total = total, suppressed = log.suppressed, "{why}");
            log.last = Some(now);
            log.suppressed = 0;
        } else {
            log.suppressed += 1;
        }
        why
    }

    /// Settings for the next mails (after a reload); the mail in flight
    /// keeps the old ones.
    pub fn update_settings(&self, settings: AlertSettings) {
        *self.shared.settings.lock().unwrap_or_else(PoisonError::into_inner) = Arc::new(settings);
    }

    /// The `router_id` to pass to the [`Alert`] constructors.
    pub fn router_id(&self) -> Option<String> {
        self.shared.settings().router_id.clone()
    }

    /// Current counters.
    pub fn stats(&self) -> AlertStats {
        let c = &self.shared.counters;
        AlertStats {
            queued: c.queued.load(Ordering::Relaxed),
            sent: c.sent.load(Ordering::Relaxed),
            failed: c.failed.load(Ordering::Relaxed),
            dropped: c.dropped.load(Ordering::Relaxed),
            abandoned: c.abandoned.load(Ordering::Relaxed),
        }
    }

    /// Stop accepting alerts, deliver what is queued until `within` has
    /// passed, then abandon the rest. Returns within `within` (plus a few
    /// milliseconds) even if the server is stuck: a dialogue still running
    /// then ends by its own timeouts, on a thread left to end alone (the
    /// mails still queued are then counted as abandoned). Dialogues started
    /// after this call never wait past `within`.
    pub fn shutdown(mut self, within: Duration) -> AlertStats {
        self.stop(Instant::now() + within);
        self.stats()
    }

    fn stop(&mut self, deadline: Instant) {
        *self.shared.hard_deadline.lock().unwrap_or_else(PoisonError::into_inner) = Some(deadline);
        // Closing the channel ends the thread once the queue is empty.
        self.tx = None;
        let Some(thread) = self.thread.take() else { return };
        while !thread.is_finished() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
        }
        if thread.is_finished() {
            let _ = thread.join();
        } else {
            tracing::warn!("SMTP alert delivery still running at the shutdown deadline: abandoned");
        }
    }
}

impl Drop for AlertSender {
    fn drop(&mut self) {
        if self.thread.is_some() {
            // Dropped without shutdown: abandon at once, never block.
            *self.shared.hard_deadline.lock().unwrap_or_else(PoisonError::into_inner) = Some(Instant::now());
            self.tx = None;
            self.thread = None;
        }
    }
}

/// Give up every capability of this thread (they are per thread: the
/// child's drop, done later on its main thread, does not reach this one).
fn drop_capabilities() {
    let _ = keepalived_sys::clear_ambient_caps();
    if let Err(e) = keepalived_sys::capset(&keepalived_sys::CapSets::default()) {
        tracing::warn!("SMTP alert thread: unable to drop its capabilities: {e}");
    }
}

fn run(rx: Receiver<Alert>, shared: Arc<Shared>) {
    if !shared.settings().keep_capabilities {
        drop_capabilities();
    }
    while let Ok(alert) = rx.recv() {
        if let Some(h) = shared.hard_deadline() {
            if Instant::now() >= h {
                let n = 1 + rx.try_iter().count() as u64;
                shared.counters.abandoned.fetch_add(n, Ordering::Relaxed);
                tracing::warn!(abandoned = n, "SMTP alerts not sent: shutdown deadline reached");
                break;
            }
        }
        let settings = shared.settings();
        // keepalived stamps the Date when it writes the text.
        let data = mail_data(&rfc822_date_now(), &settings.from, &settings.recipients, &alert);
        match deliver(&settings, &data, shared.hard_deadline()) {
            Ok(d) => {
                shared.counters.sent.fetch_add(1, Ordering::Relaxed);
                tracing::info!(
                    smtp_server = %settings.server,
                    subject = alert.subject(),
                    encrypted = d.encrypted,
                    "SMTP alert successfully sent"
                );
            }
            Err(e) => {
                shared.counters.failed.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(
                    smtp_server = %settings.server,
                    subject = alert.subject(),
                    error = %e,
                    "SMTP alert not sent to {}: {e}",
                    settings.server
                );
            }
        }
    }
}
