//! Engine value types: virtual time, decoded adverts, inputs, actions and statistics.
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::net::IpAddr;

/// A point in virtual time: microseconds since an arbitrary epoch chosen by the shell.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Instant(pub u64);

impl Instant {
    pub const ZERO: Instant = Instant(0);

    pub const fn from_micros(us: u64) -> Instant {
        Instant(us)
    }

    pub const fn as_micros(self) -> u64 {
        self.0
    }

    /// `self + us`, saturating.
    pub const fn add_us(self, us: u64) -> Instant {
        Instant(self.0.saturating_add(us))
    }

    /// Microseconds from `earlier` to `self` (0 when `earlier` is later).
    pub const fn since(self, earlier: Instant) -> u64 {
        self.0.saturating_sub(earlier.0)
    }
}

/// Maximum number of addresses an [`AddrList`] keeps (a VRRP advert can carry at most 255; keepalived
/// limits instances to what fits in one packet, and compares only the configured VIP count).
pub const MAX_ADVERT_ADDRS: usize = 64;

/// A fixed-capacity list of the addresses carried in an advert (no heap allocation).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct AddrList {
    len: u8,
    addrs: [IpAddr; MAX_ADVERT_ADDRS],
}

impl Default for AddrList {
    fn default() -> Self {
        AddrList { len: 0, addrs: [IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED); MAX_ADVERT_ADDRS] }
    }
}

impl AddrList {
    pub fn new() -> AddrList {
        AddrList::default()
    }

    /// Appends an address; returns false (and keeps the list) when full.
    pub fn push(&mut self, a: IpAddr) -> bool {
        let n = self.len as usize;
        if n >= MAX_ADVERT_ADDRS {
            return false;
        }
        self.addrs[n] = a;
        self.len += 1;
        true
    }

    pub fn as_slice(&self) -> &[IpAddr] {
        &self.addrs[..self.len as usize]
    }

    pub fn len(&self) -> usize {
        self.len as usize
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn contains(&self, a: &IpAddr) -> bool {
        self.as_slice().contains(a)
    }
}

impl<'a> FromIterator<&'a IpAddr> for AddrList {
    fn from_iter<T: IntoIterator<Item = &'a IpAddr>>(iter: T) -> Self {
        let mut l = AddrList::new();
        for a in iter {
            l.push(*a);
        }
        l
    }
}

impl std::fmt::Debug for AddrList {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.as_slice()).finish()
    }
}

impl Serialize for AddrList {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.as_slice().serialize(s)
    }
}

impl<'de> Deserialize<'de> for AddrList {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v: Vec<IpAddr> = Vec::deserialize(d)?;
        if v.len() > MAX_ADVERT_ADDRS {
            return Err(serde::de::Error::custom("too many addresses"));
        }
        Ok(v.iter().collect())
    }
}

/// Authentication as seen (and, for AH, already verified) by the wire layer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum RxAuth {
    /// Auth type 0 (v2) or no authentication (v3).
    None,
    /// Auth type 1 with the 8 octets of the auth data field.
    Pass([u8; 8]),
    /// IPsec AH: `ok` = the ICV/sequence check by the wire layer passed.
    Ah { ok: bool },
    /// Any other v2 auth type number (invalid).
    Other(u8),
}

/// A decoded VRRP advertisement, as handed over by the wire layer. Copy, no heap data.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RxAdvert {
    /// IP source address.
    pub src: IpAddr,
    /// IP destination address.
    pub dst: IpAddr,
    /// IPv4 TTL / IPv6 hop limit (None when unknown, keepalived's -1).
    pub ttl_or_hoplimit: Option<u8>,
    /// VRRP version field.
    pub version: u8,
    /// VRRP type field (1 = advertisement).
    pub kind: u8,
    pub vrid: u8,
    pub priority: u8,
    /// Advert interval in centiseconds (v2: the seconds field × 100; v3: the 12-bit field).
    pub adver_int_cs: u16,
    /// The "count IPvX addr" field.
    pub naddr: u8,
    pub auth: RxAuth,
    pub addrs: AddrList,
    /// Length and IPv4 total-length checks by the wire layer passed.
    pub length_ok: bool,
    /// Checksum verified by the wire layer.
    pub checksum_ok: bool,
}

impl RxAdvert {
    /// A well-formed advert from `src` to `dst` (TTL 255, type 1, checksum and length OK).
    pub fn new(src: IpAddr, dst: IpAddr, version: u8, vrid: u8, priority: u8, adver_int_cs: u16) -> RxAdvert {
        RxAdvert {
            src,
            dst,
            ttl_or_hoplimit: Some(255),
            version,
            kind: 1,
            vrid,
            priority,
            adver_int_cs,
            naddr: 0,
            auth: RxAuth::None,
            addrs: AddrList::new(),
            length_ok: true,
            checksum_ok: true,
        }
    }

