//! Every case of the shared corpus yields exactly its "Must report" rules and none of its
//! "Must NOT" ones (fixtures/corpus/*/cases.json, written from each case's expected.md).

mod common;

#[test]
fn corpus_cases_match_expected() {
    let (n, errors) = common::check_tree(&common::fixtures().join("corpus"));
    assert!(n >= 13, "only {n} corpus cases found");
    assert!(errors.is_empty(), "{}", errors.join("\n"));
}
