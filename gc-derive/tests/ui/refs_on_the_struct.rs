#[allow(unused_imports)]
use gc_core::{GcModule, LocalLocker, Snapshot};

#[derive(Snapshot)]
struct S;

#[derive(Snapshot)]
#[gc(refs = S)]
struct Other {
    x: u32,
}

fn main() {}
