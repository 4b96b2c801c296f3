//! One cycle: acquire, gate, read, resolve, apply the policies, check the
//! locks, collect, release.

use std::collections::HashMap;
use std::panic::AssertUnwindSafe;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, SystemTime};

use futures::FutureExt;
use futures::future::join_all;
// tokio's Instant follows paused time in tests; otherwise it is std's.
use tokio::time::Instant;
use tracing::{Instrument, info, info_span, warn};

use super::call::{call_async, call_sync};
use super::erased::{ErasedModule, Resolved};
use super::policy::{Policies, RunOptions};
use crate::error::panic_message;
use crate::observe::{Event, Observers, PROGRESS, ProgressSink};
use crate::refs::{ReadModule, Unread};
use crate::report::{HeldBackBy, ModuleDurations, ModuleReport, ModuleStatus, PhaseDurations, Report, WithheldIds};
use crate::{GcError, LockGuard, LostLock, ModuleFailure, Others, Phase, SkipReason, Skipped, Snapshot};

#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    Plan,
    Collect,
}

/// For `confirm_cycles`: per module, how many consecutive cycles each target
/// (by its displayed ID) has been resolved in.
pub(crate) type Confirmations = Mutex<Vec<HashMap<String, u32>>>;

/// Everything one cycle runs over.
pub(crate) struct Cycle<'a> {
    pub(crate) modules: &'a [Box<dyn ErasedModule>],
    pub(crate) policies: &'a Policies,
    pub(crate) confirmations: &'a Confirmations,
    pub(crate) options: RunOptions,
    pub(crate) mode: Mode,
    pub(crate) observers: &'a Observers,
}

/// Runs one cycle. Locks live in `locks` outside the body, so that the
/// body's every exit, `?` and early return included, comes back here to
/// release them; a panic inside a callback is caught before it gets here,
/// and if this future is dropped instead, each guard's `Drop` releases its
/// lock.
pub(crate) async fn run(cycle: Cycle<'_>) -> Result<Report, GcError> {
    let span = info_span!(
        "gc.cycle",
        dry_run = cycle.mode == Mode::Plan,
        modules = cycle.modules.len()
    );
    async move {
        let start = Instant::now();
        cycle.observers.emit(Event::CycleStarted {
            dry_run: cycle.mode == Mode::Plan,
            modules: cycle.modules.len(),
        });
        let mut locks: Vec<Option<LockGuard>> = cycle.modules.iter().map(|_| None).collect();
        let mut phases = PhaseDurations::default();
        let result = body(&cycle, &mut locks, &mut phases).await;

        let release_start = Instant::now();
        let release_errors = release(cycle.modules, locks).instrument(info_span!("gc.release")).await;
        phases.release = release_start.elapsed();
        phases.total = start.elapsed();
        cycle.observers.emit(Event::PhaseFinished {
            phase: Phase::Release,
            elapsed: phases.release,
        });
        #[cfg(feature = "metrics")]
        super::metrics::record(&result, &phases);

        match result {
            Ok(mut reports) => {
                for (i, error) in release_errors {
                    reports[i].release_error = Some(error);
                }
                let report = Report {
                    dry_run: cycle.mode == Mode::Plan,
                    modules: reports,
                    phases,
                };
                info!(
                    targets = report.total_targets(),
                    collected = report.total_collected(),
                    failed = report.total_failed(),
                    "cycle done"
                );
                cycle.observers.emit(Event::CycleFinished {
                    targets: report.total_targets(),
                    collected: report.total_collected(),
                    failed: report.total_failed(),
                    elapsed: phases.total,
                });
                Ok(report)
            }
            Err(error) => {
                warn!(%error, "cycle aborted");
                cycle.observers.emit(Event::CycleAborted {
                    error: error.to_string(),
                });
                Err(error)
            }
        }
    }
    .instrument(span)
    .await
}

fn empty_report(name: &str) -> ModuleReport {
    ModuleReport {
        name: name.to_owned(),
        status: ModuleStatus::NothingToDo,
        targets: 0,
        collected: 0,
        failed: Vec::new(),
        error: None,
        notes: Vec::new(),
        planned: Vec::new(),
        durations: ModuleDurations::default(),
        release_error: None,
        skip_reason: None,
        held_back_by: Vec::new(),
        guard: None,
        too_young: WithheldIds::default(),
        unconfirmed: WithheldIds::default(),
        backstop: Vec::new(),
    }
}

