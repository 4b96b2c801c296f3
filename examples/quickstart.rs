//! The quickstart: a small VM host on disk, garbage-collected safely across
//! its four stores.
//!
//! ```text
//! cargo run --example quickstart                 # in a temporary directory
//! cargo run --example quickstart -- --root DIR   # in DIR (empty: seeded; a host: reused)
//! ```

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use gc_core::GcModule;
use gc_examples::vmhost::{self, VmHost};

const USAGE: &str = "usage: quickstart [--root DIR]

Builds a small VM host on disk (VMs, image blobs, snapshots, network
records, some of each orphaned), shows what GC would collect and why,
collects it, and shows what is left.

  --root DIR   use DIR instead of a temporary directory: an empty DIR is
               seeded with the demo host, a DIR holding a host is reused";

enum Root {
    Temporary(tempfile::TempDir),
    Given(PathBuf),
}

fn parse_args() -> anyhow::Result<Option<Option<PathBuf>>> {
    let mut args = std::env::args_os().skip(1);
    let mut root = None;
    while let Some(arg) = args.next() {
        match arg.to_str() {
            Some("-h" | "--help") => return Ok(None),
            Some("--root") => {
                let dir = args.next().context("--root needs a directory")?;
                root = Some(PathBuf::from(dir));
            }
            _ => bail!("unknown argument {:?}\n\n{USAGE}", arg),
        }
    }
    Ok(Some(root))
}

fn section(title: &str) {
    println!("\n== {title}");
}

fn indent(text: &str) -> String {
    text.lines().map(|l| format!("  {l}\n")).collect()
}

async fn run(root: Option<PathBuf>) -> anyhow::Result<()> {
    let root = match root {
        Some(dir) => Root::Given(dir),
        None => Root::Temporary(tempfile::tempdir().context("creating a temporary directory")?),
    };
    let dir = match &root {
        Root::Temporary(t) => t.path().to_path_buf(),
        Root::Given(d) => d.clone(),
    };
    if !dir.is_dir() {
        bail!("--root {}: no such directory (create it first)", dir.display());
    }
    let is_empty = std::fs::read_dir(&dir)
        .with_context(|| format!("reading {}", dir.display()))?
        .next()
        .is_none();

    println!("gc quickstart: a VM host with four stores, each a GC module with its own lock file.");
    let host = if is_empty {
        let host = VmHost::create(&dir)?;
        vmhost::seed(&host).await?;
        println!("Created a demo host in {}", host.root.display());
        if matches!(root, Root::Temporary(_)) {
            println!("(a temporary directory, removed at exit; use --root DIR to keep it)");
        }
        println!("\nOrphans planted for the GC to find:");
        for line in vmhost::PLANTED {
            println!("  - {line}");
        }
        host
    } else {
        let host = VmHost::open(&dir)?;
        println!("Reusing the host in {}", host.root.display());
        host
    };
    section("On disk before GC");
    for line in vmhost::inventory(&host.root)? {
        println!("  {line}");
    }

    let gc = host.orchestrator()?;

    section("While a writer holds the images lock, GC refuses to run (fail-closed)");
    let writer = host.images.locker().lock().await?;
    match gc.run().await {
        Err(e) => println!("  {e}"),
        Ok(_) => bail!("the cycle ran although a writer held a lock"),
    }
    writer.release().await?;

    section("The plan: what a cycle would collect, and why (dry run, nothing deleted)");
    print!("{}", indent(&gc.plan().await?.to_string()));

    section("A cycle: lock all four stores, read, resolve, collect, release");
    let report = gc.run().await?;
    print!("{}", indent(&report.to_string()));

    section("On disk after GC");
    for line in vmhost::inventory(&host.root)? {
        println!("  {line}");
    }
    println!("  (the alpine blob survives: no image lists it, but snapshot snap-old-final pins it)");

    section("A second cycle finds nothing left to collect");
    let again = gc.run().await?;
    print!("{}", indent(&again.to_string()));
    if again.total_targets() != 0 {
        bail!("the second cycle found {} targets", again.total_targets());
    }
    report.check()?;
    Ok(())
}

#[tokio::main]
async fn main() -> ExitCode {
    let root = match parse_args() {
        Ok(Some(root)) => root,
        Ok(None) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("quickstart: {e:#}");
            return ExitCode::from(2);
        }
    };
    match run(root).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("quickstart: {e:#}");
            ExitCode::FAILURE
        }
    }
}
