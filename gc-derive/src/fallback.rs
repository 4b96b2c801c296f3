//! What a derive emits beside its compile errors: an impl that always
//! compiles, so that the errors are not followed by knock-on errors ("the
//! trait GcModule is not implemented") wherever the type is used (thiserror's
//! fallback is the model).

use proc_macro2::TokenStream;
use quote::quote;
use syn::DeriveInput;

use crate::ast::Module;
use crate::expand::bounded;

pub fn module(input: &DeriveInput, module: &Module, error: syn::Error) -> TokenStream {
    let error = error.to_compile_error();
    let ident = &input.ident;
    let generics = bounded(&input.generics);
    let (impl_generics, ty_generics, where_clause) = generics.split_for_impl();
    let p = quote!(::gc_core::__private);
    // Keep the types the user gave, where they parsed, so that code naming
    // `<T as GcModule>::Snapshot` sees what it expects.
    let snapshot = module
        .attrs
        .snapshot
        .get()
        .map_or_else(|| quote!(#p::FallbackSnapshot), |t| quote!(#t));
    let id = module
        .attrs
        .id
        .get()
        .map_or_else(|| quote!(::std::string::String), |t| quote!(#t));
    quote! {
        #error

        #[automatically_derived]
        impl #impl_generics ::gc_core::GcModule for #ident #ty_generics #where_clause {
            type Snapshot = #snapshot;
            type Id = #id;
            fn name(&self) -> &str {
                ::core::unreachable!()
            }
            fn locker(&self) -> &dyn ::gc_core::Locker {
                ::core::unreachable!()
            }
            fn read(&self) -> impl #p::Future<Output = #p::anyhow::Result<Self::Snapshot>> + ::core::marker::Send {
                async { ::core::unreachable!() }
            }
            fn resolve(
                &self,
                _: &Self::Snapshot,
                _: &::gc_core::Others<'_>,
            ) -> #p::anyhow::Result<::gc_core::Targets<Self::Id>> {
                ::core::unreachable!()
            }
            fn collect(
                &self,
                _: ::std::vec::Vec<Self::Id>,
            ) -> impl #p::Future<Output = #p::anyhow::Result<::gc_core::CollectOutcome<Self::Id>>> + ::core::marker::Send {
                async { ::core::unreachable!() }
            }
        }
    }
}

pub fn snapshot(input: &DeriveInput, error: syn::Error) -> TokenStream {
    let error = error.to_compile_error();
    let ident = &input.ident;
    let generics = bounded(&input.generics);
    let (impl_generics, ty_generics, where_clause) = generics.split_for_impl();
    quote! {
        #error

        #[automatically_derived]
        impl #impl_generics ::gc_core::Snapshot for #ident #ty_generics #where_clause {}
    }
}
