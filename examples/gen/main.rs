//! Synthetic Hermes log generator.
//!
//! ```sh
//! cargo run --release --example gen -- --size 1GiB --format agent-log --seed 7 \
//!     --out agent.log --truth truth.ndjson --auth auth.json
//! ```
//!
//! Formats: `agent-log`, `journal-short-iso`, `journal-json`. Writes to standard output unless
//! `--out` is given; `--truth` writes one JSON line per injected incident (its rules, session
//! tags and line range, and the auth.json entries it is about). `--auth` writes the auth.json
//! snapshot of the generated gateway: the ground truth assumes the analysis is given it
//! (`hermes-forensics analyze agent.log auth.json`), as the pool-priority, rotation and
//! stale-exhaustion incidents need it. `--incident-every N` injects an incident every N turns
//! (default 500). `--mix` picks the clean traffic around them: `default`, `fail-recover` (every
//! turn's first call fails with a transient 503 and its retry on the same credential
//! succeeds), `sessions` (every turn on a new session tag) or `quiet` (ten times the noise).

mod synth;

use std::io::{BufWriter, Write};
use std::process::ExitCode;

fn usage(msg: &str) -> ExitCode {
    eprintln!("gen: {msg}\nusage: gen --size SIZE [--format agent-log|journal-short-iso|journal-json] [--seed N] [--incident-every N] [--mix default|fail-recover|sessions|quiet] [--out FILE] [--truth FILE] [--auth FILE]");
    ExitCode::from(2)
}

fn main() -> ExitCode {
    let mut opts = synth::Options {
        format: synth::Format::AgentLog,
        seed: 7,
        size: 1 << 20,
        incident_every: 500,
    };
    let (mut out, mut truth, mut auth) = (None, None, None);
    let mut mix = synth::Mix::Default;
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        if flag == "--help" || flag == "-h" {
            println!("usage: gen --size SIZE [--format agent-log|journal-short-iso|journal-json] [--seed N] [--incident-every N] [--mix default|fail-recover|sessions|quiet] [--out FILE] [--truth FILE] [--auth FILE]");
            return ExitCode::SUCCESS;
        }
        let Some(value) = args.next() else {
            return usage(&format!("{flag} needs a value"));
        };
        let ok = match flag.as_str() {
            "--size" => synth::parse_size(&value).map(|s| opts.size = s).is_some(),
            "--format" => synth::Format::parse(&value)
                .map(|f| opts.format = f)
                .is_some(),
            "--seed" => value.parse().map(|s| opts.seed = s).is_ok(),
            "--incident-every" => value.parse().map(|n| opts.incident_every = n).is_ok(),
            "--mix" => synth::Mix::parse(&value).map(|m| mix = m).is_some(),
            "--out" => {
                out = Some(value.clone());
                true
            }
            "--truth" => {
                truth = Some(value.clone());
                true
            }
            "--auth" => {
                auth = Some(value.clone());
                true
            }
            _ => return usage(&format!("unknown option {flag}")),
        };
        if !ok {
            return usage(&format!("{flag} {value}: invalid value"));
        }
    }
    match run(
        &opts,
        mix,
        out.as_deref(),
        truth.as_deref(),
        auth.as_deref(),
    ) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("gen: {e}");
            ExitCode::from(1)
        }
    }
}

fn run(
    opts: &synth::Options,
    mix: synth::Mix,
    out: Option<&str>,
    truth: Option<&str>,
    auth: Option<&str>,
) -> std::io::Result<()> {
    let sink: Box<dyn Write> = match out {
        Some(p) => Box::new(std::fs::File::create(p)?),
        None => Box::new(std::io::stdout().lock()),
    };
    let mut w = BufWriter::with_capacity(1 << 20, sink);
    let injected = synth::generate_mix(opts, mix, &mut w)?;
    w.flush()?;
    eprintln!(
        "gen: {} incidents injected ({} shapes)",
        injected.len(),
        synth::incident_count()
    );
    if let Some(p) = truth {
        let mut t = BufWriter::new(std::fs::File::create(p)?);
        for i in &injected {
            writeln!(t, "{}", i.to_json())?;
        }
        t.flush()?;
    }
    if let Some(p) = auth {
        std::fs::write(p, synth::auth_snapshot(&injected))?;
    }
    Ok(())
}
