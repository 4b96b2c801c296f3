//! The orchestrator: registers modules and runs cycles over them.

mod call;
mod cycle;
mod erased;
#[cfg(feature = "metrics")]
mod metrics;
mod policy;

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use crate::observe::Observers;
use crate::{GcError, GcModule, Observer, Report};

use cycle::{Confirmations, Cycle, Mode};
use erased::{ErasedModule, Typed};
pub(crate) use policy::Policies;
pub use policy::{MassDeletionGuard, RunOptions};

/// Runs GC cycles over a fixed set of modules, by the safety model of
/// `docs/concepts.md`: lock every module in name order, abort unless all are
/// locked, read every snapshot concurrently, resolve, collect, and release
/// every lock on every path.
///
/// ```
/// use gc_core::Orchestrator;
/// # use std::collections::BTreeSet;
/// # use std::sync::Mutex;
/// # use gc_core::{CollectOutcome, GcModule, LocalLocker, Locker, Others, Snapshot, Targets};
/// # struct Scratch { files: Mutex<BTreeSet<String>>, locker: LocalLocker }
/// # struct ScratchSnapshot(Vec<String>);
/// # impl Snapshot for ScratchSnapshot {}
/// # impl GcModule for Scratch {
/// #     type Snapshot = ScratchSnapshot;
/// #     type Id = String;
/// #     fn name(&self) -> &str { "scratch" }
/// #     fn locker(&self) -> &dyn Locker { &self.locker }
/// #     async fn read(&self) -> anyhow::Result<ScratchSnapshot> {
/// #         Ok(ScratchSnapshot(self.files.lock().unwrap().iter().cloned().collect()))
/// #     }
/// #     fn resolve(&self, snap: &ScratchSnapshot, _: &Others<'_>) -> anyhow::Result<Targets<String>> {
/// #         Ok(snap.0.iter().map(|f| (f.clone(), "scratch")).collect())
/// #     }
/// #     async fn collect(&self, ids: Vec<String>) -> anyhow::Result<CollectOutcome<String>> {
/// #         let mut files = self.files.lock().unwrap();
/// #         for id in &ids { files.remove(id); }
/// #         Ok(CollectOutcome::all(ids))
/// #     }
/// # }
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let scratch = Scratch {
///     files: Mutex::new(["a".to_owned(), "b".to_owned()].into()),
///     locker: LocalLocker::new(),
/// };
/// let gc = Orchestrator::builder().module(scratch).build()?;
///
/// let plan = gc.plan().await?;          // the dry run: nothing collected
/// assert_eq!(plan.total_targets(), 2);
///
/// let report = gc.run().await?;
/// assert_eq!(report.total_collected(), 2);
/// assert_eq!(gc.run().await?.total_collected(), 0);
/// # Ok::<_, gc_core::GcError>(()) }).unwrap();
/// ```
pub struct Orchestrator {
    /// Sorted by name: that is the lock order.
    modules: Vec<Box<dyn ErasedModule>>,
    policies: Policies,
    confirmations: Confirmations,
    observers: Observers,
}

impl Orchestrator {
    /// A builder to register modules with.
    ///
    /// ```
    /// let gc = gc_core::Orchestrator::builder().build().unwrap();
    /// assert_eq!(gc.module_names().count(), 0);
    /// ```
    pub fn builder() -> OrchestratorBuilder {
        OrchestratorBuilder {
            modules: Vec::new(),
            policies: Policies::default(),
            observers: Observers::default(),
        }
    }

    fn cycle(&self, mode: Mode, options: RunOptions) -> Cycle<'_> {
        Cycle {
            modules: &self.modules,
            policies: &self.policies,
            confirmations: &self.confirmations,
            options,
            mode,
            observers: &self.observers,
        }
    }

    /// Runs one cycle: locks, reads, resolves and collects.
    ///
    /// `Err` when the cycle aborted (a module skipped, a read or resolve
    /// failed): then nothing was collected. A failing collect does not abort:
    /// the other modules still collect, and the report says what failed
    /// ([`Report::check`] turns that into an error). Every lock taken is
    /// released on every path, including panics in module callbacks and this
    /// future being dropped.
    ///
    /// ```
    /// # async fn f(gc: &gc_core::Orchestrator) -> Result<(), gc_core::GcError> {
    /// let report = gc.run().await?;
    /// println!("{report}");
    /// report.check()?;
    /// # Ok(()) }
    /// ```
    pub async fn run(&self) -> Result<Report, GcError> {
        self.run_with(RunOptions::new()).await
    }

    /// [`run`](Self::run) with options for this run only, such as letting
    /// it past the mass-deletion guard.
    ///
    /// ```
    /// # async fn f(gc: &gc_core::Orchestrator) -> Result<(), gc_core::GcError> {
    /// let report = gc.run_with(gc_core::RunOptions::new().allow_mass_deletion()).await?;
    /// # Ok(()) }
    /// ```
    pub async fn run_with(&self, options: RunOptions) -> Result<Report, GcError> {
        cycle::run(self.cycle(Mode::Collect, options)).await
    }

    /// The dry run: the same cycle up to resolve, under the same locks, then
    /// release. Nothing is collected; the report lists every target with its
    /// reason.
    ///
    /// ```
    /// # async fn f(gc: &gc_core::Orchestrator) -> Result<(), gc_core::GcError> {
    /// for module in gc.plan().await?.modules {
    ///     for target in module.planned {
    ///         println!("{}: would collect {} ({})", module.name, target.id, target.reason);
    ///     }
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn plan(&self) -> Result<Report, GcError> {
        self.plan_with(RunOptions::new()).await
    }

    /// [`plan`](Self::plan) with options for this plan only.
    ///
    /// ```
    /// # async fn f(gc: &gc_core::Orchestrator) -> Result<(), gc_core::GcError> {
    /// let plan = gc.plan_with(gc_core::RunOptions::new().allow_mass_deletion()).await?;
    /// # Ok(()) }
    /// ```
    pub async fn plan_with(&self, options: RunOptions) -> Result<Report, GcError> {
        cycle::run(self.cycle(Mode::Plan, options)).await
    }

    /// The registered modules' names, in lock order.
    ///
    /// ```
    /// # fn f(gc: &gc_core::Orchestrator) {
    /// let names: Vec<&str> = gc.module_names().collect();
    /// # }
    /// ```
    pub fn module_names(&self) -> impl Iterator<Item = &str> {
        self.modules.iter().map(|m| m.name())
    }
}

