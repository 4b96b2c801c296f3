//! Test support for gc-core modules and lockers, for a downstream crate's CI.
//!
//! - [`MemLocker`]: an in-memory locker with a control handle (hold it as
//!   another operation, fail or delay attempts, lose its lease, count).
//! - [`RefsSnapshot`] and [`gc_core::Neighbours`] (re-exported here): call a
//!   module's `resolve` directly with hand-made neighbours.
//! - [`FakeModule`]: a scripted module (read result, targets, per-ID collect
//!   behaviour, panics, hangs, delays) that records every call.
//! - [`conformance`]: suites of plain `pub async fn`s that a locker or module
//!   implementation calls from its own tests.
//!
//! See `docs/testing.md`.

#![warn(missing_docs, unnameable_types)]

pub mod conformance;
mod fake;
mod locker;
mod snapshot;

pub use fake::{Call, FakeHandle, FakeModule, FakeModuleBuilder, FakeSnapshot, IdBehaviour};
pub use gc_core::Neighbours;
pub use locker::{LockStats, MemLocker, MemLockerHandle};
pub use snapshot::RefsSnapshot;