async fn body(
    cycle: &Cycle<'_>,
    locks: &mut [Option<LockGuard>],
    phases: &mut PhaseDurations,
) -> Result<Vec<ModuleReport>, GcError> {
    let modules = cycle.modules;
    let partial = cycle.policies.partial;
    let mut reports: Vec<ModuleReport> = modules.iter().map(|m| empty_report(m.name())).collect();

    let t = Instant::now();
    let skipped = acquire(modules, locks, cycle.policies.lock_wait)
        .instrument(info_span!("gc.acquire"))
        .await;
    phases.acquire = t.elapsed();
    phase_done(cycle, Phase::Acquire, phases.acquire);
    // The gate: fail closed. Without every module's view, a reference held
    // only by a skipped module would look like garbage. The partial policy
    // instead holds back exactly the modules that depend on the skipped.
    if !skipped.is_empty() && !partial {
        return Err(GcError::Skipped {
            skipped: skipped.into_iter().map(|(_, s)| s).collect(),
        });
    }
    let mut unread: Vec<(usize, String)> = skipped.into_iter().map(|(i, s)| (i, s.reason.to_string())).collect();

    let t = Instant::now();
    let to_read: Vec<usize> = (0..modules.len()).filter(|i| locks[*i].is_some()).collect();
    let (snapshots, failures) = read(modules, &to_read, cycle.policies.read_timeout, &mut reports)
        .instrument(info_span!("gc.read"))
        .await;
    phases.read = t.elapsed();
    phase_done(cycle, Phase::Read, phases.read);
    if !failures.is_empty() {
        if !partial {
            return Err(GcError::ReadFailed {
                failures: failures.into_iter().map(|(_, f)| f).collect(),
            });
        }
        unread.extend(failures.into_iter().map(|(i, f)| (i, format!("{f}"))));
    }
    unread.sort_by_key(|(i, _)| *i);

    // Partial cycles: who is skipped, and whom they hold back.
    let active = hold_back(modules, &unread, &snapshots, &mut reports);

    let t = Instant::now();
    let resolved = {
        let _span = info_span!("gc.resolve").entered();
        let unread: Vec<Unread> = unread
            .iter()
            .map(|(i, _)| Unread {
                name: modules[*i].name().to_owned(),
                provides: modules[*i]
                    .declared()
                    .provides
                    .as_ref()
                    .map(|p| p.iter().map(|k| k.type_id()).collect()),
            })
            .collect();
        resolve(modules, &snapshots, &active, &unread, &mut reports)?
    };
    let populations: Vec<Option<usize>> = snapshots
        .iter()
        .map(|s| s.as_ref().and_then(|s| s.population()))
        .collect();
    // The snapshots are done with: free them before collect runs.
    drop(snapshots);
    phases.resolve = t.elapsed();
    phase_done(cycle, Phase::Resolve, phases.resolve);

    let mut resolved = apply_policies(cycle, resolved, &populations, &mut reports);

    if cycle.mode == Mode::Plan {
        for (i, r) in resolved.iter().enumerate() {
            if let Some(r) = r {
                let t = &r.targets;
                reports[i].planned = (0..t.len())
                    .map(|j| crate::PlannedTarget {
                        id: t.id_string(j),
                        reason: t.reason(j).to_owned(),
                    })
                    .collect();
            }
        }
        return Ok(reports);
    }

    // A lease-based lock may have lapsed while we read: collecting without
    // it would race a writer that now holds it.
    check_locks(modules, locks).await?;

    let t = Instant::now();
    let work: Vec<(usize, Resolved)> = resolved
        .iter_mut()
        .enumerate()
        .filter_map(|(i, r)| r.take().map(|r| (i, r)))
        .filter(|(i, r)| r.targets.len() > 0 && reports[*i].status == ModuleStatus::Planned)
        .collect();
    collect(
        modules,
        work,
        cycle.policies.collect_timeout,
        cycle.observers,
        &mut reports,
    )
    .instrument(info_span!("gc.collect"))
    .await;
    phases.collect = t.elapsed();
    phase_done(cycle, Phase::Collect, phases.collect);
    Ok(reports)
}

fn phase_done(cycle: &Cycle<'_>, phase: Phase, elapsed: Duration) {
    cycle.observers.emit(Event::PhaseFinished { phase, elapsed });
}

