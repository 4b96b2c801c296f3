#[allow(unused_imports)]
use gc_core::{GcModule, LocalLocker, Snapshot};

#[derive(Snapshot)]
struct S;

#[derive(GcModule)]
#[gc(name, snapshot = S, remove =)]
struct Store {
    #[gc(lock)]
    locker: LocalLocker,
}

fn main() {}
