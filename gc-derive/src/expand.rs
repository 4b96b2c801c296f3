//! Code generation from a checked input.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{DeriveInput, Generics, parse_quote};

use crate::ast::{Module, SnapshotStruct};
use crate::ctxt::Ctxt;
use crate::fallback;
use crate::valid::{Collect, ModulePlan};

pub fn derive_module(input: &DeriveInput) -> TokenStream {
    let ctxt = Ctxt::default();
    let module = Module::from_syn(&ctxt, input);
    let plan = module.validate(&ctxt);
    match (ctxt.check(), plan) {
        (Ok(()), Some(plan)) => module_impl(input, &plan),
        (Err(error), _) => fallback::module(input, &module, error),
        (Ok(()), None) => unreachable!("validate returns None only after recording an error"),
    }
}

pub fn derive_snapshot(input: &DeriveInput) -> TokenStream {
    let ctxt = Ctxt::default();
    let snapshot = SnapshotStruct::from_syn(&ctxt, input);
    match ctxt.check() {
        Ok(()) => snapshot_impl(&snapshot),
        Err(error) => fallback::snapshot(input, error),
    }
}

/// The input's generics, with `Send + Sync + 'static` on every type
/// parameter: both traits require it of the whole type.
pub fn bounded(generics: &Generics) -> Generics {
    let mut generics = generics.clone();
    let params: Vec<_> = generics.type_params().map(|p| p.ident.clone()).collect();
    let clause = generics.make_where_clause();
    for p in params {
        clause
            .predicates
            .push(parse_quote!(#p: ::core::marker::Send + ::core::marker::Sync + 'static));
    }
    generics
}

fn module_impl(input: &DeriveInput, plan: &ModulePlan) -> TokenStream {
    let ident = &input.ident;
    let generics = bounded(&input.generics);
    let (impl_generics, ty_generics, where_clause) = generics.split_for_impl();
    let ModulePlan {
        name,
        snapshot,
        id,
        lock: (lock_member, lock_span),
        read,
        resolve,
        collect,
        consumes,
        targets_are,
    } = plan;
    let p = quote!(::gc_core::__private);
    let read_context = format!("reading module {}", name.value());
    // Spans put rustc's errors (a missing method, a locker type that is no
    // Locker) on the attribute or field that caused them.
    let locker = quote_spanned!(*lock_span=> &self.#lock_member);
    let read_call = quote_spanned!(read.span()=> Self::#read(self));
    let resolve_call = quote_spanned!(resolve.span()=> Self::#resolve(self, __snapshot, __others));
    let collect_body = match collect {
        Collect::Batch(method) => quote_spanned!(method.span()=> Self::#method(self, __ids).await),
        Collect::PerId(method, concurrency) => {
            let remove = quote_spanned!(method.span()=> Self::#method(self, &__id));
            quote! {
                ::core::result::Result::Ok(
                    ::gc_core::collect_each(__ids, #concurrency, |__id| async move { #remove.await }).await
                )
            }
        }
    };
    let declare = if consumes.is_none() && targets_are.is_none() {
        quote!()
    } else {
        let consumes = consumes
            .iter()
            .flatten()
            .map(|k| quote!(__declarations.consumes::<#k>();));
        let targets_are = targets_are.iter().map(|k| quote!(__declarations.targets_are::<#k>();));
        quote! {
            fn declare(&self, __declarations: &mut ::gc_core::Declarations<Self::Id>) {
                __declarations.consumes_nothing();
                #(#consumes)*
                #(#targets_are)*
            }
        }
    };
    quote! {
        #[automatically_derived]
        impl #impl_generics ::gc_core::GcModule for #ident #ty_generics #where_clause {
            #declare

            type Snapshot = #snapshot;
            type Id = #id;

            fn name(&self) -> &str {
                #name
            }

            fn locker(&self) -> &dyn ::gc_core::Locker {
                #locker
            }

            fn read(&self) -> impl #p::Future<Output = #p::anyhow::Result<Self::Snapshot>> + ::core::marker::Send {
                async move { #p::anyhow::Context::context(#read_call.await, #read_context) }
            }

            fn resolve(
                &self,
                __snapshot: &Self::Snapshot,
                __others: &::gc_core::Others<'_>,
            ) -> #p::anyhow::Result<::gc_core::Targets<Self::Id>> {
                #resolve_call
            }

            fn collect(
                &self,
                __ids: ::std::vec::Vec<Self::Id>,
            ) -> impl #p::Future<Output = #p::anyhow::Result<::gc_core::CollectOutcome<Self::Id>>> + ::core::marker::Send {
                async move { #collect_body }
            }
        }
    }
}

fn snapshot_impl(snapshot: &SnapshotStruct) -> TokenStream {
    let input = snapshot.input;
    let ident = &input.ident;
    let generics = bounded(&input.generics);
    let (impl_generics, ty_generics, where_clause) = generics.split_for_impl();
    let provides: Vec<TokenStream> = snapshot
        .fields
        .iter()
        .filter_map(|f| {
            let kind = f.refs.as_ref()?;
            let member = &f.member;
            // Spanned at the field's type, so that "is not a reference set"
            // points at it.
            Some(quote_spanned!(f.field.ty.span()=> __refs.refs::<#kind>(&self.#member);))
        })
        .collect();
    let body = if provides.is_empty() {
        quote!(let _ = __refs;)
    } else {
        quote!(#(#provides)*)
    };
    let kinds = snapshot.fields.iter().filter_map(|f| f.refs.as_ref());
    let population = snapshot.fields.iter().find(|f| f.population.is_some()).map(|f| {
        let member = &f.member;
        let len = quote_spanned!(f.field.ty.span()=> self.#member.len());
        quote! {
            fn population(&self) -> ::core::option::Option<usize> {
                ::core::option::Option::Some(#len)
            }
        }
    });
    quote! {
        #[automatically_derived]
        impl #impl_generics ::gc_core::Snapshot for #ident #ty_generics #where_clause {
            fn provide<'__gc>(&'__gc self, __refs: &mut ::gc_core::Provider<'__gc>) {
                #body
            }

            fn provided_kinds() -> ::core::option::Option<::std::vec::Vec<::gc_core::KindInfo>> {
                ::core::option::Option::Some(::std::vec![#(::gc_core::KindInfo::of::<#kinds>()),*])
            }

            #population
        }
    }
}
