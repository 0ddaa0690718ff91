//! HTTP_GET / SSL_GET (keepalived check_http.c `epilog`, `timeout_epilog`): one attempt tests one URL
//! ([`crate::CheckerState::step`]); the checker is up when every URL passed in turn, URLs are spaced by
//! `delay_loop`, a failing URL is retried `retry` times `delay_before_retry` apart.
use crate::engine::Engine;
use crate::types::{Action, CheckOutcome, Instant};

/// keepalived's `register_checker_t`.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Method {
    /// The URL passed.
    New,
    /// The URL failed while the checker is up (or has not run).
    Retry,
    /// The URL failed while the checker is down.
    Failed,
}

impl Engine {
    pub(crate) fn http_epilog(
        &mut self,
        now: Instant,
        c: usize,
        urls: usize,
        fast_recovery: bool,
        result: CheckOutcome,
        out: &mut Vec<Action>,
    ) {
        let method = if !matches!(result, CheckOutcome::Failure { .. }) {
            Method::New
        } else if self.checkers[c].is_up || !self.checkers[c].has_run {
            // timeout_epilog: the failure line only with log_all_failures; has_run is set before the epilog.
            if let CheckOutcome::Failure { reason: Some(r) } = result {
                if self.log_all(c) {
                    Engine::log(out, r);
                }
            }
            self.checkers[c].has_run = true;
            Method::Retry
        } else {
            Method::Failed
        };
        let all_passed = self.http_advance(c, method, urls.max(1));
        if all_passed {
            self.http_all_passed(c, out);
        } else if method == Method::Retry && self.checkers[c].retry_it > self.cfg.checkers[c].retry {
            self.http_url_failed(c, out);
        } else if method == Method::New && self.checkers[c].failed_step.is_some() {
            let st = &mut self.checkers[c];
            st.failed_step = None;
            st.step = 0;
            st.retry_it = 0;
        }
        let delay = self.http_delay(c, method);
        let st = &self.checkers[c];
        let now_again = fast_recovery && (!st.has_run || (!st.is_up && st.failed_step.is_none()));
        self.rearm(c, now, if now_again { 0 } else { delay });
    }

    /// Moves the URL iterator; true when the last URL passed and none is marked failed.
    fn http_advance(&mut self, c: usize, method: Method, urls: usize) -> bool {
        let st = &mut self.checkers[c];
        match method {
            Method::New => {
                st.retry_it = 0;
                if st.step + 1 >= urls {
                    st.step = urls;
                    return st.failed_step.is_none();
                }
                st.step += 1;
            }
            Method::Retry => st.retry_it += 1,
            Method::Failed => {}
        }
        false
    }

    fn http_all_passed(&mut self, c: usize, out: &mut Vec<Action>) {
        let rs = self.cfg.checkers[c].rs;
        let (is_up, has_run) = (self.checkers[c].is_up, self.checkers[c].has_run);
        if !is_up || !has_run {
            Engine::log(out, format!("Remote Web server {} succeed on service.", self.rs_cfg(rs).name));
            let rs_was_alive = self.rs_alive(rs);
            self.update_checker(c, true, out);
            if !is_up {
                self.checker_alert(c, rs_was_alive, "=> CHECK succeed on service <=".into(), out);
            }
            self.checkers[c].has_run = true;
        }
        self.checkers[c].step = 0;
        self.checkers[c].retry_it = 0;
    }

    fn http_url_failed(&mut self, c: usize, out: &mut Vec<Action>) {
        let rs = self.cfg.checkers[c].rs;
        let (is_up, has_run, retry_it) = (self.checkers[c].is_up, self.checkers[c].has_run, self.checkers[c].retry_it);
        if is_up || !has_run {
            let name = &self.rs_cfg(rs).name;
            let line = if has_run && self.cfg.checkers[c].retry > 0 {
                format!("HTTP_CHECK on service {name} failed after {} retries.", retry_it - 1)
            } else {
                format!("HTTP_CHECK on service {name} failed.")
            };
            Engine::log(out, line);
            let rs_was_alive = self.rs_alive(rs);
            self.update_checker(c, false, out);
            if is_up {
                let msg = "=> CHECK failed on service : HTTP request failed <=".to_string();
                self.checker_alert(c, rs_was_alive, msg, out);
            }
        }
        self.checkers[c].failed_step = Some(self.checkers[c].step);
    }

    fn http_delay(&mut self, c: usize, method: Method) -> u64 {
        let cfg = &self.cfg.checkers[c];
        let st = &mut self.checkers[c];
        if method == Method::New {
            if !st.has_run {
                st.retry_it = cfg.retry;
            }
            cfg.delay_loop
        } else if st.failed_step.is_some() {
            cfg.delay_before_retry.max(cfg.delay_loop)
        } else {
            cfg.delay_before_retry
        }
    }
}
