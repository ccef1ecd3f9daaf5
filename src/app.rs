//! Command dispatch: runs a parsed [`Cli`] and returns the process exit code
//! (0 clean, 1 findings at or above `--fail-on`, 2 usage or input error).

use crate::cli::{AnalyzeArgs, Cli, ColorChoice, Command, EventsArgs, IngestArgs};
use crate::config::{self, Config, ConfigError};
use crate::correlate::{self, CorrelateOptions, HermesVersion};
use crate::error::Error;
use crate::ingest::{self, Item};
use crate::model::Event;
use crate::parse::TimeContext;
use crate::pipeline;
use crate::redact::redact;
use crate::report::{self, Format, RenderOptions};
use crate::rules;
use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeZone, Utc};
use clap::CommandFactory;
use std::collections::BTreeMap;
use std::io::{self, IsTerminal, Write};

/// Parse the command line and run it. `--help`, `--version` and usage errors are written here
/// (not by clap, which ignores write errors): help that cannot be written is an error (exit 2),
/// a closed pipe ends quietly.
pub fn main_with<I, T>(args: I) -> u8
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    use clap::Parser;
    match Cli::try_parse_from(args) {
        Ok(cli) => run(cli),
        Err(e) if e.use_stderr() => {
            // A usage error: its text goes to stderr; nothing more to do if stderr is gone.
            let _ = e.print();
            u8::try_from(e.exit_code()).unwrap_or(2)
        }
        Err(e) => {
            let stdout = io::stdout();
            let text = e.render();
            let text = if stdout.is_terminal() {
                text.ansi().to_string()
            } else {
                text.to_string()
            };
            finish_output(write_all(&mut stdout.lock(), text.as_bytes()).map(|()| 0))
        }
    }
}

/// Write and flush.
fn write_all(out: &mut impl Write, bytes: &[u8]) -> Result<(), RunError> {
    out.write_all(bytes)?;
    out.flush()?;
    Ok(())
}

/// The exit code of a run's result, its error (if any) reported on stderr.
fn finish_output(result: Result<u8, RunError>) -> u8 {
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

/// On a terminal, say that standard input is being read (and how to end it) before waiting for it.
fn stdin_hint(paths: &[std::path::PathBuf]) {
    let reads_stdin = paths.is_empty() || paths.iter().any(|p| p.as_os_str() == "-");
    if reads_stdin && io::stdin().is_terminal() {
        eprintln!(
            "hermes-forensics: reading Hermes log lines from stdin (Ctrl-D to end; pipe journalctl -o short-iso -u hermes-gateway into it, or give log files)"
        );
    }
}

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
        Some(Command::Rules {
            markdown,
            journal_catalog,
        }) => list_rules(markdown, journal_catalog),
        Some(Command::Explain { rule }) => explain(&rule),
        Some(Command::Completions { shell }) => completions(shell),
        Some(Command::Man) => man(),
        Some(Command::Matrix { dir }) => matrix(&dir),
        Some(Command::Merge(args)) => merge(&args),
    };
    finish_output(result)
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

/// The analysis options of a command line (the configuration file merged under it): built
/// once here, each stage of the analysis gets its part.
pub fn options(args: &AnalyzeArgs) -> Result<pipeline::Options, Error> {
    let ingest = ingest_options(&args.ingest)?;
    let correlate = correlate_options(args)?;
    let instant = |s: &Option<String>, flag| {
        s.as_deref()
            .map(|s| parse_instant(s, ingest.time.tz, flag))
            .transpose()
    };
    let since = instant(&args.since, "--since")?;
    let until = instant(&args.until, "--until")?;
    // Markdown diagrams (also in the GitHub step summary) and the HTML page draw each request's
    // timeline.
    let want_timelines = args.timeline
        || args.request.is_some()
        || matches!(
            args.format,
            Format::Markdown | Format::Html | Format::Github
        );
    Ok(pipeline::Options {
        ingest,
        since,
        until,
        correlate,
        judge: crate::judge::Options {
            rules: args.rules.clone(),
            ignore: args.ignore.clone(),
            severity_overrides: args.severity_overrides.clone(),
            request: args.request.clone(),
            timelines: want_timelines,
            baseline: args.baseline.clone(),
            write_baseline: args.write_baseline.clone(),
            fail_on: args.fail_on.threshold(),
        },
        no_streaming: args.no_streaming,
        settle_every: args.settle_every,
    })
}

