//! Every misuse of the derives is a compile error pointing at the offending
//! tokens, with every error of one input reported at once. To update the
//! expected output after a deliberate change: `TRYBUILD=overwrite cargo test
//! -p gc-derive --test ui`, then read the diff.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*.rs");
}
