//! The sets a snapshot can provide.

use std::any::Any;
use std::collections::{BTreeSet, HashSet};
use std::hash::BuildHasher;

use crate::GcId;

/// A set of referenced IDs that a snapshot can provide: `HashSet` (with any
/// hasher) and `BTreeSet` out of the box; implement it for an index type of
/// your own to provide it without copying.
///
/// ```
/// use std::collections::HashSet;
/// use gc_core::RefSet;
///
/// let set: HashSet<String> = ["a".to_owned()].into();
/// assert!(RefSet::contains(&set, &"a".to_owned()));
/// assert_eq!(RefSet::len(&set), 1);
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a reference set",
    label = "provided as references, so it must implement gc_core::RefSet",
    note = "HashSet and BTreeSet are reference sets; implement RefSet for an index type of your own"
)]
pub trait RefSet: Send + Sync + 'static {
    /// The ID type.
    type Id: GcId;
    /// Whether `id` is in the set.
    fn contains(&self, id: &Self::Id) -> bool;
    /// How many IDs the set holds.
    fn len(&self) -> usize;
    /// Whether the set is empty.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Every ID of the set, in the set's own order.
    fn iter(&self) -> Box<dyn Iterator<Item = &Self::Id> + '_>;
}

impl<I: GcId, S: BuildHasher + Send + Sync + 'static> RefSet for HashSet<I, S> {
    type Id = I;
    fn contains(&self, id: &I) -> bool {
        HashSet::contains(self, id)
    }
    fn len(&self) -> usize {
        HashSet::len(self)
    }
    fn iter(&self) -> Box<dyn Iterator<Item = &I> + '_> {
        Box::new(HashSet::iter(self))
    }
}

impl<I: GcId> RefSet for BTreeSet<I> {
    type Id = I;
    fn contains(&self, id: &I) -> bool {
        BTreeSet::contains(self, id)
    }
    fn len(&self) -> usize {
        BTreeSet::len(self)
    }
    fn iter(&self) -> Box<dyn Iterator<Item = &I> + '_> {
        Box::new(BTreeSet::iter(self))
    }
}

/// A [`RefSet`] with its ID type erased, so that sets of every kind can sit in
/// one list. The kind's `TypeId`, checked when the list is read, guarantees
/// that the IDs asked for are of the set's own type.
pub(crate) trait ErasedRefSet: Send + Sync {
    fn contains_any(&self, id: &dyn Any) -> bool;
    fn len(&self) -> usize;
    fn iter_any(&self) -> Box<dyn Iterator<Item = &dyn Any> + '_>;
}

impl<S: RefSet> ErasedRefSet for S {
    fn contains_any(&self, id: &dyn Any) -> bool {
        id.downcast_ref::<S::Id>().is_some_and(|id| self.contains(id))
    }
    fn len(&self) -> usize {
        RefSet::len(self)
    }
    fn iter_any(&self) -> Box<dyn Iterator<Item = &dyn Any> + '_> {
        Box::new(RefSet::iter(self).map(|id| id as &dyn Any))
    }
}
