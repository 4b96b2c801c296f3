//! The quickstart's VM host: four stores on disk, each a GC module with its
//! own [`FileLocker`]: the VM and image stores written by hand against
//! [`gc_core::GcModule`], the snapshot and network stores with
//! `#[derive(GcModule)]`.
//!
//! ```text
//! ROOT/vm/.lock        vm/index.json        vm/run/<vm>/          VMs and their run dirs
//! ROOT/snapshot/.lock  snapshot/index.json  snapshot/data/<snap>/ snapshots and their data
//! ROOT/images/.lock    images/index.json    images/blobs/<digest> images and their blobs
//! ROOT/network/.lock                        network/records/<vm>  network records of VMs
//! ```
//!
//! VMs and snapshots pin image blobs (kind [`BlobRefs`]); network records
//! belong to VMs (kind [`VmRefs`]).

mod demo;
pub mod fs;
mod images;
pub mod names;
mod network;
mod snapshot;
mod vm;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, bail};
use gc_core::{FileLocker, Orchestrator, RefKind};

pub use demo::{PLANTED, inventory, seed};
pub use images::{ImageIndex, ImageSnapshot, ImageStore};
pub use network::{NetworkSnapshot, NetworkStore};
pub use snapshot::{SnapshotIndex, SnapshotRecord, SnapshotSnapshot, SnapshotStore};
pub use vm::{VmIndex, VmRecord, VmSnapshot, VmStore};

/// Image blobs that a VM or a snapshot uses.
pub struct BlobRefs;
impl RefKind for BlobRefs {
    type Id = String;
}

/// VMs that exist.
pub struct VmRefs;
impl RefKind for VmRefs {
    type Id = String;
}

/// The four stores of one VM host.
#[derive(Clone)]
pub struct VmHost {
    /// The host's root directory.
    pub root: PathBuf,
    /// VMs and their run dirs.
    pub vms: Arc<VmStore>,
    /// Snapshots and their data dirs.
    pub snapshots: Arc<SnapshotStore>,
    /// Images and their blobs.
    pub images: Arc<ImageStore>,
    /// Network records of VMs.
    pub network: Arc<NetworkStore>,
}

const DIRS: [&str; 4] = ["vm/run", "snapshot/data", "images/blobs", "network/records"];

impl VmHost {
    /// Creates an empty host under `root`, which must exist and be empty.
    pub fn create(root: &Path) -> anyhow::Result<VmHost> {
        if !root.is_dir() {
            bail!("{} is not a directory", root.display());
        }
        if std::fs::read_dir(root)?.next().is_some() {
            bail!("{} is not empty", root.display());
        }
        for dir in DIRS {
            std::fs::create_dir_all(root.join(dir))?;
        }
        fs::write_json(&root.join("vm/index.json"), &VmIndex::default())?;
        fs::write_json(&root.join("snapshot/index.json"), &SnapshotIndex::default())?;
        fs::write_json(&root.join("images/index.json"), &ImageIndex::default())?;
        VmHost::open(root)
    }

    /// Opens the host under `root`, checking its layout.
    pub fn open(root: &Path) -> anyhow::Result<VmHost> {
        for dir in DIRS {
            let path = root.join(dir);
            if !path.is_dir() {
                bail!("{} is not a VM host: {} is missing", root.display(), path.display());
            }
        }
        let root = root
            .canonicalize()
            .with_context(|| format!("resolving {}", root.display()))?;
        let locker = |module: &str| FileLocker::new(root.join(module).join(".lock"));
        Ok(VmHost {
            vms: Arc::new(VmStore::new(root.join("vm"), locker("vm"))),
            snapshots: Arc::new(SnapshotStore::new(root.join("snapshot"), locker("snapshot"))),
            images: Arc::new(ImageStore::new(root.join("images"), locker("images"))),
            network: Arc::new(NetworkStore::new(root.join("network"), locker("network"))),
            root,
        })
    }

    /// An orchestrator over the four stores. The stores stay usable by
    /// their writers through the `Arc`s in `self`.
    pub fn orchestrator(&self) -> Result<Orchestrator, gc_core::GcError> {
        Orchestrator::builder()
            .module(Arc::clone(&self.vms))
            .module(Arc::clone(&self.snapshots))
            .module(Arc::clone(&self.images))
            .module(Arc::clone(&self.network))
            .build()
    }
}

/// A demo blob digest for `content`: 64 hex digits, stable across runs.
/// (A real store would use sha256; this keeps the example free of a
/// hashing dependency.)
pub fn digest(content: &str) -> String {
    let mut state = 0xcbf2_9ce4_8422_2325u64;
    let mut out = String::with_capacity(64);
    for round in 0..4u64 {
        for b in content.bytes().chain(round.to_le_bytes()) {
            state = (state ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
        out.push_str(&format!("{state:016x}"));
    }
    out
}
