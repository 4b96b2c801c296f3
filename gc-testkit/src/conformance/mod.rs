//! Conformance suites: plain `pub async fn`s that a locker's or a module's
//! own tests call, the way object_store's backends call its integration
//! module. Each function panics, with a message that says which rule broke,
//! when the implementation breaks it.
//!
//! They need a tokio runtime with time enabled (`#[tokio::test]` gives one).
//! The property suite of [`modules`] needs the `proptest` feature.

pub mod lockers;
pub mod modules;
