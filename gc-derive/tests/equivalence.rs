//! The same module written by hand and by the derive, run through the same
//! tests side by side: what is collected and spared, per-ID failures, the
//! concurrency bound (observed, not assumed), read errors, names.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::StreamExt;
use gc_core::{
    CollectOutcome, GcModule, LocalLocker, Locker, ModuleStatus, Neighbours, Orchestrator, Others, RefKind, Targets,
};
use gc_testkit::{FakeModule, RefsSnapshot};

pub struct BlobRefs;
impl RefKind for BlobRefs {
    type Id = String;
}

/// The store both versions wrap: blobs, which of them fail to delete, and
/// a gauge of removals in flight.
#[derive(Default)]
pub struct Store {
    blobs: Mutex<BTreeSet<String>>,
    failing: Mutex<BTreeSet<String>>,
    read_fails: Mutex<bool>,
    in_flight: AtomicUsize,
    most_in_flight: AtomicUsize,
}

impl Store {
    fn with_blobs(n: usize) -> Arc<Store> {
        let store = Store::default();
        store.blobs.lock().unwrap().extend((0..n).map(|i| format!("b{i:02}")));
        Arc::new(store)
    }

    fn read(&self) -> anyhow::Result<BlobSnapshot> {
        anyhow::ensure!(!*self.read_fails.lock().unwrap(), "index unreadable");
        Ok(BlobSnapshot {
            on_disk: self.blobs.lock().unwrap().clone(),
        })
    }

    fn resolve(snap: &BlobSnapshot, others: &Others<'_>) -> anyhow::Result<Targets<String>> {
        let pinned = others.refs::<BlobRefs>()?;
        let mut targets = Targets::new();
        targets.extend(snap.on_disk.iter().filter(|b| !pinned.contains(b)).cloned(), "unused");
        Ok(targets)
    }

    async fn remove(&self, id: &str) -> anyhow::Result<()> {
        let now = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        self.most_in_flight.fetch_max(now, Ordering::SeqCst);
        tokio::time::sleep(Duration::from_millis(10)).await;
        self.in_flight.fetch_sub(1, Ordering::SeqCst);
        anyhow::ensure!(!self.failing.lock().unwrap().contains(id), "blob {id} is busy");
        self.blobs.lock().unwrap().remove(id);
        Ok(())
    }
}

#[derive(gc_core::Snapshot)]
pub struct BlobSnapshot {
    on_disk: BTreeSet<String>,
}

// ---- the derive ----

#[derive(GcModule)]
#[gc(snapshot = BlobSnapshot, remove = remove_blob, concurrency = 4)]
pub struct ImageStore {
    #[gc(lock)]
    locker: LocalLocker,
    store: Arc<Store>,
}

impl ImageStore {
    async fn gc_read(&self) -> anyhow::Result<BlobSnapshot> {
        self.store.read()
    }
    fn gc_resolve(&self, snap: &BlobSnapshot, others: &Others<'_>) -> anyhow::Result<Targets<String>> {
        Store::resolve(snap, others)
    }
    async fn remove_blob(&self, id: &str) -> anyhow::Result<()> {
        self.store.remove(id).await
    }
}

// ---- by hand: what the derive writes, written out ----

pub struct HandImageStore {
    locker: LocalLocker,
    store: Arc<Store>,
}

impl GcModule for HandImageStore {
    type Snapshot = BlobSnapshot;
    type Id = String;

    fn name(&self) -> &str {
        "image_store"
    }
    fn locker(&self) -> &dyn Locker {
        &self.locker
    }
    async fn read(&self) -> anyhow::Result<BlobSnapshot> {
        anyhow::Context::context(self.store.read(), "reading module image_store")
    }
    fn resolve(&self, snap: &BlobSnapshot, others: &Others<'_>) -> anyhow::Result<Targets<String>> {
        Store::resolve(snap, others)
    }
    async fn collect(&self, ids: Vec<String>) -> anyhow::Result<CollectOutcome<String>> {
        let results = futures_util::stream::iter(ids)
            .map(|id| async move {
                let result = self.store.remove(&id).await;
                (id, result)
            })
            .buffer_unordered(4)
            .collect::<Vec<_>>()
            .await;
        Ok(CollectOutcome::from_results(results))
    }
}

