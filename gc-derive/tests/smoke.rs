use std::collections::{BTreeSet, HashSet};
use gc_core::{GcModule, LocalLocker, Orchestrator, Others, RefKind, Snapshot, Targets};

pub struct BlobRefs;
impl RefKind for BlobRefs { type Id = String; }

#[derive(Snapshot)]
struct VmSnap {
    #[gc(refs = BlobRefs)]
    blobs: HashSet<String>,
}

#[derive(GcModule)]
#[gc(snapshot = VmSnap, collect = collect_all)]
struct VmStore {
    #[gc(lock)]
    locker: LocalLocker,
}

impl VmStore {
    async fn gc_read(&self) -> anyhow::Result<VmSnap> { Ok(VmSnap { blobs: ["a".to_owned()].into() }) }
    fn gc_resolve(&self, _: &VmSnap, _: &Others<'_>) -> anyhow::Result<Targets<String>> { Ok(Targets::new()) }
    async fn collect_all(&self, ids: Vec<String>) -> anyhow::Result<gc_core::CollectOutcome<String>> { Ok(gc_core::CollectOutcome::all(ids)) }
}

#[derive(Snapshot)]
struct ImgSnap(BTreeSet<String>);

#[derive(GcModule)]
#[gc(name = "images", snapshot = ImgSnap, read = load, resolve = orphans, remove = rm, concurrency = 2)]
struct Images(#[gc(lock)] LocalLocker);

impl Images {
    async fn load(&self) -> anyhow::Result<ImgSnap> { Ok(ImgSnap(["a".to_owned(), "b".to_owned()].into())) }
    fn orphans(&self, s: &ImgSnap, o: &Others<'_>) -> anyhow::Result<Targets<String>> {
        let r = o.refs::<BlobRefs>()?;
        Ok(s.0.iter().filter(|b| !r.contains(b)).map(|b| (b.clone(), "x")).collect())
    }
    async fn rm(&self, _id: &String) -> anyhow::Result<()> { Ok(()) }
}

#[tokio::test]
async fn smoke() {
    let gc = Orchestrator::builder().module(VmStore { locker: LocalLocker::new() }).module(Images(LocalLocker::new())).build().unwrap();
    assert_eq!(gc.module_names().collect::<Vec<_>>(), ["images", "vm_store"]);
    let r = gc.run().await.unwrap();
    assert_eq!(r.module("images").unwrap().collected, 1);
}
