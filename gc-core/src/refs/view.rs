//! The view a module's resolve gets of the other modules' snapshots.

use std::any::{Any, TypeId};
use std::marker::PhantomData;

use super::{ErasedRefSet, ProvidedSet, Provider, RefKind, Snapshot};
use crate::KindInfo;

/// A module whose snapshot was read in this cycle, with the sets it provides.
pub(crate) struct ReadModule<'a> {
    pub(crate) name: &'a str,
    pub(crate) snapshot: &'a dyn Snapshot,
    pub(crate) provided: Vec<ProvidedSet<'a>>,
}

impl<'a> ReadModule<'a> {
    pub(crate) fn new(name: &'a str, snapshot: &'a dyn Snapshot) -> Self {
        ReadModule {
            name,
            snapshot,
            provided: Provider::collect(snapshot),
        }
    }
}

/// A module that was not read in this cycle, and the kinds it may provide
/// (`None`: unknown, so any).
pub(crate) struct Unread {
    pub(crate) name: String,
    pub(crate) provides: Option<Vec<TypeId>>,
}

impl Unread {
    fn may_provide(&self, kind: TypeId) -> bool {
        self.provides.as_ref().is_none_or(|p| p.contains(&kind))
    }
}

/// Why [`Others::refs`] could not give a complete view of a reference kind.
///
/// ```
/// use gc_core::{Neighbours, RefKind, RefsError};
///
/// pub struct BlobRefs;
/// impl RefKind for BlobRefs { type Id = String; }
///
/// // A neighbour that could not be read: the view of blobs is refused,
/// // never silently empty.
/// let neighbours = Neighbours::new().unread("snapshot");
/// let err = neighbours.view(|others| others.refs::<BlobRefs>().err()).unwrap();
/// assert!(matches!(&err, RefsError::ProvidersNotRead { modules, .. } if modules == &["snapshot"]));
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RefsError {
    /// Modules that may provide the kind were not read in this cycle, so the
    /// view would be incomplete: an ID they reference would look unreferenced.
    #[error("references of kind {kind} are incomplete: not read in this cycle: {}", modules.join(", "))]
    ProvidersNotRead {
        /// The kind asked for.
        kind: &'static str,
        /// The modules that were not read.
        modules: Vec<String>,
    },
    /// The module declared the kinds it consumes, and this is not one of
    /// them: under the partial policy its view would not be guaranteed
    /// complete.
    #[error("references of kind {kind} were not declared as consumed (declared: {})", if declared.is_empty() { "none".to_owned() } else { declared.join(", ") })]
    NotDeclared {
        /// The kind asked for.
        kind: &'static str,
        /// The kinds the module declared.
        declared: Vec<&'static str>,
    },
}

/// What resolve sees of the other modules: their snapshots, and the
/// reference sets they provide.
///
/// ```
/// use std::collections::HashSet;
/// use gc_core::{Others, RefKind};
///
/// pub struct BlobRefs;
/// impl RefKind for BlobRefs { type Id = String; }
///
/// fn unused_blobs(on_disk: &[String], others: &Others<'_>) -> anyhow::Result<Vec<String>> {
///     let in_use = others.refs::<BlobRefs>()?;
///     Ok(on_disk.iter().filter(|b| !in_use.contains(b)).cloned().collect())
/// }
/// ```
pub struct Others<'a> {
    modules: &'a [ReadModule<'a>],
    /// The module whose view this is, left out of it.
    me: Option<usize>,
    unread: &'a [Unread],
    /// What the module declared it consumes; `None`: undeclared, so any.
    consumes: Option<&'a [KindInfo]>,
}

