//! The `no_accept` firewall: nftables rules that make a VRRP master drop
//! traffic to and from its virtual addresses, built as keepalived 2.2.7
//! builds them (keepalived/vrrp/vrrp_nftables.c), spoken directly over
//! `NETLINK_NETFILTER` (no `nft` command, no libnftnl).
//!
//! RFC 5798 §6.1 Accept_Mode: a master that does not own the addresses
//! must not accept packets for them. keepalived (with `nftables` in
//! `global_defs`) therefore puts an instance's VIPs and eVIPs into sets when
//! it **becomes master** (just before adding the addresses) and takes them
//! out when it **leaves master** (just after deleting them); address owners
//! (priority 255) and `accept` instances never use the firewall.
//!
//! What is created, per family, the first time an address of that family is
//! blocked (keepalived creates them lazily too), in table `keepalived` (the
//! `nftables` name) with base chain priority `nftables_priority` (-1):
//!
//! ```text
//! table ip keepalived {
//!     set vips { type ipv4_addr }
//!     chain out { type filter hook output priority -1; policy accept; ip saddr @vips drop }
//!     chain in  { type filter hook input priority -1; policy accept;  ip daddr @vips drop }
//! }
//! table ip6 keepalived {
//!     set vips { type ipv6_addr }
//!     set neighbor-discovery { type icmpv6_type; flags constant; elements = { nd-neighbor-solicit, nd-neighbor-advert } }
//!     chain out { ...output...; icmpv6 type @neighbor-discovery accept
//!                 ip6 saddr fe80::/10 goto out_link_local; ip6 saddr @vips drop }
//!     chain in  { ...input...;  icmpv6 type @neighbor-discovery accept
//!                 ip6 daddr fe80::/10 goto in_link_local;  ip6 daddr @vips drop }
//!     chain in_link_local  { }   # + "ip6 daddr . iif @vips_link_local drop"
//!     chain out_link_local { }   # + "ip6 saddr . oif @vips_link_local drop"
//! }
//! ```
//!
//! Link-local VIPs are matched together with their interface, in set
//! `vips_link_local` (`ipv6_addr . iface_index`), or `vips_link_local_name`
//! (`ipv6_addr . ifname`, see [`FirewallAddr::LinkLocalName`]), each created
//! with its two rules on first use. At the first [`Firewall::open`], tables
//! of the same name left over by a previous run are deleted (keepalived does
//! this before its first setup); [`Firewall::close`] (or drop) deletes the
//! tables. Every change is one nf_tables transaction (batch): all of it
//! applies or none.
//!
//! With `use_vmac`, keepalived also moves the IGMP (IPv4) / MLD (IPv6)
//! reports of each VMAC to its base interface: [`Firewall::add_vmac`] when
//! the VMAC is created, [`Firewall::remove_vmac`] just before it is
//! deleted. The first VMAC of a family creates the table and chain `out`
//! if needed (not chain `in`: that comes with the first VIP), then
//!
//! ```text
//! table ip keepalived {
//!     map vmac_map { type iface_index : iface_index }       # VMAC : base
//!     chain out { ip protocol igmp meta oifkind "macvlan" dup to ip daddr device oif map @vmac_map drop }
//! }
//! table ip6 keepalived {
//!     map vmac_map { type iface_index : iface_index }
//!     set vmac_set { type iface_index }                      # VMACs
//!     chain out { icmpv6 type mld2-listener-report meta oifkind "macvlan" dup to ip6 daddr device oif map @vmac_map drop
//!                 icmpv6 type nd-router-solicit meta oifkind "macvlan" oif @vmac_set drop }
//! }
//! ```
//!
//! Rules are appended, so VMACs set up at start-up put theirs before `ip
//! saddr @vips drop`. Removing the last VMAC leaves the map, set and rules
//! (empty) in place, as keepalived does. keepalived 2.2.7 turns nftables on
//! (table `keepalived`) for any `use_vmac` instance, even in accept mode
//! and without `nftables` in `global_defs`.
//!
//! Left out: `nftables_ipvs`.

use crate::nla::{MsgBuilder, NLA_F_NESTED};
use crate::transport::{Answer, Transport};
use crate::NetlinkError;
use netlink_packet_core::{NLM_F_ACK, NLM_F_APPEND, NLM_F_CREATE, NLM_F_EXCL, NLM_F_REQUEST};
use std::collections::HashMap;
use std::fmt;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// The table name keepalived uses when `nftables` has no argument.
pub const DEFAULT_TABLE: &str = "keepalived";
/// The default base chain priority (`nftables_priority`).
pub const DEFAULT_PRIORITY: i32 = -1;

const NETLINK_NETFILTER: isize = 12;
const NFNL_SUBSYS_NFTABLES: u16 = 10;
const NFNL_MSG_BATCH_BEGIN: u16 = 0x10;
const NFNL_MSG_BATCH_END: u16 = 0x11;

// linux/netfilter/nf_tables.h: message types.
const NFT_MSG_NEWTABLE: u16 = 0;
const NFT_MSG_GETTABLE: u16 = 1;
const NFT_MSG_DELTABLE: u16 = 2;
const NFT_MSG_NEWCHAIN: u16 = 3;
const NFT_MSG_NEWRULE: u16 = 6;
const NFT_MSG_NEWSET: u16 = 9;
const NFT_MSG_NEWSETELEM: u16 = 12;
const NFT_MSG_DELSETELEM: u16 = 14;

const NFPROTO_IPV4: u8 = 2;
const NFPROTO_IPV6: u8 = 10;

// Attributes.
const NFTA_TABLE_NAME: u16 = 1;
const NFTA_CHAIN_TABLE: u16 = 1;
const NFTA_CHAIN_NAME: u16 = 3;
const NFTA_CHAIN_HOOK: u16 = 4;
const NFTA_CHAIN_POLICY: u16 = 5;
const NFTA_CHAIN_TYPE: u16 = 7;
const NFTA_HOOK_HOOKNUM: u16 = 1;
const NFTA_HOOK_PRIORITY: u16 = 2;
const NFTA_SET_TABLE: u16 = 1;
const NFTA_SET_NAME: u16 = 2;
const NFTA_SET_FLAGS: u16 = 3;
const NFTA_SET_KEY_TYPE: u16 = 4;
const NFTA_SET_KEY_LEN: u16 = 5;
const NFTA_SET_DATA_TYPE: u16 = 6;
const NFTA_SET_DATA_LEN: u16 = 7;
const NFTA_SET_ID: u16 = 10;
const NFTA_SET_USERDATA: u16 = 13;
const NFTA_SET_ELEM_LIST_TABLE: u16 = 1;
const NFTA_SET_ELEM_LIST_SET: u16 = 2;
const NFTA_SET_ELEM_LIST_ELEMENTS: u16 = 3;
const NFTA_SET_ELEM_LIST_SET_ID: u16 = 4;
const NFTA_SET_ELEM_KEY: u16 = 1;
const NFTA_SET_ELEM_DATA: u16 = 2;
const NFTA_DATA_VALUE: u16 = 1;
const NFTA_DATA_VERDICT: u16 = 2;
const NFTA_VERDICT_CODE: u16 = 1;
const NFTA_VERDICT_CHAIN: u16 = 2;
const NFTA_RULE_TABLE: u16 = 1;
const NFTA_RULE_CHAIN: u16 = 2;
const NFTA_RULE_EXPRESSIONS: u16 = 4;
const NFTA_LIST_ELEM: u16 = 1;
const NFTA_EXPR_NAME: u16 = 1;
const NFTA_EXPR_DATA: u16 = 2;

