//! The configuration file `hermes-forensics.toml`: found in the current directory or named with
//! `--config`. Precedence: built-in defaults < configuration file < command-line flags.
//!
//! ```toml
//! tz = "America/New_York"        # default for --tz
//! hermes_version = "0.19.0"      # default for --hermes-version
//!
//! [strategy]                     # pool strategy per provider (--strategy overrides per provider)
//! openai-codex = "round_robin"
//!
//! [rules.silent-rotation]        # per rule: on/off and severity override
//! enabled = false
//! [rules.missed-rotation]
//! severity = "medium"
//! ```
//!
//! Unknown keys, unknown rule ids and invalid values are errors naming the file and the key, with
//! a "did you mean" hint when a known name is close. A rule switched off here still runs when it is
//! asked for with `--rule`. Severity overrides change the findings' severity, and so the exit code.
//! `events` takes `tz` from the file in the current directory.

use crate::correlate::{self, HermesVersion};
use crate::model::Severity;
use crate::rules;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use toml::{Table, Value};

/// Name of the configuration file looked up in the current directory.
pub const FILE_NAME: &str = "hermes-forensics.toml";

const TOP_KEYS: &[&str] = &["tz", "hermes_version", "strategy", "rules"];
const RULE_KEYS: &[&str] = &["enabled", "severity"];
const SEVERITIES: &[&str] = &["high", "medium", "low", "info"];

/// A configuration problem; every variant names the file.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{path}: {err}")]
    Io { path: String, err: std::io::Error },
    #[error("{path}: {err}")]
    Syntax { path: String, err: toml::de::Error },
    #[error("{path}: unknown key `{key}`{hint}")]
    UnknownKey {
        path: String,
        key: String,
        hint: Hint,
    },
    #[error("{path}: `{key}`: {what}")]
    Invalid {
        path: String,
        key: String,
        what: String,
    },
}

/// An optional " (did you mean `x`?)" suffix.
#[derive(Debug)]
pub struct Hint(Option<String>);

impl std::fmt::Display for Hint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.0 {
            Some(s) => write!(f, " (did you mean `{s}`?)"),
            None => Ok(()),
        }
    }
}

/// The closest of `known` to `word`, when it is close enough to be a likely typo.
fn did_you_mean<'a>(word: &str, known: impl IntoIterator<Item = &'a str>) -> Hint {
    let limit = (word.chars().count() / 3).max(2);
    Hint(
        known
            .into_iter()
            .map(|k| (strsim::levenshtein(word, k), k))
            .filter(|(d, _)| *d <= limit)
            .min()
            .map(|(_, k)| k.to_string()),
    )
}

/// The error text of an unknown rule id, with a hint when a rule id is close.
pub fn unknown_rule(id: &str) -> String {
    format!(
        "unknown rule {id:?}{} (see `hermes-forensics rules`)",
        did_you_mean(id, crate::rules::RULES.iter().map(|r| r.info.id))
    )
}

/// Settings read from a configuration file.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Config {
    /// Default IANA zone for times without an offset.
    pub tz: Option<String>,
    /// Default Hermes version.
    pub hermes_version: Option<String>,
    /// Pool strategy per provider, as written.
    pub strategies: BTreeMap<String, String>,
    /// Rules switched on (`true`) or off (`false`).
    pub enabled: BTreeMap<String, bool>,
    /// Severity overrides per rule.
    pub severity: BTreeMap<String, Severity>,
}

/// Parsing context: the file name, for error messages.
struct Ctx<'a>(&'a str);

impl Ctx<'_> {
    fn unknown<'k>(
        &self,
        key: &str,
        shown: String,
        known: impl IntoIterator<Item = &'k str>,
    ) -> ConfigError {
        ConfigError::UnknownKey {
            path: self.0.to_string(),
            key: shown,
            hint: did_you_mean(key, known),
        }
    }

    fn invalid(&self, key: &str, what: impl Into<String>) -> ConfigError {
        ConfigError::Invalid {
            path: self.0.to_string(),
            key: key.to_string(),
            what: what.into(),
        }
    }

    fn string<'v>(&self, key: &str, v: &'v Value) -> Result<&'v str, ConfigError> {
        v.as_str()
            .ok_or_else(|| self.invalid(key, format!("expected a string, found {}", v.type_str())))
    }

    fn table<'v>(&self, key: &str, v: &'v Value) -> Result<&'v Table, ConfigError> {
        v.as_table()
            .ok_or_else(|| self.invalid(key, format!("expected a table, found {}", v.type_str())))
    }
}

