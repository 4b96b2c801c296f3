#[allow(unused_imports)]
use gc_core::{GcModule, LocalLocker, Snapshot};

#[derive(Snapshot)]
struct S;

#[derive(GcModule)]
#[gc(name = images, snapshot = S, remove = "remove_blob", concurrency = "8")]
struct Store {
    #[gc(lock)]
    locker: LocalLocker,
}

fn main() {}
