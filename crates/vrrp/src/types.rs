//! Engine value types: virtual time, decoded adverts, inputs, actions and statistics.
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::net::IpAddr;

/// A point in virtual time (shared by the engines and their event logs).
pub use keepalived_config::eventlog::Instant;

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
    /// An empty list.
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

    /// The addresses, in advert order.
    pub fn as_slice(&self) -> &[IpAddr] {
        &self.addrs[..self.len as usize]
    }

    /// Number of addresses kept (at most [`MAX_ADVERT_ADDRS`]).
    pub fn len(&self) -> usize {
        self.len as usize
    }

    /// The advert carried no address (or none was kept).
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// `a` is one of the addresses.
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
    Ah {
        /// The ICV matched and the sequence number was acceptable (RFC 2402).
        ok: bool,
    },
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
    /// Virtual Router Identifier (RFC 5798 §5.2.3).
    pub vrid: u8,
    /// The sender's priority (RFC 5798 §5.2.4): 255 for the address owner, 0 when it stops being master.
    pub priority: u8,
    /// Advert interval in centiseconds (v2: the seconds field × 100; v3: the 12-bit field).
    pub adver_int_cs: u16,
    /// The "count IPvX addr" field.
    pub naddr: u8,
    /// The authentication the advert carried (v2 only; RFC 3768 §5.3.6).
    pub auth: RxAuth,
    /// The virtual addresses listed in the advert (RFC 5798 §5.2.9).
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
    /// Not started yet (RFC 5798 §6.4.1 Initialize).
    Init,
    /// Monitoring the master's adverts, ready to take over (RFC 5798 §6.4.2).
    Backup,
    /// Owning the virtual addresses and sending adverts (RFC 5798 §6.4.3).
    Master,
    /// keepalived's FAULT: a tracked object or the interface is down; the instance neither sends adverts
    /// nor takes over.
    Fault,
    /// Stopped at shutdown or removed at reload.
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
    /// `track_interface` (and the instance's own interface).
    Interface,
    /// `track_script` (a `vrrp_script`).
    Script,
    /// `track_file`.
    File,
    /// `track_process`.
    Process,
    /// `track_bfd`.
    Bfd,
}

/// Index of an instance in the [`crate::Router`] (its position in the configuration).
pub type InstanceId = usize;
/// Index of a sync group in the [`crate::Router`].
pub type GroupId = usize;

/// How a vrrp_script run ended (keepalived's script_exit_type and reason,
/// vrrp_scheduler.c vrrp_script_child_thread).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ScriptExit {
    /// It exited with this status.
    Status(i32),
    /// A signal we did not send ended it.
    Signal(i32),
    /// It overran its timeout and was killed.
    TimedOut,
}

impl ScriptExit {
    /// The words after `VRRP_Script(x) ` in keepalived's log.
    pub fn describe(self, success: bool) -> String {
        match self {
            _ if success => "succeeded".to_string(),
            ScriptExit::Status(n) => format!("failed (exited with status {n})"),
            ScriptExit::Signal(n) => format!("failed (due to signal {n})"),
            ScriptExit::TimedOut => "timed_out".to_string(),
        }
    }
}

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
    Advert {
        /// The instance the advert is for.
        instance: InstanceId,
        /// The decoded advert.
        advert: RxAdvert,
    },
    /// Interface link state (instance interfaces and track_interface).
    Interface {
        /// The interface name.
        name: String,
        /// The interface is usable: administratively up with carrier.
        up: bool,
    },
    /// One vrrp_script run result (rise/fall are applied by the engine).
    ScriptResult {
        /// The `vrrp_script` name.
        name: String,
        /// The script exited 0.
        success: bool,
        /// How a failed run ended, for keepalived's `VRRP_Script(x) failed (…)` line.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        exit: Option<ScriptExit>,
    },
    /// New value of a track_file.
    FileValue {
        /// The `vrrp_track_file` name.
        name: String,
        /// The number the file now holds, as the shell read it.
        value: i64,
    },
    /// track_process quorum state (quorum evaluation is done by the shell).
    Process {
        /// The `vrrp_track_process` name.
        name: String,
        /// The process count is within the quorum.
        up: bool,
    },
    /// track_bfd session state.
    Bfd {
        /// The `bfd_instance` name.
        name: String,
        /// The session is Up.
        up: bool,
    },
    /// The instance's source/primary address became known or changed (tie-break, adverts).
    SourceAddress {
        /// The instance.
        instance: InstanceId,
        /// Its address for sending adverts; `None` while the interface has none.
        addr: Option<IpAddr>,
    },
    /// Shutdown: masters send priority 0 and release their addresses; all instances stop.
    Shutdown,
    /// Removal at reload of one instance (priority 0 advert if master).
    Remove {
        /// The instance removed.
        instance: InstanceId,
    },
}

