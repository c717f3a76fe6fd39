//! Who is behind a request: [`Identity`], the [`IdentityResolver`] trait and the built-in
//! sources that read the app's session cookie.
//!
//! A resolver answers one of three things for a request:
//! - `Ok(Some(identity))`: signed in; a token is issued for `identity`;
//! - `Ok(None)`: signed out; the browser is sent to the app's login page;
//! - `Err(IdentityError)`: the source could not tell (its backend is down, say); the
//!   browser gets a 503 page and is *not* sent to log in, which would only loop.
//!
//! A closure `Fn(&http::request::Parts) -> impl Future<Output = Result<Option<Identity>,
//! IdentityError>>` is a resolver. The future must own what it needs, so copy the
//! header values out of `parts` before the `async` block.

mod claims;
mod cookies;
mod jwt_cookie;
mod signed_cookie;

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;
use std::future::Future;

use http::request::Parts;
use serde_json::Value;

pub use claims::ClaimPointers;
pub use cookies::{find_cookie, find_cookies};
pub use jwt_cookie::JwtCookie;
pub use signed_cookie::{SignedCookie, SignedCookieMode};

/// The longest email address accepted, as RFC 5321 limits a forward path.
const MAX_EMAIL_LEN: usize = 254;

/// A signed-in user as the portals see them.
///
/// The email is required and must be exactly one plain address; names default to empty
/// strings, which Kustomer and Aha! accept. Any other field a portal's claims name (`name`,
/// `external_id`, `id`, `avatar_url`, `groups`...) is set with
/// [`with_field`](Identity::with_field).
///
/// ```
/// use portal_sso::Identity;
///
/// let alice = Identity::new("alice@example.com")?.with_first_name("Alice");
/// assert_eq!(alice.email(), "alice@example.com");
/// assert_eq!(alice.first_name(), "Alice");
/// assert_eq!(alice.last_name(), "");
///
/// assert!(Identity::new("a@evil.com@corp.com").is_err());
/// # Ok::<(), portal_sso::IdentityError>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Identity {
    email: String,
    first_name: String,
    last_name: String,
    fields: BTreeMap<String, Value>,
}

impl Identity {
    /// An identity for `email`, which must be exactly one address: one `@`, a non-empty
    /// local part and domain, at most 254 bytes, and no white space, control characters,
    /// quotes, brackets, commas or other characters that let one string name several
    /// mailboxes (`a@evil.com@corp.com`, `"a@x"@y`, `a@x, b@y`, `a@x\r\nBcc: ...`).
    pub fn new(email: impl Into<String>) -> Result<Self, IdentityError> {
        let email = email.into();
        validate_email(&email)?;
        Ok(Self {
            email,
            first_name: String::new(),
            last_name: String::new(),
            fields: BTreeMap::new(),
        })
    }

    /// Sets the first name. Default: empty.
    #[must_use]
    pub fn with_first_name(mut self, first_name: impl Into<String>) -> Self {
        self.first_name = first_name.into();
        self
    }

    /// Sets the last name. Default: empty.
    #[must_use]
    pub fn with_last_name(mut self, last_name: impl Into<String>) -> Self {
        self.last_name = last_name.into();
        self
    }

    /// Sets the field `name` (a stable `id`, `external_id`, `avatar_url`, `groups`, a
    /// `name` other than first and last name joined...), for the portals whose claims read
    /// it. Default: no such field.
    ///
    /// `first_name` and `last_name` given as strings set the names; `email` is only ever
    /// the address given to [`Identity::new`], which checked it, so it is not set here.
    ///
    /// ```
    /// use portal_sso::Identity;
    /// use serde_json::json;
    ///
    /// let alice = Identity::new("alice@example.com")?
    ///     .with_field("id", json!(42))
    ///     .with_field("groups", json!(["beta", "admins"]));
    /// assert_eq!(alice.field("id"), Some(json!(42)));
    /// assert_eq!(alice.field("groups"), Some(json!(["beta", "admins"])));
    /// assert_eq!(alice.field("avatar_url"), None);
    /// # Ok::<(), portal_sso::IdentityError>(())
    /// ```
    #[must_use]
    pub fn with_field(mut self, name: impl Into<String>, value: impl Into<Value>) -> Self {
        let name = name.into();
        match (name.as_str(), value.into()) {
            ("first_name", Value::String(first)) => self.first_name = first,
            ("last_name", Value::String(last)) => self.last_name = last,
            ("email" | "first_name" | "last_name", _) => {}
            (_, value) => {
                self.fields.insert(name, value);
            }
        }
        self
    }

