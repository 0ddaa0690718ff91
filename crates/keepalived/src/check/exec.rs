//! The checker child's work: the engine's actions carried out (IPVS,
//! attempts, notifies, logs), results fed back, timers, reload and stop.

use super::*;
use keepalived_config::global::model::LvsTimeouts;

/// Timers due this close together share one wake-up (see
/// [`CheckChild::run_due`]; docs/compat.md).
pub(super) const COALESCE: Duration = Duration::from_millis(1);

/// An IPVS change for every service of a virtual server.
fn for_services(ipvs: &mut Option<IpvsTable>, m: &Model, vs: VsId, f: impl Fn(&mut IpvsTable, &SvcEntry)) {
    let (Some(t), Some(svcs)) = (ipvs.as_mut(), m.services.get(vs.0)) else { return };
    for s in svcs {
        f(t, s);
    }
}

#[derive(Clone, Copy)]
enum DestOp {
    Add,
    Edit,
    Del,
}

/// A destination change in every service of a virtual server.
fn dest_op(ipvs: &mut Option<IpvsTable>, m: &Model, vs: VsId, d: Dest, weight: i64, op: DestOp) {
    let Some(spec) = m.dest_spec(vs, d) else { return };
    for_services(ipvs, m, vs, |t, s| {
        let dest = ipvs_map::dest(s, &spec, weight);
        match op {
            DestOp::Add => t.add_dest(&s.service.key, &dest),
            DestOp::Edit => t.edit_dest(&s.service.key, &dest),
            DestOp::Del => t.del_dest(&s.service.key, &dest),
        }
    });
}

/// The IPVS actions. `unsynced`: group entries 2.2.7 never deletes (see
/// [`CheckChild::add_group_dests`]).
fn exec_model(ipvs: &mut Option<IpvsTable>, m: &Model, unsynced: &Unsynced, a: Action) {
    match a {
        Action::AddService { vs } => for_services(ipvs, m, vs, |t, s| t.add_service(&s.service)),
        Action::EditService { vs } => for_services(ipvs, m, vs, |t, s| t.edit_service(&s.service)),
        Action::DelService { vs } => {
            let key = m.ec.virtual_servers.get(vs.0).map(|v| v.key.clone());
            for_services(ipvs, m, vs, |t, s| {
                if !key.as_ref().is_some_and(|k| unsynced.contains(&(k.clone(), s.service.key))) {
                    t.del_service(&s.service.key);
                }
            })
        }
        Action::AddDest { vs, dest, weight } => dest_op(ipvs, m, vs, dest, weight, DestOp::Add),
        Action::EditDest { vs, dest, weight } => dest_op(ipvs, m, vs, dest, weight, DestOp::Edit),
        Action::DelDest { vs, dest } => dest_op(ipvs, m, vs, dest, 0, DestOp::Del),
        Action::Flush => {
            if let Some(t) = ipvs.as_mut() {
                t.flush();
            }
        }
        _ => {}
    }
}

/// Group entries added at a reload, by virtual server and service.
pub(super) type Unsynced = std::collections::HashSet<(keepalived_check::VsKey, keepalived_netlink::ipvs::ServiceKey)>;

/// The entries a surviving `virtual_server group` gained or lost at a
/// reload (its group's ranges or fwmarks changed).
struct GroupChange {
    vs: VsId,
    old_vs: VsId,
    added: Vec<SvcEntry>,
    removed: Vec<SvcEntry>,
}

fn group_changes(old: &Model, new: &Model) -> Vec<GroupChange> {
    let mut out = Vec::new();
    for (nv, v) in new.ec.virtual_servers.iter().enumerate() {
        if !matches!(v.key, keepalived_check::VsKey::Group { .. }) {
            continue;
        }
        let Some(ov) = old.ec.virtual_servers.iter().position(|o| o.key == v.key) else { continue };
        let (Some(os), Some(ns)) = (old.services.get(ov), new.services.get(nv)) else { continue };
        // Whole entries are compared, as keepalived's `vsge_iseq`: a range
        // that changed is a removed entry and an added one.
        let has = |l: &[SvcEntry], e: &SvcEntry| l.iter().any(|x| x.entry == e.entry && x.service.key == e.service.key);
        let added: Vec<SvcEntry> = ns.iter().filter(|e| !has(os, e)).cloned().collect();
        let removed: Vec<SvcEntry> = os.iter().filter(|e| !has(ns, e)).cloned().collect();
        if !added.is_empty() || !removed.is_empty() {
            out.push(GroupChange { vs: VsId(nv), old_vs: VsId(ov), added, removed });
        }
    }
    out
}

