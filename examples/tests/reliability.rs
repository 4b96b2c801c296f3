//! Proof under load and faults, on the quickstart's VM host on disk:
//! concurrent writer tasks, several processes sharing the store through
//! FileLocker, and a GC process killed with SIGKILL during collect, again and
//! again. Each test prints its figures; docs/reliability.md lists them.
//! GC_RELIABILITY_LONG=1 runs longer variants.

use std::collections::HashSet;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use gc_core::{Event, FileLocker, GcError, GcModule, Locker, Orchestrator, RunOptions};
use gc_examples::vmhost::{self, VmHost};

const ROLE: &str = "GC_RELIABILITY_ROLE";
const ROOT: &str = "GC_RELIABILITY_ROOT";

fn long() -> bool {
    std::env::var("GC_RELIABILITY_LONG").is_ok_and(|v| v == "1")
}

/// Figures go straight to stderr: libtest would hide them for a passing test.
fn figure(text: String) {
    let _ = writeln!(std::io::stderr(), "reliability: {text}");
}

/// One writer round: a VM on a fresh image; every other round, the VM and
/// image of an earlier round are deleted, orphaning their blobs.
async fn write_round(host: &VmHost, tag: &str, round: u32) -> anyhow::Result<()> {
    let blobs = host
        .images
        .add_image(&format!("img-{tag}-{round}"), &[&format!("layer-{tag}-{round}")])
        .await?;
    host.vms.create_vm(&format!("vm-{tag}-{round}"), &blobs).await?;
    if round.is_multiple_of(2) && round >= 4 {
        host.vms.delete_vm(&format!("vm-{tag}-{}", round - 3)).await?;
        host.images.remove_image(&format!("img-{tag}-{}", round - 3)).await?;
    }
    Ok(())
}

/// The blobs live VMs and snapshots pin, the blobs the image index lists,
/// and the blobs on disk.
async fn census(host: &VmHost) -> (HashSet<String>, HashSet<String>, HashSet<String>) {
    let vms = host.vms.read().await.unwrap();
    let snaps = host.snapshots.read().await.unwrap();
    let images = host.images.read().await.unwrap();
    let pinned = vms.blobs.union(&snaps.blobs).cloned().collect();
    (pinned, images.indexed.clone(), images.on_disk.iter().cloned().collect())
}

/// No pinned blob is gone.
async fn assert_pins_kept(host: &VmHost) -> usize {
    let (pinned, _, on_disk) = census(host).await;
    let lost: Vec<_> = pinned.difference(&on_disk).collect();
    assert!(lost.is_empty(), "pinned blobs lost: {lost:?}");
    pinned.len()
}

/// After a last cycle with nothing running beside it, no garbage is left.
async fn assert_last_cycle_finishes(host: &VmHost) {
    // Most of the store may be garbage by now: the guard is for surprises,
    // and this clean-up is intended.
    let report = host
        .orchestrator()
        .unwrap()
        .run_with(RunOptions::new().allow_mass_deletion())
        .await
        .unwrap();
    report.check().unwrap();
    let (pinned, indexed, on_disk) = census(host).await;
    let garbage: Vec<_> = on_disk
        .iter()
        .filter(|b| !pinned.contains(*b) && !indexed.contains(*b))
        .collect();
    assert!(
        garbage.is_empty(),
        "{} orphaned blobs left after the last cycle",
        garbage.len()
    );
    for module in ["vm", "snapshot", "images", "network"] {
        let lock = FileLocker::new(host.root.join(module).join(".lock"));
        let guard = lock.try_lock().await.unwrap();
        assert!(guard.is_some(), "the {module} lock is still held");
    }
}

