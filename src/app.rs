//! Command dispatch: runs a parsed [`Cli`] and returns the process exit code
//! (0 clean, 1 findings at or above `--fail-on`, 2 usage or input error).

use crate::cli::{AnalyzeArgs, Cli, ColorChoice, Command, EventsArgs};
use crate::config;
use crate::model::Event;
use crate::pipeline::{self, Error, Item};
use crate::redact::redact;
use crate::report::{self, Format, RenderOptions};
use crate::rules;
use clap::CommandFactory;
use std::io::{self, IsTerminal, Write};

/// Run the command line; never panics on input.
pub fn run(cli: Cli) -> u8 {
    let no_redact = match &cli.command {
        Some(Command::Analyze(a)) => a.no_redact,
        None => cli.analyze.no_redact,
        Some(Command::Events(e)) => e.no_redact,
        Some(_) => false,
    };
    if no_redact {
        crate::redact::disable();
    }
    let result = match cli.command {
        Some(Command::Analyze(args)) => analyze(&args),
        None => analyze(&cli.analyze),
        Some(Command::Events(args)) => events(&args),
        Some(Command::Rules { markdown }) => list_rules(markdown),
        Some(Command::Explain { rule }) => explain(&rule),
        Some(Command::Completions { shell }) => completions(shell),
        Some(Command::Man) => man(),
        Some(Command::Matrix { dir }) => matrix(&dir),
    };
    match result {
        Ok(code) => code,
        Err(RunError::BrokenPipe) => 0,
        Err(RunError::Io(e)) => {
            eprintln!(
                "hermes-forensics: cannot write output: {}",
                redact(&e.to_string())
            );
            2
        }
        Err(RunError::Pipeline(e)) => {
            // Errors echo input (config values, file names, parser excerpts).
            eprintln!("hermes-forensics: {}", redact(&e.to_string()));
            2
        }
    }
}

enum RunError {
    BrokenPipe,
    Io(io::Error),
    Pipeline(Error),
}

impl From<io::Error> for RunError {
    fn from(e: io::Error) -> Self {
        if e.kind() == io::ErrorKind::BrokenPipe {
            RunError::BrokenPipe
        } else {
            RunError::Io(e)
        }
    }
}

impl From<Error> for RunError {
    fn from(e: Error) -> Self {
        RunError::Pipeline(e)
    }
}

fn matrix(dir: &std::path::Path) -> Result<u8, RunError> {
    let m = crate::matrix::build(dir)?;
    let mut out = io::stdout().lock();
    out.write_all(crate::matrix::markdown(&m).as_bytes())?;
    out.flush()?;
    Ok(0)
}

fn analyze(args: &AnalyzeArgs) -> Result<u8, RunError> {
    let args = &config::resolve(args.clone()).map_err(Error::from)?;
    if let Some(n) = args.threads {
        // Only fails when the pool already exists (a second call in one process): keep it.
        let _ = rayon::ThreadPoolBuilder::new()
            .num_threads(n.max(1))
            .build_global();
    }
    if args.follow {
        return match crate::follow::run(args, std::time::Duration::from_secs(args.idle)) {
            Ok(code) => Ok(code as u8),
            Err(crate::follow::FollowError::Pipeline(e)) => Err(e.into()),
            Err(crate::follow::FollowError::Io(e)) => Err(e.into()),
        };
    }
    let outcome = pipeline::analyze(args)?;
    let stdout = io::stdout();
    let color = match args.color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            args.format == Format::Text
                && stdout.is_terminal()
                && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        }
    };
    let opts = RenderOptions {
        timeline: args.timeline,
        color,
    };
    let mut out = io::BufWriter::new(stdout.lock());
    report::render(
        args.format,
        &outcome.report,
        &rules::infos(),
        opts,
        &mut out,
    )?;
    out.flush()?;
    if args.format == Format::Github {
        if let Some(path) = std::env::var_os("GITHUB_STEP_SUMMARY").filter(|p| !p.is_empty()) {
            report::github::append_step_summary(
                &outcome.report,
                &rules::infos(),
                std::path::Path::new(&path),
            )?;
        }
    }
    Ok(outcome.exit_code as u8)
}

fn completions(shell: clap_complete::Shell) -> Result<u8, RunError> {
    let mut out = io::stdout().lock();
    clap_complete::generate(shell, &mut Cli::command(), "hermes-forensics", &mut out);
    out.flush()?;
    Ok(0)
}

