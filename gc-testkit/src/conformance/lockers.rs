//! What every [`Locker`] must do. Run [`all`] from your locker's tests:
//!
//! ```
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! gc_testkit::conformance::lockers::all(gc_core::LocalLocker::new()).await;
//! # });
//! ```
//!
//! The suites take a `Clone` locker: clones must share one lock, as the GC's
//! locker and a writer's locker of one store do.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use gc_core::{LockGuard, Locker};

/// How long a suite waits before it calls an acquisition stuck.
const PATIENCE: Duration = Duration::from_secs(10);

async fn try_lock_free<L: Locker>(locker: &L, what: &str) -> LockGuard {
    match locker.try_lock().await {
        Ok(Some(guard)) => guard,
        Ok(None) => panic!("{what}: try_lock on a free lock reported it busy"),
        Err(e) => panic!("{what}: try_lock on a free lock failed: {e}"),
    }
}

/// The lock is free: taking it works, and so does releasing it.
async fn assert_free<L: Locker>(locker: &L, what: &str) {
    try_lock_free(locker, what)
        .await
        .release()
        .await
        .unwrap_or_else(|e| panic!("{what}: release failed: {e}"));
}

async fn assert_busy<L: Locker>(locker: &L, what: &str) {
    match locker.try_lock().await {
        Ok(None) => {}
        Ok(Some(_)) => panic!("{what}: try_lock on a held lock returned a second guard"),
        Err(e) => panic!("{what}: try_lock on a held lock failed instead of returning None: {e}"),
    }
}

/// `try_lock` on a held lock returns `None`, from the holder's clone and
/// from another clone.
///
/// ```
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// gc_testkit::conformance::lockers::try_lock_on_held_is_none(gc_core::LocalLocker::new()).await;
/// # });
/// ```
pub async fn try_lock_on_held_is_none<L: Locker + Clone>(locker: L) {
    let what = "try_lock_on_held_is_none";
    let guard = try_lock_free(&locker, what).await;
    assert_busy(&locker, what).await;
    assert_busy(&locker.clone(), what).await;
    guard.release().await.expect("release failed");
}

/// An explicit release frees the lock.
///
/// ```
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// gc_testkit::conformance::lockers::release_frees(gc_core::LocalLocker::new()).await;
/// # });
/// ```
pub async fn release_frees<L: Locker>(locker: L) {
    let what = "release_frees";
    let guard = try_lock_free(&locker, what).await;
    guard.release().await.expect("release failed");
    assert_free(&locker, "release_frees: after release").await;
}

/// Dropping a guard frees the lock (the fallback when a cycle is cancelled).
///
/// ```
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// gc_testkit::conformance::lockers::drop_frees(gc_core::LocalLocker::new()).await;
/// # });
/// ```
pub async fn drop_frees<L: Locker>(locker: L) {
    let guard = try_lock_free(&locker, "drop_frees").await;
    drop(guard);
    assert_free(&locker, "drop_frees: after drop").await;
}

/// `lock()` waits while the lock is held and gets it once it is released.
///
/// ```
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// gc_testkit::conformance::lockers::lock_waits_for_release(gc_core::LocalLocker::new()).await;
/// # });
/// ```
pub async fn lock_waits_for_release<L: Locker + Clone + 'static>(locker: L) {
    let guard = try_lock_free(&locker, "lock_waits_for_release").await;
    let waiter = locker.clone();
    let waiting = tokio::spawn(async move { waiter.lock().await.map(drop) });
    tokio::time::sleep(Duration::from_millis(20)).await;
    assert!(
        !waiting.is_finished(),
        "lock_waits_for_release: lock() returned while the lock was held"
    );
    guard.release().await.expect("release failed");
    tokio::time::timeout(PATIENCE, waiting)
        .await
        .expect("lock_waits_for_release: lock() did not get the lock after it was released")
        .expect("lock_waits_for_release: the waiting task panicked")
        .expect("lock_waits_for_release: lock() failed");
}

/// A `lock()` dropped while it waits leaves nothing held.
///
/// ```
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// gc_testkit::conformance::lockers::dropped_waiting_lock_leaves_nothing_held(gc_core::LocalLocker::new()).await;
/// # });
/// ```
pub async fn dropped_waiting_lock_leaves_nothing_held<L: Locker>(locker: L) {
    let what = "dropped_waiting_lock_leaves_nothing_held";
    let guard = try_lock_free(&locker, what).await;
    let waited = tokio::time::timeout(Duration::from_millis(20), locker.lock()).await;
    assert!(waited.is_err(), "{what}: lock() returned while the lock was held");
    guard.release().await.expect("release failed");
    assert_free(
        &locker,
        "dropped_waiting_lock_leaves_nothing_held: after the waiter was dropped",
    )
    .await;
}

