//! What modules and snapshots declare about the references they use: the
//! kinds a snapshot provides, the kinds a module consumes, and the kind its
//! targets are. The partial-cycle policy and the referential backstop rest
//! on these declarations.

use std::any::TypeId;
use std::fmt;
use std::marker::PhantomData;

use crate::{GcId, RefKind};

/// A reference kind, named at run time.
///
/// ```
/// use gc_core::{KindInfo, RefKind};
/// pub struct BlobRefs;
/// impl RefKind for BlobRefs { type Id = String; }
/// assert_eq!(KindInfo::of::<BlobRefs>().name(), "BlobRefs");
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct KindInfo {
    id: TypeId,
    name: &'static str,
}

impl KindInfo {
    /// The kind `K`.
    ///
    /// ```
    /// # use gc_core::{KindInfo, RefKind};
    /// # pub struct VmRefs;
    /// # impl RefKind for VmRefs { type Id = String; }
    /// assert_eq!(KindInfo::of::<VmRefs>(), KindInfo::of::<VmRefs>());
    /// ```
    pub fn of<K: RefKind>() -> Self {
        KindInfo {
            id: TypeId::of::<K>(),
            name: K::name(),
        }
    }

    /// The kind's name, as [`RefKind::name`] gives it.
    ///
    /// ```
    /// # use gc_core::{KindInfo, RefKind};
    /// # pub struct VmRefs;
    /// # impl RefKind for VmRefs { type Id = String; }
    /// assert_eq!(KindInfo::of::<VmRefs>().name(), "VmRefs");
    /// ```
    pub fn name(&self) -> &'static str {
        self.name
    }

    pub(crate) fn type_id(&self) -> TypeId {
        self.id
    }
}

impl fmt::Debug for KindInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name)
    }
}

impl fmt::Display for KindInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name)
    }
}

/// What a module declares in [`GcModule::declare`](crate::GcModule::declare).
///
/// Undeclared means unknown, and unknown is treated as "everything" wherever
/// safety depends on it: a module that declares no consumed kinds is held
/// back by any skipped module, and a skipped module whose snapshot declares
/// no provided kinds holds back every consumer.
///
/// ```
/// use gc_core::{Declarations, RefKind};
/// pub struct BlobRefs;
/// impl RefKind for BlobRefs { type Id = String; }
///
/// fn declare(d: &mut Declarations<String>) {
///     d.consumes::<BlobRefs>().targets_are::<BlobRefs>();
/// }
/// ```
pub struct Declarations<I> {
    pub(crate) consumes: Option<Vec<KindInfo>>,
    pub(crate) provides: Option<Vec<KindInfo>>,
    pub(crate) targets_are: Option<KindInfo>,
    _id: PhantomData<fn() -> I>,
}

impl<I: GcId> Declarations<I> {
    pub(crate) fn new(provides: Option<Vec<KindInfo>>) -> Self {
        Declarations {
            consumes: None,
            provides,
            targets_are: None,
            _id: PhantomData,
        }
    }

    /// This module's resolve reads references of kind `K` (through
    /// [`Others::refs`](crate::Others::refs)). Once a module declares any
    /// consumed kind, asking for an undeclared one is an error.
    ///
    /// ```
    /// # use gc_core::{Declarations, RefKind};
    /// # pub struct VmRefs;
    /// # impl RefKind for VmRefs { type Id = String; }
    /// # fn f(d: &mut Declarations<String>) {
    /// d.consumes::<VmRefs>();
    /// # }
    /// ```
    pub fn consumes<K: RefKind>(&mut self) -> &mut Self {
        let kind = KindInfo::of::<K>();
        let list = self.consumes.get_or_insert_with(Vec::new);
        if !list.contains(&kind) {
            list.push(kind);
        }
        self
    }

    /// This module's resolve reads no references at all.
    ///
    /// ```
    /// # fn f(d: &mut gc_core::Declarations<String>) {
    /// d.consumes_nothing();
    /// # }
    /// ```
    pub fn consumes_nothing(&mut self) -> &mut Self {
        self.consumes.get_or_insert_with(Vec::new);
        self
    }

    /// This module's snapshot provides references of kind `K`: for modules
    /// whose snapshot type cannot say so statically.
    ///
    /// ```
    /// # use gc_core::{Declarations, RefKind};
    /// # pub struct VmRefs;
    /// # impl RefKind for VmRefs { type Id = String; }
    /// # fn f(d: &mut Declarations<String>) {
    /// d.provides::<VmRefs>();
    /// # }
    /// ```
    pub fn provides<K: RefKind>(&mut self) -> &mut Self {
        let kind = KindInfo::of::<K>();
        let list = self.provides.get_or_insert_with(Vec::new);
        if !list.contains(&kind) {
            list.push(kind);
        }
        self
    }

    /// This module's snapshot provides no references at all.
    ///
    /// ```
    /// # fn f(d: &mut gc_core::Declarations<String>) {
    /// d.provides_nothing();
    /// # }
    /// ```
    pub fn provides_nothing(&mut self) -> &mut Self {
        self.provides.get_or_insert_with(Vec::new);
        self
    }

    /// This module's targets are IDs of kind `K` (an image store's targets
    /// are blobs). The orchestrator then drops every target that another
    /// module still references under `K`, whatever resolve returned, and
    /// reports it as a bug of this module's resolve: the referential
    /// backstop. It also counts as consuming `K`.
    ///
    /// ```
    /// # use gc_core::{Declarations, RefKind};
    /// # pub struct BlobRefs;
    /// # impl RefKind for BlobRefs { type Id = String; }
    /// # fn f(d: &mut Declarations<String>) {
    /// d.targets_are::<BlobRefs>();
    /// # }
    /// ```
    pub fn targets_are<K: RefKind<Id = I>>(&mut self) -> &mut Self {
        self.targets_are = Some(KindInfo::of::<K>());
        self.consumes::<K>()
    }
}
