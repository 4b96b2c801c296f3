//! Two modules and two snapshots. Without features their GC impls are
//! written by hand; with `--features derive` the same impls are derived.

use std::collections::{BTreeSet, HashSet};
use std::sync::Mutex;

use gc_core::{LocalLocker, Others, RefKind, Targets};

pub struct BlobRefs;
impl RefKind for BlobRefs {
    type Id = String;
}

#[cfg_attr(feature = "derive", derive(gc_core::Snapshot))]
pub struct VmSnapshot {
    #[cfg_attr(feature = "derive", gc(refs = BlobRefs))]
    pub uses: HashSet<String>,
}

#[cfg_attr(feature = "derive", derive(gc_core::Snapshot))]
pub struct BlobSnapshot {
    pub on_disk: BTreeSet<String>,
}

#[cfg_attr(feature = "derive", derive(gc_core::GcModule))]
#[cfg_attr(feature = "derive", gc(name = "vms", snapshot = VmSnapshot, remove = forget))]
pub struct Vms {
    #[cfg_attr(feature = "derive", gc(lock))]
    pub locker: LocalLocker,
    pub uses: Mutex<HashSet<String>>,
}

#[cfg_attr(feature = "derive", derive(gc_core::GcModule))]
#[cfg_attr(feature = "derive", gc(name = "blobs", snapshot = BlobSnapshot, remove = remove_blob))]
pub struct Blobs {
    #[cfg_attr(feature = "derive", gc(lock))]
    pub locker: LocalLocker,
    pub on_disk: Mutex<BTreeSet<String>>,
}

impl Vms {
    pub async fn gc_read(&self) -> anyhow::Result<VmSnapshot> {
        Ok(VmSnapshot { uses: self.uses.lock().unwrap().clone() })
    }
    pub fn gc_resolve(&self, _: &VmSnapshot, _: &Others<'_>) -> anyhow::Result<Targets<String>> {
        Ok(Targets::new())
    }
    pub async fn forget(&self, id: &str) -> anyhow::Result<()> {
        self.uses.lock().unwrap().remove(id);
        Ok(())
    }
}

impl Blobs {
    pub async fn gc_read(&self) -> anyhow::Result<BlobSnapshot> {
        Ok(BlobSnapshot { on_disk: self.on_disk.lock().unwrap().clone() })
    }
    pub fn gc_resolve(&self, snap: &BlobSnapshot, others: &Others<'_>) -> anyhow::Result<Targets<String>> {
        let pinned = others.refs::<BlobRefs>()?;
        Ok(snap.on_disk.iter().filter(|b| !pinned.contains(b)).map(|b| (b.clone(), "unused")).collect())
    }
    pub async fn remove_blob(&self, id: &str) -> anyhow::Result<()> {
        self.on_disk.lock().unwrap().remove(id);
        Ok(())
    }
}

/// What the derive writes, by hand.
#[cfg(not(feature = "derive"))]
mod by_hand {
    use gc_core::{CollectOutcome, GcModule, Locker, Others, Provider, Snapshot, Targets, collect_each};

    use super::{BlobRefs, BlobSnapshot, Blobs, VmSnapshot, Vms};

    impl Snapshot for VmSnapshot {
        fn provide<'a>(&'a self, refs: &mut Provider<'a>) {
            refs.refs::<BlobRefs>(&self.uses);
        }
    }

    impl Snapshot for BlobSnapshot {}

    impl GcModule for Vms {
        type Snapshot = VmSnapshot;
        type Id = String;
        fn name(&self) -> &str {
            "vms"
        }
        fn locker(&self) -> &dyn Locker {
            &self.locker
        }
        async fn read(&self) -> anyhow::Result<VmSnapshot> {
            anyhow::Context::context(self.gc_read().await, "reading module vms")
        }
        fn resolve(&self, s: &VmSnapshot, o: &Others<'_>) -> anyhow::Result<Targets<String>> {
            self.gc_resolve(s, o)
        }
        async fn collect(&self, ids: Vec<String>) -> anyhow::Result<CollectOutcome<String>> {
            Ok(collect_each(ids, 8, |id| async move { self.forget(&id).await }).await)
        }
    }

    impl GcModule for Blobs {
        type Snapshot = BlobSnapshot;
        type Id = String;
        fn name(&self) -> &str {
            "blobs"
        }
        fn locker(&self) -> &dyn Locker {
            &self.locker
        }
        async fn read(&self) -> anyhow::Result<BlobSnapshot> {
            anyhow::Context::context(self.gc_read().await, "reading module blobs")
        }
        fn resolve(&self, s: &BlobSnapshot, o: &Others<'_>) -> anyhow::Result<Targets<String>> {
            self.gc_resolve(s, o)
        }
        async fn collect(&self, ids: Vec<String>) -> anyhow::Result<CollectOutcome<String>> {
            Ok(collect_each(ids, 8, |id| async move { self.remove_blob(&id).await }).await)
        }
    }
}
