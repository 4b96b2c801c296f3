//! The policies beyond the fail-closed default (docs/policies.md). Each test
//! fails if its policy is broken.

use std::time::{Duration, SystemTime};

use gc_core::{
    CollectOutcome, Declarations, GcError, GcModule, LocalLocker, Locker, MassDeletionGuard, ModuleStatus,
    Orchestrator, Others, Phase, RefKind, RunOptions, Snapshot, Targets,
};
use gc_testkit::{FakeHandle, FakeModule};

pub struct BlobRefs;
impl RefKind for BlobRefs {
    type Id = String;
}

pub struct VmRefs;
impl RefKind for VmRefs {
    type Id = String;
}

fn blobs(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("b{i:03}")).collect()
}

/// vm provides blobs and VMs, snapshot provides blobs; images consumes
/// blobs, network consumes VMs, scratch consumes nothing.
fn host(partial: bool) -> (Orchestrator, [FakeHandle; 5]) {
    let vm = FakeModule::builder("vm")
        .provides::<BlobRefs>(["b1"])
        .provides::<VmRefs>(["vm-1"])
        .build();
    let snapshot = FakeModule::builder("snapshot").provides::<BlobRefs>(["b2"]).build();
    let images = FakeModule::builder("images")
        .objects(["b1", "b2", "b3"])
        .consumes::<BlobRefs>()
        .build();
    let network = FakeModule::builder("network")
        .objects(["vm-1", "vm-2"])
        .consumes::<VmRefs>()
        .build();
    let scratch = FakeModule::builder("scratch").objects(["tmp"]).build();
    let handles = [
        vm.handle(),
        snapshot.handle(),
        images.handle(),
        network.handle(),
        scratch.handle(),
    ];
    let mut b = Orchestrator::builder()
        .module(vm)
        .module(snapshot)
        .module(images)
        .module(network)
        .module(scratch);
    if partial {
        b = b.partial();
    }
    (b.build().unwrap(), handles)
}

fn released(handles: &[FakeHandle]) {
    for h in handles {
        h.locker().assert_all_released();
    }
}

// ---- 1. partial cycles ----

#[tokio::test]
async fn partial_a_busy_provider_holds_back_exactly_its_consumers() {
    let (gc, h) = host(true);
    let writer = h[1].locker().hold().await; // snapshot is busy
    let report = gc.run().await.expect("a partial cycle runs");
    drop(writer);
    assert!(report.is_partial());
    let status = |m: &str| report.module(m).unwrap().status;
    assert_eq!(status("snapshot"), ModuleStatus::Skipped);
    assert_eq!(status("images"), ModuleStatus::HeldBack);
    let images = report.module("images").unwrap();
    assert_eq!(images.held_back_by[0].module, "snapshot");
    assert_eq!(images.held_back_by[0].kinds, ["BlobRefs"]);
    assert_eq!(
        h[2].objects().len(),
        3,
        "images collected while a blob provider was missing"
    );
    assert!(h[2].collect_calls().is_empty());
    // network consumes only VmRefs, which snapshot does not provide.
    assert_eq!(status("network"), ModuleStatus::Collected);
    assert_eq!(h[3].objects(), ["vm-1"]);
    assert_eq!(status("scratch"), ModuleStatus::Collected);
    let text = report.to_string();
    assert!(text.contains("held back by snapshot (BlobRefs)"), "{text}");
    released(&h);
}

#[tokio::test]
async fn partial_a_failed_read_counts_as_skipped() {
    let (gc, h) = host(true);
    h[0].fail_read(Some("vm index unreadable"));
    let report = gc.run().await.unwrap();
    let vm = report.module("vm").unwrap();
    assert_eq!(vm.status, ModuleStatus::Skipped);
    assert!(vm.skip_reason.as_deref().unwrap().contains("vm index unreadable"));
    // vm provides both kinds: images and network are held back.
    assert_eq!(report.module("images").unwrap().status, ModuleStatus::HeldBack);
    assert_eq!(report.module("network").unwrap().status, ModuleStatus::HeldBack);
    assert_eq!(h[2].objects().len(), 3);
    assert_eq!(h[3].objects().len(), 2);
    assert_eq!(report.module("scratch").unwrap().status, ModuleStatus::Collected);
    released(&h);
}

