//! What every module must do, checked on your module and your store.
//!
//! Seed the store with garbage and with entries that other modules pin, then
//! call the suites. `inventory` lists what is in the store now, each entry as
//! its ID displays (`ToString`), so that the suites can see what collect
//! really removed.
//!
//! ```
//! use std::collections::BTreeSet;
//! use gc_core::{Neighbours, RefKind};
//! use gc_testkit::conformance::modules;
//! use gc_testkit::FakeModule;
//!
//! pub struct BlobRefs;
//! impl RefKind for BlobRefs { type Id = String; }
//!
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! // A stand-in for your module; use your own, on a seeded store.
//! let images = FakeModule::builder("images").objects(["b1", "b2", "b3"]).consumes::<BlobRefs>().build();
//! let store = images.handle();
//! let inventory = || store.objects().into_iter().collect::<BTreeSet<String>>();
//!
//! let vm = FakeModule::builder("vm").provides::<BlobRefs>(["b1"]).build();
//! modules::plan_and_run_agree(images, vec![vm], &inventory).await;
//! # });
//! ```

use std::collections::BTreeSet;

use gc_core::{GcModule, Neighbours, Orchestrator};

use crate::FakeModule;

fn display_all<'a, I: ToString + 'a>(ids: impl IntoIterator<Item = &'a I>) -> BTreeSet<String> {
    ids.into_iter().map(ToString::to_string).collect()
}

/// Reads `module` and resolves it against `neighbours`.
async fn resolve<M: GcModule>(what: &str, module: &M, neighbours: &Neighbours) -> Vec<M::Id> {
    let snapshot = match module.read().await {
        Ok(s) => s,
        Err(e) => panic!("{what}: read failed: {e:#}"),
    };
    match neighbours.resolve(module, &snapshot) {
        Ok(targets) => targets.into_ids(),
        Err(e) => panic!("{what}: resolve failed: {e:#}"),
    }
}

/// Collecting the same targets twice is no error and deletes nothing more;
/// and the first collect removes exactly its targets. The store must hold
/// garbage (as seen with `neighbours` as the other modules).
///
/// ```
/// use std::collections::BTreeSet;
/// use gc_core::{Neighbours, RefKind};
/// use gc_testkit::{FakeModule, RefsSnapshot};
///
/// pub struct BlobRefs;
/// impl RefKind for BlobRefs { type Id = String; }
///
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let images = FakeModule::builder("images").objects(["b1", "b2"]).consumes::<BlobRefs>().build();
/// let store = images.handle();
/// let vm = Neighbours::new().with("vm", RefsSnapshot::new().with::<BlobRefs>(["b1".to_owned()]));
/// gc_testkit::conformance::modules::collect_is_idempotent(&images, &vm, || {
///     store.objects().into_iter().collect::<BTreeSet<String>>()
/// })
/// .await;
/// assert_eq!(store.objects(), ["b1"]);
/// # });
/// ```
pub async fn collect_is_idempotent<M, F>(module: &M, neighbours: &Neighbours, inventory: F)
where
    M: GcModule,
    F: Fn() -> BTreeSet<String>,
{
    let what = "collect_is_idempotent";
    let ids = resolve(what, module, neighbours).await;
    assert!(
        !ids.is_empty(),
        "{what}: the store has no garbage to collect: seed some first"
    );
    let before = inventory();
    let first = match module.collect(ids.clone()).await {
        Ok(outcome) => outcome,
        Err(e) => panic!("{what}: the first collect failed: {e:#}"),
    };
    if let Some(f) = first.failures().first() {
        panic!("{what}: the first collect failed for {}: {:#}", f.id, f.error);
    }
    let after_first = inventory();
    let removed: BTreeSet<String> = before.difference(&after_first).cloned().collect();
    assert_eq!(
        removed,
        display_all(&ids),
        "{what}: the first collect removed other entries than its targets"
    );

    let second = match module.collect(ids.clone()).await {
        Ok(outcome) => outcome,
        Err(e) => panic!("{what}: collecting IDs that are already gone failed: {e:#}"),
    };
    if let Some(f) = second.failures().first() {
        panic!(
            "{what}: collecting {} again failed ({:#}): an ID already gone must count as collected",
            f.id, f.error
        );
    }
    assert_eq!(
        second.collected_ids().len(),
        ids.len(),
        "{what}: the second collect did not account for every ID it was given"
    );
    assert_eq!(inventory(), after_first, "{what}: the second collect deleted more");
}