impl CheckChild {
    /// keepalived `start_check`: `lvs_timeouts`, the sync daemon, `lvs_flush`.
    pub(super) fn start_ipvs(&mut self) {
        let g = &self.model.cfg.global;
        let Some(t) = self.ipvs.as_mut() else { return };
        t.set_timeouts(Some(&g.lvs_timeouts));
        self.sync_own = Some(sync_daemon::Own::start(&mut t.ipvs, g));
        if g.lvs_flush {
            t.flush();
        }
    }

    /// Carry out one action; `old`: it is about the configuration before a
    /// reload ([`Action::Retired`]).
    pub(super) fn exec(&mut self, reg: &Registry, a: Action, old: bool) {
        match a {
            Action::StartCheck { checker } => self.start_check(reg, checker),
            // The old engine's attempts are all abandoned at reload.
            Action::CancelCheck { checker } if !old => self.cancel_check(reg, checker),
            Action::CancelCheck { .. } => {}
            Action::Log(line) => info!("{line}"),
            // The notifier keeps the previous configuration's tables for
            // retired notifies itself.
            Action::NotifyRs { rs, up } if !old => self.notifier.rs(rs, up),
            Action::NotifyQuorum { vs, up } if !old => self.notifier.quorum(vs, up),
            Action::SmtpAlert { about, up, message } if !old => self.notifier.smtp(about, up, &message),
            a @ (Action::NotifyRs { .. } | Action::NotifyQuorum { .. } | Action::SmtpAlert { .. }) => {
                self.notifier.handle(&Action::Retired(Box::new(a)));
            }
            Action::Retired(inner) => self.exec(reg, *inner, true),
            other => {
                let m = if old { self.old.as_ref() } else { Some(&self.model) };
                if let Some(m) = m {
                    exec_model(&mut self.ipvs, m, &self.unsynced, other);
                }
            }
        }
    }

    /// Run one attempt of `c` (TCP_CHECK, HTTP_GET/SSL_GET and MISC_CHECK
    /// are polled in this build; the others were taken out of the engine).
    fn start_check(&mut self, reg: &Registry, c: CheckerId) {
        let Some((mc, cc)) = self.model.checker(c) else { return };
        match &mc.kind {
            CheckerKind::Tcp => {
                let timeout = cc.connect_timeout.unwrap_or(DEFAULT_CONNECT_TIMEOUT_US);
                if let Some(t) = self.tcp_target(c) {
                    self.start_tcp(reg, c, &t, timeout, cc.delay_loop);
                }
            }
            CheckerKind::Http(_) => {
                let delay_loop = cc.delay_loop;
                self.start_http(reg, c, delay_loop);
            }
            CheckerKind::Misc(m) => {
                let delay_loop = self.model.vs(cc.rs.vs).map(|v| v.delay_loop).unwrap_or(cc.delay_loop);
                if !misc::start(&mut self.scripts, c, m, delay_loop, &self.script_opts) {
                    self.pending.push_back(Input::CheckResult { checker: c, result: misc::spawn_failed() });
                }
            }
            CheckerKind::Smtp(_) | CheckerKind::Dns(_) | CheckerKind::Udp(_) | CheckerKind::Ping => {
                self.start_proto(reg, c)
            }
            _ => {}
        }
    }

    /// Where a TCP_CHECK connects: `connect_ip`/`connect_port`, else the
    /// real server; `bindto` with `bind_port`.
    pub(super) fn tcp_target(&self, c: CheckerId) -> Option<TcpTarget> {
        let (mc, cc) = self.model.checker(c)?;
        let rs = self.model.rs(cc.rs)?;
        let co = mc.conn.clone().unwrap_or_default();
        let dst = SocketAddr::new(co.connect_ip.unwrap_or(rs.addr), co.connect_port.unwrap_or(rs.port));
        let bindto = co.bindto.map(|a| SocketAddr::new(a, co.bind_port.unwrap_or(0)));
        Some(TcpTarget { dst, bindto, bind_if: co.bind_if, fwmark: co.fwmark })
    }

    fn start_tcp(&mut self, reg: &Registry, c: CheckerId, t: &TcpTarget, timeout_us: u64, delay_loop_us: u64) {
        let now = std::time::Instant::now();
        match self.tcp.start(reg, c, t, Duration::from_micros(timeout_us), now) {
            Started::Pending => {}
            Started::Done(r) => self.queue_tcp_result(c, r),
            // keepalived: "TCP socket bind failed. Rescheduling." - no result.
            Started::Error => self.retries.push((now + Duration::from_micros(delay_loop_us), c)),
        }
    }

