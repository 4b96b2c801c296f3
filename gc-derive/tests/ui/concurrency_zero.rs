#[allow(unused_imports)]
use gc_core::{GcModule, LocalLocker, Snapshot};

#[derive(Snapshot)]
struct S;

#[derive(GcModule)]
#[gc(snapshot = S, remove = remove, concurrency = 0)]
struct Store {
    #[gc(lock)]
    locker: LocalLocker,
}

fn main() {}