const NF_INET_LOCAL_IN: u32 = 1;
const NF_INET_LOCAL_OUT: u32 = 3;
const NF_DROP: u32 = 0;
const NF_ACCEPT: u32 = 1;
const NFT_GOTO: u32 = -4i32 as u32;
const NFT_SET_CONSTANT: u32 = 2;
const NFT_SET_MAP: u32 = 8;
const NFT_REG_VERDICT: u32 = 0;
const NFT_REG_1: u32 = 1;
const NFT_REG_2: u32 = 2;
const NFT_PAYLOAD_NETWORK_HEADER: u32 = 1;
const NFT_PAYLOAD_TRANSPORT_HEADER: u32 = 2;
const NFT_CMP_EQ: u32 = 0;
const NFT_META_IIF: u32 = 4;
const NFT_META_OIF: u32 = 5;
const NFT_META_IIFNAME: u32 = 6;
const NFT_META_OIFNAME: u32 = 7;
const NFT_META_L4PROTO: u32 = 16;
const NFT_META_OIFKIND: u32 = 27;

// nft's data types (nftables src/datatype.h), as set key types.
const TYPE_BITS: u32 = 6;
const TYPE_IPADDR: u32 = 7;
const TYPE_IP6ADDR: u32 = 8;
const TYPE_IFINDEX: u32 = 20;
const TYPE_ICMPV6_TYPE: u32 = 29;
const TYPE_IFNAME: u32 = 41;

// libnftnl set user data: the key's byte order, as nft reads it back.
const UDATA_BYTEORDER_HOST: [u8; 6] = [0, 4, 1, 0, 0, 0];
const UDATA_BYTEORDER_BIG: [u8; 6] = [0, 4, 2, 0, 0, 0];
/// Key and data (`NFTNL_UDATA_SET_DATABYTEORDER`) both in host order.
const UDATA_MAP_BYTEORDER_HOST: [u8; 12] = [0, 4, 1, 0, 0, 0, 1, 4, 1, 0, 0, 0];

const ND_NEIGHBOR_SOLICIT: u8 = 135;
const ND_NEIGHBOR_ADVERT: u8 = 136;
const ND_ROUTER_SOLICIT: u8 = 133;
const MLD2_LISTENER_REPORT: u8 = 143;
const IPPROTO_IGMP: u8 = 2;
const IPPROTO_ICMPV6: u8 = 58;
/// `meta oifkind "macvlan"`: the kind compared as a 16-byte string.
const MACVLAN_KIND: &[u8; IFNAMSIZ] = b"macvlan\0\0\0\0\0\0\0\0\0";
/// keepalived's VMAC map (`vmac_ifindex : base_ifindex`) and, for IPv6,
/// set of VMAC interfaces.
const VMAC_MAP: &str = "vmac_map";
const VMAC_SET: &str = "vmac_set";
const IFNAMSIZ: usize = 16;

/// An address whose traffic a master without accept mode drops.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum FirewallAddr {
    /// Set `vips` of table `ip`.
    V4(Ipv4Addr),
    /// A non-link-local IPv6 address: set `vips` of table `ip6`.
    V6(Ipv6Addr),
    /// A link-local IPv6 address on the interface of this index: set
    /// `vips_link_local`.
    LinkLocal { addr: Ipv6Addr, ifindex: u32 },
    /// A link-local IPv6 address matched with its interface's name: set
    /// `vips_link_local_name`. keepalived uses it (unless
    /// `nftables_ifindex`) for an instance with `dont_track_primary` when
    /// the address is on the instance's interface or is `no_track`.
    LinkLocalName { addr: Ipv6Addr, ifname: String },
}

impl FirewallAddr {
    /// The entry for a virtual address on the interface `ifindex`: link-local
    /// IPv6 addresses are matched together with their interface.
    pub fn new(addr: IpAddr, ifindex: u32) -> FirewallAddr {
        match addr {
            IpAddr::V4(a) => FirewallAddr::V4(a),
            IpAddr::V6(a) if is_link_local(&a) => FirewallAddr::LinkLocal { addr: a, ifindex },
            IpAddr::V6(a) => FirewallAddr::V6(a),
        }
    }

    fn family(&self) -> u8 {
        match self {
            FirewallAddr::V4(_) => NFPROTO_IPV4,
            _ => NFPROTO_IPV6,
        }
    }

    fn set(&self) -> SetKind {
        match self {
            FirewallAddr::V4(_) | FirewallAddr::V6(_) => SetKind::Vips,
            FirewallAddr::LinkLocal { .. } => SetKind::LinkLocal,
            FirewallAddr::LinkLocalName { .. } => SetKind::LinkLocalName,
        }
    }

    /// The set element's key bytes.
    fn key(&self) -> Result<Vec<u8>, String> {
        Ok(match self {
            FirewallAddr::V4(a) => a.octets().to_vec(),
            FirewallAddr::V6(a) => a.octets().to_vec(),
            FirewallAddr::LinkLocal { addr, ifindex } => {
                let mut k = addr.octets().to_vec();
                k.extend_from_slice(&ifindex.to_ne_bytes());
                k
            }
            FirewallAddr::LinkLocalName { addr, ifname } => {
                if ifname.is_empty() || ifname.len() >= IFNAMSIZ || ifname.contains('\0') {
                    return Err(format!("'{ifname}' is not an interface name"));
                }
                let mut k = addr.octets().to_vec();
                let mut name = [0u8; IFNAMSIZ];
                name[..ifname.len()].copy_from_slice(ifname.as_bytes());
                k.extend_from_slice(&name);
                k
            }
        })
    }
}

impl fmt::Display for FirewallAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FirewallAddr::V4(a) => write!(f, "{a}"),
            FirewallAddr::V6(a) => write!(f, "{a}"),
            FirewallAddr::LinkLocal { addr, ifindex } => write!(f, "{addr} on interface {ifindex}"),
            FirewallAddr::LinkLocalName { addr, ifname } => write!(f, "{addr} on {ifname}"),
        }
    }
}

fn is_link_local(a: &Ipv6Addr) -> bool {
    a.segments()[0] & 0xffc0 == 0xfe80
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum SetKind {
    Vips,
    LinkLocal,
    LinkLocalName,
}

impl SetKind {
    fn name(self) -> &'static str {
        match self {
            SetKind::Vips => "vips",
            SetKind::LinkLocal => "vips_link_local",
            SetKind::LinkLocalName => "vips_link_local_name",
        }
    }
}

/// What exists in the kernel for one family.
#[derive(Clone, Copy, Debug, Default)]
struct FamilyState {
    /// Table and chain `out` (keepalived's first step, shared by the VIP
    /// and the VMAC filtering).
    table: bool,
    /// Chain `in`, set `vips` and their rules (IPv6: also the link-local
    /// chains and neighbour discovery).
    vips: bool,
    /// `vmac_map` (IPv6: and `vmac_set`) with the IGMP/MLD rules.
    vmac: bool,
    link_local: bool,
    link_local_name: bool,
}

/// The nftables `no_accept` firewall of one keepalived-rs process.
pub struct Firewall {
    socket: Transport,
    table: String,
    priority: i32,
    counters: bool,
    seq: u32,
    /// `NFTA_SET_ID`s of the sets created, counted as keepalived does.
    set_id: u32,
    v4: FamilyState,
    v6: FamilyState,
    /// How many callers asked for each address to be blocked.
    blocked: HashMap<FirewallAddr, u32>,
    /// VMAC elements in the kernel: (family, VMAC ifindex) -> base ifindex.
    vmacs: HashMap<(u8, u32), u32>,
    closed: bool,
}

impl fmt::Debug for Firewall {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Firewall")
            .field("table", &self.table)
            .field("priority", &self.priority)
            .field("blocked", &self.blocked)
            .field("vmacs", &self.vmacs)
            .finish_non_exhaustive()
    }
}

/// A batch under construction: messages and what each one does.
struct Batch {
    msgs: Vec<(u32, Vec<u8>, String)>,
    seq: u32,
}

impl Batch {
    fn push(&mut self, m: MsgBuilder, what: String) {
        self.seq = self.seq.wrapping_add(1);
        self.msgs.push((self.seq, m.finish(self.seq), what));
    }
}

fn nfgen(family: u8) -> [u8; 4] {
    [family, 0, 0, 0]
}

