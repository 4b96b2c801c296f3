//! The object-safe form of [`GcModule`], so that modules of different
//! snapshot and ID types sit in one list. Users only see the typed trait.

use std::any::Any;
use std::future::Future;
use std::pin::Pin;
use std::time::SystemTime;

use anyhow::anyhow;

use crate::module::declarations;
use crate::refs::Provider;
use crate::report::{BackstopDrop, FailedId};
use crate::{GcId, GcModule, KindInfo, Locker, Others, Snapshot, Targets};

pub(crate) type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A module's targets with the ID type erased: what the policies need to
/// look at and filter them.
pub(crate) trait TargetList: Send {
    fn len(&self) -> usize;
    fn id_string(&self, i: usize) -> String;
    fn reason(&self, i: usize) -> &str;
    fn created(&self, i: usize) -> Option<SystemTime>;
    /// Keeps the targets whose `keep` is true.
    fn retain(&mut self, keep: &[bool]);
    /// The IDs, as a `Vec<M::Id>` for the same module's collect.
    fn into_ids(self: Box<Self>) -> Box<dyn Any + Send>;
}

impl<I: GcId> TargetList for Targets<I> {
    fn len(&self) -> usize {
        Targets::len(self)
    }
    fn id_string(&self, i: usize) -> String {
        self.ids().as_slice()[i].to_string()
    }
    fn reason(&self, i: usize) -> &str {
        Targets::reason(self, i)
    }
    fn created(&self, i: usize) -> Option<SystemTime> {
        Targets::created(self, i)
    }
    fn retain(&mut self, keep: &[bool]) {
        Targets::retain(self, |i, _| keep.get(i).copied().unwrap_or(false));
    }
    fn into_ids(self: Box<Self>) -> Box<dyn Any + Send> {
        Box::new(Targets::into_ids(*self))
    }
}

/// What resolve found, with the module's ID type erased.
pub(crate) struct Resolved {
    pub(crate) targets: Box<dyn TargetList>,
    pub(crate) notes: Vec<String>,
    /// Targets the referential backstop dropped.
    pub(crate) backstop: Vec<BackstopDrop>,
}

/// What collect did, with the module's ID type erased.
pub(crate) struct Collected {
    pub(crate) collected: usize,
    pub(crate) failed: Vec<FailedId>,
}

/// A module's declarations, read once at registration.
pub(crate) struct Declared {
    pub(crate) consumes: Option<Vec<KindInfo>>,
    pub(crate) provides: Option<Vec<KindInfo>>,
    pub(crate) targets_are: Option<KindInfo>,
}

impl Declared {
    /// The kinds through which this module may depend on a module that
    /// declares `provides` (`None`: unknown); empty when it cannot. Unknown
    /// on either side counts as a dependency.
    pub(crate) fn depends_on(&self, provides: Option<&[KindInfo]>) -> Vec<String> {
        let names = |kinds: &[KindInfo]| kinds.iter().map(|k| k.name().to_owned()).collect();
        match (&self.consumes, provides) {
            (Some(consumes), Some(provides)) => consumes
                .iter()
                .filter(|k| provides.contains(k))
                .map(|k| k.name().to_owned())
                .collect(),
            (Some(consumes), None) => names(consumes),
            (None, Some(provides)) => names(provides),
            (None, None) => vec!["undeclared kinds".to_owned()],
        }
    }
}

pub(crate) trait ErasedModule: Send + Sync {
    fn name(&self) -> &str;
    fn locker(&self) -> &dyn Locker;
    fn declared(&self) -> &Declared;
    fn read(&self) -> BoxFuture<'_, anyhow::Result<Box<dyn Snapshot>>>;
    fn resolve(&self, snapshot: &dyn Snapshot, others: &Others<'_>) -> anyhow::Result<Resolved>;
    fn collect(&self, ids: Box<dyn Any + Send>) -> BoxFuture<'_, anyhow::Result<Collected>>;
}

pub(crate) struct Typed<M> {
    module: M,
    declared: Declared,
}

impl<M: GcModule> Typed<M> {
    pub(crate) fn new(module: M) -> Self {
        let d = declarations(&module);
        Typed {
            declared: Declared {
                consumes: d.consumes,
                provides: d.provides,
                targets_are: d.targets_are,
            },
            module,
        }
    }

    /// A snapshot must provide only the kinds it declared: otherwise a
    /// partial cycle could misjudge who depends on it.
    fn check_provided(&self, snapshot: &dyn Snapshot) -> anyhow::Result<()> {
        let Some(declared) = &self.declared.provides else {
            return Ok(());
        };
        for set in Provider::collect(snapshot) {
            if !declared.iter().any(|k| k.type_id() == set.kind) {
                return Err(anyhow!(
                    "the snapshot provides references of a kind it does not declare (declared: {}); \
                     list every provided kind in Snapshot::provided_kinds or GcModule::declare",
                    declared.iter().map(|k| k.name()).collect::<Vec<_>>().join(", ")
                ));
            }
        }
        Ok(())
    }
}

impl<M: GcModule> ErasedModule for Typed<M> {
    fn name(&self) -> &str {
        self.module.name()
    }

    fn locker(&self) -> &dyn Locker {
        self.module.locker()
    }

    fn declared(&self) -> &Declared {
        &self.declared
    }

    fn read(&self) -> BoxFuture<'_, anyhow::Result<Box<dyn Snapshot>>> {
        Box::pin(async move {
            let snapshot: Box<dyn Snapshot> = Box::new(self.module.read().await?);
            self.check_provided(snapshot.as_ref())?;
            Ok(snapshot)
        })
    }

    fn resolve(&self, snapshot: &dyn Snapshot, others: &Others<'_>) -> anyhow::Result<Resolved> {
        let snapshot = (snapshot as &dyn Any)
            .downcast_ref::<M::Snapshot>()
            .ok_or_else(|| anyhow!("internal error: snapshot of another module's type"))?;
        let mut targets = self.module.resolve(snapshot, others)?;
        let notes = targets.take_notes();
        let mut backstop = Vec::new();
        if let Some(kind) = self.declared.targets_are {
            // The referential backstop: whatever resolve said, a target that
            // another module references under its kind stays.
            let sets: Vec<_> = others.sets_of(kind.type_id()).collect();
            targets.retain(
                |_, id| match sets.iter().find(|(_, set)| set.contains_any(id as &dyn Any)) {
                    Some((module, _)) => {
                        backstop.push(BackstopDrop {
                            id: id.to_string(),
                            referenced_by: (*module).to_owned(),
                            kind: kind.name().to_owned(),
                        });
                        false
                    }
                    None => true,
                },
            );
        }
        Ok(Resolved {
            targets: Box::new(targets),
            notes,
            backstop,
        })
    }

    fn collect(&self, ids: Box<dyn Any + Send>) -> BoxFuture<'_, anyhow::Result<Collected>> {
        Box::pin(async move {
            let ids = ids
                .downcast::<Vec<M::Id>>()
                .map_err(|_| anyhow!("internal error: targets of another module's type"))?;
            let (collected, failed) = self.module.collect(*ids).await?.into_parts();
            Ok(Collected {
                collected: collected.len(),
                failed: failed
                    .into_iter()
                    .map(|f| FailedId {
                        id: f.id.to_string(),
                        error: format!("{:#}", f.error),
                    })
                    .collect(),
            })
        })
    }
}
