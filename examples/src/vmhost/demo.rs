//! The quickstart's demo content, written through the stores' own writers,
//! and a listing of what is on disk.

use std::path::Path;

use super::VmHost;

/// What the demo planted, to tell the reader what to expect.
pub const PLANTED: &[&str] = &[
    "vm/run/vm-old        run dir of a deleted VM",
    "vm/run/vm-crashed    run dir left by a VM whose creation crashed",
    "snapshot/data/snap-web-old   data dir of a deleted snapshot",
    "snapshot/data/snap-partial   data dir of a snapshot that was never indexed",
    "images: blob of busybox:old  its image was removed and nothing else uses it",
    "network/records/vm-old, vm-gone   records of VMs that no longer exist",
    "vm/run/escape -> /   a symlink out of the store: reported, left alone",
    "images/blobs/README.txt   not a blob digest: reported, left alone",
];

/// Fills an empty host with three VMs, snapshots, images, network records
/// and the orphans of [`PLANTED`].
pub async fn seed(host: &VmHost) -> anyhow::Result<()> {
    let ubuntu = host
        .images
        .add_image("ubuntu:24.04", &["ubuntu-base", "ubuntu-kernel"])
        .await?;
    let debian = host
        .images
        .add_image("debian:12", &["debian-base", "debian-tools"])
        .await?;
    let alpine = host.images.add_image("alpine:3.20", &["alpine-base"]).await?;
    host.images.add_image("busybox:old", &["busybox"]).await?;

    host.vms.create_vm("vm-web", &ubuntu).await?;
    host.vms.create_vm("vm-db", &debian).await?;
    host.vms.create_vm("vm-old", &alpine).await?;
    for (vm, address) in [("vm-web", "10.0.0.2"), ("vm-db", "10.0.0.3"), ("vm-old", "10.0.0.4")] {
        host.network.add_record(vm, address).await?;
    }
    host.snapshots
        .create_snapshot("snap-db-nightly", "vm-db", &debian)
        .await?;
    host.snapshots
        .create_snapshot("snap-old-final", "vm-old", &alpine)
        .await?;
    host.snapshots
        .create_snapshot("snap-web-old", "vm-web", &ubuntu)
        .await?;

    // Ordinary deletions leave garbage behind for the GC.
    host.vms.delete_vm("vm-old").await?;
    host.snapshots.delete_snapshot("snap-web-old").await?;
    host.images.remove_image("busybox:old").await?;
    // alpine leaves the index, but snap-old-final still pins its blob.
    host.images.remove_image("alpine:3.20").await?;

    // Leftovers of crashes, and entries the GC must not touch.
    let root = &host.root;
    std::fs::create_dir_all(root.join("vm/run/vm-crashed"))?;
    std::fs::create_dir_all(root.join("snapshot/data/snap-partial"))?;
    std::fs::write(root.join("network/records/vm-gone"), "{}\n")?;
    std::fs::write(root.join("images/blobs/README.txt"), "not a blob\n")?;
    #[cfg(unix)]
    std::os::unix::fs::symlink("/", root.join("vm/run/escape"))?;
    Ok(())
}

/// Every entry of the four store directories, one line per directory.
pub fn inventory(root: &Path) -> anyhow::Result<Vec<String>> {
    let mut lines = Vec::new();
    for dir in ["vm/run", "snapshot/data", "images/blobs", "network/records"] {
        let mut entries = Vec::new();
        for entry in std::fs::read_dir(root.join(dir))? {
            let entry = entry?;
            let name = entry.file_name().to_string_lossy().into_owned();
            let shown = if entry.file_type()?.is_symlink() {
                format!("{name} -> {}", std::fs::read_link(entry.path())?.display())
            } else if name.len() == 64 {
                format!("{}…", &name[..12])
            } else {
                name
            };
            entries.push(shown);
        }
        entries.sort();
        lines.push(format!("{dir:<16} {}", entries.join("  ")));
    }
    Ok(lines)
}
