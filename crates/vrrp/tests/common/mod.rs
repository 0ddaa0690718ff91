//! A small deterministic LAN simulator for the sans-IO VRRP engine (smoltcp `tests/netsim.rs` style).
//!
//! * N nodes, one [`Router`] each (one instance per VRID), on one Ethernet segment;
//! * one shared virtual clock: the simulator always advances to the earliest pending event (a node's
//!   [`Router::poll_timeout`] or a packet delivery), so every timer fires at its exact due time;
//! * a seeded xorshift64* PRNG decides per-receiver loss and delivery jitter;
//! * partitions: nodes carry a segment number, a packet is delivered only between nodes of the same segment
//!   (checked at send and at delivery time);
//! * every `SendAdvert` becomes an [`RxAdvert`] (TTL 255, src = the instance's source address, dst = the
//!   VRRP multicast group or the unicast peer, priority, version, interval, VIPs, auth) fed as
//!   [`Input::Advert`] to every other live node of the segment that has an instance for the VRID and family
//!   (multicast), or to the peer owning the destination address (unicast);
//! * each node records its inputs as a JSONL event log ([`LogLine`]s) and its timestamped actions, so a
//!   node's run can be replayed exactly with [`keepalived_vrrp::replay`].
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use keepalived_vrrp::replay::{run_timers, LogLine};
use keepalived_vrrp::*;

pub const MCAST4: IpAddr = IpAddr::V4(Ipv4Addr::new(224, 0, 0, 18));
pub const MCAST6: IpAddr = IpAddr::V6(Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 0x12));

/// The seeded generator that decides loss and jitter (shared with the engines).
pub use keepalived_config::eventlog::Rng;

/// One simulated host.
pub struct Node {
    pub addr: IpAddr,
    pub router: Router,
    /// The configuration the router was built from (for replays).
    pub config: RouterConfig,
    pub alive: bool,
    /// Partition segment: nodes hear each other only within one segment.
    pub segment: u32,
    /// Recorded inputs (the event log).
    pub inputs: Vec<LogLine>,
    /// Every action with the time it was produced.
    pub actions: Vec<(Instant, Action)>,
    /// Time the node was killed (end of its event log).
    pub died: Option<Instant>,
    scratch: Vec<Action>,
}

/// A period during which a VRID had more than one master.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Dual {
    pub vrid: u8,
    pub start: Instant,
    pub end: Option<Instant>,
}

/// The simulated LAN.
pub struct Net {
    pub nodes: Vec<Node>,
    pub now: Instant,
    pub rng: Rng,
    /// Per-receiver loss probability (‰).
    pub loss_permille: u32,
    /// Fixed propagation delay and uniform extra jitter (µs).
    pub delay_us: u64,
    pub jitter_us: u64,
    queue: BTreeMap<(u64, u64), (usize, InstanceId, RxAdvert)>,
    seq: u64,
    /// (time, node, instance, state) from Notify actions.
    pub transitions: Vec<(Instant, usize, InstanceId, State)>,
    /// (time, node, vrid, priority) of every advert sent.
    pub sent: Vec<(Instant, usize, u8, u8)>,
    pub delivered: u64,
    pub lost: u64,
    pub duals: Vec<Dual>,
    vrids: Vec<u8>,
}

impl Net {
    pub fn new(seed: u64) -> Net {
        Net {
            nodes: Vec::new(),
            now: Instant::ZERO,
            rng: Rng::new(seed),
            loss_permille: 0,
            delay_us: 0,
            jitter_us: 0,
            queue: BTreeMap::new(),
            seq: 0,
            transitions: Vec::new(),
            sent: Vec::new(),
            delivered: 0,
            lost: 0,
            duals: Vec::new(),
            vrids: Vec::new(),
        }
    }

    /// Adds a node built from `config`; returns its index.
    pub fn add(&mut self, addr: IpAddr, config: RouterConfig) -> usize {
        self.add_router(addr, Router::new(config.clone()), config)
    }

    /// Adds a node with an already-built router (e.g. [`Router::from_config`]).
    pub fn add_router(&mut self, addr: IpAddr, router: Router, config: RouterConfig) -> usize {
        for i in router.instances() {
            if !self.vrids.contains(&i.config.vrid) {
                self.vrids.push(i.config.vrid);
            }
        }
        self.nodes.push(Node {
            addr,
            router,
            config,
            alive: true,
            segment: 0,
            inputs: Vec::new(),
            actions: Vec::new(),
            died: None,
            scratch: Vec::new(),
        });
        self.nodes.len() - 1
    }

