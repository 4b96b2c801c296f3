//! The policies a cycle runs under, set on the builder, and the options of
//! one run.

use std::time::Duration;

/// The mass-deletion guard: a module whose targets exceed a share of its
/// population, or an absolute count, is withheld (collects nothing) and
/// reported with the numbers. A read that returned an empty index while the
/// data is still on disk looks like "everything is orphaned": this is what
/// stops it.
///
/// On by default with [`MassDeletionGuard::default`]: more than half of the
/// population, once there are more than 10 targets.
///
/// ```
/// use gc_core::{MassDeletionGuard, Orchestrator};
///
/// let strict = MassDeletionGuard { max_share: 0.1, max_count: Some(10_000), min_targets: 0 };
/// let gc = Orchestrator::builder().mass_deletion_guard(strict).build().unwrap();
/// # drop(gc);
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MassDeletionGuard {
    /// The largest share of a module's population (its snapshot's
    /// [`population`](crate::Snapshot::population)) that one cycle may
    /// collect, from 0 to 1. Modules that report no population are checked
    /// against `max_count` only.
    pub max_share: f64,
    /// The most targets one module may collect in one cycle, if bounded.
    pub max_count: Option<usize>,
    /// At or below this many targets a module is never withheld: small
    /// clean-ups of small stores always pass.
    pub min_targets: usize,
}

impl Default for MassDeletionGuard {
    fn default() -> Self {
        MassDeletionGuard {
            max_share: 0.5,
            max_count: None,
            min_targets: 10,
        }
    }
}

impl MassDeletionGuard {
    /// Why `targets` out of `population` must be withheld, if they must.
    ///
    /// ```
    /// let guard = gc_core::MassDeletionGuard::default();
    /// assert!(guard.check(900, Some(1000)).is_some());
    /// assert!(guard.check(100, Some(1000)).is_none());
    /// assert!(guard.check(5, Some(5)).is_none()); // at most min_targets
    /// ```
    pub fn check(&self, targets: usize, population: Option<usize>) -> Option<String> {
        if targets <= self.min_targets {
            return None;
        }
        if let Some(max) = self.max_count
            && targets > max
        {
            return Some(format!("{targets} targets exceed the bound of {max}"));
        }
        let population = population?;
        // Precision is no concern at these magnitudes.
        #[allow(clippy::cast_precision_loss)]
        let share = targets as f64 / population.max(1) as f64;
        (share > self.max_share).then(|| {
            format!(
                "{targets} of {population} objects ({:.0}%) exceed the bound of {:.0}%",
                share * 100.0,
                self.max_share * 100.0
            )
        })
    }
}

/// Everything a cycle runs under.
#[derive(Debug, Clone)]
pub(crate) struct Policies {
    pub(crate) partial: bool,
    pub(crate) guard: Option<MassDeletionGuard>,
    pub(crate) min_age: Option<Duration>,
    pub(crate) confirm_cycles: u32,
    pub(crate) read_timeout: Option<Duration>,
    pub(crate) collect_timeout: Option<Duration>,
    pub(crate) lock_wait: Option<Duration>,
}

impl Default for Policies {
    fn default() -> Self {
        Policies {
            partial: false,
            guard: Some(MassDeletionGuard::default()),
            min_age: None,
            confirm_cycles: 1,
            read_timeout: None,
            collect_timeout: None,
            lock_wait: None,
        }
    }
}

/// Options of one run or plan, beside the orchestrator's policies.
///
/// ```
/// # async fn f(gc: &gc_core::Orchestrator) -> Result<(), gc_core::GcError> {
/// use gc_core::RunOptions;
/// // An operator checked the plan: the mass deletion is intended.
/// let report = gc.run_with(RunOptions::new().allow_mass_deletion()).await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct RunOptions {
    pub(crate) allow_mass_deletion: bool,
}

impl RunOptions {
    /// The defaults: every policy as configured.
    ///
    /// ```
    /// let options = gc_core::RunOptions::new();
    /// # drop(options);
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// Lets this run collect what the mass-deletion guard would withhold.
    ///
    /// ```
    /// let options = gc_core::RunOptions::new().allow_mass_deletion();
    /// # drop(options);
    /// ```
    pub fn allow_mass_deletion(mut self) -> Self {
        self.allow_mass_deletion = true;
        self
    }
}
