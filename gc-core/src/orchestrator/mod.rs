//! The orchestrator: registers modules and runs cycles over them.

mod call;
mod cycle;
mod erased;

use crate::{GcError, GcModule, Report};

use erased::{ErasedModule, Typed};

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
        cycle::run(&self.modules, cycle::Mode::Collect).await
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
        cycle::run(&self.modules, cycle::Mode::Plan).await
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

/// Registers modules for an [`Orchestrator`].
pub struct OrchestratorBuilder {
    modules: Vec<Box<dyn ErasedModule>>,
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
        self.modules.push(Box::new(Typed(module)));
        self
    }

    /// The orchestrator; an error if two modules share a name or a name is
    /// empty or holds control characters.
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
        Ok(Orchestrator {
            modules: self.modules,
        })
    }
}