#[tokio::test]
async fn without_partial_the_same_busy_provider_aborts_everything() {
    let (gc, h) = host(false);
    let writer = h[1].locker().hold().await;
    assert!(matches!(gc.run().await, Err(GcError::Skipped { .. })));
    drop(writer);
    for handle in &h {
        assert!(handle.collect_calls().is_empty());
    }
    released(&h);
}

#[tokio::test]
async fn partial_undeclared_modules_count_as_depending_on_everything() {
    let provider = FakeModule::builder("legacy-provider").undeclared().build();
    let consumer = FakeModule::builder("legacy-consumer")
        .objects(["x"])
        .undeclared()
        .build();
    let network = FakeModule::builder("network")
        .objects(["vm-9"])
        .consumes::<VmRefs>()
        .build();
    let (hp, hc, hn) = (provider.handle(), consumer.handle(), network.handle());
    let gc = Orchestrator::builder()
        .module(provider)
        .module(consumer)
        .module(network)
        .partial()
        .build()
        .unwrap();
    let writer = hp.locker().hold().await;
    let report = gc.run().await.unwrap();
    drop(writer);
    // An unknown provider may provide VmRefs: network is held back too.
    assert_eq!(report.module("network").unwrap().status, ModuleStatus::HeldBack);
    assert_eq!(report.module("legacy-consumer").unwrap().status, ModuleStatus::HeldBack);
    assert_eq!(hc.objects(), ["x"]);
    assert_eq!(hn.objects(), ["vm-9"]);
    released(&[hp, hc, hn]);
}

/// Declares VmRefs, then asks for BlobRefs.
struct Sloppy(LocalLocker);
struct Nothing;
impl Snapshot for Nothing {}
impl GcModule for Sloppy {
    type Snapshot = Nothing;
    type Id = String;
    fn name(&self) -> &str {
        "sloppy"
    }
    fn locker(&self) -> &dyn Locker {
        &self.0
    }
    async fn read(&self) -> anyhow::Result<Nothing> {
        Ok(Nothing)
    }
    fn resolve(&self, _: &Nothing, others: &Others<'_>) -> anyhow::Result<Targets<String>> {
        let _ = others.refs::<BlobRefs>()?;
        Ok(Targets::new())
    }
    async fn collect(&self, ids: Vec<String>) -> anyhow::Result<CollectOutcome<String>> {
        Ok(CollectOutcome::all(ids))
    }
    fn declare(&self, d: &mut Declarations<String>) {
        d.consumes::<VmRefs>();
    }
}

#[tokio::test]
async fn asking_for_an_undeclared_kind_is_an_error_never_an_empty_set() {
    let images = FakeModule::builder("images")
        .objects(["b1"])
        .consumes::<BlobRefs>()
        .build();
    let hi = images.handle();
    let gc = Orchestrator::builder()
        .module(Sloppy(LocalLocker::new()))
        .module(images)
        .partial()
        .build()
        .unwrap();
    let err = gc.run().await.unwrap_err();
    match &err {
        GcError::ResolveFailed { failures } => assert_eq!(failures[0].module, "sloppy"),
        other => panic!("{other}"),
    }
    assert!(
        err.to_string()
            .contains("BlobRefs were not declared as consumed (declared: VmRefs)"),
        "{err}"
    );
    assert_eq!(hi.objects(), ["b1"]);
}

// ---- 2. the mass-deletion guard ----

/// An image store whose neighbour's index read back empty: every blob looks
/// orphaned.
fn emptied_index(n: usize) -> (Orchestrator, FakeHandle) {
    let vm = FakeModule::builder("vm")
        .provides::<BlobRefs>(Vec::<String>::new())
        .build();
    let images = FakeModule::builder("images")
        .objects(blobs(n))
        .consumes::<BlobRefs>()
        .build();
    let h = images.handle();
    (Orchestrator::builder().module(vm).module(images).build().unwrap(), h)
}