/// The input options of a command line.
pub fn ingest_options(args: &IngestArgs) -> Result<ingest::Options, Error> {
    Ok(ingest::Options {
        time: time_context(args)?,
        paths: args.paths.clone(),
        input_format: args.input_format,
        auth: args.auth.clone(),
        auth_list: args.auth_list.clone(),
        strict: args.strict,
        allow_empty: args.allow_empty,
    })
}

/// The time context of the input flags (`--tz`, `--date`, `--year`).
fn time_context(args: &IngestArgs) -> Result<TimeContext, Error> {
    let tz = match &args.tz {
        Some(z) => Some(z.parse::<chrono_tz::Tz>().map_err(|_| {
            Error::Usage(format!(
                "--tz {z}: unknown time zone (use an IANA name such as America/New_York)"
            ))
        })?),
        None => None,
    };
    let date = match &args.date {
        Some(d) => Some(
            NaiveDate::parse_from_str(d, "%Y-%m-%d")
                .map_err(|_| Error::Usage(format!("--date {d}: expected YYYY-MM-DD")))?,
        ),
        None => None,
    };
    Ok(TimeContext {
        tz,
        date,
        year: args.year.or(date.map(|d| chrono::Datelike::year(&d))),
    })
}

/// An instant of `--since` / `--until` (`flag`), in `tz` when it carries no offset.
fn parse_instant(s: &str, tz: Option<chrono_tz::Tz>, flag: &str) -> Result<DateTime<Utc>, Error> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(t.with_timezone(&Utc));
    }
    for fmt in ["%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"] {
        if let Ok(n) = NaiveDateTime::parse_from_str(s, fmt) {
            let t = match tz {
                Some(z) => z
                    .from_local_datetime(&n)
                    .earliest()
                    .map(|t| t.with_timezone(&Utc)),
                None => Some(Utc.from_utc_datetime(&n)),
            };
            if let Some(t) = t {
                return Ok(t);
            }
        }
    }
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        if let Some(n) = d.and_hms_opt(0, 0, 0) {
            return Ok(Utc.from_utc_datetime(&n));
        }
    }
    Err(Error::Usage(format!(
        "{flag} {s}: expected RFC 3339 (2026-05-08T18:41:08-04:00) or YYYY-MM-DD HH:MM:SS"
    )))
}

/// Analysis options derived from the command line.
fn correlate_options(args: &AnalyzeArgs) -> Result<CorrelateOptions, Error> {
    let hermes_flag = args
        .hermes_version
        .as_deref()
        .map(|v| v.parse::<HermesVersion>().map_err(Error::Usage))
        .transpose()?;
    // The release the logs show replaces the default once they are read.
    let hermes_version = hermes_flag.unwrap_or(crate::release::NEWEST);
    let mut strategies = BTreeMap::new();
    for s in &args.strategies {
        let (p, strat) = correlate::parse_strategy(s).map_err(Error::Usage)?;
        strategies.insert(p, strat);
    }
    Ok(CorrelateOptions {
        hermes_version,
        hermes_flag,
        strategies,
        fleet_fingerprint: None,
    })
}

/// Merges a configuration under the command line: a flag given on the command line wins,
/// strategies merge per provider, rules switched off are skipped unless named with `--rule`.
fn apply_config(cfg: &Config, args: &mut AnalyzeArgs) {
    if args.ingest.tz.is_none() {
        args.ingest.tz = cfg.tz.clone();
    }
    if args.hermes_version.is_none() {
        args.hermes_version = cfg.hermes_version.clone();
    }
    // Later entries win, so the command line's go last.
    let mut strategies: Vec<String> = cfg
        .strategies
        .iter()
        .map(|(p, s)| format!("{p}={s}"))
        .collect();
    strategies.append(&mut args.strategies);
    args.strategies = strategies;
    for (id, on) in &cfg.enabled {
        if !on && !args.rules.contains(id) && !args.ignore.contains(id) {
            args.ignore.push(id.clone());
        }
    }
    for (id, sev) in &cfg.severity {
        args.severity_overrides.entry(id.clone()).or_insert(*sev);
    }
}

