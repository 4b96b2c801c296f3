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
/// ```ignore
/// #[derive(GcModule)]
/// #[gc(name = "images", snapshot = ImageSnapshot, remove = remove_blob, concurrency = 16)]
/// struct ImageStore {
///     #[gc(lock)]
///     locker: FileLocker,
///     dir: PathBuf,
/// }
/// // and: async fn gc_read(&self) -> anyhow::Result<ImageSnapshot>,
/// //      fn gc_resolve(&self, &ImageSnapshot, &Others) -> anyhow::Result<Targets<String>>,
/// //      async fn remove_blob(&self, id: &String) -> anyhow::Result<()>
/// ```
///
/// (This crate cannot run doctests against gc-core; gc-core's documentation
/// and `docs/derive.md` hold the tested examples.)
#[proc_macro_derive(GcModule, attributes(gc))]
pub fn derive_gc_module(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    expand::derive_module(&input).into()
}

/// Implements `gc_core::Snapshot`, providing the fields marked
/// `#[gc(refs = Kind)]` as reference sets of those kinds.
///
/// ```ignore
/// #[derive(Snapshot)]
/// struct VmSnapshot {
///     #[gc(refs = BlobRefs)]
///     blobs: HashSet<String>,
///     #[gc(refs = VmRefs)]
///     vms: BTreeSet<String>,
///     run_dirs: Vec<String>,
/// }
/// ```
#[proc_macro_derive(Snapshot, attributes(gc))]
pub fn derive_snapshot(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    expand::derive_snapshot(&input).into()
}
