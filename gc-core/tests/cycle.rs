//! The cycle's safety model, rule by rule (docs/concepts.md). Each test fails
//! if its rule is broken.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use gc_core::{
    GcError, LockError, LockGuard, Locker, ModuleStatus, Orchestrator, Phase, RefKind, SkipReason, async_trait,
};
use gc_testkit::{Call, FakeHandle, FakeModule, IdBehaviour};

pub struct BlobRefs;
impl RefKind for BlobRefs {
    type Id = String;
}

/// A VM host in miniature: `vm` pins b1 and b2, `snapshot` pins b3, and
/// `images` holds b1..b6, of which b4..b6 are garbage.
fn host() -> (Orchestrator, [FakeHandle; 3]) {
    let vm = FakeModule::builder("vm").provides::<BlobRefs>(["b1", "b2"]).build();
    let snapshot = FakeModule::builder("snapshot").provides::<BlobRefs>(["b3"]).build();
    let images = FakeModule::builder("images")
        .objects(["b1", "b2", "b3", "b4", "b5", "b6"])
        .consumes::<BlobRefs>()
        .build();
    let handles = [vm.handle(), snapshot.handle(), images.handle()];
    let gc = Orchestrator::builder()
        .module(vm)
        .module(snapshot)
        .module(images)
        .build()
        .expect("unique names");
    (gc, handles)
}

fn assert_no_lock_held(handles: &[FakeHandle]) {
    for h in handles {
        h.locker().assert_all_released();
    }
}

fn assert_nothing_collected(handles: &[FakeHandle]) {
    for h in handles {
        assert!(h.collect_calls().is_empty(), "collect was called: {:?}", h.calls());
    }
}

#[tokio::test]
async fn a_cycle_collects_only_unreferenced_blobs() {
    let (gc, handles) = host();
    let report = gc.run().await.expect("cycle");
    let images = &handles[2];
    assert_eq!(images.objects(), ["b1", "b2", "b3"]);
    assert_eq!(images.collect_calls(), [vec!["b4", "b5", "b6"]]);
    let m = report.module("images").expect("images in report");
    assert_eq!((m.status, m.targets, m.collected), (ModuleStatus::Collected, 3, 3));
    assert!(report.is_success());
    assert_no_lock_held(&handles);
}

#[tokio::test]
async fn a_busy_module_aborts_before_anything_is_read() {
    let (gc, handles) = host();
    let writer = handles[1].locker().hold().await; // a writer holds `snapshot`
    let err = gc.run().await.expect_err("must abort");
    match &err {
        GcError::Skipped { skipped } => {
            assert_eq!(skipped.len(), 1);
            assert_eq!(skipped[0].module, "snapshot");
            assert!(matches!(skipped[0].reason, SkipReason::Busy));
        }
        other => panic!("wrong error: {other}"),
    }
    assert!(err.to_string().contains("snapshot (lock busy)"), "{err}");
    for h in &handles {
        assert!(!h.was_read(), "read while a module was busy");
    }
    assert_nothing_collected(&handles);
    drop(writer);
    assert_no_lock_held(&handles);
}

#[tokio::test]
async fn every_skipped_module_is_named_with_its_reason() {
    let (gc, handles) = host();
    let writer = handles[0].locker().hold().await;
    handles[2].locker().fail_next("lease service down");
    let err = gc.run().await.expect_err("must abort");
    let text = err.to_string();
    assert!(text.contains("2 modules skipped"), "{text}");
    assert!(
        text.contains("images (lock error: lock backend: lease service down)"),
        "{text}"
    );
    assert!(text.contains("vm (lock busy)"), "{text}");
    assert_nothing_collected(&handles);
    drop(writer);
    assert_no_lock_held(&handles);
}

#[tokio::test]
async fn a_lock_error_aborts_before_anything_is_read() {
    let (gc, handles) = host();
    handles[0].locker().fail_next("connection refused");
    let err = gc.run().await.expect_err("must abort");
    match &err {
        GcError::Skipped { skipped } => {
            assert_eq!(skipped[0].module, "vm");
            assert!(matches!(
                skipped[0].reason,
                SkipReason::LockError(LockError::Backend(_))
            ));
        }
        other => panic!("wrong error: {other}"),
    }
    for h in &handles {
        assert!(!h.was_read());
    }
    assert_nothing_collected(&handles);
    assert_no_lock_held(&handles);
}