fn man() -> Result<u8, RunError> {
    let mut out = io::stdout().lock();
    clap_mangen::Man::new(Cli::command()).render(&mut out)?;
    Ok(0)
}

fn events(args: &EventsArgs) -> Result<u8, RunError> {
    let ingest = config::resolve_ingest(args.ingest.clone()).map_err(Error::from)?;
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    let mut write_err: Option<io::Error> = None;
    let show = args.show_unrecognized;
    let mut sink = |source: &str, item: Item| {
        if write_err.is_some() {
            return;
        }
        let mut line = match item {
            Item::Event(ev) => event_json(source, &ev),
            Item::Unrecognized(r) if show => serde_json::json!({
                "source": source,
                "line": r.loc.line,
                "time": r.time.utc.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)),
                "kind": "unrecognized",
                "text": r.raw,
            }),
            Item::Unrecognized(_) => return,
        };
        redact_strings(&mut line);
        if let Err(e) = writeln!(out, "{line}") {
            write_err = Some(e);
        }
    };
    let ing = pipeline::ingest(&ingest, &mut sink)?;
    if let Some(e) = write_err {
        return Err(e.into());
    }
    out.flush()?;
    let mut err = io::stderr().lock();
    for s in &ing.summaries {
        let _ = writeln!(
            err,
            "{}: {} lines read ({}), {} events, {} lines used, {} other, {} unrecognized",
            redact(&s.name),
            s.lines_read,
            s.format,
            s.events,
            s.lines_used,
            s.lines_other,
            s.lines_unrecognized
        );
    }
    for w in &ing.warnings {
        let _ = writeln!(err, "warning: {}", redact(w));
    }
    Ok(0)
}

/// Redact every string in a JSON value in place (before serialization: a secret inside an
/// escaped string would slip past patterns that expect plain quotes).
fn redact_strings(v: &mut serde_json::Value) {
    match v {
        serde_json::Value::String(s) => {
            if let std::borrow::Cow::Owned(r) = redact(s) {
                *s = r;
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(redact_strings),
        serde_json::Value::Object(map) => map.values_mut().for_each(redact_strings),
        _ => {}
    }
}

/// One NDJSON object for an event: source, line, time, kind, the kind's fields, then context.
fn event_json(source: &str, ev: &Event) -> serde_json::Value {
    let mut v = serde_json::json!({
        "source": source,
        "line": ev.record.loc.line,
        "time": ev.record.time.utc.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)),
    });
    if let (Some(obj), Ok(serde_json::Value::Object(kind))) =
        (v.as_object_mut(), serde_json::to_value(&ev.kind))
    {
        obj.extend(kind);
        if ev.record.time.utc.is_none() {
            if let Some(ms) = ev.record.time.tod_ms {
                obj.insert("time_of_day".into(), rules::fmt_tod(ms).into());
            }
        }
        if let Some(s) = &ev.record.session {
            obj.insert("session".into(), s.clone().into());
        }
        if let Some(p) = ev.record.pid {
            obj.insert("pid".into(), p.into());
        }
        if let Some(n) = ev.record.subagent {
            obj.insert("subagent".into(), n.into());
        }
        obj.insert("text".into(), ev.record.raw.clone().into());
        if !ev.record.continuation.is_empty() {
            let cont: Vec<serde_json::Value> = ev
                .record
                .continuation
                .iter()
                .map(|(line, text)| serde_json::json!({"line": line, "text": text}))
                .collect();
            obj.insert("continuation".into(), cont.into());
        }
    }
    v
}

fn list_rules(markdown: bool) -> Result<u8, RunError> {
    let mut out = io::stdout().lock();
    if markdown {
        write!(out, "{}", rules::markdown_table())?;
        return Ok(0);
    }
    for r in rules::RULES {
        writeln!(
            out,
            "{:<36} {:<7} {}",
            r.info.id,
            r.info.severity.as_str(),
            r.info.summary
        )?;
    }
    Ok(0)
}

fn explain(id: &str) -> Result<u8, RunError> {
    let Some(rule) = rules::find(id) else {
        return Err(Error::Usage(format!(
            "unknown rule {id:?} (see `hermes-forensics rules`)"
        ))
        .into());
    };
    let mut out = io::stdout().lock();
    writeln!(
        out,
        "# {} ({})\n\n{}\n",
        rule.info.id,
        rule.info.severity.as_str(),
        rule.info.summary
    )?;
    write!(out, "{}", rule.info.doc)?;
    Ok(0)
}