/// `plan()` and `run()` of an orchestrator holding `module` and
/// `neighbours` agree: the run targets what the plan listed, collects all of
/// it, and removes exactly that from the store. (The module-level example
/// runs it.)
///
/// ```
/// use std::collections::BTreeSet;
/// use gc_testkit::FakeModule;
///
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let scratch = FakeModule::builder("scratch").objects(["t1", "t2"]).build();
/// let store = scratch.handle();
/// let inventory = || store.objects().into_iter().collect::<BTreeSet<String>>();
/// gc_testkit::conformance::modules::plan_and_run_agree(scratch, Vec::new(), &inventory).await;
/// assert!(store.objects().is_empty());
/// # });
/// ```
pub async fn plan_and_run_agree<M, F>(module: M, neighbours: Vec<FakeModule>, inventory: F)
where
    M: GcModule,
    F: Fn() -> BTreeSet<String>,
{
    let what = "plan_and_run_agree";
    let name = module.name().to_owned();
    let mut builder = Orchestrator::builder().module(module);
    for neighbour in neighbours {
        builder = builder.module(neighbour);
    }
    let gc = builder.build().unwrap_or_else(|e| panic!("{what}: {e}"));
    let before = inventory();
    let plan = gc.plan().await.unwrap_or_else(|e| panic!("{what}: plan failed: {e}"));
    assert_eq!(inventory(), before, "{what}: plan changed the store");
    let planned: BTreeSet<String> = plan
        .module(&name)
        .map(|m| m.planned.iter().map(|t| t.id.clone()).collect())
        .unwrap_or_default();

    let report = gc.run().await.unwrap_or_else(|e| panic!("{what}: run failed: {e}"));
    let m = report
        .module(&name)
        .unwrap_or_else(|| panic!("{what}: {name} is missing from the report"));
    assert_eq!(
        m.targets,
        planned.len(),
        "{what}: the run found other targets than the plan"
    );
    assert!(
        m.failed.is_empty() && m.error.is_none(),
        "{what}: collect failed: {m:?}"
    );
    assert_eq!(
        m.collected,
        planned.len(),
        "{what}: the run collected other than the plan"
    );
    let removed: BTreeSet<String> = before.difference(&inventory()).cloned().collect();
    assert_eq!(
        removed, planned,
        "{what}: the run removed other entries than the plan listed"
    );
}

/// `resolve` never targets an ID that another module references under kind
/// `K`: a property test over `cases` generated sets of neighbours, each
/// referencing a random part of `candidates` (IDs in the store, pinned or
/// not). `snapshot` is the module's own, read from a seeded store.
///
/// ```
/// # #[cfg(feature = "proptest")] {
/// use gc_core::{GcModule, RefKind};
/// use gc_testkit::FakeModule;
///
/// pub struct BlobRefs;
/// impl RefKind for BlobRefs { type Id = String; }
///
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let images = FakeModule::builder("images").objects(["b1", "b2", "b3"]).consumes::<BlobRefs>().build();
/// let snapshot = images.read().await.unwrap();
/// let candidates = ["b1", "b2", "b3", "b4"].map(String::from);
/// gc_testkit::conformance::modules::resolve_never_targets_referenced::<BlobRefs, _>(&images, &snapshot, &candidates, 64);
/// # });
/// # }
/// ```
#[cfg(feature = "proptest")]
pub fn resolve_never_targets_referenced<K, M>(module: &M, snapshot: &M::Snapshot, candidates: &[K::Id], cases: u32)
where
    K: gc_core::RefKind<Id = M::Id>,
    M: GcModule,
{
    use proptest::collection::vec;
    use proptest::test_runner::{Config, TestCaseError, TestRunner};

    let what = "resolve_never_targets_referenced";
    assert!(!candidates.is_empty(), "{what}: give at least one candidate ID");
    let n = candidates.len();
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    });
    // Up to three neighbours, each referencing any of the candidates.
    let strategy = vec(vec(0..n, 0..=n), 0..4);
    let result = runner.run(&strategy, |sets| {
        let mut neighbours = Neighbours::new();
        let mut referenced = BTreeSet::new();
        for (i, set) in sets.iter().enumerate() {
            let ids: Vec<K::Id> = set.iter().map(|&j| candidates[j].clone()).collect();
            referenced.extend(ids.iter().cloned());
            neighbours = neighbours.with(format!("neighbour-{i}"), crate::RefsSnapshot::new().with::<K>(ids));
        }
        let targets = neighbours
            .resolve(module, snapshot)
            .map_err(|e| TestCaseError::fail(format!("resolve failed: {e:#}")))?;
        for id in targets.ids() {
            if referenced.contains(id) {
                return Err(TestCaseError::fail(format!(
                    "resolve targeted {id}, which a neighbour references"
                )));
            }
        }
        Ok(())
    });
    if let Err(e) = result {
        panic!("{what}: {e}");
    }
}
