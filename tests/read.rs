//! Input expansion, decompression and line splitting.

use std::io::{BufRead, Cursor, Write};
use std::path::{Path, PathBuf};

use hermes_forensics::read::{
    expand_inputs, for_each_line, open, peek_lines, read_to_string_limited, InputSpec, ReadError,
    SourceHint,
};

fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/read")
        .join(rel)
}

fn lines_of(spec: &InputSpec) -> Vec<(u32, String)> {
    let mut reader = open(spec).expect("open");
    let mut out = Vec::new();
    let n = for_each_line(&mut reader, &spec.name, &mut |no, line| {
        out.push((no, line.to_string()))
    })
    .expect("read");
    assert_eq!(n, out.len() as u64);
    out
}

fn file_spec(path: PathBuf) -> InputSpec {
    InputSpec::file(path, SourceHint::Unknown)
}

#[test]
fn hermes_home_expands_in_rotation_order() {
    let home = fixture("hermes-home");
    let specs = expand_inputs(std::slice::from_ref(&home)).expect("expand");
    let rel: Vec<String> = specs
        .iter()
        .map(|s| {
            let p = s.path.as_ref().expect("file");
            assert_eq!(s.name, p.display().to_string());
            let list = p.to_string_lossy().contains("auth-list");
            assert_eq!(
                s.hint,
                if list {
                    SourceHint::AuthList
                } else {
                    SourceHint::Unknown
                }
            );
            p.strip_prefix(&home).expect("inside").display().to_string()
        })
        .collect();
    assert_eq!(
        rel,
        [
            "logs/agent.log.2",
            "logs/agent.log.1",
            "logs/agent.log",
            "logs/errors.log",
            "logs/gateway.log",
            "auth.json",
            "auth-list.before.txt",
        ]
    );
}

#[test]
fn stdin_and_plain_files() {
    let stdin = expand_inputs(&[]).expect("empty");
    assert_eq!(stdin, [InputSpec::stdin()]);
    assert_eq!(stdin[0].name, "<stdin>");
    assert_eq!(
        expand_inputs(&[PathBuf::from("-")]).expect("dash"),
        [InputSpec::stdin()]
    );
    let crlf = fixture("crlf.log");
    let specs = expand_inputs(&[crlf.clone(), PathBuf::from("-")]).expect("file");
    assert_eq!(specs, [file_spec(crlf), InputSpec::stdin()]);
}

#[test]
fn missing_path_is_named() {
    let missing = fixture("no-such-dir/agent.log");
    let err = expand_inputs(std::slice::from_ref(&missing)).expect_err("missing");
    assert!(matches!(err, ReadError::NotFound { .. }));
    assert_eq!(
        err.to_string(),
        format!("{}: no such file or directory", missing.display())
    );
    let err = open(&file_spec(missing.clone()))
        .err()
        .expect("open missing");
    assert!(err
        .to_string()
        .starts_with(&format!("{}: ", missing.display())));
}

#[test]
fn crlf_and_lone_cr_are_stripped() {
    let lines = lines_of(&file_spec(fixture("crlf.log")));
    assert_eq!(
        lines,
        [
            (1, "first".into()),
            (2, "second".into()),
            (3, "third".into())
        ]
    );
}

#[test]
fn invalid_utf8_nul_and_no_trailing_newline() {
    let lines = lines_of(&file_spec(fixture("odd-bytes.log")));
    let texts: Vec<&str> = lines.iter().map(|(_, l)| l.as_str()).collect();
    assert_eq!(
        texts,
        [
            "ok line",
            "bad \u{fffd}\u{fffd} bytes",
            "nul \0 inside",
            "last without newline"
        ]
    );
    assert_eq!(lines.last().map(|l| l.0), Some(4));
}

#[test]
fn rotated_logs_read_in_order() {
    let specs = expand_inputs(&[fixture("hermes-home")]).expect("expand");
    let firsts: Vec<String> = specs
        .iter()
        .take(3)
        .map(|s| lines_of(s)[0].1.clone())
        .collect();
    assert!(
        firsts[0].ends_with("rotated 2")
            && firsts[1].ends_with("rotated 1")
            && firsts[2].ends_with("current")
    );
}

const TEXT: &str = "line one\nline two\r\nline three";

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).expect("write");
    path
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(data).expect("gz");
    enc.finish().expect("gz")
}

