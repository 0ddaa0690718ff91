//! BFD control packets (RFC 5880 §4.1), carried in UDP to port 3784 (single hop, RFC 5881) or 4784
//! (multihop, RFC 5883).
//!
//! Mandatory section (RFC 5880 §4.1):
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |Vers |  Diag   |Sta|P|F|C|A|D|M|  Detect Mult  |    Length     |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                       My Discriminator                        |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                      Your Discriminator                       |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                    Desired Min TX Interval                    |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                   Required Min RX Interval                    |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                 Required Min Echo RX Interval                 |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```
//! Optional authentication section (present when A is set):
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |   Auth Type   |   Auth Len    |    Authentication Data...     |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```
//! * Simple Password (type 1, §4.2): Auth Key ID, then a 1-16 byte password (Auth Len 4..=19).
//! * Keyed / Meticulous Keyed MD5 (types 2, 3, §4.3): Auth Key ID, Reserved, Sequence Number,
//!   16-byte digest (Auth Len 24).
//! * Keyed / Meticulous Keyed SHA1 (types 4, 5, §4.4): Auth Key ID, Reserved, Sequence Number,
//!   20-byte hash (Auth Len 28).
//!
//! keepalived (and this implementation) use no authentication, but every section is parsed and
//! length-checked so that a packet carrying one is judged on its real layout.
//!
//! [`Packet::validate`] runs the receive checks of RFC 5880 §6.8.6 that need nothing but the packet
//! (plus keepalived's two extra ones: P and F together, a Diag above 8) and says which one failed
//! ([`Invalid`]); the BFD engine counts each as a drop reason. [`Repr::parse`] runs the same checks.
use core::fmt;

use crate::{get_u32, put_slice, put_u32, Error, Result};

/// Field byte ranges.
pub mod field {
    use core::ops::{Range, RangeFrom};
    /// Version (3 bits) and Diag (5 bits).
    pub const VERS_DIAG: usize = 0;
    /// Sta (2 bits) and the flags P F C A D M.
    pub const STA_FLAGS: usize = 1;
    /// Detect Mult.
    pub const DETECT_MULT: usize = 2;
    /// Length of the whole control packet, bytes.
    pub const LENGTH: usize = 3;
    /// My Discriminator.
    pub const MY_DISCR: Range<usize> = 4..8;
    /// Your Discriminator.
    pub const YOUR_DISCR: Range<usize> = 8..12;
    /// Desired Min TX Interval, µs.
    pub const DESIRED_MIN_TX: Range<usize> = 12..16;
    /// Required Min RX Interval, µs.
    pub const REQUIRED_MIN_RX: Range<usize> = 16..20;
    /// Required Min Echo RX Interval, µs.
    pub const REQUIRED_MIN_ECHO_RX: Range<usize> = 20..24;
    /// Authentication section (when A is set).
    pub const AUTH: RangeFrom<usize> = 24..;
    /// Auth Type, in the authentication section.
    pub const AUTH_TYPE: usize = 24;
    /// Auth Len (the whole authentication section, bytes).
    pub const AUTH_LEN: usize = 25;
    /// Auth Key ID.
    pub const AUTH_KEY_ID: usize = 26;
    /// MD5/SHA1: reserved byte.
    pub const AUTH_RESERVED: usize = 27;
    /// MD5/SHA1: sequence number.
    pub const AUTH_SEQ: Range<usize> = 28..32;
    /// MD5/SHA1: digest or hash.
    pub const AUTH_DIGEST: RangeFrom<usize> = 32..;
    /// Simple password: the password.
    pub const AUTH_PASSWORD: RangeFrom<usize> = 27..;
}

/// Length of the mandatory section.
pub const HEADER_LEN: usize = field::AUTH.start;
/// The only BFD version (RFC 5880).
pub const VERSION: u8 = 1;
/// Largest Diag defined by RFC 5880 §4.1 (8, Reverse Concatenated Path Down).
pub const MAX_DIAG: u8 = 8;
/// UDP destination port of single-hop control packets (RFC 5881 §4).
pub const CONTROL_PORT: u16 = 3784;
/// UDP destination port of multihop control packets (RFC 5883 §5).
pub const MULTIHOP_CONTROL_PORT: u16 = 4784;
/// Lowest UDP source port of control packets (RFC 5881 §4).
pub const MIN_SOURCE_PORT: u16 = 49152;
/// Longest simple password (RFC 5880 §4.2).
pub const MAX_PASSWORD_LEN: usize = 16;
/// Auth Len of the MD5 types (RFC 5880 §4.3).
pub const MD5_AUTH_LEN: u8 = 24;
/// Auth Len of the SHA1 types (RFC 5880 §4.4).
pub const SHA1_AUTH_LEN: u8 = 28;

