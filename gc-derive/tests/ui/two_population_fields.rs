#[allow(unused_imports)]
use gc_core::{GcModule, LocalLocker, Snapshot};

#[derive(Snapshot)]
struct S {
    #[gc(population)]
    a: Vec<String>,
    #[gc(population = 3)]
    b: Vec<String>,
}

fn main() {}
