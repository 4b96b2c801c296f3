//! The framework's own errors.
//!
//! Module callbacks return [`anyhow::Result`] so that storage code can use `?`
//! on anything; the orchestrator wraps what they return in these typed errors,
//! always naming the module and the phase.

use std::error::Error as StdError;
use std::fmt;
use std::path::PathBuf;

use serde::Serialize;

/// An error of a [`Locker`](crate::Locker) or a [`LockGuard`](crate::LockGuard).
///
/// ```
/// use gc_core::LockError;
///
/// let err = LockError::backend(std::io::Error::other("connection refused"));
/// assert_eq!(err.to_string(), "lock backend: connection refused");
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LockError {
    /// The directory that should hold the lock file does not exist. The locker
    /// never creates it: a missing directory usually means a wrong path or an
    /// unmounted volume, and locking a fresh empty directory would exclude
    /// nobody.
    #[error("lock directory {} does not exist (lock file {})", dir.display(), path.display())]
    MissingDirectory {
        /// The directory that was expected.
        dir: PathBuf,
        /// The lock file that was to be created in it.
        path: PathBuf,
    },
    /// An I/O error on the lock file.
    #[error("lock file {}: {source}", path.display())]
    Io {
        /// The lock file.
        path: PathBuf,
        /// What the operating system said.
        #[source]
        source: std::io::Error,
    },
    /// A held lock is no longer held (a lease expired, a connection dropped, a
    /// lock file was removed or replaced).
    #[error("lock lost: {reason}")]
    Lost {
        /// Why the lock is known, or feared, to be lost.
        reason: String,
    },
    /// An error of a locker backend outside this crate (a database, a lease
    /// service).
    #[error("lock backend: {0}")]
    Backend(#[source] Box<dyn StdError + Send + Sync>),
}

impl LockError {
    /// Wraps an error of a locker backend.
    ///
    /// ```
    /// let err = gc_core::LockError::backend("lease service unreachable");
    /// assert!(matches!(err, gc_core::LockError::Backend(_)));
    /// ```
    pub fn backend(err: impl Into<Box<dyn StdError + Send + Sync>>) -> Self {
        LockError::Backend(err.into())
    }
}

/// The phase of a cycle in which something happened.
///
/// ```
/// assert_eq!(gc_core::Phase::Read.to_string(), "read");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// Taking every module's lock.
    Acquire,
    /// Reading every module's snapshot.
    Read,
    /// Computing every module's targets.
    Resolve,
    /// Removing the targets.
    Collect,
    /// Releasing the locks.
    Release,
}

impl fmt::Display for Phase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Phase::Acquire => "acquire",
            Phase::Read => "read",
            Phase::Resolve => "resolve",
            Phase::Collect => "collect",
            Phase::Release => "release",
        })
    }
}

/// Why a module could not take part in a cycle.
///
/// ```
/// use gc_core::{GcError, SkipReason};
///
/// fn busy_only(err: &GcError) -> bool {
///     matches!(err, GcError::Skipped { skipped } if skipped.iter().all(|s| matches!(s.reason, SkipReason::Busy)))
/// }
/// assert_eq!(SkipReason::Busy.to_string(), "lock busy");
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SkipReason {
    /// Its lock is held by someone else (a writer, another GC).
    #[error("lock busy")]
    Busy,
    /// Trying its lock failed.
    #[error("lock error: {0}")]
    LockError(#[source] LockError),
    /// Its locker panicked while trying the lock.
    #[error("locker panicked: {0}")]
    LockerPanicked(String),
}

/// A module that could not be locked, and why.
///
/// ```
/// use gc_core::{SkipReason, Skipped};
/// let s = Skipped { module: "images".into(), reason: SkipReason::Busy };
/// assert_eq!(s.to_string(), "images (lock busy)");
/// ```
#[derive(Debug)]
pub struct Skipped {
    /// The module's name.
    pub module: String,
    /// Why it was skipped.
    pub reason: SkipReason,
}

impl fmt::Display for Skipped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.module, self.reason)
    }
}

/// A module whose lock failed its check before collect.
///
/// ```
/// use gc_core::{LockError, LostLock};
/// let lost = LostLock {
///     module: "images".into(),
///     error: LockError::Lost { reason: "lease expired".into() },
/// };
/// assert_eq!(lost.to_string(), "images (lock lost: lease expired)");
/// ```
#[derive(Debug)]
pub struct LostLock {
    /// The module's name.
    pub module: String,
    /// What the check said.
    pub error: LockError,
}

impl fmt::Display for LostLock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.module, self.error)
    }
}

