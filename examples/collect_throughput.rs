//! Collect throughput: the quickstart's image store removing N orphaned blob
//! files, against `find DIR -type f -delete` on an identical tree,
//! alternately, several rounds.
//!
//! ```text
//! cargo run --release --example collect_throughput -- [N] [rounds]   (defaults: 100000, 3)
//! ```

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use gc_core::{Orchestrator, RunOptions};
use gc_examples::vmhost::{self, VmHost};

fn plant(dir: &Path, n: usize) -> anyhow::Result<()> {
    for i in 0..n {
        std::fs::write(dir.join(vmhost::digest(&format!("orphan-{i}"))), b"x")?;
    }
    Ok(())
}

/// `find DIR -type f -delete`, timed.
fn find_delete(dir: &Path) -> anyhow::Result<Duration> {
    let start = Instant::now();
    let status = Command::new("find").arg(dir).args(["-type", "f", "-delete"]).status()?;
    if !status.success() {
        bail!("find failed: {status}");
    }
    Ok(start.elapsed())
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let n: usize = args.next().map_or(Ok(100_000), |s| s.parse()).context("N")?;
    let rounds: usize = args.next().map_or(Ok(3), |s| s.parse()).context("rounds")?;
    let (mut gc_times, mut collect_times, mut find_times) = (Vec::new(), Vec::new(), Vec::new());
    for round in 1..=rounds.max(1) {
        // Both trees are planted before either is timed, and which one goes
        // first alternates, so that neither gains from the other's state of
        // the file system (the inodes the other just freed, its writeback).
        let gc_dir = tempfile::tempdir()?;
        let host = VmHost::create(gc_dir.path())?;
        plant(&host.root.join("images/blobs"), n)?;
        let find_dir = tempfile::tempdir()?;
        plant(find_dir.path(), n)?;
        let gc = Orchestrator::builder().module(host.images.clone()).build()?;
        let find_first = round % 2 == 0;
        if find_first {
            find_times.push(find_delete(find_dir.path())?);
        }
        // The image store, through a whole cycle.
        let start = Instant::now();
        let report = gc.run_with(RunOptions::new().allow_mass_deletion()).await?;
        let cycle = start.elapsed();
        report.check()?;
        if report.total_collected() != n {
            bail!("collected {} of {n}", report.total_collected());
        }
        gc_times.push(cycle);
        collect_times.push(report.phases.collect);
        if !find_first {
            find_times.push(find_delete(find_dir.path())?);
        }
        eprintln!(
            "round {round}: image store cycle {:.0} ms (collect {:.0} ms), find -delete {:.0} ms{}",
            cycle.as_secs_f64() * 1e3,
            report.phases.collect.as_secs_f64() * 1e3,
            find_times[round - 1].as_secs_f64() * 1e3,
            if find_first { " (find first)" } else { "" }
        );
    }
    let (cycle, collect, find) = (median(gc_times), median(collect_times), median(find_times));
    println!(
        "n={n} rounds={rounds} image_store_cycle_ms={:.0} collect_ms={:.0} find_delete_ms={:.0} \
         collect_per_s={:.0} find_per_s={:.0} ratio_collect_to_find={:.2}",
        cycle.as_secs_f64() * 1e3,
        collect.as_secs_f64() * 1e3,
        find.as_secs_f64() * 1e3,
        n as f64 / collect.as_secs_f64(),
        n as f64 / find.as_secs_f64(),
        collect.as_secs_f64() / find.as_secs_f64()
    );
    Ok(())
}
