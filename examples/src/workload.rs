//! The standard workload of `shared/bench/WORKLOAD.md` ("vm-host"): a
//! synthetic store generated from splitmix64, four in-memory modules, and a
//! timing loop.

use std::collections::HashSet;
use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use gc_core::{
    CollectOutcome, Digest, GcId, GcModule, LocalLocker, Locker, Orchestrator, Others, Provider, RefKind, Snapshot,
    Targets,
};

/// The ID type of blobs: `String` (64 hex digits), or gc-core's 32-byte
/// [`Digest`].
pub trait BlobId: GcId {
    /// The ID of the blob whose digest is `hex` (64 hex digits, generated).
    fn from_hex(hex: String) -> Self;
}

impl BlobId for String {
    fn from_hex(hex: String) -> Self {
        hex
    }
}

impl BlobId for Digest {
    fn from_hex(hex: String) -> Self {
        // The generator only makes 64-digit lower-case hex.
        hex.parse().unwrap_or(Digest([0; 32]))
    }
}

/// Blobs that VMs and snapshots use.
pub struct BlobRefs<B>(PhantomData<B>);
impl<B: BlobId> RefKind for BlobRefs<B> {
    type Id = B;
}

/// VMs that exist.
pub struct VmRefs;
impl RefKind for VmRefs {
    type Id = String;
}

/// The generator of the workload: splitmix64.
pub struct SplitMix64(u64);

impl SplitMix64 {
    /// A generator seeded with `seed`.
    pub fn new(seed: u64) -> Self {
        SplitMix64(seed)
    }

    /// The next 64-bit draw.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// `words` draws as lower-case hex, 16 digits each.
    pub fn hex(&mut self, words: usize) -> String {
        use std::fmt::Write;
        let mut s = String::with_capacity(16 * words);
        for _ in 0..words {
            let _ = write!(s, "{:016x}", self.next_u64());
        }
        s
    }

    fn pick<'a, T>(&mut self, pool: &'a [T]) -> &'a T {
        // The pool length fits in u64; the remainder fits back in usize.
        &pool[(self.next_u64() % pool.len() as u64) as usize]
    }
}

/// The generated store, as the four modules' backing data.
pub struct Data<B = String> {
    /// `10*N` blob IDs.
    pub pool: Vec<B>,
    /// `N` VMs, each with 8 blobs.
    pub vms: Vec<(String, Vec<B>)>,
    /// Every VM ID, then `N/10` orphan dirs.
    pub run_dirs: Vec<String>,
    /// `N/2` snapshots, each with 4 blobs.
    pub snapshots: Vec<(String, Vec<B>)>,
    /// Every snapshot ID, then `N/20` orphan dirs.
    pub data_dirs: Vec<String>,
    /// Every VM ID, then `N/5` dead-VM IDs.
    pub net_records: Vec<String>,
    /// The first `2*N` entries of the pool.
    pub index_refs: Vec<B>,
}

impl<B: BlobId> Data<B> {
    /// Generates the store of scale `n`, exactly as WORKLOAD.md orders the
    /// draws.
    pub fn generate(n: usize) -> Data<B> {
        let mut rng = SplitMix64::new(42);
        let pool: Vec<B> = (0..10 * n).map(|_| B::from_hex(rng.hex(4))).collect();
        let vms: Vec<(String, Vec<B>)> = (0..n)
            .map(|_| {
                let id = rng.hex(2);
                let blobs = (0..8).map(|_| rng.pick(&pool).clone()).collect();
                (id, blobs)
            })
            .collect();
        let mut run_dirs: Vec<String> = vms.iter().map(|(id, _)| id.clone()).collect();
        run_dirs.extend((0..n / 10).map(|_| rng.hex(2)));
        let snapshots: Vec<(String, Vec<B>)> = (0..n / 2)
            .map(|_| {
                let id = rng.hex(2);
                let blobs = (0..4).map(|_| rng.pick(&pool).clone()).collect();
                (id, blobs)
            })
            .collect();
        let mut data_dirs: Vec<String> = snapshots.iter().map(|(id, _)| id.clone()).collect();
        data_dirs.extend((0..n / 20).map(|_| rng.hex(2)));
        let mut net_records: Vec<String> = vms.iter().map(|(id, _)| id.clone()).collect();
        net_records.extend((0..n / 5).map(|_| rng.hex(2)));
        let index_refs = pool[..2 * n].to_vec();
        Data {
            pool,
            vms,
            run_dirs,
            snapshots,
            data_dirs,
            net_records,
            index_refs,
        }
    }
}

/// The shared part of a workload module: the data, a lock, and a count of
/// what its collect was given.
struct Module<B> {
    data: Arc<Data<B>>,
    locker: LocalLocker,
    collected: AtomicUsize,
}

impl<B> Module<B> {
    fn new(data: &Arc<Data<B>>) -> Module<B> {
        Module {
            data: Arc::clone(data),
            locker: LocalLocker::new(),
            collected: AtomicUsize::new(0),
        }
    }

