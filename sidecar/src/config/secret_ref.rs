//! Where a secret comes from: `{ env = "VAR" }` or `{ file = "PATH" }`, never the file
//! itself, so a config file can be shared and committed without leaking anything.

use std::fmt;
use std::path::PathBuf;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};

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

/// The refusal of a value that is not a `{ env = … }` or `{ file = … }` table. serde's own
/// message would quote the value (``invalid type: integer `…` ``), which may be the secret
/// itself written in the wrong place, so only its kind is named.
fn not_a_reference<E: de::Error>(kind: &str) -> E {
    E::custom(format_args!(
        "{kind} is not a secret reference (its value is not shown): \
         use {{ env = \"VAR\" }} or {{ file = \"/run/secrets/NAME\" }}"
    ))
}

/// The refusal of a value of `env = …` or `file = …` that is not a string, naming its
/// kind only, as [`not_a_reference`] does.
fn not_a_name<E: de::Error>(kind: &str) -> E {
    E::custom(format_args!(
        "{kind} where a variable name or a file path belongs (its value is not shown): \
         use {{ env = \"VAR\" }} or {{ file = \"/run/secrets/NAME\" }}"
    ))
}

/// Implements a visitor's methods for scalars other than strings, each refused by
/// `$refuse` naming the kind of value, never the value.
macro_rules! refuse_scalars {
    ($refuse:ident) => {
        refuse_scalars!($refuse:
            visit_bool(bool) => "a boolean",
            visit_i64(i64) => "a number",
            visit_i128(i128) => "a number",
            visit_u64(u64) => "a number",
            visit_u128(u128) => "a number",
            visit_f64(f64) => "a number",
            visit_bytes(&[u8]) => "a byte string",
        );
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Err($refuse("an empty value"))
        }
    };
    ($refuse:ident: $($method:ident($type:ty) => $kind:literal),* $(,)?) => {
        $(
            fn $method<E: de::Error>(self, _value: $type) -> Result<Self::Value, E> {
                Err($refuse($kind))
            }
        )*
    };
}

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

            refuse_scalars!(not_a_reference);

            fn visit_seq<A: SeqAccess<'de>>(self, _seq: A) -> Result<SecretRef, A::Error> {
                Err(not_a_reference("a list"))
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<SecretRef, A::Error> {
                let mut found = None;
                while let Some(key) = map.next_key::<String>()? {
                    let source = match key.as_str() {
                        "env" => SecretRef::Env(map.next_value::<Name>()?.0),
                        "file" => SecretRef::File(PathBuf::from(map.next_value::<Name>()?.0)),
                        // How the `toml` crate hands over a date or time.
                        other if other.starts_with("$__toml_private") => {
                            return Err(not_a_reference("a date or time"));
                        }
                        other => {
                            return Err(de::Error::custom(format!(
                                "unknown key `{other}` (its value is not shown): \
                                 use {{ env = \"VAR\" }} or {{ file = \"PATH\" }}"
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

/// The string of `env = "…"` or `file = "…"`; any other kind of value is refused
/// without being shown.
struct Name(String);

impl<'de> Deserialize<'de> for Name {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct NameVisitor;

        impl<'de> Visitor<'de> for NameVisitor {
            type Value = Name;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a variable name or a path")
            }

            fn visit_str<E: de::Error>(self, value: &str) -> Result<Name, E> {
                Ok(Name(value.to_owned()))
            }

            refuse_scalars!(not_a_name);

            fn visit_seq<A: SeqAccess<'de>>(self, _seq: A) -> Result<Name, A::Error> {
                Err(not_a_name("a list"))
            }

            fn visit_map<A: MapAccess<'de>>(self, _map: A) -> Result<Name, A::Error> {
                Err(not_a_name("a table"))
            }
        }

        deserializer.deserialize_any(NameVisitor)
    }
}

impl SecretRef {
    /// Reads the secret, naming `key` when it is unset, unreadable or empty.
    pub(super) fn read(&self, key: &str) -> Result<Secret, ConfigFileError> {
        let bytes = match self {
            SecretRef::Env(var) => match std::env::var_os(var) {
                Some(value) => value.into_encoded_bytes(),
                None => return Err(ConfigFileError::new(key, unset(var))),
            },
            SecretRef::File(path) => {
                let mut bytes = super::load::read_file(key, path).map_err(|err| {
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

/// Why an environment variable cannot be read: it is not set. Its name is shown only when
/// it looks like one (POSIX's portable names: upper-case letters, digits and `_`, not
/// starting with a digit): anything else may be the secret itself, written in `env`.
fn unset(var: &str) -> String {
    let portable = var
        .bytes()
        .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
        && var.bytes().next().is_some_and(|b| !b.is_ascii_digit());
    if portable {
        format!("environment variable {var} is not set")
    } else if var.contains('/') {
        "the environment variable named in `env` is not set, and its name looks like a \
         path (not shown): for a file, write { file = \"PATH\" }"
            .to_owned()
    } else {
        "the environment variable named in `env` is not set (its name is not shown: it is \
         not upper-case letters, digits and `_`, and may be a secret written in the wrong place)"
            .to_owned()
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
    fn an_unset_variable_is_named_only_when_it_looks_like_a_name() {
        let read = |var: &str| {
            SecretRef::Env(var.to_owned())
                .read("portal[0].secret")
                .unwrap_err()
                .to_string()
        };
        let named = read("PORTAL_SSO_UNIT_UNSET_2");
        assert!(
            named.ends_with("PORTAL_SSO_UNIT_UNSET_2 is not set"),
            "{named}"
        );
        for hidden in [
            "s3cr3t-v4lue",
            "/run/secrets/s3cr3t",
            "lower_s3cr3t",
            "9S3CR3T",
        ] {
            let message = read(hidden);
            assert!(
                !message.contains("s3cr3t") && !message.contains("S3CR3T"),
                "{message}"
            );
            assert!(message.starts_with("portal[0].secret: "), "{message}");
        }
    }

    #[test]
    fn shows_where_a_secret_comes_from_never_what_it_is() {
        let env = SecretRef::Env("KUSTOMER_SSO_SECRET".to_owned());
        assert_eq!(env.to_string(), "environment variable KUSTOMER_SSO_SECRET");
        let file = SecretRef::File(PathBuf::from("/run/secrets/aha"));
        assert_eq!(file.to_string(), "file /run/secrets/aha");
    }
}
