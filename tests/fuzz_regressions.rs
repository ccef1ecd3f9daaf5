//! Replays every input the fuzz targets (`fuzz/`) ever crashed on, kept in
//! `fixtures/fuzz-regressions/<target>/`, through the same entry points.

use hermes_forensics::fuzzing::TARGETS;

#[test]
fn fuzz_crash_inputs_stay_fixed() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/fuzz-regressions");
    let mut replayed = 0;
    for (name, target) in TARGETS {
        let Ok(dir) = std::fs::read_dir(root.join(name)) else {
            continue;
        };
        for entry in dir {
            let path = entry.expect("dir entry").path();
            let data = std::fs::read(&path).expect("read crash input");
            target(&data);
            replayed += 1;
        }
    }
    assert!(
        replayed >= 1,
        "no crash inputs found under {}",
        root.display()
    );
}
