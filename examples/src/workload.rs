//! The standard workload of `shared/bench/WORKLOAD.md` ("vm-host"): a
//! synthetic store generated from splitmix64, four in-memory modules, and a
//! timing loop.

use std::collections::HashSet;
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use gc_core::{
    CollectOutcome, GcModule, LocalLocker, Locker, Orchestrator, Others, Provider, RefKind, Snapshot, Targets,
};

/// Blobs that VMs and snapshots use.
pub struct BlobRefs;
impl RefKind for BlobRefs {
    type Id = String;
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

    fn pick<'a>(&mut self, pool: &'a [String]) -> &'a String {
        // The pool length fits in u64; the remainder fits back in usize.
        &pool[(self.next_u64() % pool.len() as u64) as usize]
    }
}

/// The generated store, as the four modules' backing data.
pub struct Data {
    /// `10*N` blob IDs.
    pub pool: Vec<String>,
    /// `N` VMs, each with 8 blobs.
    pub vms: Vec<(String, Vec<String>)>,
    /// Every VM ID, then `N/10` orphan dirs.
    pub run_dirs: Vec<String>,
    /// `N/2` snapshots, each with 4 blobs.
    pub snapshots: Vec<(String, Vec<String>)>,
    /// Every snapshot ID, then `N/20` orphan dirs.
    pub data_dirs: Vec<String>,
    /// Every VM ID, then `N/5` dead-VM IDs.
    pub net_records: Vec<String>,
    /// The first `2*N` entries of the pool.
    pub index_refs: Vec<String>,
}