    /// Collect only counts (no I/O): the figure is the framework's own cost.
    fn count<I: GcId>(&self, ids: Vec<I>) -> CollectOutcome<I> {
        self.collected.fetch_add(ids.len(), Ordering::Relaxed);
        CollectOutcome::all(ids)
    }
}

fn sorted_targets<I: GcId>(mut ids: Vec<I>, reason: &'static str) -> Targets<I> {
    ids.sort_unstable();
    let mut targets = Targets::new();
    targets.extend(ids, reason);
    targets
}

/// The snapshot of `vm` and of `snapshot`: owner IDs, the blobs they use,
/// and their dirs.
pub struct OwnerSnapshot<B> {
    ids: HashSet<String>,
    blobs: HashSet<B>,
    dirs: Vec<String>,
    provides_vms: bool,
}

impl<B: BlobId> OwnerSnapshot<B> {
    fn read(owners: &[(String, Vec<B>)], dirs: &[String], provides_vms: bool) -> Self {
        OwnerSnapshot {
            ids: owners.iter().map(|(id, _)| id.clone()).collect(),
            blobs: owners.iter().flat_map(|(_, b)| b.iter().cloned()).collect(),
            dirs: dirs.to_vec(),
            provides_vms,
        }
    }

    fn orphan_dirs(&self) -> Vec<String> {
        self.dirs.iter().filter(|d| !self.ids.contains(*d)).cloned().collect()
    }
}

impl<B: BlobId> Snapshot for OwnerSnapshot<B> {
    fn provide<'a>(&'a self, refs: &mut Provider<'a>) {
        refs.refs::<BlobRefs<B>>(&self.blobs);
        if self.provides_vms {
            refs.refs::<VmRefs>(&self.ids);
        }
    }
}

/// The snapshot of `images`.
pub struct ImagesSnapshot<B> {
    index_refs: HashSet<B>,
    on_disk: Vec<B>,
}
impl<B: BlobId> Snapshot for ImagesSnapshot<B> {}

/// The snapshot of `network`.
pub struct NetworkSnapshot {
    records: Vec<String>,
}
impl Snapshot for NetworkSnapshot {}

struct Vm<B>(Module<B>);
struct Snap<B>(Module<B>);
struct Images<B>(Module<B>);
struct Network<B>(Module<B>);

impl<B: BlobId> GcModule for Vm<B> {
    type Snapshot = OwnerSnapshot<B>;
    type Id = String;
    fn name(&self) -> &str {
        "vm"
    }
    fn locker(&self) -> &dyn Locker {
        &self.0.locker
    }
    async fn read(&self) -> anyhow::Result<OwnerSnapshot<B>> {
        Ok(OwnerSnapshot::read(&self.0.data.vms, &self.0.data.run_dirs, true))
    }
    fn resolve(&self, snap: &OwnerSnapshot<B>, _: &Others<'_>) -> anyhow::Result<Targets<String>> {
        Ok(sorted_targets(snap.orphan_dirs(), "run dir of no VM"))
    }
    async fn collect(&self, ids: Vec<String>) -> anyhow::Result<CollectOutcome<String>> {
        Ok(self.0.count(ids))
    }
}

impl<B: BlobId> GcModule for Snap<B> {
    type Snapshot = OwnerSnapshot<B>;
    type Id = String;
    fn name(&self) -> &str {
        "snapshot"
    }
    fn locker(&self) -> &dyn Locker {
        &self.0.locker
    }
    async fn read(&self) -> anyhow::Result<OwnerSnapshot<B>> {
        Ok(OwnerSnapshot::read(
            &self.0.data.snapshots,
            &self.0.data.data_dirs,
            false,
        ))
    }
    fn resolve(&self, snap: &OwnerSnapshot<B>, _: &Others<'_>) -> anyhow::Result<Targets<String>> {
        Ok(sorted_targets(snap.orphan_dirs(), "data dir of no snapshot"))
    }
    async fn collect(&self, ids: Vec<String>) -> anyhow::Result<CollectOutcome<String>> {
        Ok(self.0.count(ids))
    }
}

impl<B: BlobId> GcModule for Images<B> {
    type Snapshot = ImagesSnapshot<B>;
    type Id = B;
    fn name(&self) -> &str {
        "images"
    }
    fn locker(&self) -> &dyn Locker {
        &self.0.locker
    }
    async fn read(&self) -> anyhow::Result<ImagesSnapshot<B>> {
        Ok(ImagesSnapshot {
            index_refs: self.0.data.index_refs.iter().cloned().collect(),
            on_disk: self.0.data.pool.clone(),
        })
    }
    fn resolve(&self, snap: &ImagesSnapshot<B>, others: &Others<'_>) -> anyhow::Result<Targets<B>> {
        let used = others.refs::<BlobRefs<B>>()?;
        let ids = snap
            .on_disk
            .iter()
            .filter(|b| !snap.index_refs.contains(*b) && !used.contains(b))
            .cloned()
            .collect();
        Ok(sorted_targets(ids, "blob nothing references"))
    }
    async fn collect(&self, ids: Vec<B>) -> anyhow::Result<CollectOutcome<B>> {
        Ok(self.0.count(ids))
    }
}

