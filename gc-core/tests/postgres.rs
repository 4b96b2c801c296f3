//! PgLocker against a real PostgreSQL. The server's URL comes from
//! GC_TEST_POSTGRES_URL (`.ci/postgres.sh` starts one and prints it). Without
//! it the tests skip with a message; under CI=true they fail instead.
#![cfg(feature = "postgres")]

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use gc_core::{GcError, LockError, Locker, Orchestrator, PgLocker, Phase};
use gc_testkit::FakeModule;
use gc_testkit::conformance::lockers;

fn url() -> Option<String> {
    match std::env::var("GC_TEST_POSTGRES_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ if std::env::var("CI").as_deref() == Ok("true") => {
            panic!("CI=true but GC_TEST_POSTGRES_URL is not set: .ci/run must start PostgreSQL (.ci/postgres.sh)")
        }
        _ => {
            // Straight to the process's stderr: libtest would swallow an
            // eprintln! of a passing test.
            use std::io::Write;
            let _ = writeln!(
                std::io::stderr(),
                "\n*** SKIPPED: PostgreSQL tests need GC_TEST_POSTGRES_URL; run \
                 `export GC_TEST_POSTGRES_URL=$(sudo bash .ci/postgres.sh)` (docs/multi-host.md) ***"
            );
            None
        }
    }
}

/// A lock name of its own for each test, so that tests run in parallel.
fn locker(url: &str) -> PgLocker {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let name = format!("test-{}-{}", std::process::id(), NEXT.fetch_add(1, Ordering::SeqCst));
    PgLocker::new(url, "gc-core-tests", &name).unwrap()
}

async fn client(url: &str) -> tokio_postgres::Client {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls).await.unwrap();
    tokio::spawn(connection);
    client
}

#[tokio::test]
async fn pg_locker_conforms() {
    let Some(url) = url() else { return };
    lockers::all(locker(&url)).await;
}

#[tokio::test]
async fn two_lockers_on_one_key_exclude_each_other_across_sessions() {
    let Some(url) = url() else { return };
    // Two lockers built apart, as two hosts would: only the server excludes.
    let a = PgLocker::new(&url, "gc-core-tests", "two-lockers").unwrap();
    let b = PgLocker::from_config(url.parse().unwrap(), "gc-core-tests", "two-lockers");
    assert_eq!(a.key(), b.key());
    lockers::separate_instances_exclude_each_other(a, b).await;
}

#[tokio::test]
async fn a_terminated_backend_makes_check_report_the_lock_lost() {
    let Some(url) = url() else { return };
    let locker = locker(&url);
    let guard = locker.try_lock().await.unwrap().unwrap();
    guard.check().await.expect("held");
    let admin = client(&url).await;
    let low = locker.key() & 0xffff_ffff;
    let killed: i64 = admin
        .query_one(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_locks \
             WHERE locktype = 'advisory' AND objid::bigint = $1",
            &[&low],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(killed, 1);
    let err = guard.check().await.expect_err("the session is gone");
    assert!(matches!(err, LockError::Lost { .. }), "{err}");
    // The server freed the lock with the session.
    locker
        .try_lock()
        .await
        .unwrap()
        .expect("free again")
        .release()
        .await
        .unwrap();
}

#[tokio::test]
async fn a_lock_killed_during_a_cycle_means_nothing_is_collected() {
    let Some(url) = url() else { return };
    let pg = locker(&url);
    let key = pg.key();
    let module = FakeModule::builder("images").objects(["b1", "b2"]).locker(pg).build();
    let h = module.handle();
    h.delay(Phase::Read, Duration::from_millis(200));
    let gc = Orchestrator::builder().module(module).build().unwrap();
    let admin = client(&url).await;
    let (result, ()) = tokio::join!(gc.run(), async {
        h.entered(Phase::Read).await;
        admin
            .execute(
                "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND objid::bigint = $1",
                &[&(key & 0xffff_ffff)],
            )
            .await
            .unwrap();
    });
    match result {
        Err(GcError::LockLost { lost }) => assert_eq!(lost[0].module, "images"),
        other => panic!("expected LockLost, got {other:?}"),
    }
    assert_eq!(h.objects(), ["b1", "b2"]);
}

#[tokio::test]
async fn a_dead_server_is_a_clear_error_that_names_it_and_never_the_password() {
    // Port 1 on loopback: nothing listens there.
    let locker = PgLocker::new("postgres://gc:supersecret@127.0.0.1:1/fleet", "ns", "m").unwrap();
    let err = locker.try_lock().await.expect_err("no server");
    let text = err.to_string();
    assert!(text.contains("127.0.0.1:1/fleet as gc"), "{text}");
    assert!(!text.contains("supersecret"), "{text}");
    let err = locker.lock().await.expect_err("lock() fails too, rather than wait");
    assert!(!err.to_string().contains("supersecret"));
    assert!(!format!("{locker:?}").contains("supersecret"));
}

#[test]
fn the_advisory_key_is_pinned() {
    // Changing the key derivation would let two versions of this crate on two
    // hosts take different locks for the same store: never change these.
    // (Checked against an independent FNV-1a in Python.)
    assert_eq!(PgLocker::advisory_key("vmhost", "images"), -6_147_368_976_710_132_716);
    assert_eq!(PgLocker::advisory_key("gc", "vm"), -5_378_107_557_339_783_804);
}