/// Tasks that lock clones of the locker never overlap.
///
/// ```
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// gc_testkit::conformance::lockers::mutual_exclusion_across_tasks(gc_core::LocalLocker::new()).await;
/// # });
/// ```
pub async fn mutual_exclusion_across_tasks<L: Locker + Clone + 'static>(locker: L) {
    const TASKS: usize = 8;
    const ROUNDS: usize = 20;
    let inside = Arc::new(AtomicUsize::new(0));
    let most = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for _ in 0..TASKS {
        let (locker, inside, most) = (locker.clone(), Arc::clone(&inside), Arc::clone(&most));
        tasks.push(tokio::spawn(async move {
            for _ in 0..ROUNDS {
                let guard = locker.lock().await.expect("lock failed");
                let now = inside.fetch_add(1, Ordering::SeqCst) + 1;
                most.fetch_max(now, Ordering::SeqCst);
                tokio::task::yield_now().await;
                inside.fetch_sub(1, Ordering::SeqCst);
                guard.release().await.expect("release failed");
            }
        }));
    }
    for task in tasks {
        tokio::time::timeout(PATIENCE, task)
            .await
            .expect("mutual_exclusion_across_tasks: a task did not finish")
            .expect("mutual_exclusion_across_tasks: a task panicked");
    }
    assert_eq!(
        most.load(Ordering::SeqCst),
        1,
        "mutual_exclusion_across_tasks: two holders were inside at once"
    );
}

/// Many rounds of try_lock, lock, release and drop leave nothing held.
///
/// ```
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// gc_testkit::conformance::lockers::many_rounds_leave_nothing_held(gc_core::LocalLocker::new()).await;
/// # });
/// ```
pub async fn many_rounds_leave_nothing_held<L: Locker>(locker: L) {
    for round in 0..200 {
        let guard = if round % 2 == 0 {
            try_lock_free(&locker, "many_rounds_leave_nothing_held").await
        } else {
            tokio::time::timeout(PATIENCE, locker.lock())
                .await
                .expect("many_rounds_leave_nothing_held: lock() on a free lock is stuck")
                .expect("lock failed")
        };
        if round % 3 == 0 {
            drop(guard);
        } else {
            guard.release().await.expect("release failed");
        }
    }
    assert_free(&locker, "many_rounds_leave_nothing_held: at the end").await;
}

/// `check()` confirms a guard that is held.
///
/// ```
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// gc_testkit::conformance::lockers::check_on_held_guard(gc_core::LocalLocker::new()).await;
/// # });
/// ```
pub async fn check_on_held_guard<L: Locker>(locker: L) {
    let guard = try_lock_free(&locker, "check_on_held_guard").await;
    if let Err(e) = guard.check().await {
        panic!("check_on_held_guard: check() on a held guard failed: {e}");
    }
    assert!(guard.is_held().await);
    guard.release().await.expect("release failed");
}

/// Two lockers built apart on one resource (two `FileLocker`s on one path,
/// two `PgLocker`s on one key: what two processes or two hosts hold)
/// exclude each other, share no state but the resource, and free it for
/// each other. Run it on every locker meant to exclude other processes;
/// [`all`] cannot, since clones of one locker may exclude each other in
/// process alone.
///
/// ```
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let dir = tempfile::tempdir().unwrap();
/// let path = dir.path().join("store.lock");
/// gc_testkit::conformance::lockers::separate_instances_exclude_each_other(
///     gc_core::FileLocker::new(&path),
///     gc_core::FileLocker::new(&path),
/// )
/// .await;
/// # });
/// ```
pub async fn separate_instances_exclude_each_other<L: Locker + 'static>(a: L, b: L) {
    let what = "separate_instances_exclude_each_other";
    let guard = try_lock_free(&a, what).await;
    assert_busy(&b, what).await;
    guard.release().await.expect("release failed");
    let guard = try_lock_free(&b, "separate_instances_exclude_each_other: after the other released").await;
    assert_busy(&a, what).await;
    drop(guard);

    // lock() on one waits for the other's guard, and gets the lock after.
    let guard = try_lock_free(&a, what).await;
    let b = Arc::new(b);
    let waiter = Arc::clone(&b);
    let waiting = tokio::spawn(async move { waiter.lock().await });
    tokio::time::sleep(Duration::from_millis(20)).await;
    assert!(
        !waiting.is_finished(),
        "{what}: lock() on one returned while the other held the lock"
    );
    guard.release().await.expect("release failed");
    let guard = tokio::time::timeout(PATIENCE, waiting)
        .await
        .unwrap_or_else(|_| panic!("{what}: lock() did not get the lock after the other released it"))
        .expect("the waiting task panicked")
        .expect("lock failed");
    assert_busy(&a, what).await;
    guard.release().await.expect("release failed");
    assert_free(&a, "separate_instances_exclude_each_other: at the end").await;
}

/// Every suite of this module, one after the other.
///
/// ```
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// gc_testkit::conformance::lockers::all(gc_core::LocalLocker::new()).await;
/// # });
/// ```
pub async fn all<L: Locker + Clone + 'static>(locker: L) {
    try_lock_on_held_is_none(locker.clone()).await;
    release_frees(locker.clone()).await;
    drop_frees(locker.clone()).await;
    lock_waits_for_release(locker.clone()).await;
    dropped_waiting_lock_leaves_nothing_held(locker.clone()).await;
    mutual_exclusion_across_tasks(locker.clone()).await;
    many_rounds_leave_nothing_held(locker.clone()).await;
    check_on_held_guard(locker).await;
}