const FLAG_P: u8 = 0x20;
const FLAG_F: u8 = 0x10;
const FLAG_C: u8 = 0x08;
const FLAG_A: u8 = 0x04;
const FLAG_D: u8 = 0x02;
const FLAG_M: u8 = 0x01;

/// Session state in the Sta field (RFC 5880 §4.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum State {
    /// 0
    AdminDown,
    /// 1
    Down,
    /// 2
    Init,
    /// 3
    Up,
}

impl State {
    /// From the two Sta bits (only the low two bits of `v` are used).
    pub const fn from_bits(v: u8) -> State {
        match v & 3 {
            0 => State::AdminDown,
            1 => State::Down,
            2 => State::Init,
            _ => State::Up,
        }
    }
    /// The Sta value.
    pub const fn bits(self) -> u8 {
        match self {
            State::AdminDown => 0,
            State::Down => 1,
            State::Init => 2,
            State::Up => 3,
        }
    }
}

/// Authentication types (RFC 5880 §4.1 "Auth Type").
pub mod auth_type {
    /// Simple Password.
    pub const SIMPLE_PASSWORD: u8 = 1;
    /// Keyed MD5.
    pub const KEYED_MD5: u8 = 2;
    /// Meticulous Keyed MD5.
    pub const METICULOUS_KEYED_MD5: u8 = 3;
    /// Keyed SHA1.
    pub const KEYED_SHA1: u8 = 4;
    /// Meticulous Keyed SHA1.
    pub const METICULOUS_KEYED_SHA1: u8 = 5;
}

/// A receive check of RFC 5880 §6.8.6 that the packet alone fails (in the order they are run).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Invalid {
    /// Fewer bytes than the mandatory section (keepalived: "Packet is too small").
    Short {
        /// Bytes received.
        len: usize,
    },
    /// Version is not 1.
    Version(u8),
    /// Length field below 24 (26 with A set) or above the bytes received.
    Length {
        /// The Length field.
        length: u8,
        /// Bytes received.
        buffer: usize,
    },
    /// A is set and the authentication section is not the length its type requires, or does not
    /// end where the Length field says.
    AuthLength {
        /// Auth Type.
        auth_type: u8,
        /// Auth Len.
        auth_len: u8,
    },
    /// A is set with an Auth Type RFC 5880 does not define.
    AuthType(u8),
    /// Detect Mult is zero.
    DetectMultZero,
    /// M (multipoint) is set.
    Multipoint,
    /// My Discriminator is zero.
    MyDiscrZero,
    /// Your Discriminator is zero and State is neither Down nor AdminDown.
    YourDiscrZero(State),
    /// Both P and F are set (keepalived's extra check; RFC 5880 §6.5 forbids sending it).
    PollAndFinal,
    /// Diag above 8 (keepalived's extra check).
    Diag(u8),
}

impl fmt::Display for Invalid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Invalid::Short { len } => write!(f, "BFD packet of {len} bytes"),
            Invalid::Version(v) => write!(f, "BFD version {v}"),
            Invalid::Length { length, buffer } => write!(f, "BFD length field {length} for {buffer} bytes"),
            Invalid::AuthLength { auth_type, auth_len } => {
                write!(f, "BFD auth type {auth_type} with auth len {auth_len}")
            }
            Invalid::AuthType(t) => write!(f, "BFD auth type {t}"),
            Invalid::DetectMultZero => f.write_str("BFD detect mult 0"),
            Invalid::Multipoint => f.write_str("BFD multipoint bit set"),
            Invalid::MyDiscrZero => f.write_str("BFD my discriminator 0"),
            Invalid::YourDiscrZero(_) => f.write_str("BFD your discriminator 0 while not Down"),
            Invalid::PollAndFinal => f.write_str("BFD poll and final both set"),
            Invalid::Diag(d) => write!(f, "BFD diag {d}"),
        }
    }
}

impl From<Invalid> for Error {
    fn from(i: Invalid) -> Error {
        match i {
            Invalid::Short { .. } => Error::Truncated,
            Invalid::Length { .. } | Invalid::AuthLength { .. } => Error::BadLength,
            Invalid::AuthType(_) => Error::AuthType,
            _ => Error::Malformed,
        }
    }
}