    fn queue_tcp_result(&mut self, c: CheckerId, r: tcp::TcpResult) {
        let name = self.model.ec.checker(c).and_then(|cc| self.model.ec.rs(cc.rs)).map(|r| r.name.clone());
        let result = match r.reason(name.as_deref().unwrap_or("")) {
            None => CheckOutcome::Success,
            Some(reason) => CheckOutcome::Failure { reason: Some(reason) },
        };
        self.pending.push_back(Input::CheckResult { checker: c, result });
    }

    pub(super) fn tcp_result(&mut self, reg: &Registry, c: CheckerId, r: tcp::TcpResult) {
        self.queue_tcp_result(c, r);
        self.drain(reg);
    }

    fn cancel_check(&mut self, reg: &Registry, c: CheckerId) {
        self.tcp.cancel(reg, |x| *x == c);
        self.http.probes.cancel(reg, |x| *x == c);
        self.proto.cancel(reg, |x| *x == c);
        self.scripts.abandon(|x| *x == c);
        self.retries.retain(|(_, x)| *x != c);
    }

    /// A MISC_CHECK script ended. One we killed at its timeout has its
    /// whole group killed too (keepalived `misc_check_child_thread`).
    pub(super) fn misc_result(&mut self, reg: &Registry, c: CheckerId, pid: nix::unistd::Pid, exit: Exit) {
        misc::finished(pid, exit);
        let dynamic = match self.model.checker(c) {
            Some((ModelChecker { kind: CheckerKind::Misc(m), .. }, _)) => m.dynamic,
            _ => false,
        };
        self.feed(reg, Input::CheckResult { checker: c, result: misc::outcome(exit, dynamic) });
    }

    /// When the loop must wake: the engine's next checker, a connect
    /// timeout, a script timeout, a rescheduled attempt. Instants, not
    /// durations: an unchanged deadline does not re-arm the loop's timer.
    pub(super) fn next_deadline(&mut self) -> Option<std::time::Instant> {
        let engine = self.engine.poll_timeout().map(|t| self.epoch + Duration::from_micros(t.0));
        let tcp = self.tcp.next_deadline();
        let proto = self.proto.next_deadline();
        let retry = self.retries.iter().map(|(t, _)| *t).min();
        let now = std::time::Instant::now();
        let script = self.scripts.poll_timeout(now).map(|d| now + d);
        let http = self.http.probes.next_deadline();
        [engine, tcp, proto, retry, script, http].into_iter().flatten().min()
    }

    /// Everything due now, and the checker starts and connect timeouts due
    /// within [`COALESCE`]: run a little early rather than each on a
    /// wake-up of its own (keepalived would run them no earlier than that
    /// slack, and never later than we do).
    pub(super) fn run_due(&mut self, reg: &Registry) {
        let now = std::time::Instant::now();
        let horizon = now + COALESCE;
        for (c, r) in self.tcp.expired(reg, horizon) {
            self.queue_tcp_result(c, r);
        }
        self.http_expired(reg);
        for (c, result) in self.proto.expired(reg, now) {
            self.pending.push_back(Input::CheckResult { checker: c, result });
        }
        // Timed-out scripts are reported when reaped.
        let _ = self.scripts.on_timers(now);
        if self.retries.iter().any(|(t, _)| *t <= now) {
            let due: Vec<CheckerId> = self.retries.iter().filter(|(t, _)| *t <= now).map(|(_, c)| *c).collect();
            self.retries.retain(|(t, _)| *t > now);
            for c in due {
                self.start_check(reg, c);
            }
        }
        let mut out = Vec::new();
        let at = self.now();
        let until = keepalived_check::Instant(at.0 + COALESCE.as_micros() as u64);
        self.engine.handle_timeout_early(at, until, &mut out);
        self.exec_all(reg, out);
        self.drain(reg);
    }

