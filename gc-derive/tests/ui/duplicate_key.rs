#[allow(unused_imports)]
use gc_core::{GcModule, LocalLocker, Snapshot};

#[derive(Snapshot)]
struct S;

#[derive(GcModule)]
#[gc(name = "a", snapshot = S, remove = remove)]
#[gc(name = "b")]
struct Store {
    #[gc(lock)]
    locker: LocalLocker,
}

fn main() {}
