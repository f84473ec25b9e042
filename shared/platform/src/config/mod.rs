//! Configuration from the environment, read once at start-up through one validated reader: every budget
//! ([`Budgets`], docs/DESIGN.md §2) and every adapter choice ([`Providers`], §8). A bad value is an error naming its
//! variable, and one start-up error names them all.

mod budgets;
mod providers;

pub use budgets::*;
pub use providers::*;

use std::fmt;
use std::ops::RangeInclusive;
use std::time::Duration;

/// One bad setting, naming the variable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub variable: String,
    pub value: String,
    pub problem: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}={:?}: {}", self.variable, self.value, self.problem)
    }
}

/// Every bad setting found, so one start-up error names them all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ConfigErrors(pub Vec<ConfigError>);

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("invalid configuration: ")?;
        for (i, error) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{error}")?;
        }
        Ok(())
    }
}

struct Reader<'a> {
    lookup: &'a dyn Fn(&str) -> Option<String>,
    errors: Vec<ConfigError>,
}

impl<'a> Reader<'a> {
    fn new(lookup: &'a dyn Fn(&str) -> Option<String>) -> Self {
        Self {
            lookup,
            errors: Vec::new(),
        }
    }

    /// `value` if nothing was wrong, or every error found.
    fn finish<T>(self, value: T) -> Result<T, ConfigErrors> {
        if self.errors.is_empty() {
            Ok(value)
        } else {
            Err(ConfigErrors(self.errors))
        }
    }

    /// `<prefix>_HTTP_KEEPALIVE` (default 10) and `<prefix>_HTTP_CONNECT_MS`.
    fn http(&mut self, prefix: &str, connect_ms: u64) -> HttpBudgets {
        HttpBudgets {
            keepalive: self.count(&format!("{prefix}_HTTP_KEEPALIVE"), 10, 0..=256),
            connect: self.millis(&format!("{prefix}_HTTP_CONNECT_MS"), connect_ms, 10..=30_000),
        }
    }

    /// One of `T`'s names, or `default` when the variable is unset or blank.
    fn choice<T: Choice>(&mut self, variable: &str, default: T) -> T {
        match (self.lookup)(variable) {
            Some(raw) if !raw.trim().is_empty() => self.parse_choice(variable, &raw, raw.trim(), default),
            _ => default,
        }
    }

    /// A comma-separated list of `T`'s names, in order; empty when unset.
    fn choices<T: Choice>(&mut self, variable: &str) -> Vec<T> {
        let Some(raw) = (self.lookup)(variable) else {
            return Vec::new();
        };
        let mut chosen = Vec::new();
        for name in raw.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            match T::ALL.iter().find(|choice| choice.name() == name) {
                Some(choice) if !chosen.contains(choice) => chosen.push(*choice),
                Some(_) => self.fail(variable, &raw, format!("names {name} twice"), ()),
                None => self.fail(variable, &raw, format!("{name:?} is not one of {}", T::names()), ()),
            }
        }
        chosen
    }

    fn parse_choice<T: Choice>(&mut self, variable: &str, raw: &str, name: &str, default: T) -> T {
        match T::ALL.iter().find(|choice| choice.name() == name) {
            Some(choice) => *choice,
            None => self.fail(variable, raw, format!("must be one of {}", T::names()), default),
        }
    }

    fn count(&mut self, variable: &str, default: usize, range: RangeInclusive<usize>) -> usize {
        let Some(raw) = (self.lookup)(variable) else {
            return default;
        };
        match raw.trim().parse::<usize>() {
            Ok(value) if range.contains(&value) => value,
            Ok(_) => self.fail(
                variable,
                &raw,
                format!("must be between {} and {}", range.start(), range.end()),
                default,
            ),
            Err(_) => self.fail(variable, &raw, "must be a whole number".into(), default),
        }
    }

    fn millis(&mut self, variable: &str, default_ms: u64, range: RangeInclusive<u64>) -> Duration {
        let Some(raw) = (self.lookup)(variable) else {
            return Duration::from_millis(default_ms);
        };
        match raw.trim().parse::<u64>() {
            Ok(value) if range.contains(&value) => Duration::from_millis(value),
            Ok(_) => {
                let problem = format!("must be between {} and {} milliseconds", range.start(), range.end());
                self.fail(variable, &raw, problem, Duration::from_millis(default_ms))
            }
            Err(_) => self.fail(
                variable,
                &raw,
                "must be a whole number of milliseconds".into(),
                Duration::from_millis(default_ms),
            ),
        }
    }

    fn require(&mut self, holds: bool, variable: &str, value: Duration, problem: &str) {
        if !holds {
            self.fail(variable, &value.as_millis().to_string(), problem.to_string(), ());
        }
    }

    fn fail<T>(&mut self, variable: &str, value: &str, problem: String, fallback: T) -> T {
        self.errors.push(ConfigError {
            variable: variable.into(),
            value: value.into(),
            problem,
        });
        fallback
    }
}

/// Everything configuration decides at start-up: the budgets and the adapters.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Settings {
    pub budgets: Budgets,
    pub providers: Providers,
}

impl Settings {
    pub fn from_env() -> Result<Self, ConfigErrors> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Both halves, with every error of either in one list.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigErrors> {
        match (Budgets::from_lookup(&lookup), Providers::from_lookup(&lookup)) {
            (Ok(budgets), Ok(providers)) => Ok(Self { budgets, providers }),
            (budgets, providers) => {
                let mut errors = budgets.err().map(|e| e.0).unwrap_or_default();
                errors.extend(providers.err().map(|e| e.0).unwrap_or_default());
                Err(ConfigErrors(errors))
            }
        }
    }

    /// Prints both once, as structured log lines.
    pub fn log(&self) {
        self.budgets.log();
        self.providers.log();
    }
}

/// Where local state lives (the SQLite store, the local models): `NAVIGATOR_DATA_DIR`, default `./.navigator`.
pub fn data_dir() -> std::path::PathBuf {
    std::env::var_os("NAVIGATOR_DATA_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::path::PathBuf::from(".navigator"))
}
