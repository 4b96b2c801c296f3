//! What can serve as the ID of a collectable object.

use std::fmt::{Debug, Display};
use std::hash::Hash;

/// The ID of an object a module can collect, and of a reference to it.
///
/// Implemented for every type with these bounds: `String` for most stores, a
/// digest or integer type where that pays. IDs are shown in reports through
/// `Display`.
///
/// ```
/// fn takes_id<I: gc_core::GcId>(_: I) {}
/// takes_id(String::from("vm-1"));
/// takes_id(42u64);
/// ```
pub trait GcId: Clone + Eq + Ord + Hash + Debug + Display + Send + Sync + 'static {}

impl<T> GcId for T where T: Clone + Eq + Ord + Hash + Debug + Display + Send + Sync + 'static {}

/// A 32-byte content digest (sha256, blake3, ...) as an ID: a quarter of
/// the memory of its 64-character hex `String`, and cheaper to hash and
/// compare. Displays and parses as lower-case hex.
///
/// ```
/// use gc_core::Digest;
///
/// let hex = "a".repeat(64);
/// let d: Digest = hex.parse().unwrap();
/// assert_eq!(d.to_string(), hex);
/// assert!("not hex".parse::<Digest>().is_err());
/// ```
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Digest(pub [u8; 32]);

/// Why a string is not a [`Digest`].
///
/// ```
/// let err = "abc".parse::<gc_core::Digest>().unwrap_err();
/// assert_eq!(err.to_string(), "not a 32-byte digest: expected 64 hex digits");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a 32-byte digest: expected 64 hex digits")]
pub struct DigestParseError;

impl std::str::FromStr for Digest {
    type Err = DigestParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bytes = s.as_bytes();
        if bytes.len() != 64 {
            return Err(DigestParseError);
        }
        let nibble = |c: u8| match c {
            b'0'..=b'9' => Ok(c - b'0'),
            b'a'..=b'f' => Ok(c - b'a' + 10),
            b'A'..=b'F' => Ok(c - b'A' + 10),
            _ => Err(DigestParseError),
        };
        let mut out = [0u8; 32];
        for (i, pair) in bytes.chunks_exact(2).enumerate() {
            out[i] = (nibble(pair[0])? << 4) | nibble(pair[1])?;
        }
        Ok(Digest(out))
    }
}

impl std::fmt::Display for Digest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for b in self.0 {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

impl std::fmt::Debug for Digest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Digest({self})")
    }
}
