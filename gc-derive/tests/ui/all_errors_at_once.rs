#[allow(unused_imports)]
use gc_core::{GcModule, LocalLocker, Snapshot};

#[derive(Snapshot)]
struct S;

#[derive(GcModule)]
#[gc(nme = "x", snapshot = S, remove = a, collect = b, concurrency = 0)]
struct Store {
    #[gc(lock)]
    a: LocalLocker,
    #[gc(lock, refs = X)]
    b: LocalLocker,
}

fn main() {}
