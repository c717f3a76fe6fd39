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

#[cfg(test)]
mod tests {
    use super::*;

    /// Reads a secret file holding `contents`.
    fn read_file(name: &str, contents: &[u8]) -> Result<Vec<u8>, ConfigFileError> {
        let path = std::env::temp_dir().join(format!(
            "portal-sso-secret-ref-{}-{name}",
            std::process::id()
        ));
        std::fs::write(&path, contents).unwrap();
        let read = SecretRef::File(path.clone()).read("portal[0].secret");
        std::fs::remove_file(&path).unwrap();
        read.map(|secret| secret.expose().to_vec())
    }

    #[test]
    fn a_file_loses_one_trailing_newline_and_no_more() {
        assert_eq!(read_file("lf", b"s3cret\n").unwrap(), b"s3cret");
        assert_eq!(read_file("crlf", b"s3cret\r\n").unwrap(), b"s3cret");
        assert_eq!(read_file("two", b"s3cret\n\n").unwrap(), b"s3cret\n");
        assert_eq!(read_file("none", b" s3cret ").unwrap(), b" s3cret ");
    }

    #[test]
    fn an_empty_secret_is_refused_naming_where_it_comes_from() {
        let err = read_file("empty", b"\n").unwrap_err();
        assert_eq!(err.key(), "portal[0].secret");
        assert!(err.problem().starts_with("file /"), "{err}");
        assert!(err.problem().ends_with(" is empty"), "{err}");
    }

    #[test]
    fn shows_where_a_secret_comes_from_never_what_it_is() {
        let env = SecretRef::Env("KUSTOMER_SSO_SECRET".to_owned());
        assert_eq!(env.to_string(), "environment variable KUSTOMER_SSO_SECRET");
        let file = SecretRef::File(PathBuf::from("/run/secrets/aha"));
        assert_eq!(file.to_string(), "file /run/secrets/aha");
    }
}
