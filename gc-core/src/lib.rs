//! Safe garbage collection across the stores of a storage program.
//!
//! Each store implements [`GcModule`]: it names itself, hands out its
//! [`Locker`], reads a [`Snapshot`] of its index, resolves its targets while
//! seeing every other module's snapshot through [`Others`], and collects.
//! Snapshots provide typed reference sets ([`RefKind`]) to the others, so
//! that an image store can protect every blob that any VM or snapshot pins
//! without knowing those modules' types.
//!
//! The [`Orchestrator`] runs cycles by a fail-closed safety model: it locks
//! every module in name order and aborts unless all are locked; reads every
//! snapshot concurrently and aborts on any error; resolves; collects
//! concurrently, recording per-module and per-ID failures without stopping
//! the others; and releases every lock on every path, panics and
//! cancellation included. See `docs/concepts.md`.
//!
//! ```
//! use std::collections::HashSet;
//! use std::sync::Mutex;
//! use gc_core::*;
//!
//! pub struct BlobRefs;
//! impl RefKind for BlobRefs { type Id = String; }
//!
//! // VMs pin blobs.
//! struct Vms { locker: LocalLocker, uses: HashSet<String> }
//! struct VmSnapshot { uses: HashSet<String> }
//! impl Snapshot for VmSnapshot {
//!     fn provide<'a>(&'a self, refs: &mut Provider<'a>) {
//!         refs.refs::<BlobRefs>(&self.uses);
//!     }
//! }
//! impl GcModule for Vms {
//!     type Snapshot = VmSnapshot;
//!     type Id = String;
//!     fn name(&self) -> &str { "vm" }
//!     fn locker(&self) -> &dyn Locker { &self.locker }
//!     async fn read(&self) -> anyhow::Result<VmSnapshot> {
//!         Ok(VmSnapshot { uses: self.uses.clone() })
//!     }
//!     fn resolve(&self, _: &VmSnapshot, _: &Others<'_>) -> anyhow::Result<Targets<String>> {
//!         Ok(Targets::new())
//!     }
//!     async fn collect(&self, ids: Vec<String>) -> anyhow::Result<CollectOutcome<String>> {
//!         Ok(CollectOutcome::all(ids))
//!     }
//! }
//!
//! // Blobs go once nothing pins them.
//! struct Blobs { locker: LocalLocker, on_disk: Mutex<Vec<String>> }
//! struct BlobSnapshot { on_disk: Vec<String> }
//! impl Snapshot for BlobSnapshot {}
//! impl GcModule for Blobs {
//!     type Snapshot = BlobSnapshot;
//!     type Id = String;
//!     fn name(&self) -> &str { "blobs" }
//!     fn locker(&self) -> &dyn Locker { &self.locker }
//!     async fn read(&self) -> anyhow::Result<BlobSnapshot> {
//!         Ok(BlobSnapshot { on_disk: self.on_disk.lock().unwrap().clone() })
//!     }
//!     fn resolve(&self, snap: &BlobSnapshot, others: &Others<'_>) -> anyhow::Result<Targets<String>> {
//!         let pinned = others.refs::<BlobRefs>()?;
//!         let mut targets = Targets::new();
//!         targets.extend(
//!             snap.on_disk.iter().filter(|b| !pinned.contains(b)).cloned(),
//!             "no VM uses it",
//!         );
//!         Ok(targets)
//!     }
//!     async fn collect(&self, ids: Vec<String>) -> anyhow::Result<CollectOutcome<String>> {
//!         self.on_disk.lock().unwrap().retain(|b| !ids.contains(b));
//!         Ok(CollectOutcome::all(ids))
//!     }
//! }
//!
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! let vms = Vms { locker: LocalLocker::new(), uses: ["b1".to_owned()].into() };
//! let blobs = Blobs {
//!     locker: LocalLocker::new(),
//!     on_disk: Mutex::new(vec!["b1".into(), "b2".into()]),
//! };
//! let gc = Orchestrator::builder().module(vms).module(blobs).build()?;
//! let report = gc.run().await?;
//! assert_eq!(report.module("blobs").unwrap().collected, 1); // b2 went, b1 is pinned
//! # Ok::<_, GcError>(()) }).unwrap();
//! ```

#![warn(missing_docs, unnameable_types)]

mod declare;
mod each;
mod error;
mod id;
mod lock;
mod module;
mod observe;
mod orchestrator;
mod refs;
mod report;
mod scheduler;
mod targets;

pub use declare::{Declarations, KindInfo};
pub use each::collect_each;
pub use error::{GcError, LockError, LostLock, ModuleFailure, Phase, SkipReason, Skipped};
pub use id::{Digest, DigestParseError, GcId};
#[cfg(feature = "postgres")]
pub use lock::PgLocker;
pub use lock::{FileLocker, HeldLock, LocalLocker, LockGuard, Locker};
pub use module::GcModule;
pub use observe::{Event, Observer, report_progress};
pub use orchestrator::{MassDeletionGuard, Orchestrator, OrchestratorBuilder, RunOptions};
pub use refs::{Neighbours, Others, Provider, RefKind, RefSet, RefsError, RefsView, Snapshot};
pub use report::{
    BackstopDrop, FailedId, HeldBackBy, ModuleDurations, ModuleReport, ModuleStatus, PhaseDurations, PlannedTarget,
    Report, WithheldIds,
};
pub use scheduler::{Latest, Scheduler, SchedulerConfig, Trigger, TriggerError};
pub use targets::{CollectOutcome, IdFailure, Reason, Target, Targets};

/// `async_trait`, re-exported for implementing [`Locker`] and [`HeldLock`].
pub use async_trait::async_trait;

/// `#[derive(GcModule)]` and `#[derive(Snapshot)]`: see `docs/derive.md`.
#[cfg(feature = "derive")]
pub use gc_derive::{GcModule, Snapshot};

/// What the derive macros' generated code refers to. Not a public API.
#[doc(hidden)]
pub mod __private {
    pub use anyhow;
    pub use core::future::Future;

    /// The snapshot type of the impl a derive emits after a compile error,
    /// so that the error is not followed by knock-on errors.
    pub struct FallbackSnapshot;
    impl crate::Snapshot for FallbackSnapshot {}
}

/// The README and the guide, compiled and run as doctests so that every
/// snippet they show keeps working.
#[cfg(doctest)]
mod guide {
    #[doc = include_str!("../../README.md")]
    struct Readme;
    #[doc = include_str!("../../docs/concepts.md")]
    struct Concepts;
    #[doc = include_str!("../../docs/modules.md")]
    struct Modules;
    #[doc = include_str!("../../docs/derive.md")]
    struct Derive;
    #[doc = include_str!("../../docs/policies.md")]
    struct Policies;
    #[cfg(feature = "postgres")]
    #[doc = include_str!("../../docs/multi-host.md")]
    struct MultiHost;
    #[doc = include_str!("../../docs/daemon.md")]
    struct Daemon;
}