/// The Auth Len a type requires (simple password: a range).
fn auth_len_ok(auth_type: u8, auth_len: u8) -> Option<bool> {
    match auth_type {
        auth_type::SIMPLE_PASSWORD => Some((4..=3 + MAX_PASSWORD_LEN as u8).contains(&auth_len)),
        auth_type::KEYED_MD5 | auth_type::METICULOUS_KEYED_MD5 => Some(auth_len == MD5_AUTH_LEN),
        auth_type::KEYED_SHA1 | auth_type::METICULOUS_KEYED_SHA1 => Some(auth_len == SHA1_AUTH_LEN),
        _ => None,
    }
}

/// A read/write view of a BFD control packet.
#[derive(Debug, Clone)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// Wraps without checking.
    pub const fn new_unchecked(buffer: T) -> Packet<T> {
        Packet { buffer }
    }
    /// Wraps and checks the lengths ([`Packet::check_len`]).
    pub fn new_checked(buffer: T) -> Result<Packet<T>> {
        let p = Self::new_unchecked(buffer);
        p.check_len()?;
        Ok(p)
    }
    /// The buffer holds the mandatory section, the Length field is at least 24 (26 with A set) and
    /// at most the buffer, and an authentication section fits its type (RFC 5880 §6.8.6). After it,
    /// every accessor reads inside the packet.
    pub fn check_len(&self) -> Result<()> {
        self.check_len_detail().map_err(Error::from)
    }
    fn check_len_detail(&self) -> core::result::Result<(), Invalid> {
        let buffer = self.buffer.as_ref().len();
        if buffer < HEADER_LEN {
            return Err(Invalid::Short { len: buffer });
        }
        let length = self.length();
        let min = if self.auth_present() { HEADER_LEN + 2 } else { HEADER_LEN };
        if usize::from(length) < min || usize::from(length) > buffer {
            return Err(Invalid::Length { length, buffer });
        }
        if self.auth_present() {
            let (auth_type, auth_len) = (self.auth_type(), self.auth_len());
            match auth_len_ok(auth_type, auth_len) {
                None => return Err(Invalid::AuthType(auth_type)),
                Some(false) => return Err(Invalid::AuthLength { auth_type, auth_len }),
                Some(true) if HEADER_LEN + usize::from(auth_len) != usize::from(length) => {
                    return Err(Invalid::AuthLength { auth_type, auth_len })
                }
                Some(true) => {}
            }
        }
        Ok(())
    }
    /// Every receive check of RFC 5880 §6.8.6 that needs only the packet, in the RFC's order, then
    /// keepalived's two extra ones (`bfd_check_packet`). Authentication in use, the session lookup
    /// and the TTL are the receiver's (see the BFD engine).
    pub fn validate(&self) -> core::result::Result<(), Invalid> {
        let buffer = self.buffer.as_ref().len();
        if buffer < HEADER_LEN {
            return Err(Invalid::Short { len: buffer });
        }
        if self.version() != VERSION {
            return Err(Invalid::Version(self.version()));
        }
        self.check_len_detail()?;
        if self.detect_mult() == 0 {
            return Err(Invalid::DetectMultZero);
        }
        if self.multipoint() {
            return Err(Invalid::Multipoint);
        }
        if self.my_discriminator() == 0 {
            return Err(Invalid::MyDiscrZero);
        }
        if self.your_discriminator() == 0 && !matches!(self.state(), State::Down | State::AdminDown) {
            return Err(Invalid::YourDiscrZero(self.state()));
        }
        if self.poll() && self.final_flag() {
            return Err(Invalid::PollAndFinal);
        }
        if self.diag() > MAX_DIAG {
            return Err(Invalid::Diag(self.diag()));
        }
        Ok(())
    }
    /// The buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }
    fn byte(&self, at: usize) -> u8 {
        self.buffer.as_ref().get(at).copied().unwrap_or(0)
    }
    /// Version (3 bits).
    pub fn version(&self) -> u8 {
        self.byte(field::VERS_DIAG) >> 5
    }
    /// Diag (5 bits).
    pub fn diag(&self) -> u8 {
        self.byte(field::VERS_DIAG) & 0x1f
    }
    /// Sta.
    pub fn state(&self) -> State {
        State::from_bits(self.byte(field::STA_FLAGS) >> 6)
    }
    /// P: Poll.
    pub fn poll(&self) -> bool {
        self.byte(field::STA_FLAGS) & FLAG_P != 0
    }
    /// F: Final.
    pub fn final_flag(&self) -> bool {
        self.byte(field::STA_FLAGS) & FLAG_F != 0
    }
    /// C: Control Plane Independent.
    pub fn control_plane_independent(&self) -> bool {
        self.byte(field::STA_FLAGS) & FLAG_C != 0
    }
    /// A: Authentication Present.
    pub fn auth_present(&self) -> bool {
        self.byte(field::STA_FLAGS) & FLAG_A != 0
    }
    /// D: Demand.
    pub fn demand(&self) -> bool {
        self.byte(field::STA_FLAGS) & FLAG_D != 0
    }
    /// M: Multipoint.
    pub fn multipoint(&self) -> bool {
        self.byte(field::STA_FLAGS) & FLAG_M != 0
    }
    /// Detect Mult.
    pub fn detect_mult(&self) -> u8 {
        self.byte(field::DETECT_MULT)
    }
    /// Length, bytes.
    pub fn length(&self) -> u8 {
        self.byte(field::LENGTH)
    }
    /// My Discriminator.
    pub fn my_discriminator(&self) -> u32 {
        get_u32(self.buffer.as_ref(), field::MY_DISCR.start)
    }
    /// Your Discriminator.
    pub fn your_discriminator(&self) -> u32 {
        get_u32(self.buffer.as_ref(), field::YOUR_DISCR.start)
    }
    /// Desired Min TX Interval, µs.
    pub fn desired_min_tx(&self) -> u32 {
        get_u32(self.buffer.as_ref(), field::DESIRED_MIN_TX.start)
    }
    /// Required Min RX Interval, µs.
    pub fn required_min_rx(&self) -> u32 {
        get_u32(self.buffer.as_ref(), field::REQUIRED_MIN_RX.start)
    }
    /// Required Min Echo RX Interval, µs.
    pub fn required_min_echo_rx(&self) -> u32 {
        get_u32(self.buffer.as_ref(), field::REQUIRED_MIN_ECHO_RX.start)
    }
    /// Auth Type (0 when the buffer has no authentication section).
    pub fn auth_type(&self) -> u8 {
        self.byte(field::AUTH_TYPE)
    }
    /// Auth Len (0 when the buffer has no authentication section).
    pub fn auth_len(&self) -> u8 {
        self.byte(field::AUTH_LEN)
    }
    /// The authentication section as the Length field bounds it (empty without A).
    pub fn auth_section(&self) -> &[u8] {
        let end = usize::from(self.length());
        if !self.auth_present() {
            return &[];
        }
        self.buffer.as_ref().get(HEADER_LEN..end).unwrap_or(&[])
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    fn set_byte(&mut self, at: usize, v: u8) {
        if let Some(b) = self.buffer.as_mut().get_mut(at) {
            *b = v;
        }
    }
    fn set_flag(&mut self, flag: u8, on: bool) {
        let b = self.byte(field::STA_FLAGS);
        self.set_byte(field::STA_FLAGS, if on { b | flag } else { b & !flag });
    }
    /// Sets Version and Diag.
    pub fn set_version_and_diag(&mut self, version: u8, diag: u8) {
        self.set_byte(field::VERS_DIAG, (version << 5) | (diag & 0x1f));
    }
    /// Sets Sta.
    pub fn set_state(&mut self, s: State) {
        let b = self.byte(field::STA_FLAGS);
        self.set_byte(field::STA_FLAGS, (b & 0x3f) | (s.bits() << 6));
    }
    /// Sets P.
    pub fn set_poll(&mut self, v: bool) {
        self.set_flag(FLAG_P, v);
    }
    /// Sets F.
    pub fn set_final_flag(&mut self, v: bool) {
        self.set_flag(FLAG_F, v);
    }
    /// Sets C.
    pub fn set_control_plane_independent(&mut self, v: bool) {
        self.set_flag(FLAG_C, v);
    }
    /// Sets A.
    pub fn set_auth_present(&mut self, v: bool) {
        self.set_flag(FLAG_A, v);
    }
    /// Sets D.
    pub fn set_demand(&mut self, v: bool) {
        self.set_flag(FLAG_D, v);
    }
    /// Sets M.
    pub fn set_multipoint(&mut self, v: bool) {
        self.set_flag(FLAG_M, v);
    }
    /// Sets Detect Mult.
    pub fn set_detect_mult(&mut self, v: u8) {
        self.set_byte(field::DETECT_MULT, v);
    }
    /// Sets Length.
    pub fn set_length(&mut self, v: u8) {
        self.set_byte(field::LENGTH, v);
    }
    /// Sets My Discriminator.
    pub fn set_my_discriminator(&mut self, v: u32) {
        put_u32(self.buffer.as_mut(), field::MY_DISCR.start, v);
    }
    /// Sets Your Discriminator.
    pub fn set_your_discriminator(&mut self, v: u32) {
        put_u32(self.buffer.as_mut(), field::YOUR_DISCR.start, v);
    }
    /// Sets Desired Min TX Interval.
    pub fn set_desired_min_tx(&mut self, v: u32) {
        put_u32(self.buffer.as_mut(), field::DESIRED_MIN_TX.start, v);
    }
    /// Sets Required Min RX Interval.
    pub fn set_required_min_rx(&mut self, v: u32) {
        put_u32(self.buffer.as_mut(), field::REQUIRED_MIN_RX.start, v);
    }
    /// Sets Required Min Echo RX Interval.
    pub fn set_required_min_echo_rx(&mut self, v: u32) {
        put_u32(self.buffer.as_mut(), field::REQUIRED_MIN_ECHO_RX.start, v);
    }
}