    /// SIGHUP: the engine takes over its state in the new configuration;
    /// surviving services and destinations keep their IPVS entries, the
    /// removed ones are deleted (with the old configuration's model), the
    /// new ones added.
    pub(super) fn reload_config(&mut self, cfg: &Config, reg: &Registry) -> bool {
        if !cfg.lvs.virtual_servers.is_empty() || !self.model.cfg.lvs.virtual_servers.is_empty() {
            info!("Reinitializing ipvs");
        }
        if self.ipvs.is_none() && !cfg.lvs.virtual_servers.is_empty() {
            match open_ipvs() {
                Ok(t) => self.ipvs = Some(t),
                Err(e) => info!("{e}"),
            }
        }
        let new = Model::new(cfg);
        let mut out = Vec::new();
        let engine = Engine::reload(&self.engine, new.ec.clone(), self.now(), &mut out);
        self.old = Some(std::mem::replace(&mut self.model, new));
        let old_engine = std::mem::replace(&mut self.engine, engine);
        self.carry_unsynced();
        self.tcp.cancel(reg, |_| true);
        self.http.reset(reg, cfg);
        self.proto.cancel(reg, |_| true);
        self.scripts.abandon(|_| true);
        self.retries.clear();
        self.ping_range = ping_range(cfg, std::mem::take(&mut self.ping_range));
        if let Some(t) = self.ipvs.as_mut() {
            let lt = &self.model.cfg.global.lvs_timeouts;
            t.set_timeouts((lt != &LvsTimeouts::default()).then_some(lt));
        }
        self.notifier.reload(cfg, &self.model.ec);
        if let (Some(own), Some(t)) = (self.sync_own.as_mut(), self.ipvs.as_mut()) {
            own.reload(&mut t.ipvs, &self.model.cfg.global);
        }
        let files = self.reload_files(cfg, reg);
        self.reload_addrs(reg);
        let old = self.old.take().unwrap_or_else(|| Model::new(&Config::default()));
        let groups = group_changes(&old, &self.model);
        self.old = Some(old);
        // keepalived: clear_diff_services (removed entries) before
        // init_services (new entries) and their sync.
        groups.iter().for_each(|c| self.remove_entries(c, &old_engine));
        self.add_group_services(&groups);
        self.exec_all(reg, out);
        self.add_group_dests(&groups);
        self.old = None;
        for (name, value) in files {
            self.pending.push_back(Input::FileValue { name, value });
        }
        self.drain(reg);
        true
    }

    /// Entries 2.2.7 will not delete stay so while their group keeps them.
    fn carry_unsynced(&mut self) {
        let keep: Unsynced = self
            .model
            .ec
            .virtual_servers
            .iter()
            .zip(&self.model.services)
            .flat_map(|(v, svcs)| svcs.iter().map(move |s| (v.key.clone(), s.service.key)))
            .filter(|k| self.unsynced.contains(k))
            .collect();
        self.unsynced = keep;
    }

    /// ha_suspend after a reload: the engine keeps the address counts of
    /// the virtual servers it carried over; the new ones learn theirs.
    fn reload_addrs(&mut self, reg: &Registry) {
        self.addrs = VsAddresses::new(&self.model.cfg);
        let Some(a) = self.addrs.as_mut() else { return };
        if let Err(e) = a.register(reg, ADDR_TOKEN) {
            warn!("Unable to watch the virtual server addresses: {e}");
        }
        let old = self.old.as_ref().map(|m| &m.ec.virtual_servers[..]).unwrap_or(&[]);
        let new = &self.model.ec.virtual_servers;
        let fresh = |vs: VsId| new.get(vs.0).is_some_and(|v| !old.iter().any(|o| o.key == v.key));
        let inputs = a.resync_for(&fresh);
        self.pending.extend(inputs);
    }

    /// A surviving group's new entries: their services, added before the
    /// engine's actions so that destinations it adds reach them too.
    fn add_group_services(&mut self, g: &[GroupChange]) {
        let Some(t) = self.ipvs.as_mut() else { return };
        for c in g {
            c.added.iter().for_each(|s| t.add_service(&s.service));
        }
    }

    /// Then the destinations the engine carried over (keepalived
    /// `ipvs_group_sync_entry`: alive ones, and inhibited ones still set,
    /// at weight 0).
    fn add_group_dests(&mut self, g: &[GroupChange]) {
        for c in g {
            for r in 0..self.model.ec.virtual_servers.get(c.vs.0).map_or(0, |v| v.real_servers.len()) {
                self.sync_entry_dest(c, RsId { vs: c.vs, rs: r });
            }
            // 2.2.7 counts a group entry's live destinations to know when
            // to delete its service, but the destinations added to a new
            // entry here are not counted: at stop the count wraps and the
            // service stays. Kept as 2.2.7 does.
            if let Some(v) = self.model.ec.virtual_servers.get(c.vs.0) {
                self.unsynced.extend(c.added.iter().map(|s| (v.key.clone(), s.service.key)));
            }
        }
    }

