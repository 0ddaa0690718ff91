//! Checked views of the kernel's IPVS answers. Every read is bounded: a
//! short value is an error naming the attribute, an unknown attribute is
//! skipped, and nothing here panics on what the kernel sends.

use super::*;
use crate::raw::attrs;

/// The value of attribute `kind` in `a`, if present.
fn find(a: &[u8], kind: u16) -> Option<&[u8]> {
    attrs(a).find(|(k, _)| *k == kind).map(|(_, v)| v)
}

fn u16_ne(v: &[u8]) -> Option<u16> {
    Some(u16::from_ne_bytes(v.get(..2)?.try_into().ok()?))
}

fn u16_be(v: &[u8]) -> Option<u16> {
    Some(u16::from_be_bytes(v.get(..2)?.try_into().ok()?))
}

fn u32_ne(v: &[u8]) -> Option<u32> {
    Some(u32::from_ne_bytes(v.get(..4)?.try_into().ok()?))
}

fn u64_ne(v: &[u8]) -> Option<u64> {
    Some(u64::from_ne_bytes(v.get(..8)?.try_into().ok()?))
}

fn string(v: &[u8]) -> String {
    let end = v.iter().position(|c| *c == 0).unwrap_or(v.len());
    String::from_utf8_lossy(&v[..end]).into_owned()
}

/// A required attribute read with `get`.
fn need<T>(a: &[u8], kind: u16, what: &str, get: fn(&[u8]) -> Option<T>) -> Result<T, String> {
    find(a, kind).and_then(get).ok_or_else(|| format!("the {what} is missing or truncated"))
}

/// An optional attribute read with `get`: absent is `default`, truncated is
/// an error.
fn opt<T>(a: &[u8], kind: u16, what: &str, get: fn(&[u8]) -> Option<T>, default: T) -> Result<T, String> {
    match find(a, kind) {
        None => Ok(default),
        Some(v) => get(v).ok_or_else(|| format!("the {what} is truncated")),
    }
}

fn family_from(n: u16) -> Result<Family, String> {
    match n {
        2 => Ok(Family::Inet),
        10 => Ok(Family::Inet6),
        n => Err(format!("unknown address family {n}")),
    }
}

fn af_number(f: Family) -> u16 {
    af(f)
}

/// The family id in the controller's answer (a whole netlink message). Read directly, not
/// with netlink-packet-generic 0.5: its controller parser slices a `CTRL_ATTR_POLICY` or
/// `CTRL_ATTR_OP_POLICY` nest member shorter than its 4-byte header without checking, and
/// panics (fuzz/regressions/netlink_ipvs).
pub(super) fn family_id(msg: &[u8]) -> Option<u16> {
    const GENL_ID_CTRL: u16 = 0x10;
    const CTRL_ATTR_FAMILY_ID: u16 = 1;
    if u16_ne(msg.get(4..)?)? != GENL_ID_CTRL {
        return None;
    }
    find(msg.get(crate::NLMSG_HDRLEN + 4..)?, CTRL_ATTR_FAMILY_ID).and_then(u16_ne)
}

/// `IPVS_CMD_SET_INFO`, the answer to `IPVS_CMD_GET_INFO`.
pub(super) fn info(cmd: u8, a: &[u8]) -> Result<Option<Info>, String> {
    const CMD_SET_INFO: u8 = 14;
    if cmd != CMD_SET_INFO {
        return Ok(None);
    }
    let version = need(a, INFO_ATTR_VERSION, "IPVS version", u32_ne)?;
    let conn_tab_size = need(a, INFO_ATTR_CONN_TAB_SIZE, "connection table size", u32_ne)?;
    Ok(Some(Info { version, conn_tab_size }))
}

