//! Proof under load and faults, on the quickstart's VM host on disk:
//! concurrent writer tasks, several processes sharing the store through
//! FileLocker, and a GC process killed with SIGKILL during collect, again and
//! again. Each test prints its figures; docs/reliability.md lists them.
//! GC_RELIABILITY_LONG=1 runs longer variants.

use std::collections::HashSet;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
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
/// image of an earlier round are deleted, orphaning their blobs. Before it
/// deletes a VM, the writer checks that the blob the VM pinned all its life,
/// through every cycle that ran meanwhile, is still on disk.
async fn write_round(host: &VmHost, tag: &str, round: u32) -> anyhow::Result<()> {
    let blobs = host
        .images
        .add_image(&format!("img-{tag}-{round}"), &[&format!("layer-{tag}-{round}")])
        .await?;
    host.vms.create_vm(&format!("vm-{tag}-{round}"), &blobs).await?;
    if round.is_multiple_of(2) && round >= 4 {
        let pinned = vmhost::digest(&format!("layer-{tag}-{}", round - 3));
        anyhow::ensure!(
            host.root.join("images/blobs").join(&pinned).exists(),
            "blob {pinned} of the live vm-{tag}-{} is gone",
            round - 3
        );
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
    let (writers, rounds, min_cycles) = if long() { (8, 200, 50) } else { (4, 40, 10) };
    let start = Instant::now();
    // Writers go on past their rounds until enough cycles ran beside them
    // (up to ten times their rounds, so that a GC that never gets through
    // fails the test rather than hang it).
    let cycles_beside = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for w in 0..writers {
        let (host, cycles_beside) = (host.clone(), Arc::clone(&cycles_beside));
        tasks.push(tokio::spawn(async move {
            let mut round = 0;
            while round < rounds || (cycles_beside.load(Ordering::Relaxed) < min_cycles && round < 10 * rounds) {
                round += 1;
                write_round(&host, &format!("w{w}"), round).await.unwrap();
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
            round
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
                cycles_beside.store(cycles, Ordering::Relaxed);
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
    let mut written = 0;
    for t in tasks {
        written += t.await.unwrap();
    }
    let pinned = assert_pins_kept(&host).await;
    assert_last_cycle_finishes(&host).await;
    assert!(cycles >= min_cycles, "only {cycles} cycles ran beside the writers");
    figure(format!(
        "concurrent writers: {writers} writers created {written} VMs and images and deleted about half, {cycles} \
         cycles ran beside them and {busy} found a lock busy, {collected} IDs collected, {pinned} blobs pinned at \
         the end, 0 lost, {:.1} s",
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
                // Announces its collect of images once it has removed
                // KILL_AT blobs, then keeps cycling until killed.
                let kill_at: usize = std::env::var("KILL_AT").unwrap().parse().unwrap();
                let gc = Orchestrator::builder()
                    .module(host.vms.clone())
                    .module(host.snapshots.clone())
                    .module(host.images.clone())
                    .module(host.network.clone())
                    .no_mass_deletion_guard()
                    .observer(move |e: &Event| {
                        if let Event::Progress { module, done, .. } = e
                            && module == "images"
                            && *done >= kill_at
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

/// The first line of the child's output that holds `prefix`, if it comes
/// within `within`: a child that never prints it fails its test rather
/// than hang it. The rest of the output is drained, so that the child never
/// blocks on a full pipe nor dies of a closed one.
fn output_line(child: &mut Child, prefix: &str, within: Duration) -> Option<String> {
    let out = child.stdout.take()?;
    let (tx, rx) = std::sync::mpsc::channel();
    let prefix = prefix.to_owned();
    std::thread::spawn(move || {
        let mut reader = BufReader::new(out);
        let mut line = String::new();
        while reader.read_line(&mut line).is_ok_and(|n| n > 0) {
            if let Some(pos) = line.find(&prefix) {
                let _ = tx.send(line[pos..].trim().to_owned());
            }
            line.clear();
        }
    });
    rx.recv_timeout(within).ok()
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
        let result = output_line(gc, "RESULT", Duration::from_secs(120));
        if result.is_none() {
            let _ = gc.kill();
        }
        results.push(result.expect("a GC process ended, or ran 2 minutes, without its result"));
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
    // The image store reports its progress every 1,024 blobs: the kill
    // lands after 1, 2, 3 or 4 thousand of these, chosen at random.
    const PER_ROUND: usize = 4_500;
    let mut rng = Lcg(0x5eed);
    let (mut planted, mut half_done, mut gone_at_kill) = (0, 0, Vec::new());
    let start = Instant::now();
    for round in 0..kills {
        // Fresh garbage for this round: orphaned blobs, and a deleted VM.
        let blobs: Vec<_> = (0..PER_ROUND)
            .map(|i| {
                host.root
                    .join("images/blobs")
                    .join(vmhost::digest(&format!("crash-{round}-{i}")))
            })
            .collect();
        for blob in &blobs {
            std::fs::write(blob, b"x").unwrap();
        }
        planted += PER_ROUND;
        write_round(&host, "crash", round + 1).await.unwrap();

        let kill_at = 1 + 1024 * rng.below(4);
        let mut child = spawn("crash-gc", &host.root, &[("KILL_AT", kill_at.to_string())]);
        if output_line(&mut child, "COLLECTING", Duration::from_secs(60)).is_none() {
            let _ = child.kill();
            panic!("round {round}: the GC process did not get into its collect within 60 s");
        }
        std::thread::sleep(Duration::from_millis(rng.below(3)));
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();

        // Proof that the kill landed inside collect, not only after its
        // announcement: some of this round's blobs are gone, some are not.
        let left = blobs.iter().filter(|b| b.exists()).count();
        if 0 < left && left < PER_ROUND {
            half_done += 1;
            gone_at_kill.push(100 * (PER_ROUND - left) / PER_ROUND);
        }
        // The kernel freed the dead process's flocks: nothing is left held.
        for module in ["vm", "snapshot", "images", "network"] {
            let lock = FileLocker::new(host.root.join(module).join(".lock"));
            let guard = lock.try_lock().await.unwrap();
            assert!(guard.is_some(), "round {round}: the {module} lock outlived its process");
        }
        assert_pins_kept(&host).await;
    }
    assert!(
        half_done > kills / 2,
        "only {half_done} of {kills} kills landed half way through a collect"
    );
    let pinned = assert_pins_kept(&host).await;
    assert_last_cycle_finishes(&host).await;
    gone_at_kill.sort_unstable();
    figure(format!(
        "crashes: {kills} GC processes killed with SIGKILL, {half_done} with their collect half done (between \
         {}% and {}% of the round's blobs removed), {planted} orphaned blobs planted, {pinned} blobs pinned at the \
         end, 0 lost, no lock left held, the next cycle finished the job, {:.1} s",
        gone_at_kill.first().unwrap_or(&0),
        gone_at_kill.last().unwrap_or(&0),
        start.elapsed().as_secs_f64()
    ));
}