#[test]
fn compressed_by_extension_and_magic() {
    let dir = tempfile::tempdir().expect("tempdir");
    // Two gzip members back to back (MultiGzDecoder) and a zstd frame.
    let mut gz = gzip(b"line one\n");
    gz.extend(gzip(b"line two\r\nline three"));
    let zst = zstd::encode_all(TEXT.as_bytes(), 3).expect("zstd");
    let files = [
        write(dir.path(), "agent.log.1.gz", &gz),
        write(dir.path(), "journal.log", &gz),
        write(dir.path(), "agent.log.zst", &zst),
        write(dir.path(), "journal2.log", &zst),
    ];
    for path in files {
        let texts: Vec<String> = lines_of(&file_spec(path.clone()))
            .into_iter()
            .map(|l| l.1)
            .collect();
        assert_eq!(
            texts,
            ["line one", "line two", "line three"],
            "{}",
            path.display()
        );
    }
    let specs = expand_inputs(&[dir.path().to_path_buf()]).expect("expand");
    let names: Vec<String> = specs
        .iter()
        .filter_map(|s| {
            s.path
                .as_ref()?
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
        })
        .collect();
    assert_eq!(names, ["agent.log.1.gz", "agent.log.zst"]);
}

#[test]
fn corrupt_compressed_data_names_the_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut gz = gzip(TEXT.repeat(100).as_bytes());
    let len = gz.len();
    gz[len / 2] ^= 0xff;
    gz.truncate(len - 4);
    let bad_gz = write(dir.path(), "agent.log.gz", &gz);
    let bad_zst = write(
        dir.path(),
        "errors.log.zst",
        &[0x28, 0xb5, 0x2f, 0xfd, 0xff, 0xff, 0xff],
    );
    for path in [bad_gz, bad_zst] {
        let spec = file_spec(path.clone());
        let result =
            open(&spec).and_then(|mut r| for_each_line(&mut r, &spec.name, &mut |_, _| {}));
        let err = result.expect_err("corrupt");
        assert!(
            err.to_string()
                .starts_with(&format!("{}: ", path.display())),
            "{err}"
        );
    }
}

#[test]
fn very_long_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut data = vec![b'x'; 10 * 1024 * 1024];
    data.extend_from_slice(b"\nshort\n");
    let path = write(dir.path(), "big.log", &data);
    let mut lens = Vec::new();
    let spec = file_spec(path);
    let mut reader = open(&spec).expect("open");
    for_each_line(&mut reader, &spec.name, &mut |_, l| lens.push(l.len())).expect("read");
    // Cut at MAX_LINE, marked, and the next line still read.
    assert_eq!(
        lens,
        [
            hermes_forensics::read::MAX_LINE + hermes_forensics::read::CUT_MARK.len(),
            5
        ]
    );
}

#[test]
fn peek_does_not_consume() {
    let mut reader = Cursor::new(TEXT.as_bytes());
    let peeked = peek_lines(&mut reader, "mem", 2).expect("peek");
    assert_eq!(peeked, ["line one", "line two"]);
    assert_eq!(peek_lines(&mut reader, "mem", 10).expect("peek").len(), 3);
    let mut all = Vec::new();
    for_each_line(&mut reader, "mem", &mut |_, l| all.push(l.to_string())).expect("read");
    assert_eq!(all, ["line one", "line two", "line three"]);
    assert!(reader.fill_buf().expect("eof").is_empty());
}

#[test]
fn read_to_string_with_limit() {
    let auth = file_spec(fixture("hermes-home/auth.json"));
    let text = read_to_string_limited(&auth, 1024).expect("small");
    assert!(text.starts_with("{\"version\": 1"));
    let err = read_to_string_limited(&auth, 10).expect_err("too large");
    assert!(matches!(err, ReadError::TooLarge { limit: 10, .. }));
    assert!(err.to_string().ends_with(": larger than 10 bytes"));
}

#[test]
fn unreadable_file_in_directory_is_named() {
    let dir = tempfile::tempdir().expect("tempdir");
    let link = dir.path().join("agent.log");
    std::os::unix::fs::symlink(dir.path().join("gone"), &link).expect("symlink");
    let err = expand_inputs(&[dir.path().to_path_buf()]).expect_err("dangling");
    assert!(
        err.to_string()
            .starts_with(&format!("{}: ", link.display())),
        "{err}"
    );
}

#[test]
fn empty_inputs_have_no_lines() {
    let dir = tempfile::tempdir().expect("tempdir");
    for name in ["empty.log", "empty.log.gz"] {
        let spec = file_spec(write(dir.path(), name, b""));
        assert!(lines_of(&spec).is_empty(), "{name}");
    }
}
