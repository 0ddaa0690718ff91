//! SMTP_CHECK, DNS_CHECK, UDP_CHECK and PING_CHECK attempts in the child's
//! mio loop: one socket per attempt (`smtp`, `dns`, `udp`, `ping`), its
//! deadline, its checker.

use super::tokens::Tokens;
use super::{dns, ping, smtp, udp};
use keepalived_check::CheckOutcome;
use mio::event::Source;
use mio::{Interest, Registry, Token};
use std::collections::HashMap;
use std::time::{Duration, Instant};
use tracing::info;

/// The names in keepalived's texts: the real server (`FMT_CHK`), its
/// virtual server (`FMT_VS`), the real server as `[ip]:port`.
#[derive(Clone, Debug, Default)]
pub struct Labels {
    pub rs: String,
    pub vs: String,
    pub rs_pair: String,
}

/// How starting an attempt went.
pub enum Begin<K> {
    /// Under way: watch it.
    Pending(K),
    /// Over at once.
    Done(CheckOutcome),
    /// Not run (already logged): try again a `delay_loop` later, no result.
    Reschedule,
}

/// What an attempt's socket event led to.
pub enum Progress {
    /// Still waiting; `true`: something moved, the timeout starts again.
    Wait(bool),
    Done(CheckOutcome),
}

pub fn failure(reason: Option<String>) -> CheckOutcome {
    CheckOutcome::Failure { reason }
}

/// One attempt of any of the four.
pub enum Kind {
    Smtp(smtp::Smtp),
    Dns(dns::Dns),
    Udp(udp::Udp),
    Ping(ping::Ping),
}

impl Kind {
    fn source(&mut self) -> &mut dyn Source {
        match self {
            Kind::Smtp(s) => s.source(),
            Kind::Dns(s) => s.source(),
            Kind::Udp(s) => s.source(),
            Kind::Ping(s) => s.source(),
        }
    }

    fn on_ready(&mut self, l: &Labels) -> Progress {
        match self {
            Kind::Smtp(s) => s.on_ready(),
            Kind::Dns(s) => s.on_ready(),
            Kind::Udp(s) => s.on_ready(l),
            Kind::Ping(s) => s.on_ready(l),
        }
    }

    fn on_timeout(&self, l: &Labels) -> CheckOutcome {
        match self {
            Kind::Smtp(s) => s.on_timeout(),
            Kind::Dns(s) => s.on_timeout(),
            Kind::Udp(s) => s.on_timeout(l),
            Kind::Ping(_) => failure(Some(keepalived_check::ping::timeout(&l.rs))),
        }
    }

    /// Whether each step gets its own timeout (SMTP), or the attempt one.
    fn rearms(&self) -> bool {
        matches!(self, Kind::Smtp(_))
    }
}

struct Probe<T> {
    tag: T,
    kind: Kind,
    labels: Labels,
    timeout: Duration,
    deadline: Instant,
}

/// The running attempts, with tokens from a range of the child's.
pub struct ProtoProbes<T> {
    probes: HashMap<Token, Probe<T>>,
    tokens: Tokens,
}

impl<T: PartialEq + Copy> ProtoProbes<T> {
    pub fn new(first: usize, count: usize) -> ProtoProbes<T> {
        ProtoProbes { probes: HashMap::new(), tokens: Tokens::new(first, count) }
    }

    /// Watch an attempt started for `tag` (replacing any it still has).
    /// `Err(())`: it could not be watched (logged): reschedule.
    pub fn watch(
        &mut self,
        reg: &Registry,
        tag: T,
        mut kind: Kind,
        labels: Labels,
        timeout: Duration,
    ) -> Result<(), ()> {
        self.cancel(reg, |x| *x == tag);
        let Some(token) = self.tokens.take() else {
            info!("Too many checker sockets. Rescheduling.");
            return Err(());
        };
        if let Err(e) = reg.register(kind.source(), token, Interest::READABLE | Interest::WRITABLE) {
            info!("Unable to watch the checker socket: {}. Rescheduling.", super::tcp::os_text(&e));
            self.tokens.give_back(token);
            return Err(());
        }
        let deadline = Instant::now() + timeout;
        self.probes.insert(token, Probe { tag, kind, labels, timeout, deadline });
        Ok(())
    }

    pub fn on_ready(&mut self, reg: &Registry, token: Token) -> Option<(T, CheckOutcome)> {
        let p = self.probes.get_mut(&token)?;
        match p.kind.on_ready(&p.labels) {
            Progress::Wait(moved) => {
                if moved && p.kind.rearms() {
                    p.deadline = Instant::now() + p.timeout;
                }
                None
            }
            Progress::Done(r) => self.close(reg, token).map(|tag| (tag, r)),
        }
    }

    /// Attempts past their deadline, closed, with their results.
    pub fn expired(&mut self, reg: &Registry, now: Instant) -> Vec<(T, CheckOutcome)> {
        let due: Vec<Token> = self.probes.iter().filter(|(_, p)| p.deadline <= now).map(|(t, _)| *t).collect();
        let mut out = Vec::new();
        for t in due {
            let Some(p) = self.probes.get(&t) else { continue };
            let r = p.kind.on_timeout(&p.labels);
            if let Some(tag) = self.close(reg, t) {
                out.push((tag, r));
            }
        }
        out
    }

    pub fn next_deadline(&self) -> Option<Instant> {
        self.probes.values().map(|p| p.deadline).min()
    }

    pub fn cancel(&mut self, reg: &Registry, pred: impl Fn(&T) -> bool) {
        let gone: Vec<Token> = self.probes.iter().filter(|(_, p)| pred(&p.tag)).map(|(t, _)| *t).collect();
        for t in gone {
            self.close(reg, t);
        }
    }

    fn close(&mut self, reg: &Registry, token: Token) -> Option<T> {
        let mut p = self.probes.remove(&token)?;
        let _ = reg.deregister(p.kind.source());
        self.tokens.give_back(token);
        Some(p.tag)
    }
}

/// `[ip]:port` (keepalived `inet_sockaddrtopair`).
pub fn pair(a: &std::net::SocketAddr) -> String {
    format!("[{}]:{}", a.ip(), a.port())
}

#[cfg(test)]
#[path = "proto_tests.rs"]
mod tests;