impl<'a> Others<'a> {
    /// The view for `modules[me]`: every module but that one. `unread` lists
    /// modules that were not read; a view of a kind they may provide then
    /// fails rather than look complete.
    pub(crate) fn new(
        modules: &'a [ReadModule<'a>],
        me: Option<usize>,
        unread: &'a [Unread],
        consumes: Option<&'a [KindInfo]>,
    ) -> Self {
        Others {
            modules,
            me,
            unread,
            consumes,
        }
    }

    /// Every other module's provided set of `kind`, with its module's name.
    pub(crate) fn sets_of(&self, kind: TypeId) -> impl Iterator<Item = (&'a str, &'a dyn ErasedRefSet)> + 'a {
        self.iter_modules().flat_map(move |m| {
            m.provided
                .iter()
                .filter(move |p| p.kind == kind)
                .map(move |p| (m.name, p.set))
        })
    }

    fn iter_modules(&self) -> impl Iterator<Item = &'a ReadModule<'a>> + 'a {
        let me = self.me;
        self.modules
            .iter()
            .enumerate()
            .filter(move |(i, _)| Some(*i) != me)
            .map(|(_, m)| m)
    }

    /// Every set of kind `K` that another module provides, as one lazy view:
    /// nothing is copied or merged.
    ///
    /// An error when the view would be incomplete because a module was not
    /// read; it never silently returns an empty set for a missing provider.
    /// In a normal (fail-closed) cycle every module was read and this always
    /// succeeds.
    ///
    /// ```
    /// # use gc_core::{Others, RefKind};
    /// # pub struct VmRefs;
    /// # impl RefKind for VmRefs { type Id = String; }
    /// fn vm_alive(vm: &String, others: &Others<'_>) -> anyhow::Result<bool> {
    ///     Ok(others.refs::<VmRefs>()?.contains(vm))
    /// }
    /// ```
    pub fn refs<K: RefKind>(&self) -> Result<RefsView<'a, K>, RefsError> {
        let kind = TypeId::of::<K>();
        if let Some(declared) = self.consumes
            && !declared.iter().any(|k| k.type_id() == kind)
        {
            return Err(RefsError::NotDeclared {
                kind: K::name(),
                declared: declared.iter().map(KindInfo::name).collect(),
            });
        }
        let missing: Vec<String> = self
            .unread
            .iter()
            .filter(|u| u.may_provide(kind))
            .map(|u| u.name.clone())
            .collect();
        if !missing.is_empty() {
            return Err(RefsError::ProvidersNotRead {
                kind: K::name(),
                modules: missing,
            });
        }
        let sets = self.sets_of(kind).collect();
        Ok(RefsView {
            sets,
            _kind: PhantomData,
        })
    }

    /// The snapshot of the module named `module`, if it is another module of
    /// this cycle and its snapshot is an `S`.
    ///
    /// ```
    /// # use gc_core::{Others, Snapshot};
    /// pub struct VmSnapshot { pub vms: Vec<String> }
    /// impl Snapshot for VmSnapshot {}
    ///
    /// fn vm_count(others: &Others<'_>) -> usize {
    ///     others.get::<VmSnapshot>("vm").map_or(0, |s| s.vms.len())
    /// }
    /// ```
    pub fn get<S: Snapshot>(&self, module: &str) -> Option<&'a S> {
        self.iter_modules()
            .find(|m| m.name == module)
            .and_then(|m| (m.snapshot as &dyn Any).downcast_ref::<S>())
    }

    /// The names of the other modules, in lock order.
    ///
    /// ```
    /// # fn f(others: &gc_core::Others<'_>) {
    /// for name in others.names() {
    ///     println!("{name}");
    /// }
    /// # }
    /// ```
    pub fn names(&self) -> impl Iterator<Item = &'a str> + 'a {
        self.iter_modules().map(|m| m.name)
    }
}

/// Every other module's set of one reference kind, read in place.
///
/// ```
/// use std::collections::{BTreeSet, HashSet};
/// use gc_core::{Neighbours, Provider, RefKind, Snapshot};
///
/// pub struct BlobRefs;
/// impl RefKind for BlobRefs { type Id = String; }
/// struct Vm(HashSet<String>);
/// impl Snapshot for Vm {
///     fn provide<'a>(&'a self, refs: &mut Provider<'a>) { refs.refs::<BlobRefs>(&self.0); }
/// }
/// struct Snap(BTreeSet<String>);
/// impl Snapshot for Snap {
///     fn provide<'a>(&'a self, refs: &mut Provider<'a>) { refs.refs::<BlobRefs>(&self.0); }
/// }
///
/// let neighbours = Neighbours::new()
///     .with("vm", Vm(["b1".to_owned()].into()))
///     .with("snapshot", Snap(["b2".to_owned()].into()));
/// neighbours.view(|others| {
///     let blobs = others.refs::<BlobRefs>().unwrap(); // a HashSet and a BTreeSet, not merged
///     assert!(blobs.contains(&"b1".to_owned()) && blobs.contains(&"b2".to_owned()));
///     assert_eq!(blobs.referenced_by(&"b2".to_owned()), Some("snapshot"));
///     assert_eq!(blobs.len(), 2);
/// });
/// ```
pub struct RefsView<'a, K: RefKind> {
    sets: Vec<(&'a str, &'a dyn ErasedRefSet)>,
    _kind: PhantomData<fn() -> K>,
}