impl<B: BlobId> GcModule for Network<B> {
    type Snapshot = NetworkSnapshot;
    type Id = String;
    fn name(&self) -> &str {
        "network"
    }
    fn locker(&self) -> &dyn Locker {
        &self.0.locker
    }
    async fn read(&self) -> anyhow::Result<NetworkSnapshot> {
        Ok(NetworkSnapshot {
            records: self.0.data.net_records.clone(),
        })
    }
    fn resolve(&self, snap: &NetworkSnapshot, others: &Others<'_>) -> anyhow::Result<Targets<String>> {
        let live = others.refs::<VmRefs>()?;
        let ids = snap.records.iter().filter(|r| !live.contains(r)).cloned().collect();
        Ok(sorted_targets(ids, "record of no VM"))
    }
    async fn collect(&self, ids: Vec<String>) -> anyhow::Result<CollectOutcome<String>> {
        Ok(self.0.count(ids))
    }
}

/// The orchestrator over the four workload modules.
pub fn orchestrator<B: BlobId>(data: &Arc<Data<B>>) -> Result<Orchestrator, gc_core::GcError> {
    Orchestrator::builder()
        .module(Vm(Module::new(data)))
        .module(Snap(Module::new(data)))
        .module(Images(Module::new(data)))
        .module(Network(Module::new(data)))
        .build()
}

/// The result of [`run`]: the counts of the last cycle and the cycle times.
pub struct Summary {
    /// The scale.
    pub n: usize,
    /// Targets collected per module: vm, snapshot, images, network.
    pub counts: [usize; 4],
    /// Wall-clock time of every cycle, sorted.
    pub cycles: Vec<Duration>,
}

impl Summary {
    /// The median cycle time.
    pub fn median(&self) -> Duration {
        self.cycles[self.cycles.len() / 2]
    }
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        let [vm, snapshot, images, network] = self.counts;
        write!(
            f,
            "n={} counts={vm},{snapshot},{images},{network} cycle_ms min={:.1} median={:.1} max={:.1}",
            self.n,
            ms(self.cycles[0]),
            ms(self.median()),
            ms(self.cycles[self.cycles.len() - 1]),
        )
    }
}

/// What a run measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Cycles of the orchestrator over the four modules.
    Framework,
    /// The same reads and set operations in a hand-written loop, without
    /// the framework: the baseline of its overhead.
    Baseline,
}

/// The same work as one cycle, by hand: build each snapshot, resolve each
/// module's sorted targets, count them.
pub fn baseline_cycle<B: BlobId>(data: &Data<B>) -> [usize; 4] {
    let vm = OwnerSnapshot::read(&data.vms, &data.run_dirs, true);
    let snap = OwnerSnapshot::read(&data.snapshots, &data.data_dirs, false);
    let images = ImagesSnapshot {
        index_refs: data.index_refs.iter().cloned().collect::<HashSet<B>>(),
        on_disk: data.pool.clone(),
    };
    let records = data.net_records.clone();
    let mut vm_targets = vm.orphan_dirs();
    vm_targets.sort_unstable();
    let mut snap_targets = snap.orphan_dirs();
    snap_targets.sort_unstable();
    let mut image_targets: Vec<B> = images
        .on_disk
        .iter()
        .filter(|b| !images.index_refs.contains(*b) && !vm.blobs.contains(*b) && !snap.blobs.contains(*b))
        .cloned()
        .collect();
    image_targets.sort_unstable();
    let mut net_targets: Vec<String> = records.iter().filter(|r| !vm.ids.contains(*r)).cloned().collect();
    net_targets.sort_unstable();
    [
        vm_targets.len(),
        snap_targets.len(),
        image_targets.len(),
        net_targets.len(),
    ]
}

/// Generates the store of scale `n` and runs `cycles` timed cycles (at least
/// one) over it, with blob IDs of type `B`.
pub async fn run_with<B: BlobId>(n: usize, cycles: usize, mode: Mode) -> anyhow::Result<Summary> {
    anyhow::ensure!(n >= 1, "N must be at least 1");
    anyhow::ensure!(cycles >= 1, "cycles must be at least 1");
    let data = Arc::new(Data::<B>::generate(n));
    let gc = orchestrator(&data)?;
    let mut times = Vec::with_capacity(cycles);
    let mut counts = [0; 4];
    for _ in 0..cycles {
        let start = Instant::now();
        match mode {
            Mode::Framework => {
                let report = gc.run().await?;
                times.push(start.elapsed());
                report.check()?;
                for (count, name) in counts.iter_mut().zip(["vm", "snapshot", "images", "network"]) {
                    *count = report.module(name).map_or(0, |m| m.collected);
                }
            }
            Mode::Baseline => {
                counts = std::hint::black_box(baseline_cycle(&data));
                times.push(start.elapsed());
            }
        }
    }
    times.sort();
    Ok(Summary {
        n,
        counts,
        cycles: times,
    })
}

/// [`run_with`] with `String` blob IDs through the orchestrator: the
/// standard run.
pub async fn run(n: usize, cycles: usize) -> anyhow::Result<Summary> {
    run_with::<String>(n, cycles, Mode::Framework).await
}
