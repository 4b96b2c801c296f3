//! What a cycle did, module by module: serde-serializable, with a `Display`
//! for people.

mod display;

use std::time::Duration;

use serde::{Serialize, Serializer};

use crate::GcError;

/// The outcome of one cycle ([`Orchestrator::run`](crate::Orchestrator::run))
/// or dry run ([`Orchestrator::plan`](crate::Orchestrator::plan)).
///
/// ```
/// # use gc_core::{Orchestrator};
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let report = Orchestrator::builder().build()?.run().await?;
/// assert!(report.is_success());
/// println!("{report}");
/// let json = serde_json::to_string(&report)?;
/// assert!(json.contains("\"dry_run\":false"));
/// # Ok::<_, Box<dyn std::error::Error>>(()) }).unwrap();
/// ```
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// Whether this was a dry run (nothing collected).
    pub dry_run: bool,
    /// Every module, in lock order.
    pub modules: Vec<ModuleReport>,
    /// How long each phase of the cycle took.
    pub phases: PhaseDurations,
}

/// What happened to one module in a cycle.
///
/// ```
/// use gc_core::ModuleStatus;
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// # let scratch = gc_testkit::FakeModule::builder("scratch").objects(["a", "b"]).build();
/// # let gc = gc_core::Orchestrator::builder().module(scratch).build()?;
/// let report = gc.run().await?;
/// let scratch = report.module("scratch").unwrap();
/// assert_eq!(scratch.status, ModuleStatus::Collected);
/// assert_eq!((scratch.targets, scratch.collected), (2, 2));
/// assert!(scratch.failed.is_empty() && scratch.durations.collect.is_some());
/// # Ok::<_, gc_core::GcError>(()) }).unwrap();
/// ```
#[derive(Debug, Clone, Serialize)]
pub struct ModuleReport {
    /// The module's name.
    pub name: String,
    /// Its outcome.
    pub status: ModuleStatus,
    /// How many targets its resolve returned.
    pub targets: usize,
    /// How many of them collect removed (or found already gone).
    pub collected: usize,
    /// The IDs collect could not remove, with the errors.
    pub failed: Vec<FailedId>,
    /// Why collect failed as a whole, if it did (an error or a panic).
    pub error: Option<String>,
    /// What resolve noted (entries it left alone, say).
    pub notes: Vec<String>,
    /// In a dry run: every target with its reason. Empty in a real run.
    pub planned: Vec<PlannedTarget>,
    /// How long its callbacks took.
    pub durations: ModuleDurations,
    /// If releasing its lock failed, why.
    pub release_error: Option<String>,
    /// Partial cycles: why the module was skipped (its lock, or its read).
    pub skip_reason: Option<String>,
    /// Partial cycles: the skipped modules that held this one back, and the
    /// kinds through which it depends on them.
    pub held_back_by: Vec<HeldBackBy>,
    /// Why the mass-deletion guard withheld the whole module, if it did.
    pub guard: Option<String>,
    /// Targets the `min_age` policy withheld as too young.
    pub too_young: WithheldIds,
    /// Targets the `confirm_cycles` policy withheld until confirmed.
    pub unconfirmed: WithheldIds,
    /// Targets the referential backstop dropped: each a bug in this module's
    /// resolve, with the module that still references it.
    pub backstop: Vec<BackstopDrop>,
}

/// A skipped module that held another back.
///
/// ```
/// fn explain(report: &gc_core::Report) {
///     for m in &report.modules {
///         for by in &m.held_back_by {
///             println!("{} held back by {} (it consumes {})", m.name, by.module, by.kinds.join(", "));
///         }
///     }
/// }
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HeldBackBy {
    /// The skipped module.
    pub module: String,
    /// The kinds it may provide that the held-back module consumes.
    pub kinds: Vec<String>,
}

/// Targets a policy withheld: how many, and the first few.
///
/// ```
/// fn explain(report: &gc_core::Report) {
///     for m in &report.modules {
///         if m.too_young.count > 0 {
///             println!("{}: {} too young, such as {:?}", m.name, m.too_young.count, m.too_young.sample);
///         }
///     }
/// }
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct WithheldIds {
    /// How many.
    pub count: usize,
    /// The first [`WithheldIds::SAMPLE`] of them.
    pub sample: Vec<String>,
}

impl WithheldIds {
    /// How many IDs a report keeps as a sample.
    ///
    /// ```
    /// assert_eq!(gc_core::WithheldIds::SAMPLE, 10);
    /// ```
    pub const SAMPLE: usize = 10;

    pub(crate) fn add(&mut self, id: impl FnOnce() -> String) {
        self.count += 1;
        if self.sample.len() < Self::SAMPLE {
            self.sample.push(id());
        }
    }
}