    /// Feeds `Input::Start` to every node at the current time.
    pub fn start(&mut self) {
        for n in 0..self.nodes.len() {
            self.feed(n, Some(Input::Start));
        }
        self.observe();
    }

    /// Feeds an input to one node at the current time.
    pub fn input(&mut self, n: usize, input: Input) {
        if self.nodes[n].alive {
            self.feed(n, Some(input));
            self.observe();
        }
    }

    /// Powers a node off: it stops without sending anything.
    pub fn kill(&mut self, n: usize) {
        self.nodes[n].alive = false;
        self.nodes[n].died = Some(self.now);
        self.observe();
    }

    /// Splits the LAN: `groups[k]` lists the nodes of segment k (nodes not listed keep segment 0).
    pub fn partition(&mut self, groups: &[&[usize]]) {
        for n in &mut self.nodes {
            n.segment = 0;
        }
        for (k, g) in groups.iter().enumerate() {
            for &n in g.iter() {
                self.nodes[n].segment = k as u32;
            }
        }
    }

    pub fn heal(&mut self) {
        for n in &mut self.nodes {
            n.segment = 0;
        }
    }

    fn next_event(&self) -> Option<Instant> {
        let timers = self.nodes.iter().filter(|n| n.alive).filter_map(|n| n.router.poll_timeout()).min();
        let pkt = self.queue.keys().next().map(|k| Instant(k.0));
        match (timers, pkt) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Runs the LAN up to and including `until` (µs), then sets the clock to `until`.
    pub fn run_until(&mut self, until: u64) {
        let until = Instant(until);
        while let Some(t) = self.next_event() {
            if t > until {
                break;
            }
            self.now = self.now.max(t);
            for n in 0..self.nodes.len() {
                if self.nodes[n].alive && self.nodes[n].router.poll_timeout().is_some_and(|d| d <= self.now) {
                    self.feed(n, None);
                }
            }
            while let Some((&(at, seq), _)) = self.queue.iter().next() {
                if at > self.now.0 {
                    break;
                }
                let Some((to, inst, adv)) = self.queue.remove(&(at, seq)) else { break };
                self.deliver(to, inst, adv);
            }
            self.observe();
        }
        self.now = self.now.max(until);
    }

    /// Runs for `us` more microseconds.
    pub fn run_for(&mut self, us: u64) {
        let t = self.now.0 + us;
        self.run_until(t);
    }

    fn deliver(&mut self, to: usize, inst: InstanceId, adv: RxAdvert) {
        if !self.nodes[to].alive {
            return;
        }
        self.delivered += 1;
        self.feed(to, Some(Input::Advert { instance: inst, advert: adv }));
    }

    /// Runs node `n`'s due timers, then handles `input` at the current time (the replay discipline).
    fn feed(&mut self, n: usize, input: Option<Input>) {
        let now = self.now;
        let node = &mut self.nodes[n];
        let first = node.actions.len();
        run_timers(&mut node.router, now, &mut node.scratch, &mut node.actions);
        if let Some(input) = input {
            node.inputs.push(LogLine { t: now.0, input: Some(input.clone()) });
            node.scratch.clear();
            node.router.handle(now, input, &mut node.scratch);
            node.actions.extend(node.scratch.drain(..).map(|a| (now, a)));
        }
        for k in first..self.nodes[n].actions.len() {
            let (at, a) = self.nodes[n].actions[k].clone();
            self.on_action(n, at, &a);
        }
    }

    fn on_action(&mut self, n: usize, at: Instant, a: &Action) {
        match *a {
            Action::Notify { instance, state, .. } => self.transitions.push((at, n, instance, state)),
            Action::SendAdvert { instance, priority } => self.transmit(n, at, instance, priority),
            _ => {}
        }
    }

    fn transmit(&mut self, n: usize, at: Instant, instance: InstanceId, priority: u8) {
        let Some(inst) = self.nodes[n].router.instance(instance) else { return };
        let c = &inst.config;
        let src = c.src_ip.unwrap_or(self.nodes[n].addr);
        let mut adv = RxAdvert::new(src, MCAST4, c.version, c.vrid, priority, (c.advert_int_us / 10_000) as u16)
            .with_addrs(&c.vips);
        adv.auth = match c.auth {
            AuthConfig::None => RxAuth::None,
            AuthConfig::Pass(p) => RxAuth::Pass(p),
            AuthConfig::Ah => RxAuth::Ah { ok: true },
        };
        let (vrid, ipv6, unicast) = (c.vrid, c.ipv6, c.unicast);
        let dsts: Vec<IpAddr> = if unicast {
            c.unicast_peers.iter().map(|p| p.addr).collect()
        } else {
            vec![if ipv6 { MCAST6 } else { MCAST4 }]
        };
        self.sent.push((at, n, vrid, priority));
        let seg = self.nodes[n].segment;
        for dst in dsts {
            for m in 0..self.nodes.len() {
                let peer = &self.nodes[m];
                if m == n || !peer.alive || peer.segment != seg || (unicast && peer.addr != dst) {
                    continue;
                }
                let Some(to_inst) = peer.router.find_instance(vrid, ipv6, None) else { continue };
                if self.rng.chance(self.loss_permille) {
                    self.lost += 1;
                    continue;
                }
                let delay = self.delay_us + self.rng.below(self.jitter_us + 1);
                let mut a = adv;
                a.dst = dst;
                self.seq += 1;
                self.queue.insert((at.0 + delay, self.seq), (m, to_inst, a));
            }
        }
    }

    /// Live nodes whose instance for `vrid` is MASTER.
    pub fn masters(&self, vrid: u8) -> Vec<usize> {
        (0..self.nodes.len())
            .filter(|&n| {
                let node = &self.nodes[n];
                node.alive && node.router.instances().iter().any(|i| i.config.vrid == vrid && i.state == State::Master)
            })
            .collect()
    }

    pub fn state(&self, n: usize, vrid: u8) -> Option<State> {
        self.nodes[n].router.instances().iter().find(|i| i.config.vrid == vrid).map(|i| i.state)
    }

    fn observe(&mut self) {
        for k in 0..self.vrids.len() {
            let vrid = self.vrids[k];
            let dual = self.masters(vrid).len() > 1;
            let open = self.duals.iter().rposition(|d| d.vrid == vrid && d.end.is_none());
            match (dual, open) {
                (true, None) => self.duals.push(Dual { vrid, start: self.now, end: None }),
                (false, Some(p)) => self.duals[p].end = Some(self.now),
                _ => {}
            }
        }
    }

    /// First MASTER transition for `vrid` at or after `t`: (time, node).
    pub fn first_master_since(&self, vrid: u8, t: Instant) -> Option<(Instant, usize)> {
        self.transitions
            .iter()
            .find(|(at, n, i, s)| {
                *at >= t
                    && *s == State::Master
                    && self.nodes[*n].router.instance(*i).is_some_and(|x| x.config.vrid == vrid)
            })
            .map(|(at, n, _, _)| (*at, *n))
    }

    /// Last advert node `n` sent for `vrid` at or before `t`.
    pub fn last_advert(&self, n: usize, vrid: u8, t: Instant) -> Option<Instant> {
        self.sent.iter().filter(|(at, m, v, _)| *m == n && *v == vrid && *at <= t).map(|x| x.0).next_back()
    }

    /// Node `n`'s event log, ended by a timers-only line at its death or the current time.
    pub fn event_log(&self, n: usize) -> Vec<LogLine> {
        let mut l = self.nodes[n].inputs.clone();
        l.push(LogLine { t: self.nodes[n].died.unwrap_or(self.now).0, input: None });
        l
    }
}

/// Node address 10.0.0.(n+1).
pub fn node_addr(n: usize) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(10, 0, 0, n as u8 + 1))
}

pub const VIP: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 100));

/// A one-instance router: VRID `vrid`, VIP 10.0.0.100, source address `node_addr(n)`.
pub fn instance(n: usize, vrid: u8, prio: u8, version: u8, advert_int_us: u64) -> InstanceConfig {
    let mut c = InstanceConfig::new(&format!("VI_{vrid}"), vrid, prio);
    c.vips = vec![VIP];
    c.src_ip = Some(node_addr(n));
    c.version = version;
    c.advert_int_us = advert_int_us;
    c
}

pub fn single(c: InstanceConfig) -> RouterConfig {
    RouterConfig { options: EngineOptions::default(), instances: vec![c], groups: vec![] }
}
