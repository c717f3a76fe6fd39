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

use std::fmt;
use std::future::Future;

use http::request::Parts;

pub use claims::ClaimPointers;
pub use cookies::{find_cookie, find_cookies};
pub use jwt_cookie::JwtCookie;
pub use signed_cookie::{SignedCookie, SignedCookieMode};

/// The longest email address accepted, as RFC 5321 limits a forward path.
const MAX_EMAIL_LEN: usize = 254;

/// A signed-in user as the portals see them.
///
/// The email is required and must be exactly one plain address; names default to empty
/// strings, which both vendors accept.
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

    /// Checks every field that goes into a claim: no control or invisible character
    /// (zero-width space, soft hyphen, bidi override, tag characters...) and no white
    /// space but the plain space in names, so that no account can pass for another on
    /// the portal. The email was checked when the identity was made.
    pub(crate) fn check_fields(&self) -> Result<(), IdentityError> {
        for (field, value) in [
            ("first_name", &self.first_name),
            ("last_name", &self.last_name),
        ] {
            let odd = |c: char| {
                crate::text::is_control_or_invisible(c) || (c.is_whitespace() && c != ' ')
            };
            if let Some(c) = value.chars().find(|&c| odd(c)) {
                return Err(IdentityError::invalid(format!(
                    "the {} contains a control, invisible or unusual space character (U+{:04X})",
                    field.replace('_', " "),
                    u32::from(c)
                ))
                .in_field(field));
            }
        }
        Ok(())
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
    field: Option<&'static str>,
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
    pub fn in_field(mut self, field: &'static str) -> Self {
        self.field = Some(field);
        self
    }

    /// The identity field the error is about, when it is about one.
    pub fn field(&self) -> Option<&'static str> {
        self.field
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
}