/// A target the referential backstop dropped.
///
/// ```
/// fn resolve_bugs(report: &gc_core::Report) -> usize {
///     for m in &report.modules {
///         for drop in &m.backstop {
///             eprintln!("bug in {}'s resolve: it targeted {}, which {} references as {}", m.name, drop.id, drop.referenced_by, drop.kind);
///         }
///     }
///     report.modules.iter().map(|m| m.backstop.len()).sum()
/// }
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BackstopDrop {
    /// The ID resolve targeted.
    pub id: String,
    /// The module that still references it.
    pub referenced_by: String,
    /// The kind under which it is referenced.
    pub kind: String,
}

/// A module's outcome in a cycle.
///
/// ```
/// use gc_core::ModuleStatus;
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// # let scratch = gc_testkit::FakeModule::builder("scratch").objects(["a", "b"]).build();
/// # let gc = gc_core::Orchestrator::builder().module(scratch).build()?;
/// assert_eq!(gc.plan().await?.modules[0].status, ModuleStatus::Planned);
/// assert_eq!(gc.run().await?.modules[0].status, ModuleStatus::Collected);
/// assert_eq!(gc.run().await?.modules[0].status, ModuleStatus::NothingToDo);
/// assert_eq!(ModuleStatus::PartiallyCollected.to_string(), "partially collected");
/// # Ok::<_, gc_core::GcError>(()) }).unwrap();
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ModuleStatus {
    /// Dry run: the targets were found, nothing was collected.
    Planned,
    /// Resolve returned no targets; collect was not called.
    NothingToDo,
    /// Every target was collected.
    Collected,
    /// Some targets were collected, some failed.
    PartiallyCollected,
    /// Collect failed as a whole, or no target could be collected.
    Failed,
    /// Partial cycles: the module could not be locked or read.
    Skipped,
    /// Partial cycles: the module consumes a kind that a skipped module
    /// provides, so it did not resolve or collect.
    HeldBack,
    /// The mass-deletion guard withheld every target.
    Withheld,
}

/// An ID that collect could not remove.
///
/// ```
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// # let scratch = gc_testkit::FakeModule::builder("scratch").objects(["a", "b"]).build();
/// # scratch.handle().fail_id("b", "permission denied");
/// # let gc = gc_core::Orchestrator::builder().module(scratch).build()?;
/// let report = gc.run().await?;
/// let failed = &report.module("scratch").unwrap().failed;
/// assert_eq!(failed[0].id, "b");
/// assert!(failed[0].error.contains("permission denied"), "{}", failed[0].error);
/// # Ok::<_, gc_core::GcError>(()) }).unwrap();
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FailedId {
    /// The ID, as displayed.
    pub id: String,
    /// The error, with its causes.
    pub error: String,
}

/// A target of a dry run.
///
/// ```
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// # let scratch = gc_testkit::FakeModule::builder("scratch").objects(["a", "b"]).build();
/// # let gc = gc_core::Orchestrator::builder().module(scratch).build()?;
/// let plan = gc.plan().await?;
/// let planned = &plan.module("scratch").unwrap().planned;
/// assert_eq!(planned.iter().map(|t| t.id.as_str()).collect::<Vec<_>>(), ["a", "b"]);
/// println!("{} goes: {}", planned[0].id, planned[0].reason);
/// # Ok::<_, gc_core::GcError>(()) }).unwrap();
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlannedTarget {
    /// The ID, as displayed.
    pub id: String,
    /// Why resolve targeted it.
    pub reason: String,
}

/// How long a module's callbacks took, in milliseconds when serialized.
///
/// ```
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// # let scratch = gc_testkit::FakeModule::builder("scratch").objects(["a", "b"]).build();
/// # let gc = gc_core::Orchestrator::builder().module(scratch).build()?;
/// let report = gc.run().await?;
/// let d = report.module("scratch").unwrap().durations;
/// println!("read {:?}, resolve {:?}, collect {:?}", d.read, d.resolve, d.collect);
/// assert!(d.collect.is_some(), "it had targets, so collect ran");
/// # Ok::<_, gc_core::GcError>(()) }).unwrap();
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct ModuleDurations {
    /// Its read.
    #[serde(serialize_with = "as_ms")]
    pub read: Duration,
    /// Its resolve.
    #[serde(serialize_with = "as_ms")]
    pub resolve: Duration,
    /// Its collect, if it was called.
    #[serde(serialize_with = "opt_as_ms")]
    pub collect: Option<Duration>,
}

