//! A scripted fake module: a store of string IDs whose every phase a test
//! can steer (fail, panic, hang, delay) and whose every call is recorded.

use std::any::TypeId;
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime};

use anyhow::anyhow;
use gc_core::{
    CollectOutcome, Declarations, GcModule, Locker, Others, Phase, Provider, RefKind, RefsError, Snapshot, Targets,
};
use tokio::sync::Notify;

use crate::{MemLocker, MemLockerHandle, RefsSnapshot};

type AddRefs = Arc<dyn Fn(RefsSnapshot) -> RefsSnapshot + Send + Sync>;
/// Declares one kind, typed, though the fake's kinds are chosen at run time.
type Declare = fn(&mut Declarations<String>);

fn declare_consumes<K: RefKind<Id = String>>(d: &mut Declarations<String>) {
    d.consumes::<K>();
}

fn declare_provides<K: RefKind<Id = String>>(d: &mut Declarations<String>) {
    d.provides::<K>();
}

fn declare_targets_are<K: RefKind<Id = String>>(d: &mut Declarations<String>) {
    d.targets_are::<K>();
}
type IsReferenced = Arc<dyn Fn(&Others<'_>, &String) -> Result<bool, RefsError> + Send + Sync>;

/// What collect does with one ID.
///
/// ```
/// use gc_testkit::{FakeModule, IdBehaviour};
///
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let module = FakeModule::builder("blobs").objects(["a", "b"]).build();
/// let handle = module.handle();
/// handle.set_id_behaviour("b", IdBehaviour::Fail("device busy".into()));
/// let report = gc_core::Orchestrator::builder().module(module).build()?.run().await?;
/// assert_eq!(report.module("blobs").unwrap().failed[0].id, "b");
/// assert_eq!(handle.objects(), ["b"]); // a failed ID stays in the store
/// # Ok::<_, gc_core::GcError>(()) }).unwrap();
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdBehaviour {
    /// Removes it from the store (the default).
    Remove,
    /// Fails it with this message, leaving it in the store.
    Fail(String),
    /// Never returns: the whole collect call hangs.
    Hang,
}

/// One call the orchestrator made to a [`FakeModule`].
///
/// ```
/// use gc_testkit::{Call, FakeModule};
///
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let module = FakeModule::builder("blobs").objects(["a"]).build();
/// let handle = module.handle();
/// gc_core::Orchestrator::builder().module(module).build()?.run().await?;
/// assert_eq!(handle.calls(), [Call::Read, Call::Resolve, Call::Collect(vec!["a".into()])]);
/// # Ok::<_, gc_core::GcError>(()) }).unwrap();
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Call {
    /// `read`.
    Read,
    /// `resolve`.
    Resolve,
    /// `collect`, with the IDs it was given.
    Collect(Vec<String>),
}

#[derive(Default)]
struct Script {
    read_error: Option<String>,
    resolve_error: Option<String>,
    collect_error: Option<String>,
    panics: HashSet<Phase>,
    hangs: HashSet<Phase>,
    delays: BTreeMap<Phase, Duration>,
    fixed_targets: Option<Vec<String>>,
    per_id: BTreeMap<String, IdBehaviour>,
    created: BTreeMap<String, SystemTime>,
    provides: Vec<(TypeId, Declare, AddRefs)>,
}

struct State {
    script: Mutex<Script>,
    store: Mutex<BTreeSet<String>>,
    calls: Mutex<Vec<Call>>,
    entered: Mutex<Vec<Phase>>,
    entered_notify: Notify,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic scripted inside a callback must not poison the fake for the
    // rest of the test.
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A module for tests, with a store of `String` IDs and a script.
///
/// By default it reads its store, targets every ID in it that no other
/// module references under the kinds it [consumes](FakeModuleBuilder::consumes),
/// and removes what it is given. Its [`FakeHandle`] changes the script at
/// any time and tells what happened.
///
/// ```
/// use gc_core::{Orchestrator, Phase, RefKind};
/// use gc_testkit::FakeModule;
///
/// pub struct BlobRefs;
/// impl RefKind for BlobRefs { type Id = String; }
///
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let vm = FakeModule::builder("vm").provides::<BlobRefs>(["b1"]).build();
/// let images = FakeModule::builder("images")
///     .objects(["b1", "b2", "b3"])
///     .consumes::<BlobRefs>()
///     .build();
/// let (vm_handle, images_handle) = (vm.handle(), images.handle());
/// images_handle.fail_id("b3", "permission denied");
///
/// let gc = Orchestrator::builder().module(vm).module(images).build()?;
/// let report = gc.run().await?;
/// assert_eq!(images_handle.objects(), ["b1", "b3"]);     // b1 pinned, b3 failed
/// assert_eq!(report.module("images").unwrap().failed[0].id, "b3");
/// assert_eq!(vm_handle.collect_calls().len(), 0);        // nothing to do: not called
/// images_handle.locker().assert_all_released();
/// # Ok::<_, gc_core::GcError>(()) }).unwrap();
/// ```
pub struct FakeModule {
    name: String,
    locker: Box<dyn Locker>,
    state: Arc<State>,
    consumes: Vec<(Declare, IsReferenced)>,
    declare: bool,
    targets_are: Option<Declare>,
    mem_locker: Option<MemLockerHandle>,
}

/// Builds a [`FakeModule`].
///
/// ```
/// use gc_core::RefKind;
/// use gc_testkit::FakeModule;
///
/// pub struct BlobRefs;
/// impl RefKind for BlobRefs { type Id = String; }
///
/// // A VM store that pins b1, and an image store that consumes what it pins.
/// let vm = FakeModule::builder("vm").provides::<BlobRefs>(["b1"]).build();
/// let images = FakeModule::builder("images").objects(["b1", "b2"]).consumes::<BlobRefs>().build();
/// # drop((vm, images));
/// ```
pub struct FakeModuleBuilder {
    name: String,
    locker: Option<Box<dyn Locker>>,
    objects: BTreeSet<String>,
    consumes: Vec<(Declare, IsReferenced)>,
    declare: bool,
    targets_are: Option<Declare>,
    script: Script,
}

/// Steers and observes a [`FakeModule`] after it was handed to an
/// orchestrator. Clones steer the same module.
///
/// ```
/// use gc_core::{GcError, Orchestrator};
/// use gc_testkit::FakeModule;
///
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let module = FakeModule::builder("images").objects(["a"]).build();
/// let handle = module.handle();
/// let gc = Orchestrator::builder().module(module).build()?;
///
/// handle.fail_read(Some("disk unplugged"));
/// assert!(matches!(gc.run().await, Err(GcError::ReadFailed { .. })));
/// assert_eq!(handle.objects(), ["a"], "nothing collected in an aborted cycle");
///
/// handle.fail_read(None);
/// gc.run().await?;
/// assert!(handle.objects().is_empty());
/// # Ok::<_, GcError>(()) }).unwrap();
/// ```
#[derive(Clone)]
pub struct FakeHandle {
    state: Arc<State>,
    mem_locker: Option<MemLockerHandle>,
}

impl FakeModule {
    /// Starts building a fake module named `name`.
    ///
    /// ```
    /// let module = gc_testkit::FakeModule::builder("images").objects(["a"]).build();
    /// assert_eq!(module.handle().objects(), ["a"]);
    /// ```
    pub fn builder(name: impl Into<String>) -> FakeModuleBuilder {
        FakeModuleBuilder {
            name: name.into(),
            locker: None,
            objects: BTreeSet::new(),
            consumes: Vec::new(),
            declare: true,
            targets_are: None,
            script: Script::default(),
        }
    }

    /// A handle on this module.
    ///
    /// ```
    /// let module = gc_testkit::FakeModule::builder("vm").build();
    /// assert!(module.handle().calls().is_empty());
    /// ```
    pub fn handle(&self) -> FakeHandle {
        FakeHandle {
            state: Arc::clone(&self.state),
            mem_locker: self.mem_locker.clone(),
        }
    }

    async fn enter(&self, phase: Phase) -> anyhow::Result<()> {
        lock(&self.state.entered).push(phase);
        self.state.entered_notify.notify_waiters();
        let (delay, panics, hangs) = {
            let script = lock(&self.state.script);
            (
                script.delays.get(&phase).copied(),
                script.panics.contains(&phase),
                script.hangs.contains(&phase),
            )
        };
        if let Some(delay) = delay {
            tokio::time::sleep(delay).await;
        }
        if panics {
            panic!("{}: scripted panic in {phase}", self.name);
        }
        if hangs {
            std::future::pending::<()>().await;
        }
        Ok(())
    }
}

impl FakeModuleBuilder {
    /// The IDs in its store at the start.
    ///
    /// ```
    /// let m = gc_testkit::FakeModule::builder("x").objects(["a", "b"]).build();
    /// assert_eq!(m.handle().objects().len(), 2);
    /// ```
    pub fn objects<S: Into<String>>(mut self, ids: impl IntoIterator<Item = S>) -> Self {
        self.objects.extend(ids.into_iter().map(Into::into));
        self
    }

    /// Its snapshot provides `ids` as references of kind `K`.
    ///
    /// ```
    /// # use gc_core::RefKind;
    /// # pub struct VmRefs;
    /// # impl RefKind for VmRefs { type Id = String; }
    /// let m = gc_testkit::FakeModule::builder("vm").provides::<VmRefs>(["vm-1"]).build();
    /// # drop(m);
    /// ```
    pub fn provides<K: RefKind<Id = String>>(mut self, ids: impl IntoIterator<Item = impl Into<String>>) -> Self {
        set_provided::<K>(&mut self.script, ids.into_iter().map(Into::into).collect());
        self
    }

    /// Its default resolve spares every ID that another module references
    /// under kind `K`.
    ///
    /// ```
    /// # use gc_core::RefKind;
    /// # pub struct BlobRefs;
    /// # impl RefKind for BlobRefs { type Id = String; }
    /// let m = gc_testkit::FakeModule::builder("images").consumes::<BlobRefs>().build();
    /// # drop(m);
    /// ```
    pub fn consumes<K: RefKind<Id = String>>(mut self) -> Self {
        self.consumes.push((
            declare_consumes::<K>,
            Arc::new(|others, id| Ok(others.refs::<K>()?.contains(id))),
        ));
        self
    }

    /// Declares its targets to be of kind `K`, so that the referential
    /// backstop guards them (it also consumes `K`). Pair it with
    /// [`FakeHandle::set_targets`] to play a module whose resolve is wrong.
    ///
    /// ```
    /// # use gc_core::RefKind;
    /// # pub struct BlobRefs;
    /// # impl RefKind for BlobRefs { type Id = String; }
    /// let m = gc_testkit::FakeModule::builder("images").targets_are::<BlobRefs>().build();
    /// # drop(m);
    /// ```
    pub fn targets_are<K: RefKind<Id = String>>(mut self) -> Self {
        self.targets_are = Some(declare_targets_are::<K>);
        self.consumes::<K>()
    }

    /// Declares nothing (consumed or provided kinds unknown), as a module
    /// that never implemented [`GcModule::declare`] would.
    ///
    /// ```
    /// let m = gc_testkit::FakeModule::builder("legacy").undeclared().build();
    /// # drop(m);
    /// ```
    pub fn undeclared(mut self) -> Self {
        self.declare = false;
        self
    }

    /// Uses `locker` instead of a fresh [`MemLocker`].
    ///
    /// ```
    /// let m = gc_testkit::FakeModule::builder("x").locker(gc_core::LocalLocker::new()).build();
    /// # drop(m);
    /// ```
    pub fn locker(mut self, locker: impl Locker + 'static) -> Self {
        self.locker = Some(Box::new(locker));
        self
    }

    /// The module.
    ///
    /// ```
    /// let m = gc_testkit::FakeModule::builder("x").build();
    /// # drop(m);
    /// ```
    pub fn build(self) -> FakeModule {
        let (locker, mem_locker): (Box<dyn Locker>, _) = match self.locker {
            Some(locker) => (locker, None),
            None => {
                let (locker, handle) = MemLocker::new();
                (Box::new(locker), Some(handle))
            }
        };
        FakeModule {
            name: self.name,
            locker,
            state: Arc::new(State {
                script: Mutex::new(self.script),
                store: Mutex::new(self.objects),
                calls: Mutex::new(Vec::new()),
                entered: Mutex::new(Vec::new()),
                entered_notify: Notify::new(),
            }),
            consumes: self.consumes,
            declare: self.declare,
            targets_are: self.targets_are,
            mem_locker,
        }
    }
}

fn set_provided<K: RefKind<Id = String>>(script: &mut Script, ids: Vec<String>) {
    let kind = TypeId::of::<K>();
    script.provides.retain(|(k, _, _)| *k != kind);
    script.provides.push((
        kind,
        declare_provides::<K>,
        Arc::new(move |s: RefsSnapshot| s.with::<K>(ids.iter().cloned())),
    ));
}

impl FakeHandle {
    /// The handle of its [`MemLocker`].
    ///
    /// # Panics
    /// If the module was built with a locker of its own.
    ///
    /// ```
    /// let m = gc_testkit::FakeModule::builder("x").build();
    /// m.handle().locker().assert_all_released();
    /// ```
    #[track_caller]
    pub fn locker(&self) -> &MemLockerHandle {
        self.mem_locker
            .as_ref()
            .expect("this FakeModule was built with its own locker, not a MemLocker")
    }

    /// The IDs in its store now, sorted.
    ///
    /// ```
    /// let m = gc_testkit::FakeModule::builder("x").objects(["b", "a"]).build();
    /// assert_eq!(m.handle().objects(), ["a", "b"]);
    /// ```
    pub fn objects(&self) -> Vec<String> {
        lock(&self.state.store).iter().cloned().collect()
    }

    /// Adds IDs to its store, as a writer would.
    ///
    /// ```
    /// let m = gc_testkit::FakeModule::builder("x").build();
    /// m.handle().insert(["a"]);
    /// assert_eq!(m.handle().objects(), ["a"]);
    /// ```
    pub fn insert<S: Into<String>>(&self, ids: impl IntoIterator<Item = S>) {
        lock(&self.state.store).extend(ids.into_iter().map(Into::into));
    }

    /// Replaces the set of kind `K` that its snapshot provides.
    ///
    /// ```
    /// # use gc_core::RefKind;
    /// # pub struct BlobRefs;
    /// # impl RefKind for BlobRefs { type Id = String; }
    /// let m = gc_testkit::FakeModule::builder("vm").build();
    /// m.handle().set_provided::<BlobRefs>(["b1"]);
    /// ```
    pub fn set_provided<K: RefKind<Id = String>>(&self, ids: impl IntoIterator<Item = impl Into<String>>) {
        set_provided::<K>(&mut lock(&self.state.script), ids.into_iter().map(Into::into).collect());
    }

    /// Gives one object a creation time, which its target then carries (for
    /// the `min_age` policy).
    ///
    /// ```
    /// let m = gc_testkit::FakeModule::builder("x").objects(["a"]).build();
    /// m.handle().set_created("a", std::time::SystemTime::now());
    /// ```
    pub fn set_created(&self, id: impl Into<String>, created: SystemTime) {
        lock(&self.state.script).created.insert(id.into(), created);
    }

    /// Makes `read` fail with `message` (`None`: succeed again).
    ///
    /// ```
    /// let m = gc_testkit::FakeModule::builder("x").build();
    /// m.handle().fail_read(Some("index corrupt"));
    /// ```
    pub fn fail_read(&self, message: Option<&str>) {
        lock(&self.state.script).read_error = message.map(str::to_owned);
    }

    /// Makes `resolve` fail with `message` (`None`: succeed again).
    ///
    /// ```
    /// let m = gc_testkit::FakeModule::builder("x").build();
    /// m.handle().fail_resolve(Some("bad reference"));
    /// ```
    pub fn fail_resolve(&self, message: Option<&str>) {
        lock(&self.state.script).resolve_error = message.map(str::to_owned);
    }

    /// Makes `collect` fail as a whole with `message` (`None`: succeed
    /// again).
    ///
    /// ```
    /// let m = gc_testkit::FakeModule::builder("x").build();
    /// m.handle().fail_collect(Some("backend down"));
    /// ```
    pub fn fail_collect(&self, message: Option<&str>) {
        lock(&self.state.script).collect_error = message.map(str::to_owned);
    }

    /// Makes `collect` fail this one ID with `message`.
    ///
    /// ```
    /// let m = gc_testkit::FakeModule::builder("x").build();
    /// m.handle().fail_id("a", "permission denied");
    /// ```
    pub fn fail_id(&self, id: impl Into<String>, message: impl Into<String>) {
        self.set_id_behaviour(id, IdBehaviour::Fail(message.into()));
    }

    /// Sets what `collect` does with one ID.
    ///
    /// ```
    /// use gc_testkit::IdBehaviour;
    /// let m = gc_testkit::FakeModule::builder("x").build();
    /// m.handle().set_id_behaviour("a", IdBehaviour::Hang);
    /// ```
    pub fn set_id_behaviour(&self, id: impl Into<String>, behaviour: IdBehaviour) {
        lock(&self.state.script).per_id.insert(id.into(), behaviour);
    }

    /// Makes the callback of `phase` (read, resolve or collect) panic.
    ///
    /// ```
    /// let m = gc_testkit::FakeModule::builder("x").build();
    /// m.handle().panic_in(gc_core::Phase::Resolve);
    /// ```
    pub fn panic_in(&self, phase: Phase) {
        lock(&self.state.script).panics.insert(phase);
    }

    /// Makes the callback of `phase` (read or collect) never return.
    ///
    /// ```
    /// let m = gc_testkit::FakeModule::builder("x").build();
    /// m.handle().hang_in(gc_core::Phase::Read);
    /// ```
    pub fn hang_in(&self, phase: Phase) {
        lock(&self.state.script).hangs.insert(phase);
    }

    /// Makes the callback of `phase` (read or collect) wait `delay` first.
    ///
    /// ```
    /// let m = gc_testkit::FakeModule::builder("x").build();
    /// m.handle().delay(gc_core::Phase::Read, std::time::Duration::from_millis(100));
    /// ```
    pub fn delay(&self, phase: Phase, delay: Duration) {
        lock(&self.state.script).delays.insert(phase, delay);
    }

    /// Makes `resolve` return exactly these targets, whatever the store and
    /// the references say (`None`: the default resolve again). For
    /// deliberately wrong modules.
    ///
    /// ```
    /// let m = gc_testkit::FakeModule::builder("x").build();
    /// m.handle().set_targets(Some(vec!["pinned-blob".into()]));
    /// ```
    pub fn set_targets(&self, targets: Option<Vec<String>>) {
        lock(&self.state.script).fixed_targets = targets;
    }

    /// Every call so far, in order.
    ///
    /// ```
    /// let m = gc_testkit::FakeModule::builder("x").build();
    /// assert!(m.handle().calls().is_empty());
    /// ```
    pub fn calls(&self) -> Vec<Call> {
        lock(&self.state.calls).clone()
    }

    /// The ID lists of every `collect` call so far.
    ///
    /// ```
    /// let m = gc_testkit::FakeModule::builder("x").build();
    /// assert!(m.handle().collect_calls().is_empty());
    /// ```
    pub fn collect_calls(&self) -> Vec<Vec<String>> {
        self.calls()
            .into_iter()
            .filter_map(|c| match c {
                Call::Collect(ids) => Some(ids),
                _ => None,
            })
            .collect()
    }

    /// Whether `read` was called.
    ///
    /// ```
    /// let m = gc_testkit::FakeModule::builder("x").build();
    /// assert!(!m.handle().was_read());
    /// ```
    pub fn was_read(&self) -> bool {
        self.calls().contains(&Call::Read)
    }

    /// Waits until the callback of `phase` has been entered (at once if it
    /// already was): to act, say drop the cycle, while it runs.
    ///
    /// ```
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// use gc_core::{Orchestrator, Phase};
    /// let m = gc_testkit::FakeModule::builder("x").build();
    /// let h = m.handle();
    /// let gc = Orchestrator::builder().module(m).build().unwrap();
    /// let (_, _) = tokio::join!(gc.run(), h.entered(Phase::Read));
    /// # });
    /// ```
    pub async fn entered(&self, phase: Phase) {
        loop {
            let notified = self.state.entered_notify.notified();
            if lock(&self.state.entered).contains(&phase) {
                return;
            }
            notified.await;
        }
    }
}

/// The snapshot of a [`FakeModule`]: the IDs in its store and the references
/// it provides.
///
/// ```
/// use gc_core::GcModule;
///
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let module = gc_testkit::FakeModule::builder("images").objects(["a", "b"]).build();
/// let snapshot = module.read().await.unwrap();
/// assert_eq!(snapshot.objects.len(), 2);
/// # });
/// ```
pub struct FakeSnapshot {
    /// The IDs in the store when it was read.
    pub objects: BTreeSet<String>,
    refs: RefsSnapshot,
}

impl Snapshot for FakeSnapshot {
    fn provide<'a>(&'a self, refs: &mut Provider<'a>) {
        self.refs.provide(refs);
    }

    fn population(&self) -> Option<usize> {
        Some(self.objects.len())
    }
}

impl GcModule for FakeModule {
    type Snapshot = FakeSnapshot;
    type Id = String;

    fn name(&self) -> &str {
        &self.name
    }

    fn locker(&self) -> &dyn Locker {
        self.locker.as_ref()
    }

    fn declare(&self, d: &mut Declarations<String>) {
        if !self.declare {
            return;
        }
        d.consumes_nothing();
        for (declare, _) in &self.consumes {
            declare(d);
        }
        if let Some(declare) = self.targets_are {
            declare(d);
        }
        // What it provides now; a fake that provides nothing says so.
        let provides: Vec<Declare> = lock(&self.state.script).provides.iter().map(|(_, f, _)| *f).collect();
        if provides.is_empty() {
            d.provides_nothing();
        }
        for declare in provides {
            declare(d);
        }
    }

    async fn read(&self) -> anyhow::Result<FakeSnapshot> {
        lock(&self.state.calls).push(Call::Read);
        self.enter(Phase::Read).await?;
        let (error, provides) = {
            let script = lock(&self.state.script);
            let provides: Vec<AddRefs> = script.provides.iter().map(|(_, _, f)| Arc::clone(f)).collect();
            (script.read_error.clone(), provides)
        };
        if let Some(message) = error {
            return Err(anyhow!("{}: {message}", self.name));
        }
        let refs = provides.iter().fold(RefsSnapshot::new(), |s, add| add(s));
        Ok(FakeSnapshot {
            objects: lock(&self.state.store).clone(),
            refs,
        })
    }

    fn resolve(&self, snapshot: &FakeSnapshot, others: &Others<'_>) -> anyhow::Result<Targets<String>> {
        lock(&self.state.calls).push(Call::Resolve);
        let (error, panics, fixed, created) = {
            let script = lock(&self.state.script);
            (
                script.resolve_error.clone(),
                script.panics.contains(&Phase::Resolve),
                script.fixed_targets.clone(),
                script.created.clone(),
            )
        };
        if panics {
            panic!("{}: scripted panic in resolve", self.name);
        }
        if let Some(message) = error {
            return Err(anyhow!("{}: {message}", self.name));
        }
        let mut targets = Targets::new();
        if let Some(fixed) = fixed {
            targets.extend(fixed, "scripted target");
            return Ok(targets);
        }
        for id in &snapshot.objects {
            let mut referenced = false;
            for (_, is_referenced) in &self.consumes {
                if is_referenced(others, id)? {
                    referenced = true;
                    break;
                }
            }
            if !referenced {
                match created.get(id) {
                    Some(at) => targets.push_created(id.clone(), "not referenced by any other module", *at),
                    None => targets.push(id.clone(), "not referenced by any other module"),
                };
            }
        }
        Ok(targets)
    }

    async fn collect(&self, ids: Vec<String>) -> anyhow::Result<CollectOutcome<String>> {
        lock(&self.state.calls).push(Call::Collect(ids.clone()));
        self.enter(Phase::Collect).await?;
        let (error, per_id) = {
            let script = lock(&self.state.script);
            (script.collect_error.clone(), script.per_id.clone())
        };
        if let Some(message) = error {
            return Err(anyhow!("{}: {message}", self.name));
        }
        let mut outcome = CollectOutcome::new();
        for id in ids {
            match per_id.get(&id).cloned().unwrap_or(IdBehaviour::Remove) {
                IdBehaviour::Remove => {
                    lock(&self.state.store).remove(&id);
                    outcome.collected(id);
                }
                IdBehaviour::Fail(message) => {
                    outcome.failed(id, anyhow!(message));
                }
                IdBehaviour::Hang => std::future::pending::<()>().await,
            }
        }
        Ok(outcome)
    }
}
