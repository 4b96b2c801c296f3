//! The multi-host example's fleet on a real PostgreSQL: two GC worker
//! processes and a writer on one database; exactly one cycle runs at a time
//! and nothing pinned is deleted. Needs GC_TEST_POSTGRES_URL (see
//! gc-core/tests/postgres.rs for the skip rules).

use std::io::Write;
use std::process::Stdio;

use gc_examples::fleet;

const WORKER_ENV: &str = "GC_FLEET_TEST_WORKER";

fn url() -> Option<String> {
    match std::env::var("GC_TEST_POSTGRES_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ if std::env::var("CI").as_deref() == Ok("true") => {
            panic!("CI=true but GC_TEST_POSTGRES_URL is not set: .ci/run must start PostgreSQL (.ci/postgres.sh)")
        }
        _ => {
            let _ = writeln!(
                std::io::stderr(),
                "\n*** SKIPPED: the multi-host test needs GC_TEST_POSTGRES_URL (docs/multi-host.md) ***"
            );
            None
        }
    }
}

/// Not a test of its own: the body of a worker process, started by
/// `two_worker_processes_...` with its number in WORKER_ENV.
#[test]
fn worker_helper() {
    let Ok(worker) = std::env::var(WORKER_ENV) else { return };
    let (url, schema) = (
        std::env::var("GC_TEST_POSTGRES_URL").unwrap(),
        std::env::var("GC_FLEET_SCHEMA").unwrap(),
    );
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(fleet::run_worker(&url, &schema, worker.parse().unwrap(), 10))
        .unwrap();
}

#[tokio::test]
async fn two_worker_processes_run_one_cycle_at_a_time_and_keep_what_is_pinned() {
    let Some(url) = url() else { return };
    let schema = format!("gc_fleet_test_{}", std::process::id());
    let db = fleet::connect(&url).await.unwrap();
    fleet::create(&db, &schema).await.unwrap();

    let mut workers = Vec::new();
    for worker in 1..=2 {
        workers.push(
            tokio::process::Command::new(std::env::current_exe().unwrap())
                .args(["--exact", "worker_helper", "--test-threads=1"])
                .env(WORKER_ENV, worker.to_string())
                .env("GC_FLEET_SCHEMA", &schema)
                .stdout(Stdio::null())
                .spawn()
                .unwrap(),
        );
    }
    let mut writes = 0;
    let done = async {
        let mut ok = true;
        for w in &mut workers {
            ok &= w.wait().await.unwrap().success();
        }
        ok
    };
    tokio::pin!(done);
    let ok = loop {
        tokio::select! {
            ok = &mut done => break ok,
            written = fleet::write_once(&url, &db, &schema, writes + 1) => {
                written.unwrap();
                writes += 1;
            }
        }
    };
    assert!(ok, "a worker process failed");
    assert!(writes > 0);

    let outcome = fleet::check(&url, &schema).await.unwrap();
    assert_eq!(outcome.workers.len(), 2, "{outcome:?}");
    assert!(outcome.workers.iter().all(|w| w.1 == 10), "{outcome:?}");
    assert_eq!(outcome.overlaps, 0, "two cycles ran at once: {outcome:?}");
    assert_eq!(outcome.pinned_lost, 0, "a pinned blob was deleted: {outcome:?}");
    assert_eq!(outcome.garbage_left, 0, "{outcome:?}");
    db.batch_execute(&format!("DROP SCHEMA {schema} CASCADE"))
        .await
        .unwrap();
}