fn msg(cmd: u16, family: u8, flags: u16) -> MsgBuilder {
    let mut m = MsgBuilder::new(NFNL_SUBSYS_NFTABLES << 8 | cmd, NLM_F_REQUEST | flags);
    m.raw(&nfgen(family));
    m
}

fn family_word(family: u8) -> &'static str {
    if family == NFPROTO_IPV4 {
        "ip"
    } else {
        "ip6"
    }
}

impl Firewall {
    /// Connect to nf_tables and delete any `ip`/`ip6` table named `table`
    /// left over by an earlier run. Nothing is created until the first
    /// [`Firewall::block`].
    pub fn open(table: &str, priority: i32) -> Result<Firewall, NetlinkError> {
        if table.is_empty() || table.len() > 255 || table.contains('\0') {
            return Err(NetlinkError::Invalid {
                action: "set up the nftables firewall".into(),
                detail: format!("'{table}' is not a usable nftables table name"),
            });
        }
        let socket = Transport::connect(NETLINK_NETFILTER)?;
        let mut fw = Firewall {
            socket,
            table: table.to_string(),
            priority,
            counters: false,
            seq: 0,
            set_id: 0,
            v4: FamilyState::default(),
            v6: FamilyState::default(),
            blocked: HashMap::new(),
            vmacs: HashMap::new(),
            closed: false,
        };
        let mut stale = Vec::new();
        for family in [NFPROTO_IPV4, NFPROTO_IPV6] {
            if fw.table_exists(family)? {
                stale.push(family);
            }
        }
        if !stale.is_empty() {
            let mut b = fw.batch();
            for family in &stale {
                tracing::info!(table = %fw.table, family = family_word(*family), "deleting an old nftables table");
                b.push(fw.del_table(*family), format!("delete old table {} {}", family_word(*family), fw.table));
            }
            fw.commit(b, "remove the nftables tables of an earlier run")?;
        }
        Ok(fw)
    }

    /// Add a `counter` to every rule created from now on
    /// (`nftables_counters`).
    pub fn set_counters(&mut self, on: bool) {
        self.counters = on;
    }

    /// The table name.
    pub fn table(&self) -> &str {
        &self.table
    }

    /// Whether `addr` is currently blocked.
    pub fn is_blocked(&self, addr: &FirewallAddr) -> bool {
        self.blocked.contains_key(addr)
    }

    fn table_exists(&mut self, family: u8) -> Result<bool, NetlinkError> {
        self.seq = self.seq.wrapping_add(1);
        let mut m = msg(NFT_MSG_GETTABLE, family, NLM_F_ACK);
        m.str(NFTA_TABLE_NAME, &self.table);
        let bytes = m.finish(self.seq);
        let action = format!("look for nftables table {} {}", family_word(family), self.table);
        let answers = self.socket.talk(&bytes, 1).map_err(|source| change(&action, source, None))?;
        match answers.first() {
            Some(a) if a.errno == 0 => Ok(true),
            Some(a) if a.errno == ENOENT => Ok(false),
            Some(a) => Err(change(&action, io::Error::from_raw_os_error(a.errno), a.hint.clone())),
            None => Err(change(&action, io::Error::new(io::ErrorKind::UnexpectedEof, "no answer"), None)),
        }
    }

    fn batch(&self) -> Batch {
        Batch { msgs: Vec::new(), seq: self.seq }
    }

    /// Send a batch; on any refusal nothing of it applies.
    fn commit(&mut self, b: Batch, action: &str) -> Result<(), NetlinkError> {
        if b.msgs.is_empty() {
            return Ok(());
        }
        let begin_seq = self.seq.wrapping_add(1);
        let mut datagram = batch_marker(NFNL_MSG_BATCH_BEGIN, begin_seq);
        for (_, m, _) in &b.msgs {
            datagram.extend_from_slice(m);
        }
        let end_seq = b.seq.wrapping_add(1);
        datagram.extend(batch_marker(NFNL_MSG_BATCH_END, end_seq));
        self.seq = end_seq;
        let answers = self.socket.talk(&datagram, b.msgs.len()).map_err(|source| change(action, source, None))?;
        check_answers(&b, &answers, action)
    }

    fn state(&mut self, family: u8) -> &mut FamilyState {
        if family == NFPROTO_IPV4 {
            &mut self.v4
        } else {
            &mut self.v6
        }
    }

    /// Drop traffic to and from these addresses (an instance without accept
    /// mode becoming master). Tables, chains and sets are created on first
    /// use. Addresses already blocked (by another instance) are counted,
    /// not added twice.
    pub fn block(&mut self, addrs: &[FirewallAddr]) -> Result<(), NetlinkError> {
        let action = format!("block traffic to {}", list(addrs));
        let set_id = self.set_id;
        let planned = self.plan_block(addrs, &action);
        let (v4, v6) = match planned.and_then(|(b, v4, v6)| self.commit(b, &action).map(|()| (v4, v6))) {
            Ok(s) => s,
            Err(e) => {
                // Nothing of the batch applied.
                self.set_id = set_id;
                return Err(e);
            }
        };
        self.v4 = v4;
        self.v6 = v6;
        for a in addrs {
            *self.blocked.entry(a.clone()).or_insert(0) += 1;
        }
        tracing::debug!(table = %self.table, addrs = %list(addrs), "firewall: blocking");
        Ok(())
    }

    /// The batch blocking `addrs` and the family states once it applied.
    fn plan_block(
        &mut self,
        addrs: &[FirewallAddr],
        action: &str,
    ) -> Result<(Batch, FamilyState, FamilyState), NetlinkError> {
        let mut fresh: Vec<&FirewallAddr> = Vec::new();
        for a in addrs {
            if !self.blocked.contains_key(a) && !fresh.contains(&a) {
                fresh.push(a);
            }
        }
        let mut b = self.batch();
        let (mut v4, mut v6) = (self.v4, self.v6);
        for family in [NFPROTO_IPV4, NFPROTO_IPV6] {
            let mine: Vec<&FirewallAddr> = fresh.iter().copied().filter(|a| a.family() == family).collect();
            if mine.is_empty() {
                continue;
            }
            let st = if family == NFPROTO_IPV4 { &mut v4 } else { &mut v6 };
            if !st.table {
                self.setup_table(&mut b, family);
                st.table = true;
            }
            if !st.vips {
                self.setup_vips(&mut b, family);
                st.vips = true;
            }
            if mine.iter().any(|a| a.set() == SetKind::LinkLocal) && !st.link_local {
                self.setup_link_local(&mut b, SetKind::LinkLocal);
                st.link_local = true;
            }
            if mine.iter().any(|a| a.set() == SetKind::LinkLocalName) && !st.link_local_name {
                self.setup_link_local(&mut b, SetKind::LinkLocalName);
                st.link_local_name = true;
            }
            for set in [SetKind::Vips, SetKind::LinkLocal, SetKind::LinkLocalName] {
                let elems: Vec<&FirewallAddr> = mine.iter().copied().filter(|a| a.set() == set).collect();
                if elems.is_empty() {
                    continue;
                }
                let m = self.elements(NFT_MSG_NEWSETELEM, family, set, &elems).map_err(|d| invalid(action, d))?;
                b.push(
                    m,
                    format!(
                        "add {} to set {} of table {} {}",
                        list_ref(&elems),
                        set.name(),
                        family_word(family),
                        self.table
                    ),
                );
            }
        }
        Ok((b, v4, v6))
    }