    /// The field `name` as a portal's claim would carry it: `email`, `first_name` and
    /// `last_name` always (names possibly empty); `name` as set, else the first and last
    /// names joined by a space when either is known; any other field as set.
    ///
    /// ```
    /// use portal_sso::Identity;
    /// use serde_json::json;
    ///
    /// let alice = Identity::new("alice@example.com")?.with_first_name("Alice").with_last_name("Liddell");
    /// assert_eq!(alice.field("name"), Some(json!("Alice Liddell")));
    /// assert_eq!(Identity::new("bob@example.com")?.field("name"), None);
    /// # Ok::<(), portal_sso::IdentityError>(())
    /// ```
    pub fn field(&self, name: &str) -> Option<Value> {
        match name {
            "email" => Some(Value::String(self.email.clone())),
            "first_name" => Some(Value::String(self.first_name.clone())),
            "last_name" => Some(Value::String(self.last_name.clone())),
            "name" if !self.fields.contains_key("name") => {
                let joined = format!("{} {}", self.first_name, self.last_name);
                let joined = joined.trim();
                (!joined.is_empty()).then(|| Value::String(joined.to_owned()))
            }
            _ => self.fields.get(name).cloned(),
        }
    }

    /// The email address.
    pub fn email(&self) -> &str {
        &self.email
    }

    /// The first name, possibly empty.
    pub fn first_name(&self) -> &str {
        &self.first_name
    }

    /// The last name, possibly empty.
    pub fn last_name(&self) -> &str {
        &self.last_name
    }

    /// [`field`](Identity::field), checked for a claim: every string in it (in arrays and
    /// objects too) has no control or invisible character (zero-width space, soft hyphen,
    /// bidi override, tag characters...) and no white space but the plain space, so that
    /// no account can pass for another on the portal. The email was checked when the
    /// identity was made.
    pub(crate) fn checked_field(&self, name: &str) -> Result<Option<Value>, IdentityError> {
        let value = self.field(name);
        if let Some(value) = &value {
            check_strings(name, value)?;
        }
        Ok(value)
    }
}

/// Refuses the first look-alike character in any string of `value`, naming `field`.
fn check_strings(field: &str, value: &Value) -> Result<(), IdentityError> {
    match value {
        Value::String(text) => {
            let odd = |c: char| {
                crate::text::is_control_or_invisible(c) || (c.is_whitespace() && c != ' ')
            };
            match text.chars().find(|&c| odd(c)) {
                None => Ok(()),
                Some(c) => Err(IdentityError::invalid(format!(
                    "the {} contains a control, invisible or unusual space character (U+{:04X})",
                    field.replace('_', " "),
                    u32::from(c)
                ))
                .in_field(field.to_owned())),
            }
        }
        Value::Array(items) => items.iter().try_for_each(|item| check_strings(field, item)),
        Value::Object(members) => members
            .values()
            .try_for_each(|member| check_strings(field, member)),
        Value::Null | Value::Bool(_) | Value::Number(_) => Ok(()),
    }
}

impl fmt::Debug for Identity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Identity")
            .field("email", &crate::events::MaskedEmail(&self.email))
            .finish_non_exhaustive()
    }
}