#[tokio::test]
async fn the_guard_withholds_a_module_whose_read_came_back_empty() {
    let (gc, h) = emptied_index(100);
    let report = gc.run().await.unwrap();
    let images = report.module("images").unwrap();
    assert_eq!(images.status, ModuleStatus::Withheld);
    assert_eq!(
        images.guard.as_deref(),
        Some("100 of 100 objects (100%) exceed the bound of 50%")
    );
    assert_eq!(images.collected, 0);
    assert!(h.collect_calls().is_empty(), "a withheld module was asked to collect");
    assert_eq!(h.objects().len(), 100);
    assert!(
        report.to_string().contains("mass-deletion guard: 100 of 100"),
        "{report}"
    );

    // The plan shows it too, and an explicit override collects.
    assert_eq!(
        gc.plan().await.unwrap().module("images").unwrap().status,
        ModuleStatus::Withheld
    );
    let report = gc.run_with(RunOptions::new().allow_mass_deletion()).await.unwrap();
    assert_eq!(report.module("images").unwrap().collected, 100);
    assert!(h.objects().is_empty());
}

#[tokio::test]
async fn the_guard_lets_small_and_ordinary_cleanups_through() {
    let (gc, h) = emptied_index(10); // at most min_targets
    gc.run().await.unwrap();
    assert!(h.objects().is_empty());

    let vm = FakeModule::builder("vm")
        .provides::<BlobRefs>(blobs(100)[..60].to_vec())
        .build();
    let images = FakeModule::builder("images")
        .objects(blobs(100))
        .consumes::<BlobRefs>()
        .build();
    let h = images.handle();
    let gc = Orchestrator::builder().module(vm).module(images).build().unwrap();
    gc.run().await.unwrap(); // 40 of 100: under the bound
    assert_eq!(h.objects().len(), 60);
}

#[tokio::test]
async fn the_guard_has_an_absolute_bound_and_can_be_turned_off() {
    let vm = FakeModule::builder("vm")
        .provides::<BlobRefs>(blobs(100)[..80].to_vec())
        .build();
    let images = FakeModule::builder("images")
        .objects(blobs(100))
        .consumes::<BlobRefs>()
        .build();
    let h = images.handle();
    let guard = MassDeletionGuard {
        max_count: Some(5),
        ..MassDeletionGuard::default()
    };
    let gc = Orchestrator::builder()
        .module(vm)
        .module(images)
        .mass_deletion_guard(guard)
        .build()
        .unwrap();
    let report = gc.run().await.unwrap();
    assert_eq!(
        report.module("images").unwrap().guard.as_deref(),
        Some("20 targets exceed the bound of 5")
    );
    assert_eq!(h.objects().len(), 100);

    let (gc, h) = {
        let vm = FakeModule::builder("vm")
            .provides::<BlobRefs>(Vec::<String>::new())
            .build();
        let images = FakeModule::builder("images")
            .objects(blobs(50))
            .consumes::<BlobRefs>()
            .build();
        let h = images.handle();
        (
            Orchestrator::builder()
                .module(vm)
                .module(images)
                .no_mass_deletion_guard()
                .build()
                .unwrap(),
            h,
        )
    };
    gc.run().await.unwrap();
    assert!(h.objects().is_empty());
}

#[test]
fn a_guard_share_outside_0_to_1_is_refused() {
    for max_share in [f64::NAN, -0.1, 1.5] {
        let guard = MassDeletionGuard {
            max_share,
            ..MassDeletionGuard::default()
        };
        let err = Orchestrator::builder().mass_deletion_guard(guard).build().err();
        let err = err.expect("an out-of-range share was accepted");
        assert!(
            matches!(
                err,
                GcError::InvalidPolicy {
                    policy: "mass_deletion_guard",
                    ..
                }
            ),
            "{err}"
        );
        assert!(err.to_string().contains("max_share"), "{err}");
    }
}

// ---- 3. minimum age ----