/// Tries every lock in order, and keeps trying after a busy one, so that the
/// error names every module that could not be locked. With `lock_wait`, a
/// busy lock is retried with backoff until that much time has passed since
/// the phase began.
async fn acquire(
    modules: &[Box<dyn ErasedModule>],
    locks: &mut [Option<LockGuard>],
    lock_wait: Option<Duration>,
) -> Vec<(usize, Skipped)> {
    const FIRST_BACKOFF: Duration = Duration::from_millis(10);
    const MAX_BACKOFF: Duration = Duration::from_secs(1);
    let deadline = lock_wait.map(|wait| Instant::now() + wait);
    let mut skipped = Vec::new();
    for (i, (m, slot)) in modules.iter().zip(locks.iter_mut()).enumerate() {
        let mut backoff = FIRST_BACKOFF;
        let reason = loop {
            match AssertUnwindSafe(m.locker().try_lock()).catch_unwind().await {
                Ok(Ok(Some(guard))) => {
                    *slot = Some(guard);
                    break None;
                }
                Ok(Ok(None)) => match deadline {
                    Some(deadline) if Instant::now() + backoff <= deadline => {
                        tokio::time::sleep(backoff).await;
                        backoff = (backoff * 2).min(MAX_BACKOFF);
                    }
                    _ => break Some(SkipReason::Busy),
                },
                Ok(Err(error)) => break Some(SkipReason::LockError(error)),
                Err(payload) => break Some(SkipReason::LockerPanicked(panic_message(&*payload))),
            }
        };
        if let Some(reason) = reason {
            warn!(module = m.name(), %reason, "module skipped");
            skipped.push((
                i,
                Skipped {
                    module: m.name().to_owned(),
                    reason,
                },
            ));
        }
    }
    skipped
}

type Snapshots = Vec<Option<Box<dyn Snapshot>>>;

/// Reads the modules `which` concurrently, within this task: if the cycle's
/// future is dropped, the reads are dropped with it.
async fn read(
    modules: &[Box<dyn ErasedModule>],
    which: &[usize],
    timeout: Option<Duration>,
    reports: &mut [ModuleReport],
) -> (Snapshots, Vec<(usize, ModuleFailure)>) {
    let results = join_all(which.iter().map(|&i| {
        let m = &modules[i];
        call_async(m.read(), timeout).instrument(info_span!("gc.module.read", module = m.name()))
    }))
    .await;
    let mut snapshots: Snapshots = modules.iter().map(|_| None).collect();
    let mut failures = Vec::new();
    for (&i, (result, time)) in which.iter().zip(results) {
        reports[i].durations.read = time;
        match result {
            Ok(snapshot) => snapshots[i] = Some(snapshot),
            Err(e) => failures.push((i, e.into_failure(modules[i].name(), Phase::Read))),
        }
    }
    (snapshots, failures)
}

/// Marks the unread modules skipped and the modules that depend on them held
/// back; returns which modules go on to resolve.
fn hold_back(
    modules: &[Box<dyn ErasedModule>],
    unread: &[(usize, String)],
    snapshots: &Snapshots,
    reports: &mut [ModuleReport],
) -> Vec<bool> {
    for (i, reason) in unread {
        reports[*i].status = ModuleStatus::Skipped;
        reports[*i].skip_reason = Some(reason.clone());
    }
    let mut active: Vec<bool> = snapshots.iter().map(Option::is_some).collect();
    for (i, m) in modules.iter().enumerate() {
        if !active[i] {
            continue;
        }
        let by: Vec<HeldBackBy> = unread
            .iter()
            .filter_map(|(u, _)| {
                let kinds = m.declared().depends_on(modules[*u].declared().provides.as_deref());
                (!kinds.is_empty()).then(|| HeldBackBy {
                    module: modules[*u].name().to_owned(),
                    kinds,
                })
            })
            .collect();
        if !by.is_empty() {
            warn!(module = m.name(), "held back by a skipped module");
            reports[i].status = ModuleStatus::HeldBack;
            reports[i].held_back_by = by;
            active[i] = false;
        }
    }
    active
}

/// Resolves every active module. Held-back modules were read, so their
/// snapshots stay visible to the others.
fn resolve(
    modules: &[Box<dyn ErasedModule>],
    snapshots: &Snapshots,
    active: &[bool],
    unread: &[Unread],
    reports: &mut [ModuleReport],
) -> Result<Vec<Option<Resolved>>, GcError> {
    // Positions in `read` of the read modules, by module index.
    let mut position = vec![None; modules.len()];
    let mut read: Vec<ReadModule<'_>> = Vec::new();
    for (i, (m, s)) in modules.iter().zip(snapshots).enumerate() {
        if let Some(s) = s {
            position[i] = Some(read.len());
            read.push(ReadModule::new(m.name(), s.as_ref()));
        }
    }
    let mut resolved: Vec<Option<Resolved>> = modules.iter().map(|_| None).collect();
    let mut failures = Vec::new();
    for (i, m) in modules.iter().enumerate() {
        let (true, Some(snapshot)) = (active[i], &snapshots[i]) else {
            continue;
        };
        let _span = info_span!("gc.module.resolve", module = m.name()).entered();
        let others = Others::new(&read, position[i], unread, m.declared().consumes.as_deref());
        let (result, time) = call_sync(|| m.resolve(snapshot.as_ref(), &others));
        reports[i].durations.resolve = time;
        match result {
            Ok(r) => {
                for drop in &r.backstop {
                    warn!(
                        module = m.name(),
                        id = drop.id,
                        referenced_by = drop.referenced_by,
                        "backstop kept a referenced target"
                    );
                }
                reports[i].notes = r.notes.clone();
                reports[i].backstop = r.backstop.clone();
                resolved[i] = Some(r);
            }
            Err(e) => failures.push(e.into_failure(m.name(), Phase::Resolve)),
        }
    }
    if failures.is_empty() {
        Ok(resolved)
    } else {
        Err(GcError::ResolveFailed { failures })
    }
}

