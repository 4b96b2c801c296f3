//! The image store: an index of images and their blobs, and the blobs on
//! disk. Garbage: blobs that no image indexes and no VM or snapshot uses.

use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;

use gc_core::{CollectOutcome, Declarations, FileLocker, GcModule, KindInfo, Locker, Others, Snapshot, Targets};
use serde::{Deserialize, Serialize};

use super::BlobRefs;
use super::fs::{self, EntryKind};
use super::names::{BadName, check_digest};

/// `images/index.json`.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct ImageIndex {
    /// Every image by name, with the digests of its blobs.
    pub images: BTreeMap<String, Vec<String>>,
}

/// The image store.
pub struct ImageStore {
    dir: PathBuf,
    locker: FileLocker,
}

/// What the images module reads.
pub struct ImageSnapshot {
    /// Every blob an indexed image lists.
    pub indexed: HashSet<String>,
    /// Every valid blob on disk.
    pub on_disk: Vec<String>,
    /// Blob-dir entries left alone.
    pub bad: Vec<BadName>,
}

impl Snapshot for ImageSnapshot {
    fn provided_kinds() -> Option<Vec<KindInfo>> {
        Some(Vec::new())
    }

    fn population(&self) -> Option<usize> {
        Some(self.on_disk.len())
    }
}

impl ImageStore {
    pub(super) fn new(dir: PathBuf, locker: FileLocker) -> Self {
        ImageStore { dir, locker }
    }

    fn blob_dir(&self) -> PathBuf {
        self.dir.join("blobs")
    }

    /// A writer: stores an image made of `layers` (their contents), under the
    /// lock, and returns the blobs' digests.
    pub async fn add_image(&self, name: &str, layers: &[&str]) -> anyhow::Result<Vec<String>> {
        let guard = self.locker.lock().await?;
        let digests: Vec<String> = layers.iter().map(|layer| super::digest(layer)).collect();
        for (layer, digest) in layers.iter().zip(&digests) {
            std::fs::write(self.blob_dir().join(digest), layer)?;
        }
        let path = self.dir.join("index.json");
        let mut index: ImageIndex = fs::read_json(&path)?;
        index.images.insert(name.to_owned(), digests.clone());
        fs::write_json(&path, &index)?;
        guard.release().await?;
        Ok(digests)
    }

    /// A writer: removes an image from the index, under the lock. Its blobs
    /// stay on disk until no VM or snapshot uses them.
    pub async fn remove_image(&self, name: &str) -> anyhow::Result<()> {
        let guard = self.locker.lock().await?;
        let path = self.dir.join("index.json");
        let mut index: ImageIndex = fs::read_json(&path)?;
        index.images.remove(name);
        fs::write_json(&path, &index)?;
        guard.release().await?;
        Ok(())
    }
}

impl GcModule for ImageStore {
    type Snapshot = ImageSnapshot;
    type Id = String;

    fn name(&self) -> &str {
        "images"
    }

    fn locker(&self) -> &dyn Locker {
        &self.locker
    }

    async fn read(&self) -> anyhow::Result<ImageSnapshot> {
        let (index_path, blob_dir) = (self.dir.join("index.json"), self.blob_dir());
        fs::blocking_read(move || {
            let index: ImageIndex = fs::read_json(&index_path)?;
            let listing = fs::list(&blob_dir, EntryKind::File, check_digest)?;
            Ok(ImageSnapshot {
                indexed: index.images.into_values().flatten().collect(),
                on_disk: listing.names,
                bad: listing.bad,
            })
        })
        .await
    }

    fn resolve(&self, snap: &ImageSnapshot, others: &Others<'_>) -> anyhow::Result<Targets<String>> {
        let in_use = others.refs::<BlobRefs>()?;
        let mut targets = Targets::new();
        targets.extend(
            snap.on_disk
                .iter()
                .filter(|b| !snap.indexed.contains(*b) && !in_use.contains(b))
                .cloned(),
            "in no image of the index, and no VM or snapshot uses it",
        );
        for bad in &snap.bad {
            targets.note(bad.note("blobs"));
        }
        Ok(targets)
    }

    /// Its targets are blobs: the backstop keeps any that a VM or snapshot
    /// references, even if this resolve had a bug.
    fn declare(&self, d: &mut Declarations<String>) {
        d.targets_are::<BlobRefs>();
    }

    async fn collect(&self, ids: Vec<String>) -> anyhow::Result<CollectOutcome<String>> {
        // Inline, not on a blocking thread: no removal may outlive the lock.
        let removed = fs::remove_listed(&self.blob_dir(), ids, EntryKind::File).await;
        Ok(CollectOutcome::from_results(removed))
    }
}
