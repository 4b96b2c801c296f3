//! Names read from disk, checked before they are used in a path.

use std::ffi::OsStr;
use std::fmt;

/// Why a directory entry is left alone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadName {
    /// The entry as found (lossily decoded).
    pub entry: String,
    /// What is wrong with it.
    pub why: &'static str,
}

impl BadName {
    /// The report note for this entry of the store directory `dir`.
    ///
    /// ```
    /// use gc_examples::vmhost::names::check_digest;
    /// let bad = check_digest("README.txt").unwrap_err();
    /// assert_eq!(bad.note("blobs"), "left alone: blobs/README.txt (not a sha256 hex digest)");
    /// ```
    pub fn note(&self, dir: &str) -> String {
        format!("left alone: {dir}/{} ({})", self.entry, self.why)
    }
}

impl fmt::Display for BadName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "entry {:?} left alone: {}", self.entry, self.why)
    }
}

/// Accepts a name that is safe to join onto a store directory: UTF-8, not
/// empty, no `..`, no path separator, no NUL, not hidden, at most 255 bytes.
///
/// ```
/// use gc_examples::vmhost::names::check_name;
/// assert!(check_name("vm-web".as_ref()).is_ok());
/// assert!(check_name("../etc".as_ref()).is_err());
/// assert!(check_name("a/b".as_ref()).is_err());
/// ```
pub fn check_name(raw: &OsStr) -> Result<&str, BadName> {
    let bad = |why| BadName {
        entry: raw.to_string_lossy().into_owned(),
        why,
    };
    let name = raw.to_str().ok_or_else(|| bad("not UTF-8"))?;
    if name.is_empty() {
        return Err(bad("empty name"));
    }
    if name.contains("..") {
        return Err(bad("contains \"..\""));
    }
    if name.contains(['/', '\\']) {
        return Err(bad("contains a path separator"));
    }
    if name.contains('\0') {
        return Err(bad("contains NUL"));
    }
    if name.starts_with('.') {
        return Err(bad("hidden entry"));
    }
    if name.len() > 255 {
        return Err(bad("longer than 255 bytes"));
    }
    Ok(name)
}

/// Accepts a blob name: a lower-case hex sha256 digest (64 characters).
///
/// ```
/// use gc_examples::vmhost::names::check_digest;
/// assert!(check_digest(&"a".repeat(64)).is_ok());
/// assert!(check_digest("readme.txt").is_err());
/// ```
pub fn check_digest(name: &str) -> Result<&str, BadName> {
    if name.len() == 64 && name.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        Ok(name)
    } else {
        Err(BadName {
            entry: name.to_owned(),
            why: "not a sha256 hex digest",
        })
    }
}

/// Accepts every name that passed [`check_name`]: for stores without a
/// stricter rule.
///
/// ```
/// assert!(gc_examples::vmhost::names::any_name("vm-web").is_ok());
/// ```
pub fn any_name(name: &str) -> Result<&str, BadName> {
    Ok(name)
}