    fn sync_entry_dest(&mut self, c: &GroupChange, id: RsId) {
        let Some(st) = self.engine.rs_state(id) else { return };
        if !(st.alive || (st.inhibit && st.set)) {
            return;
        }
        let weight = if st.inhibit && !st.alive { 0 } else { st.effective_weight };
        let (Some(spec), Some(t)) = (self.model.dest_spec(c.vs, Dest::Real(id)), self.ipvs.as_mut()) else { return };
        c.added.iter().for_each(|s| t.add_dest(&s.service.key, &ipvs_map::dest(s, &spec, weight)));
    }

    /// A removed entry loses the alive destinations (unless
    /// `lvs_flush_on_stop`); its service is deleted only when none was
    /// alive: 2.2.7 removes them without counting them down.
    fn remove_entries(&mut self, c: &GroupChange, old: &Engine) {
        let Some(m) = self.old.as_ref() else { return };
        let n = m.ec.virtual_servers.get(c.old_vs.0).map_or(0, |v| v.real_servers.len());
        let alive: Vec<RsId> = (0..n)
            .map(|r| RsId { vs: c.old_vs, rs: r })
            .filter(|id| old.rs_state(*id).is_some_and(|s| s.alive))
            .collect();
        let flush = m.cfg.global.lvs_flush_on_stop != keepalived_config::global::model::LvsFlushOnStop::None;
        let Some(t) = self.ipvs.as_mut() else { return };
        for s in &c.removed {
            for id in alive.iter().filter(|_| !flush) {
                if let Some(spec) = m.dest_spec(c.old_vs, Dest::Real(*id)) {
                    t.del_dest(&s.service.key, &ipvs_map::dest(s, &spec, 0));
                }
            }
            if alive.is_empty() {
                t.del_service(&s.service.key);
            }
        }
    }

    /// SIGTERM (keepalived `checker_terminate_phase1`/`2`): scripts
    /// terminated; unless `-I`, every service removed as the engine says
    /// (with `lvs_flush_on_stop`) and the stop notifies run; the sync
    /// daemon stopped and the timeouts put back.
    pub(super) fn stop(&mut self, reg: &Registry) {
        self.scripts.terminate_all();
        self.notifier.kill_scripts();
        self.tcp.cancel(reg, |_| true);
        self.http.probes.cancel(reg, |_| true);
        self.proto.cancel(reg, |_| true);
        self.ping_range.restore();
        if self.dont_release {
            info!("Leaving the IPVS entries in place (--dont-release-ipvs)");
        } else {
            let mut out = Vec::new();
            let now = self.now();
            self.engine.handle(now, Input::Shutdown, &mut out);
            self.exec_all(reg, out);
        }
        if let Some(t) = self.ipvs.as_mut() {
            if let Some(own) = self.sync_own.as_mut() {
                own.shutdown(&mut t.ipvs);
            }
            self.sync_follow.shutdown(&mut t.ipvs);
            t.restore_timeouts();
        }
        self.notifier.shutdown();
    }

    /// Watch the FILE_CHECK track_files in the loop.
    pub(super) fn register_files(&mut self, reg: &Registry) {
        let Some(f) = self.files.as_ref() else { return };
        let fd = f.raw_fd();
        if let Err(e) = reg.register(&mut mio::unix::SourceFd(&fd), FILE_TOKEN, mio::Interest::READABLE) {
            warn!("Unable to watch the FILE_CHECK track files: {e}");
        }
    }

    /// The FILE_CHECK values that changed.
    pub(super) fn file_values(&mut self) -> Option<Vec<Input>> {
        let mut out = Vec::new();
        self.files.as_mut()?.on_ready(&mut out);
        Some(out.into_iter().map(|(name, value)| Input::FileValue { name, value }).collect())
    }

    /// Reload: the track_files of the new configuration watched; their
    /// values, to feed once the engine is reloaded.
    fn reload_files(&mut self, cfg: &Config, reg: &Registry) -> Vec<(String, i64)> {
        if let Some(f) = self.files.take() {
            let fd = f.raw_fd();
            let _ = reg.deregister(&mut mio::unix::SourceFd(&fd));
        }
        let (files, values) = FileChecks::reload(cfg, &self.model.ec).map_or((None, Vec::new()), |(f, v)| (Some(f), v));
        self.files = files;
        self.register_files(reg);
        values
    }
}
