//! Starting SMTP_CHECK, DNS_CHECK, UDP_CHECK and PING_CHECK attempts.

use super::proto::{Begin, Kind, Labels};
use super::*;

impl CheckChild {
    /// keepalived's names for the checker's texts.
    fn labels(&self, c: CheckerId) -> Labels {
        let Some(cc) = self.model.ec.checker(c) else { return Labels::default() };
        let rs = self.model.ec.rs(cc.rs);
        Labels {
            rs: rs.map(|r| r.name.clone()).unwrap_or_default(),
            vs: self.model.ec.vs(cc.rs.vs).map(|v| v.name.clone()).unwrap_or_default(),
            rs_pair: rs.map(|r| proto::pair(&SocketAddr::new(r.addr, r.port))).unwrap_or_default(),
        }
    }

    /// Run one attempt of an SMTP, DNS, UDP or PING checker.
    pub(super) fn start_proto(&mut self, reg: &Registry, c: CheckerId) {
        let (Some((mc, cc)), Some(t)) = (self.model.checker(c), self.tcp_target(c)) else { return };
        let timeout = Duration::from_micros(cc.connect_timeout.unwrap_or(DEFAULT_CONNECT_TIMEOUT_US));
        let delay_loop = cc.delay_loop;
        let l = self.labels(c);
        let begun = match &mc.kind {
            CheckerKind::Smtp(s) => wrap(
                smtp::Smtp::start(&t, s.helo_name.as_deref().unwrap_or("smtpchecker.keepalived.org"), &l),
                Kind::Smtp,
            ),
            CheckerKind::Dns(d) => {
                wrap(dns::Dns::start(&t, &d.qtype, d.name.as_deref().unwrap_or(""), &l.rs), Kind::Dns)
            }
            CheckerKind::Udp(u) => wrap(udp::Udp::start(&t, u), Kind::Udp),
            CheckerKind::Ping => wrap(ping::Ping::start(t.dst.ip()), Kind::Ping),
            _ => return,
        };
        let now = std::time::Instant::now();
        match begun {
            Begin::Pending(k) => {
                if self.proto.watch(reg, c, k, l, timeout).is_err() {
                    self.retries.push((now + Duration::from_micros(delay_loop), c));
                }
            }
            Begin::Done(result) => self.pending.push_back(Input::CheckResult { checker: c, result }),
            Begin::Reschedule => self.retries.push((now + Duration::from_micros(delay_loop), c)),
        }
    }
}

fn wrap<K>(b: Begin<K>, f: impl FnOnce(K) -> Kind) -> Begin<Kind> {
    match b {
        Begin::Pending(k) => Begin::Pending(f(k)),
        Begin::Done(r) => Begin::Done(r),
        Begin::Reschedule => Begin::Reschedule,
    }
}
