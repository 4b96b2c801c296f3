//! Events of a cycle, for progress displays, logs and dashboards.

use std::sync::Arc;
use std::time::Duration;

use crate::Phase;

/// What happens in a cycle, as it happens.
///
/// ```
/// use gc_core::{Event, Orchestrator};
///
/// let gc = Orchestrator::builder()
///     .observer(|event: &Event| {
///         if let Event::Progress { module, done, total, .. } = event {
///             eprintln!("{module}: {done}/{total}");
///         }
///     })
///     .build()
///     .unwrap();
/// # drop(gc);
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Event {
    /// A cycle (or a dry run) began.
    CycleStarted {
        /// Whether it is a dry run.
        dry_run: bool,
        /// How many modules it covers.
        modules: usize,
    },
    /// A phase ended.
    PhaseFinished {
        /// The phase.
        phase: Phase,
        /// How long it took.
        elapsed: Duration,
    },
    /// A module's collect began.
    CollectStarted {
        /// The module.
        module: String,
        /// How many targets it was given.
        targets: usize,
    },
    /// A module's collect removed (or failed) some more IDs; sent by
    /// [`collect_each`](crate::collect_each) and [`report_progress`].
    Progress {
        /// The module.
        module: String,
        /// IDs done so far, removed or failed.
        done: usize,
        /// Of which failed.
        failed: usize,
        /// IDs it was given.
        total: usize,
    },
    /// A module's collect ended.
    CollectFinished {
        /// The module.
        module: String,
        /// IDs collected.
        collected: usize,
        /// IDs that failed (all its targets, if collect failed as a whole).
        failed: usize,
    },
    /// A cycle ended with a report.
    CycleFinished {
        /// Targets found.
        targets: usize,
        /// IDs collected.
        collected: usize,
        /// IDs that failed.
        failed: usize,
        /// How long the cycle took.
        elapsed: Duration,
    },
    /// A cycle aborted: nothing was collected.
    CycleAborted {
        /// Why.
        error: String,
    },
}

/// Receives the [`Event`]s of every cycle. Called inline, from the cycle's
/// task: keep it quick (hand work to a channel if it is not). A closure
/// `Fn(&Event)` is an observer; so is a type of yours:
///
/// ```
/// use std::sync::atomic::{AtomicUsize, Ordering};
/// use gc_core::{Event, Observer, Orchestrator};
///
/// #[derive(Default)]
/// struct Aborts(AtomicUsize);
/// impl Observer for Aborts {
///     fn on_event(&self, event: &Event) {
///         if let Event::CycleAborted { .. } = event {
///             self.0.fetch_add(1, Ordering::Relaxed);
///         }
///     }
/// }
/// let gc = Orchestrator::builder().observer(Aborts::default()).build().unwrap();
/// # drop(gc);
/// ```
pub trait Observer: Send + Sync {
    /// One event.
    fn on_event(&self, event: &Event);
}

impl<F: Fn(&Event) + Send + Sync> Observer for F {
    fn on_event(&self, event: &Event) {
        self(event)
    }
}

/// The observers of one orchestrator.
#[derive(Clone, Default)]
pub(crate) struct Observers(pub(crate) Vec<Arc<dyn Observer>>);

impl Observers {
    pub(crate) fn emit(&self, event: Event) {
        for o in &self.0 {
            o.on_event(&event);
        }
    }
}

/// Where a module's collect reports its progress, while it runs.
pub(crate) struct ProgressSink {
    pub(crate) observers: Observers,
    pub(crate) module: String,
    pub(crate) total: usize,
}

tokio::task_local! {
    pub(crate) static PROGRESS: Arc<ProgressSink>;
}

/// Reports the progress of the collect running now: `done` IDs handled so
/// far, `failed` of them failed. For hand-written collects that want to feed
/// [`Event::Progress`]; [`collect_each`](crate::collect_each) calls it for
/// you. Outside a collect it does nothing.
///
/// ```
/// gc_core::report_progress(10, 0); // no collect is running: ignored
/// ```
pub fn report_progress(done: usize, failed: usize) {
    let _ = PROGRESS.try_with(|sink| {
        if !sink.observers.0.is_empty() {
            sink.observers.emit(Event::Progress {
                module: sink.module.clone(),
                done,
                failed,
                total: sink.total,
            });
        }
    });
}