/// Withholds what the policies say must wait: young targets (`min_age`),
/// unconfirmed ones (`confirm_cycles`), and whole modules past the
/// mass-deletion guard. Fills in each module's target count and status.
fn apply_policies(
    cycle: &Cycle<'_>,
    mut resolved: Vec<Option<Resolved>>,
    populations: &[Option<usize>],
    reports: &mut [ModuleReport],
) -> Vec<Option<Resolved>> {
    let policies = cycle.policies;
    let now = SystemTime::now();
    let mut confirmations = cycle.confirmations.lock().unwrap_or_else(PoisonError::into_inner);
    for (i, slot) in resolved.iter_mut().enumerate() {
        let Some(r) = slot else { continue };
        let report = &mut reports[i];
        let targets = &mut r.targets;
        let mut keep = vec![true; targets.len()];

        if let Some(min_age) = policies.min_age {
            for (j, k) in keep.iter_mut().enumerate() {
                // A target without a creation time is old enough: the
                // module did not ask for this protection.
                let young = targets
                    .created(j)
                    .is_some_and(|created| now.duration_since(created).unwrap_or_default() < min_age);
                if young {
                    *k = false;
                    report.too_young.add(|| targets.id_string(j));
                }
            }
        }

        if policies.confirm_cycles > 1 {
            let previous = &confirmations[i];
            let mut seen = HashMap::with_capacity(targets.len());
            for (j, k) in keep.iter_mut().enumerate() {
                let id = targets.id_string(j);
                let count = previous.get(&id).copied().unwrap_or(0) + 1;
                if count < policies.confirm_cycles {
                    *k = false;
                    report.unconfirmed.add(|| id.clone());
                }
                seen.insert(id, count);
            }
            // A target that dropped out starts again; a dry run counts nothing.
            if cycle.mode == Mode::Collect {
                confirmations[i] = seen;
            }
        }

        if keep.iter().any(|k| !k) {
            targets.retain(&keep);
        }
        report.targets = targets.len();
        report.status = if targets.len() == 0 {
            ModuleStatus::NothingToDo
        } else {
            ModuleStatus::Planned
        };
        if let Some(guard) = &policies.guard
            && !cycle.options.allow_mass_deletion
            && let Some(why) = guard.check(targets.len(), populations[i])
        {
            warn!(module = report.name, why, "mass-deletion guard withheld the module");
            report.status = ModuleStatus::Withheld;
            report.guard = Some(why);
        }
    }
    resolved
}

/// Checks every held lock; any that is lost aborts the cycle.
async fn check_locks(modules: &[Box<dyn ErasedModule>], locks: &[Option<LockGuard>]) -> Result<(), GcError> {
    let mut lost = Vec::new();
    for (m, guard) in modules.iter().zip(locks) {
        if let Some(guard) = guard
            && let Err(error) = guard.check().await
        {
            lost.push(LostLock {
                module: m.name().to_owned(),
                error,
            });
        }
    }
    if lost.is_empty() {
        Ok(())
    } else {
        Err(GcError::LockLost { lost })
    }
}

/// Collects concurrently across modules; one module's failure is recorded in
/// its report and does not stop the others.
async fn collect(
    modules: &[Box<dyn ErasedModule>],
    work: Vec<(usize, Resolved)>,
    timeout: Option<Duration>,
    observers: &Observers,
    reports: &mut [ModuleReport],
) {
    let calls = work.into_iter().map(|(i, r)| async move {
        let m = &modules[i];
        let total = r.targets.len();
        let span = info_span!("gc.module.collect", module = m.name(), targets = total);
        observers.emit(Event::CollectStarted {
            module: m.name().to_owned(),
            targets: total,
        });
        let sink = std::sync::Arc::new(ProgressSink {
            observers: observers.clone(),
            module: m.name().to_owned(),
            total,
        });
        // collect_each reports progress through this task-local.
        let call = PROGRESS.scope(sink, call_async(m.collect(r.targets.into_ids()), timeout));
        (i, call.instrument(span).await)
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
                } else if e.timed_out {
                    "collect"
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
        observers.emit(Event::CollectFinished {
            module: report.name.clone(),
            collected: report.collected,
            failed: report.failed_count(),
        });
    }
}

/// Releases every lock taken, explicitly and in reverse lock order, and
/// returns the modules whose release failed.
async fn release(modules: &[Box<dyn ErasedModule>], locks: Vec<Option<LockGuard>>) -> Vec<(usize, String)> {
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
