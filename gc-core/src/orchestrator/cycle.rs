//! One cycle: acquire, gate, read, resolve, collect, release.

use std::panic::AssertUnwindSafe;
use std::time::Duration;

// tokio's Instant follows paused time in tests; otherwise it is std's.
use tokio::time::Instant;

use futures::FutureExt;
use futures::future::join_all;
use tracing::{Instrument, info, info_span, warn};

use super::call::{call_async, call_sync};
use super::erased::{ErasedModule, Resolved};
use crate::error::panic_message;
use crate::refs::ReadModule;
use crate::report::{ModuleDurations, ModuleReport, ModuleStatus, PhaseDurations, Report};
use crate::{GcError, LockGuard, Others, Phase, SkipReason, Skipped, Snapshot};

#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    Plan,
    Collect,
}

/// Runs one cycle over `modules` (sorted by name). Locks live in `locks`
/// outside the body, so that the body's every exit, `?` and early return
/// included, comes back here to release them; a panic inside a callback is
/// caught before it gets here, and if this future is dropped instead, each
/// guard's `Drop` releases its lock.
pub(crate) async fn run(modules: &[Box<dyn ErasedModule>], mode: Mode) -> Result<Report, GcError> {
    let span = info_span!(
        "gc.cycle",
        dry_run = mode == Mode::Plan,
        modules = modules.len()
    );
    async move {
        let start = Instant::now();
        let mut locks: Vec<Option<LockGuard>> = modules.iter().map(|_| None).collect();
        let mut phases = PhaseDurations::default();
        let result = body(modules, mode, &mut locks, &mut phases).await;

        let release_start = Instant::now();
        let release_errors = release(modules, locks)
            .instrument(info_span!("gc.release"))
            .await;
        phases.release = release_start.elapsed();
        phases.total = start.elapsed();

        match result {
            Ok(mut reports) => {
                for (i, error) in release_errors {
                    reports[i].release_error = Some(error);
                }
                let report = Report {
                    dry_run: mode == Mode::Plan,
                    modules: reports,
                    phases,
                };
                info!(
                    targets = report.total_targets(),
                    collected = report.total_collected(),
                    failed = report.total_failed(),
                    "cycle done"
                );
                Ok(report)
            }
            Err(error) => {
                warn!(%error, "cycle aborted");
                Err(error)
            }
        }
    }
    .instrument(span)
    .await
}

async fn body(
    modules: &[Box<dyn ErasedModule>],
    mode: Mode,
    locks: &mut [Option<LockGuard>],
    phases: &mut PhaseDurations,
) -> Result<Vec<ModuleReport>, GcError> {
    let t = Instant::now();
    let skipped = acquire(modules, locks)
        .instrument(info_span!("gc.acquire"))
        .await;
    phases.acquire = t.elapsed();
    // The gate: fail closed. Without every module's view, a reference held
    // only by a skipped module would look like garbage.
    if !skipped.is_empty() {
        return Err(GcError::Skipped { skipped });
    }

    let t = Instant::now();
    let (snapshots, read_times) = read(modules).instrument(info_span!("gc.read")).await?;
    phases.read = t.elapsed();

    let t = Instant::now();
    let (resolved, resolve_times) = {
        let _span = info_span!("gc.resolve").entered();
        resolve(modules, &snapshots, mode)?
    };
    // The snapshots are done with: free them before collect runs.
    drop(snapshots);
    phases.resolve = t.elapsed();

    let mut reports: Vec<ModuleReport> = modules
        .iter()
        .zip(read_times.iter().zip(&resolve_times))
        .zip(&resolved)
        .map(|((m, (read, resolve)), r)| ModuleReport {
            name: m.name().to_owned(),
            status: if r.len == 0 {
                ModuleStatus::NothingToDo
            } else {
                ModuleStatus::Planned
            },
            targets: r.len,
            collected: 0,
            failed: Vec::new(),
            error: None,
            notes: r.notes.clone(),
            planned: Vec::new(),
            durations: ModuleDurations {
                read: *read,
                resolve: *resolve,
                collect: None,
            },
            release_error: None,
        })
        .collect();

    if mode == Mode::Plan {
        for (report, r) in reports.iter_mut().zip(resolved) {
            report.planned = r.planned;
        }
        return Ok(reports);
    }

    let t = Instant::now();
    collect(modules, resolved, &mut reports)
        .instrument(info_span!("gc.collect"))
        .await;
    phases.collect = t.elapsed();
    Ok(reports)
}

/// Tries every lock in order, and keeps trying after a busy one, so that the
/// error names every module that could not be locked.
async fn acquire(
    modules: &[Box<dyn ErasedModule>],
    locks: &mut [Option<LockGuard>],
) -> Vec<Skipped> {
    let mut skipped = Vec::new();
    for (m, slot) in modules.iter().zip(locks.iter_mut()) {
        let reason = match AssertUnwindSafe(m.locker().try_lock()).catch_unwind().await {
            Ok(Ok(Some(guard))) => {
                *slot = Some(guard);
                continue;
            }
            Ok(Ok(None)) => SkipReason::Busy,
            Ok(Err(error)) => SkipReason::LockError(error),
            Err(payload) => SkipReason::LockerPanicked(panic_message(&*payload)),
        };
        warn!(module = m.name(), %reason, "module skipped");
        skipped.push(Skipped {
            module: m.name().to_owned(),
            reason,
        });
    }
    skipped
}