/// A simple password (1 to 16 bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Password {
    bytes: [u8; MAX_PASSWORD_LEN],
    len: u8,
}

impl Password {
    /// A password of 1 to 16 bytes (`None` otherwise).
    pub fn new(p: &[u8]) -> Option<Password> {
        if p.is_empty() || p.len() > MAX_PASSWORD_LEN {
            return None;
        }
        let mut bytes = [0u8; MAX_PASSWORD_LEN];
        bytes[..p.len()].copy_from_slice(p);
        Some(Password { bytes, len: p.len() as u8 })
    }
    /// The password.
    pub fn as_bytes(&self) -> &[u8] {
        self.bytes.get(..usize::from(self.len)).unwrap_or(&[])
    }
}

/// The authentication section (RFC 5880 §4.2-4.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Auth {
    /// Type 1.
    SimplePassword {
        /// Auth Key ID.
        key_id: u8,
        /// The password.
        password: Password,
    },
    /// Type 2 (`meticulous` false) or 3 (true).
    Md5 {
        /// Meticulous Keyed MD5.
        meticulous: bool,
        /// Auth Key ID.
        key_id: u8,
        /// Sequence Number.
        seq: u32,
        /// Auth Key/Digest.
        digest: [u8; 16],
    },
    /// Type 4 (`meticulous` false) or 5 (true).
    Sha1 {
        /// Meticulous Keyed SHA1.
        meticulous: bool,
        /// Auth Key ID.
        key_id: u8,
        /// Sequence Number.
        seq: u32,
        /// Auth Key/Hash.
        hash: [u8; 20],
    },
}

