//! What resolve returns (targets, each with a reason) and what collect
//! returns (which IDs went, and which failed and why).

use std::borrow::Cow;
use std::time::{Duration, SystemTime};

use crate::GcId;

/// Why an ID is to be collected, as shown in plans and reports: a
/// `&'static str` costs nothing, a `String` is kept as it is.
///
/// ```
/// let fixed: gc_core::Reason = "unreferenced".into();
/// let built: gc_core::Reason = format!("orphaned for {} days", 3).into();
/// assert_eq!(fixed, "unreferenced");
/// assert_eq!(built, "orphaned for 3 days");
/// ```
pub type Reason = Cow<'static, str>;

/// One target as [`Targets::iter`] shows it: an ID, why it is to be
/// collected, and when its object was created, if the module knows.
///
/// ```
/// let mut targets = gc_core::Targets::new();
/// targets.push("tmp-1".to_owned(), "stale upload");
/// let target = targets.iter().next().unwrap();
/// assert_eq!((target.id.as_str(), target.reason), ("tmp-1", "stale upload"));
/// assert!(target.created.is_none());
/// ```
#[derive(Debug, PartialEq, Eq)]
pub struct Target<'a, I> {
    /// The ID.
    pub id: &'a I,
    /// Why it is to be collected.
    pub reason: &'a str,
    /// When the object was created, if the module knows: the `min_age`
    /// policy withholds targets younger than its bound.
    pub created: Option<SystemTime>,
}

// Not derived: that would ask `I: Clone` of what is only borrowed.
impl<I> Clone for Target<'_, I> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<I> Copy for Target<'_, I> {}

/// The targets a module's resolve returns: IDs, each with a reason, and notes
/// on what resolve left alone (shown in the report).
///
/// The IDs sit in one `Vec`, which collect receives as it is: a reason is
/// stored once per run of targets that share it, and creation times only
/// once a target carries one. So a resolve of millions of targets costs
/// little more than the `Vec` of their IDs (docs/performance.md).
///
/// ```
/// use gc_core::Targets;
///
/// let mut targets = Targets::new();
/// targets.push("run-7".to_owned(), "no VM of that ID");
/// targets.extend(["tmp-1".to_owned(), "tmp-2".to_owned()], "stale temporary dir");
/// targets.note("left alone: entry \"..\" is not a valid name");
/// assert_eq!(targets.len(), 3);
/// assert_eq!(targets.iter().next().unwrap().reason, "no VM of that ID");
/// assert_eq!(targets.reason(2), "stale temporary dir");
/// ```
#[derive(Debug, Clone)]
pub struct Targets<I> {
    ids: Vec<I>,
    /// `(first index, reason)` of each run of targets that share a reason,
    /// in index order; two neighbouring runs never share one.
    reasons: Vec<(usize, Reason)>,
    /// One entry per ID once any target carries a creation time; empty
    /// before that.
    created: Vec<Option<SystemTime>>,
    notes: Vec<String>,
}

/// Equal when they hold the same targets, reasons, creation times and
/// notes, however they were built.
impl<I: GcId> PartialEq for Targets<I> {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().eq(other.iter()) && self.notes == other.notes
    }
}
impl<I: GcId> Eq for Targets<I> {}

impl<I> Default for Targets<I> {
    fn default() -> Self {
        Targets {
            ids: Vec::new(),
            reasons: Vec::new(),
            created: Vec::new(),
            notes: Vec::new(),
        }
    }
}

impl<I: GcId> Targets<I> {
    /// No targets.
    ///
    /// ```
    /// assert!(gc_core::Targets::<String>::new().is_empty());
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// Starts a run of `reason` at the next index, unless the last run
    /// already has that reason.
    fn open_run(&mut self, reason: Reason) {
        if self.reasons.last().is_none_or(|(_, last)| *last != reason) {
            self.reasons.push((self.ids.len(), reason));
        }
    }

    /// Adds one target.
    ///
    /// ```
    /// let mut t = gc_core::Targets::new();
    /// t.push(7u64, format!("orphaned since cycle {}", 3));
    /// assert_eq!(t.ids().collect::<Vec<_>>(), [&7]);
    /// ```
    pub fn push(&mut self, id: I, reason: impl Into<Reason>) -> &mut Self {
        self.open_run(reason.into());
        self.ids.push(id);
        if !self.created.is_empty() {
            self.created.push(None);
        }
        self
    }