fn validate_email(email: &str) -> Result<(), IdentityError> {
    let invalid = |message: &str| Err(IdentityError::invalid(message).in_field("email"));
    if email.is_empty() {
        return invalid("the email address is empty");
    }
    if email.len() > MAX_EMAIL_LEN {
        return invalid("the email address is longer than 254 bytes");
    }
    let forbidden = |c: char| {
        c.is_whitespace()
            || crate::text::is_control_or_invisible(c)
            || matches!(
                c,
                '"' | '(' | ')' | ',' | ':' | ';' | '<' | '>' | '[' | ']' | '\\'
            )
    };
    if email.chars().any(forbidden) {
        return invalid(
            "the email address contains white space, control or invisible characters, or quoting",
        );
    }
    let Some((local, domain)) = email.split_once('@') else {
        return invalid("the email address must contain exactly one '@'");
    };
    if domain.contains('@') {
        return invalid("the email address must contain exactly one '@'");
    }
    if local.is_empty() || domain.is_empty() {
        return invalid("the email address needs a local part and a domain");
    }
    if domain.starts_with('.') || domain.ends_with('.') || domain.contains("..") {
        return invalid("the email address has a malformed domain");
    }
    Ok(())
}

/// Why a resolver could not answer, or why its answer cannot be used.
///
/// The message is shown to operators in events and to the browser on the error page, so
/// it must not contain the cookie, a token or a secret.
#[derive(Clone, PartialEq, Eq)]
pub struct IdentityError {
    kind: IdentityErrorKind,
    message: String,
    field: Option<Cow<'static, str>>,
}

/// What went wrong while finding the user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum IdentityErrorKind {
    /// The source is down or answered something unexpected: 503, never a login loop.
    Unavailable,
    /// The source answered, but the identity it gave cannot be used (an email that is not
    /// exactly one address, say): 403.
    Invalid,
    /// The request carries sessions that name different users (the session cookie sent
    /// twice, one of them planted from a sibling subdomain, say): treated as signed out,
    /// with an event that says why.
    Conflict,
}

impl IdentityError {
    /// The identity source is down, timed out or answered something unexpected.
    pub fn unavailable(message: impl Into<String>) -> Self {
        Self::new(IdentityErrorKind::Unavailable, message)
    }

    /// The source answered with an identity that cannot be used.
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(IdentityErrorKind::Invalid, message)
    }

    /// The request carries sessions naming different users: signed out.
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(IdentityErrorKind::Conflict, message)
    }

    fn new(kind: IdentityErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
            field: None,
        }
    }

    /// Names the identity field the error is about (`email`, `first_name`, ...).
    #[must_use]
    pub fn in_field(mut self, field: impl Into<Cow<'static, str>>) -> Self {
        self.field = Some(field.into());
        self
    }

    /// The identity field the error is about, when it is about one.
    pub fn field(&self) -> Option<&str> {
        self.field.as_deref()
    }

    /// Which kind of failure this is.
    pub fn kind(&self) -> IdentityErrorKind {
        self.kind
    }

    /// The operator-facing explanation.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Debug for IdentityError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IdentityError")
            .field("kind", &self.kind)
            .field("message", &self.message)
            .field("field", &self.field)
            .finish()
    }
}

impl fmt::Display for IdentityError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for IdentityError {}

/// Finds the user behind a request.
///
/// Implemented for every `Fn(&Parts) -> Fut` where `Fut` resolves to
/// `Result<Option<Identity>, IdentityError>`, so a closure is enough:
///
/// ```
/// use portal_sso::{Identity, IdentityError, IdentityResolver};
///
/// let resolver = |parts: &http::request::Parts| {
///     let user = parts.headers.get("x-demo-user").cloned();
///     async move {
///         match user {
///             Some(email) => Ok(Some(Identity::new(email.to_str().unwrap_or(""))?)),
///             None => Ok(None),
///         }
///     }
/// };
/// # fn assert_resolver<R: IdentityResolver>(_: &R) {}
/// assert_resolver(&resolver);
/// ```
pub trait IdentityResolver: Send + Sync + 'static {
    /// The future returned by [`resolve`](IdentityResolver::resolve).
    type Future: Future<Output = Result<Option<Identity>, IdentityError>> + Send + 'static;

    /// Looks at the request's method, URI and headers (never its body) and answers who
    /// is signed in.
    fn resolve(&self, parts: &Parts) -> Self::Future;

    /// Called when the layer ends the session of the request `parts` (remote logout, the
    /// app's own logout route): a source that remembers answers forgets this session's.
    /// Default: nothing to forget.
    fn forget(&self, parts: &Parts) {
        let _ = parts;
    }
}