    /// Stop dropping traffic for these addresses (leaving master). An
    /// address blocked more than once stays blocked until its last unblock;
    /// addresses not blocked are ignored.
    pub fn unblock(&mut self, addrs: &[FirewallAddr]) -> Result<(), NetlinkError> {
        let mut gone: Vec<&FirewallAddr> = Vec::new();
        for a in addrs {
            if self.blocked.get(a) == Some(&1) && !gone.contains(&a) {
                gone.push(a);
            }
        }
        let action = format!("unblock traffic to {}", list(addrs));
        let mut b = self.batch();
        for family in [NFPROTO_IPV4, NFPROTO_IPV6] {
            for set in [SetKind::Vips, SetKind::LinkLocal, SetKind::LinkLocalName] {
                let elems: Vec<&FirewallAddr> =
                    gone.iter().copied().filter(|a| a.family() == family && a.set() == set).collect();
                if elems.is_empty() {
                    continue;
                }
                let m = self.elements(NFT_MSG_DELSETELEM, family, set, &elems).map_err(|d| invalid(&action, d))?;
                b.push(
                    m,
                    format!(
                        "delete {} from set {} of table {} {}",
                        list_ref(&elems),
                        set.name(),
                        family_word(family),
                        self.table
                    ),
                );
            }
        }
        self.commit(b, &action)?;
        for a in addrs {
            if let Some(n) = self.blocked.get_mut(a) {
                *n -= 1;
                if *n == 0 {
                    self.blocked.remove(a);
                }
            }
        }
        tracing::debug!(table = %self.table, addrs = %list(addrs), "firewall: unblocking");
        Ok(())
    }

    /// A VMAC (macvlan `vmac_ifindex` over `base_ifindex`) was created for
    /// an instance of this family (`ipv6`): route its IGMP (IPv4) or MLD
    /// (IPv6) reports out of the base interface, as keepalived 2.2.7 does.
    ///
    /// The first VMAC of a family creates, in one batch, the table and its
    /// `out` chain if they are not there yet, map `vmac_map`
    /// (`iface_index : iface_index`) and the rule `ip protocol igmp meta
    /// oifkind "macvlan" dup to ip daddr device oif map @vmac_map drop`
    /// (IPv6: set `vmac_set`, `icmpv6 type mld2-listener-report ... dup to
    /// ip6 daddr ...` and `icmpv6 type nd-router-solicit meta oifkind
    /// "macvlan" oif @vmac_set drop`), then adds the VMAC to the map (and,
    /// IPv6, the set). Rules are appended: a VMAC set up before the first
    /// [`Firewall::block`] of the family puts its rule before `ip saddr
    /// @vips drop`, as keepalived's do. Adding a VMAC already there changes
    /// nothing (a new base interface replaces the old in the same batch).
    pub fn add_vmac(&mut self, vmac_ifindex: u32, base_ifindex: u32, ipv6: bool) -> Result<(), NetlinkError> {
        let family = if ipv6 { NFPROTO_IPV6 } else { NFPROTO_IPV4 };
        let action =
            format!("set up IGMP/MLD filtering for VMAC interface {vmac_ifindex} (base interface {base_ifindex})");
        let old = self.vmacs.get(&(family, vmac_ifindex)).copied();
        if old == Some(base_ifindex) {
            return Ok(());
        }
        if vmac_ifindex == 0 || base_ifindex == 0 {
            return Err(invalid(&action, "an interface index is 0".into()));
        }
        let set_id = self.set_id;
        let (b, st) = self.plan_add_vmac(family, vmac_ifindex, base_ifindex, old);
        if let Err(e) = self.commit(b, &action) {
            self.set_id = set_id;
            return Err(e);
        }
        *self.state(family) = st;
        self.vmacs.insert((family, vmac_ifindex), base_ifindex);
        tracing::debug!(table = %self.table, vmac_ifindex, base_ifindex, family = family_word(family), "firewall: VMAC added");
        Ok(())
    }

    /// The batch adding one VMAC (replacing its `old` base) and the family
    /// state once it applied.
    fn plan_add_vmac(&mut self, family: u8, vmac: u32, base: u32, old: Option<u32>) -> (Batch, FamilyState) {
        let mut b = self.batch();
        let mut st = *self.state(family);
        if let Some(old_base) = old {
            self.vmac_elements(&mut b, NFT_MSG_DELSETELEM, family, vmac, old_base, None);
        }
        if !st.table {
            self.setup_table(&mut b, family);
            st.table = true;
        }
        let mut ids = None;
        if !st.vmac {
            ids = Some(self.setup_vmac(&mut b, family));
            st.vmac = true;
        }
        self.vmac_elements(&mut b, NFT_MSG_NEWSETELEM, family, vmac, base, ids);
        (b, st)
    }

    /// The VMAC `vmac_ifindex` of this family is going (keepalived calls it
    /// just before deleting the interface, as the elements hold its
    /// index): take it out of `vmac_map` (and `vmac_set`). The map, set and
    /// rules stay, even when empty, until the tables are deleted. A VMAC
    /// not added is ignored.
    pub fn remove_vmac(&mut self, vmac_ifindex: u32, ipv6: bool) -> Result<(), NetlinkError> {
        let family = if ipv6 { NFPROTO_IPV6 } else { NFPROTO_IPV4 };
        let Some(&base) = self.vmacs.get(&(family, vmac_ifindex)) else {
            return Ok(());
        };
        let action = format!("remove IGMP/MLD filtering for VMAC interface {vmac_ifindex}");
        let mut b = self.batch();
        self.vmac_elements(&mut b, NFT_MSG_DELSETELEM, family, vmac_ifindex, base, None);
        self.commit(b, &action)?;
        self.vmacs.remove(&(family, vmac_ifindex));
        tracing::debug!(table = %self.table, vmac_ifindex, family = family_word(family), "firewall: VMAC removed");
        Ok(())
    }

    /// Whether the VMAC `vmac_ifindex` is in the map of this family.
    pub fn has_vmac(&self, vmac_ifindex: u32, ipv6: bool) -> bool {
        let family = if ipv6 { NFPROTO_IPV6 } else { NFPROTO_IPV4 };
        self.vmacs.contains_key(&(family, vmac_ifindex))
    }

    /// Delete the tables (keepalived does at exit). Also done, best effort,
    /// when the `Firewall` is dropped.
    pub fn close(mut self) -> Result<(), NetlinkError> {
        self.delete_tables()
    }

    fn delete_tables(&mut self) -> Result<(), NetlinkError> {
        self.closed = true;
        let mut b = self.batch();
        for family in [NFPROTO_IPV4, NFPROTO_IPV6] {
            if self.state(family).table {
                b.push(self.del_table(family), format!("delete table {} {}", family_word(family), self.table));
            }
        }
        let r = self.commit(b, "delete the nftables firewall");
        self.v4 = FamilyState::default();
        self.v6 = FamilyState::default();
        self.blocked.clear();
        self.vmacs.clear();
        r
    }

    fn del_table(&self, family: u8) -> MsgBuilder {
        let mut m = msg(NFT_MSG_DELTABLE, family, NLM_F_ACK);
        m.str(NFTA_TABLE_NAME, &self.table);
        m
    }

    fn next_set_id(&mut self) -> u32 {
        self.set_id = self.set_id.wrapping_add(1);
        self.set_id
    }

    /// Table, base chains, sets and rules of one family, in keepalived's
    /// order (the first block with no VMAC set up before).
    #[cfg(test)]
    fn setup_family(&mut self, b: &mut Batch, family: u8) {
        self.setup_table(b, family);
        self.setup_vips(b, family);
    }

    /// The table and its `out` chain: what keepalived creates first,
    /// whether for VIPs or for a VMAC.
    fn setup_table(&mut self, b: &mut Batch, family: u8) {
        let t = self.table.clone();
        let fw = family_word(family);
        let mut m = msg(NFT_MSG_NEWTABLE, family, NLM_F_CREATE | NLM_F_ACK);
        m.str(NFTA_TABLE_NAME, &t);
        b.push(m, format!("create table {fw} {t}"));
        b.push(self.base_chain(family, "out", NF_INET_LOCAL_OUT), format!("create chain {fw} {t} out"));
    }