#[tokio::test]
async fn a_read_error_means_nothing_is_collected() {
    let (gc, handles) = host();
    handles[1].fail_read(Some("index unreadable"));
    let err = gc.run().await.expect_err("must abort");
    match &err {
        GcError::ReadFailed { failures } => {
            assert_eq!(failures.len(), 1);
            assert_eq!(
                (failures[0].module.as_str(), failures[0].phase),
                ("snapshot", Phase::Read)
            );
            assert!(!failures[0].panicked);
        }
        other => panic!("wrong error: {other}"),
    }
    assert!(err.to_string().contains("index unreadable"), "{err}");
    assert_nothing_collected(&handles);
    assert_eq!(handles[2].objects().len(), 6, "images lost blobs");
    assert_no_lock_held(&handles);
}

#[tokio::test]
async fn a_blob_used_by_a_vm_is_never_collected_even_when_images_indexes_nothing() {
    let (gc, handles) = host();
    for _ in 0..3 {
        gc.run().await.expect("cycle");
    }
    let left = handles[2].objects();
    for pinned in ["b1", "b2", "b3"] {
        assert!(left.contains(&pinned.to_owned()), "{pinned} was collected");
    }
    for calls in handles[2].collect_calls() {
        for pinned in ["b1", "b2", "b3"] {
            assert!(!calls.contains(&pinned.to_owned()), "{pinned} was a target");
        }
    }
}

#[tokio::test]
async fn a_partial_collect_failure_is_reported_and_others_still_collect() {
    let vm = FakeModule::builder("vm").objects(["run-1", "run-2"]).build();
    let images = FakeModule::builder("images").objects(["b1", "b2", "b3"]).build();
    let network = FakeModule::builder("network").objects(["n1"]).build();
    let handles = [vm.handle(), images.handle(), network.handle()];
    handles[1].fail_id("b2", "permission denied");
    handles[2].fail_collect(Some("backend down"));
    let gc = Orchestrator::builder()
        .module(vm)
        .module(images)
        .module(network)
        .build()
        .unwrap();

    let report = gc.run().await.expect("collect failures do not abort");
    assert!(handles[0].objects().is_empty(), "vm must still collect");
    assert_eq!(report.module("vm").unwrap().status, ModuleStatus::Collected);

    let images = report.module("images").unwrap();
    assert_eq!(images.status, ModuleStatus::PartiallyCollected);
    assert_eq!((images.targets, images.collected), (3, 2));
    assert_eq!(images.failed.len(), 1);
    assert_eq!(images.failed[0].id, "b2");
    assert!(images.failed[0].error.contains("permission denied"));
    assert_eq!(handles[1].objects(), ["b2"]);

    let network = report.module("network").unwrap();
    assert_eq!(network.status, ModuleStatus::Failed);
    assert!(network.error.as_deref().unwrap_or("").contains("backend down"));

    let text = report.to_string();
    assert!(text.contains("failed b2: permission denied"), "{text}");
    match report.check() {
        Err(GcError::CollectFailed { modules }) => assert_eq!(modules, ["images", "network"]),
        other => panic!("check must fail: {other:?}"),
    }
    assert_no_lock_held(&handles);
}

async fn panic_in(phase: Phase) {
    let (gc, handles) = host();
    handles[2].panic_in(phase);
    match (phase, gc.run().await) {
        (Phase::Read, Err(GcError::ReadFailed { failures }))
        | (Phase::Resolve, Err(GcError::ResolveFailed { failures })) => {
            assert_eq!(failures[0].module, "images");
            assert!(failures[0].panicked);
            assert!(failures[0].error.to_string().contains("scripted panic"));
            assert_nothing_collected(&handles);
        }
        (Phase::Collect, Ok(report)) => {
            let images = report.module("images").unwrap();
            assert_eq!(images.status, ModuleStatus::Failed);
            assert!(
                images.error.as_deref().unwrap().contains("collect panicked"),
                "{images:?}"
            );
            assert!(report.check().is_err());
        }
        (phase, other) => panic!("panic in {phase}: wrong outcome {other:?}"),
    }
    assert_no_lock_held(&handles);
    // And the next cycle can take every lock again.
    let again = gc.run().await;
    assert!(!matches!(again, Err(GcError::Skipped { .. })), "{again:?}");
    assert_no_lock_held(&handles);
}

#[tokio::test]
async fn a_panic_in_read_is_an_error_and_leaves_no_lock_held() {
    panic_in(Phase::Read).await;
}

#[tokio::test]
async fn a_panic_in_resolve_is_an_error_and_leaves_no_lock_held() {
    panic_in(Phase::Resolve).await;
}

#[tokio::test]
async fn a_panic_in_collect_is_an_error_and_leaves_no_lock_held() {
    panic_in(Phase::Collect).await;
}