    /// Sets the address list (and the count field).
    pub fn with_addrs(mut self, addrs: &[IpAddr]) -> RxAdvert {
        self.addrs = addrs.iter().collect();
        self.naddr = self.addrs.len() as u8;
        self
    }
}

/// VRRP instance state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum State {
    Init,
    Backup,
    Master,
    Fault,
    Stop,
}

impl State {
    /// keepalived's upper-case name, as used in notify arguments and FIFO lines.
    pub fn name(self) -> &'static str {
        match self {
            State::Init => "INIT",
            State::Backup => "BACKUP",
            State::Master => "MASTER",
            State::Fault => "FAULT",
            State::Stop => "STOP",
        }
    }
}

/// Kind of tracked object.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum TrackKind {
    Interface,
    Script,
    File,
    Process,
    Bfd,
}

/// Index of an instance in the [`crate::Router`] (its position in the configuration).
pub type InstanceId = usize;
/// Index of a sync group in the [`crate::Router`].
pub type GroupId = usize;

/// An event fed to the engine.
// The advert is held inline (no heap): the receive path itself goes through
// `Router::handle_advert(&RxAdvert)` and never builds an `Input`.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Input {
    /// Start all instances (keepalived's vrrp_init_state). Call once, after the initial tracker states.
    Start,
    /// A decoded advert received for an instance (the shell demultiplexes on family/interface/VRID;
    /// see [`crate::Router::find_instance`]).
    Advert { instance: InstanceId, advert: RxAdvert },
    /// Interface link state (instance interfaces and track_interface).
    Interface { name: String, up: bool },
    /// One vrrp_script run result (rise/fall are applied by the engine).
    ScriptResult { name: String, success: bool },
    /// New value of a track_file.
    FileValue { name: String, value: i64 },
    /// track_process quorum state (quorum evaluation is done by the shell).
    Process { name: String, up: bool },
    /// track_bfd session state.
    Bfd { name: String, up: bool },
    /// The instance's source/primary address became known or changed (tie-break, adverts).
    SourceAddress { instance: InstanceId, addr: Option<IpAddr> },
    /// Shutdown: masters send priority 0 and release their addresses; all instances stop.
    Shutdown,
    /// Removal at reload of one instance (priority 0 advert if master).
    Remove { instance: InstanceId },
}

/// Work for the shell.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Action {
    /// Build and send an advert for the instance with this priority (to the multicast group or to every
    /// unicast peer, as configured).
    SendAdvert { instance: InstanceId, priority: u8 },
    /// Send one gratuitous ARP for the address (IPv4).
    SendGarp { instance: InstanceId, addr: IpAddr },
    /// Send one unsolicited neighbour advertisement for the address (IPv6).
    SendNa { instance: InstanceId, addr: IpAddr },
    /// Add the instance's VIPs, eVIPs, virtual routes and rules (and lift accept-mode blocks).
    AddAddresses { instance: InstanceId },
    /// Remove the instance's VIPs, eVIPs, virtual routes and rules.
    RemoveAddresses { instance: InstanceId },
    /// Run notify scripts / FIFO / SMTP for the instance's new state.
    Notify { instance: InstanceId, state: State, priority: u8 },
    /// Run the sync group's notifies (`GROUP name STATE 0`).
    NotifyGroup { group: GroupId, state: State },
    /// notify_master_rx_lower_pri / FIFO MASTER_RX_LOWER_PRI.
    NotifyMasterRxLowerPri { instance: InstanceId, priority: u8 },
    /// Effective priority changed (FIFO priority event when notify_priority_changes).
    NotifyPriority { instance: InstanceId, priority: u8 },
    /// A log line, with keepalived's text.
    Log(String),
}

/// Per-instance statistics, named as keepalived's `vrrp_stats`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stats {
    pub advert_rcvd: u64,
    pub advert_sent: u64,
    pub become_master: u64,
    pub release_master: u64,
    pub packet_len_err: u64,
    pub advert_interval_err: u64,
    pub ip_ttl_err: u64,
    pub invalid_type_rcvd: u64,
    pub addr_list_err: u64,
    pub invalid_authtype: u64,
    pub authtype_mismatch: u64,
    pub auth_failure: u64,
    pub pri_zero_rcvd: u64,
    pub pri_zero_sent: u64,
    /// Wrong version (SNMP `vers_err`).
    pub vers_err: u64,
    /// Bad checksum (SNMP `chk_err`).
    pub chk_err: u64,
}
