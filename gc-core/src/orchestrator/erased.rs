//! The object-safe form of [`GcModule`], so that modules of different
//! snapshot and ID types sit in one list. Users only see the typed trait.

use std::any::Any;
use std::future::Future;
use std::pin::Pin;

use anyhow::anyhow;

use crate::report::{FailedId, PlannedTarget};
use crate::{GcModule, Locker, Others, Snapshot};

pub(crate) type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// What resolve found, with the module's ID type erased.
pub(crate) struct Resolved {
    pub(crate) len: usize,
    pub(crate) notes: Vec<String>,
    /// Filled in dry runs only: displaying every ID costs.
    pub(crate) planned: Vec<PlannedTarget>,
    /// A `Vec<M::Id>`, handed back to the same module's collect.
    pub(crate) ids: Box<dyn Any + Send>,
}

/// What collect did, with the module's ID type erased.
pub(crate) struct Collected {
    pub(crate) collected: usize,
    pub(crate) failed: Vec<FailedId>,
}

pub(crate) trait ErasedModule: Send + Sync {
    fn name(&self) -> &str;
    fn locker(&self) -> &dyn Locker;
    fn read(&self) -> BoxFuture<'_, anyhow::Result<Box<dyn Snapshot>>>;
    fn resolve(
        &self,
        snapshot: &dyn Snapshot,
        others: &Others<'_>,
        plan: bool,
    ) -> anyhow::Result<Resolved>;
    fn collect(&self, ids: Box<dyn Any + Send>) -> BoxFuture<'_, anyhow::Result<Collected>>;
}

pub(crate) struct Typed<M>(pub(crate) M);

impl<M: GcModule> ErasedModule for Typed<M> {
    fn name(&self) -> &str {
        self.0.name()
    }

    fn locker(&self) -> &dyn Locker {
        self.0.locker()
    }

    fn read(&self) -> BoxFuture<'_, anyhow::Result<Box<dyn Snapshot>>> {
        Box::pin(async move {
            let snapshot = self.0.read().await?;
            Ok(Box::new(snapshot) as Box<dyn Snapshot>)
        })
    }

    fn resolve(
        &self,
        snapshot: &dyn Snapshot,
        others: &Others<'_>,
        plan: bool,
    ) -> anyhow::Result<Resolved> {
        let snapshot = (snapshot as &dyn Any)
            .downcast_ref::<M::Snapshot>()
            .ok_or_else(|| anyhow!("internal error: snapshot of another module's type"))?;
        let (targets, notes) = self.0.resolve(snapshot, others)?.into_parts();
        let planned = if plan {
            targets
                .iter()
                .map(|t| PlannedTarget {
                    id: t.id.to_string(),
                    reason: t.reason.to_string(),
                })
                .collect()
        } else {
            Vec::new()
        };
        let ids: Vec<M::Id> = targets.into_iter().map(|t| t.id).collect();
        Ok(Resolved {
            len: ids.len(),
            notes,
            planned,
            ids: Box::new(ids),
        })
    }

    fn collect(&self, ids: Box<dyn Any + Send>) -> BoxFuture<'_, anyhow::Result<Collected>> {
        Box::pin(async move {
            let ids = ids
                .downcast::<Vec<M::Id>>()
                .map_err(|_| anyhow!("internal error: targets of another module's type"))?;
            let (collected, failed) = self.0.collect(*ids).await?.into_parts();
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
