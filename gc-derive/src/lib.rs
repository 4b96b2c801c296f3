//! Derive macros for gc-core, re-exported by it (feature `derive`, on by
//! default): write `use gc_core::{GcModule, Snapshot};`.
//!
//! `#[derive(GcModule)]` writes the plumbing of a module: the locker (the
//! field marked `#[gc(lock)]`), the name, the snapshot and ID types, `read`
//! and `resolve` delegated to methods, and `collect` delegated to a batch
//! method or built from a per-ID `remove` run with bounded concurrency.
//! `#[derive(Snapshot)]` provides the fields marked `#[gc(refs = Kind)]` as
//! reference sets. Every attribute is documented in `docs/derive.md`.
//!
//! Misuse is a compile error pointing at the offending tokens, and every
//! error of one input is reported at once.
//!
//! The layout follows thiserror's impl crate: `ast` parses the input,
//! `attr` its attributes, `valid` checks what no single attribute can see,
//! `expand` generates, and `fallback` is emitted beside errors.

mod ast;
mod attr;
mod case;
mod ctxt;
mod expand;
mod fallback;
mod valid;

use proc_macro::TokenStream;
use syn::{DeriveInput, parse_macro_input};

/// Implements `gc_core::GcModule` for a storage struct.
///
/// ```
/// use std::path::PathBuf;
/// use gc_core::{FileLocker, GcModule, Others, Snapshot, Targets};
///
/// #[derive(Snapshot)]
/// struct ImageSnapshot {
///     on_disk: Vec<String>,
/// }
///
/// #[derive(GcModule)]
/// #[gc(name = "images", snapshot = ImageSnapshot, remove = remove_blob, concurrency = 16)]
/// struct ImageStore {
///     #[gc(lock)]
///     locker: FileLocker,
///     dir: PathBuf,
/// }
///
/// impl ImageStore {
///     async fn gc_read(&self) -> anyhow::Result<ImageSnapshot> {
///         Ok(ImageSnapshot { on_disk: Vec::new() })
///     }
///     fn gc_resolve(&self, snap: &ImageSnapshot, _: &Others<'_>) -> anyhow::Result<Targets<String>> {
///         Ok(snap.on_disk.iter().map(|b| (b.clone(), "unused")).collect())
///     }
///     async fn remove_blob(&self, id: &str) -> anyhow::Result<()> {
///         match std::fs::remove_file(self.dir.join(id)) {
///             Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e.into()),
///             _ => Ok(()),
///         }
///     }
/// }
///
/// let store = ImageStore { locker: FileLocker::new("/tmp/images.lock"), dir: "/tmp/blobs".into() };
/// assert_eq!(store.name(), "images");
/// ```
///
/// Every key is documented in `docs/derive.md`.
#[proc_macro_derive(GcModule, attributes(gc))]
pub fn derive_gc_module(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    expand::derive_module(&input).into()
}

/// Implements `gc_core::Snapshot`, providing the fields marked
/// `#[gc(refs = Kind)]` as reference sets of those kinds.
///
/// ```
/// use std::collections::{BTreeSet, HashSet};
/// use gc_core::{Neighbours, RefKind, Snapshot};
///
/// pub struct BlobRefs;
/// impl RefKind for BlobRefs { type Id = String; }
/// pub struct VmRefs;
/// impl RefKind for VmRefs { type Id = String; }
///
/// #[derive(Snapshot)]
/// struct VmSnapshot {
///     #[gc(refs = BlobRefs)]
///     blobs: HashSet<String>,
///     #[gc(refs = VmRefs)]
///     vms: BTreeSet<String>,
///     run_dirs: Vec<String>, // not provided
/// }
///
/// let snapshot = VmSnapshot {
///     blobs: ["b1".to_owned()].into(),
///     vms: ["vm-1".to_owned()].into(),
///     run_dirs: vec![],
/// };
/// let neighbours = Neighbours::new().with("vm", snapshot);
/// assert!(neighbours.view(|o| o.refs::<BlobRefs>().unwrap().contains(&"b1".to_owned())));
/// ```
#[proc_macro_derive(Snapshot, attributes(gc))]
pub fn derive_snapshot(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    expand::derive_snapshot(&input).into()
}