/// Registers modules for an [`Orchestrator`] and sets its policies (see
/// `docs/policies.md`).
///
/// ```
/// use std::time::Duration;
/// # fn f(vms: impl gc_core::GcModule, images: impl gc_core::GcModule) -> Result<(), gc_core::GcError> {
/// let gc = gc_core::Orchestrator::builder()
///     .module(vms)
///     .module(images)
///     .wait_for_locks(Duration::from_secs(5))
///     .collect_timeout(Duration::from_secs(600))
///     .build()?;
/// # Ok(()) }
/// ```
pub struct OrchestratorBuilder {
    modules: Vec<Box<dyn ErasedModule>>,
    policies: Policies,
    observers: Observers,
}

impl OrchestratorBuilder {
    /// Registers a module. Register an `Arc` of the store to keep using it
    /// from the store's own code.
    ///
    /// ```
    /// # fn f(images: std::sync::Arc<impl gc_core::GcModule>) -> Result<(), gc_core::GcError> {
    /// let gc = gc_core::Orchestrator::builder().module(images.clone()).build()?;
    /// # Ok(()) }
    /// ```
    pub fn module(mut self, module: impl GcModule) -> Self {
        self.modules.push(Box::new(Typed::new(module)));
        self
    }

    /// Adds an observer of every cycle's [`Event`](crate::Event)s (several
    /// may be added).
    ///
    /// ```
    /// let gc = gc_core::Orchestrator::builder()
    ///     .observer(|event: &gc_core::Event| println!("{event:?}"))
    ///     .build()
    ///     .unwrap();
    /// # drop(gc);
    /// ```
    pub fn observer(mut self, observer: impl Observer + 'static) -> Self {
        self.observers.0.push(std::sync::Arc::new(observer));
        self
    }

    /// Dependency-aware partial cycles: a module that cannot be locked or
    /// read no longer aborts the cycle; it holds back exactly the modules
    /// that consume a kind it may provide, and the rest run. Off by default
    /// (fail-closed).
    ///
    /// ```
    /// let gc = gc_core::Orchestrator::builder().partial().build().unwrap();
    /// # drop(gc);
    /// ```
    pub fn partial(mut self) -> Self {
        self.policies.partial = true;
        self
    }

    /// Sets the mass-deletion guard's bound (on by default, with
    /// [`MassDeletionGuard::default`]).
    ///
    /// ```
    /// use gc_core::MassDeletionGuard;
    /// let gc = gc_core::Orchestrator::builder()
    ///     .mass_deletion_guard(MassDeletionGuard { max_share: 0.2, ..MassDeletionGuard::default() })
    ///     .build()
    ///     .unwrap();
    /// # drop(gc);
    /// ```
    pub fn mass_deletion_guard(mut self, guard: MassDeletionGuard) -> Self {
        self.policies.guard = Some(guard);
        self
    }

