//! What resolve returns (targets, each with a reason) and what collect
//! returns (which IDs went, and which failed and why).

use std::borrow::Cow;
use std::time::{Duration, SystemTime};

use crate::GcId;

/// Why an ID is to be collected, as shown in plans and reports.
pub type Reason = Cow<'static, str>;

/// One ID to collect and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target<I> {
    /// The ID.
    pub id: I,
    /// Why it is to be collected.
    pub reason: Reason,
    /// When the object was created, if the module knows: the `min_age`
    /// policy withholds targets younger than its bound.
    pub created: Option<SystemTime>,
}

/// The targets a module's resolve returns: IDs, each with a reason, and notes
/// on what resolve left alone (shown in the report).
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
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Targets<I> {
    items: Vec<Target<I>>,
    notes: Vec<String>,
}

impl<I> Default for Targets<I> {
    fn default() -> Self {
        Targets {
            items: Vec::new(),
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

    /// Adds one target.
    ///
    /// ```
    /// let mut t = gc_core::Targets::new();
    /// t.push(7u64, format!("orphaned since cycle {}", 3));
    /// assert_eq!(t.ids().collect::<Vec<_>>(), [&7]);
    /// ```
    pub fn push(&mut self, id: I, reason: impl Into<Reason>) -> &mut Self {
        self.items.push(Target {
            id,
            reason: reason.into(),
            created: None,
        });
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
        self.items.push(Target {
            id,
            reason: reason.into(),
            created: Some(created),
        });
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
        let reason = reason.into();
        self.items.extend(ids.into_iter().map(|id| Target {
            id,
            reason: reason.clone(),
            created: None,
        }));
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
        self.items.len()
    }

    /// Whether there are no targets.
    ///
    /// ```
    /// assert!(gc_core::Targets::<u8>::new().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// The targets with their reasons.
    ///
    /// ```
    /// let mut t = gc_core::Targets::new();
    /// t.push(1u8, "why");
    /// assert!(t.iter().all(|target| target.reason == "why"));
    /// ```
    pub fn iter(&self) -> std::slice::Iter<'_, Target<I>> {
        self.items.iter()
    }

    /// The target IDs.
    ///
    /// ```
    /// let mut t = gc_core::Targets::new();
    /// t.push(1u8, "why");
    /// assert_eq!(t.ids().copied().collect::<Vec<_>>(), [1]);
    /// ```
    pub fn ids(&self) -> impl Iterator<Item = &I> + '_ {
        self.items.iter().map(|t| &t.id)
    }

    /// The notes resolve left.
    ///
    /// ```
    /// assert!(gc_core::Targets::<u8>::new().notes().is_empty());
    /// ```
    pub fn notes(&self) -> &[String] {
        &self.notes
    }

    /// The target IDs, without reasons.
    ///
    /// ```
    /// let mut t = gc_core::Targets::new();
    /// t.push("a".to_owned(), "why");
    /// assert_eq!(t.into_ids(), ["a"]);
    /// ```
    pub fn into_ids(self) -> Vec<I> {
        self.items.into_iter().map(|t| t.id).collect()
    }

    pub(crate) fn into_parts(self) -> (Vec<Target<I>>, Vec<String>) {
        (self.items, self.notes)
    }
}

impl<I: GcId> IntoIterator for Targets<I> {
    type Item = Target<I>;
    type IntoIter = std::vec::IntoIter<Target<I>>;
    fn into_iter(self) -> Self::IntoIter {
        self.items.into_iter()
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
