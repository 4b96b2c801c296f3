//! The quickstart's four modules run gc-testkit's module suites on a real
//! directory, the way a downstream crate tests its own.

use std::collections::BTreeSet;
use std::path::Path;

use gc_core::{GcModule, Neighbours};
use gc_examples::vmhost::{self, BlobRefs, VmHost, VmRefs};
use gc_testkit::FakeModule;
use gc_testkit::conformance::modules;

async fn demo() -> (tempfile::TempDir, VmHost) {
    let dir = tempfile::tempdir().unwrap();
    let host = VmHost::create(dir.path()).unwrap();
    vmhost::seed(&host).await.unwrap();
    (dir, host)
}

fn inventory(dir: &Path) -> impl Fn() -> BTreeSet<String> + '_ {
    move || {
        std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect()
    }
}

/// The real VM and snapshot modules' snapshots, as the others.
async fn pinning_neighbours(host: &VmHost) -> Neighbours {
    Neighbours::new()
        .with("vm", host.vms.read().await.unwrap())
        .with("snapshot", host.snapshots.read().await.unwrap())
}

#[tokio::test]
async fn every_module_collects_idempotently() {
    let (_dir, host) = demo().await;
    let others = pinning_neighbours(&host).await;
    let root = host.root.clone();
    modules::collect_is_idempotent(&*host.images, &others, inventory(&root.join("images/blobs"))).await;
    modules::collect_is_idempotent(&*host.network, &others, inventory(&root.join("network/records"))).await;
    let none = Neighbours::new();
    modules::collect_is_idempotent(&*host.vms, &none, inventory(&root.join("vm/run"))).await;
    modules::collect_is_idempotent(&*host.snapshots, &none, inventory(&root.join("snapshot/data"))).await;
}

#[tokio::test]
async fn plan_and_run_agree_for_images_and_network() {
    let (_dir, host) = demo().await;
    let blobs_dir = host.root.join("images/blobs");
    let pinned = ["ubuntu-base", "ubuntu-kernel", "alpine-base"].map(vmhost::digest);
    let vm = FakeModule::builder("vm").provides::<BlobRefs>(pinned).build();
    modules::plan_and_run_agree(host.images.clone(), vec![vm], inventory(&blobs_dir)).await;

    let records = host.root.join("network/records");
    let vm = FakeModule::builder("vm").provides::<VmRefs>(["vm-web"]).build();
    modules::plan_and_run_agree(host.network.clone(), vec![vm], inventory(&records)).await;
}

#[tokio::test]
async fn images_and_network_never_target_what_others_reference() {
    let (_dir, host) = demo().await;
    let images = host.images.read().await.unwrap();
    let mut blobs = images.on_disk.clone();
    blobs.push(vmhost::digest("never-stored"));
    modules::resolve_never_targets_referenced::<BlobRefs, _>(&*host.images, &images, &blobs, 256);

    let network = host.network.read().await.unwrap();
    modules::resolve_never_targets_referenced::<VmRefs, _>(&*host.network, &network, &network.records, 256);
}
