//! The quickstart's VM host: its four hand-written modules on a real
//! directory, under the orchestrator.

use std::path::Path;

use gc_core::{GcError, GcModule, ModuleStatus, Neighbours};
use gc_examples::vmhost::names::check_name;
use gc_examples::vmhost::{self, BlobRefs, VmHost, VmRefs};
use gc_testkit::RefsSnapshot;

async fn demo() -> (tempfile::TempDir, VmHost) {
    let dir = tempfile::tempdir().unwrap();
    let host = VmHost::create(dir.path()).unwrap();
    vmhost::seed(&host).await.unwrap();
    (dir, host)
}

fn entries(root: &Path, dir: &str) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(root.join(dir))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[tokio::test]
async fn the_plan_names_every_planted_orphan_and_deletes_nothing() {
    let (_dir, host) = demo().await;
    let before: Vec<_> = ["vm/run", "snapshot/data", "images/blobs", "network/records"]
        .iter()
        .map(|d| entries(&host.root, d))
        .collect();
    let plan = host.orchestrator().unwrap().plan().await.unwrap();
    let ids = |m: &str| -> Vec<String> { plan.module(m).unwrap().planned.iter().map(|t| t.id.clone()).collect() };
    assert_eq!(ids("vm"), ["vm-crashed", "vm-old"]);
    assert_eq!(ids("snapshot"), ["snap-partial", "snap-web-old"]);
    assert_eq!(ids("images"), [vmhost::digest("busybox")]);
    assert_eq!(ids("network"), ["vm-gone", "vm-old"]);
    let after: Vec<_> = ["vm/run", "snapshot/data", "images/blobs", "network/records"]
        .iter()
        .map(|d| entries(&host.root, d))
        .collect();
    assert_eq!(before, after);
}

#[tokio::test]
async fn a_cycle_collects_the_orphans_and_keeps_every_pinned_blob() {
    let (_dir, host) = demo().await;
    let gc = host.orchestrator().unwrap();
    let report = gc.run().await.unwrap();
    report.check().unwrap();
    assert_eq!(report.total_collected(), 7);
    assert_eq!(entries(&host.root, "vm/run"), ["escape", "vm-db", "vm-web"]);
    assert_eq!(
        entries(&host.root, "snapshot/data"),
        ["snap-db-nightly", "snap-old-final"]
    );
    assert_eq!(entries(&host.root, "network/records"), ["vm-db", "vm-web"]);
    let blobs = entries(&host.root, "images/blobs");
    // alpine-base is in no image any more, but snap-old-final pins it.
    for layer in [
        "ubuntu-base",
        "ubuntu-kernel",
        "debian-base",
        "debian-tools",
        "alpine-base",
    ] {
        assert!(blobs.contains(&vmhost::digest(layer)), "{layer} was collected");
    }
    assert!(!blobs.contains(&vmhost::digest("busybox")));

    let again = gc.run().await.unwrap();
    assert_eq!(again.total_targets(), 0);
    assert!(again.modules.iter().all(|m| m.status == ModuleStatus::NothingToDo));
}

#[tokio::test]
async fn a_symlink_out_of_the_store_is_reported_and_never_followed() {
    let (_dir, host) = demo().await;
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("precious"), "keep").unwrap();
    std::os::unix::fs::symlink(outside.path(), host.root.join("snapshot/data/snap-link")).unwrap();
    std::os::unix::fs::symlink(
        outside.path().join("precious"),
        host.root.join("network/records/vm-link"),
    )
    .unwrap();

    let report = host.orchestrator().unwrap().run().await.unwrap();
    assert!(
        outside.path().join("precious").exists(),
        "followed a symlink out of the store"
    );
    assert!(host.root.join("snapshot/data/snap-link").is_symlink());
    assert!(host.root.join("network/records/vm-link").is_symlink());
    let notes = &report.module("snapshot").unwrap().notes;
    assert!(
        notes
            .iter()
            .any(|n| n == "left alone: data/snap-link (a symlink, never followed)"),
        "{notes:?}"
    );
}

#[tokio::test]
async fn collect_is_idempotent_and_refuses_bad_names() {
    let (_dir, host) = demo().await;
    let ids = vec!["vm-old".to_owned(), "vm-crashed".to_owned()];
    let first = host.vms.collect(ids.clone()).await.unwrap();
    assert_eq!(first.collected_ids().len(), 2);
    let second = host.vms.collect(ids).await.unwrap();
    assert!(second.is_complete(), "already gone must count as collected");
    assert!(host.root.join("vm/run/vm-db").exists());

    let bad = host
        .vms
        .collect(vec!["../snapshot".to_owned(), "escape".to_owned()])
        .await
        .unwrap();
    assert_eq!(bad.failures().len(), 2);
    assert!(host.root.join("snapshot").exists());
    assert!(host.root.join("vm/run/escape").is_symlink());
}

