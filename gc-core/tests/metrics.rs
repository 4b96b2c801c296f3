//! The metrics a cycle records through the `metrics` facade (feature
//! `metrics`), by the names docs/daemon.md lists.
#![cfg(feature = "metrics")]

use gc_core::Orchestrator;
use gc_testkit::FakeModule;
use metrics_util::debugging::{DebugValue, DebuggingRecorder};

#[test]
fn a_cycle_records_outcomes_ids_and_phase_durations() {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    metrics::with_local_recorder(&recorder, || {
        rt.block_on(async {
            let m = FakeModule::builder("images").objects(["a", "b", "c"]).build();
            let h = m.handle();
            h.fail_id("c", "busy");
            let gc = Orchestrator::builder().module(m).build().unwrap();
            gc.run().await.unwrap();
            let writer = h.locker().hold().await;
            let _ = gc.run().await;
            drop(writer);
        })
    });
    let mut seen = std::collections::BTreeMap::new();
    for (key, _, _, value) in snapshotter.snapshot().into_vec() {
        let labels: Vec<String> = key
            .key()
            .labels()
            .map(|l| format!("{}={}", l.key(), l.value()))
            .collect();
        let name = format!("{}{{{}}}", key.key().name(), labels.join(","));
        seen.insert(name, value);
    }
    let counter = |name: &str| match seen.get(name) {
        Some(DebugValue::Counter(n)) => *n,
        other => panic!("{name}: {other:?} in {:?}", seen.keys().collect::<Vec<_>>()),
    };
    assert_eq!(counter("gc_cycles_total{outcome=collect_failed}"), 1);
    assert_eq!(counter("gc_cycles_total{outcome=busy}"), 1);
    assert_eq!(counter("gc_ids_collected_total{module=images}"), 2);
    assert_eq!(counter("gc_ids_failed_total{module=images}"), 1);
    for phase in ["acquire", "read", "resolve", "collect", "release"] {
        let name = format!("gc_phase_duration_seconds{{phase={phase}}}");
        assert!(
            matches!(seen.get(&name), Some(DebugValue::Histogram(v)) if v.len() == 2),
            "{name}"
        );
    }
    assert!(matches!(
        seen.get("gc_cycle_duration_seconds{}"),
        Some(DebugValue::Histogram(_))
    ));
    assert!(matches!(
        seen.get("gc_targets{module=images}"),
        Some(DebugValue::Gauge(_))
    ));
}
