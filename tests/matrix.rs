//! The README's regression matrix is what `hermes-forensics matrix fixtures/captured` prints,
//! and the command is deterministic.

mod common;

#[test]
fn readme_matrix_is_in_sync_with_the_captures() {
    let root = common::fixtures().join("captured");
    let root = root.to_str().expect("utf-8 path");
    let out = common::run_in(&common::fixtures(), &["matrix", root]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let table = String::from_utf8(out.stdout).expect("utf-8");
    let again = common::run_in(&common::fixtures(), &["matrix", root]);
    assert_eq!(table.as_bytes(), again.stdout.as_slice(), "deterministic");
    assert!(table.contains("| healthy-rotation |"), "{table}");
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).expect("README");
    let start = readme
        .find("<!-- matrix:begin")
        .expect("matrix:begin marker");
    let body_start = readme[start..]
        .find('\n')
        .map(|i| start + i + 1)
        .expect("line end");
    let end = readme
        .find("<!-- matrix:end -->")
        .expect("matrix:end marker");
    assert_eq!(
        &readme[body_start..end],
        table,
        "README matrix is stale: regenerate it with `hermes-forensics matrix fixtures/captured`"
    );
}

#[test]
fn matrix_of_an_empty_directory_is_an_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = common::run_in(dir.path(), &["matrix", "."]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no captures"));
}