#[tokio::test]
async fn min_age_withholds_young_targets() {
    let m = FakeModule::builder("uploads")
        .objects(["old", "new", "unknown"])
        .build();
    let h = m.handle();
    let now = SystemTime::now();
    h.set_created("old", now - Duration::from_secs(3 * 24 * 3600));
    h.set_created("new", now - Duration::from_secs(60));
    let gc = Orchestrator::builder()
        .module(m)
        .min_age(Duration::from_secs(24 * 3600))
        .build()
        .unwrap();
    let report = gc.run().await.unwrap();
    let uploads = report.module("uploads").unwrap();
    assert_eq!(uploads.too_young.count, 1);
    assert_eq!(uploads.too_young.sample, ["new"]);
    assert_eq!(uploads.collected, 2);
    assert_eq!(h.objects(), ["new"]);
    assert!(report.to_string().contains("withheld 1 too young: new"), "{report}");
}

// ---- 4. confirmation ----

#[tokio::test]
async fn confirm_cycles_collects_only_after_k_consecutive_resolves() {
    let vm = FakeModule::builder("vm").provides::<BlobRefs>(["a"]).build();
    let images = FakeModule::builder("images")
        .objects(["a", "b"])
        .consumes::<BlobRefs>()
        .build();
    let (hv, hi) = (vm.handle(), images.handle());
    let gc = Orchestrator::builder()
        .module(vm)
        .module(images)
        .confirm_cycles(3)
        .build()
        .unwrap();

    // b is a target in cycles 1 and 2, collected in 3.
    let r1 = gc.run().await.unwrap();
    assert_eq!(r1.module("images").unwrap().unconfirmed.count, 1);
    // A plan neither collects nor counts.
    gc.plan().await.unwrap();
    gc.run().await.unwrap();
    assert_eq!(hi.objects(), ["a", "b"]);
    // a drops its pin now: it is new as a target.
    hv.set_provided::<BlobRefs>(Vec::<String>::new());
    let r3 = gc.run().await.unwrap();
    assert_eq!(hi.objects(), ["a"], "b was confirmed on its third cycle");
    assert_eq!(r3.module("images").unwrap().unconfirmed.sample, ["a"]);

    // a target that drops out in between starts again.
    hv.set_provided::<BlobRefs>(["a"]);
    gc.run().await.unwrap(); // a pinned: out of the targets
    hv.set_provided::<BlobRefs>(Vec::<String>::new());
    gc.run().await.unwrap();
    gc.run().await.unwrap();
    assert_eq!(hi.objects(), ["a"], "a was collected before three consecutive resolves");
    gc.run().await.unwrap();
    assert!(hi.objects().is_empty());
}

// ---- 5. timeouts ----

#[tokio::test(start_paused = true)]
async fn a_hung_read_times_out_and_every_lock_is_released() {
    let (gc_builder, h) = {
        let a = FakeModule::builder("a").objects(["x"]).build();
        let b = FakeModule::builder("b").objects(["y"]).build();
        let h = [a.handle(), b.handle()];
        (Orchestrator::builder().module(a).module(b), h)
    };
    let gc = gc_builder.read_timeout(Duration::from_secs(30)).build().unwrap();
    h[0].hang_in(Phase::Read);
    let start = tokio::time::Instant::now();
    let err = gc.run().await.unwrap_err();
    assert!(start.elapsed() < Duration::from_secs(31));
    match &err {
        GcError::ReadFailed { failures } => {
            assert_eq!(failures[0].module, "a");
            assert!(failures[0].timed_out);
        }
        other => panic!("{other}"),
    }
    assert!(err.to_string().contains("a: read timed out after 30s"), "{err}");
    assert_eq!(h[1].objects(), ["y"]);
    released(&h);
}