/// The input options of `events` with the `tz` of `hermes-forensics.toml` in the current
/// directory (the only setting that concerns them) when `--tz` is not given.
fn resolve_ingest(mut ingest: IngestArgs) -> Result<IngestArgs, ConfigError> {
    if let Some(path) = config::locate(None) {
        let cfg = Config::load(&path)?;
        if ingest.tz.is_none() {
            ingest.tz = cfg.tz;
        }
    }
    Ok(ingest)
}

/// Loads the configuration that applies to `args` (if any) and merges it under them.
fn resolve(mut args: AnalyzeArgs) -> Result<AnalyzeArgs, ConfigError> {
    if let Some(path) = config::locate(args.config.as_deref()) {
        apply_config(&Config::load(&path)?, &mut args);
    }
    Ok(args)
}

fn analyze(args: &AnalyzeArgs) -> Result<u8, RunError> {
    let args = &resolve(args.clone()).map_err(Error::from)?;
    stdin_hint(&args.ingest.paths);
    let opts = options(args)?;
    if let Some(tz) = opts.ingest.time.tz {
        report::set_display_zone(tz);
    }
    if let Some(n) = args.threads {
        // Only fails when the pool already exists (a second call in one process): keep it.
        let _ = rayon::ThreadPoolBuilder::new()
            .num_threads(n.max(1))
            .build_global();
    }
    if args.follow {
        let idle = std::time::Duration::from_secs(args.idle);
        return match crate::follow::run(&opts, args.format, idle) {
            Ok(code) => Ok(code as u8),
            Err(crate::follow::FollowError::Pipeline(e)) => Err(e.into()),
            Err(crate::follow::FollowError::Io(e)) => Err(e.into()),
        };
    }
    let outcome = pipeline::analyze(&opts)?;
    write_report(
        &outcome.report,
        args.format,
        args.color,
        args.timeline || args.request.is_some(),
    )?;
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

/// Render `report` in `format` on standard output (colour: `--color`, or a terminal without
/// `NO_COLOR` for the text format).
fn write_report(
    report: &crate::model::Report,
    format: Format,
    color: ColorChoice,
    timeline: bool,
) -> Result<(), RunError> {
    let stdout = io::stdout();
    let color = match color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            format == Format::Text
                && stdout.is_terminal()
                && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        }
    };
    let opts = RenderOptions { timeline, color };
    let mut out = io::BufWriter::new(stdout.lock());
    report::render(format, report, &rules::infos(), opts, &mut out)?;
    out.flush()?;
    Ok(())
}

/// `merge`: combine per-host JSON reports and render the whole.
fn merge(args: &crate::cli::MergeArgs) -> Result<u8, RunError> {
    let need_timelines = args.timeline
        || matches!(
            args.format,
            Format::Markdown | Format::Html | Format::Github
        );
    let report = crate::shard::merge(&args.reports, need_timelines).map_err(Error::from)?;
    write_report(&report, args.format, args.color, args.timeline)?;
    let code = match args.fail_on.threshold() {
        Some(t) if report.findings.iter().any(|f| f.severity >= t) => 1,
        _ => 0,
    };
    Ok(code)
}

fn completions(shell: clap_complete::Shell) -> Result<u8, RunError> {
    // Generated in memory: the generators panic on a write error.
    let mut script = Vec::new();
    clap_complete::generate(
        shell,
        &mut visible(&Cli::command()),
        "hermes-forensics",
        &mut script,
    );
    write_all(&mut io::stdout().lock(), &script)?;
    Ok(0)
}

/// The command as the shell should complete it: without hidden options and subcommands.
fn visible(cmd: &clap::Command) -> clap::Command {
    let mut out = clap::Command::new(cmd.get_name().to_string());
    if let Some(v) = cmd.get_version() {
        out = out.version(v.to_string());
    }
    if let Some(a) = cmd.get_about() {
        out = out.about(a.clone());
    }
    for a in cmd.get_arguments().filter(|a| !a.is_hide_set()) {
        out = out.arg(a.clone());
    }
    for s in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        out = out.subcommand(visible(s));
    }
    out
}

fn man() -> Result<u8, RunError> {
    let mut page = Vec::new();
    clap_mangen::Man::new(Cli::command()).render(&mut page)?;
    write_all(&mut io::stdout().lock(), &page)?;
    Ok(0)
}