async fn drop_run_during(phase: Phase) {
    let (gc, handles) = host();
    handles[2].hang_in(phase);
    let watcher = handles[2].clone();
    tokio::select! {
        result = gc.run() => panic!("the cycle must hang in {phase}, got {result:?}"),
        () = watcher.entered(phase) => {}
    }
    // The select dropped the run future while `images` hung in `phase`.
    assert_no_lock_held(&handles);
    if phase == Phase::Read {
        assert_nothing_collected(&handles);
    }
    assert_eq!(handles[2].objects().len(), 6);
}

#[tokio::test]
async fn dropping_the_run_during_read_leaves_no_lock_held() {
    drop_run_during(Phase::Read).await;
}

#[tokio::test]
async fn dropping_the_run_during_collect_leaves_no_lock_held() {
    drop_run_during(Phase::Collect).await;
}

#[tokio::test]
async fn a_cancelled_run_from_a_timeout_leaves_no_lock_held() {
    let (gc, handles) = host();
    handles[0].delay(Phase::Read, Duration::from_secs(3600));
    let timed = tokio::time::timeout(Duration::from_millis(20), gc.run()).await;
    assert!(timed.is_err());
    assert_no_lock_held(&handles);
}

#[test]
fn duplicate_names_are_refused() {
    let err = Orchestrator::builder()
        .module(FakeModule::builder("images").build())
        .module(FakeModule::builder("vm").build())
        .module(FakeModule::builder("images").build())
        .build()
        .err()
        .expect("duplicate must be refused");
    assert!(
        matches!(&err, GcError::DuplicateModule { name } if name == "images"),
        "{err}"
    );
}

#[test]
fn empty_and_control_character_names_are_refused() {
    for bad in ["", "ima\nges", " vm"] {
        let result = Orchestrator::builder().module(FakeModule::builder(bad).build()).build();
        assert!(
            matches!(result, Err(GcError::InvalidModuleName { .. })),
            "{bad:?} accepted"
        );
    }
}

#[tokio::test]
async fn a_module_without_targets_is_not_asked_to_collect() {
    let (gc, handles) = host();
    let report = gc.run().await.unwrap();
    for (h, name) in handles[..2].iter().zip(["vm", "snapshot"]) {
        assert!(h.calls().contains(&Call::Resolve));
        assert!(h.collect_calls().is_empty(), "{name} was asked to collect nothing");
        assert_eq!(report.module(name).unwrap().status, ModuleStatus::NothingToDo);
        assert_eq!(report.module(name).unwrap().durations.collect, None);
    }
    // A second cycle finds nothing anywhere, and calls no collect at all.
    let again = gc.run().await.unwrap();
    assert_eq!(again.total_targets(), 0);
    assert_eq!(handles[2].collect_calls().len(), 1);
}

#[tokio::test]
async fn plan_returns_targets_with_reasons_and_collects_nothing() {
    let (gc, handles) = host();
    let plan = gc.plan().await.unwrap();
    assert!(plan.dry_run);
    let images = plan.module("images").unwrap();
    assert_eq!(images.status, ModuleStatus::Planned);
    let ids: Vec<&str> = images.planned.iter().map(|t| t.id.as_str()).collect();
    assert_eq!(ids, ["b4", "b5", "b6"]);
    assert!(
        images
            .planned
            .iter()
            .all(|t| t.reason == "not referenced by any other module")
    );
    assert_nothing_collected(&handles);
    assert_eq!(handles[2].objects().len(), 6);
    assert_no_lock_held(&handles);
    let text = plan.to_string();
    assert!(text.contains("- b4: not referenced by any other module"), "{text}");
    // A dry run shows no collect phase.
    assert!(
        text.contains("phases: acquire") && !text.contains(", collect "),
        "{text}"
    );
}

/// A locker that records the order in which the orchestrator tries locks.
struct Recording {
    name: &'static str,
    order: Arc<Mutex<Vec<&'static str>>>,
    inner: gc_core::LocalLocker,
}

#[async_trait]
impl Locker for Recording {
    async fn try_lock(&self) -> Result<Option<LockGuard>, LockError> {
        self.order.lock().unwrap().push(self.name);
        self.inner.try_lock().await
    }
    async fn lock(&self) -> Result<LockGuard, LockError> {
        self.inner.lock().await
    }
}

#[tokio::test]
async fn locks_are_taken_in_name_order_whatever_the_registration_order() {
    let order = Arc::new(Mutex::new(Vec::new()));
    let mut builder = Orchestrator::builder();
    for name in ["vm", "images", "snapshot", "network"] {
        let locker = Recording {
            name,
            order: Arc::clone(&order),
            inner: gc_core::LocalLocker::new(),
        };
        builder = builder.module(FakeModule::builder(name).locker(locker).build());
    }
    let gc = builder.build().unwrap();
    assert_eq!(
        gc.module_names().collect::<Vec<_>>(),
        ["images", "network", "snapshot", "vm"]
    );
    gc.run().await.unwrap();
    gc.run().await.unwrap();
    let order = order.lock().unwrap().clone();
    assert_eq!(
        order,
        [
            "images", "network", "snapshot", "vm", "images", "network", "snapshot", "vm"
        ]
    );
}

