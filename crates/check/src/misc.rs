//! MISC_CHECK (keepalived check_misc.c `misc_check_child_thread`): exit 0 (or 2..255 with misc_dynamic)
//! succeeds, anything else fails after `retry` more attempts; the next run is `delay_loop` (or
//! `delay_before_retry` while retrying) after the previous one *started*.
use crate::engine::Engine;
use crate::types::{Action, CheckOutcome, Instant};

/// How the attempt ended, as keepalived classifies it.
struct Verdict {
    /// `script_exit_type`: `succeeded`, `failed`, `timed out`; None = nothing to report.
    exit_type: Option<&'static str>,
    success: bool,
    /// `(exited with status N)` / `(due to signal N)`.
    reason: Option<String>,
    /// A retry follows: log only (with log_all_failures), no state change.
    message_only: bool,
}

/// The exit status in a failure reason `exited with status N`.
fn exit_status(reason: &str) -> Option<i64> {
    reason.strip_prefix("exited with status ")?.trim().parse().ok()
}

impl Engine {
    pub(crate) fn misc_epilog(
        &mut self,
        now: Instant,
        c: usize,
        path: &str,
        dynamic: bool,
        result: CheckOutcome,
        out: &mut Vec<Action>,
    ) {
        let result = match result {
            CheckOutcome::Weight(w) if !dynamic => {
                CheckOutcome::Failure { reason: Some(format!("exited with status {}", w.saturating_add(2))) }
            }
            r => r,
        };
        let v = match result {
            CheckOutcome::Success => self.misc_success(c, 0, out),
            CheckOutcome::Weight(w) => self.misc_success(c, w.saturating_add(2), out),
            CheckOutcome::Failure { reason } => self.misc_failure(c, reason),
        };
        if let Some(exit_type) = v.exit_type {
            self.misc_report(c, path, exit_type, &v, out);
        }
        let cfg = &self.cfg.checkers[c];
        let delay = if self.checkers[c].retry_it > 0 { cfg.delay_before_retry } else { cfg.delay_loop };
        let mut next = self.checkers[c].last_ran.add_us(delay);
        if next <= now {
            next = now.add_us(1);
        }
        self.checkers[c].has_run = true;
        self.schedule(c, next);
    }

    /// Exit 0, or 2..255 with misc_dynamic (`status`): a new status changes the weight to `status - 2`.
    fn misc_success(&mut self, c: usize, status: i64, out: &mut Vec<Action>) -> Verdict {
        if status != self.checkers[c].last_exit_code {
            let rs = self.cfg.checkers[c].rs;
            let iweight = self.rs_cfg(rs).weight;
            let cur = self.checkers[c].cur_weight;
            let mut w = self.rs[rs.vs.0][rs.rs].effective_weight.saturating_sub(cur);
            let new_cur = if status != 0 { status - 2 - iweight } else { 0 };
            self.checkers[c].cur_weight = new_cur;
            w = w.saturating_add(new_cur);
            self.update_weight(rs, w, true, out);
            self.checkers[c].last_exit_code = status;
        }
        let st = &mut self.checkers[c];
        let report = !st.is_up || !st.has_run;
        st.retry_it = 0;
        Verdict { exit_type: report.then_some("succeeded"), success: report, reason: None, message_only: false }
    }

    /// A failed, killed or timed-out script.
    fn misc_failure(&mut self, c: usize, reason: Option<String>) -> Verdict {
        let mut v = Verdict { exit_type: None, success: false, reason: None, message_only: false };
        let st = &self.checkers[c];
        if !st.is_up && st.has_run {
            return v;
        }
        v.exit_type = Some(if reason.is_some() { "failed" } else { "timed out" });
        let status = reason.as_deref().and_then(exit_status);
        v.reason = reason;
        if self.checkers[c].retry_it < self.cfg.checkers[c].retry {
            self.checkers[c].retry_it += 1;
            if self.log_all(c) {
                v.message_only = true;
            } else {
                v.exit_type = None;
            }
            return v;
        }
        self.checkers[c].retry_it = 0;
        if let Some(status) = status {
            // Exit status failures give the dynamic weight back; signals and timeouts keep it.
            let rs = self.cfg.checkers[c].rs;
            let cur = self.checkers[c].cur_weight;
            let d = self.dest_mut(rs);
            d.effective_weight = d.effective_weight.saturating_sub(cur);
            self.checkers[c].cur_weight = 0;
            self.checkers[c].last_exit_code = status;
        }
        v
    }

    /// The log line, then (unless a retry follows) the state change and the alert.
    fn misc_report(&mut self, c: usize, path: &str, exit_type: &str, v: &Verdict, out: &mut Vec<Action>) {
        let rs = self.cfg.checkers[c].rs;
        let retry = self.cfg.checkers[c].retry;
        let retry_it = self.checkers[c].retry_it;
        let message = match (v.success, retry, retry_it) {
            (true, _, _) => String::new(),
            (false, 0, _) => " with retry disabled".to_string(),
            (false, r, 1) => format!(", will do {r} {}", if r == 1 { "retry" } else { "retries" }),
            (false, r, i) if i > 1 => format!(" on retry {}/{r}", i - 1),
            (false, r, _) => format!(" after {r} {}", if r == 1 { "retry" } else { "retries" }),
        };
        let who = format!(
            "Misc check for [{} VS {}] by [{path}] {exit_type}{message}",
            self.rs_cfg(rs).name,
            self.vs_cfg(rs.vs.0).name
        );
        match &v.reason {
            Some(r) => Engine::log(out, format!("{who} ({r}).")),
            None => Engine::log(out, format!("{who}.")),
        }
        if v.message_only {
            return;
        }
        let rs_was_alive = self.rs_alive(rs);
        self.update_checker(c, v.success, out);
        if !v.success {
            self.checkers[c].cur_weight = 0;
        }
        self.checker_alert(c, rs_was_alive, format!("=> MISC CHECK {exit_type} on service <="), out);
    }
}
