//! Where a secret comes from: `{ env = "VAR" }` or `{ file = "PATH" }`, never the file
//! itself, so a config file can be shared and committed without leaking anything.

use std::fmt;
use std::path::PathBuf;

use serde::de::{self, Deserialize, Deserializer, MapAccess, Visitor};

use portal_sso::Secret;

use super::ConfigFileError;

/// Where a secret comes from. An inline string is refused while the file is read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum SecretRef {
    Env(String),
    File(PathBuf),
}

const INLINE_SECRET: &str = "secrets are never written in the file: \
     use { env = \"VAR\" } or { file = \"/run/secrets/NAME\" }";

impl<'de> Deserialize<'de> for SecretRef {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct SecretVisitor;

        impl<'de> Visitor<'de> for SecretVisitor {
            type Value = SecretRef;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("{ env = \"VAR\" } or { file = \"PATH\" }")
            }

            // The value is deliberately not echoed: it is a secret written where it
            // should not be.
            fn visit_str<E: de::Error>(self, _value: &str) -> Result<SecretRef, E> {
                Err(E::custom(INLINE_SECRET))
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<SecretRef, A::Error> {
                let mut found = None;
                while let Some(key) = map.next_key::<String>()? {
                    let value: String = map.next_value()?;
                    let source = match key.as_str() {
                        "env" => SecretRef::Env(value),
                        "file" => SecretRef::File(PathBuf::from(value)),
                        other => {
                            return Err(de::Error::custom(format!(
                                "unknown key `{other}`: use {{ env = \"VAR\" }} or {{ file = \"PATH\" }}"
                            )));
                        }
                    };
                    if found.replace(source).is_some() {
                        return Err(de::Error::custom("give exactly one of `env` or `file`"));
                    }
                }
                found.ok_or_else(|| de::Error::custom("give one of `env` or `file`"))
            }
        }

        deserializer.deserialize_any(SecretVisitor)
    }
}

impl SecretRef {
    /// Reads the secret, naming `key` when it is unset, unreadable or empty.
    pub(super) fn read(&self, key: &str) -> Result<Secret, ConfigFileError> {
        let bytes = match self {
            SecretRef::Env(var) => match std::env::var_os(var) {
                Some(value) => value.into_encoded_bytes(),
                None => {
                    return Err(ConfigFileError::new(
                        key,
                        format!("environment variable {var} is not set"),
                    ));
                }
            },
            SecretRef::File(path) => {
                let mut bytes = std::fs::read(path).map_err(|err| {
                    ConfigFileError::new(
                        key,
                        format!("cannot read secret file {}: {}", path.display(), err.kind()),
                    )
                })?;
                // Files written by `echo` or editors end in a newline that is not part
                // of the secret.
                if bytes.last() == Some(&b'\n') {
                    bytes.pop();
                    if bytes.last() == Some(&b'\r') {
                        bytes.pop();
                    }
                }
                bytes
            }
        };
        if bytes.is_empty() {
            return Err(ConfigFileError::new(key, format!("{self} is empty")));
        }
        Ok(Secret::new(bytes))
    }
}

/// Where the secret comes from, never what it is: `environment variable VAR`.
impl fmt::Display for SecretRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SecretRef::Env(var) => write!(f, "environment variable {var}"),
            SecretRef::File(path) => write!(f, "file {}", path.display()),
        }
    }
}
