#[allow(unused_imports)]
use gc_core::{GcModule, LocalLocker, Snapshot};

#[derive(Snapshot)]
struct S;

use gc_core::RefKind;
pub struct BlobRefs;
impl RefKind for BlobRefs {
    type Id = String;
}

#[derive(Snapshot)]
struct VmSnapshot {
    #[gc(refs = BlobRefs)]
    blobs: Vec<String>,
}

fn main() {}
