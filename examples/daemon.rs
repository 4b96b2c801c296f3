//! GC as a service: writers keep creating and orphaning objects in the
//! quickstart's VM host, a Scheduler collects them (on an interval, and when
//! the writers have made enough changes), a progress bar follows the long
//! first collect, and Ctrl-C shuts down cleanly.
//!
//! ```text
//! cargo run --example daemon                       # until Ctrl-C
//! cargo run --example daemon -- --for 10 --orphans 20000
//! ```

use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::{Context, bail};
use gc_core::{Event, GcModule, Orchestrator, Scheduler, SchedulerConfig};
use gc_examples::vmhost::{self, VmHost};
use indicatif::{ProgressBar, ProgressStyle};

const USAGE: &str = "usage: daemon [--for SECONDS] [--orphans N]

Runs GC as a service over a VM host in a temporary directory, with writers
busy beside it, until Ctrl-C (or for SECONDS). N orphaned blobs (default
20000) are planted first, so that the first collect is long enough to watch.";

fn parse() -> anyhow::Result<Option<(Option<u64>, usize)>> {
    let (mut run_for, mut orphans) = (None, 20_000);
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().with_context(|| format!("{arg} needs a number"));
        match arg.as_str() {
            "-h" | "--help" => return Ok(None),
            "--for" => run_for = Some(value()?.parse().context("--for needs whole seconds")?),
            "--orphans" => orphans = value()?.parse().context("--orphans needs a whole number")?,
            _ => bail!("unknown argument {arg:?}\n\n{USAGE}"),
        }
    }
    Ok(Some((run_for, orphans)))
}

/// Shows each module's collect on a progress bar, from the cycle's events.
fn progress_observer() -> impl Fn(&Event) + Send + Sync + 'static {
    let bar = ProgressBar::hidden();
    bar.set_style(
        ProgressStyle::with_template("  {msg:>10} [{bar:40}] {pos}/{len} ({per_sec})")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    move |event: &Event| match event {
        // Only collects worth watching get a bar.
        Event::CollectStarted { module, targets } if *targets >= 1000 => {
            bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
            bar.reset();
            bar.set_length(*targets as u64);
            bar.set_message(module.clone());
        }
        Event::Progress { done, .. } if !bar.is_hidden() => bar.set_position(*done as u64),
        Event::CollectFinished { .. } if !bar.is_hidden() => {
            bar.finish();
            bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
        }
        _ => {}
    }
}

/// A writer: creates a VM on a fresh image, and deletes the VM and image it
/// made a few rounds ago, leaving their run dir, network record and blobs
/// for the GC. Every change is reported to the scheduler.
async fn writer(host: VmHost, scheduler: Arc<Scheduler>, stop: Arc<AtomicBool>) -> anyhow::Result<u64> {
    let mut round = 0u64;
    while !stop.load(Ordering::SeqCst) {
        round += 1;
        let image = format!("app:{round}");
        let blobs = host.images.add_image(&image, &[&format!("layer-{round}")]).await?;
        let vm = format!("vm-app-{round}");
        host.vms.create_vm(&vm, &blobs).await?;
        host.network.add_record(&vm, "10.1.0.1").await?;
        if round > 3 {
            host.vms.delete_vm(&format!("vm-app-{}", round - 3)).await?;
            host.images.remove_image(&format!("app:{}", round - 3)).await?;
        }
        scheduler.notify(4);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Ok(round)
}

/// Every blob a live VM uses must still be on disk.
async fn check_pins(host: &VmHost) -> anyhow::Result<usize> {
    let vms = host.vms.read().await?;
    let images = host.images.read().await?;
    let on_disk: std::collections::HashSet<&String> = images.on_disk.iter().collect();
    let lost = vms.blobs.iter().filter(|b| !on_disk.contains(b)).count();
    if lost > 0 {
        bail!("{lost} blobs that live VMs use are gone");
    }
    Ok(vms.vms.len())
}

async fn run(run_for: Option<u64>, orphans: usize) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let host = VmHost::create(dir.path())?;
    vmhost::seed(&host).await?;
    for i in 0..orphans {
        // Blobs of images long gone: garbage from the start.
        std::fs::write(
            host.root.join("images/blobs").join(vmhost::digest(&format!("old-{i}"))),
            b"x",
        )?;
    }
    println!(
        "gc daemon: a VM host in {} with {orphans} orphaned blobs",
        host.root.display()
    );

    let gc = Orchestrator::builder()
        .module(host.vms.clone())
        .module(host.snapshots.clone())
        .module(host.images.clone())
        .module(host.network.clone())
        .observer(progress_observer())
        .observer(|event: &Event| {
            if let Event::CycleFinished { collected, elapsed, .. } = event
                && *collected > 0
            {
                println!(
                    "  cycle: collected {collected} in {:.1} ms",
                    elapsed.as_secs_f64() * 1e3
                );
            }
        })
        // The planted orphans are most of the store: an operator running
        // this daemon has said that is intended.
        .no_mass_deletion_guard()
        .build()?;
    let config = SchedulerConfig {
        interval: Duration::from_secs(2),
        mutation_threshold: Some(200),
        busy_retry: Duration::from_millis(50),
        ..SchedulerConfig::default()
    };
    let scheduler = Arc::new(Scheduler::start(gc, config));
    println!("scheduler started: every 2 s ± 10%, or after 200 changes; Ctrl-C stops");

    let stop = Arc::new(AtomicBool::new(false));
    let writers = tokio::spawn(writer(host.clone(), Arc::clone(&scheduler), Arc::clone(&stop)));
    match run_for {
        Some(secs) => tokio::time::sleep(Duration::from_secs(secs)).await,
        None => tokio::signal::ctrl_c().await.context("waiting for Ctrl-C")?,
    }
    println!("stopping: the writers first, then the scheduler (it finishes a cycle in flight)");
    stop.store(true, Ordering::SeqCst);
    let rounds = writers.await.context("the writer task failed")??;
    let latest = scheduler.latest();
    let scheduler = Arc::into_inner(scheduler).context("the scheduler is still shared")?;
    scheduler.shutdown().await;

    let live = check_pins(&host).await?;
    println!("the writers made {rounds} rounds; {live} VMs are live, and every blob they use is on disk");
    if let Some(latest) = latest {
        match latest.result {
            Ok(report) => print!("the last cycle ({:?}):\n{report}", latest.trigger),
            Err(e) => println!("the last cycle ({:?}) aborted: {e}", latest.trigger),
        }
    }
    let left = std::fs::read_dir(host.root.join("images/blobs"))?.count();
    println!(
        "blobs on disk now: {left} (of {} planted and written)",
        orphans + 7 + rounds as usize
    );
    Ok(())
}

#[tokio::main]
async fn main() -> ExitCode {
    let (run_for, orphans) = match parse() {
        Ok(Some(v)) => v,
        Ok(None) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("daemon: {e:#}");
            return ExitCode::from(2);
        }
    };
    match run(run_for, orphans).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("daemon: {e:#}");
            ExitCode::FAILURE
        }
    }
}