/// How long each phase of a cycle took, in milliseconds when serialized.
///
/// ```
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// # let scratch = gc_testkit::FakeModule::builder("scratch").objects(["a", "b"]).build();
/// # let gc = gc_core::Orchestrator::builder().module(scratch).build()?;
/// let report = gc.run().await?;
/// let p = report.phases;
/// assert!(p.total >= p.read + p.resolve);
/// println!("{}", serde_json::to_string(&p).unwrap()); // {"acquire":0.01,"read":0.02,...}
/// # Ok::<_, gc_core::GcError>(()) }).unwrap();
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct PhaseDurations {
    /// Taking the locks.
    #[serde(serialize_with = "as_ms")]
    pub acquire: Duration,
    /// Reading every snapshot (concurrently).
    #[serde(serialize_with = "as_ms")]
    pub read: Duration,
    /// Resolving every module's targets.
    #[serde(serialize_with = "as_ms")]
    pub resolve: Duration,
    /// Collecting (concurrently across modules).
    #[serde(serialize_with = "as_ms")]
    pub collect: Duration,
    /// Releasing the locks.
    #[serde(serialize_with = "as_ms")]
    pub release: Duration,
    /// The whole cycle.
    #[serde(serialize_with = "as_ms")]
    pub total: Duration,
}

fn as_ms<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(d.as_secs_f64() * 1e3)
}

fn opt_as_ms<S: Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
    match d {
        Some(d) => as_ms(d, s),
        None => s.serialize_none(),
    }
}

impl Report {
    /// The report of the module named `name`.
    ///
    /// ```
    /// # fn f(report: &gc_core::Report) {
    /// if let Some(images) = report.module("images") {
    ///     println!("images collected {}", images.collected);
    /// }
    /// # }
    /// ```
    pub fn module(&self, name: &str) -> Option<&ModuleReport> {
        self.modules.iter().find(|m| m.name == name)
    }

    /// Targets found, over every module.
    ///
    /// ```
    /// # fn f(report: &gc_core::Report) { println!("{}", report.total_targets()); }
    /// ```
    pub fn total_targets(&self) -> usize {
        self.modules.iter().map(|m| m.targets).sum()
    }

    /// IDs collected, over every module.
    ///
    /// ```
    /// # fn f(report: &gc_core::Report) { println!("{}", report.total_collected()); }
    /// ```
    pub fn total_collected(&self) -> usize {
        self.modules.iter().map(|m| m.collected).sum()
    }

    /// IDs that failed, over every module (a module whose collect failed as a
    /// whole counts all its targets).
    ///
    /// ```
    /// # fn f(report: &gc_core::Report) { println!("{}", report.total_failed()); }
    /// ```
    pub fn total_failed(&self) -> usize {
        self.modules.iter().map(ModuleReport::failed_count).sum()
    }

    /// Whether any module was skipped or held back (a partial cycle).
    ///
    /// ```
    /// # fn f(report: &gc_core::Report) { if report.is_partial() { println!("partial"); } }
    /// ```
    pub fn is_partial(&self) -> bool {
        self.modules
            .iter()
            .any(|m| matches!(m.status, ModuleStatus::Skipped | ModuleStatus::HeldBack))
    }

    /// Whether no collect failed, wholly or in part.
    ///
    /// ```
    /// # fn f(report: &gc_core::Report) { assert!(report.is_success()); }
    /// ```
    pub fn is_success(&self) -> bool {
        self.failed_modules().next().is_none()
    }

    /// `Err` naming every module whose collect failed, wholly or in part; so
    /// that `orchestrator.run().await?.check()?` fails on any failure.
    ///
    /// ```
    /// # async fn f(orchestrator: &gc_core::Orchestrator) -> Result<(), gc_core::GcError> {
    /// let report = orchestrator.run().await?;
    /// report.check()?;
    /// # Ok(()) }
    /// ```
    pub fn check(&self) -> Result<&Self, GcError> {
        let modules: Vec<String> = self.failed_modules().map(|m| m.name.clone()).collect();
        if modules.is_empty() {
            Ok(self)
        } else {
            Err(GcError::CollectFailed { modules })
        }
    }

    fn failed_modules(&self) -> impl Iterator<Item = &ModuleReport> {
        self.modules
            .iter()
            .filter(|m| matches!(m.status, ModuleStatus::Failed | ModuleStatus::PartiallyCollected))
    }
}

impl ModuleReport {
    /// How many targets were not collected because collect failed for them.
    ///
    /// ```
    /// # fn f(m: &gc_core::ModuleReport) { println!("{}", m.failed_count()); }
    /// ```
    pub fn failed_count(&self) -> usize {
        match self.status {
            ModuleStatus::Failed | ModuleStatus::PartiallyCollected => {
                self.targets.saturating_sub(self.collected).max(self.failed.len())
            }
            _ => 0,
        }
    }
}