    /// Turns the mass-deletion guard off.
    ///
    /// ```
    /// let gc = gc_core::Orchestrator::builder().no_mass_deletion_guard().build().unwrap();
    /// # drop(gc);
    /// ```
    pub fn no_mass_deletion_guard(mut self) -> Self {
        self.policies.guard = None;
        self
    }

    /// Withholds targets created less than `age` ago (targets that carry
    /// their creation time, see [`Targets::push_created`](crate::Targets::push_created)).
    ///
    /// ```
    /// use std::time::Duration;
    /// let gc = gc_core::Orchestrator::builder().min_age(Duration::from_secs(24 * 3600)).build().unwrap();
    /// # drop(gc);
    /// ```
    pub fn min_age(mut self, age: Duration) -> Self {
        self.policies.min_age = Some(age);
        self
    }

    /// Collects a target only once it has been resolved in `cycles`
    /// consecutive cycles of this orchestrator; one that drops out in
    /// between starts again. `1` (the default) collects at once.
    ///
    /// ```
    /// let gc = gc_core::Orchestrator::builder().confirm_cycles(3).build().unwrap();
    /// # drop(gc);
    /// ```
    pub fn confirm_cycles(mut self, cycles: u32) -> Self {
        self.policies.confirm_cycles = cycles.max(1);
        self
    }

    /// Drops a module's read after `limit`: it counts as a failed read.
    ///
    /// ```
    /// use std::time::Duration;
    /// let gc = gc_core::Orchestrator::builder().read_timeout(Duration::from_secs(30)).build().unwrap();
    /// # drop(gc);
    /// ```
    pub fn read_timeout(mut self, limit: Duration) -> Self {
        self.policies.read_timeout = Some(limit);
        self
    }

    /// Drops a module's collect after `limit`: that module has failed, the
    /// others go on, and every lock is released.
    ///
    /// ```
    /// use std::time::Duration;
    /// let gc = gc_core::Orchestrator::builder().collect_timeout(Duration::from_secs(600)).build().unwrap();
    /// # drop(gc);
    /// ```
    pub fn collect_timeout(mut self, limit: Duration) -> Self {
        self.policies.collect_timeout = Some(limit);
        self
    }

    /// Instead of trying each lock once, retries busy locks with backoff, in
    /// the fixed order, until `wait` has passed since the cycle began.
    ///
    /// ```
    /// use std::time::Duration;
    /// let gc = gc_core::Orchestrator::builder().wait_for_locks(Duration::from_secs(5)).build().unwrap();
    /// # drop(gc);
    /// ```
    pub fn wait_for_locks(mut self, wait: Duration) -> Self {
        self.policies.lock_wait = Some(wait);
        self
    }

    /// The orchestrator; an error if two modules share a name, a name is
    /// empty or holds control characters, or the mass-deletion guard's
    /// `max_share` is not a share from 0 to 1.
    ///
    /// ```
    /// # fn f(a: impl gc_core::GcModule, b: impl gc_core::GcModule) {
    /// match gc_core::Orchestrator::builder().module(a).module(b).build() {
    ///     Ok(gc) => println!("{} modules", gc.module_names().count()),
    ///     Err(e) => eprintln!("{e}"),
    /// }
    /// # }
    /// ```
    pub fn build(mut self) -> Result<Orchestrator, GcError> {
        if let Some(guard) = &self.policies.guard
            && !(0.0..=1.0).contains(&guard.max_share)
        {
            // NaN fails this too: it would compare false and never withhold.
            return Err(GcError::InvalidPolicy {
                policy: "mass_deletion_guard",
                why: format!("max_share is {}, not a share from 0 to 1", guard.max_share),
            });
        }
        for module in &self.modules {
            let name = module.name();
            let why = if name.is_empty() {
                Some("it is empty")
            } else if name.chars().any(char::is_control) {
                Some("it holds control characters")
            } else if name.trim() != name {
                Some("it starts or ends with white space")
            } else {
                None
            };
            if let Some(why) = why {
                return Err(GcError::InvalidModuleName {
                    name: name.to_owned(),
                    why,
                });
            }
        }
        self.modules.sort_by(|a, b| a.name().cmp(b.name()));
        if let Some(pair) = self.modules.windows(2).find(|w| w[0].name() == w[1].name()) {
            return Err(GcError::DuplicateModule {
                name: pair[0].name().to_owned(),
            });
        }
        let confirmations = Mutex::new(self.modules.iter().map(|_| HashMap::new()).collect());
        Ok(Orchestrator {
            modules: self.modules,
            policies: self.policies,
            confirmations,
            observers: self.observers,
        })
    }
}