async fn demo() -> (tempfile::TempDir, VmHost) {
    let dir = tempfile::tempdir().unwrap();
    let host = VmHost::create(dir.path()).unwrap();
    vmhost::seed(&host).await.unwrap();
    (dir, host)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_writers_never_lose_a_pinned_blob() {
    let (_dir, host) = demo().await;
    let (writers, rounds) = if long() { (8, 200) } else { (4, 40) };
    let start = Instant::now();
    let mut tasks = Vec::new();
    for w in 0..writers {
        let host = host.clone();
        tasks.push(tokio::spawn(async move {
            for round in 1..=rounds {
                write_round(&host, &format!("w{w}"), round).await.unwrap();
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        }));
    }
    // Writers hold the locks most of the time: the cycle waits for them,
    // in the fixed order, rather than giving up at the first busy one.
    let gc = Orchestrator::builder()
        .module(host.vms.clone())
        .module(host.snapshots.clone())
        .module(host.images.clone())
        .module(host.network.clone())
        .wait_for_locks(Duration::from_millis(500))
        .build()
        .unwrap();
    let (mut cycles, mut busy, mut collected) = (0, 0, 0);
    while !tasks.iter().all(|t| t.is_finished()) {
        match gc.run().await {
            Ok(report) => {
                report.check().unwrap();
                cycles += 1;
                collected += report.total_collected();
            }
            Err(GcError::Skipped { .. }) => busy += 1,
            Err(e) => panic!("{e}"),
        }
        // A pin is checked only while no writer is mid-update: under a lock.
        let guard = host.images.locker().lock().await.unwrap();
        let vm_guard = host.vms.locker().lock().await.unwrap();
        assert_pins_kept(&host).await;
        vm_guard.release().await.unwrap();
        guard.release().await.unwrap();
        tokio::task::yield_now().await;
    }
    for t in tasks {
        t.await.unwrap();
    }
    let pinned = assert_pins_kept(&host).await;
    assert_last_cycle_finishes(&host).await;
    assert!(cycles > 0, "no cycle ran beside the writers");
    figure(format!(
        "concurrent writers: {writers} writers x {rounds} rounds, {cycles} cycles ran and {busy} found a lock busy, \
         {collected} IDs collected, {pinned} blobs pinned at the end, 0 lost, {:.1} s",
        start.elapsed().as_secs_f64()
    ));
}

/// The roles of the child processes; does nothing unless started by a test.
#[test]
fn helper() {
    let Ok(role) = std::env::var(ROLE) else { return };
    let root = std::env::var(ROOT).unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let host = VmHost::open(Path::new(&root)).unwrap();
        match role.as_str() {
            "writer" => {
                let rounds: u32 = std::env::var("ROUNDS").unwrap().parse().unwrap();
                for round in 1..=rounds {
                    write_round(&host, &format!("p{}", std::process::id()), round)
                        .await
                        .unwrap();
                }
            }
            "gc" => {
                let cycles: u32 = std::env::var("CYCLES").unwrap().parse().unwrap();
                let gc = host.orchestrator().unwrap();
                let (mut done, mut busy) = (0, 0);
                while done < cycles {
                    match gc.run().await {
                        Ok(report) => {
                            report.check().unwrap();
                            done += 1;
                        }
                        Err(GcError::Skipped { .. }) => {
                            busy += 1;
                            tokio::time::sleep(Duration::from_millis(2)).await;
                        }
                        Err(e) => panic!("{e}"),
                    }
                }
                println!("\nRESULT cycles={done} busy={busy}");
            }
            "crash-gc" => {
                // Announces each collect of images, then keeps cycling until killed.
                let gc = Orchestrator::builder()
                    .module(host.vms.clone())
                    .module(host.snapshots.clone())
                    .module(host.images.clone())
                    .module(host.network.clone())
                    .no_mass_deletion_guard()
                    .observer(|e: &Event| {
                        if let Event::CollectStarted { module, .. } = e
                            && module == "images"
                        {
                            println!("\nCOLLECTING");
                            let _ = std::io::stdout().flush();
                        }
                    })
                    .build()
                    .unwrap();
                loop {
                    let _ = gc.run().await;
                }
            }
            other => panic!("unknown role {other}"),
        }
    });
}