// ---- the shared tests ----

fn vm_pinning(ids: &[&str]) -> FakeModule {
    FakeModule::builder("vm")
        .provides::<BlobRefs>(ids.iter().copied())
        .build()
}

async fn collects_unpinned_and_spares_pinned<M: GcModule>(module: M, store: &Store) {
    let gc = Orchestrator::builder()
        .module(module)
        .module(vm_pinning(&["b00", "b01"]))
        .build()
        .unwrap();
    let report = gc.run().await.unwrap();
    assert_eq!(report.module("image_store").unwrap().collected, 8);
    let left: Vec<String> = store.blobs.lock().unwrap().iter().cloned().collect();
    assert_eq!(left, ["b00", "b01"]);
    assert_eq!(gc.run().await.unwrap().total_targets(), 0);
}

async fn reports_per_id_failures<M: GcModule>(module: M, store: &Store) {
    store
        .failing
        .lock()
        .unwrap()
        .extend(["b03".to_owned(), "b07".to_owned()]);
    let gc = Orchestrator::builder()
        .module(module)
        .module(vm_pinning(&[]))
        .build()
        .unwrap();
    let report = gc.run().await.unwrap();
    let m = report.module("image_store").unwrap();
    assert_eq!(m.status, ModuleStatus::PartiallyCollected);
    assert_eq!((m.targets, m.collected), (10, 8));
    let mut failed: Vec<(&str, &str)> = m.failed.iter().map(|f| (f.id.as_str(), f.error.as_str())).collect();
    failed.sort();
    assert_eq!(failed, [("b03", "blob b03 is busy"), ("b07", "blob b07 is busy")]);
    let left: Vec<String> = store.blobs.lock().unwrap().iter().cloned().collect();
    assert_eq!(left, ["b03", "b07"]);
}

async fn bounds_concurrency<M: GcModule>(module: M, store: &Store) {
    let gc = Orchestrator::builder()
        .module(module)
        .module(vm_pinning(&[]))
        .build()
        .unwrap();
    gc.run().await.unwrap();
    // 40 removals of 10 ms each: with a bound of 4, exactly 4 overlap.
    assert_eq!(store.most_in_flight.load(Ordering::SeqCst), 4);
}

async fn wraps_read_errors_with_the_module_name<M: GcModule>(module: M, store: &Store) {
    *store.read_fails.lock().unwrap() = true;
    let err = match module.read().await {
        Ok(_) => panic!("read must fail"),
        Err(e) => format!("{e:#}"),
    };
    assert_eq!(err, "reading module image_store: index unreadable");
}

async fn resolves_against_hand_made_neighbours<M: GcModule<Snapshot = BlobSnapshot, Id = String>>(module: M) {
    let snapshot = module.read().await.unwrap();
    let neighbours = Neighbours::new().with("vm", RefsSnapshot::new().with::<BlobRefs>(["b01".to_owned()]));
    let targets = neighbours.resolve(&module, &snapshot).unwrap();
    assert_eq!(targets.into_ids(), ["b00", "b02"]);
}

fn derived(store: &Arc<Store>) -> ImageStore {
    ImageStore {
        locker: LocalLocker::new(),
        store: Arc::clone(store),
    }
}

fn by_hand(store: &Arc<Store>) -> HandImageStore {
    HandImageStore {
        locker: LocalLocker::new(),
        store: Arc::clone(store),
    }
}

macro_rules! side_by_side {
    ($test:ident, $blobs:expr, $check:ident) => {
        #[tokio::test(start_paused = true)]
        async fn $test() {
            let (a, b) = (Store::with_blobs($blobs), Store::with_blobs($blobs));
            $check(derived(&a), &a).await;
            $check(by_hand(&b), &b).await;
        }
    };
}

