//! Micro-benchmarks of the hot paths: a lookup through the reference view
//! against the same lookup in the sets themselves, targets handed from
//! resolve to collect against a plain `Vec`, and the orchestrator's fixed
//! cost per cycle (four modules with nothing to do).
//!
//! ```text
//! cargo bench -p gc-core --bench hot_paths
//! ```

use std::collections::HashSet;
use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use gc_core::{
    CollectOutcome, Digest, GcModule, LocalLocker, Locker, Neighbours, Orchestrator, Others, Provider, RefKind,
    Snapshot, Targets,
};

pub struct BlobRefs;
impl RefKind for BlobRefs {
    type Id = String;
}

struct Pins(HashSet<String>);
impl Snapshot for Pins {
    fn provide<'a>(&'a self, refs: &mut Provider<'a>) {
        refs.refs::<BlobRefs>(&self.0);
    }
}

fn ids(prefix: &str, n: usize) -> Vec<String> {
    (0..n).map(|i| format!("{prefix}{i:060}")).collect()
}

fn reference_view(c: &mut Criterion) {
    let vm: HashSet<String> = ids("v", 100_000).into_iter().collect();
    let snap: HashSet<String> = ids("s", 50_000).into_iter().collect();
    let probes = ids("v", 1_000).into_iter().chain(ids("x", 1_000)).collect::<Vec<_>>();
    let neighbours = Neighbours::new().with("vm", Pins(vm)).with("snapshot", Pins(snap));
    let mut g = c.benchmark_group("lookup of 2000 IDs, half referenced");
    neighbours.view(|others| {
        // The same two sets both ways, asked in the same order (the view's:
        // lock order, so snapshot before vm).
        let (snap, vm) = (
            &others.get::<Pins>("snapshot").unwrap().0,
            &others.get::<Pins>("vm").unwrap().0,
        );
        g.bench_function("two HashSets directly", |b| {
            b.iter(|| {
                probes
                    .iter()
                    .filter(|id| snap.contains(*id) || vm.contains(*id))
                    .count()
            })
        });
        let view = others.refs::<BlobRefs>().unwrap();
        g.bench_function("RefsView::contains", |b| {
            b.iter(|| probes.iter().filter(|id| view.contains(id)).count())
        });
    });
    g.bench_function("Others::refs (building the view)", |b| {
        neighbours.view(|others| b.iter(|| black_box(others.refs::<BlobRefs>().unwrap().len())))
    });
    g.finish();
}

fn targets(c: &mut Criterion) {
    let ids: Vec<Digest> = (0..300_000u32)
        .map(|i| {
            let mut d = [0u8; 32];
            d[..4].copy_from_slice(&i.to_le_bytes());
            Digest(d)
        })
        .collect();
    let mut g = c.benchmark_group("300,000 targets from resolve to collect");
    g.bench_function("a plain Vec", |b| b.iter(|| black_box(ids.to_vec())));
    g.bench_function("Targets::extend, then into_ids", |b| {
        b.iter(|| {
            let mut t = Targets::new();
            t.extend(ids.iter().copied(), "unreferenced");
            black_box(t.into_ids())
        })
    });
    g.finish();
}

struct Idle(LocalLocker, &'static str);
struct Nothing;
impl Snapshot for Nothing {}
impl GcModule for Idle {
    type Snapshot = Nothing;
    type Id = String;
    fn name(&self) -> &str {
        self.1
    }
    fn locker(&self) -> &dyn Locker {
        &self.0
    }
    async fn read(&self) -> anyhow::Result<Nothing> {
        Ok(Nothing)
    }
    fn resolve(&self, _: &Nothing, _: &Others<'_>) -> anyhow::Result<Targets<String>> {
        Ok(Targets::new())
    }
    async fn collect(&self, ids: Vec<String>) -> anyhow::Result<CollectOutcome<String>> {
        Ok(CollectOutcome::all(ids))
    }
}

fn cycle_bookkeeping(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut b = Orchestrator::builder();
    for name in ["images", "network", "snapshot", "vm"] {
        b = b.module(Idle(LocalLocker::new(), name));
    }
    let gc = b.build().unwrap();
    c.bench_function("a cycle of 4 modules with nothing to do", |bench| {
        bench.iter(|| rt.block_on(gc.run()).unwrap())
    });
}

criterion_group!(benches, reference_view, targets, cycle_bookkeeping);
criterion_main!(benches);