/// `IPVS_CMD_SET_CONFIG`, the answer to `IPVS_CMD_GET_CONFIG`.
pub(super) fn timeouts(cmd: u8, a: &[u8]) -> Result<Option<Timeouts>, String> {
    if cmd != CMD_SET_CONFIG {
        return Ok(None);
    }
    Ok(Some(Timeouts {
        tcp: opt(a, CMD_ATTR_TIMEOUT_TCP, "TCP timeout", u32_ne, 0)?,
        tcp_fin: opt(a, CMD_ATTR_TIMEOUT_TCP_FIN, "TCP FIN timeout", u32_ne, 0)?,
        udp: opt(a, CMD_ATTR_TIMEOUT_UDP, "UDP timeout", u32_ne, 0)?,
    }))
}

/// Stats: the 64-bit nest when the kernel sends it, else the 32-bit one.
fn stats(a: &[u8], nest64: u16, nest32: u16) -> Stats {
    let (nest, wide) = match (find(a, nest64), find(a, nest32)) {
        (Some(n), _) => (n, true),
        (None, Some(n)) => (n, false),
        (None, None) => return Stats::default(),
    };
    let get = |kind: u16| -> u64 {
        let v = find(nest, kind).unwrap_or(&[]);
        if wide {
            u64_ne(v).unwrap_or(0)
        } else {
            u32_ne(v).map(u64::from).unwrap_or(0)
        }
    };
    Stats {
        conns: get(1),
        inpkts: get(2),
        outpkts: get(3),
        inbytes: get(4),
        outbytes: get(5),
        cps: get(6),
        inpps: get(7),
        outpps: get(8),
        inbps: get(9),
        outbps: get(10),
    }
}

fn service_key(s: &[u8]) -> Result<ServiceKey, String> {
    let family = family_from(need(s, SVC_ATTR_AF, "service address family", u16_ne)?)?;
    if let Some(mark) = find(s, SVC_ATTR_FWMARK).and_then(u32_ne).filter(|m| *m != 0) {
        return Ok(ServiceKey::Fwmark { family, mark });
    }
    let proto = need(s, SVC_ATTR_PROTOCOL, "service protocol", u16_ne)?;
    let protocol = Protocol::from_number(proto).ok_or_else(|| format!("unknown service protocol {proto}"))?;
    let raw = find(s, SVC_ATTR_ADDR).ok_or("the service address is missing")?;
    let addr = ip_from(af_number(family), raw).ok_or("the service address is truncated")?;
    let port = need(s, SVC_ATTR_PORT, "service port", u16_be)?;
    Ok(ServiceKey::Addr { family, protocol, addr, port })
}

fn service(s: &[u8]) -> Result<Service, String> {
    let key = service_key(s)?;
    let netmask = match key.family() {
        Family::Inet => {
            opt(s, SVC_ATTR_NETMASK, "netmask", |v| Some(u32::from_be_bytes(v.get(..4)?.try_into().ok()?)), 0)?
        }
        Family::Inet6 => opt(s, SVC_ATTR_NETMASK, "netmask", u32_ne, 0)?,
    };
    Ok(Service {
        key,
        sched: find(s, SVC_ATTR_SCHED_NAME).map(string).unwrap_or_default(),
        flags: opt(s, SVC_ATTR_FLAGS, "service flags", u32_ne, 0)?,
        timeout: opt(s, SVC_ATTR_TIMEOUT, "persistence timeout", u32_ne, 0)?,
        netmask,
        pe_name: find(s, SVC_ATTR_PE_NAME).map(string).filter(|p| !p.is_empty()),
    })
}

/// `IPVS_CMD_NEW_SERVICE` messages of a service dump.
pub(super) fn service_entry(cmd: u8, a: &[u8]) -> Result<Option<ServiceEntry>, String> {
    if cmd != CMD_NEW_SERVICE {
        return Ok(None);
    }
    let s = find(a, CMD_ATTR_SERVICE).ok_or("a service message without its service")?;
    let service = service(s)?;
    Ok(Some(ServiceEntry { service, stats: stats(s, SVC_ATTR_STATS64, SVC_ATTR_STATS) }))
}