    /// Chain `in`, the `vips` set and the rules using it (the table exists
    /// or is created earlier in the batch); IPv6 lets neighbour discovery
    /// and link-local traffic through first.
    fn setup_vips(&mut self, b: &mut Batch, family: u8) {
        let t = self.table.clone();
        let fw = family_word(family);
        b.push(self.base_chain(family, "in", NF_INET_LOCAL_IN), format!("create chain {fw} {t} in"));
        let v4 = family == NFPROTO_IPV4;
        let addr_len: u32 = if v4 { 4 } else { 16 };
        if !v4 {
            for chain in ["in_link_local", "out_link_local"] {
                let mut m = msg(NFT_MSG_NEWCHAIN, family, NLM_F_CREATE | NLM_F_ACK);
                m.str(NFTA_CHAIN_TABLE, &t).str(NFTA_CHAIN_NAME, chain);
                b.push(m, format!("create chain {fw} {t} {chain}"));
            }
        }
        let id = self.next_set_id();
        let addr_type = if v4 { TYPE_IPADDR } else { TYPE_IP6ADDR };
        b.push(
            set(&t, family, "vips", addr_type, addr_len, 0, id, None, &UDATA_BYTEORDER_BIG),
            format!("create set {fw} {t} vips"),
        );
        if !v4 {
            self.setup_neighbor_discovery(b, family);
        }
        b.push(
            self.rule(family, "in", &lookup_rule(false, addr_len, None, "vips", NF_DROP)),
            format!("add rule {fw} {t} in"),
        );
        b.push(
            self.rule(family, "out", &lookup_rule(true, addr_len, None, "vips", NF_DROP)),
            format!("add rule {fw} {t} out"),
        );
    }

    /// IPv6: the `neighbor-discovery` set and, in `in` and `out`, the rules
    /// accepting it and sending link-local traffic to its own chain.
    fn setup_neighbor_discovery(&mut self, b: &mut Batch, family: u8) {
        let t = self.table.clone();
        let fw = family_word(family);
        let nd_id = self.next_set_id();
        b.push(
            set(
                &t,
                family,
                "neighbor-discovery",
                TYPE_ICMPV6_TYPE,
                1,
                NFT_SET_CONSTANT,
                nd_id,
                None,
                &UDATA_BYTEORDER_HOST,
            ),
            format!("create set {fw} {t} neighbor-discovery"),
        );
        let mut m = msg(NFT_MSG_NEWSETELEM, family, NLM_F_CREATE | NLM_F_ACK);
        m.str(NFTA_SET_ELEM_LIST_SET, "neighbor-discovery").u32_be(NFTA_SET_ELEM_LIST_SET_ID, nd_id);
        m.str(NFTA_SET_ELEM_LIST_TABLE, &t);
        elements_attr(&mut m, &[vec![ND_NEIGHBOR_SOLICIT], vec![ND_NEIGHBOR_ADVERT]]);
        b.push(m, format!("fill set {fw} {t} neighbor-discovery"));
        for (chain, saddr, ll_chain) in [("in", false, "in_link_local"), ("out", true, "out_link_local")] {
            b.push(self.rule(family, chain, &icmpv6_nd_rule()), format!("add rule {fw} {t} {chain}"));
            b.push(
                self.rule(family, chain, &link_local_goto_rule(saddr, ll_chain)),
                format!("add rule {fw} {t} {chain}"),
            );
        }
    }

    /// `vmac_map`, for IPv6 `vmac_set`, and their rules; the ids the sets
    /// got in this batch.
    fn setup_vmac(&mut self, b: &mut Batch, family: u8) -> (u32, u32) {
        let t = self.table.clone();
        let fw = family_word(family);
        let map_id = self.next_set_id();
        b.push(
            set(
                &t,
                family,
                VMAC_MAP,
                TYPE_IFINDEX,
                4,
                NFT_SET_MAP,
                map_id,
                Some((TYPE_IFINDEX, 4)),
                &UDATA_MAP_BYTEORDER_HOST,
            ),
            format!("create map {fw} {t} {VMAC_MAP}"),
        );
        let mut set_id = 0;
        if family == NFPROTO_IPV6 {
            set_id = self.next_set_id();
            b.push(
                set(&t, family, VMAC_SET, TYPE_IFINDEX, 4, 0, set_id, None, &UDATA_BYTEORDER_HOST),
                format!("create set {fw} {t} {VMAC_SET}"),
            );
        }
        b.push(self.rule(family, "out", &vmac_report_rule(family)), format!("add rule {fw} {t} out (VMAC reports)"));
        if family == NFPROTO_IPV6 {
            b.push(
                self.rule(family, "out", &vmac_router_solicit_rule()),
                format!("add rule {fw} {t} out (VMAC router solicitations)"),
            );
        }
        (map_id, set_id)
    }

    /// Add or delete the elements of one VMAC: `vmac : base` in
    /// `vmac_map`, and for IPv6 `vmac` in `vmac_set`. `ids`: the sets were
    /// created in this batch with these ids (keepalived then names them by
    /// id too).
    fn vmac_elements(&self, b: &mut Batch, cmd: u16, family: u8, vmac: u32, base: u32, ids: Option<(u32, u32)>) {
        let t = &self.table;
        let fw = family_word(family);
        let flags = if cmd == NFT_MSG_NEWSETELEM { NLM_F_CREATE | NLM_F_ACK } else { NLM_F_ACK };
        let verb = if cmd == NFT_MSG_NEWSETELEM { "add" } else { "delete" };
        let mut sets = vec![(VMAC_MAP, ids.map(|i| i.0), Some(base))];
        if family == NFPROTO_IPV6 {
            sets.push((VMAC_SET, ids.map(|i| i.1), None));
        }
        for (name, id, data) in sets {
            let mut m = msg(cmd, family, flags);
            m.str(NFTA_SET_ELEM_LIST_SET, name);
            if let Some(id) = id {
                m.u32_be(NFTA_SET_ELEM_LIST_SET_ID, id);
            }
            m.str(NFTA_SET_ELEM_LIST_TABLE, t);
            m.begin(NFTA_SET_ELEM_LIST_ELEMENTS, NLA_F_NESTED).begin(1, NLA_F_NESTED);
            m.begin(NFTA_SET_ELEM_KEY, NLA_F_NESTED).attr(NFTA_DATA_VALUE, &vmac.to_ne_bytes()).end();
            if let Some(d) = data {
                m.begin(NFTA_SET_ELEM_DATA, NLA_F_NESTED).attr(NFTA_DATA_VALUE, &d.to_ne_bytes()).end();
            }
            m.end().end();
            b.push(m, format!("{verb} interface {vmac} in {name} of table {fw} {t}"));
        }
    }

    fn setup_link_local(&mut self, b: &mut Batch, kind: SetKind) {
        let t = self.table.clone();
        let (if_type, if_len, in_key, out_key) = match kind {
            SetKind::LinkLocalName => (TYPE_IFNAME, IFNAMSIZ as u32, NFT_META_IIFNAME, NFT_META_OIFNAME),
            _ => (TYPE_IFINDEX, 4, NFT_META_IIF, NFT_META_OIF),
        };
        let name = kind.name();
        let id = self.next_set_id();
        b.push(
            set(
                &t,
                NFPROTO_IPV6,
                name,
                TYPE_IP6ADDR << TYPE_BITS | if_type,
                16 + if_len,
                0,
                id,
                None,
                &UDATA_BYTEORDER_HOST,
            ),
            format!("create set ip6 {t} {name}"),
        );
        b.push(
            self.rule(NFPROTO_IPV6, "in_link_local", &lookup_rule(false, 16, Some(in_key), name, NF_DROP)),
            format!("add rule ip6 {t} in_link_local"),
        );
        b.push(
            self.rule(NFPROTO_IPV6, "out_link_local", &lookup_rule(true, 16, Some(out_key), name, NF_DROP)),
            format!("add rule ip6 {t} out_link_local"),
        );
    }

    fn base_chain(&self, family: u8, name: &str, hook: u32) -> MsgBuilder {
        let mut m = msg(NFT_MSG_NEWCHAIN, family, NLM_F_CREATE | NLM_F_ACK);
        m.str(NFTA_CHAIN_TABLE, &self.table).str(NFTA_CHAIN_NAME, name);
        m.begin(NFTA_CHAIN_HOOK, NLA_F_NESTED)
            .u32_be(NFTA_HOOK_HOOKNUM, hook)
            .u32_be(NFTA_HOOK_PRIORITY, self.priority as u32)
            .end();
        m.u32_be(NFTA_CHAIN_POLICY, NF_ACCEPT).str(NFTA_CHAIN_TYPE, "filter");
        m
    }

