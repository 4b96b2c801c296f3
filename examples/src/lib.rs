//! The example programs' own code, shared with their tests.
//!
//! - [`vmhost`]: the quickstart's VM host on disk: four modules, two written
//!   by hand against [`gc_core::GcModule`] and two with its derive.
//! - [`fleet`]: the stores of the `multi_host` example, in PostgreSQL tables.
//! - [`workload`]: the standard benchmark workload of `shared/bench/WORKLOAD.md`.

pub mod fleet;
pub mod vmhost;
pub mod workload;

/// docs/testing.md, compiled and run: its example is a downstream crate's
/// test suite, and this crate has gc-testkit as a dev-dependency, as such a
/// crate would.
#[cfg(doctest)]
mod guide {
    #[doc = include_str!("../../docs/testing.md")]
    struct Testing;
}
