//! A snapshot that provides whatever reference sets it is given.

use std::any::Any;
use std::collections::BTreeSet;

use gc_core::{Provider, RefKind, Snapshot};

type ProvideFn = for<'a> fn(&'a (dyn Any + Send + Sync), &mut Provider<'a>);

struct Entry {
    set: Box<dyn Any + Send + Sync>,
    provide: ProvideFn,
}

fn provide_as<'a, K: RefKind>(set: &'a (dyn Any + Send + Sync), refs: &mut Provider<'a>) {
    if let Some(set) = set.downcast_ref::<BTreeSet<K::Id>>() {
        refs.refs::<K>(set);
    }
}

/// A [`Snapshot`] that provides the reference sets it is given: a stand-in
/// for another module, in a unit test of a module's `resolve`, without
/// writing that module.
///
/// ```
/// use gc_core::{Neighbours, RefKind};
/// use gc_testkit::RefsSnapshot;
///
/// pub struct BlobRefs;
/// impl RefKind for BlobRefs { type Id = String; }
///
/// let vm = RefsSnapshot::new().with::<BlobRefs>(["b1".to_owned(), "b2".to_owned()]);
/// let neighbours = Neighbours::new().with("vm", vm);
/// let len = neighbours.view(|others| others.refs::<BlobRefs>().unwrap().len());
/// assert_eq!(len, 2);
/// ```
#[derive(Default)]
pub struct RefsSnapshot {
    entries: Vec<Entry>,
}

impl RefsSnapshot {
    /// A snapshot that provides nothing yet.
    ///
    /// ```
    /// let snapshot = gc_testkit::RefsSnapshot::new();
    /// # drop(snapshot);
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a provided set of kind `K` (several sets of one kind are
    /// provided side by side).
    ///
    /// ```
    /// # use gc_core::RefKind;
    /// # pub struct VmRefs;
    /// # impl RefKind for VmRefs { type Id = u64; }
    /// let snapshot = gc_testkit::RefsSnapshot::new().with::<VmRefs>([1, 2, 3]);
    /// # drop(snapshot);
    /// ```
    pub fn with<K: RefKind>(mut self, ids: impl IntoIterator<Item = K::Id>) -> Self {
        let set: BTreeSet<K::Id> = ids.into_iter().collect();
        self.entries.push(Entry {
            set: Box::new(set),
            provide: provide_as::<K>,
        });
        self
    }
}

impl Snapshot for RefsSnapshot {
    fn provide<'a>(&'a self, refs: &mut Provider<'a>) {
        for entry in &self.entries {
            (entry.provide)(entry.set.as_ref(), refs);
        }
    }
}