    /// Adds one target created at `created`, so that the `min_age` policy
    /// can withhold it while it is young (an upload still in progress, say).
    ///
    /// ```
    /// use std::time::SystemTime;
    /// let mut t = gc_core::Targets::new();
    /// t.push_created("tmp-1".to_owned(), "stale upload", SystemTime::now());
    /// assert!(t.iter().next().unwrap().created.is_some());
    /// ```
    pub fn push_created(&mut self, id: I, reason: impl Into<Reason>, created: SystemTime) -> &mut Self {
        self.open_run(reason.into());
        self.created.resize(self.ids.len(), None);
        self.ids.push(id);
        self.created.push(Some(created));
        self
    }

    /// Adds one target that is `age` old now.
    ///
    /// ```
    /// use std::time::Duration;
    /// let mut t = gc_core::Targets::new();
    /// t.push_aged(7u64, "expired", Duration::from_secs(3600));
    /// assert_eq!(t.len(), 1);
    /// ```
    pub fn push_aged(&mut self, id: I, reason: impl Into<Reason>, age: Duration) -> &mut Self {
        let created = SystemTime::now().checked_sub(age).unwrap_or(SystemTime::UNIX_EPOCH);
        self.push_created(id, reason, created)
    }

    /// Adds several targets that share a reason.
    ///
    /// ```
    /// let mut t = gc_core::Targets::new();
    /// t.extend([1u32, 2, 3], "unreferenced");
    /// assert_eq!(t.len(), 3);
    /// ```
    pub fn extend(&mut self, ids: impl IntoIterator<Item = I>, reason: impl Into<Reason>) -> &mut Self {
        let mut ids = ids.into_iter().peekable();
        if ids.peek().is_some() {
            self.open_run(reason.into());
            self.ids.extend(ids);
        }
        if !self.created.is_empty() {
            self.created.resize(self.ids.len(), None);
        }
        self
    }

    /// Records something resolve chose not to target (an entry it could not
    /// parse, say), for the report.
    ///
    /// ```
    /// let mut t = gc_core::Targets::<String>::new();
    /// t.note("skipped 1 unreadable entry");
    /// assert_eq!(t.notes(), ["skipped 1 unreadable entry"]);
    /// ```
    pub fn note(&mut self, note: impl Into<String>) -> &mut Self {
        self.notes.push(note.into());
        self
    }

    /// How many targets.
    ///
    /// ```
    /// assert_eq!(gc_core::Targets::<u8>::new().len(), 0);
    /// ```
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// Whether there are no targets.
    ///
    /// ```
    /// assert!(gc_core::Targets::<u8>::new().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// The reason of the target at `index` (in the order they were added).
    ///
    /// # Panics
    ///
    /// If `index` is out of bounds, as slice indexing does.
    ///
    /// ```
    /// let mut t = gc_core::Targets::new();
    /// t.push(1u8, "first").extend([2, 3], "rest");
    /// assert_eq!(t.reason(0), "first");
    /// assert_eq!(t.reason(2), "rest");
    /// ```
    pub fn reason(&self, index: usize) -> &str {
        assert!(
            index < self.ids.len(),
            "target index {index} out of bounds ({})",
            self.ids.len()
        );
        let run = self.reasons.partition_point(|(start, _)| *start <= index) - 1;
        &self.reasons[run].1
    }

    /// When the object of the target at `index` was created, if the module
    /// said.
    ///
    /// ```
    /// use std::time::SystemTime;
    /// let mut t = gc_core::Targets::new();
    /// t.push(1u8, "old").push_created(2, "new", SystemTime::now());
    /// assert!(t.created(0).is_none());
    /// assert!(t.created(1).is_some());
    /// ```
    pub fn created(&self, index: usize) -> Option<SystemTime> {
        self.created.get(index).copied().flatten()
    }