    fn rule(&self, family: u8, chain: &str, exprs: &[Expr]) -> MsgBuilder {
        let mut m = msg(NFT_MSG_NEWRULE, family, NLM_F_APPEND | NLM_F_CREATE | NLM_F_ACK);
        m.str(NFTA_RULE_TABLE, &self.table).str(NFTA_RULE_CHAIN, chain);
        m.begin(NFTA_RULE_EXPRESSIONS, NLA_F_NESTED);
        for e in exprs {
            if matches!(e, Expr::Counter) && !self.counters {
                continue;
            }
            e.emit(&mut m);
        }
        m.end();
        m
    }

    fn elements(&self, cmd: u16, family: u8, set: SetKind, elems: &[&FirewallAddr]) -> Result<MsgBuilder, String> {
        let flags = if cmd == NFT_MSG_NEWSETELEM { NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK } else { NLM_F_ACK };
        let mut m = msg(cmd, family, flags);
        m.str(NFTA_SET_ELEM_LIST_SET, set.name()).str(NFTA_SET_ELEM_LIST_TABLE, &self.table);
        let keys = elems.iter().map(|a| a.key()).collect::<Result<Vec<_>, _>>()?;
        elements_attr(&mut m, &keys);
        Ok(m)
    }
}

impl Drop for Firewall {
    fn drop(&mut self) {
        if !self.closed && (self.v4.table || self.v6.table) {
            if let Err(e) = self.delete_tables() {
                tracing::warn!(table = %self.table, error = %e, "could not delete the nftables firewall");
            }
        }
    }
}

const ENOENT: i32 = 2;

fn change(action: &str, source: io::Error, hint: Option<String>) -> NetlinkError {
    NetlinkError::Change { action: action.to_string(), source, hint }
}

fn invalid(action: &str, detail: String) -> NetlinkError {
    NetlinkError::Invalid { action: action.to_string(), detail }
}

fn list(addrs: &[FirewallAddr]) -> String {
    addrs.iter().map(|a| a.to_string()).collect::<Vec<_>>().join(", ")
}

fn list_ref(addrs: &[&FirewallAddr]) -> String {
    addrs.iter().map(|a| a.to_string()).collect::<Vec<_>>().join(", ")
}

/// The first refusal of a batch, named by the message it refused.
fn check_answers(b: &Batch, answers: &[Answer], action: &str) -> Result<(), NetlinkError> {
    if let Some(a) = answers.iter().find(|a| a.errno != 0) {
        let step = b.msgs.iter().find(|(seq, _, _)| *seq == a.seq).map(|(_, _, w)| w.as_str());
        let action = match step {
            Some(s) => format!("{action} ({s})"),
            None => action.to_string(),
        };
        return Err(change(&action, io::Error::from_raw_os_error(a.errno), a.hint.clone()));
    }
    if answers.len() < b.msgs.len() {
        return Err(change(
            action,
            io::Error::new(io::ErrorKind::UnexpectedEof, "the kernel did not confirm every change"),
            None,
        ));
    }
    Ok(())
}

fn batch_marker(kind: u16, seq: u32) -> Vec<u8> {
    let mut m = MsgBuilder::new(kind, NLM_F_REQUEST);
    m.raw(&[0, 0, 0, NFNL_SUBSYS_NFTABLES as u8]);
    m.finish(seq)
}

#[allow(clippy::too_many_arguments)]
fn set(
    table: &str,
    family: u8,
    name: &str,
    key_type: u32,
    key_len: u32,
    flags: u32,
    id: u32,
    data: Option<(u32, u32)>,
    udata: &[u8],
) -> MsgBuilder {
    let mut m = msg(NFT_MSG_NEWSET, family, NLM_F_CREATE | NLM_F_ACK);
    m.str(NFTA_SET_TABLE, table).str(NFTA_SET_NAME, name);
    if flags != 0 {
        m.u32_be(NFTA_SET_FLAGS, flags);
    }
    m.u32_be(NFTA_SET_KEY_TYPE, key_type).u32_be(NFTA_SET_KEY_LEN, key_len);
    if let Some((data_type, data_len)) = data {
        m.u32_be(NFTA_SET_DATA_TYPE, data_type).u32_be(NFTA_SET_DATA_LEN, data_len);
    }
    m.u32_be(NFTA_SET_ID, id);
    m.attr(NFTA_SET_USERDATA, udata);
    m
}

/// `NFTA_SET_ELEM_LIST_ELEMENTS`; each element's attribute type is its
/// position, counted from 1, as libnftnl writes them.
fn elements_attr(m: &mut MsgBuilder, keys: &[Vec<u8>]) {
    m.begin(NFTA_SET_ELEM_LIST_ELEMENTS, NLA_F_NESTED);
    for (i, k) in keys.iter().enumerate() {
        let pos = u16::try_from(i + 1).unwrap_or(u16::MAX) & 0x3fff;
        m.begin(pos, NLA_F_NESTED);
        m.begin(NFTA_SET_ELEM_KEY, NLA_F_NESTED).attr(NFTA_DATA_VALUE, k).end();
        m.end();
    }
    m.end();
}

/// The nf_tables expressions keepalived's rules use.
#[derive(Clone, Debug)]
enum Expr {
    Payload {
        base: u32,
        offset: u32,
        len: u32,
    },
    Meta {
        key: u32,
        dreg: u32,
    },
    Cmp {
        sreg: u32,
        data: Vec<u8>,
    },
    Bitwise {
        len: u32,
        mask: Vec<u8>,
        xor: Vec<u8>,
    },
    /// `set_id`: keepalived passes 1 for its VMAC map and set, whatever
    /// their id in the batch (the kernel finds them by name).
    Lookup {
        sreg: u32,
        dreg: Option<u32>,
        set: String,
        set_id: Option<u32>,
    },
    /// `dup to <address in NFT_REG_1> device <ifindex in NFT_REG_2>`.
    Dup,
    Counter,
    Verdict {
        code: u32,
        chain: Option<String>,
    },
}

impl Expr {
    fn emit(&self, m: &mut MsgBuilder) {
        let name = match self {
            Expr::Payload { .. } => "payload",
            Expr::Meta { .. } => "meta",
            Expr::Cmp { .. } => "cmp",
            Expr::Bitwise { .. } => "bitwise",
            Expr::Lookup { .. } => "lookup",
            Expr::Dup => "dup",
            Expr::Counter => "counter",
            Expr::Verdict { .. } => "immediate",
        };
        m.begin(NFTA_LIST_ELEM, NLA_F_NESTED).str(NFTA_EXPR_NAME, name);
        m.begin(NFTA_EXPR_DATA, NLA_F_NESTED);
        match self {
            Expr::Payload { base, offset, len } => {
                m.u32_be(1, NFT_REG_1).u32_be(2, *base).u32_be(3, *offset).u32_be(4, *len);
            }
            Expr::Meta { key, dreg } => {
                m.u32_be(2, *key).u32_be(1, *dreg);
            }
            Expr::Cmp { sreg, data } => {
                m.u32_be(1, *sreg).u32_be(2, NFT_CMP_EQ);
                m.begin(3, NLA_F_NESTED).attr(NFTA_DATA_VALUE, data).end();
            }
            Expr::Bitwise { len, mask, xor } => {
                m.u32_be(1, NFT_REG_1).u32_be(2, NFT_REG_1).u32_be(3, *len);
                m.begin(4, NLA_F_NESTED).attr(NFTA_DATA_VALUE, mask).end();
                m.begin(5, NLA_F_NESTED).attr(NFTA_DATA_VALUE, xor).end();
            }
            Expr::Lookup { sreg, dreg, set, set_id } => {
                m.u32_be(2, *sreg);
                if let Some(d) = dreg {
                    m.u32_be(3, *d);
                }
                m.str(1, set);
                if let Some(id) = set_id {
                    m.u32_be(4, *id);
                }
            }
            Expr::Dup => {
                m.u32_be(1, NFT_REG_1).u32_be(2, NFT_REG_2);
            }
            Expr::Counter => {}
            Expr::Verdict { code, chain } => {
                m.u32_be(1, NFT_REG_VERDICT);
                m.begin(2, NLA_F_NESTED).begin(NFTA_DATA_VERDICT, NLA_F_NESTED);
                m.u32_be(NFTA_VERDICT_CODE, *code);
                if let Some(c) = chain {
                    m.str(NFTA_VERDICT_CHAIN, c);
                }
                m.end().end();
            }
        }
        m.end().end();
    }
}