impl Data {
    /// Generates the store of scale `n`, exactly as WORKLOAD.md orders the
    /// draws.
    pub fn generate(n: usize) -> Data {
        let mut rng = SplitMix64::new(42);
        let pool: Vec<String> = (0..10 * n).map(|_| rng.hex(4)).collect();
        let vms: Vec<(String, Vec<String>)> = (0..n)
            .map(|_| {
                let id = rng.hex(2);
                let blobs = (0..8).map(|_| rng.pick(&pool).clone()).collect();
                (id, blobs)
            })
            .collect();
        let mut run_dirs: Vec<String> = vms.iter().map(|(id, _)| id.clone()).collect();
        run_dirs.extend((0..n / 10).map(|_| rng.hex(2)));
        let snapshots: Vec<(String, Vec<String>)> = (0..n / 2)
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
struct Module {
    data: Arc<Data>,
    locker: LocalLocker,
    collected: AtomicUsize,
}

impl Module {
    fn new(data: &Arc<Data>) -> Module {
        Module {
            data: Arc::clone(data),
            locker: LocalLocker::new(),
            collected: AtomicUsize::new(0),
        }
    }

    /// Collect only counts (no I/O): the figure is the framework's own cost.
    fn count(&self, ids: Vec<String>) -> CollectOutcome<String> {
        self.collected.fetch_add(ids.len(), Ordering::Relaxed);
        CollectOutcome::all(ids)
    }
}

fn sorted_targets(mut ids: Vec<String>, reason: &'static str) -> Targets<String> {
    ids.sort_unstable();
    let mut targets = Targets::new();
    targets.extend(ids, reason);
    targets
}

/// The snapshot of `vm` and of `snapshot`: owner IDs, the blobs they use,
/// and their dirs.
pub struct OwnerSnapshot {
    ids: HashSet<String>,
    blobs: HashSet<String>,
    dirs: Vec<String>,
    provides_vms: bool,
}

impl OwnerSnapshot {
    fn read(owners: &[(String, Vec<String>)], dirs: &[String], provides_vms: bool) -> Self {
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

impl Snapshot for OwnerSnapshot {
    fn provide<'a>(&'a self, refs: &mut Provider<'a>) {
        refs.refs::<BlobRefs>(&self.blobs);
        if self.provides_vms {
            refs.refs::<VmRefs>(&self.ids);
        }
    }
}

/// The snapshot of `images`.
pub struct ImagesSnapshot {
    index_refs: HashSet<String>,
    on_disk: Vec<String>,
}
impl Snapshot for ImagesSnapshot {}

/// The snapshot of `network`.
pub struct NetworkSnapshot {
    records: Vec<String>,
}
impl Snapshot for NetworkSnapshot {}

struct Vm(Module);
struct Snap(Module);
struct Images(Module);
struct Network(Module);

impl GcModule for Vm {
    type Snapshot = OwnerSnapshot;
    type Id = String;
    fn name(&self) -> &str {
        "vm"
    }
    fn locker(&self) -> &dyn Locker {
        &self.0.locker
    }
    async fn read(&self) -> anyhow::Result<OwnerSnapshot> {
        Ok(OwnerSnapshot::read(&self.0.data.vms, &self.0.data.run_dirs, true))
    }
    fn resolve(&self, snap: &OwnerSnapshot, _: &Others<'_>) -> anyhow::Result<Targets<String>> {
        Ok(sorted_targets(snap.orphan_dirs(), "run dir of no VM"))
    }
    async fn collect(&self, ids: Vec<String>) -> anyhow::Result<CollectOutcome<String>> {
        Ok(self.0.count(ids))
    }
}

impl GcModule for Snap {
    type Snapshot = OwnerSnapshot;
    type Id = String;
    fn name(&self) -> &str {
        "snapshot"
    }
    fn locker(&self) -> &dyn Locker {
        &self.0.locker
    }
    async fn read(&self) -> anyhow::Result<OwnerSnapshot> {
        Ok(OwnerSnapshot::read(
            &self.0.data.snapshots,
            &self.0.data.data_dirs,
            false,
        ))
    }
    fn resolve(&self, snap: &OwnerSnapshot, _: &Others<'_>) -> anyhow::Result<Targets<String>> {
        Ok(sorted_targets(snap.orphan_dirs(), "data dir of no snapshot"))
    }
    async fn collect(&self, ids: Vec<String>) -> anyhow::Result<CollectOutcome<String>> {
        Ok(self.0.count(ids))
    }
}

impl GcModule for Images {
    type Snapshot = ImagesSnapshot;
    type Id = String;
    fn name(&self) -> &str {
        "images"
    }
    fn locker(&self) -> &dyn Locker {
        &self.0.locker
    }
    async fn read(&self) -> anyhow::Result<ImagesSnapshot> {
        Ok(ImagesSnapshot {
            index_refs: self.0.data.index_refs.iter().cloned().collect(),
            on_disk: self.0.data.pool.clone(),
        })
    }
    fn resolve(&self, snap: &ImagesSnapshot, others: &Others<'_>) -> anyhow::Result<Targets<String>> {
        let used = others.refs::<BlobRefs>()?;
        let ids = snap
            .on_disk
            .iter()
            .filter(|b| !snap.index_refs.contains(*b) && !used.contains(b))
            .cloned()
            .collect();
        Ok(sorted_targets(ids, "blob nothing references"))
    }
    async fn collect(&self, ids: Vec<String>) -> anyhow::Result<CollectOutcome<String>> {
        Ok(self.0.count(ids))
    }
}

impl GcModule for Network {
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
pub fn orchestrator(data: &Arc<Data>) -> Result<Orchestrator, gc_core::GcError> {
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

/// Generates the store of scale `n` and runs `cycles` timed cycles (at least
/// one) over it.
pub async fn run(n: usize, cycles: usize) -> anyhow::Result<Summary> {
    anyhow::ensure!(n >= 1, "N must be at least 1");
    anyhow::ensure!(cycles >= 1, "cycles must be at least 1");
    let data = Arc::new(Data::generate(n));
    let gc = orchestrator(&data)?;
    let mut times = Vec::with_capacity(cycles);
    let mut counts = [0; 4];
    for _ in 0..cycles {
        let start = Instant::now();
        let report = gc.run().await?;
        times.push(start.elapsed());
        report.check()?;
        for (count, name) in counts.iter_mut().zip(["vm", "snapshot", "images", "network"]) {
            *count = report.module(name).map_or(0, |m| m.collected);
        }
    }
    times.sort();
    Ok(Summary {
        n,
        counts,
        cycles: times,
    })
}