impl<F, Fut> IdentityResolver for F
where
    F: Fn(&Parts) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Option<Identity>, IdentityError>> + Send + 'static,
{
    type Future = Fut;

    fn resolve(&self, parts: &Parts) -> Self::Future {
        self(parts)
    }
}

/// A ready answer, for sources that need no I/O.
pub type Ready = std::future::Ready<Result<Option<Identity>, IdentityError>>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_plain_addresses() {
        for email in [
            "alice@example.com",
            "a.b+tag@sub.example.co.uk",
            "x@localhost",
        ] {
            assert!(Identity::new(email).is_ok(), "{email}");
        }
    }

    #[test]
    fn refuses_anything_but_one_address() {
        for email in [
            "",
            "alice",
            "@example.com",
            "alice@",
            "a@evil.com@corp.com",
            "alice@example.com\r\nBcc: x@y.z",
            "alice@example.com\n",
            "alice @example.com",
            "\"a@evil.com\"@corp.com",
            "a@evil.com,b@corp.com",
            "Alice <alice@example.com>",
            "alice@example..com",
            "alice@.example.com",
            "a\u{0}@example.com",
        ] {
            let err = Identity::new(email).expect_err(email);
            assert_eq!(err.kind(), IdentityErrorKind::Invalid, "{email:?}");
        }
        for email in [
            "a\u{7f}@example.com",
            "a\u{85}@example.com",
            "a\u{a0}@example.com",
            "a\u{2028}@example.com",
            "ü@x\u{9f}.com",
            "é@a@b",
        ] {
            assert!(Identity::new(email).is_err(), "{email:?}");
        }
        assert!(Identity::new("é@ü.example").is_ok());
        let long = format!("{}@example.com", "a".repeat(250));
        assert!(Identity::new(long).is_err());
    }

    #[test]
    fn fields_are_checked_wherever_a_string_sits() {
        let alice = Identity::new("alice@example.com")
            .unwrap()
            .with_first_name("Zoë Anne")
            .with_field("groups", serde_json::json!(["beta", "ad\u{200B}min"]))
            .with_field("content", serde_json::json!({"plan": {"tier": "pro\n"}}))
            .with_field("id", 7);
        assert!(alice.checked_field("first_name").is_ok());
        assert!(alice.checked_field("id").is_ok());
        assert_eq!(alice.checked_field("avatar_url"), Ok(None));
        for field in ["groups", "content"] {
            let error = alice.checked_field(field).unwrap_err();
            assert_eq!(error.field(), Some(field));
            assert_eq!(error.kind(), IdentityErrorKind::Invalid);
        }
    }

    #[test]
    fn name_is_the_names_joined_unless_set() {
        let only_last = Identity::new("a@example.com")
            .unwrap()
            .with_last_name("Liddell");
        assert_eq!(only_last.field("name"), Some("Liddell".into()));
        let set = only_last.with_field("name", "Alice L.");
        assert_eq!(set.field("name"), Some("Alice L.".into()));
        let reserved = Identity::new("a@example.com")
            .unwrap()
            .with_field("email", "b@example.com")
            .with_field("first_name", "Alice");
        assert_eq!(reserved.email(), "a@example.com");
        assert_eq!(reserved.first_name(), "Alice");
    }
}
