use std::collections::BTreeMap;

use serde_json::Value;

use super::{Identity, IdentityError};

/// Where the email, the names and any other identity field sit in the JSON a source reads
/// (a JWT's claims, a signed cookie's JSON, an introspection answer), as RFC 6901 JSON
/// pointers.
///
/// Defaults: `/email`, `/first_name`, `/last_name`, and no other field.
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
    fields: BTreeMap<String, String>,
}

impl Default for ClaimPointers {
    fn default() -> Self {
        Self {
            email: "/email".to_owned(),
            first_name: "/first_name".to_owned(),
            last_name: "/last_name".to_owned(),
            fields: BTreeMap::new(),
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

    /// Sets the pointer to the identity field `name` (`name`, `external_id`, `id`,
    /// `avatar_url`, `groups`...; see [`Identity::with_field`]). `email`, `first_name` and
    /// `last_name` set those pointers. Default: no pointer, so no such field.
    ///
    /// ```
    /// use portal_sso::ClaimPointers;
    /// use serde_json::json;
    ///
    /// let pointers = ClaimPointers::default()
    ///     .with_field("id", "/user/id")
    ///     .with_field("groups", "/user/teams");
    /// let json = json!({"email": "alice@example.com", "user": {"id": 42, "teams": ["beta"]}});
    /// let identity = pointers.identity_from(&json)?.expect("has an email");
    /// assert_eq!(identity.field("id"), Some(json!(42)));
    /// assert_eq!(identity.field("groups"), Some(json!(["beta"])));
    /// assert!(pointers.supplies("id") && pointers.supplies("name") && !pointers.supplies("role"));
    /// # Ok::<(), portal_sso::IdentityError>(())
    /// ```
    #[must_use]
    pub fn with_field(mut self, name: impl Into<String>, pointer: impl Into<String>) -> Self {
        let (name, pointer) = (name.into(), pointer.into());
        match name.as_str() {
            "email" => self.email = pointer,
            "first_name" => self.first_name = pointer,
            "last_name" => self.last_name = pointer,
            _ => {
                self.fields.insert(name, pointer);
            }
        }
        self
    }

    /// Whether an identity read with these pointers can have the field `name`: the email
    /// and names always, `name` too (the names joined), any other field once mapped.
    pub fn supplies(&self, name: &str) -> bool {
        matches!(name, "email" | "first_name" | "last_name" | "name")
            || self.fields.contains_key(name)
    }

    /// Checks that each pointer is empty or starts with `/`, as RFC 6901 requires; the
    /// error names the first field whose pointer does not.
    pub fn validate(&self) -> Result<(), &str> {
        let named = [
            ("email", &self.email),
            ("first_name", &self.first_name),
            ("last_name", &self.last_name),
        ];
        let others = self
            .fields
            .iter()
            .map(|(name, pointer)| (name.as_str(), pointer));
        for (name, pointer) in named.into_iter().chain(others) {
            if !pointer.is_empty() && !pointer.starts_with('/') {
                return Err(name);
            }
        }
        Ok(())
    }

    /// Reads an identity out of `json`.
    ///
    /// No string at the email pointer means signed out (`Ok(None)`); an email that is not
    /// one plain address is an error. Missing or non-string names become empty strings;
    /// another field is set when its pointer finds a value other than `null`.
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
        let mut identity = Identity::new(email)?
            .with_first_name(name(&self.first_name))
            .with_last_name(name(&self.last_name));
        for (field, pointer) in &self.fields {
            if let Some(value) = json.pointer(pointer).filter(|value| !value.is_null()) {
                identity = identity.with_field(field.as_str(), value.clone());
            }
        }
        Ok(Some(identity))
    }
}
