#[allow(unused_imports)]
use gc_core::{GcModule, LocalLocker, Snapshot};

#[derive(Snapshot)]
struct S;

#[derive(GcModule)]
#[gc(snapshot = S, remove = remove, consumes = BlobRefs)]
struct Store {
    #[gc(lock)]
    locker: LocalLocker,
}

fn main() {}
