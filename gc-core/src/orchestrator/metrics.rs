//! Metrics through the `metrics` facade (feature `metrics`). The names are
//! listed in docs/daemon.md.

use crate::report::{ModuleStatus, PhaseDurations};
use crate::{GcError, Phase};

pub(crate) fn record(result: &Result<Vec<crate::ModuleReport>, GcError>, phases: &PhaseDurations) {
    let outcome = match result {
        Ok(modules)
            if modules
                .iter()
                .any(|m| matches!(m.status, ModuleStatus::Failed | ModuleStatus::PartiallyCollected)) =>
        {
            "collect_failed"
        }
        Ok(_) => "ok",
        Err(GcError::Skipped { .. }) => "busy",
        Err(GcError::ReadFailed { .. }) => "read_failed",
        Err(GcError::ResolveFailed { .. }) => "resolve_failed",
        Err(GcError::LockLost { .. }) => "lock_lost",
        Err(_) => "error",
    };
    metrics::counter!("gc_cycles_total", "outcome" => outcome).increment(1);
    for (phase, d) in [
        (Phase::Acquire, phases.acquire),
        (Phase::Read, phases.read),
        (Phase::Resolve, phases.resolve),
        (Phase::Collect, phases.collect),
        (Phase::Release, phases.release),
    ] {
        metrics::histogram!("gc_phase_duration_seconds", "phase" => phase.to_string()).record(d.as_secs_f64());
    }
    metrics::histogram!("gc_cycle_duration_seconds").record(phases.total.as_secs_f64());
    if let Ok(modules) = result {
        for m in modules {
            metrics::counter!("gc_ids_collected_total", "module" => m.name.clone()).increment(m.collected as u64);
            metrics::counter!("gc_ids_failed_total", "module" => m.name.clone()).increment(m.failed_count() as u64);
            metrics::gauge!("gc_targets", "module" => m.name.clone()).set(m.targets as f64);
        }
    }
}