fn events(args: &EventsArgs) -> Result<u8, RunError> {
    let ingest = resolve_ingest(args.ingest.clone()).map_err(Error::from)?;
    stdin_hint(&ingest.paths);
    let ingest = ingest_options(&ingest)?;
    // Held until the requests are known: every line names its request.
    enum Line {
        Event(usize),
        Other(serde_json::Value),
    }
    let show = args.show_unrecognized;
    let mut lines: Vec<(String, Line)> = Vec::new();
    let mut events: Vec<Event> = Vec::new();
    let mut sink = |source: &str, item: Item| match item {
        Item::Event(ev) => {
            lines.push((source.to_string(), Line::Event(events.len())));
            events.push(*ev);
        }
        Item::Unrecognized(r) if show => lines.push((
            source.to_string(),
            Line::Other(serde_json::json!({
                "source": source,
                "line": r.loc.line,
                "time": r.time.utc.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)),
                "kind": "unrecognized",
                "request": null,
                "text": r.raw,
            })),
        )),
        Item::Unrecognized(_) => {}
    };
    let mut ing = ingest::ingest(&ingest, &mut sink)?;
    let requests = request_ids(&events, &mut ing);
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    for (source, line) in lines {
        let mut v = match line {
            Line::Event(i) => {
                let ev = &events[i];
                let key = (ev.record.loc.source, ev.record.loc.line);
                event_json(&source, ev, requests.get(&key).map(String::as_str))
            }
            Line::Other(v) => v,
        };
        redact_strings(&mut v);
        writeln!(out, "{v}")?;
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

/// The request of each event, by (source, line), as the analysis groups them.
fn request_ids(
    events: &[Event],
    ing: &mut ingest::Ingested,
) -> std::collections::HashMap<(u32, u32), String> {
    let opts = crate::correlate::CorrelateOptions {
        hermes_version: crate::release::NEWEST,
        ..Default::default()
    };
    let analysis = crate::correlate::correlate(
        events.to_vec(),
        ing.sources.clone(),
        std::mem::take(&mut ing.auths),
        std::mem::take(&mut ing.lists),
        opts,
    );
    let mut ids = std::collections::HashMap::new();
    for r in &analysis.requests {
        for &e in &r.events {
            if let Some(ev) = analysis.events.get(e) {
                ids.insert((ev.record.loc.source, ev.record.loc.line), r.id.clone());
            }
        }
    }
    ids
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

/// One NDJSON object for an event: source, line, time, request, kind, the kind's fields, then
/// context.
fn event_json(source: &str, ev: &Event, request: Option<&str>) -> serde_json::Value {
    let mut v = serde_json::json!({
        "source": source,
        "line": ev.record.loc.line,
        "time": ev.record.time.utc.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)),
        "request": request,
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

fn list_rules(markdown: bool, journal_catalog: bool) -> Result<u8, RunError> {
    let mut out = io::stdout().lock();
    if journal_catalog {
        write!(out, "{}", report::journal_export::catalog(&rules::infos()))?;
        return Ok(0);
    }
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
    writeln!(
        out,
        "\nJournal MESSAGE_ID (`--format journal-export`): {}",
        report::journal_export::message_id(rule.info.id)
    )?;
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_line_wins() {
        let c = Config {
            tz: Some("Europe/Berlin".into()),
            hermes_version: Some("0.18.0".into()),
            strategies: [("zai".to_string(), "round_robin".to_string())].into(),
            enabled: [
                ("silent-rotation".to_string(), false),
                ("pool-exhausted".to_string(), false),
            ]
            .into(),
            severity: BTreeMap::new(),
        };
        let mut args = AnalyzeArgs::default();
        args.ingest.tz = Some("UTC".into());
        args.strategies = vec!["zai=fill_first".into()];
        args.rules = vec!["pool-exhausted".into()];
        apply_config(&c, &mut args);
        assert_eq!(args.ingest.tz.as_deref(), Some("UTC"));
        assert_eq!(args.hermes_version.as_deref(), Some("0.18.0"));
        assert_eq!(args.strategies, ["zai=round_robin", "zai=fill_first"]);
        assert_eq!(args.ignore, ["silent-rotation"]);
    }
}