#[tokio::test(start_paused = true)]
async fn a_hung_collect_times_out_the_others_collect_and_locks_are_released() {
    let a = FakeModule::builder("a").objects(["x"]).build();
    let b = FakeModule::builder("b").objects(["y"]).build();
    let h = [a.handle(), b.handle()];
    h[0].hang_in(Phase::Collect);
    let gc = Orchestrator::builder()
        .module(a)
        .module(b)
        .collect_timeout(Duration::from_secs(600))
        .build()
        .unwrap();
    let report = gc.run().await.unwrap();
    let a = report.module("a").unwrap();
    assert_eq!(a.status, ModuleStatus::Failed);
    assert_eq!(a.error.as_deref(), Some("collect: timed out after 600s"));
    assert_eq!(report.module("b").unwrap().status, ModuleStatus::Collected);
    assert!(h[1].objects().is_empty());
    released(&h);
}

// ---- 6. waiting for locks ----

#[tokio::test(start_paused = true)]
async fn waiting_for_locks_rides_out_a_short_writer() {
    let a = FakeModule::builder("a").objects(["x"]).build();
    let h = a.handle();
    let gc = Orchestrator::builder()
        .module(a)
        .wait_for_locks(Duration::from_secs(5))
        .build()
        .unwrap();
    let writer = h.locker().hold().await;
    let release_later = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(300)).await;
        drop(writer);
    });
    let report = gc.run().await.expect("the lock came free within the wait");
    assert_eq!(report.total_collected(), 1);
    assert!(report.phases.acquire >= Duration::from_millis(300));
    release_later.await.unwrap();

    // A writer that outstays the wait still makes the module busy.
    h.insert(["z"]);
    let writer = h.locker().hold().await;
    let start = tokio::time::Instant::now();
    assert!(matches!(gc.run().await, Err(GcError::Skipped { .. })));
    assert!(start.elapsed() <= Duration::from_secs(5));
    assert!(start.elapsed() >= Duration::from_secs(4));
    drop(writer);
    h.locker().assert_all_released();
}

// ---- 7. lock loss ----

#[tokio::test]
async fn a_lock_lost_before_collect_means_nothing_is_collected() {
    let a = FakeModule::builder("a").objects(["x"]).build();
    let b = FakeModule::builder("b").objects(["y"]).build();
    let h = [a.handle(), b.handle()];
    h[1].delay(Phase::Read, Duration::from_millis(20));
    let gc = Orchestrator::builder().module(a).module(b).build().unwrap();
    let (result, ()) = tokio::join!(gc.run(), async {
        h[1].entered(Phase::Read).await;
        h[1].locker().lose_lease(); // b's lease ran out while it read
    });
    let err = result.unwrap_err();
    match &err {
        GcError::LockLost { lost } => assert_eq!(lost[0].module, "b"),
        other => panic!("{other}"),
    }
    assert!(err.to_string().contains("nothing collected: lock lost: b"), "{err}");
    assert_eq!(h[0].objects(), ["x"]);
    assert!(h[0].collect_calls().is_empty());
    released(&h);
}

// ---- 8. the referential backstop ----

#[tokio::test]
async fn the_backstop_keeps_a_blob_a_vm_uses_whatever_resolve_says() {
    let vm = FakeModule::builder("vm").provides::<BlobRefs>(["b1"]).build();
    let images = FakeModule::builder("images")
        .objects(["b1", "b9"])
        .targets_are::<BlobRefs>()
        .build();
    let hi = images.handle();
    // A deliberately wrong resolve: it targets the blob the VM uses.
    hi.set_targets(Some(vec!["b1".into(), "b9".into()]));
    let gc = Orchestrator::builder().module(vm).module(images).build().unwrap();
    let report = gc.run().await.unwrap();
    assert_eq!(hi.objects(), ["b1"], "the pinned blob was collected");
    assert_eq!(hi.collect_calls(), [vec!["b9".to_owned()]]);
    let m = report.module("images").unwrap();
    assert_eq!(m.backstop.len(), 1);
    assert_eq!(m.backstop[0].id, "b1");
    assert_eq!(m.backstop[0].referenced_by, "vm");
    let text = report.to_string();
    assert!(
        text.contains("backstop kept b1: vm still references it as BlobRefs (a bug in this module's resolve)"),
        "{text}"
    );
}