impl Config {
    /// Parses configuration text; `path` names the file in errors.
    pub fn parse(text: &str, path: &str) -> Result<Self, ConfigError> {
        let cx = Ctx(path);
        let table: Table = text.parse().map_err(|err| ConfigError::Syntax {
            path: path.to_string(),
            err,
        })?;
        let mut cfg = Config::default();
        for (key, value) in &table {
            match key.as_str() {
                "tz" => {
                    let z = cx.string(key, value)?;
                    z.parse::<chrono_tz::Tz>().map_err(|_| {
                        cx.invalid(key, format!("unknown time zone {z:?} (use an IANA name such as America/New_York)"))
                    })?;
                    cfg.tz = Some(z.to_string());
                }
                "hermes_version" => {
                    let v = cx.string(key, value)?;
                    v.parse::<HermesVersion>().map_err(|e| cx.invalid(key, e))?;
                    cfg.hermes_version = Some(v.to_string());
                }
                "strategy" => {
                    for (provider, s) in cx.table(key, value)? {
                        let k = format!("strategy.{provider}");
                        let s = cx.string(&k, s)?;
                        correlate::parse_strategy(&format!("{provider}={s}"))
                            .map_err(|e| cx.invalid(&k, e.replacen("--strategy ", "", 1)))?;
                        cfg.strategies.insert(provider.clone(), s.to_string());
                    }
                }
                "rules" => cfg.parse_rules(&cx, cx.table(key, value)?)?,
                other => {
                    return Err(cx.unknown(other, other.to_string(), TOP_KEYS.iter().copied()))
                }
            }
        }
        Ok(cfg)
    }

    fn parse_rules(&mut self, cx: &Ctx, rules_table: &Table) -> Result<(), ConfigError> {
        for (id, settings) in rules_table {
            if rules::find(id).is_none() {
                return Err(cx.unknown(
                    id,
                    format!("rules.{id}"),
                    rules::RULES.iter().map(|r| r.info.id),
                ));
            }
            for (key, value) in cx.table(&format!("rules.{id}"), settings)? {
                let shown = format!("rules.{id}.{key}");
                match key.as_str() {
                    "enabled" => {
                        let on = value.as_bool().ok_or_else(|| {
                            cx.invalid(
                                &shown,
                                format!("expected true or false, found {}", value.type_str()),
                            )
                        })?;
                        self.enabled.insert(id.clone(), on);
                    }
                    "severity" => {
                        let s = cx.string(&shown, value)?;
                        let sev = match s {
                            "high" => Severity::High,
                            "medium" => Severity::Medium,
                            "low" => Severity::Low,
                            "info" => Severity::Info,
                            _ => {
                                return Err(cx.invalid(
                                    &shown,
                                    format!(
                                        "unknown severity {s:?} (one of {}){}",
                                        SEVERITIES.join(", "),
                                        did_you_mean(s, SEVERITIES.iter().copied())
                                    ),
                                ))
                            }
                        };
                        self.severity.insert(id.clone(), sev);
                    }
                    other => return Err(cx.unknown(other, shown, RULE_KEYS.iter().copied())),
                }
            }
        }
        Ok(())
    }

    /// Reads and parses a configuration file.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let name = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|err| ConfigError::Io {
            path: name.clone(),
            err,
        })?;
        Self::parse(&text, &name)
    }
}

/// The configuration file to use: `--config`, else `hermes-forensics.toml` in the current
/// directory when it exists.
pub fn locate(explicit: Option<&Path>) -> Option<PathBuf> {
    match explicit {
        Some(p) => Some(p.to_path_buf()),
        None => {
            let p = PathBuf::from(FILE_NAME);
            p.is_file().then_some(p)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> String {
        match Config::parse(text, "hf.toml") {
            Ok(c) => panic!("expected an error, got {c:?}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn parses_every_setting() {
        let c = Config::parse(
            "tz = \"America/New_York\"\nhermes_version = \"0.19.0\"\n[strategy]\nopenai-codex = \"round_robin\"\n[rules.silent-rotation]\nenabled = false\n[rules.missed-rotation]\nseverity = \"medium\"\n",
            "hf.toml",
        );
        let c = c.unwrap_or_default();
        assert_eq!(c.tz.as_deref(), Some("America/New_York"));
        assert_eq!(c.hermes_version.as_deref(), Some("0.19.0"));
        assert_eq!(
            c.strategies.get("openai-codex").map(String::as_str),
            Some("round_robin")
        );
        assert_eq!(c.enabled.get("silent-rotation"), Some(&false));
        assert_eq!(c.severity.get("missed-rotation"), Some(&Severity::Medium));
    }

    #[test]
    fn unknown_keys_get_a_hint() {
        assert_eq!(
            err("tzz = \"UTC\""),
            "hf.toml: unknown key `tzz` (did you mean `tz`?)"
        );
        assert_eq!(
            err("hermes-version = \"0.19.0\""),
            "hf.toml: unknown key `hermes-version` (did you mean `hermes_version`?)"
        );
        assert_eq!(
            err("[rules.silent-rotaton]\nenabled = false"),
            "hf.toml: unknown key `rules.silent-rotaton` (did you mean `silent-rotation`?)"
        );
        assert_eq!(
            err("[rules.silent-rotation]\nenable = false"),
            "hf.toml: unknown key `rules.silent-rotation.enable` (did you mean `enabled`?)"
        );
        assert_eq!(err("colour = 1"), "hf.toml: unknown key `colour`");
    }

    #[test]
    fn invalid_values_name_the_key() {
        assert!(err("tz = \"Mars/Olympus\"").starts_with("hf.toml: `tz`: unknown time zone"));
        assert!(err("[strategy]\nzai = \"fastest\"").starts_with("hf.toml: `strategy.zai`: "));
        assert!(err("[rules.pool-exhausted]\nseverity = \"hihg\"").contains("did you mean `high`?"));
        assert!(err("hermes_version = \"x\"").starts_with("hf.toml: `hermes_version`: "));
        assert!(err("tz = [").starts_with("hf.toml: "));
    }
}
