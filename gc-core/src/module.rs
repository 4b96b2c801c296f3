//! The trait each store implements to take part in GC.

use std::future::Future;
use std::sync::Arc;

use crate::{CollectOutcome, Declarations, GcId, Locker, Others, Snapshot, Targets};

/// One store that takes part in GC: it names itself, hands out its locker,
/// reads a snapshot of its index, resolves which IDs are garbage (seeing the
/// other modules' snapshots) and collects them.
///
/// The orchestrator calls `read`, `resolve` and `collect` only while it holds
/// this module's lock, and the lock of every other module of the cycle.
/// `collect` must be idempotent: after a crash half way, the next cycle
/// targets the rest, and an ID already gone counts as collected.
///
/// ```
/// use std::collections::BTreeSet;
/// use std::sync::Mutex;
/// use gc_core::{CollectOutcome, GcModule, LocalLocker, Locker, Others, Snapshot, Targets};
///
/// /// Temporary files: every one is garbage.
/// struct Scratch {
///     files: Mutex<BTreeSet<String>>,
///     locker: LocalLocker,
/// }
///
/// struct ScratchSnapshot(Vec<String>);
/// impl Snapshot for ScratchSnapshot {}
///
/// impl GcModule for Scratch {
///     type Snapshot = ScratchSnapshot;
///     type Id = String;
///
///     fn name(&self) -> &str {
///         "scratch"
///     }
///     fn locker(&self) -> &dyn Locker {
///         &self.locker
///     }
///     async fn read(&self) -> anyhow::Result<ScratchSnapshot> {
///         Ok(ScratchSnapshot(self.files.lock().unwrap().iter().cloned().collect()))
///     }
///     fn resolve(&self, snap: &ScratchSnapshot, _: &Others<'_>) -> anyhow::Result<Targets<String>> {
///         let mut targets = Targets::new();
///         targets.extend(snap.0.iter().cloned(), "scratch files never outlive a cycle");
///         Ok(targets)
///     }
///     async fn collect(&self, ids: Vec<String>) -> anyhow::Result<CollectOutcome<String>> {
///         let mut files = self.files.lock().unwrap();
///         for id in &ids {
///             files.remove(id); // already gone is fine: idempotent
///         }
///         Ok(CollectOutcome::all(ids))
///     }
/// }
/// ```
pub trait GcModule: Send + Sync + 'static {
    /// What `read` returns and `resolve` consumes; it also provides this
    /// module's reference sets to the others.
    type Snapshot: Snapshot;
    /// The ID of what this module collects.
    type Id: GcId;

    /// The module's name: unique in an orchestrator, used for its lock order,
    /// in reports, and by [`Others::get`].
    fn name(&self) -> &str;

    /// The lock that this store's writers also take.
    fn locker(&self) -> &dyn Locker;

    /// Reads the store's current state. Called with every module's lock held;
    /// reads of all modules run concurrently.
    fn read(&self) -> impl Future<Output = anyhow::Result<Self::Snapshot>> + Send;

    /// Decides what to collect, from this module's snapshot and the others'.
    fn resolve(&self, snapshot: &Self::Snapshot, others: &Others<'_>) -> anyhow::Result<Targets<Self::Id>>;

    /// Removes `ids`, reporting per ID what failed. Called only with a
    /// non-empty list; returning `Err` means nothing is known to be removed.
    fn collect(&self, ids: Vec<Self::Id>) -> impl Future<Output = anyhow::Result<CollectOutcome<Self::Id>>> + Send;

    /// Declares the reference kinds this module consumes and what its
    /// targets are (see [`Declarations`]). The default declares nothing:
    /// unknown, which the partial policy treats as "consumes everything".
    ///
    /// ```
    /// # use gc_core::{Declarations, RefKind};
    /// # pub struct BlobRefs;
    /// # impl RefKind for BlobRefs { type Id = String; }
    /// # struct Images;
    /// # impl Images {
    /// fn declare(&self, d: &mut Declarations<String>) {
    ///     d.targets_are::<BlobRefs>(); // also consumes BlobRefs
    /// }
    /// # }
    /// ```
    fn declare(&self, declarations: &mut Declarations<Self::Id>) {
        let _ = declarations;
    }
}

/// A module's declarations, its snapshot type's provided kinds included.
pub(crate) fn declarations<M: GcModule + ?Sized>(module: &M) -> Declarations<M::Id> {
    let mut d = Declarations::new(<M::Snapshot as Snapshot>::provided_kinds());
    module.declare(&mut d);
    d
}

/// A module shared with the store's own code (its writers) registers as an
/// `Arc`.
impl<M: GcModule> GcModule for Arc<M> {
    type Snapshot = M::Snapshot;
    type Id = M::Id;

    fn name(&self) -> &str {
        (**self).name()
    }
    fn locker(&self) -> &dyn Locker {
        (**self).locker()
    }
    fn read(&self) -> impl Future<Output = anyhow::Result<Self::Snapshot>> + Send {
        (**self).read()
    }
    fn resolve(&self, snapshot: &Self::Snapshot, others: &Others<'_>) -> anyhow::Result<Targets<Self::Id>> {
        (**self).resolve(snapshot, others)
    }
    fn collect(&self, ids: Vec<Self::Id>) -> impl Future<Output = anyhow::Result<CollectOutcome<Self::Id>>> + Send {
        (**self).collect(ids)
    }
    fn declare(&self, declarations: &mut Declarations<Self::Id>) {
        (**self).declare(declarations)
    }
}