side_by_side!(
    both_collect_unpinned_and_spare_pinned,
    10,
    collects_unpinned_and_spares_pinned
);
side_by_side!(both_report_per_id_failures, 10, reports_per_id_failures);
side_by_side!(both_bound_concurrency, 40, bounds_concurrency);
side_by_side!(both_wrap_read_errors, 3, wraps_read_errors_with_the_module_name);

#[tokio::test]
async fn both_resolve_against_hand_made_neighbours() {
    let (a, b) = (Store::with_blobs(3), Store::with_blobs(3));
    resolves_against_hand_made_neighbours(derived(&a)).await;
    resolves_against_hand_made_neighbours(by_hand(&b)).await;
}

#[tokio::test]
async fn both_have_the_same_name_and_hand_out_their_lock_field() {
    let store = Store::with_blobs(0);
    let (d, h) = (derived(&store), by_hand(&store));
    assert_eq!(d.name(), h.name());
    assert_eq!(d.name(), "image_store");
    for (module_lock, field) in [(d.locker(), &d.locker), (h.locker(), &h.locker)] {
        let guard = module_lock.try_lock().await.unwrap().unwrap();
        assert!(field.is_locked(), "locker() is not the #[gc(lock)] field");
        guard.release().await.unwrap();
    }
}

// ---- what only the derive adds ----

