//! The one error a config file gives: the key at fault and what is wrong with it.

use std::fmt;

/// A config file the sidecar cannot run with. `Display` is one line:
/// `portal[0].secret: environment variable KUSTOMER_SSO_SECRET is not set`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigFileError {
    key: String,
    problem: String,
}

impl ConfigFileError {
    pub(crate) fn new(key: impl Into<String>, problem: impl Into<String>) -> Self {
        Self {
            key: key.into(),
            problem: problem.into(),
        }
    }

    /// The key at fault, e.g. `portal[1].redirect_origins[0]`, or where in the file a
    /// syntax error is (`line 3, column 7`).
    pub fn key(&self) -> &str {
        &self.key
    }

    /// What is wrong with it.
    pub fn problem(&self) -> &str {
        &self.problem
    }
}

impl fmt::Display for ConfigFileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.key, self.problem)
    }
}

impl std::error::Error for ConfigFileError {}
