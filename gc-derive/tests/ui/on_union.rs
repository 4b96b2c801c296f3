#[allow(unused_imports)]
use gc_core::{GcModule, LocalLocker, Snapshot};

#[derive(Snapshot)]
struct S;

#[derive(Snapshot)]
union Both {
    a: u32,
    b: f32,
}

fn main() {}
