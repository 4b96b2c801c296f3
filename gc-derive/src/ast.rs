//! The derive input, parsed: the struct, its fields, and their attributes.

use syn::{Data, DeriveInput, Fields, Member, Path};

use crate::attr::{self, ModuleAttrs};
use crate::ctxt::Ctxt;

/// A struct deriving `GcModule`.
pub struct Module<'a> {
    pub input: &'a DeriveInput,
    pub attrs: ModuleAttrs,
    /// `None` for an enum or a union (already an error).
    pub fields: Option<Vec<ModuleField<'a>>>,
}

pub struct ModuleField<'a> {
    pub field: &'a syn::Field,
    pub member: Member,
    /// The `lock` key, if the field has one.
    pub lock: Option<Path>,
}

/// A struct deriving `Snapshot`.
pub struct SnapshotStruct<'a> {
    pub input: &'a DeriveInput,
    pub fields: Vec<SnapshotField<'a>>,
}

pub struct SnapshotField<'a> {
    pub field: &'a syn::Field,
    pub member: Member,
    /// The kind of `refs = Kind`, if the field has one.
    pub refs: Option<Path>,
    /// The `population` key, if the field has one.
    pub population: Option<Path>,
}

impl<'a> Module<'a> {
    pub fn from_syn(ctxt: &Ctxt, input: &'a DeriveInput) -> Module<'a> {
        let attrs = attr::module_attrs(ctxt, &input.attrs);
        let fields = struct_fields(ctxt, input, "GcModule").map(|fields| {
            fields
                .into_iter()
                .map(|(member, field)| ModuleField {
                    lock: attr::module_field_lock(ctxt, &field.attrs),
                    member,
                    field,
                })
                .collect()
        });
        Module { input, attrs, fields }
    }
}

impl<'a> SnapshotStruct<'a> {
    pub fn from_syn(ctxt: &Ctxt, input: &'a DeriveInput) -> SnapshotStruct<'a> {
        attr::snapshot_attrs(ctxt, &input.attrs);
        let fields = struct_fields(ctxt, input, "Snapshot")
            .unwrap_or_default()
            .into_iter()
            .map(|(member, field)| {
                let attrs = attr::snapshot_field_attrs(ctxt, &field.attrs);
                SnapshotField {
                    refs: attrs.refs,
                    population: attrs.population,
                    member,
                    field,
                }
            })
            .collect::<Vec<_>>();
        for extra in fields.iter().filter(|f| f.population.is_some()).skip(1) {
            ctxt.error_spanned_by(
                &extra.population,
                "a second #[gc(population)]: one field counts the store",
            );
        }
        SnapshotStruct { input, fields }
    }
}

/// The fields of a struct, each with how to name it (`self.x` or `self.0`);
/// an error, and `None`, for an enum or a union.
fn struct_fields<'a>(ctxt: &Ctxt, input: &'a DeriveInput, derive: &str) -> Option<Vec<(Member, &'a syn::Field)>> {
    let fields = match &input.data {
        Data::Struct(data) => &data.fields,
        Data::Enum(data) => {
            ctxt.error_spanned_by(
                data.enum_token,
                format!("#[derive({derive})] is for structs; an enum cannot be a {derive}"),
            );
            return None;
        }
        Data::Union(data) => {
            ctxt.error_spanned_by(
                data.union_token,
                format!("#[derive({derive})] is for structs; a union cannot be a {derive}"),
            );
            return None;
        }
    };
    Some(match fields {
        Fields::Named(named) => named
            .named
            .iter()
            .map(|f| (Member::Named(f.ident.clone().expect("named field")), f))
            .collect(),
        Fields::Unnamed(unnamed) => unnamed
            .unnamed
            .iter()
            .enumerate()
            .map(|(i, f)| (Member::from(i), f))
            .collect(),
        Fields::Unit => Vec::new(),
    })
}
