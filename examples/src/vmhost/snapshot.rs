//! The snapshot store: an index of snapshots and the blobs each pins, and a
//! data directory per snapshot. Garbage: data directories of snapshots no
//! longer indexed.
//!
//! Written with `#[derive(GcModule)]` and `#[derive(Snapshot)]`; compare the
//! hand-written VM store in `vm.rs`.

use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;

use gc_core::{FileLocker, GcModule, Locker, Others, Snapshot, Targets};
use serde::{Deserialize, Serialize};

use super::BlobRefs;
use super::fs::{self, EntryKind};
use super::names::{BadName, any_name};

/// `snapshot/index.json`.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct SnapshotIndex {
    /// Every snapshot by ID.
    pub snapshots: BTreeMap<String, SnapshotRecord>,
}

/// One snapshot of the index.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
pub struct SnapshotRecord {
    /// The VM it was taken of (which may since be gone).
    pub vm: String,
    /// The image blobs it needs to be restored.
    pub blobs: Vec<String>,
}

/// The snapshot store.
#[derive(GcModule)]
#[gc(name = "snapshot", snapshot = SnapshotSnapshot, remove = remove_data_dir, consumes())]
pub struct SnapshotStore {
    dir: PathBuf,
    #[gc(lock)]
    locker: FileLocker,
}

/// What the snapshot module reads.
#[derive(Snapshot)]
pub struct SnapshotSnapshot {
    /// Every indexed snapshot.
    pub snapshots: HashSet<String>,
    /// Every blob an indexed snapshot pins.
    #[gc(refs = BlobRefs)]
    pub blobs: HashSet<String>,
    /// Every valid data directory.
    #[gc(population)]
    pub data_dirs: Vec<String>,
    /// Data-dir entries left alone.
    pub bad: Vec<BadName>,
}

impl SnapshotStore {
    pub(super) fn new(dir: PathBuf, locker: FileLocker) -> Self {
        SnapshotStore { dir, locker }
    }

    fn data_dir(&self) -> PathBuf {
        self.dir.join("data")
    }

    /// A writer: records a snapshot of `vm` pinning `blobs`, under the lock.
    pub async fn create_snapshot(&self, id: &str, vm: &str, blobs: &[String]) -> anyhow::Result<()> {
        let id = super::names::check_name(id.as_ref()).map_err(|bad| anyhow::anyhow!("{bad}"))?;
        let guard = self.locker.lock().await?;
        let path = self.dir.join("index.json");
        let mut index: SnapshotIndex = fs::read_json(&path)?;
        index.snapshots.insert(
            id.to_owned(),
            SnapshotRecord {
                vm: vm.to_owned(),
                blobs: blobs.to_vec(),
            },
        );
        std::fs::create_dir_all(self.data_dir().join(id))?;
        std::fs::write(self.data_dir().join(id).join("memory.img"), b"snapshot\n")?;
        fs::write_json(&path, &index)?;
        guard.release().await?;
        Ok(())
    }

    /// A writer: deletes a snapshot from the index, under the lock. Its data
    /// directory stays behind for the GC.
    pub async fn delete_snapshot(&self, id: &str) -> anyhow::Result<()> {
        let guard = self.locker.lock().await?;
        let path = self.dir.join("index.json");
        let mut index: SnapshotIndex = fs::read_json(&path)?;
        index.snapshots.remove(id);
        fs::write_json(&path, &index)?;
        guard.release().await?;
        Ok(())
    }
}

/// The GC side, to which the derive delegates.
impl SnapshotStore {
    async fn gc_read(&self) -> anyhow::Result<SnapshotSnapshot> {
        let (index_path, data_dir) = (self.dir.join("index.json"), self.data_dir());
        fs::blocking_read(move || {
            let index: SnapshotIndex = fs::read_json(&index_path)?;
            let listing = fs::list(&data_dir, EntryKind::Dir, any_name)?;
            Ok(SnapshotSnapshot {
                blobs: index.snapshots.values().flat_map(|s| s.blobs.iter().cloned()).collect(),
                snapshots: index.snapshots.into_keys().collect(),
                data_dirs: listing.names,
                bad: listing.bad,
            })
        })
        .await
    }

    fn gc_resolve(&self, snap: &SnapshotSnapshot, _others: &Others<'_>) -> anyhow::Result<Targets<String>> {
        let mut targets = Targets::new();
        targets.extend(
            snap.data_dirs.iter().filter(|d| !snap.snapshots.contains(*d)).cloned(),
            "data directory of a snapshot that is not in the snapshot index",
        );
        for bad in &snap.bad {
            targets.note(bad.note("data"));
        }
        Ok(targets)
    }

    /// Inline, not on a blocking thread: no removal may outlive the lock.
    async fn remove_data_dir(&self, id: &str) -> anyhow::Result<()> {
        fs::remove(&self.data_dir(), id, EntryKind::Dir)
    }
}
