use core::fmt;

/// Why a packet was rejected (or could not be emitted).
///
/// The variants map onto keepalived's per-instance receive counters
/// ([`Error::keepalived_counter`]), so the engine can count them directly.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Error {
    /// The buffer is shorter than a header or than the length a header announces
    /// (keepalived: `packet_len_err`).
    Truncated,
    /// Lengths disagree: IPv4 total length vs header length, VRRP message length vs
    /// the count of addresses, AH payload length not 4, ... (keepalived: `packet_len_err`).
    BadLength,
    /// IP version field is not 4 (resp. 6) (dropped by the kernel for keepalived).
    IpVersion,
    /// IPv4 header checksum is wrong (dropped by the kernel for keepalived).
    IpChecksum,
    /// The IPv4 datagram is a fragment (MF set or non-zero offset).
    Fragment,
    /// The IP protocol / next header is not the expected one (VRRP 112, AH 51, ICMPv6 58).
    Protocol,
    /// The AH next-header is not VRRP (keepalived silently drops: no counter).
    AhNextHeader,
    /// VRRP version is neither 2 nor 3 (keepalived: `vers_err`).
    VrrpVersion,
    /// VRRP type is not 1 = ADVERTISEMENT (keepalived: `invalid_type_rcvd`).
    VrrpType,
    /// VRRPv2 auth type is not 0, 1 or 2, or AH used with something other than VRRPv2/IPv4
    /// (keepalived: `invalid_authtype`).
    AuthType,
    /// VRRP checksum is wrong (keepalived: `chk_err`); also ICMPv6 checksum.
    Checksum,
    /// PASS password or AH ICV / SPI mismatch (keepalived: `auth_failure`).
    AuthFailure,
    /// A field has a value this format does not allow (ARP hardware type, ND option of length 0,
    /// ICMPv6 type/code, too many addresses to emit, an interval out of range, ...).
    Malformed,
}

impl Error {
    /// Name of the keepalived `vrrp_stats` counter this error increments, if any.
    pub fn keepalived_counter(self) -> Option<&'static str> {
        match self {
            Error::Truncated | Error::BadLength => Some("packet_len_err"),
            Error::VrrpVersion => Some("vers_err"),
            Error::VrrpType => Some("invalid_type_rcvd"),
            Error::AuthType => Some("invalid_authtype"),
            Error::Checksum => Some("chk_err"),
            Error::AuthFailure => Some("auth_failure"),
            Error::IpVersion
            | Error::IpChecksum
            | Error::Fragment
            | Error::Protocol
            | Error::AhNextHeader
            | Error::Malformed => None,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = match self {
            Error::Truncated => "truncated packet",
            Error::BadLength => "inconsistent length",
            Error::IpVersion => "wrong IP version",
            Error::IpChecksum => "bad IPv4 header checksum",
            Error::Fragment => "IPv4 fragment",
            Error::Protocol => "unexpected IP protocol",
            Error::AhNextHeader => "AH next header is not VRRP",
            Error::VrrpVersion => "invalid VRRP version",
            Error::VrrpType => "invalid VRRP packet type",
            Error::AuthType => "invalid VRRP authentication type",
            Error::Checksum => "bad checksum",
            Error::AuthFailure => "authentication failure",
            Error::Malformed => "malformed packet",
        };
        f.write_str(s)
    }
}

impl std::error::Error for Error {}