impl Auth {
    /// Auth Type.
    pub const fn auth_type(&self) -> u8 {
        match self {
            Auth::SimplePassword { .. } => auth_type::SIMPLE_PASSWORD,
            Auth::Md5 { meticulous: false, .. } => auth_type::KEYED_MD5,
            Auth::Md5 { meticulous: true, .. } => auth_type::METICULOUS_KEYED_MD5,
            Auth::Sha1 { meticulous: false, .. } => auth_type::KEYED_SHA1,
            Auth::Sha1 { meticulous: true, .. } => auth_type::METICULOUS_KEYED_SHA1,
        }
    }
    /// Auth Len.
    pub fn auth_len(&self) -> u8 {
        match self {
            Auth::SimplePassword { password, .. } => 3 + password.len,
            Auth::Md5 { .. } => MD5_AUTH_LEN,
            Auth::Sha1 { .. } => SHA1_AUTH_LEN,
        }
    }
    /// Reads a section whose lengths [`Packet::check_len`] has checked.
    fn read(s: &[u8]) -> Result<Auth> {
        let at = |i: usize| s.get(i).copied().unwrap_or(0);
        let key_id = at(2);
        let seq = get_u32(s, 4);
        let mut tail = [0u8; 20];
        let digest = s.get(8..).unwrap_or(&[]);
        let n = digest.len().min(20);
        tail[..n].copy_from_slice(&digest[..n]);
        match at(0) {
            auth_type::SIMPLE_PASSWORD => {
                let password = Password::new(s.get(3..).unwrap_or(&[])).ok_or(Error::BadLength)?;
                Ok(Auth::SimplePassword { key_id, password })
            }
            t @ (auth_type::KEYED_MD5 | auth_type::METICULOUS_KEYED_MD5) => {
                let mut d = [0u8; 16];
                d.copy_from_slice(&tail[..16]);
                Ok(Auth::Md5 { meticulous: t == auth_type::METICULOUS_KEYED_MD5, key_id, seq, digest: d })
            }
            t @ (auth_type::KEYED_SHA1 | auth_type::METICULOUS_KEYED_SHA1) => {
                Ok(Auth::Sha1 { meticulous: t == auth_type::METICULOUS_KEYED_SHA1, key_id, seq, hash: tail })
            }
            _ => Err(Error::AuthType),
        }
    }
    /// Writes the section into `s` (exactly [`Auth::auth_len`] bytes).
    fn write(&self, s: &mut [u8]) {
        let head = [self.auth_type(), self.auth_len()];
        put_slice(s, 0, &head);
        match self {
            Auth::SimplePassword { key_id, password } => {
                put_slice(s, 2, &[*key_id]);
                put_slice(s, 3, password.as_bytes());
            }
            Auth::Md5 { key_id, seq, digest, .. } => {
                put_slice(s, 2, &[*key_id, 0]);
                put_u32(s, 4, *seq);
                put_slice(s, 8, digest);
            }
            Auth::Sha1 { key_id, seq, hash, .. } => {
                put_slice(s, 2, &[*key_id, 0]);
                put_u32(s, 4, *seq);
                put_slice(s, 8, hash);
            }
        }
    }
}