    /// The targets with their reasons, in the order they were added.
    ///
    /// ```
    /// let mut t = gc_core::Targets::new();
    /// t.push(1u8, "why");
    /// assert!(t.iter().all(|target| target.reason == "why"));
    /// ```
    pub fn iter(&self) -> impl Iterator<Item = Target<'_, I>> + '_ {
        // Each run's reason, repeated over the run's IDs.
        let runs = self.reasons.iter().enumerate().flat_map(move |(r, (start, reason))| {
            let end = self.reasons.get(r + 1).map_or(self.ids.len(), |(next, _)| *next);
            (*start..end).map(move |_| reason.as_ref())
        });
        self.ids.iter().zip(runs).enumerate().map(|(i, (id, reason))| Target {
            id,
            reason,
            created: self.created(i),
        })
    }

    /// The target IDs.
    ///
    /// ```
    /// let mut t = gc_core::Targets::new();
    /// t.push(1u8, "why");
    /// assert_eq!(t.ids().copied().collect::<Vec<_>>(), [1]);
    /// ```
    pub fn ids(&self) -> std::slice::Iter<'_, I> {
        self.ids.iter()
    }

    /// The notes resolve left.
    ///
    /// ```
    /// assert!(gc_core::Targets::<u8>::new().notes().is_empty());
    /// ```
    pub fn notes(&self) -> &[String] {
        &self.notes
    }

    /// Keeps the targets for which `keep(index, id)` is true, with their
    /// reasons and creation times.
    ///
    /// ```
    /// let mut t = gc_core::Targets::new();
    /// t.extend([1u8, 2, 3, 4], "odd or even");
    /// t.retain(|_, id| id % 2 == 0);
    /// assert_eq!(t.into_ids(), [2, 4]);
    /// ```
    pub fn retain(&mut self, mut keep: impl FnMut(usize, &I) -> bool) {
        let reasons = std::mem::take(&mut self.reasons);
        let created = std::mem::take(&mut self.created);
        let mut run = 0;
        let mut kept = 0;
        let mut index = 0;
        self.ids.retain(|id| {
            let i = index;
            index += 1;
            if !keep(i, id) {
                return false;
            }
            while reasons.get(run + 1).is_some_and(|(start, _)| *start <= i) {
                run += 1;
            }
            if self.reasons.last().is_none_or(|(_, last)| *last != reasons[run].1) {
                self.reasons.push((kept, reasons[run].1.clone()));
            }
            if !created.is_empty() {
                self.created.push(created[i]);
            }
            kept += 1;
            true
        });
    }

    /// The target IDs, without reasons: the `Vec` they were added to.
    ///
    /// ```
    /// let mut t = gc_core::Targets::new();
    /// t.push("a".to_owned(), "why");
    /// assert_eq!(t.into_ids(), ["a"]);
    /// ```
    pub fn into_ids(self) -> Vec<I> {
        self.ids
    }

    /// Takes the notes out, leaving the targets.
    pub(crate) fn take_notes(&mut self) -> Vec<String> {
        std::mem::take(&mut self.notes)
    }
}

impl<'a, I: GcId> IntoIterator for &'a Targets<I> {
    type Item = Target<'a, I>;
    type IntoIter = Box<dyn Iterator<Item = Target<'a, I>> + 'a>;
    fn into_iter(self) -> Self::IntoIter {
        Box::new(self.iter())
    }
}

impl<I: GcId, R: Into<Reason>> FromIterator<(I, R)> for Targets<I> {
    fn from_iter<T: IntoIterator<Item = (I, R)>>(iter: T) -> Self {
        let mut targets = Targets::new();
        for (id, reason) in iter {
            targets.push(id, reason);
        }
        targets
    }
}

/// One ID that collect could not remove, and why.
///
/// ```
/// let mut outcome = gc_core::CollectOutcome::new();
/// outcome.failed("blob-1".to_owned(), anyhow::anyhow!("read-only file system"));
/// let failure = &outcome.failures()[0];
/// assert_eq!((failure.id.as_str(), failure.error.to_string().as_str()), ("blob-1", "read-only file system"));
/// ```
#[derive(Debug)]
pub struct IdFailure<I> {
    /// The ID.
    pub id: I,
    /// Why it could not be removed.
    pub error: anyhow::Error,
}

