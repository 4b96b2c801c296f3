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
