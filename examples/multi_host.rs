//! Two GC workers, as two processes, on stores kept in one PostgreSQL
//! database, with a writer busy beside them. PgLocker's advisory locks let
//! exactly one cycle run at a time, and nothing a live VM uses is deleted.
//!
//! ```text
//! cargo run --example multi_host -- --url postgres://gc:gc@127.0.0.1/gc_test [--cycles 20]
//! ```
//!
//! The URL may also come from DATABASE_URL. See docs/multi-host.md for
//! starting PostgreSQL locally.

use std::process::{ExitCode, Stdio};

use anyhow::{Context, bail};
use gc_examples::fleet;

const USAGE: &str = "usage: multi_host [--url URL] [--cycles N] [--schema NAME]

Runs two GC worker processes and a writer against stores kept in PostgreSQL
tables (in schema NAME, default gc_fleet_demo, recreated), then checks that
exactly one cycle ran at a time and that nothing a live VM uses was deleted.
URL defaults to $DATABASE_URL.";

struct Args {
    url: String,
    cycles: i32,
    schema: String,
    worker: Option<i32>,
}

fn parse() -> anyhow::Result<Option<Args>> {
    let mut url = std::env::var("DATABASE_URL").ok();
    let (mut cycles, mut schema, mut worker) = (20, "gc_fleet_demo".to_owned(), None);
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = |what: &str| args.next().with_context(|| format!("{arg} needs {what}"));
        match arg.as_str() {
            "-h" | "--help" => return Ok(None),
            "--url" => url = Some(value("a URL")?),
            "--cycles" => cycles = value("a number")?.parse().context("--cycles needs a whole number")?,
            "--schema" => schema = value("a name")?,
            "--worker" => worker = Some(value("a number")?.parse().context("--worker needs a number")?),
            _ => bail!("unknown argument {arg:?}\n\n{USAGE}"),
        }
    }
    let url = url.context("no database: pass --url postgres://... or set DATABASE_URL (see docs/multi-host.md)")?;
    Ok(Some(Args {
        url,
        cycles,
        schema,
        worker,
    }))
}

async fn coordinator(args: &Args) -> anyhow::Result<()> {
    let db = fleet::connect(&args.url).await?;
    fleet::create(&db, &args.schema).await?;
    println!("multi_host: stores in schema {} of {}", args.schema, server(&args.url));
    let exe = std::env::current_exe()?;
    let mut workers = Vec::new();
    for worker in 1..=2 {
        let child = tokio::process::Command::new(&exe)
            .args(["--worker", &worker.to_string(), "--cycles", &args.cycles.to_string()])
            .args(["--schema", &args.schema, "--url", &args.url])
            .stdin(Stdio::null())
            .spawn()
            .context("starting a worker process")?;
        println!("started GC worker {worker} (process {})", child.id().unwrap_or(0));
        workers.push(child);
    }
    // The writer runs until both workers are done.
    let mut writes = 0u64;
    let all_done = async {
        let mut statuses = Vec::new();
        for w in &mut workers {
            statuses.push(w.wait().await);
        }
        statuses
    };
    tokio::pin!(all_done);
    let statuses = loop {
        tokio::select! {
            statuses = &mut all_done => break statuses,
            written = fleet::write_once(&args.url, &db, &args.schema, writes + 1) => {
                written?;
                writes += 1;
            }
        }
    };
    for (i, status) in statuses.into_iter().enumerate() {
        let status = status?;
        if !status.success() {
            bail!("worker {} failed: {status}", i + 1);
        }
    }

    let outcome = fleet::check(&args.url, &args.schema).await?;
    println!("\nthe writer made {writes} writes (a VM, its blobs, an orphan blob; every third soft-deletes a VM)");
    for (worker, cycles, busy, collected) in &outcome.workers {
        println!("worker {worker}: {cycles} cycles, {busy} found a lock busy, {collected} IDs collected");
    }
    println!("cycles that overlapped another (the probe): {}", outcome.overlaps);
    println!("blobs a live VM uses that are gone: {}", outcome.pinned_lost);
    println!("garbage left after a final cycle: {}", outcome.garbage_left);
    println!("live VMs: {}", outcome.live_vms);
    if outcome.overlaps != 0 || outcome.pinned_lost != 0 || outcome.garbage_left != 0 {
        bail!("an invariant failed");
    }
    println!("\nok: one cycle at a time, nothing pinned deleted, all garbage collected");
    Ok(())
}

/// The URL without its password, for messages.
fn server(url: &str) -> String {
    gc_core::PgLocker::new(url, "", "").map_or_else(|e| e.to_string(), |l| l.server().to_owned())
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = match parse() {
        Ok(Some(args)) => args,
        Ok(None) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("multi_host: {e:#}");
            return ExitCode::from(2);
        }
    };
    let result = match args.worker {
        Some(worker) => fleet::run_worker(&args.url, &args.schema, worker, args.cycles)
            .await
            .map(|s| println!("worker {worker} done: {} cycles, {} busy", s.cycles, s.busy)),
        None => coordinator(&args).await,
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("multi_host: {e:#}");
            ExitCode::FAILURE
        }
    }
}
