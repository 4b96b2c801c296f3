//! The quickstart's VM host under the policies beyond fail-closed: the
//! mass-deletion guard stopping a botched read, the partial policy running
//! what it safely can while a writer holds one store, and the backstop.
//!
//! ```text
//! cargo run --example policies
//! ```

use std::process::ExitCode;

use anyhow::{Context, bail};
use gc_core::{GcModule, MassDeletionGuard, ModuleStatus, Orchestrator};
use gc_examples::vmhost::{self, VmHost};

fn indent(text: &str) -> String {
    text.lines().map(|l| format!("  {l}\n")).collect()
}

async fn run() -> anyhow::Result<()> {
    let dir = tempfile::tempdir().context("creating a temporary directory")?;
    let host = VmHost::create(dir.path())?;
    vmhost::seed(&host).await?;
    println!("gc policies: the quickstart's VM host in {}", host.root.display());

    // The demo store is small: let the guard judge even a handful of targets.
    let guard = MassDeletionGuard {
        min_targets: 0,
        ..MassDeletionGuard::default()
    };
    let gc = Orchestrator::builder()
        .module(host.vms.clone())
        .module(host.snapshots.clone())
        .module(host.images.clone())
        .module(host.network.clone())
        .mass_deletion_guard(guard)
        .partial()
        .build()?;

    println!("\n== 1. The mass-deletion guard: the VM index reads back empty");
    println!("  (a botched migration truncated vm/index.json; the run dirs are all still there)");
    let index = host.root.join("vm/index.json");
    let saved = std::fs::read(&index)?;
    std::fs::write(&index, br#"{"vms": {}}"#)?;
    let plan = gc.plan().await?;
    print!("{}", indent(&plan.to_string()));
    for name in ["vm", "network"] {
        if plan.module(name).map(|m| m.status) != Some(ModuleStatus::Withheld) {
            bail!("the guard did not withhold {name}");
        }
    }
    println!("  Every VM looks deleted, so vm and network would remove most of what they hold:");
    println!("  both are withheld, and nothing of theirs is touched. The index is restored:");
    std::fs::write(&index, saved)?;
    print!("{}", indent(&gc.plan().await?.to_string()));

    println!("\n== 2. The partial policy: a writer holds the snapshot store's lock");
    let writer = host.snapshots.locker().lock().await?;
    let report = gc.run().await?;
    print!("{}", indent(&report.to_string()));
    println!("  snapshot provides blob references, so images (which consumes them) is held back;");
    println!("  vm and network do not depend on it, and collected. Under the default policy the");
    println!("  whole cycle would have aborted.");
    writer.release().await?;

    println!("\n== 3. With the writer gone, the next cycle finishes the job");
    let report = gc.run().await?;
    print!("{}", indent(&report.to_string()));
    report.check()?;
    Ok(())
}

#[tokio::main]
async fn main() -> ExitCode {
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("policies: {e:#}");
            ExitCode::FAILURE
        }
    }
}
