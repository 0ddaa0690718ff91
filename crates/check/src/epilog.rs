//! What a check result does: keepalived's per-checker epilogs. TCP_CHECK (`tcp_epilog`), UDP_CHECK
//! (`udp_epilog`), PING_CHECK (`ping_epilog`), DNS_CHECK (`dns_final`), SMTP_CHECK (`smtp_final`) are here;
//! HTTP in [`crate::http`], MISC in [`crate::misc`].
use crate::config::Policy;
use crate::engine::Engine;
use crate::types::{Action, CheckOutcome, Instant};

/// The simple connection checkers, which differ only in texts and in retrying while down.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Connect {
    Tcp,
    Udp,
    Ping,
}

impl Connect {
    fn success(self, rs: &str) -> String {
        match self {
            Connect::Tcp => format!("TCP connection to {rs} success."),
            Connect::Udp => format!("UDP connection to {rs} success."),
            Connect::Ping => format!("ICMP connection to {rs} success."),
        }
    }

    fn failed_after(self, rs: &str, vs: &str, retry: u32) -> String {
        match self {
            Connect::Tcp => format!("TCP_CHECK on service {rs} failed after {retry} retries."),
            Connect::Udp => format!("UDP_CHECK on service {rs} failed after {retry} retries."),
            Connect::Ping => format!("ICMP CHECK on service {rs} of {vs} failed after {retry} retries."),
        }
    }

    fn failed(self, rs: &str) -> String {
        match self {
            Connect::Tcp => format!("TCP_CHECK on service {rs} failed."),
            Connect::Udp => format!("UDP_CHECK on service {rs} failed."),
            Connect::Ping => format!("ICMP CHECK on service {rs} failed."),
        }
    }

    fn alert(self, ok: bool) -> String {
        let what = match self {
            Connect::Tcp => "TCP",
            Connect::Udp => "UDP",
            Connect::Ping => "ICMP",
        };
        format!("=> {what} CHECK {} on service <=", if ok { "succeed" } else { "failed" })
    }
}

impl Engine {
    /// Applies the result of checker `c`'s attempt.
    pub(crate) fn epilog(&mut self, now: Instant, c: usize, result: CheckOutcome, out: &mut Vec<Action>) {
        match self.cfg.checkers[c].policy.clone() {
            Policy::Tcp => self.connect_epilog(now, c, Connect::Tcp, result, out),
            Policy::Udp => self.connect_epilog(now, c, Connect::Udp, result, out),
            Policy::Ping => self.connect_epilog(now, c, Connect::Ping, result, out),
            Policy::Dns => self.dns_epilog(now, c, result, out),
            Policy::Smtp => self.smtp_epilog(now, c, result, out),
            Policy::Http { urls, fast_recovery } => self.http_epilog(now, c, urls, fast_recovery, result, out),
            Policy::Misc { path, dynamic } => self.misc_epilog(now, c, &path, dynamic, result, out),
            // Event-driven checkers never have an attempt outstanding.
            Policy::File { .. } | Policy::Bfd { .. } => self.counters.unexpected_result += 1,
        }
    }

    /// `checker_log_all_failures` or the checker's `log_all_failures`.
    pub(crate) fn log_all(&self, c: usize) -> bool {
        self.cfg.options.log_all_failures || self.cfg.checkers[c].log_all_failures
    }

    fn connect_epilog(&mut self, now: Instant, c: usize, kind: Connect, result: CheckOutcome, out: &mut Vec<Action>) {
        let success = !matches!(result, CheckOutcome::Failure { .. });
        if let CheckOutcome::Failure { reason: Some(r) } = result {
            if self.checkers[c].is_up && self.log_all(c) {
                Engine::log(out, r);
            }
        }
        let cfg = &self.cfg.checkers[c];
        let (retry, delay_loop, dbr) = (cfg.retry, cfg.delay_loop, cfg.delay_before_retry);
        let st = &self.checkers[c];
        // TCP retries whatever its state; UDP and PING only while up (2.2.7).
        let may_conclude = kind == Connect::Tcp || st.is_up || !st.has_run;
        let mut delay = delay_loop;
        if success || (may_conclude && st.retry_it >= retry) {
            self.checkers[c].retry_it = 0;
            self.connect_verdict(c, kind, success, out);
        } else if kind == Connect::Tcp || st.is_up {
            delay = dbr;
            self.checkers[c].retry_it += 1;
        }
        self.checkers[c].has_run = true;
        self.rearm(c, now, delay);
    }

