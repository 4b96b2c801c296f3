//! The lockers of gc-core: the conformance suite, and what is particular to
//! FileLocker (missing directories, other processes, replaced lock files).

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};

use gc_core::{FileLocker, GcError, LocalLocker, LockError, Locker, Orchestrator, SkipReason};
use gc_testkit::FakeModule;
use gc_testkit::conformance::lockers;

/// When set, the test `hold_lock_helper` holds a FileLocker on this path.
const HOLD_ENV: &str = "GC_CORE_TEST_HOLD_LOCK";

#[tokio::test]
async fn local_locker_conforms() {
    lockers::all(LocalLocker::new()).await;
}

#[tokio::test]
async fn file_locker_conforms() {
    let dir = tempfile::tempdir().unwrap();
    lockers::all(FileLocker::new(dir.path().join("store.lock"))).await;
}

#[tokio::test]
async fn two_file_lockers_on_one_path_exclude_each_other() {
    // Separate instances share no in-process lock: only flock excludes.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.lock");
    lockers::separate_instances_exclude_each_other(FileLocker::new(&path), FileLocker::new(&path)).await;
}

#[tokio::test]
async fn a_missing_lock_directory_is_an_error_naming_it_and_is_not_created() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("not-mounted");
    let locker = FileLocker::new(missing.join("images.lock"));
    let err = locker.try_lock().await.expect_err("must fail");
    assert!(
        matches!(&err, LockError::MissingDirectory { dir, .. } if *dir == missing),
        "{err}"
    );
    assert!(err.to_string().contains(&missing.display().to_string()), "{err}");
    assert!(!missing.exists(), "the directory was created");
    let err = locker.lock().await.expect_err("lock() must fail too, not wait");
    assert!(matches!(err, LockError::MissingDirectory { .. }));

    // In a cycle, the module is skipped with that reason.
    let gc = Orchestrator::builder()
        .module(FakeModule::builder("images").locker(locker).build())
        .build()
        .unwrap();
    let err = gc.run().await.expect_err("must abort");
    assert!(err.to_string().contains("does not exist"), "{err}");
}

#[tokio::test]
async fn check_reports_a_removed_or_replaced_lock_file_as_lost() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.lock");
    let locker = FileLocker::new(&path);
    let guard = locker.try_lock().await.unwrap().unwrap();
    guard.check().await.expect("held");
    std::fs::remove_file(&path).unwrap();
    assert!(matches!(guard.check().await, Err(LockError::Lost { .. })));
    std::fs::write(&path, b"").unwrap(); // someone else's new lock file
    let err = guard.check().await.expect_err("replaced");
    assert!(err.to_string().contains("replaced"), "{err}");
    guard.release().await.unwrap();
}

/// Not a test of its own: the body of the second process. It does nothing
/// unless started by `spawn_holder` with the path in `HOLD_ENV`.
#[test]
fn hold_lock_helper() {
    let Ok(path) = std::env::var(HOLD_ENV) else {
        return;
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let guard = FileLocker::new(path)
            .try_lock()
            .await
            .unwrap()
            .expect("helper: lock busy");
        // libtest may print on the same line first: the parent looks for the word.
        println!("\nLOCKED-BY-HELPER");
        std::io::stdout().flush().unwrap();
        // Hold until the parent closes our stdin.
        let mut line = String::new();
        let _ = std::io::stdin().read_line(&mut line);
        guard.release().await.unwrap();
    });
}

fn spawn_holder(path: &std::path::Path) -> Child {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "hold_lock_helper", "--nocapture", "--test-threads=1"])
        .env(HOLD_ENV, path)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    while out.read_line(&mut line).unwrap() > 0 {
        if line.contains("LOCKED-BY-HELPER") {
            // Drain the rest, so that the helper's last words meet no broken pipe.
            std::thread::spawn(move || std::io::copy(&mut out, &mut std::io::sink()));
            return child;
        }
        line.clear();
    }
    let _ = child.kill();
    let status = child.wait();
    panic!("the helper process exited without taking the lock: {status:?}");
}

#[tokio::test]
async fn a_file_lock_held_by_another_process_makes_the_module_busy() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("images.lock");
    let mut holder = spawn_holder(&path);

    let images = FakeModule::builder("images")
        .objects(["b1"])
        .locker(FileLocker::new(&path))
        .build();
    let handle = images.handle();
    let gc = Orchestrator::builder().module(images).build().unwrap();
    match gc.run().await {
        Err(GcError::Skipped { skipped }) => {
            assert_eq!(skipped[0].module, "images");
            assert!(matches!(skipped[0].reason, SkipReason::Busy));
        }
        other => panic!("another process holds the lock, yet: {other:?}"),
    }
    assert!(!handle.was_read());
    assert_eq!(handle.objects(), ["b1"]);

    drop(holder.stdin.take()); // the helper releases and exits
    assert!(holder.wait().unwrap().success());
    let report = gc.run().await.expect("free now");
    assert_eq!(report.total_collected(), 1);
}

#[tokio::test]
async fn a_file_lock_is_freed_when_its_process_is_killed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("images.lock");
    let mut holder = spawn_holder(&path);
    let locker = FileLocker::new(&path);
    assert!(locker.try_lock().await.unwrap().is_none());
    holder.kill().unwrap();
    holder.wait().unwrap();
    let guard = locker
        .try_lock()
        .await
        .unwrap()
        .expect("the kernel frees a dead process's flock");
    guard.release().await.unwrap();
}