fn dest(d: &[u8], svc_family: Family) -> Result<Dest, String> {
    // Kernels before 3.18 do not name the family: the service's then.
    let family = match find(d, DEST_ATTR_ADDR_FAMILY) {
        Some(v) => family_from(u16_ne(v).ok_or("the real server address family is truncated")?)?,
        None => svc_family,
    };
    let raw = find(d, DEST_ATTR_ADDR).ok_or("the real server address is missing")?;
    let addr = ip_from(af_number(family), raw).ok_or("the real server address is truncated")?;
    let fwd_n = need(d, DEST_ATTR_FWD_METHOD, "forwarding method", u32_ne)?;
    let fwd = FwdMethod::from_number(fwd_n).ok_or_else(|| format!("unknown forwarding method {fwd_n}"))?;
    let tun = opt(d, DEST_ATTR_TUN_TYPE, "tunnel type", |v| v.first().copied(), 0)?;
    Ok(Dest {
        addr,
        port: need(d, DEST_ATTR_PORT, "real server port", u16_be)?,
        family,
        fwd,
        weight: need(d, DEST_ATTR_WEIGHT, "weight", u32_ne)? as i32,
        u_threshold: opt(d, DEST_ATTR_U_THRESH, "upper threshold", u32_ne, 0)?,
        l_threshold: opt(d, DEST_ATTR_L_THRESH, "lower threshold", u32_ne, 0)?,
        tun_type: TunType::from_number(tun).ok_or_else(|| format!("unknown tunnel type {tun}"))?,
        tun_port: opt(d, DEST_ATTR_TUN_PORT, "tunnel port", u16_be, 0)?,
        tun_flags: opt(d, DEST_ATTR_TUN_FLAGS, "tunnel flags", u16_ne, 0)?,
    })
}

/// `IPVS_CMD_NEW_DEST` messages of a real server dump.
pub(super) fn dest_entry(cmd: u8, a: &[u8], svc_family: Family) -> Result<Option<DestEntry>, String> {
    if cmd != CMD_NEW_DEST {
        return Ok(None);
    }
    let d = find(a, CMD_ATTR_DEST).ok_or("a real server message without its real server")?;
    Ok(Some(DestEntry {
        dest: dest(d, svc_family)?,
        stats: stats(d, DEST_ATTR_STATS64, DEST_ATTR_STATS),
        active_conns: opt(d, DEST_ATTR_ACTIVE_CONNS, "active connections", u32_ne, 0)?,
        inactive_conns: opt(d, DEST_ATTR_INACT_CONNS, "inactive connections", u32_ne, 0)?,
        persist_conns: opt(d, DEST_ATTR_PERSIST_CONNS, "persistent connections", u32_ne, 0)?,
    }))
}

/// `IPVS_CMD_NEW_DAEMON` messages of a daemon dump.
pub(super) fn daemon(cmd: u8, a: &[u8]) -> Result<Option<SyncDaemon>, String> {
    if cmd != CMD_NEW_DAEMON {
        return Ok(None);
    }
    let d = find(a, CMD_ATTR_DAEMON).ok_or("a sync daemon message without its daemon")?;
    let state = match need(d, DAEMON_ATTR_STATE, "sync daemon state", u32_ne)? {
        1 => DaemonState::Master,
        2 => DaemonState::Backup,
        n => return Err(format!("unknown sync daemon state {n}")),
    };
    let group4 = find(d, DAEMON_ATTR_MCAST_GROUP).and_then(|v| ip_from(2, v));
    let group6 = find(d, DAEMON_ATTR_MCAST_GROUP6).and_then(|v| ip_from(10, v));
    Ok(Some(SyncDaemon {
        state,
        ifname: find(d, DAEMON_ATTR_MCAST_IFN).map(string).unwrap_or_default(),
        syncid: (need(d, DAEMON_ATTR_SYNC_ID, "sync id", u32_ne)? & 0xff) as u8,
        sync_maxlen: opt(d, DAEMON_ATTR_SYNC_MAXLEN, "sync_maxlen", u16_ne, 0)?,
        mcast_group: group6.or(group4),
        mcast_port: opt(d, DAEMON_ATTR_MCAST_PORT, "multicast port", u16_ne, 0)?,
        mcast_ttl: opt(d, DAEMON_ATTR_MCAST_TTL, "multicast TTL", |v| v.first().copied(), 0)?,
    }))
}
