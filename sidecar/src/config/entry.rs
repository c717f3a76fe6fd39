//! What `[[portal]]` and `[[widget]]` entries read the same way: the keys a kind takes,
//! and the key a kind signs with.

use std::str::FromStr;

use portal_sso::{JwtAlgorithm, Secret};

use super::ConfigFileError;
use super::secret_ref::SecretRef;

/// Refuses a key given that is not `kind`, `name`, `path` or one of `allowed`, as serde
/// refuses an unknown field.
pub(super) fn only_keys<'a>(
    mut given: impl Iterator<Item = &'a str>,
    allowed: impl Iterator<Item = &'a str>,
    key: &impl Fn(&str) -> String,
) -> Result<(), ConfigFileError> {
    let allowed: Vec<&str> = ["kind", "name", "path"]
        .into_iter()
        .chain(allowed)
        .collect();
    if let Some(extra) = given.find(|name| !allowed.contains(name)) {
        let expected: Vec<String> = allowed.iter().map(|name| format!("`{name}`")).collect();
        return Err(ConfigFileError::new(
            key(extra),
            format!(
                "unknown field `{extra}`, expected one of {}",
                expected.join(", ")
            ),
        ));
    }
    Ok(())
}

/// The entry's two key references.
#[derive(Clone, Copy)]
pub(super) struct Keys<'f> {
    pub(super) secret: Option<&'f SecretRef>,
    pub(super) private_key: Option<&'f SecretRef>,
}

impl<'f> Keys<'f> {
    /// The key read: `secret` when `uses_secret`, else `private_key`.
    pub(super) fn read(
        self,
        uses_secret: bool,
        key: &impl Fn(&str) -> String,
    ) -> Result<(&'f SecretRef, Secret), ConfigFileError> {
        let (from, name) = if uses_secret {
            (self.secret, "secret")
        } else {
            (self.private_key, "private_key")
        };
        let Some(from) = from else {
            return Err(ConfigFileError::new(key(name), "is required"));
        };
        Ok((from, from.read(&key(name))?))
    }

    /// `kind = "jwt"`'s `algorithm` (`raw`), and the key that fits it read: a shared
    /// `secret` for HS*, a PEM `private_key` otherwise; the other one given is an error
    /// naming it.
    pub(super) fn for_algorithm(
        self,
        raw: Option<&str>,
        key: &impl Fn(&str) -> String,
    ) -> Result<(JwtAlgorithm, &'f SecretRef, Secret), ConfigFileError> {
        let Some(raw) = raw else {
            return Err(ConfigFileError::new(
                key("algorithm"),
                "is required for kind = \"jwt\"",
            ));
        };
        let algorithm = JwtAlgorithm::from_str(raw)
            .map_err(|problem| ConfigFileError::new(key("algorithm"), problem))?;
        let uses_secret = algorithm.uses_secret();
        let (wrong, why, name, given) = if uses_secret {
            (
                self.private_key.is_some().then_some("private_key"),
                "signs with a shared secret: give `secret`, not a PEM `private_key`",
                "secret",
                self.secret.is_some(),
            )
        } else {
            (
                self.secret.is_some().then_some("secret"),
                "signs with a PEM private key: give `private_key`, not a shared `secret`",
                "private_key",
                self.private_key.is_some(),
            )
        };
        if let Some(wrong) = wrong {
            return Err(ConfigFileError::new(
                key(wrong),
                format!("algorithm {algorithm} {why}"),
            ));
        }
        if !given {
            return Err(ConfigFileError::new(
                key(name),
                format!("is required for algorithm {algorithm}"),
            ));
        }
        let (from, secret) = self.read(uses_secret, key)?;
        Ok((algorithm, from, secret))
    }
}