/// Work for the shell.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Action {
    /// Build and send an advert for the instance with this priority (to the multicast group or to every
    /// unicast peer, as configured).
    SendAdvert {
        /// The instance.
        instance: InstanceId,
        /// The priority field to send (0 when leaving master, RFC 5798 §6.4.3).
        priority: u8,
    },
    /// Send one gratuitous ARP for the address (IPv4).
    SendGarp {
        /// The instance.
        instance: InstanceId,
        /// The IPv4 address announced.
        addr: IpAddr,
    },
    /// Send one unsolicited neighbour advertisement for the address (IPv6).
    SendNa {
        /// The instance.
        instance: InstanceId,
        /// The IPv6 address announced.
        addr: IpAddr,
    },
    /// Add the instance's VIPs, eVIPs, virtual routes and rules (and lift accept-mode blocks).
    AddAddresses {
        /// The instance.
        instance: InstanceId,
    },
    /// Remove the instance's VIPs, eVIPs, virtual routes and rules.
    RemoveAddresses {
        /// The instance.
        instance: InstanceId,
    },
    /// Run notify scripts / FIFO / SMTP for the instance's new state.
    Notify {
        /// The instance.
        instance: InstanceId,
        /// The state it entered.
        state: State,
        /// Its effective priority, passed to the notify script.
        priority: u8,
    },
    /// Run the sync group's notifies (`GROUP name STATE 0`).
    NotifyGroup {
        /// The sync group.
        group: GroupId,
        /// The state it entered.
        state: State,
    },
    /// notify_master_rx_lower_pri / FIFO MASTER_RX_LOWER_PRI.
    NotifyMasterRxLowerPri {
        /// The instance.
        instance: InstanceId,
        /// The lower priority received from the other master.
        priority: u8,
    },
    /// Effective priority changed (FIFO priority event when notify_priority_changes).
    NotifyPriority {
        /// The instance.
        instance: InstanceId,
        /// The new effective priority.
        priority: u8,
    },
    /// At a reload with `fifo_write_vrrp_states_on_reload`: write an
    /// instance's unchanged state to the FIFOs only (no script, no mail).
    FifoState {
        /// The instance.
        instance: InstanceId,
        /// Its state.
        state: State,
        /// Its effective priority.
        priority: u8,
    },
    /// The same for a sync group.
    FifoGroupState {
        /// The sync group.
        group: GroupId,
        /// Its state.
        state: State,
    },
    /// A log line, with keepalived's text.
    Log(String),
}

/// Per-instance statistics, named as keepalived's `vrrp_stats`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stats {
    /// Adverts received for the instance.
    pub advert_rcvd: u64,
    /// Adverts sent.
    pub advert_sent: u64,
    /// Transitions to MASTER.
    pub become_master: u64,
    /// Transitions out of MASTER.
    pub release_master: u64,
    /// Adverts dropped for a length that does not match their contents (RFC 5798 §7.1).
    pub packet_len_err: u64,
    /// Adverts whose interval differs from the configured one (RFC 3768 §7.1).
    pub advert_interval_err: u64,
    /// Adverts not received with TTL / hop limit 255 (RFC 5798 §7.1).
    pub ip_ttl_err: u64,
    /// Packets whose VRRP type is not advertisement (RFC 5798 §5.2.2).
    pub invalid_type_rcvd: u64,
    /// Adverts whose address list does not match the configured virtual addresses (RFC 5798 §7.1).
    pub addr_list_err: u64,
    /// Adverts with an unknown authentication type (RFC 3768 §5.3.6).
    pub invalid_authtype: u64,
    /// Adverts whose authentication type differs from the configured one.
    pub authtype_mismatch: u64,
    /// Adverts failing authentication (wrong password or AH check).
    pub auth_failure: u64,
    /// Adverts with priority 0 received (the master is leaving, RFC 5798 §6.4.2).
    pub pri_zero_rcvd: u64,
    /// Adverts with priority 0 sent (leaving master).
    pub pri_zero_sent: u64,
    /// Wrong version (SNMP `vers_err`).
    pub vers_err: u64,
    /// Bad checksum (SNMP `chk_err`).
    pub chk_err: u64,
}
