//! Checks of a parsed input that no single attribute can see: exactly one
//! lock field, a snapshot type, one way to collect, a usable concurrency.

use proc_macro2::Span;
use quote::format_ident;
use syn::{Ident, LitStr, Member, Type};

use crate::ast::Module;
use crate::case::snake_case;
use crate::ctxt::Ctxt;

/// How the generated collect works.
pub enum Collect {
    /// Delegated to `async fn(&self, Vec<Id>) -> anyhow::Result<CollectOutcome<Id>>`.
    Batch(Ident),
    /// Built from `async fn(&self, &Id) -> anyhow::Result<()>`, run with this
    /// bound on concurrency.
    PerId(Ident, usize),
}

/// Everything expand needs, checked.
pub struct ModulePlan {
    pub name: LitStr,
    pub snapshot: Type,
    pub id: Type,
    pub lock: (Member, Span),
    pub read: Ident,
    pub resolve: Ident,
    pub collect: Collect,
    /// `None`: the module declares nothing (the trait's default).
    pub consumes: Option<Vec<syn::Path>>,
    pub targets_are: Option<syn::Path>,
}

/// Concurrency of a per-ID collect when `concurrency` is not given.
const DEFAULT_CONCURRENCY: usize = 8;

impl Module<'_> {
    /// The plan, or `None` after recording every problem in `ctxt`.
    pub fn validate(&self, ctxt: &Ctxt) -> Option<ModulePlan> {
        let ident = &self.input.ident;
        let a = &self.attrs;

        // An enum or a union was refused already: no knock-on lock errors.
        let fields = self.fields.as_deref().unwrap_or_default();
        let locks: Vec<_> = fields.iter().filter(|f| f.lock.is_some()).collect();
        if locks.is_empty() && self.fields.is_some() {
            ctxt.error_spanned_by(
                ident,
                "no lock field: mark the field that holds the store's locker with #[gc(lock)]",
            );
        }
        for extra in locks.iter().skip(1) {
            ctxt.error_spanned_by(
                &extra.lock,
                "a second #[gc(lock)]: a module has exactly one locker, which its writers share",
            );
        }

        if !a.snapshot.is_present() {
            ctxt.error_spanned_by(
                ident,
                "missing #[gc(snapshot = Type)]: the type that `read` returns and `resolve` consumes",
            );
        }

        if let Some(name) = a.name.get() {
            let value = name.value();
            let why = if value.is_empty() {
                Some("a module name cannot be empty")
            } else if value.chars().any(char::is_control) {
                Some("a module name cannot hold control characters")
            } else if value.trim() != value {
                Some("a module name cannot start or end with white space")
            } else {
                None
            };
            if let Some(why) = why {
                ctxt.error_spanned_by(name, why);
            }
        }

        let concurrency = a.concurrency.get().and_then(|lit| match lit.base10_parse::<usize>() {
            Ok(0) => {
                ctxt.error_spanned_by(lit, "`concurrency` must be at least 1");
                None
            }
            Ok(n) => Some(n),
            Err(e) => {
                ctxt.error_spanned_by(lit, format!("`concurrency` must be a whole number: {e}"));
                None
            }
        });

        // On presence, not on parsed values: a value that did not parse was
        // an error already, and is no missing key.
        let collect = match (a.collect.is_present(), a.remove.is_present()) {
            (true, true) => {
                ctxt.error_spanned_by(
                    a.remove.key(),
                    "both `collect` and `remove`: give `collect = method` (a batch) or `remove = method` (one ID at a time), not both",
                );
                None
            }
            (true, false) => {
                if let Some(lit) = a.concurrency.get() {
                    ctxt.error_spanned_by(
                        lit,
                        "`concurrency` bounds a per-ID `remove`; a batch `collect` runs its own concurrency",
                    );
                }
                a.collect.get().map(|m| Collect::Batch(m.clone()))
            }
            (false, true) => a
                .remove
                .get()
                .map(|m| Collect::PerId(m.clone(), concurrency.unwrap_or(DEFAULT_CONCURRENCY))),
            (false, false) => {
                ctxt.error_spanned_by(
                    ident,
                    "no way to collect: add #[gc(remove = method)] (an `async fn(&self, &Id) -> anyhow::Result<()>`) \
                     or #[gc(collect = method)] (an `async fn(&self, Vec<Id>) -> anyhow::Result<CollectOutcome<Id>>`)",
                );
                None
            }
        };

        let lock = locks
            .first()
            .map(|f| (f.member.clone(), syn::spanned::Spanned::span(&f.field.ty)));
        Some(ModulePlan {
            name: a
                .name
                .get()
                .cloned()
                .unwrap_or_else(|| LitStr::new(&snake_case(&ident.to_string()), ident.span())),
            snapshot: a.snapshot.get()?.clone(),
            id: a
                .id
                .get()
                .cloned()
                .unwrap_or_else(|| syn::parse_quote!(::std::string::String)),
            lock: lock?,
            read: a
                .read
                .get()
                .cloned()
                .unwrap_or_else(|| format_ident!("gc_read", span = ident.span())),
            resolve: a
                .resolve
                .get()
                .cloned()
                .unwrap_or_else(|| format_ident!("gc_resolve", span = ident.span())),
            collect: collect?,
            consumes: a.consumes.get().cloned(),
            targets_are: a.targets_are.get().cloned(),
        })
    }
}
