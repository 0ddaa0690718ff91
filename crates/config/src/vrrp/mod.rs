//! Area `vrrp`: model, keyword handlers, validation.

pub mod model;
mod parse;
mod validate;

pub use parse::ROOT;
pub use validate::validate;

/// The VIPs (with their devices) and excluded VIPs of the instance being read, for keepalived's
/// `vip_is_duplicate`; brought up to date from the instance before each check.
#[derive(Debug, Default)]
pub struct VipIndex {
    /// The instance indexed (the count of instances when it was last) and how many of its
    /// addresses are in.
    instance: usize,
    seen: (usize, usize),
    pub(crate) vips: std::collections::HashMap<std::net::IpAddr, Vec<Option<String>>>,
    pub(crate) evips: std::collections::HashSet<(std::net::IpAddr, Option<String>)>,
}

impl VipIndex {
    /// Index what `v` (the `instances`-th instance) gained since the last call; a new instance
    /// starts over.
    pub(crate) fn catch_up(&mut self, instances: usize, v: &model::VrrpInstance) {
        if self.instance != instances || self.seen.0 > v.vips.len() || self.seen.1 > v.evips.len() {
            *self = VipIndex { instance: instances, ..Default::default() };
        }
        for a in &v.vips[self.seen.0..] {
            self.vips.entry(a.addr).or_default().push(a.dev.clone());
        }
        for a in &v.evips[self.seen.1..] {
            self.evips.insert((a.addr, a.dev.clone()));
        }
        self.seen = (v.vips.len(), v.evips.len());
    }
}