/// A module callback that failed: it returned an error, panicked, or timed
/// out.
///
/// ```
/// use gc_core::{GcError, Phase};
///
/// fn panicked_modules(err: &GcError) -> Vec<&str> {
///     match err {
///         GcError::ReadFailed { failures } | GcError::ResolveFailed { failures } => failures
///             .iter()
///             .filter(|f| f.panicked)
///             .map(|f| f.module.as_str())
///             .collect(),
///         _ => Vec::new(),
///     }
/// }
/// let failure = gc_core::ModuleFailure {
///     module: "vm".into(),
///     phase: Phase::Read,
///     panicked: false,
///     timed_out: false,
///     error: anyhow::anyhow!("index.json: unexpected end of file"),
/// };
/// assert_eq!(failure.to_string(), "vm: read failed: index.json: unexpected end of file");
/// assert!(panicked_modules(&GcError::ReadFailed { failures: vec![failure] }).is_empty());
/// ```
#[derive(Debug)]
pub struct ModuleFailure {
    /// The module's name.
    pub module: String,
    /// The phase whose callback failed.
    pub phase: Phase,
    /// Whether the callback panicked (the error then holds the panic message).
    pub panicked: bool,
    /// Whether the callback overran its phase's timeout and was dropped.
    pub timed_out: bool,
    /// The error the callback returned, or the panic message.
    pub error: anyhow::Error,
}

impl fmt::Display for ModuleFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.panicked {
            write!(f, "{}: {} panicked: {:#}", self.module, self.phase, self.error)
        } else if self.timed_out {
            write!(f, "{}: {} {:#}", self.module, self.phase, self.error)
        } else {
            write!(f, "{}: {} failed: {:#}", self.module, self.phase, self.error)
        }
    }
}

/// An error of the framework.
///
/// Every variant that aborts a cycle guarantees that nothing was collected in
/// it and that every lock it took was released.
///
/// ```
/// use gc_core::{GcError, SkipReason, Skipped};
///
/// let err = GcError::Skipped {
///     skipped: vec![Skipped { module: "images".into(), reason: SkipReason::Busy }],
/// };
/// assert_eq!(
///     err.to_string(),
///     "cycle aborted before reading, nothing collected: 1 module skipped: images (lock busy)"
/// );
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GcError {
    /// Two modules were registered under one name.
    #[error("module name {name:?} is registered twice: module names must be unique")]
    DuplicateModule {
        /// The name registered twice.
        name: String,
    },
    /// A module's name is not usable (empty, or with control characters).
    #[error("module name {name:?} is invalid: {why}")]
    InvalidModuleName {
        /// The name as given.
        name: String,
        /// What is wrong with it.
        why: &'static str,
    },
    /// A policy set on the builder is out of its range.
    #[error("policy {policy} is invalid: {why}")]
    InvalidPolicy {
        /// The policy.
        policy: &'static str,
        /// What is wrong with its setting.
        why: String,
    },
    /// Some modules could not be locked, so the cycle stopped before reading
    /// anything (fail-closed: collecting without every module's view could
    /// delete what a missing module still pins).
    #[error(
        "cycle aborted before reading, nothing collected: {} skipped: {}",
        count(skipped.len(), "module"),
        join(skipped)
    )]
    Skipped {
        /// Every skipped module, in lock order, with its reason.
        skipped: Vec<Skipped>,
    },
    /// Some modules failed to read their snapshot; nothing was collected.
    #[error("cycle aborted in read, nothing collected: {}", join(failures))]
    ReadFailed {
        /// Every module whose read failed.
        failures: Vec<ModuleFailure>,
    },
    /// Some modules failed to resolve their targets; nothing was collected.
    #[error("cycle aborted in resolve, nothing collected: {}", join(failures))]
    ResolveFailed {
        /// Every module whose resolve failed.
        failures: Vec<ModuleFailure>,
    },
    /// A lock was lost (a lease expired, a connection dropped) between the
    /// cycle's start and its collect: nothing was collected.
    #[error("cycle aborted before collect, nothing collected: lock lost: {}", join(lost))]
    LockLost {
        /// Every module whose lock failed its check, with the reason.
        lost: Vec<LostLock>,
    },
    /// Collect failed, wholly or for some IDs, in these modules (the others
    /// collected). Returned by [`Report::check`](crate::Report::check).
    #[error("collect failed in {}: {}", count(modules.len(), "module"), modules.join(", "))]
    CollectFailed {
        /// The modules whose collect failed, wholly or in part.
        modules: Vec<String>,
    },
}

/// "1 module", "2 modules".
pub(crate) fn count(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

fn join<T: fmt::Display>(items: &[T]) -> String {
    items.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ")
}

/// The text of a panic payload, for reports.
pub(crate) fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "panic with a non-string payload".to_owned()
    }
}
