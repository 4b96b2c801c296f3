#[allow(unused_imports)]
use gc_core::{GcModule, LocalLocker, Snapshot};

#[derive(Snapshot)]
struct S;

fn needs_module<M: GcModule>(_: M) {}

#[derive(GcModule)]
#[gc(snapshot = S, remove = remove, bogus = 1)]
struct Store {
    #[gc(lock)]
    locker: LocalLocker,
}

fn use_it(store: Store) {
    // No second error here: the fallback impl keeps this compiling.
    needs_module(store);
}

fn main() {}