/// A locker whose try_lock panics.
struct Panicking;

#[async_trait]
impl Locker for Panicking {
    async fn try_lock(&self) -> Result<Option<LockGuard>, LockError> {
        panic!("locker bug")
    }
    async fn lock(&self) -> Result<LockGuard, LockError> {
        panic!("locker bug")
    }
}

#[tokio::test]
async fn a_panicking_locker_skips_its_module_and_the_others_are_released() {
    let ok = FakeModule::builder("a").objects(["x"]).build();
    let handle = ok.handle();
    let gc = Orchestrator::builder()
        .module(ok)
        .module(FakeModule::builder("b").locker(Panicking).build())
        .build()
        .unwrap();
    let err = gc.run().await.expect_err("must abort");
    assert!(err.to_string().contains("b (locker panicked: locker bug)"), "{err}");
    handle.locker().assert_all_released();
    assert_eq!(handle.objects(), ["x"]);
}

#[tokio::test(start_paused = true)]
async fn reads_run_concurrently() {
    let mut builder = Orchestrator::builder();
    for name in ["a", "b", "c", "d"] {
        let m = FakeModule::builder(name).build();
        m.handle().delay(Phase::Read, Duration::from_millis(100));
        builder = builder.module(m);
    }
    let gc = builder.build().unwrap();
    let start = tokio::time::Instant::now();
    let report = gc.run().await.unwrap();
    let took = start.elapsed();
    assert!(took < Duration::from_millis(150), "four 100 ms reads took {took:?}");
    assert!(report.phases.read >= Duration::from_millis(100));
}

#[tokio::test(start_paused = true)]
async fn collects_run_concurrently_and_a_hung_one_does_not_block_others_from_starting() {
    let a = FakeModule::builder("a").objects(["x"]).build();
    let b = FakeModule::builder("b").objects(["y"]).build();
    let (ha, hb) = (a.handle(), b.handle());
    ha.delay(Phase::Collect, Duration::from_millis(100));
    hb.delay(Phase::Collect, Duration::from_millis(100));
    let gc = Orchestrator::builder().module(a).module(b).build().unwrap();
    let start = tokio::time::Instant::now();
    gc.run().await.unwrap();
    assert!(start.elapsed() < Duration::from_millis(150));
    assert!(ha.objects().is_empty() && hb.objects().is_empty());
}

#[tokio::test]
async fn a_hanging_id_is_not_reported_collected() {
    let m = FakeModule::builder("a").objects(["x", "y"]).build();
    let h = m.handle();
    h.set_id_behaviour("y", IdBehaviour::Hang);
    let gc = Orchestrator::builder().module(m).build().unwrap();
    let timed = tokio::time::timeout(Duration::from_millis(50), gc.run()).await;
    assert!(timed.is_err(), "collect must hang");
    h.locker().assert_all_released();
}

#[tokio::test]
async fn the_report_serializes_with_statuses_and_durations() {
    let (gc, _handles) = host();
    let report = gc.run().await.unwrap();
    let json = serde_json::to_value(&report).unwrap();
    let modules = json["modules"].as_array().unwrap();
    let names: Vec<&str> = modules.iter().map(|m| m["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["images", "snapshot", "vm"]);
    assert_eq!(modules[0]["status"], "collected");
    assert_eq!(modules[0]["collected"], 3);
    assert_eq!(modules[1]["status"], "nothing_to_do");
    assert!(json["phases"]["total"].as_f64().unwrap() >= 0.0);
    assert!(modules[0]["durations"]["collect"].is_number());
    assert!(modules[1]["durations"]["collect"].is_null());
}

#[tokio::test]
async fn a_second_concurrent_run_on_the_same_orchestrator_finds_it_busy() {
    let (gc, handles) = host();
    handles[0].delay(Phase::Read, Duration::from_millis(50));
    let (first, second) = tokio::join!(gc.run(), async {
        handles[0].entered(Phase::Read).await;
        gc.run().await
    });
    first.expect("the first run proceeds");
    assert!(matches!(second, Err(GcError::Skipped { .. })), "{second:?}");
    assert_no_lock_held(&handles);
}

#[test]
fn the_run_future_is_send() {
    fn assert_send<T: Send>(_: &T) {}
    let (gc, _) = host();
    let fut = gc.run();
    assert_send(&fut);
}
