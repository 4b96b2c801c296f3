#[allow(unused_imports)]
use gc_core::{GcModule, LocalLocker, Snapshot};

#[derive(Snapshot)]
struct S;

#[derive(GcModule)]
#[gc(snapshot = S, read = load_index, remove = remove)]
struct Store {
    #[gc(lock)]
    locker: LocalLocker,
}

impl Store {
    fn gc_resolve(&self, _: &S, _: &gc_core::Others<'_>) -> anyhow::Result<gc_core::Targets<String>> {
        Ok(gc_core::Targets::new())
    }
    async fn remove(&self, _: &String) -> anyhow::Result<()> {
        Ok(())
    }
}

fn main() {}
