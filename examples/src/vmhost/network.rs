//! The network store: one record per VM's network. Garbage: records of VMs
//! that no longer exist.
//!
//! Written with `#[derive(GcModule)]`; compare the hand-written image store
//! in `images.rs`.

use std::path::PathBuf;

use gc_core::{FileLocker, GcModule, Locker, Others, Snapshot, Targets};

use super::VmRefs;
use super::fs::{self, EntryKind};
use super::names::{BadName, any_name};

/// The network store.
#[derive(GcModule)]
#[gc(name = "network", snapshot = NetworkSnapshot, remove = remove_record, concurrency = 16, consumes(VmRefs))]
pub struct NetworkStore {
    dir: PathBuf,
    #[gc(lock)]
    locker: FileLocker,
}

/// What the network module reads.
#[derive(Snapshot)]
pub struct NetworkSnapshot {
    /// The VM IDs that have a record.
    #[gc(population)]
    pub records: Vec<String>,
    /// Record entries left alone.
    pub bad: Vec<BadName>,
}

impl NetworkStore {
    pub(super) fn new(dir: PathBuf, locker: FileLocker) -> Self {
        NetworkStore { dir, locker }
    }

    fn records_dir(&self) -> PathBuf {
        self.dir.join("records")
    }

    /// A writer: records the network of `vm`, under the lock.
    pub async fn add_record(&self, vm: &str, address: &str) -> anyhow::Result<()> {
        let vm = super::names::check_name(vm.as_ref()).map_err(|bad| anyhow::anyhow!("{bad}"))?;
        let guard = self.locker.lock().await?;
        std::fs::write(self.records_dir().join(vm), format!("{{\"address\":\"{address}\"}}\n"))?;
        guard.release().await?;
        Ok(())
    }
}

/// The GC side, to which the derive delegates.
impl NetworkStore {
    async fn gc_read(&self) -> anyhow::Result<NetworkSnapshot> {
        let records_dir = self.records_dir();
        fs::blocking_read(move || {
            let listing = fs::list(&records_dir, EntryKind::File, any_name)?;
            Ok(NetworkSnapshot {
                records: listing.names,
                bad: listing.bad,
            })
        })
        .await
    }

    fn gc_resolve(&self, snap: &NetworkSnapshot, others: &Others<'_>) -> anyhow::Result<Targets<String>> {
        let live = others.refs::<VmRefs>()?;
        let mut targets = Targets::new();
        targets.extend(
            snap.records.iter().filter(|vm| !live.contains(vm)).cloned(),
            "network record of a VM that no longer exists",
        );
        for bad in &snap.bad {
            targets.note(bad.note("records"));
        }
        Ok(targets)
    }

    /// Inline, not on a blocking thread: no removal may outlive the lock.
    async fn remove_record(&self, vm: &str) -> anyhow::Result<()> {
        fs::remove(&self.records_dir(), vm, EntryKind::File)
    }
}