impl<'a, K: RefKind> RefsView<'a, K> {
    /// Whether any other module references `id`.
    ///
    /// ```
    /// # use gc_core::{Others, RefKind};
    /// # pub struct BlobRefs;
    /// # impl RefKind for BlobRefs { type Id = String; }
    /// # fn f(others: &Others<'_>) -> anyhow::Result<()> {
    /// let blobs = others.refs::<BlobRefs>()?;
    /// if blobs.contains(&"sha256:abc".to_owned()) {
    ///     println!("in use");
    /// }
    /// # Ok(()) }
    /// ```
    pub fn contains(&self, id: &K::Id) -> bool {
        self.sets.iter().any(|(_, set)| set.contains_any(id))
    }

    /// The first module (in lock order) that references `id`.
    ///
    /// ```
    /// # use gc_core::{Others, RefKind};
    /// # pub struct BlobRefs;
    /// # impl RefKind for BlobRefs { type Id = String; }
    /// # fn f(others: &Others<'_>, blob: &String) -> anyhow::Result<()> {
    /// if let Some(module) = others.refs::<BlobRefs>()?.referenced_by(blob) {
    ///     println!("{blob} is pinned by {module}");
    /// }
    /// # Ok(()) }
    /// ```
    pub fn referenced_by(&self, id: &K::Id) -> Option<&'a str> {
        self.sets
            .iter()
            .find(|(_, set)| set.contains_any(id))
            .map(|(name, _)| *name)
    }

    /// Every referenced ID, set after set. An ID that several modules
    /// reference comes once per set.
    ///
    /// ```
    /// # use gc_core::{Others, RefKind};
    /// # pub struct VmRefs;
    /// # impl RefKind for VmRefs { type Id = String; }
    /// # fn f(others: &Others<'_>) -> anyhow::Result<()> {
    /// for vm in others.refs::<VmRefs>()?.iter() {
    ///     println!("{vm}");
    /// }
    /// # Ok(()) }
    /// ```
    pub fn iter(&self) -> impl Iterator<Item = &'a K::Id> + '_ {
        self.sets
            .iter()
            .flat_map(|(_, set)| set.iter_any())
            .filter_map(|id| id.downcast_ref::<K::Id>())
    }

    /// The sum of the sets' sizes (an ID in two sets counts twice).
    ///
    /// ```
    /// # use gc_core::{Others, RefKind};
    /// # pub struct VmRefs;
    /// # impl RefKind for VmRefs { type Id = String; }
    /// # fn f(others: &Others<'_>) -> anyhow::Result<()> {
    /// println!("{} VM references", others.refs::<VmRefs>()?.len());
    /// # Ok(()) }
    /// ```
    pub fn len(&self) -> usize {
        self.sets.iter().map(|(_, set)| set.len()).sum()
    }

    /// Whether no other module references anything of this kind.
    ///
    /// ```
    /// # use gc_core::{Others, RefKind};
    /// # pub struct VmRefs;
    /// # impl RefKind for VmRefs { type Id = String; }
    /// # fn f(others: &Others<'_>) -> anyhow::Result<bool> {
    /// Ok(others.refs::<VmRefs>()?.is_empty())
    /// # }
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The modules that provide a set of this kind, in lock order.
    ///
    /// ```
    /// # use gc_core::{Others, RefKind};
    /// # pub struct VmRefs;
    /// # impl RefKind for VmRefs { type Id = String; }
    /// # fn f(others: &Others<'_>) -> anyhow::Result<()> {
    /// let providers: Vec<&str> = others.refs::<VmRefs>()?.providers().collect();
    /// # Ok(()) }
    /// ```
    pub fn providers(&self) -> impl Iterator<Item = &'a str> + '_ {
        let mut last = None;
        self.sets.iter().filter_map(move |(name, _)| {
            // One module may provide several sets of a kind: name it once.
            if last == Some(*name) {
                None
            } else {
                last = Some(*name);
                Some(*name)
            }
        })
    }
}

