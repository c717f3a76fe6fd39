use serde_json::Value;

use super::{Identity, IdentityError};

/// Where the email and names sit in the JSON a source reads (a JWT's claims, a signed
/// cookie's JSON, an introspection answer), as RFC 6901 JSON pointers.
///
/// Defaults: `/email`, `/first_name`, `/last_name`.
///
/// ```
/// use portal_sso::ClaimPointers;
///
/// let pointers = ClaimPointers::default().with_email("/user/email");
/// let json = serde_json::json!({"user": {"email": "alice@example.com"}, "first_name": "Alice"});
/// let identity = pointers.identity_from(&json)?.expect("has an email");
/// assert_eq!(identity.email(), "alice@example.com");
/// assert_eq!(identity.first_name(), "Alice");
/// # Ok::<(), portal_sso::IdentityError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimPointers {
    email: String,
    first_name: String,
    last_name: String,
}

impl Default for ClaimPointers {
    fn default() -> Self {
        Self {
            email: "/email".to_owned(),
            first_name: "/first_name".to_owned(),
            last_name: "/last_name".to_owned(),
        }
    }
}

impl ClaimPointers {
    /// Sets the pointer to the email. Default: `/email`.
    #[must_use]
    pub fn with_email(mut self, pointer: impl Into<String>) -> Self {
        self.email = pointer.into();
        self
    }

    /// Sets the pointer to the first name. Default: `/first_name`.
    #[must_use]
    pub fn with_first_name(mut self, pointer: impl Into<String>) -> Self {
        self.first_name = pointer.into();
        self
    }

    /// Sets the pointer to the last name. Default: `/last_name`.
    #[must_use]
    pub fn with_last_name(mut self, pointer: impl Into<String>) -> Self {
        self.last_name = pointer.into();
        self
    }

    /// Checks that each pointer is empty or starts with `/`, as RFC 6901 requires.
    pub fn validate(&self) -> Result<(), &'static str> {
        for (name, pointer) in [
            ("email", &self.email),
            ("first_name", &self.first_name),
            ("last_name", &self.last_name),
        ] {
            if !pointer.is_empty() && !pointer.starts_with('/') {
                return Err(name);
            }
        }
        Ok(())
    }

    /// Reads an identity out of `json`.
    ///
    /// No string at the email pointer means signed out (`Ok(None)`); an email that is not
    /// one plain address is an error. Missing or non-string names become empty strings.
    pub fn identity_from(
        &self,
        json: &serde_json::Value,
    ) -> Result<Option<Identity>, IdentityError> {
        let Some(email) = json.pointer(&self.email).and_then(Value::as_str) else {
            return Ok(None);
        };
        let name = |pointer: &str| {
            json.pointer(pointer)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned()
        };
        Ok(Some(
            Identity::new(email)?
                .with_first_name(name(&self.first_name))
                .with_last_name(name(&self.last_name)),
        ))
    }
}
