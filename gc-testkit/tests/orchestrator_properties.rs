//! A property test of the orchestrator: random modules, stores and
//! cross-module references, random busy locks, lock errors, failing reads
//! and failing IDs. On every case the safety model holds (no referenced ID
//! collected, nothing collected in an aborted cycle, no lock left held) and
//! so does liveness (with every lock free and every read succeeding, every
//! unreferenced ID is collected, save those whose removal was made to fail).
//!
//! 2,000 cases by default; set GC_PROPTEST_CASES for more.

use std::collections::BTreeSet;

use gc_core::{GcError, Orchestrator, RefKind};
use gc_testkit::{FakeHandle, FakeModule};
use proptest::collection::{btree_set, vec};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

pub struct Refs;
impl RefKind for Refs {
    type Id = String;
}

#[derive(Debug, Clone)]
struct Spec {
    objects: BTreeSet<u8>,
    provides: BTreeSet<u8>,
    consumes: bool,
    busy: bool,
    lock_error: bool,
    read_fails: bool,
    failing: BTreeSet<u8>,
    plan_first: bool,
}

fn flag(percent: u32) -> impl Strategy<Value = bool> {
    (0..100u32).prop_map(move |x| x < percent)
}

fn spec() -> impl Strategy<Value = Spec> {
    // A universe of 16 IDs shared by every module, so references cross.
    (
        btree_set(0u8..16, 0..8),
        btree_set(0u8..16, 0..6),
        any::<bool>(),
        flag(10),
        flag(5),
        flag(10),
        btree_set(0u8..16, 0..3),
        flag(30),
    )
        .prop_map(
            |(objects, provides, consumes, busy, lock_error, read_fails, failing, plan_first)| Spec {
                objects,
                provides,
                consumes,
                busy,
                lock_error,
                read_fails,
                failing,
                plan_first,
            },
        )
}

fn ids(set: &BTreeSet<u8>) -> BTreeSet<String> {
    set.iter().map(|i| format!("o{i}")).collect()
}

fn cases() -> u32 {
    std::env::var("GC_PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2000)
}

async fn check(specs: Vec<Spec>) -> Result<(), TestCaseError> {
    let mut builder = Orchestrator::builder();
    let mut handles: Vec<FakeHandle> = Vec::new();
    for (i, s) in specs.iter().enumerate() {
        let mut b = FakeModule::builder(format!("m{i}"))
            .objects(ids(&s.objects))
            .provides::<Refs>(ids(&s.provides));
        if s.consumes {
            b = b.consumes::<Refs>();
        }
        let m = b.build();
        let h = m.handle();
        for f in ids(&s.failing) {
            h.fail_id(f, "scripted failure");
        }
        if s.read_fails {
            h.fail_read(Some("scripted read failure"));
        }
        if s.lock_error {
            h.locker().fail_next("scripted lock failure");
        }
        handles.push(h);
        builder = builder.module(m);
    }
    let gc = builder.build().map_err(|e| TestCaseError::fail(e.to_string()))?;

    // "Another operation" holds the busy modules' locks during the cycle.
    let mut holders = Vec::new();
    for (s, h) in specs.iter().zip(&handles) {
        if s.busy {
            holders.push(h.locker().hold().await);
        }
    }
    let plan_first = specs.iter().any(|s| s.plan_first);
    if plan_first {
        let _ = gc.plan().await;
        for (s, h) in specs.iter().zip(&handles) {
            prop_assert_eq!(
                h.objects().into_iter().collect::<BTreeSet<_>>(),
                ids(&s.objects),
                "plan changed a store"
            );
        }
    }
    let result = gc.run().await;
    drop(holders);

    let lock_trouble = specs.iter().any(|s| s.busy || (s.lock_error && !plan_first));
    let read_trouble = specs.iter().any(|s| s.read_fails);
    let aborted = lock_trouble || read_trouble;
    for (i, (s, h)) in specs.iter().zip(&handles).enumerate() {
        let after: BTreeSet<String> = h.objects().into_iter().collect();
        let before = ids(&s.objects);
        // The IDs some other module references: what a consumer must keep.
        let referenced: BTreeSet<String> = specs
            .iter()
            .enumerate()
            .filter(|(j, _)| *j != i)
            .flat_map(|(_, o)| ids(&o.provides))
            .collect();
        if aborted {
            prop_assert!(h.collect_calls().is_empty(), "m{i} collected in an aborted cycle");
            prop_assert_eq!(&after, &before, "m{} changed in an aborted cycle", i);
        } else {
            let kept: BTreeSet<String> = if s.consumes {
                before.intersection(&referenced).cloned().collect()
            } else {
                BTreeSet::new()
            };
            // Safety: every referenced ID of a consumer is still there.
            prop_assert!(
                kept.is_subset(&after),
                "m{i} lost a referenced ID: kept {kept:?}, after {after:?}"
            );
            // Liveness: everything else went, but for the failing IDs.
            let failing: BTreeSet<String> = before.intersection(&ids(&s.failing)).cloned().collect();
            let expected: BTreeSet<String> = kept.union(&failing).cloned().collect();
            prop_assert_eq!(&after, &expected, "m{} did not collect its garbage", i);
        }
        h.locker().assert_all_released();
    }
    match (&result, aborted) {
        (Err(GcError::Skipped { .. }), true) if lock_trouble => {}
        (Err(GcError::ReadFailed { .. }), true) if !lock_trouble => {}
        (Ok(_), false) => {}
        (other, _) => return Err(TestCaseError::fail(format!("unexpected outcome {other:?}"))),
    }
    Ok(())
}

#[test]
fn the_safety_model_and_liveness_hold_on_random_hosts() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut runner = TestRunner::new(Config {
        cases: cases(),
        failure_persistence: None,
        ..Config::default()
    });
    let result = runner.run(&vec(spec(), 1..6), |specs| rt.block_on(check(specs)));
    if let Err(e) = result {
        panic!("{e}");
    }
}