/// `ip[6] {s,d}addr [. {o,i}if] @SET VERDICT`.
fn lookup_rule(saddr: bool, addr_len: u32, meta: Option<u32>, set: &str, verdict: u32) -> Vec<Expr> {
    // Source/destination offsets in the IPv4 (12/16) and IPv6 (8/24) headers.
    let offset = match (addr_len, saddr) {
        (4, true) => 12,
        (4, false) => 16,
        (_, true) => 8,
        (_, false) => 24,
    };
    let mut v = vec![Expr::Payload { base: NFT_PAYLOAD_NETWORK_HEADER, offset, len: addr_len }];
    if let Some(key) = meta {
        v.push(Expr::Meta { key, dreg: NFT_REG_2 });
    }
    v.push(Expr::Lookup { sreg: NFT_REG_1, dreg: None, set: set.to_string(), set_id: None });
    v.push(Expr::Counter);
    v.push(Expr::Verdict { code: verdict, chain: None });
    v
}

/// `icmpv6 type @neighbor-discovery accept`: neighbour discovery for the
/// VIPs must keep working while their other traffic is dropped.
fn icmpv6_nd_rule() -> Vec<Expr> {
    vec![
        Expr::Payload { base: NFT_PAYLOAD_NETWORK_HEADER, offset: 6, len: 1 },
        Expr::Cmp { sreg: NFT_REG_1, data: vec![IPPROTO_ICMPV6] },
        Expr::Payload { base: NFT_PAYLOAD_TRANSPORT_HEADER, offset: 0, len: 1 },
        Expr::Lookup { sreg: NFT_REG_1, dreg: None, set: "neighbor-discovery".into(), set_id: None },
        Expr::Counter,
        Expr::Verdict { code: NF_ACCEPT, chain: None },
    ]
}

/// `ip6 {s,d}addr fe80::/10 goto CHAIN`.
fn link_local_goto_rule(saddr: bool, chain: &str) -> Vec<Expr> {
    let mut mask = vec![0u8; 16];
    mask[0] = 0xff;
    mask[1] = 0xc0;
    let mut fe80 = vec![0u8; 16];
    fe80[0] = 0xfe;
    fe80[1] = 0x80;
    vec![
        Expr::Payload { base: NFT_PAYLOAD_NETWORK_HEADER, offset: if saddr { 8 } else { 24 }, len: 16 },
        Expr::Bitwise { len: 16, mask, xor: vec![0u8; 16] },
        Expr::Cmp { sreg: NFT_REG_1, data: fe80 },
        Expr::Counter,
        Expr::Verdict { code: NFT_GOTO, chain: Some(chain.to_string()) },
    ]
}

/// The start of keepalived's MLD rule (`icmpv6 type mld2-listener-report`)
/// and router solicitation rule: the protocol from `meta l4proto`.
fn icmpv6_type(icmp_type: u8) -> Vec<Expr> {
    vec![
        Expr::Meta { key: NFT_META_L4PROTO, dreg: NFT_REG_1 },
        Expr::Cmp { sreg: NFT_REG_1, data: vec![IPPROTO_ICMPV6] },
        Expr::Payload { base: NFT_PAYLOAD_TRANSPORT_HEADER, offset: 0, len: 1 },
        Expr::Cmp { sreg: NFT_REG_1, data: vec![icmp_type] },
    ]
}

/// `meta oifkind "macvlan"`, then the output interface into NFT_REG_2.
fn macvlan_oif(v: &mut Vec<Expr>) {
    v.push(Expr::Meta { key: NFT_META_OIFKIND, dreg: NFT_REG_2 });
    v.push(Expr::Cmp { sreg: NFT_REG_2, data: MACVLAN_KIND.to_vec() });
    v.push(Expr::Meta { key: NFT_META_OIF, dreg: NFT_REG_2 });
}

/// IPv4: `ip protocol igmp meta oifkind "macvlan" dup to ip daddr device
/// oif map @vmac_map drop`; IPv6: the same for `icmpv6 type
/// mld2-listener-report` and `ip6 daddr`. A VMAC's IGMP/MLD reports go out
/// of its base interface instead (with the base's MAC address).
fn vmac_report_rule(family: u8) -> Vec<Expr> {
    let mut v = if family == NFPROTO_IPV4 {
        vec![
            Expr::Payload { base: NFT_PAYLOAD_NETWORK_HEADER, offset: 9, len: 1 },
            Expr::Cmp { sreg: NFT_REG_1, data: vec![IPPROTO_IGMP] },
            Expr::Payload { base: NFT_PAYLOAD_NETWORK_HEADER, offset: 16, len: 4 },
        ]
    } else {
        let mut v = icmpv6_type(MLD2_LISTENER_REPORT);
        v.push(Expr::Payload { base: NFT_PAYLOAD_NETWORK_HEADER, offset: 24, len: 16 });
        v
    };
    macvlan_oif(&mut v);
    v.push(Expr::Lookup { sreg: NFT_REG_2, dreg: Some(NFT_REG_2), set: VMAC_MAP.into(), set_id: Some(1) });
    v.push(Expr::Dup);
    v.push(Expr::Counter);
    v.push(Expr::Verdict { code: NF_DROP, chain: None });
    v
}

