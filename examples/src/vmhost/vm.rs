//! The VM store: an index of VMs and the blobs each uses, and a run
//! directory per VM. Garbage: run directories of VMs no longer indexed.

use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;

use gc_core::{
    CollectOutcome, Declarations, FileLocker, GcModule, KindInfo, Locker, Others, Provider, Snapshot, Targets,
};
use serde::{Deserialize, Serialize};

use super::fs::{self, EntryKind};
use super::names::{BadName, any_name};
use super::{BlobRefs, VmRefs};

/// `vm/index.json`.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct VmIndex {
    /// Every VM by ID.
    pub vms: BTreeMap<String, VmRecord>,
}

/// One VM of the index.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
pub struct VmRecord {
    /// The image blobs its disks are built from.
    pub blobs: Vec<String>,
}

/// The VM store.
pub struct VmStore {
    dir: PathBuf,
    locker: FileLocker,
}

/// What the VM module reads.
pub struct VmSnapshot {
    /// Every indexed VM.
    pub vms: HashSet<String>,
    /// Every blob an indexed VM uses.
    pub blobs: HashSet<String>,
    /// Every valid run directory.
    pub run_dirs: Vec<String>,
    /// Run-dir entries left alone.
    pub bad: Vec<BadName>,
}

impl Snapshot for VmSnapshot {
    fn provide<'a>(&'a self, refs: &mut Provider<'a>) {
        refs.refs::<BlobRefs>(&self.blobs).refs::<VmRefs>(&self.vms);
    }

    fn provided_kinds() -> Option<Vec<KindInfo>> {
        Some(vec![KindInfo::of::<BlobRefs>(), KindInfo::of::<VmRefs>()])
    }

    fn population(&self) -> Option<usize> {
        Some(self.run_dirs.len())
    }
}

impl VmStore {
    pub(super) fn new(dir: PathBuf, locker: FileLocker) -> Self {
        VmStore { dir, locker }
    }

    fn run_dir(&self) -> PathBuf {
        self.dir.join("run")
    }

    /// A writer: creates a VM using `blobs`, under the store's lock.
    pub async fn create_vm(&self, id: &str, blobs: &[String]) -> anyhow::Result<()> {
        let id = super::names::check_name(id.as_ref()).map_err(|bad| anyhow::anyhow!("{bad}"))?;
        let guard = self.locker.lock().await?;
        let path = self.dir.join("index.json");
        let mut index: VmIndex = fs::read_json(&path)?;
        index.vms.insert(id.to_owned(), VmRecord { blobs: blobs.to_vec() });
        std::fs::create_dir_all(self.run_dir().join(id))?;
        std::fs::write(self.run_dir().join(id).join("console.log"), b"booted\n")?;
        fs::write_json(&path, &index)?;
        guard.release().await?;
        Ok(())
    }

    /// A writer: deletes a VM from the index, under the store's lock. Its run
    /// directory stays behind for the GC.
    pub async fn delete_vm(&self, id: &str) -> anyhow::Result<()> {
        let guard = self.locker.lock().await?;
        let path = self.dir.join("index.json");
        let mut index: VmIndex = fs::read_json(&path)?;
        index.vms.remove(id);
        fs::write_json(&path, &index)?;
        guard.release().await?;
        Ok(())
    }
}

impl GcModule for VmStore {
    type Snapshot = VmSnapshot;
    type Id = String;

    fn name(&self) -> &str {
        "vm"
    }

    fn locker(&self) -> &dyn Locker {
        &self.locker
    }

    async fn read(&self) -> anyhow::Result<VmSnapshot> {
        let (index_path, run_dir) = (self.dir.join("index.json"), self.run_dir());
        fs::blocking_read(move || {
            let index: VmIndex = fs::read_json(&index_path)?;
            let listing = fs::list(&run_dir, EntryKind::Dir, any_name)?;
            Ok(VmSnapshot {
                blobs: index.vms.values().flat_map(|vm| vm.blobs.iter().cloned()).collect(),
                vms: index.vms.into_keys().collect(),
                run_dirs: listing.names,
                bad: listing.bad,
            })
        })
        .await
    }

    fn resolve(&self, snap: &VmSnapshot, _others: &Others<'_>) -> anyhow::Result<Targets<String>> {
        let mut targets = Targets::new();
        targets.extend(
            snap.run_dirs.iter().filter(|d| !snap.vms.contains(*d)).cloned(),
            "run directory of a VM that is not in the VM index",
        );
        for bad in &snap.bad {
            targets.note(bad.note("run"));
        }
        Ok(targets)
    }

    fn declare(&self, d: &mut Declarations<String>) {
        d.consumes_nothing();
    }

    async fn collect(&self, ids: Vec<String>) -> anyhow::Result<CollectOutcome<String>> {
        // Removal runs inline, not on a blocking thread: if the cycle is
        // dropped, no removal may outlive the lock.
        let removed = fs::remove_listed(&self.run_dir(), ids, EntryKind::Dir).await;
        Ok(CollectOutcome::from_results(removed))
    }
}
