#[allow(unused_imports)]
use gc_core::{GcModule, LocalLocker, Snapshot};

#[derive(Snapshot)]
struct S;

#[derive(GcModule)]
#[gc(snapshot = S, remove = remove)]
struct Store {
    #[gc(lock)]
    locker: std::path::PathBuf,
}

impl Store {
    async fn gc_read(&self) -> anyhow::Result<S> {
        Ok(S)
    }
    fn gc_resolve(&self, _: &S, _: &gc_core::Others<'_>) -> anyhow::Result<gc_core::Targets<String>> {
        Ok(gc_core::Targets::new())
    }
    async fn remove(&self, _: &String) -> anyhow::Result<()> {
        Ok(())
    }
}

fn main() {}