/// `icmpv6 type nd-router-solicit meta oifkind "macvlan" oif @vmac_set drop`.
fn vmac_router_solicit_rule() -> Vec<Expr> {
    let mut v = icmpv6_type(ND_ROUTER_SOLICIT);
    macvlan_oif(&mut v);
    v.push(Expr::Lookup { sreg: NFT_REG_2, dreg: None, set: VMAC_SET.into(), set_id: Some(1) });
    v.push(Expr::Counter);
    v.push(Expr::Verdict { code: NF_DROP, chain: None });
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nla::{split, unhex};

    fn fixture(name: &str) -> Vec<u8> {
        let path = format!("{}/testdata/keepalived-2.2.7-nft-{name}.hex", env!("CARGO_MANIFEST_DIR"));
        unhex(&std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}")))
    }

    /// Messages with their sequence numbers zeroed (keepalived's start
    /// from the clock).
    fn normalized(datagram: &[u8]) -> Vec<Vec<u8>> {
        split(datagram)
            .into_iter()
            .map(|mut m| {
                m[8..12].copy_from_slice(&[0; 4]);
                m
            })
            .collect()
    }

    fn offline(table: &str) -> Firewall {
        Firewall {
            socket: Transport::unconnected(NETLINK_NETFILTER).expect("a netlink socket"),
            table: table.into(),
            priority: -1,
            counters: false,
            seq: 0,
            set_id: 0,
            v4: FamilyState::default(),
            v6: FamilyState::default(),
            blocked: HashMap::new(),
            vmacs: HashMap::new(),
            closed: true,
        }
    }

    fn batch_bytes(b: &Batch) -> Vec<u8> {
        let mut d = batch_marker(NFNL_MSG_BATCH_BEGIN, 0);
        for (_, m, _) in &b.msgs {
            d.extend_from_slice(m);
        }
        d.extend(batch_marker(NFNL_MSG_BATCH_END, 0));
        d
    }

    fn block_batch(fw: &mut Firewall, family: u8, addrs: &[FirewallAddr]) -> Vec<u8> {
        let mut b = fw.batch();
        fw.setup_family(&mut b, family);
        if addrs.iter().any(|a| a.set() == SetKind::LinkLocal) {
            fw.setup_link_local(&mut b, SetKind::LinkLocal);
        }
        for set in [SetKind::Vips, SetKind::LinkLocal] {
            let e: Vec<&FirewallAddr> = addrs.iter().filter(|a| a.set() == set).collect();
            if !e.is_empty() {
                b.push(fw.elements(NFT_MSG_NEWSETELEM, family, set, &e).unwrap(), String::new());
            }
        }
        batch_bytes(&b)
    }

    fn assert_same(ours: &[u8], theirs: &[u8]) {
        let (a, b) = (normalized(ours), normalized(theirs));
        assert_eq!(a.len(), b.len(), "number of messages");
        for (i, (x, y)) in a.iter().zip(&b).enumerate() {
            assert_eq!(x, y, "message {i} differs:\n ours   {x:02x?}\n theirs {y:02x?}");
        }
    }

    #[test]
    fn gettable_as_keepalived() {
        for (family, name) in [(NFPROTO_IPV4, "gettable-ip"), (NFPROTO_IPV6, "gettable-ip6")] {
            let mut m = msg(NFT_MSG_GETTABLE, family, NLM_F_ACK);
            m.str(NFTA_TABLE_NAME, "keepalived");
            // keepalived leaves the attribute's padding byte uninitialised.
            let (ours, theirs) = (normalized(&m.finish(0)), normalized(&fixture(name)));
            assert_eq!(ours[0][..35], theirs[0][..35]);
            assert_eq!(ours[0].len(), theirs[0].len());
        }
    }

    #[test]
    fn ipv4_setup_and_block_as_keepalived() {
        let mut fw = offline("keepalived");
        let addrs =
            [FirewallAddr::V4("198.51.100.70".parse().unwrap()), FirewallAddr::V4("198.51.100.71".parse().unwrap())];
        assert_same(&block_batch(&mut fw, NFPROTO_IPV4, &addrs), &fixture("batch-ip-setup-block"));
    }

    #[test]
    fn ipv6_setup_and_block_as_keepalived() {
        let mut fw = offline("keepalived");
        fw.set_id = 1; // keepalived created the ip set first
        let addrs =
            [FirewallAddr::new("2001:db8::71".parse().unwrap(), 3), FirewallAddr::new("fe80::71".parse().unwrap(), 3)];
        assert!(matches!(addrs[1], FirewallAddr::LinkLocal { ifindex: 3, .. }));
        assert_same(&block_batch(&mut fw, NFPROTO_IPV6, &addrs), &fixture("batch-ip6-setup-block"));
    }

    #[test]
    fn unblock_and_close_as_keepalived() {
        let fw = offline("keepalived");
        let v4 =
            [FirewallAddr::V4("198.51.100.70".parse().unwrap()), FirewallAddr::V4("198.51.100.71".parse().unwrap())];
        let mut b = fw.batch();
        let r: Vec<&FirewallAddr> = v4.iter().collect();
        b.push(fw.elements(NFT_MSG_DELSETELEM, NFPROTO_IPV4, SetKind::Vips, &r).unwrap(), String::new());
        assert_same(&batch_bytes(&b), &fixture("batch-ip-unblock"));

        let g = FirewallAddr::new("2001:db8::71".parse().unwrap(), 3);
        let ll = FirewallAddr::new("fe80::71".parse().unwrap(), 3);
        let mut b = fw.batch();
        b.push(fw.elements(NFT_MSG_DELSETELEM, NFPROTO_IPV6, SetKind::Vips, &[&g]).unwrap(), String::new());
        b.push(fw.elements(NFT_MSG_DELSETELEM, NFPROTO_IPV6, SetKind::LinkLocal, &[&ll]).unwrap(), String::new());
        assert_same(&batch_bytes(&b), &fixture("batch-ip6-unblock"));

        let mut b = fw.batch();
        b.push(fw.del_table(NFPROTO_IPV4), String::new());
        b.push(fw.del_table(NFPROTO_IPV6), String::new());
        assert_same(&batch_bytes(&b), &fixture("batch-deltable"));
    }

    /// The VMAC batches of keepalived 2.2.7 (testdata/keepalived-2.2.7-vmac-nft.conf):
    /// VMAC ifindex 4 on base 3 at start-up, the instance becoming master,
    /// a second VMAC (ifindex 5), and the first VMAC's removal.
    fn vmac_as_keepalived(family: u8, vip: FirewallAddr, word: &str) {
        let mut fw = offline("keepalived");
        let (b, st) = fw.plan_add_vmac(family, 4, 3, None);
        assert_same(&batch_bytes(&b), &fixture(&format!("batch-{word}-vmac-setup")));
        *fw.state(family) = st;
        fw.vmacs.insert((family, 4), 3);

        let (b, v4, v6) = fw.plan_block(&[vip], "block").unwrap();
        assert_same(&batch_bytes(&b), &fixture(&format!("batch-{word}-block-after-vmac")));
        (fw.v4, fw.v6) = (v4, v6);

        let (b, _) = fw.plan_add_vmac(family, 5, 3, None);
        assert_same(&batch_bytes(&b), &fixture(&format!("batch-{word}-vmac-add")));

        let mut b = fw.batch();
        fw.vmac_elements(&mut b, NFT_MSG_DELSETELEM, family, 4, 3, None);
        assert_same(&batch_bytes(&b), &fixture(&format!("batch-{word}-vmac-remove")));
    }

    #[test]
    fn ipv4_vmac_as_keepalived() {
        vmac_as_keepalived(NFPROTO_IPV4, FirewallAddr::V4("198.51.100.61".parse().unwrap()), "ip");
        let mut fw = offline("keepalived");
        fw.set_counters(true);
        let (b, _) = fw.plan_add_vmac(NFPROTO_IPV4, 4, 3, None);
        assert_same(&batch_bytes(&b), &fixture("batch-ip-vmac-setup-counters"));
    }

    #[test]
    fn ipv6_vmac_as_keepalived() {
        vmac_as_keepalived(NFPROTO_IPV6, FirewallAddr::V6("2001:db8::62".parse().unwrap()), "ip6");
    }

    #[test]
    fn vmac_base_change_replaces_the_element() {
        let mut fw = offline("keepalived");
        let (_, st) = fw.plan_add_vmac(NFPROTO_IPV6, 4, 3, None);
        fw.v6 = st;
        let (b, st) = fw.plan_add_vmac(NFPROTO_IPV6, 4, 7, Some(3));
        assert_eq!(st.vmac, fw.v6.vmac);
        let cmds: Vec<u16> =
            normalized(&batch_bytes(&b)).iter().map(|m| u16::from_ne_bytes([m[4], m[5]]) & 0xff).collect();
        // begin, old out of map and set, new into map and set, end
        assert_eq!(cmds, [0x10, 14, 14, 12, 12, 0x11]);
    }

    #[test]
    fn counters_and_names() {
        let mut fw = offline("ka");
        fw.counters = true;
        let m = fw.rule(NFPROTO_IPV4, "in", &lookup_rule(false, 4, None, "vips", NF_DROP)).finish(1);
        assert!(m.windows(8).any(|w| w == b"counter\0"));
        let a = FirewallAddr::LinkLocalName { addr: "fe80::1".parse().unwrap(), ifname: "eth0".into() };
        assert_eq!(a.key().unwrap().len(), 32);
        let bad =
            FirewallAddr::LinkLocalName { addr: "fe80::1".parse().unwrap(), ifname: "a-much-too-long-name".into() };
        assert!(bad.key().is_err());
        assert_eq!(FirewallAddr::new("fe80::1".parse().unwrap(), 2).to_string(), "fe80::1 on interface 2");
        assert!(matches!(FirewallAddr::new("febf::1".parse().unwrap(), 2), FirewallAddr::LinkLocal { .. }));
        assert!(matches!(FirewallAddr::new("fec0::1".parse().unwrap(), 2), FirewallAddr::V6(_)));
    }
}