#[derive(GcModule)]
#[gc(name = "panicky", snapshot = BlobSnapshot, read = load, resolve = all, remove = remove_or_panic)]
pub struct Panicky(#[gc(lock)] LocalLocker);

impl Panicky {
    async fn load(&self) -> anyhow::Result<BlobSnapshot> {
        Ok(BlobSnapshot {
            on_disk: ["a".to_owned(), "boom".to_owned(), "c".to_owned()].into(),
        })
    }
    fn all(&self, snap: &BlobSnapshot, _: &Others<'_>) -> anyhow::Result<Targets<String>> {
        Ok(snap.on_disk.iter().map(|b| (b.clone(), "all")).collect())
    }
    async fn remove_or_panic(&self, id: &str) -> anyhow::Result<()> {
        assert_ne!(id, "boom", "remove bug");
        Ok(())
    }
}

#[tokio::test]
async fn a_panic_in_one_removal_fails_that_id_only() {
    let gc = Orchestrator::builder()
        .module(Panicky(LocalLocker::new()))
        .build()
        .unwrap();
    let report = gc.run().await.unwrap();
    let m = report.module("panicky").unwrap();
    assert_eq!(m.collected, 2);
    assert_eq!(m.failed.len(), 1);
    assert_eq!(m.failed[0].id, "boom");
    assert!(m.failed[0].error.contains("removal panicked"), "{}", m.failed[0].error);
}

/// Generic modules and where-clauses work.
#[derive(GcModule)]
#[gc(snapshot = BlobSnapshot, collect = collect_all)]
pub struct Generic<L, T>
where
    L: Locker,
    T: Default,
{
    #[gc(lock)]
    locker: L,
    _extra: T,
}

impl<L: Locker + Send + Sync + 'static, T: Default + Send + Sync + 'static> Generic<L, T> {
    async fn gc_read(&self) -> anyhow::Result<BlobSnapshot> {
        Ok(BlobSnapshot {
            on_disk: ["x".to_owned()].into(),
        })
    }
    fn gc_resolve(&self, snap: &BlobSnapshot, _: &Others<'_>) -> anyhow::Result<Targets<String>> {
        Ok(snap.on_disk.iter().map(|b| (b.clone(), "all")).collect())
    }
    async fn collect_all(&self, ids: Vec<String>) -> anyhow::Result<CollectOutcome<String>> {
        Ok(CollectOutcome::all(ids))
    }
}

#[tokio::test]
async fn a_generic_module_with_a_where_clause_derives() {
    let module = Generic {
        locker: Arc::new(LocalLocker::new()),
        _extra: 0u8,
    };
    assert_eq!(module.name(), "generic");
    let gc = Orchestrator::builder().module(module).build().unwrap();
    assert_eq!(gc.run().await.unwrap().total_collected(), 1);
}

#[derive(gc_core::Snapshot)]
pub struct GenericSnapshot<T: Clone> {
    #[gc(refs = VmRefs)]
    vms: std::collections::HashSet<u64>,
    #[gc(refs = VmRefs)]
    more_vms: BTreeSet<u64>,
    _not_provided: Vec<T>,
}

pub struct VmRefs;
impl RefKind for VmRefs {
    type Id = u64;
}

#[test]
fn a_generic_snapshot_provides_every_marked_field() {
    let snap = GenericSnapshot::<u64> {
        vms: [1, 2].into(),
        more_vms: [3].into(),
        _not_provided: vec![4],
    };
    let neighbours = Neighbours::new().with("vm", snap);
    neighbours.view(|others| {
        let vms = others.refs::<VmRefs>().unwrap();
        assert_eq!(vms.len(), 3);
        assert!(vms.contains(&3) && !vms.contains(&4));
    });
}

// ---- declarations: consumes, targets_are, provided kinds, population ----

#[derive(gc_core::Snapshot)]
pub struct PinSnapshot {
    #[gc(refs = BlobRefs)]
    pins: BTreeSet<String>,
}

#[derive(GcModule)]
#[gc(name = "vm", snapshot = PinSnapshot, collect = nothing)]
pub struct Pins(#[gc(lock)] LocalLocker);

impl Pins {
    async fn gc_read(&self) -> anyhow::Result<PinSnapshot> {
        Ok(PinSnapshot {
            pins: ["b1".to_owned()].into(),
        })
    }
    fn gc_resolve(&self, _: &PinSnapshot, _: &Others<'_>) -> anyhow::Result<Targets<String>> {
        Ok(Targets::new())
    }
    async fn nothing(&self, ids: Vec<String>) -> anyhow::Result<CollectOutcome<String>> {
        Ok(CollectOutcome::all(ids))
    }
}

#[derive(gc_core::Snapshot)]
pub struct Counted {
    #[gc(population)]
    blobs: Vec<String>,
}

/// A deliberately wrong resolve: it targets everything, pinned or not.
#[derive(GcModule)]
#[gc(name = "images", snapshot = Counted, targets_are = BlobRefs, consumes(BlobRefs), remove = forget)]
pub struct Careless(#[gc(lock)] LocalLocker);

impl Careless {
    async fn gc_read(&self) -> anyhow::Result<Counted> {
        Ok(Counted {
            blobs: vec!["b1".into(), "b2".into()],
        })
    }
    fn gc_resolve(&self, snap: &Counted, _: &Others<'_>) -> anyhow::Result<Targets<String>> {
        Ok(snap.blobs.iter().map(|b| (b.clone(), "all")).collect())
    }
    async fn forget(&self, _: &str) -> anyhow::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn derived_declarations_drive_the_backstop_and_the_partial_policy() {
    use gc_core::{KindInfo, Snapshot as _};
    assert_eq!(PinSnapshot::provided_kinds(), Some(vec![KindInfo::of::<BlobRefs>()]));
    assert_eq!(Counted::provided_kinds(), Some(vec![]));
    let counted = Counted {
        blobs: vec!["a".into(); 3],
    };
    assert_eq!(counted.population(), Some(3));

    let gc = Orchestrator::builder()
        .module(Pins(LocalLocker::new()))
        .module(Careless(LocalLocker::new()))
        .build()
        .unwrap();
    let report = gc.run().await.unwrap();
    let images = report.module("images").unwrap();
    assert_eq!(images.collected, 1, "the backstop must keep b1");
    assert_eq!(images.backstop[0].id, "b1");
    assert_eq!(images.backstop[0].referenced_by, "vm");

    // Partial: a busy "vm" (which provides BlobRefs) holds images back.
    let pins = Pins(LocalLocker::new());
    let lock = pins.0.clone();
    let gc = Orchestrator::builder()
        .module(pins)
        .module(Careless(LocalLocker::new()))
        .partial()
        .build()
        .unwrap();
    let writer = lock.try_lock().await.unwrap().unwrap();
    let report = gc.run().await.unwrap();
    assert_eq!(report.module("images").unwrap().status, ModuleStatus::HeldBack);
    writer.release().await.unwrap();
}
