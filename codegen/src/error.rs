//! Spec errors, always located as `file:line: message`.

use std::fmt;

/// A problem in a spec file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpecError {
    /// Spec file, as given to the generator (`specs/riscv/rv_i.yaml`).
    pub file: String,
    /// 1-based line, 0 when unknown.
    pub line: usize,
    /// What is wrong.
    pub msg: String,
}

impl fmt::Display for SpecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.file, self.line, self.msg)
    }
}

impl std::error::Error for SpecError {}

/// A spec file's name and text, for locating errors.
#[derive(Debug, Clone)]
pub struct SpecFile {
    /// Path as shown in messages.
    pub name: String,
    /// Contents.
    pub text: String,
}

impl SpecFile {
    /// An error on a given line.
    pub fn err_line(&self, line: usize, msg: impl Into<String>) -> SpecError {
        SpecError {
            file: self.name.clone(),
            line,
            msg: msg.into(),
        }
    }
    /// The line of the mapping key `key:` (plain or quoted): the first at
    /// `indent` spaces, else the first at any indentation, else 0.
    pub fn key_line(&self, key: &str, indent: usize) -> usize {
        let forms = [
            format!("{key}:"),
            format!("\"{key}\":"),
            format!("'{key}':"),
        ];
        let is_key = |l: &str| {
            let t = l.trim_start();
            forms.iter().any(|f| t.starts_with(f.as_str()))
        };
        let at = |want: Option<usize>| {
            self.text
                .lines()
                .position(|l| is_key(l) && want.is_none_or(|w| l.len() - l.trim_start().len() == w))
                .map(|i| i + 1)
        };
        at(Some(indent)).or_else(|| at(None)).unwrap_or(0)
    }
    /// The line of key `key:` inside top-level section `section:` (the
    /// first occurrence after the section's line), else the section's line.
    pub fn key_line_in(&self, section: &str, key: &str) -> usize {
        let start = self.key_line(section, 0);
        let forms = [
            format!("{key}:"),
            format!("\"{key}\":"),
            format!("'{key}':"),
        ];
        if key.is_empty() {
            return start;
        }
        self.text
            .lines()
            .enumerate()
            .skip(start)
            .find(|(_, l)| {
                let t = l.trim_start();
                forms.iter().any(|f| t.starts_with(f.as_str()))
            })
            .map_or(start, |(i, _)| i + 1)
    }
    /// The line of the `n`-th (0-based) occurrence of key `key:`.
    fn nth_key_line(&self, key: &str, n: usize) -> Option<usize> {
        let forms = [
            format!("{key}:"),
            format!("\"{key}\":"),
            format!("'{key}':"),
        ];
        self.text
            .lines()
            .enumerate()
            .filter(|(_, l)| {
                let t = l.trim_start();
                forms.iter().any(|f| t.starts_with(f.as_str()))
            })
            .nth(n)
            .map(|(i, _)| i + 1)
    }
    /// The first line after `from` (1-based) containing `needle`, else `from`.
    pub fn find_after(&self, from: usize, needle: &str) -> usize {
        self.text
            .lines()
            .enumerate()
            .skip(from.saturating_sub(1))
            .find(|(_, l)| l.contains(needle))
            .map_or(from, |(i, _)| i + 1)
    }
    /// An error at the line of key `key` (at `indent`).
    pub fn err_key(&self, key: &str, indent: usize, msg: impl Into<String>) -> SpecError {
        self.err_line(self.key_line(key, indent), msg)
    }
    /// Parse YAML, reporting syntax and schema errors with their line.
    pub fn parse<T: serde::de::DeserializeOwned>(&self) -> Result<T, SpecError> {
        serde_yaml::from_str(&self.text).map_err(|e| {
            let mut line = e.location().map_or(0, |l| l.line());
            let msg = yaml_message(&e.to_string());
            // serde_yaml places a duplicate key at the start of its mapping;
            // point at the second definition instead.
            if let Some(k) = msg.split("duplicate entry with key \"").nth(1) {
                let key = k.split('"').next().unwrap_or("");
                if let Some(l) = self.nth_key_line(key, 1) {
                    line = l;
                }
            }
            self.err_line(line, msg)
        })
    }
}

/// A YAML error message without its first position (the error's own line
/// is reported separately) but with the context libyaml adds after it.
pub fn yaml_message(msg: &str) -> String {
    match msg.find(" at line ") {
        Some(i) => {
            let rest = &msg[i + 1..];
            let cut = rest.find(',').map_or(msg.len(), |c| i + 1 + c);
            format!("{}{}", &msg[..i], &msg[cut..])
        }
        None => msg.to_string(),
    }
}
