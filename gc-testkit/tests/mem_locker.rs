//! MemLocker passes the locker conformance suite, and its controls work.

use std::time::Duration;

use gc_core::{GcError, Locker, Orchestrator, SkipReason};
use gc_testkit::conformance::lockers;
use gc_testkit::{FakeModule, LockStats, MemLocker};

#[tokio::test]
async fn mem_locker_conforms() {
    let (locker, handle) = MemLocker::new();
    lockers::all(locker).await;
    handle.assert_all_released();
}

#[tokio::test]
async fn counts_busy_failed_acquired_and_released() {
    let (locker, handle) = MemLocker::new();
    let held = handle.hold().await;
    assert!(locker.try_lock().await.unwrap().is_none());
    drop(held);
    handle.fail_next("one");
    handle.fail_next("two");
    assert!(locker.try_lock().await.is_err());
    assert!(locker.lock().await.is_err());
    let guard = locker.try_lock().await.unwrap().unwrap();
    assert_eq!(
        handle.stats(),
        LockStats {
            acquired: 2,
            released: 1,
            busy: 1,
            failed: 2
        }
    );
    guard.release().await.unwrap();
    handle.assert_all_released();
}

#[tokio::test]
#[should_panic(expected = "lock still held: acquired 1 times, released 0 times")]
async fn assert_all_released_catches_a_leak() {
    let (locker, handle) = MemLocker::new();
    let guard = locker.lock().await.unwrap();
    handle.assert_all_released();
    drop(guard);
}

#[tokio::test]
async fn lose_lease_fails_check_of_earlier_guards_only() {
    let (locker, handle) = MemLocker::new();
    let old = locker.lock().await.unwrap();
    handle.lose_lease();
    assert!(!old.is_held().await);
    old.release().await.unwrap();
    let new = locker.lock().await.unwrap();
    assert!(new.is_held().await);
    new.release().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn delay_slows_acquisition() {
    let (locker, handle) = MemLocker::new();
    handle.delay(Duration::from_secs(5));
    let start = tokio::time::Instant::now();
    locker.try_lock().await.unwrap().unwrap().release().await.unwrap();
    assert!(start.elapsed() >= Duration::from_secs(5));
}

#[tokio::test]
async fn a_held_mem_locker_makes_its_fake_module_busy() {
    let m = FakeModule::builder("images").objects(["b"]).build();
    let h = m.handle();
    let gc = Orchestrator::builder().module(m).build().unwrap();
    let writer = h.locker().hold().await;
    let err = gc.run().await.unwrap_err();
    assert!(matches!(&err, GcError::Skipped { skipped } if matches!(skipped[0].reason, SkipReason::Busy)));
    drop(writer);
    gc.run().await.unwrap();
    assert!(h.objects().is_empty());
    h.locker().assert_all_released();
}