type Snapshots = Vec<Box<dyn Snapshot>>;

/// Reads every module concurrently, within this task: if the cycle's future
/// is dropped, the reads are dropped with it.
async fn read(modules: &[Box<dyn ErasedModule>]) -> Result<(Snapshots, Vec<Duration>), GcError> {
    let results =
        join_all(modules.iter().map(|m| {
            call_async(m.read()).instrument(info_span!("gc.module.read", module = m.name()))
        }))
        .await;
    let mut snapshots = Vec::with_capacity(modules.len());
    let mut times = Vec::with_capacity(modules.len());
    let mut failures = Vec::new();
    for (m, (result, time)) in modules.iter().zip(results) {
        times.push(time);
        match result {
            Ok(snapshot) => snapshots.push(snapshot),
            Err(e) => failures.push(e.into_failure(m.name(), Phase::Read)),
        }
    }
    if failures.is_empty() {
        Ok((snapshots, times))
    } else {
        Err(GcError::ReadFailed { failures })
    }
}

fn resolve(
    modules: &[Box<dyn ErasedModule>],
    snapshots: &Snapshots,
    mode: Mode,
) -> Result<(Vec<Resolved>, Vec<Duration>), GcError> {
    let read: Vec<ReadModule<'_>> = modules
        .iter()
        .zip(snapshots)
        .map(|(m, s)| ReadModule::new(m.name(), s.as_ref()))
        .collect();
    let mut resolved = Vec::with_capacity(modules.len());
    let mut times = Vec::with_capacity(modules.len());
    let mut failures = Vec::new();
    for (i, (m, snapshot)) in modules.iter().zip(snapshots).enumerate() {
        let _span = info_span!("gc.module.resolve", module = m.name()).entered();
        let others = Others::new(&read, Some(i), &[]);
        let (result, time) =
            call_sync(|| m.resolve(snapshot.as_ref(), &others, mode == Mode::Plan));
        times.push(time);
        match result {
            Ok(r) => resolved.push(r),
            Err(e) => failures.push(e.into_failure(m.name(), Phase::Resolve)),
        }
    }
    if failures.is_empty() {
        Ok((resolved, times))
    } else {
        Err(GcError::ResolveFailed { failures })
    }
}

/// Collects concurrently across modules; one module's failure is recorded in
/// its report and does not stop the others. Modules without targets are not
/// called.
async fn collect(
    modules: &[Box<dyn ErasedModule>],
    resolved: Vec<Resolved>,
    reports: &mut [ModuleReport],
) {
    let calls = modules
        .iter()
        .zip(resolved)
        .enumerate()
        .filter(|(_, (_, r))| r.len > 0)
        .map(|(i, (m, r))| async move {
            let span = info_span!("gc.module.collect", module = m.name(), targets = r.len);
            (i, call_async(m.collect(r.ids)).instrument(span).await)
        });
    for (i, (result, time)) in join_all(calls).await {
        let report = &mut reports[i];
        report.durations.collect = Some(time);
        match result {
            Ok(done) => {
                report.collected = done.collected;
                report.failed = done.failed;
                report.status = match (report.collected, report.failed.is_empty()) {
                    (_, true) => ModuleStatus::Collected,
                    (0, false) => ModuleStatus::Failed,
                    (_, false) => ModuleStatus::PartiallyCollected,
                };
            }
            Err(e) => {
                let what = if e.panicked {
                    "collect panicked"
                } else {
                    "collect failed"
                };
                report.error = Some(format!("{what}: {:#}", e.error));
                report.status = ModuleStatus::Failed;
            }
        }
        if report.status != ModuleStatus::Collected {
            warn!(module = report.name, status = %report.status, "collect incomplete");
        }
    }
}

/// Releases every lock taken, explicitly and in reverse lock order, and
/// returns the modules whose release failed.
async fn release(
    modules: &[Box<dyn ErasedModule>],
    locks: Vec<Option<LockGuard>>,
) -> Vec<(usize, String)> {
    let mut errors = Vec::new();
    for (i, guard) in locks.into_iter().enumerate().rev() {
        let Some(guard) = guard else { continue };
        match AssertUnwindSafe(guard.release()).catch_unwind().await {
            Ok(Ok(())) => {}
            Ok(Err(error)) => {
                warn!(module = modules[i].name(), %error, "release failed");
                errors.push((i, error.to_string()));
            }
            Err(payload) => {
                let message = panic_message(&*payload);
                warn!(module = modules[i].name(), %message, "release panicked");
                errors.push((i, format!("release panicked: {message}")));
            }
        }
    }
    errors
}