/// A validated BFD control packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Repr {
    /// Diag (0..=8).
    pub diag: u8,
    /// Sta.
    pub state: State,
    /// P.
    pub poll: bool,
    /// F.
    pub final_flag: bool,
    /// C.
    pub control_plane_independent: bool,
    /// D.
    pub demand: bool,
    /// Detect Mult (non-zero).
    pub detect_mult: u8,
    /// My Discriminator (non-zero).
    pub my_discriminator: u32,
    /// Your Discriminator.
    pub your_discriminator: u32,
    /// Desired Min TX Interval, µs.
    pub desired_min_tx: u32,
    /// Required Min RX Interval, µs.
    pub required_min_rx: u32,
    /// Required Min Echo RX Interval, µs.
    pub required_min_echo_rx: u32,
    /// The authentication section (A set).
    pub auth: Option<Auth>,
}

impl Repr {
    /// Parses and validates ([`Packet::validate`]); bytes after the Length field are ignored.
    pub fn parse<T: AsRef<[u8]> + ?Sized>(packet: &Packet<&T>) -> Result<Repr> {
        packet.validate()?;
        let auth = if packet.auth_present() { Some(Auth::read(packet.auth_section())?) } else { None };
        Ok(Repr {
            diag: packet.diag(),
            state: packet.state(),
            poll: packet.poll(),
            final_flag: packet.final_flag(),
            control_plane_independent: packet.control_plane_independent(),
            demand: packet.demand(),
            detect_mult: packet.detect_mult(),
            my_discriminator: packet.my_discriminator(),
            your_discriminator: packet.your_discriminator(),
            desired_min_tx: packet.desired_min_tx(),
            required_min_rx: packet.required_min_rx(),
            required_min_echo_rx: packet.required_min_echo_rx(),
            auth,
        })
    }

    /// Bytes [`Repr::emit`] writes.
    pub fn buffer_len(&self) -> usize {
        HEADER_LEN + self.auth.map_or(0, |a| usize::from(a.auth_len()))
    }