fn spawn(role: &str, root: &Path, vars: &[(&str, String)]) -> Child {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args(["--exact", "helper", "--nocapture", "--test-threads=1"])
        .env(ROLE, role)
        .env(ROOT, root)
        .stdin(Stdio::null())
        .stdout(Stdio::piped());
    for (k, v) in vars {
        cmd.env(k, v);
    }
    cmd.spawn().unwrap()
}

fn output_line(child: &mut Child, prefix: &str) -> Option<String> {
    let out = child.stdout.as_mut()?;
    let mut reader = BufReader::new(out);
    let mut line = String::new();
    while reader.read_line(&mut line).ok()? > 0 {
        if let Some(pos) = line.find(prefix) {
            return Some(line[pos..].trim().to_owned());
        }
        line.clear();
    }
    None
}

#[tokio::test]
async fn two_gc_processes_and_a_writer_process_share_one_store() {
    let (_dir, host) = demo().await;
    let (cycles, rounds) = if long() { (200, 300) } else { (30, 60) };
    let start = Instant::now();
    let mut gcs = [
        spawn("gc", &host.root, &[("CYCLES", cycles.to_string())]),
        spawn("gc", &host.root, &[("CYCLES", cycles.to_string())]),
    ];
    let mut writer = spawn("writer", &host.root, &[("ROUNDS", rounds.to_string())]);
    let mut results = Vec::new();
    for gc in &mut gcs {
        results.push(output_line(gc, "RESULT").expect("a GC process ended without its result"));
        assert!(gc.wait().unwrap().success());
    }
    assert!(writer.wait().unwrap().success());
    let pinned = assert_pins_kept(&host).await;
    assert_last_cycle_finishes(&host).await;
    figure(format!(
        "several processes: 2 GC processes ({}) and 1 writer process ({rounds} rounds), {pinned} blobs pinned at \
         the end, 0 lost, {:.1} s",
        results.join("; "),
        start.elapsed().as_secs_f64()
    ));
}

/// A small deterministic generator for kill delays.
struct Lcg(u64);
impl Lcg {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % n
    }
}

#[tokio::test]
async fn a_gc_process_killed_during_collect_loses_nothing_and_the_next_cycle_finishes() {
    let (_dir, host) = demo().await;
    let kills = if long() { 100 } else { 15 };
    let mut rng = Lcg(0x5eed);
    let (mut planted, mut killed_while_collecting) = (0, 0);
    let start = Instant::now();
    for round in 0..kills {
        // Fresh garbage for this round: orphaned blobs, and a deleted VM.
        for i in 0..500 {
            let name = vmhost::digest(&format!("crash-{round}-{i}"));
            std::fs::write(host.root.join("images/blobs").join(name), b"x").unwrap();
        }
        planted += 500;
        write_round(&host, "crash", round + 1).await.unwrap();

        let mut child = spawn("crash-gc", &host.root, &[]);
        if output_line(&mut child, "COLLECTING").is_some() {
            killed_while_collecting += 1;
        }
        std::thread::sleep(Duration::from_millis(rng.below(15)));
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();

        // The kernel freed the dead process's flocks: nothing is left held.
        for module in ["vm", "snapshot", "images", "network"] {
            let lock = FileLocker::new(host.root.join(module).join(".lock"));
            let guard = lock.try_lock().await.unwrap();
            assert!(guard.is_some(), "round {round}: the {module} lock outlived its process");
        }
        assert_pins_kept(&host).await;
    }
    assert!(killed_while_collecting > kills / 2, "too few kills landed in collect");
    let pinned = assert_pins_kept(&host).await;
    assert_last_cycle_finishes(&host).await;
    figure(format!(
        "crashes: {kills} GC processes killed with SIGKILL ({killed_while_collecting} during collect), {planted} \
         orphaned blobs planted, {pinned} blobs pinned at the end, 0 lost, no lock left held, the next cycle \
         finished the job, {:.1} s",
        start.elapsed().as_secs_f64()
    ));
}
