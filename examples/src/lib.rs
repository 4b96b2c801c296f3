//! The example programs' own code, shared with their tests.
//!
//! - [`vmhost`]: the quickstart's VM host on disk, four modules written by
//!   hand against [`gc_core::GcModule`].
//! - [`workload`]: the standard benchmark workload of `shared/bench/WORKLOAD.md`.

pub mod vmhost;
pub mod workload;
