#[allow(unused_imports)]
use gc_core::{GcModule, LocalLocker, Snapshot};

#[derive(Snapshot)]
struct S;

use std::collections::HashSet;
use gc_core::RefKind;
pub struct BlobRefs;
impl RefKind for BlobRefs {
    type Id = String;
}

#[derive(Snapshot)]
struct VmSnapshot {
    #[gc(refs = BlobRefs)]
    blobs: HashSet<u64>,
}

fn main() {}
