//! The README's rules table matches the registry, and its two set-up commands are the ones CI
//! and users rely on.

use hermes_forensics::rules;

fn readme() -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).expect("README.md")
}

#[test]
fn rules_table_is_in_sync_with_the_registry() {
    let text = readme();
    let start = text.find("<!-- rules:begin").expect("rules:begin marker");
    let body_start = text[start..]
        .find('\n')
        .map(|i| start + i + 1)
        .expect("marker line");
    let end = text.find("<!-- rules:end -->").expect("rules:end marker");
    assert_eq!(
        &text[body_start..end],
        rules::markdown_table(),
        "README rules table is stale: regenerate it with `hermes-forensics rules --markdown`"
    );
}

#[test]
fn readme_names_the_two_setup_commands() {
    let text = readme();
    assert!(text.contains("cargo run --release -- "), "main-job command");
    assert!(text.contains("\ncargo test\n"), "test command");
    let ci =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/.ci/run")).expect(".ci/run");
    assert!(
        ci.contains("\ncargo test\n"),
        ".ci/run runs the README's test command"
    );
}

#[test]
fn the_sample_named_in_the_readme_exists() {
    let text = readme();
    let line = text
        .lines()
        .find(|l| l.starts_with("cargo run --release -- "))
        .expect("main-job command line");
    for word in line
        .split_whitespace()
        .filter(|w| w.starts_with("fixtures/"))
    {
        assert!(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join(word)
                .is_file(),
            "{word} is missing"
        );
    }
}

#[test]
fn message_id_table_is_in_sync_with_the_registry() {
    let text = readme();
    let start = text
        .find("<!-- message-ids:begin")
        .expect("message-ids:begin marker");
    let body_start = text[start..]
        .find('\n')
        .map(|i| start + i + 1)
        .expect("marker line");
    let end = text
        .find("<!-- message-ids:end -->")
        .expect("message-ids:end marker");
    assert_eq!(
        &text[body_start..end],
        hermes_forensics::report::journal_export::message_id_table(&rules::infos()),
        "README MESSAGE_ID table is stale"
    );
}

#[test]
fn the_follow_unit_named_in_the_readme_exists() {
    let text = readme();
    let unit = "contrib/systemd/hermes-forensics-follow.service";
    assert!(text.contains(&format!("]({unit})")), "README links {unit}");
    assert!(std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(unit)
        .is_file());
}