/// What a module's collect did with the IDs it was given: which it removed,
/// which failed and why. An ID that was already gone counts as collected, so
/// that collect is idempotent.
///
/// ```
/// use gc_core::CollectOutcome;
///
/// let mut outcome = CollectOutcome::new();
/// outcome.collected("a".to_owned());
/// outcome.failed("b".to_owned(), anyhow::anyhow!("permission denied"));
/// assert_eq!(outcome.collected_ids(), ["a"]);
/// assert_eq!(outcome.failures()[0].id, "b");
/// assert!(!outcome.is_complete());
/// ```
#[derive(Debug)]
pub struct CollectOutcome<I> {
    collected: Vec<I>,
    failed: Vec<IdFailure<I>>,
}

impl<I> Default for CollectOutcome<I> {
    fn default() -> Self {
        CollectOutcome {
            collected: Vec::new(),
            failed: Vec::new(),
        }
    }
}

impl<I: GcId> CollectOutcome<I> {
    /// Nothing collected yet.
    ///
    /// ```
    /// assert!(gc_core::CollectOutcome::<u8>::new().is_complete());
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// Every ID given was collected.
    ///
    /// ```
    /// let outcome = gc_core::CollectOutcome::all(vec![1u8, 2]);
    /// assert_eq!(outcome.collected_ids(), [1, 2]);
    /// ```
    pub fn all(ids: Vec<I>) -> Self {
        CollectOutcome {
            collected: ids,
            failed: Vec::new(),
        }
    }

    /// Builds the outcome from one result per ID.
    ///
    /// ```
    /// let outcome = gc_core::CollectOutcome::from_results([
    ///     (1u8, Ok(())),
    ///     (2u8, Err(anyhow::anyhow!("busy"))),
    /// ]);
    /// assert_eq!(outcome.collected_ids(), [1]);
    /// assert_eq!(outcome.failures().len(), 1);
    /// ```
    pub fn from_results(results: impl IntoIterator<Item = (I, anyhow::Result<()>)>) -> Self {
        let mut outcome = Self::new();
        for (id, result) in results {
            outcome.record(id, result);
        }
        outcome
    }

    /// Records one ID's result.
    ///
    /// ```
    /// let mut outcome = gc_core::CollectOutcome::new();
    /// outcome.record(1u8, Ok(()));
    /// assert_eq!(outcome.collected_ids(), [1]);
    /// ```
    pub fn record(&mut self, id: I, result: anyhow::Result<()>) -> &mut Self {
        match result {
            Ok(()) => self.collected(id),
            Err(error) => self.failed(id, error),
        }
    }

    /// Records an ID as collected (removed now, or already gone).
    ///
    /// ```
    /// let mut outcome = gc_core::CollectOutcome::new();
    /// outcome.collected(1u8);
    /// assert_eq!(outcome.collected_ids(), [1]);
    /// ```
    pub fn collected(&mut self, id: I) -> &mut Self {
        self.collected.push(id);
        self
    }

    /// Records an ID that could not be removed.
    ///
    /// ```
    /// let mut outcome = gc_core::CollectOutcome::new();
    /// outcome.failed(1u8, anyhow::anyhow!("read-only file system"));
    /// assert_eq!(outcome.failures()[0].error.to_string(), "read-only file system");
    /// ```
    pub fn failed(&mut self, id: I, error: anyhow::Error) -> &mut Self {
        self.failed.push(IdFailure { id, error });
        self
    }

    /// The IDs collected.
    ///
    /// ```
    /// assert!(gc_core::CollectOutcome::<u8>::new().collected_ids().is_empty());
    /// ```
    pub fn collected_ids(&self) -> &[I] {
        &self.collected
    }

    /// The IDs that failed, with their errors.
    ///
    /// ```
    /// assert!(gc_core::CollectOutcome::<u8>::new().failures().is_empty());
    /// ```
    pub fn failures(&self) -> &[IdFailure<I>] {
        &self.failed
    }

    /// Whether no ID failed.
    ///
    /// ```
    /// assert!(gc_core::CollectOutcome::all(vec![1u8]).is_complete());
    /// ```
    pub fn is_complete(&self) -> bool {
        self.failed.is_empty()
    }

    pub(crate) fn into_parts(self) -> (Vec<I>, Vec<IdFailure<I>>) {
        (self.collected, self.failed)
    }
}