/// The image store removes its blobs in the directory's own order
/// (`fs::remove_listed`), by the same rules as one by one.
#[tokio::test]
async fn image_collect_keeps_the_rules_of_one_by_one_removal() {
    let (_dir, host) = demo().await;
    let blobs = host.root.join("images/blobs");
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("precious"), "keep").unwrap();
    let (busybox, gone, link) = (
        vmhost::digest("busybox"),
        vmhost::digest("never-stored"),
        vmhost::digest("link"),
    );
    std::os::unix::fs::symlink(outside.path().join("precious"), blobs.join(&link)).unwrap();

    let ids = vec![busybox.clone(), gone.clone(), link.clone(), "../vm".to_owned()];
    let outcome = host.images.collect(ids.clone()).await.unwrap();
    let mut collected = outcome.collected_ids().to_vec();
    collected.sort();
    let mut expected = vec![busybox.clone(), gone.clone()];
    expected.sort();
    assert_eq!(collected, expected, "a blob already gone counts as collected");
    let mut failed: Vec<&String> = outcome.failures().iter().map(|f| &f.id).collect();
    failed.sort();
    assert_eq!(failed, [&"../vm".to_owned(), &link]);
    assert!(!blobs.join(&busybox).exists());
    assert!(blobs.join(&link).is_symlink(), "a symlink is left alone");
    assert!(outside.path().join("precious").exists());
    assert!(host.root.join("vm").is_dir());

    // Idempotent: the same targets again remove nothing more.
    let again = host.images.collect(vec![busybox, gone]).await.unwrap();
    assert!(again.is_complete());
    assert!(blobs.join(vmhost::digest("ubuntu-base")).exists());
}

#[tokio::test]
async fn a_corrupt_index_aborts_the_cycle_and_nothing_is_removed() {
    let (_dir, host) = demo().await;
    std::fs::write(host.root.join("snapshot/index.json"), "{ not json").unwrap();
    let err = host.orchestrator().unwrap().run().await.unwrap_err();
    assert!(matches!(err, GcError::ReadFailed { .. }), "{err}");
    assert!(err.to_string().contains("snapshot/index.json"), "{err}");
    // Every blob survives: the snapshot module's pins could not be read.
    assert!(entries(&host.root, "images/blobs").contains(&vmhost::digest("busybox")));
    assert!(host.root.join("vm/run/vm-old").exists());
}

#[tokio::test]
async fn a_missing_index_is_a_read_error_not_an_empty_store() {
    let (_dir, host) = demo().await;
    std::fs::remove_file(host.root.join("vm/index.json")).unwrap();
    let err = host.orchestrator().unwrap().run().await.unwrap_err();
    assert!(err.to_string().contains("vm/index.json"), "{err}");
    assert!(host.root.join("vm/run/vm-web").exists());
}

#[tokio::test]
async fn a_writer_holding_a_store_lock_makes_the_cycle_abort() {
    let (_dir, host) = demo().await;
    let gc = host.orchestrator().unwrap();
    let writer = host.network.locker().lock().await.unwrap();
    let err = gc.run().await.unwrap_err();
    assert!(err.to_string().contains("network (lock busy)"), "{err}");
    assert!(host.root.join("vm/run/vm-old").exists());
    writer.release().await.unwrap();
    gc.run().await.unwrap();
    assert!(!host.root.join("vm/run/vm-old").exists());
}

#[tokio::test]
async fn images_resolve_spares_blobs_pinned_by_hand_made_neighbours() {
    let (_dir, host) = demo().await;
    let snapshot = host.images.read().await.unwrap();
    // Unindexed: busybox (its image was removed) and alpine (likewise, but
    // in the real host a snapshot pins it).
    let mut unindexed = vec![vmhost::digest("busybox"), vmhost::digest("alpine-base")];
    unindexed.sort();
    let alone = Neighbours::new()
        .with("vm", RefsSnapshot::new().with::<BlobRefs>([]).with::<VmRefs>([]))
        .resolve(&host.images, &snapshot)
        .unwrap();
    let mut ids = alone.into_ids();
    ids.sort();
    assert_eq!(ids, unindexed);
    let pinned = Neighbours::new()
        .with("vm", RefsSnapshot::new().with::<BlobRefs>(unindexed.clone()))
        .resolve(&host.images, &snapshot)
        .unwrap();
    assert!(pinned.is_empty());
    // A provider that was not read: the view refuses rather than look empty.
    let unread = Neighbours::new().unread("snapshot").resolve(&host.images, &snapshot);
    assert!(unread.unwrap_err().to_string().contains("not read"));
}

#[test]
fn names_from_disk_are_checked_before_use_in_a_path() {
    for bad in ["", ".", "..", "../x", "a/b", "a\\b", "a\0b", ".hidden", "x..y"] {
        assert!(check_name(bad.as_ref()).is_err(), "{bad:?} accepted");
    }
    assert!(check_name("x".repeat(256).as_ref()).is_err());
    for good in ["vm-web", "snap_1", "a.b"] {
        assert!(check_name(good.as_ref()).is_ok(), "{good:?} refused");
    }
}

#[test]
fn create_refuses_a_missing_or_non_empty_directory_and_open_a_non_host() {
    let dir = tempfile::tempdir().unwrap();
    assert!(VmHost::create(&dir.path().join("nope")).is_err());
    std::fs::write(dir.path().join("file"), "x").unwrap();
    let err = VmHost::create(dir.path()).err().unwrap();
    assert!(err.to_string().contains("not empty"), "{err}");
    let err = VmHost::open(dir.path()).err().unwrap();
    assert!(err.to_string().contains("is not a VM host"), "{err}");
}