/// Snapshots of named modules, owned, to build an [`Others`] view outside a
/// cycle: how a unit test calls a module's `resolve` with hand-made
/// neighbours.
///
/// ```
/// use std::collections::HashSet;
/// use gc_core::{Neighbours, Provider, RefKind, Snapshot};
///
/// pub struct BlobRefs;
/// impl RefKind for BlobRefs { type Id = String; }
/// struct Vm(HashSet<String>);
/// impl Snapshot for Vm {
///     fn provide<'a>(&'a self, refs: &mut Provider<'a>) {
///         refs.refs::<BlobRefs>(&self.0);
///     }
/// }
///
/// let neighbours = Neighbours::new().with("vm", Vm(["b1".to_owned()].into()));
/// let pinned = neighbours.view(|others| others.refs::<BlobRefs>().unwrap().contains(&"b1".to_owned()));
/// assert!(pinned);
/// ```
#[derive(Default)]
pub struct Neighbours {
    modules: Vec<(String, Box<dyn Snapshot>)>,
    unread: Vec<Unread>,
}

impl Neighbours {
    /// No neighbours.
    ///
    /// ```
    /// let n = gc_core::Neighbours::new();
    /// assert_eq!(n.view(|others| others.names().count()), 0);
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds the snapshot of the module named `name` (replacing one of the same
    /// name).
    ///
    /// ```
    /// # struct S; impl gc_core::Snapshot for S {}
    /// let n = gc_core::Neighbours::new().with("vm", S);
    /// assert!(n.view(|others| others.get::<S>("vm").is_some()));
    /// ```
    pub fn with(mut self, name: impl Into<String>, snapshot: impl Snapshot) -> Self {
        let name = name.into();
        self.modules.retain(|(n, _)| *n != name);
        self.modules.push((name, Box::new(snapshot)));
        self.modules.sort_by(|a, b| a.0.cmp(&b.0));
        self
    }

    /// Marks a module as not read in this cycle, providing kinds unknown:
    /// every [`Others::refs`] then fails, as it would in a cycle that could
    /// not read that module.
    ///
    /// ```
    /// # use gc_core::RefKind;
    /// # pub struct BlobRefs;
    /// # impl RefKind for BlobRefs { type Id = String; }
    /// let n = gc_core::Neighbours::new().unread("snapshot");
    /// assert!(n.view(|others| others.refs::<BlobRefs>().is_err()));
    /// ```
    pub fn unread(mut self, name: impl Into<String>) -> Self {
        self.unread.push(Unread {
            name: name.into(),
            provides: None,
        });
        self
    }

    /// Calls `f` with the view of every neighbour.
    ///
    /// ```
    /// let count = gc_core::Neighbours::new().view(|others| others.names().count());
    /// assert_eq!(count, 0);
    /// ```
    pub fn view<R>(&self, f: impl FnOnce(&Others<'_>) -> R) -> R {
        self.view_consuming(None, f)
    }

    /// [`view`](Self::view) for a module that declared the kinds it
    /// consumes (`None`: undeclared).
    fn view_consuming<R>(&self, consumes: Option<&[KindInfo]>, f: impl FnOnce(&Others<'_>) -> R) -> R {
        let read: Vec<ReadModule<'_>> = self
            .modules
            .iter()
            .map(|(name, snapshot)| ReadModule::new(name, snapshot.as_ref()))
            .collect();
        f(&Others::new(&read, None, &self.unread, consumes))
    }

    /// Calls `module.resolve` on `snapshot`, with these neighbours as the
    /// others.
    ///
    /// ```
    /// # async fn f<M: gc_core::GcModule>(module: &M) -> anyhow::Result<()> {
    /// let snapshot = module.read().await?;
    /// let targets = gc_core::Neighbours::new().resolve(module, &snapshot)?;
    /// # Ok(()) }
    /// ```
    /// The module's declared consumed kinds hold here as in a cycle: asking
    /// for an undeclared kind is an error.
    pub fn resolve<M: crate::GcModule>(
        &self,
        module: &M,
        snapshot: &M::Snapshot,
    ) -> anyhow::Result<crate::Targets<M::Id>> {
        let declared = crate::module::declarations(module);
        self.view_consuming(declared.consumes.as_deref(), |others| module.resolve(snapshot, others))
    }
}
