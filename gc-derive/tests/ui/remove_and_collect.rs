#[allow(unused_imports)]
use gc_core::{GcModule, LocalLocker, Snapshot};

#[derive(Snapshot)]
struct S;

#[derive(GcModule)]
#[gc(snapshot = S, remove = remove_one, collect = remove_all)]
struct Store {
    #[gc(lock)]
    locker: LocalLocker,
}

fn main() {}