    /// Writes the packet (Multipoint clear) into the first [`Repr::buffer_len`] bytes of `packet`.
    /// Fails with [`Error::Truncated`] when the buffer is too short and [`Error::Malformed`] for a
    /// Diag above 8 or a zero Detect Mult.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, packet: &mut Packet<T>) -> Result<()> {
        let len = self.buffer_len();
        if packet.buffer.as_ref().len() < len {
            return Err(Error::Truncated);
        }
        if self.diag > MAX_DIAG || self.detect_mult == 0 {
            return Err(Error::Malformed);
        }
        packet.set_version_and_diag(VERSION, self.diag);
        packet.set_byte(field::STA_FLAGS, 0);
        packet.set_state(self.state);
        packet.set_poll(self.poll);
        packet.set_final_flag(self.final_flag);
        packet.set_control_plane_independent(self.control_plane_independent);
        packet.set_auth_present(self.auth.is_some());
        packet.set_demand(self.demand);
        packet.set_detect_mult(self.detect_mult);
        packet.set_length(len as u8);
        packet.set_my_discriminator(self.my_discriminator);
        packet.set_your_discriminator(self.your_discriminator);
        packet.set_desired_min_tx(self.desired_min_tx);
        packet.set_required_min_rx(self.required_min_rx);
        packet.set_required_min_echo_rx(self.required_min_echo_rx);
        if let Some(a) = &self.auth {
            if let Some(s) = packet.buffer.as_mut().get_mut(HEADER_LEN..len) {
                a.write(s);
            }
        }
        Ok(())
    }

    /// The packet as a new 24-byte (or longer, with auth) vector.
    pub fn to_vec(&self) -> Result<Vec<u8>> {
        let mut v = vec![0u8; self.buffer_len()];
        self.emit(&mut Packet::new_unchecked(&mut v[..]))?;
        Ok(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> Repr {
        Repr {
            diag: 0,
            state: State::Up,
            poll: false,
            final_flag: false,
            control_plane_independent: false,
            demand: false,
            detect_mult: 3,
            my_discriminator: 0xac90872a,
            your_discriminator: 0xf97409e9,
            desired_min_tx: 100_000,
            required_min_rx: 100_000,
            required_min_echo_rx: 0,
            auth: None,
        }
    }

    fn bytes(r: &Repr) -> Vec<u8> {
        r.to_vec().unwrap()
    }

    fn invalid(b: &[u8]) -> Invalid {
        Packet::new_unchecked(b).validate().unwrap_err()
    }

    #[test]
    fn layout_of_a_known_packet() {
        let b = bytes(&Repr { poll: true, ..base() });
        assert_eq!(
            b,
            [
                0x20, 0xe0, 3, 24, 0xac, 0x90, 0x87, 0x2a, 0xf9, 0x74, 0x09, 0xe9, 0, 1, 0x86, 0xa0, 0, 1, 0x86, 0xa0,
                0, 0, 0, 0
            ]
        );
        let p = Packet::new_checked(&b[..]).unwrap();
        assert_eq!((p.version(), p.state(), p.poll(), p.final_flag(), p.length()), (1, State::Up, true, false, 24));
        assert_eq!(Repr::parse(&p).unwrap(), Repr { poll: true, ..base() });
    }

    #[test]
    fn every_flag_round_trips() {
        for bits in 0..64u8 {
            let mut b = bytes(&base());
            b[1] = (b[1] & 0xc0) | bits;
            let p = Packet::new_unchecked(&b[..]);
            assert_eq!(p.poll(), bits & 0x20 != 0);
            assert_eq!(p.final_flag(), bits & 0x10 != 0);
            assert_eq!(p.control_plane_independent(), bits & 0x08 != 0);
            assert_eq!(p.auth_present(), bits & 0x04 != 0);
            assert_eq!(p.demand(), bits & 0x02 != 0);
            assert_eq!(p.multipoint(), bits & 0x01 != 0);
        }
        for s in [State::AdminDown, State::Down, State::Init, State::Up] {
            let r = Repr { state: s, your_discriminator: 1, ..base() };
            assert_eq!(Repr::parse(&Packet::new_unchecked(&bytes(&r)[..])).unwrap().state, s);
        }
    }

    #[test]
    fn short() {
        for n in 0..HEADER_LEN {
            let b = vec![0x20u8; n];
            assert_eq!(invalid(&b), Invalid::Short { len: n });
            assert_eq!(Packet::new_checked(&b[..]).unwrap_err(), Error::Truncated);
        }
    }

    #[test]
    fn wrong_version() {
        for v in [0u8, 2, 7] {
            let mut b = bytes(&base());
            b[0] = v << 5;
            assert_eq!(invalid(&b), Invalid::Version(v));
            assert_eq!(Repr::parse(&Packet::new_unchecked(&b[..])).unwrap_err(), Error::Malformed);
        }
    }

    #[test]
    fn length_field_vs_buffer() {
        let mut b = bytes(&base());
        b[3] = 23;
        assert_eq!(invalid(&b), Invalid::Length { length: 23, buffer: 24 });
        b[3] = 25;
        assert_eq!(invalid(&b), Invalid::Length { length: 25, buffer: 24 });
        assert_eq!(Packet::new_checked(&b[..]).unwrap_err(), Error::BadLength);
        b[3] = 0;
        assert_eq!(invalid(&b), Invalid::Length { length: 0, buffer: 24 });
        // Trailing bytes beyond Length are allowed (RFC 5880 §6.8.6 only rejects Length > payload).
        let mut b = bytes(&base());
        b.extend_from_slice(&[0xff; 8]);
        assert_eq!(Repr::parse(&Packet::new_checked(&b[..]).unwrap()).unwrap(), base());
    }

    #[test]
    fn auth_sections_parse_and_round_trip() {
        let auths = [
            Auth::SimplePassword { key_id: 7, password: Password::new(b"x").unwrap() },
            Auth::SimplePassword { key_id: 7, password: Password::new(&[b'p'; 16]).unwrap() },
            Auth::Md5 { meticulous: false, key_id: 1, seq: 9, digest: [0xaa; 16] },
            Auth::Md5 { meticulous: true, key_id: 1, seq: 10, digest: [0xbb; 16] },
            Auth::Sha1 { meticulous: false, key_id: 2, seq: 11, hash: [0xcc; 20] },
            Auth::Sha1 { meticulous: true, key_id: 2, seq: 12, hash: [0xdd; 20] },
        ];
        for a in auths {
            let r = Repr { auth: Some(a), ..base() };
            let b = bytes(&r);
            assert_eq!(b.len(), 24 + usize::from(a.auth_len()));
            assert_eq!(usize::from(b[3]), b.len());
            let p = Packet::new_checked(&b[..]).unwrap();
            assert!(p.auth_present());
            assert_eq!((p.auth_type(), p.auth_len()), (a.auth_type(), a.auth_len()));
            assert_eq!(Repr::parse(&p).unwrap(), r);
        }
    }

    #[test]
    fn auth_len_mismatches() {
        // A set but no room for the auth header.
        let mut b = bytes(&base());
        b[1] |= 0x04;
        assert_eq!(invalid(&b), Invalid::Length { length: 24, buffer: 24 });
        // MD5 with the SHA1 length, SHA1 with the MD5 length, passwords of 0 and 17 bytes.
        for (t, l) in [(2u8, 28u8), (3, 20), (4, 24), (5, 30), (1, 3), (1, 20)] {
            let mut b = bytes(&base());
            b[1] |= 0x04;
            b.extend(std::iter::repeat_n(0u8, usize::from(l)));
            b[3] = 24 + l;
            b[24] = t;
            b[25] = l;
            assert_eq!(invalid(&b), Invalid::AuthLength { auth_type: t, auth_len: l }, "type {t} len {l}");
            assert_eq!(Packet::new_checked(&b[..]).unwrap_err(), Error::BadLength);
        }
        // Right Auth Len but the Length field disagrees.
        let r = Repr { auth: Some(Auth::Md5 { meticulous: false, key_id: 1, seq: 1, digest: [0; 16] }), ..base() };
        let mut b = bytes(&r);
        b.push(0);
        b[3] = 49;
        assert_eq!(invalid(&b), Invalid::AuthLength { auth_type: 2, auth_len: 24 });
        // Unknown auth type.
        let mut b = bytes(&r);
        b[24] = 9;
        assert_eq!(invalid(&b), Invalid::AuthType(9));
        assert_eq!(Packet::new_checked(&b[..]).unwrap_err(), Error::AuthType);
        // An auth section without A set is just trailing bytes.
        let mut b = bytes(&r);
        b[1] &= !0x04;
        b[3] = 24;
        assert_eq!(Repr::parse(&Packet::new_checked(&b[..]).unwrap()).unwrap(), base());
    }

    #[test]
    fn field_checks() {
        type Mutation = fn(&mut Vec<u8>);
        let cases: [(Mutation, Invalid); 6] = [
            (|b| b[2] = 0, Invalid::DetectMultZero),
            (|b| b[1] |= 0x01, Invalid::Multipoint),
            (|b| b[4..8].fill(0), Invalid::MyDiscrZero),
            (|b| b[8..12].fill(0), Invalid::YourDiscrZero(State::Up)),
            (|b| b[1] |= 0x30, Invalid::PollAndFinal),
            (|b| b[0] = 0x20 | 9, Invalid::Diag(9)),
        ];
        for (f, want) in cases {
            let mut b = bytes(&base());
            f(&mut b);
            assert_eq!(invalid(&b), want);
            assert!(Repr::parse(&Packet::new_unchecked(&b[..])).is_err());
        }
        // Your Discriminator 0 is fine in Down and AdminDown.
        for s in [State::Down, State::AdminDown] {
            let r = Repr { state: s, your_discriminator: 0, ..base() };
            assert!(Repr::parse(&Packet::new_unchecked(&bytes(&r)[..])).is_ok());
        }
        let mut b = bytes(&Repr { state: State::Init, ..base() });
        b[8..12].fill(0);
        assert_eq!(invalid(&b), Invalid::YourDiscrZero(State::Init));
    }

    #[test]
    fn emit_refuses_bad_values_and_short_buffers() {
        let mut small = [0u8; 23];
        assert_eq!(base().emit(&mut Packet::new_unchecked(&mut small[..])), Err(Error::Truncated));
        assert_eq!(Repr { diag: 9, ..base() }.to_vec(), Err(Error::Malformed));
        assert_eq!(Repr { detect_mult: 0, ..base() }.to_vec(), Err(Error::Malformed));
    }
}
