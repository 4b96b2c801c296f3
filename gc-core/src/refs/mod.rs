//! Typed references between modules.
//!
//! A *reference kind* is a marker type naming one sort of reference ("blobs
//! that something uses", "VMs that exist"). A module's [`Snapshot`] says which
//! sets of which kinds it provides; in resolve, every other module reads them
//! through [`Others::refs`], typed, without knowing who provides them.

mod set;
mod view;

use std::any::{Any, TypeId};

use crate::{GcId, KindInfo};

pub(crate) use set::ErasedRefSet;
pub use set::RefSet;
pub use view::{Neighbours, Others, RefsError, RefsView};
pub(crate) use view::{ReadModule, Unread};

/// A kind of cross-module reference, named by a marker type.
///
/// ```
/// use gc_core::RefKind;
///
/// /// Image blobs that something still uses.
/// pub struct BlobRefs;
/// impl RefKind for BlobRefs {
///     type Id = String;
/// }
/// assert_eq!(BlobRefs::name(), "BlobRefs");
/// ```
pub trait RefKind: Send + Sync + 'static {
    /// The ID type of the referenced objects.
    type Id: GcId;

    /// The kind's name in reports and errors; by default the type's own name.
    fn name() -> &'static str
    where
        Self: Sized,
    {
        let full = std::any::type_name::<Self>();
        // Keep the last path segment, but not of a generic argument.
        let base = full.split('<').next().unwrap_or(full);
        match base.rfind("::") {
            Some(i) => &full[i + 2..],
            None => full,
        }
    }
}

/// What a module reads from its store: its own data for resolve, and the
/// reference sets it provides to the other modules.
///
/// ```
/// use std::collections::HashSet;
/// use gc_core::{Provider, RefKind, Snapshot};
///
/// pub struct BlobRefs;
/// impl RefKind for BlobRefs { type Id = String; }
///
/// pub struct VmSnapshot {
///     vms: Vec<String>,
///     blobs_in_use: HashSet<String>,
/// }
///
/// impl Snapshot for VmSnapshot {
///     fn provide<'a>(&'a self, refs: &mut Provider<'a>) {
///         refs.refs::<BlobRefs>(&self.blobs_in_use);
///     }
/// }
/// ```
pub trait Snapshot: Any + Send + Sync {
    /// Hands every reference set this snapshot provides to `refs`. The default
    /// provides nothing.
    fn provide<'a>(&'a self, refs: &mut Provider<'a>) {
        let _ = refs;
    }

    /// The kinds `provide` may hand out, known without a snapshot, so that a
    /// module that could not be read holds back only the modules that
    /// consume them (the partial policy). `None`, the default, means
    /// unknown: such a module, when skipped, holds back every consumer.
    /// `#[derive(Snapshot)]` fills it in. A snapshot that provides a kind it
    /// does not declare here fails its read.
    fn provided_kinds() -> Option<Vec<KindInfo>>
    where
        Self: Sized,
    {
        None
    }

    /// How many objects the store holds, for the mass-deletion guard: a
    /// module whose targets exceed its share of this is withheld. `None`,
    /// the default, leaves only the guard's absolute bound.
    fn population(&self) -> Option<usize> {
        None
    }
}

/// Collects the reference sets a [`Snapshot`] provides: the argument of
/// [`Snapshot::provide`].
///
/// ```
/// use std::collections::HashSet;
/// use gc_core::{Provider, RefKind, Snapshot};
///
/// pub struct BlobRefs;
/// impl RefKind for BlobRefs { type Id = String; }
/// pub struct VmRefs;
/// impl RefKind for VmRefs { type Id = String; }
///
/// struct VmSnapshot { vms: HashSet<String>, blobs: HashSet<String> }
/// impl Snapshot for VmSnapshot {
///     fn provide<'a>(&'a self, refs: &mut Provider<'a>) {
///         refs.refs::<VmRefs>(&self.vms).refs::<BlobRefs>(&self.blobs);
///     }
/// }
/// ```
pub struct Provider<'a> {
    sets: Vec<ProvidedSet<'a>>,
}

/// One provided set and its kind.
pub(crate) struct ProvidedSet<'a> {
    pub(crate) kind: TypeId,
    pub(crate) set: &'a dyn ErasedRefSet,
}

impl<'a> Provider<'a> {
    pub(crate) fn collect(snapshot: &'a dyn Snapshot) -> Vec<ProvidedSet<'a>> {
        let mut provider = Provider { sets: Vec::new() };
        snapshot.provide(&mut provider);
        provider.sets
    }

    /// Provides `set` as references of kind `K`. A snapshot may provide
    /// several sets of one kind; readers see them all.
    ///
    /// ```
    /// # use std::collections::BTreeSet;
    /// # use gc_core::{Provider, RefKind, Snapshot};
    /// # pub struct VmRefs;
    /// # impl RefKind for VmRefs { type Id = u64; }
    /// struct Vms { ids: BTreeSet<u64> }
    /// impl Snapshot for Vms {
    ///     fn provide<'a>(&'a self, refs: &mut Provider<'a>) {
    ///         refs.refs::<VmRefs>(&self.ids);
    ///     }
    /// }
    /// ```
    pub fn refs<K: RefKind>(&mut self, set: &'a impl RefSet<Id = K::Id>) -> &mut Self {
        self.sets.push(ProvidedSet {
            kind: TypeId::of::<K>(),
            set,
        });
        self
    }
}
