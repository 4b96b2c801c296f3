//! Parsing `#[gc(...)]` attributes: every key, with recovery, so that one
//! bad key does not hide the next.

use proc_macro2::{TokenStream, TokenTree};
use syn::meta::ParseNestedMeta;
use syn::parse::{Parse, ParseStream};
use syn::{Attribute, Ident, LitInt, LitStr, Path, Token, Type};

use crate::ctxt::Ctxt;

/// One key's value, set at most once.
pub struct Setting<T> {
    key: &'static str,
    /// Whether the key was given, even with a value that did not parse: the
    /// checks after parsing must not then complain that it is missing.
    present: Option<Path>,
    value: Option<T>,
}

impl<T> Setting<T> {
    fn new(key: &'static str) -> Self {
        Setting {
            key,
            present: None,
            value: None,
        }
    }

    /// Marks the key given; `false`, after recording the error, if it was
    /// given before.
    fn mark(&mut self, ctxt: &Ctxt, at: &Path) -> bool {
        if self.present.is_some() {
            ctxt.error_spanned_by(at, format!("duplicate key `{}`", self.key));
            false
        } else {
            self.present = Some(at.clone());
            true
        }
    }

    pub fn get(&self) -> Option<&T> {
        self.value.as_ref()
    }

    pub fn is_present(&self) -> bool {
        self.present.is_some()
    }

    /// The key as written, once given.
    pub fn key(&self) -> Option<&Path> {
        self.present.as_ref()
    }
}

impl<T: Parse> Setting<T> {
    /// Parses `= value` for this key.
    fn parse(&mut self, ctxt: &Ctxt, meta: &ParseNestedMeta, expected: &str) -> syn::Result<()> {
        if self.mark(ctxt, &meta.path) {
            self.value = value(ctxt, meta, expected)?;
        } else {
            skip_value(meta.input)?;
        }
        Ok(())
    }
}

/// The struct-level keys of `#[derive(GcModule)]`.
pub struct ModuleAttrs {
    pub name: Setting<LitStr>,
    pub snapshot: Setting<Type>,
    pub id: Setting<Type>,
    pub read: Setting<Ident>,
    pub resolve: Setting<Ident>,
    pub collect: Setting<Ident>,
    pub remove: Setting<Ident>,
    pub concurrency: Setting<LitInt>,
    pub consumes: Setting<Vec<Path>>,
    pub targets_are: Setting<Path>,
}

const MODULE_KEYS: &str = "name, snapshot, id, read, resolve, collect, remove, concurrency, consumes, targets_are";

pub fn module_attrs(ctxt: &Ctxt, attrs: &[Attribute]) -> ModuleAttrs {
    let mut a = ModuleAttrs {
        name: Setting::new("name"),
        snapshot: Setting::new("snapshot"),
        id: Setting::new("id"),
        read: Setting::new("read"),
        resolve: Setting::new("resolve"),
        collect: Setting::new("collect"),
        remove: Setting::new("remove"),
        concurrency: Setting::new("concurrency"),
        consumes: Setting::new("consumes"),
        targets_are: Setting::new("targets_are"),
    };
    for_each_key(ctxt, attrs, |meta| {
        let key = &meta.path;
        if key.is_ident("name") {
            a.name.parse(ctxt, meta, "a string: name = \"images\"")?;
        } else if key.is_ident("snapshot") {
            a.snapshot.parse(ctxt, meta, "a type: snapshot = MySnapshot")?;
        } else if key.is_ident("id") {
            a.id.parse(ctxt, meta, "a type: id = String")?;
        } else if key.is_ident("read") {
            a.read.parse(ctxt, meta, "a method name: read = read_index")?;
        } else if key.is_ident("resolve") {
            a.resolve.parse(ctxt, meta, "a method name: resolve = find_orphans")?;
        } else if key.is_ident("collect") {
            a.collect.parse(ctxt, meta, "a method name: collect = remove_all")?;
        } else if key.is_ident("remove") {
            a.remove.parse(ctxt, meta, "a method name: remove = remove_blob")?;
        } else if key.is_ident("concurrency") {
            a.concurrency.parse(ctxt, meta, "a whole number: concurrency = 8")?;
        } else if key.is_ident("targets_are") {
            a.targets_are
                .parse(ctxt, meta, "a reference kind: targets_are = BlobRefs")?;
        } else if key.is_ident("consumes") {
            if a.consumes.mark(ctxt, key) {
                a.consumes.value = kind_list(ctxt, meta)?;
            } else {
                skip_value(meta.input)?;
            }
        } else if key.is_ident("lock") || key.is_ident("refs") || key.is_ident("population") {
            ctxt.error_spanned_by(key, "this key goes on a field, not on the struct");
            skip_value(meta.input)?;
        } else {
            unknown(ctxt, meta, MODULE_KEYS)?;
        }
        Ok(())
    });
    a
}

/// The field keys of `#[derive(GcModule)]`: `lock`, and the path of the key.
pub fn module_field_lock(ctxt: &Ctxt, attrs: &[Attribute]) -> Option<Path> {
    let mut lock: Setting<Path> = Setting::new("lock");
    for_each_key(ctxt, attrs, |meta| {
        if meta.path.is_ident("lock") {
            if meta.input.peek(Token![=]) || !(meta.input.is_empty() || meta.input.peek(Token![,])) {
                ctxt.error_spanned_by(&meta.path, "`lock` takes no value: #[gc(lock)]");
                skip_value(meta.input)?;
            }
            if lock.mark(ctxt, &meta.path) {
                lock.value = Some(meta.path.clone());
            }
        } else {
            unknown(ctxt, meta, "lock")?;
        }
        Ok(())
    });
    lock.value
}