    fn connect_verdict(&mut self, c: usize, kind: Connect, success: bool, out: &mut Vec<Action>) {
        let rs = self.cfg.checkers[c].rs;
        let (is_up, has_run) = (self.checkers[c].is_up, self.checkers[c].has_run);
        let rs_name = self.rs_cfg(rs).name.clone();
        let rs_was_alive = self.rs_alive(rs);
        if success && (!is_up || !has_run) {
            Engine::log(out, kind.success(&rs_name));
            self.update_checker(c, true, out);
            if !is_up {
                self.checker_alert(c, rs_was_alive, kind.alert(true), out);
            }
        } else if !success && (is_up || !has_run) {
            let retry = self.cfg.checkers[c].retry;
            let line = if retry > 0 && has_run {
                kind.failed_after(&rs_name, &self.vs_cfg(rs.vs.0).name, retry)
            } else {
                kind.failed(&rs_name)
            };
            Engine::log(out, line);
            self.update_checker(c, false, out);
            if is_up {
                self.checker_alert(c, rs_was_alive, kind.alert(false), out);
            }
        }
    }

    /// keepalived `dns_final`.
    fn dns_epilog(&mut self, now: Instant, c: usize, result: CheckOutcome, out: &mut Vec<Action>) {
        let rs = self.cfg.checkers[c].rs;
        let (retry, dbr, delay_loop) =
            (self.cfg.checkers[c].retry, self.cfg.checkers[c].delay_before_retry, self.cfg.checkers[c].delay_loop);
        let (is_up, has_run, retry_it) = (self.checkers[c].is_up, self.checkers[c].has_run, self.checkers[c].retry_it);
        let rs_was_alive = self.rs_alive(rs);
        if let CheckOutcome::Failure { reason } = result {
            if is_up || !has_run {
                if let Some(mut text) = reason.filter(|_| self.log_all(c) || retry_it >= retry) {
                    if has_run && retry_it >= retry {
                        text.push_str(&format!(" after {retry} retries"));
                    }
                    Engine::log(out, format!("DNS_CHECK ({}) {text}", self.rs_cfg(rs).name));
                }
                if retry_it < retry {
                    self.checkers[c].retry_it += 1;
                    self.checkers[c].has_run = true;
                    self.rearm(c, now, dbr);
                    return;
                }
                self.update_checker(c, false, out);
                if is_up {
                    self.checker_alert(c, rs_was_alive, "=> DNS_CHECK: failed on service <=".into(), out);
                }
            }
        } else if !is_up || !has_run {
            self.update_checker(c, true, out);
            if !is_up {
                self.checker_alert(c, rs_was_alive, "=> DNS_CHECK: succeed on service <=".into(), out);
            }
        }
        self.checkers[c].retry_it = 0;
        self.rearm(c, now, delay_loop);
    }

    /// keepalived `smtp_final` (one host per checker: 2.2.7 makes each `host` block its own checker).
    fn smtp_epilog(&mut self, now: Instant, c: usize, result: CheckOutcome, out: &mut Vec<Action>) {
        let rs = self.cfg.checkers[c].rs;
        let (retry, dbr, delay_loop) =
            (self.cfg.checkers[c].retry, self.cfg.checkers[c].delay_before_retry, self.cfg.checkers[c].delay_loop);
        let (is_up, has_run) = (self.checkers[c].is_up, self.checkers[c].has_run);
        let rs_was_alive = self.rs_alive(rs);
        // smtp_start_check_thread resets the count (while down, failures
        // are retried too); retries (smtp_connect_thread) keep it.
        if !std::mem::take(&mut self.checkers[c].smtp_retry) {
            self.checkers[c].retry_it = 0;
        }
        if let CheckOutcome::Failure { reason } = result {
            let concluding = is_up || !has_run;
            if let Some(r) = &reason {
                if concluding && (self.log_all(c) || self.checkers[c].retry_it >= retry) {
                    Engine::log(out, format!("SMTP_CHECK {r}"));
                }
            }
            self.checkers[c].retry_it = self.checkers[c].retry_it.saturating_add(1);
            if self.checkers[c].retry_it <= retry {
                self.checkers[c].smtp_retry = true;
                self.rearm(c, now, dbr);
                return;
            }
            if concluding {
                self.update_checker(c, false, out);
                if is_up {
                    let message = match reason {
                        Some(r) => format!("=> CHECK failed on service : {r} <="),
                        None => "=> CHECK failed on service <=".to_string(),
                    };
                    self.checker_alert(c, rs_was_alive, message, out);
                }
            }
            self.rearm(c, now, delay_loop);
            return;
        }
        self.checkers[c].retry_it = 0;
        if !is_up || !has_run {
            Engine::log(out, format!("Remote SMTP server {} succeed on service.", self.rs_cfg(rs).name));
            self.update_checker(c, true, out);
            if !is_up {
                self.checker_alert(c, rs_was_alive, "=> CHECK succeed on service <=".into(), out);
            }
        }
        self.checkers[c].has_run = true;
        self.rearm(c, now, delay_loop);
    }
}
