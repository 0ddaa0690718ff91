//! Receive checks: keepalived's `vrrp_check_packet` over the fields the
//! decoder hands over (RFC 5798 §7.1; RFC 3768 §7.1 for VRRPv2
//! authentication and interval), in keepalived's order. Every failure is a
//! [`DropReason`], counted and logged by [`crate::drop::report`].

use std::net::IpAddr;

use super::{Instance, Router, PRIO_OWNER};
use crate::config::AuthConfig;
use crate::drop::{report, DropReason};
use crate::types::{Action, InstanceId, RxAdvert, RxAuth};

/// The verdict on a received advert.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Rx {
    Ok,
    Drop,
}

impl Router {
    /// keepalived's vrrp_check_packet: `check_vip` is keepalived's
    /// `check_vip_addr` (the address list is checked on a master change or
    /// unless `skip_check_adv_addr`).
    pub(super) fn check_packet(&mut self, i: InstanceId, adv: &RxAdvert, check_vip: bool, out: &mut Vec<Action>) -> Rx {
        let drop_vip = self.options.drop_on_vip_mismatch;
        let global_check_src = self.options.check_unicast_src;
        let inst = &mut self.instances[i];
        let verdict = inst.check_fields(adv).and_then(|()| {
            if let Some(note) = inst.v3_interval_note(adv) {
                inst.report(note, adv.src, out);
            }
            inst.check_delivery(adv)
        });
        let verdict = verdict.and_then(|()| {
            // Correct type, version and length: keepalived counts it received.
            inst.stats.advert_rcvd += 1;
            inst.check_addrs(adv, check_vip, drop_vip, out)
        });
        match verdict.and_then(|()| inst.check_unicast_src(adv, global_check_src)) {
            Err(reason) => {
                inst.report(reason, adv.src, out);
                Rx::Drop
            }
            Ok(()) => {
                if adv.priority == 0 {
                    inst.stats.pri_zero_rcvd += 1;
                }
                Rx::Ok
            }
        }
    }
}

impl Instance {
    fn report(&mut self, reason: DropReason, src: IpAddr, out: &mut Vec<Action>) {
        report(reason, &self.config.name, src, &mut self.stats, &mut self.rlflags, out);
    }

    /// Length, TTL / hop limit (multicast only), version, VRRPv2
    /// authentication and interval, type.
    fn check_fields(&self, adv: &RxAdvert) -> Result<(), DropReason> {
        if !adv.length_ok {
            return Err(DropReason::Length);
        }
        match adv.ttl_or_hoplimit {
            Some(ttl) if ttl != 255 && !self.config.unicast => return Err(DropReason::Ttl { ttl }),
            _ => {}
        }
        if adv.version != self.config.version {
            return Err(DropReason::Version { got: adv.version, want: self.config.version });
        }
        if self.config.version == 2 {
            self.check_v2_auth(adv)?;
            if self.config.advert_int_us != u64::from(adv.adver_int_cs) * 10_000 {
                let (mine_s, rcvd_s) = (self.config.advert_int_us / 1_000_000, adv.adver_int_cs / 100);
                return Err(DropReason::IntervalV2 { mine_s, rcvd_s });
            }
        }
        if adv.kind != 1 {
            return Err(DropReason::Type { got: adv.kind });
        }
        Ok(())
    }

    /// VRRPv2 authentication (RFC 3768 §5.3.6, §7.1): type valid, the
    /// instance's, then PASS data or the AH ICV.
    fn check_v2_auth(&self, adv: &RxAdvert) -> Result<(), DropReason> {
        let got = match adv.auth {
            RxAuth::None => 0,
            RxAuth::Pass(_) => 1,
            RxAuth::Ah { .. } => 2,
            RxAuth::Other(got) => return Err(DropReason::InvalidAuthType { got }),
        };
        let want = match self.config.auth {
            AuthConfig::None => 0,
            AuthConfig::Pass(_) => 1,
            AuthConfig::Ah => 2,
        };
        if got != want {
            return Err(DropReason::AuthTypeMismatch { got, want });
        }
        match (adv.auth, self.config.auth) {
            (RxAuth::Pass(p), AuthConfig::Pass(ours)) => {
                // constant-time comparison
                let diff = p.iter().zip(ours.iter()).fold(0u8, |acc, (a, b)| acc | (a ^ b));
                if diff != 0 {
                    return Err(DropReason::BadPassword);
                }
            }
            (RxAuth::Ah { ok: false }, _) => return Err(DropReason::AhIcv),
            _ => {}
        }
        Ok(())
    }

    /// A VRRPv3 interval different from ours is logged, not dropped.
    fn v3_interval_note(&self, adv: &RxAdvert) -> Option<DropReason> {
        let c = &self.config;
        (c.version == 3 && c.advert_int_us != u64::from(adv.adver_int_cs) * 10_000)
            .then_some(DropReason::IntervalV3 { ours_cs: c.advert_int_us / 10_000, rcvd_cs: adv.adver_int_cs })
    }

    /// Checksum, multicast vs unicast destination, `owner_ignore_adverts`.
    fn check_delivery(&self, adv: &RxAdvert) -> Result<(), DropReason> {
        if !adv.checksum_ok {
            return Err(DropReason::Checksum { version: self.config.version });
        }
        if adv.dst.is_multicast() == self.config.unicast {
            return Err(DropReason::CastMismatch { unicast: self.config.unicast });
        }
        if self.config.owner_ignore_adverts && self.effective_priority == PRIO_OWNER {
            return Err(DropReason::OwnerIgnore);
        }
        Ok(())
    }

    /// The address list (RFC 5798 §7.1 "MAY verify"): a mismatch is counted
    /// and logged, and drops only with `drop_on_vip_mismatch`.
    fn check_addrs(
        &mut self,
        adv: &RxAdvert,
        check_vip: bool,
        drop_vip: bool,
        out: &mut Vec<Action>,
    ) -> Result<(), DropReason> {
        let want = self.config.vips.len();
        let problem = if usize::from(adv.naddr) != want {
            Some(DropReason::AddrCount { want, got: adv.naddr })
        } else if check_vip {
            let vrid = self.config.vrid;
            self.config
                .vips
                .iter()
                .find(|v| !adv.addrs.contains(v))
                .map(|&missing| DropReason::AddrMissing { vrid, missing })
        } else {
            None
        };
        match problem {
            Some(reason) if drop_vip => Err(reason),
            Some(reason) => {
                self.report(reason, adv.src, out);
                Ok(())
            }
            None => Ok(()),
        }
    }

    /// `check_unicast_src`: the source must be a unicast peer, its TTL / hop
    /// limit within the peer's `min_ttl`..`max_ttl`.
    fn check_unicast_src(&self, adv: &RxAdvert, global_check_src: bool) -> Result<(), DropReason> {
        let c = &self.config;
        if !c.unicast || !(global_check_src || c.check_unicast_src) {
            return Ok(());
        }
        let Some(peer) = c.unicast_peers.iter().find(|p| p.addr == adv.src) else {
            return Err(DropReason::NotPeer);
        };
        match adv.ttl_or_hoplimit {
            Some(ttl) if ttl < peer.min_ttl || ttl > peer.max_ttl => {
                Err(DropReason::TtlRange { ttl, min: peer.min_ttl, max: peer.max_ttl })
            }
            _ => Ok(()),
        }
    }
}