/// `consumes(A, B)`: a parenthesized list of kinds.
fn kind_list(ctxt: &Ctxt, meta: &ParseNestedMeta) -> syn::Result<Option<Vec<Path>>> {
    if !meta.input.peek(syn::token::Paren) {
        ctxt.error_spanned_by(
            &meta.path,
            "`consumes` takes a list of kinds: consumes(BlobRefs, VmRefs)",
        );
        skip_value(meta.input)?;
        return Ok(None);
    }
    let content;
    syn::parenthesized!(content in meta.input);
    // An empty list is allowed: it declares that resolve reads no references.
    let kinds = syn::punctuated::Punctuated::<Path, Token![,]>::parse_terminated(&content)?;
    let kinds: Vec<Path> = kinds.into_iter().collect();
    Ok(Some(kinds))
}

/// The field keys of `#[derive(Snapshot)]`.
pub struct SnapshotFieldAttrs {
    /// `refs = Kind`.
    pub refs: Option<Path>,
    /// `population`: the key, if given.
    pub population: Option<Path>,
}

pub fn snapshot_field_attrs(ctxt: &Ctxt, attrs: &[Attribute]) -> SnapshotFieldAttrs {
    let mut refs: Setting<Path> = Setting::new("refs");
    let mut population: Setting<Path> = Setting::new("population");
    for_each_key(ctxt, attrs, |meta| {
        if meta.path.is_ident("refs") {
            refs.parse(ctxt, meta, "a reference kind: refs = BlobRefs")?;
        } else if meta.path.is_ident("population") {
            if meta.input.peek(Token![=]) || !(meta.input.is_empty() || meta.input.peek(Token![,])) {
                ctxt.error_spanned_by(&meta.path, "`population` takes no value: #[gc(population)]");
                skip_value(meta.input)?;
            }
            if population.mark(ctxt, &meta.path) {
                population.value = Some(meta.path.clone());
            }
        } else {
            unknown(ctxt, meta, "refs, population")?;
        }
        Ok(())
    });
    SnapshotFieldAttrs {
        refs: refs.value,
        population: population.value,
    }
}

/// `#[derive(Snapshot)]` has no struct-level keys: any is an error.
pub fn snapshot_attrs(ctxt: &Ctxt, attrs: &[Attribute]) {
    for_each_key(ctxt, attrs, |meta| {
        if meta.path.is_ident("refs") || meta.path.is_ident("population") {
            ctxt.error_spanned_by(&meta.path, "this key goes on a field, not on the struct");
            skip_value(meta.input)?;
            Ok(())
        } else {
            unknown(ctxt, meta, "(none on the struct; `refs` and `population` on fields)")
        }
    });
}

/// Calls `f` on every key of every `#[gc(...)]` in `attrs`. A syntax error
/// stops that attribute only.
fn for_each_key(ctxt: &Ctxt, attrs: &[Attribute], mut f: impl FnMut(&ParseNestedMeta) -> syn::Result<()>) {
    for attr in attrs.iter().filter(|a| a.path().is_ident("gc")) {
        if let Err(e) = attr.parse_nested_meta(|meta| f(&meta)) {
            ctxt.syn_error(e);
        }
    }
}

fn unknown(ctxt: &Ctxt, meta: &ParseNestedMeta, expected: &str) -> syn::Result<()> {
    let key = meta
        .path
        .get_ident()
        .map_or_else(|| "?".to_owned(), ToString::to_string);
    ctxt.error_spanned_by(&meta.path, format!("unknown key `{key}`; expected: {expected}"));
    skip_value(meta.input).map(drop)
}

/// Parses `= value` as a `T`. A missing or unparsable value is recorded and
/// skipped, so that the keys after it are still checked.
fn value<T: Parse>(ctxt: &Ctxt, meta: &ParseNestedMeta, expected: &str) -> syn::Result<Option<T>> {
    let key = meta.path.get_ident().map_or_else(String::new, ToString::to_string);
    if !meta.input.peek(Token![=]) {
        ctxt.error_spanned_by(&meta.path, format!("`{key}` needs a value: {expected}"));
        skip_value(meta.input)?;
        return Ok(None);
    }
    let tokens = skip_value(meta.value()?)?;
    if tokens.is_empty() {
        ctxt.error_spanned_by(&meta.path, format!("`{key}` needs a value: {expected}"));
        return Ok(None);
    }
    match syn::parse2::<T>(tokens.clone()) {
        Ok(v) => Ok(Some(v)),
        Err(_) => {
            ctxt.error_spanned_by(tokens, format!("`{key}` expects {expected}"));
            Ok(None)
        }
    }
}

/// Consumes the tokens up to the next top-level comma, and returns them.
fn skip_value(input: ParseStream) -> syn::Result<TokenStream> {
    input.step(|cursor| {
        let mut rest = *cursor;
        let mut tokens = TokenStream::new();
        while let Some((tt, next)) = rest.token_tree() {
            if matches!(&tt, TokenTree::Punct(p) if p.as_char() == ',') {
                break;
            }
            tokens.extend([tt]);
            rest = next;
        }
        Ok((tokens, rest))
    })
}
