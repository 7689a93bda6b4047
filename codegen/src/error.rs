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
    /// The line of the mapping key `key:` at `indent` spaces (first match).
    pub fn key_line(&self, key: &str, indent: usize) -> usize {
        let pat = format!("{}{}:", " ".repeat(indent), key);
        self.text
            .lines()
            .position(|l| l.starts_with(&pat))
            .map_or(0, |i| i + 1)
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
            let line = e.location().map_or(0, |l| l.line());
            let msg = e.to_string();
            let msg = msg.split(" at line ").next().unwrap_or(&msg).to_string();
            self.err_line(line, msg)
        })
    }
}
