//! [`WidgetSigner`]: a [`Widget`] checked once, signing its value for one identity: a JWT
//! through the portals' claims engine and [`TokenSigner`], or an HMAC-SHA256 of one field.

use std::fmt;
use std::fmt::Write as _;
use std::time::{SystemTime, UNIX_EPOCH};

use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

use super::builder::{Widget, WidgetFormat};
use crate::error::ConfigError;
use crate::identity::{Identity, IdentityError};
use crate::portal::claim::{self, ClaimError};
use crate::portal::{Claim, ClaimSource};
use crate::secret::{MIN_SECRET_LEN, Secret};
use crate::token::{SignError, TokenSigner};

/// The longest lifetime a widget's value may have where the vendor sets none: 30 days.
const MAX_WIDGET_TTL_SECS: u64 = 30 * 24 * 3600;

/// A widget, checked: signs its value for one identity, exactly as the layer's route
/// answers it. For an app that renders the value into its page on the server instead of
/// having the page fetch it.
///
/// ```
/// use portal_sso::{Identity, Secret, Widget, WidgetSigner, WidgetValue};
///
/// let beacon = WidgetSigner::new(&Widget::helpscout_beacon(Secret::new("the-beacon-secret-key-0123456789ab")))?;
/// let alice = Identity::new("alice@example.com")?;
/// let WidgetValue::Signature { signature, signed, .. } = beacon.sign(&alice)? else { unreachable!() };
/// assert_eq!(signed, "alice@example.com");
/// assert_eq!(signature.len(), 64);
/// assert!(beacon.sign(&alice)?.to_json().starts_with(r#"{"email":"alice@example.com","signature":""#));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct WidgetSigner {
    signing: Signing,
}

#[derive(Clone)]
enum Signing {
    Jwt {
        signer: Box<TokenSigner>,
        claims: Vec<(String, Claim)>,
        token_ttl_secs: u64,
    },
    Hmac {
        key: Secret,
        field: String,
        answer: &'static str,
    },
}

/// What the page is given: the JSON the widget's route answers with.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum WidgetValue {
    /// A JWT widget's token, and when it expires (Unix seconds): the page fetches a new
    /// one before then.
    Token {
        /// The signed JWT.
        token: String,
        /// When the page should stop using it, in seconds since the Unix epoch.
        expires_at: u64,
    },
    /// An HMAC widget's signature and the value it signs, which the page must pass to
    /// the widget exactly as given.
    Signature {
        /// Lower-case hex HMAC-SHA256.
        signature: String,
        /// The name the value is answered under: `email` or `user_id`.
        field: &'static str,
        /// The value that was signed.
        signed: String,
    },
}

impl WidgetValue {
    /// The route's JSON answer: `{"token", "expires_at"}` or `{"signature", "email"}` /
    /// `{"signature", "user_id"}`.
    pub fn to_json(&self) -> String {
        let value = match self {
            WidgetValue::Token { token, expires_at } => {
                json!({"token": token, "expires_at": expires_at})
            }
            WidgetValue::Signature {
                signature,
                field,
                signed,
            } => json!({"signature": signature, *field: signed}),
        };
        value.to_string()
    }
}

impl fmt::Debug for WidgetValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WidgetValue::Token { expires_at, .. } => f
                .debug_struct("Token")
                .field("token", &"REDACTED")
                .field("expires_at", expires_at)
                .finish(),
            WidgetValue::Signature { field, .. } => f
                .debug_struct("Signature")
                .field("signature", &"REDACTED")
                .field("field", field)
                .finish_non_exhaustive(),
        }
    }
}

/// Why no value could be signed for an identity.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum WidgetSignError {
    /// The identity lacks a field the widget needs, or has one that cannot be signed.
    Identity(IdentityError),
    /// Signing failed (no random `jti` could be drawn).
    Sign(SignError),
}

impl fmt::Display for WidgetSignError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WidgetSignError::Identity(error) => write!(f, "{error}"),
            WidgetSignError::Sign(error) => write!(f, "{error}"),
        }
    }
}

impl std::error::Error for WidgetSignError {}

impl WidgetSigner {
    /// Checks `widget` as [`SsoLayerBuilder::build`](crate::SsoLayerBuilder::build) does
    /// (a secret of at least [`MIN_SECRET_LEN`] bytes), naming fields `widget.…`.
    pub fn new(widget: &Widget) -> Result<Self, ConfigError> {
        Self::build(widget, "widget", false)
    }

    /// Checks `widget`, naming fields `field.…`.
    pub(crate) fn build(
        widget: &Widget,
        field: &str,
        allow_short: bool,
    ) -> Result<Self, ConfigError> {
        let fail = |key: &str, problem: String| ConfigError::new(format!("{field}.{key}"), problem);
        let key_name = match widget.format {
            WidgetFormat::Jwt(algorithm) if !algorithm.uses_secret() => "private_key",
            _ => "secret",
        };
        if widget.key.is_empty() {
            return Err(fail(key_name, "is empty".to_owned()));
        }
        let shared = !matches!(widget.format, WidgetFormat::Jwt(alg) if !alg.uses_secret());
        if shared && widget.key.len() < MIN_SECRET_LEN && !allow_short {
            return Err(fail(
                key_name,
                format!(
                    "is {} bytes; at least {MIN_SECRET_LEN} are required (allow_short_secrets overrides)",
                    widget.key.len()
                ),
            ));
        }
        let signing = match widget.format {
            WidgetFormat::HmacSha256 => {
                if !widget.claims.is_empty() {
                    return Err(fail(
                        "claims",
                        "an HMAC widget signs one identity field, not claims".to_owned(),
                    ));
                }
                if widget.key_id.is_some() {
                    return Err(fail("key_id", "only goes with a JWT widget".to_owned()));
                }
                let (Some(signed), Some(answer)) = (&widget.signed_field, widget.answer_field)
                else {
                    return Err(fail(
                        "field",
                        "is required: the identity field to sign".to_owned(),
                    ));
                };
                if signed.is_empty() {
                    return Err(fail("field", "is empty".to_owned()));
                }
                Signing::Hmac {
                    key: widget.key.clone(),
                    field: signed.clone(),
                    answer,
                }
            }
            WidgetFormat::Jwt(algorithm) => {
                check_claims(widget).map_err(|(key, problem)| fail(&key, problem))?;
                let max = widget
                    .preset
                    .and_then(|preset| preset.time_rules().max_age_secs)
                    .unwrap_or(MAX_WIDGET_TTL_SECS);
                if !(1..=max).contains(&widget.token_ttl_secs) {
                    return Err(fail(
                        "token_ttl_secs",
                        format!("must be from 1 to {max} seconds{}", window(widget, max)),
                    ));
                }
                let mut signer = TokenSigner::new(algorithm, &widget.key).map_err(|error| {
                    fail(key_name, format!("{} ({algorithm})", error.problem()))
                })?;
                match &widget.key_id {
                    Some(kid) => {
                        if kid.is_empty() || !kid.bytes().all(|b| b.is_ascii_graphic()) {
                            return Err(fail(
                                "key_id",
                                "must be the key's ID as the vendor shows it (letters, digits, \
                                 no spaces), e.g. \"app_64b9f1e5c9a2d70021e4a3b8\""
                                    .to_owned(),
                            ));
                        }
                        signer = signer.with_key_id(kid);
                    }
                    None if needs_key_id(widget) => {
                        return Err(fail(
                            "key_id",
                            format!(
                                "is required for kind \"{}\": the key's ID as the vendor shows it, \
                                 e.g. \"app_64b9f1e5c9a2d70021e4a3b8\"",
                                widget.kind()
                            ),
                        ));
                    }
                    None => {}
                }
                Signing::Jwt {
                    signer: Box::new(signer),
                    claims: widget.claims.clone(),
                    token_ttl_secs: widget.token_ttl_secs,
                }
            }
        };
        Ok(Self { signing })
    }

    /// The value for `identity`, signed now.
    pub fn sign(&self, identity: &Identity) -> Result<WidgetValue, WidgetSignError> {
        self.sign_at(identity, SystemTime::now())
    }

    fn sign_at(
        &self,
        identity: &Identity,
        now: SystemTime,
    ) -> Result<WidgetValue, WidgetSignError> {
        match &self.signing {
            Signing::Jwt {
                signer,
                claims,
                token_ttl_secs,
            } => {
                let context = claim::Context {
                    param: |_: &str| None::<&str>,
                    token_ttl_secs: *token_ttl_secs,
                    target_origin: "",
                    now,
                };
                let claims =
                    claim::render(claims, identity, &context).map_err(|error| match error {
                        ClaimError::Identity(error) => WidgetSignError::Identity(error),
                        ClaimError::Sign(error) => WidgetSignError::Sign(error),
                    })?;
                let token = signer.sign(&claims).map_err(WidgetSignError::Sign)?;
                let since = now.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs();
                Ok(WidgetValue::Token {
                    token,
                    expires_at: since.saturating_add(*token_ttl_secs),
                })
            }
            Signing::Hmac { key, field, answer } => {
                let signed = signed_text(identity, field).map_err(WidgetSignError::Identity)?;
                // HMAC takes a key of any length: this cannot fail.
                let mut mac = Hmac::<Sha256>::new_from_slice(key.expose())
                    .map_err(|_| WidgetSignError::Sign(SignError))?;
                mac.update(signed.as_bytes());
                let mut signature = String::with_capacity(64);
                for byte in mac.finalize().into_bytes() {
                    let _ = write!(signature, "{byte:02x}");
                }
                Ok(WidgetValue::Signature {
                    signature,
                    field: answer,
                    signed,
                })
            }
        }
    }
}

impl fmt::Debug for WidgetSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.signing {
            Signing::Jwt { signer, .. } => f
                .debug_struct("WidgetSigner")
                .field("signer", signer)
                .finish_non_exhaustive(),
            Signing::Hmac { field, .. } => f
                .debug_struct("WidgetSigner")
                .field("hmac_of", field)
                .field("key", &"REDACTED")
                .finish(),
        }
    }
}

/// A JWT widget's claims: some, each named, none taking what the widget's route does not
/// have (a request parameter, a target origin).
fn check_claims(widget: &Widget) -> Result<(), (String, String)> {
    if widget.signed_field.is_some() {
        return Err((
            "field".to_owned(),
            "only goes with an HMAC widget".to_owned(),
        ));
    }
    if widget.claims.is_empty() {
        return Err((
            "claims".to_owned(),
            "is empty: a token needs claims".to_owned(),
        ));
    }
    for (name, claim) in &widget.claims {
        if name.is_empty() {
            return Err(("claims".to_owned(), "has a claim without a name".to_owned()));
        }
        let problem = match claim.source() {
            ClaimSource::Param { .. } => {
                "takes a request parameter, which a widget's route does not read"
            }
            ClaimSource::TargetOrigin => "takes the target's origin, which a widget has none of",
            _ => continue,
        };
        return Err((format!("claims.{name}"), problem.to_owned()));
    }
    Ok(())
}

/// Whether the widget's vendor names its keys and so needs a `kid`.
fn needs_key_id(widget: &Widget) -> bool {
    widget.preset.is_some_and(|preset| {
        preset
            .settings()
            .contains(&crate::portal::WidgetSetting::KeyId)
    })
}

/// ` (Kustomer Chat refuses a token over 15 minutes old)`, when the bound is the vendor's.
fn window(widget: &Widget, max: u64) -> String {
    match widget.preset {
        Some(preset) if max < MAX_WIDGET_TTL_SECS => format!(
            ": {} refuses a token whose iat is older than {} minutes",
            preset.vendor(),
            max / 60
        ),
        _ => " (30 days)".to_owned(),
    }
}

/// The identity field an HMAC widget signs, as text: a string as it is, a number in
/// decimal; missing or empty, or of another type, it is refused naming the field.
fn signed_text(identity: &Identity, field: &str) -> Result<String, IdentityError> {
    let spoken = field.replace('_', " ");
    match identity.checked_field(field)? {
        Some(Value::String(text)) if !text.is_empty() => Ok(text),
        Some(Value::Number(number)) => Ok(number.to_string()),
        None | Some(Value::String(_)) => Err(IdentityError::invalid(format!(
            "the account has no {spoken}, which this widget needs"
        ))
        .in_field(field.to_owned())),
        Some(_) => Err(IdentityError::invalid(format!(
            "the {spoken} is neither a string nor a number"
        ))
        .in_field(field.to_owned())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::token::JwtAlgorithm;
    use std::time::Duration;

    fn alice() -> Identity {
        Identity::new("alice@example.com")
            .unwrap()
            .with_field("id", 42)
    }

    #[test]
    fn an_hmac_is_the_lower_case_hex_of_the_field_and_numbers_are_signed_in_decimal() {
        // RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?".
        let widget = Widget::hmac(Secret::new("Jefe"), "question");
        let signer = WidgetSigner::build(&widget, "widget", true).unwrap();
        let asker = alice().with_field("question", "what do ya want for nothing?");
        let WidgetValue::Signature {
            signature,
            field,
            signed,
        } = signer.sign(&asker).unwrap()
        else {
            panic!("an HMAC widget signs a signature");
        };
        assert_eq!(
            signature,
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        assert_eq!(
            (field, signed.as_str()),
            ("user_id", "what do ya want for nothing?")
        );
        let by_id = Widget::hmac(Secret::new("k".repeat(32)), "id");
        let value = WidgetSigner::new(&by_id).unwrap().sign(&alice()).unwrap();
        assert!(
            value.to_json().ends_with(r#","user_id":"42"}"#),
            "{}",
            value.to_json()
        );
    }

    #[test]
    fn an_hmac_widget_refuses_a_missing_empty_or_structured_field() {
        let signer = WidgetSigner::new(&Widget::hmac(Secret::new("k".repeat(32)), "id")).unwrap();
        for identity in [
            Identity::new("bob@example.com").unwrap(),
            Identity::new("bob@example.com")
                .unwrap()
                .with_field("id", ""),
            Identity::new("bob@example.com")
                .unwrap()
                .with_field("id", json!(["1"])),
        ] {
            match signer.sign(&identity) {
                Err(WidgetSignError::Identity(error)) => assert_eq!(error.field(), Some("id")),
                other => panic!("{other:?}"),
            }
        }
    }

    #[test]
    fn a_jwt_widget_expires_after_its_lifetime_and_its_value_prints_redacted() {
        let widget = Widget::jwt(JwtAlgorithm::HS256, Secret::new("k".repeat(32)))
            .with_claim("email", Claim::identity("email"))
            .with_token_ttl_secs(120);
        let signer = WidgetSigner::new(&widget).unwrap();
        let at = UNIX_EPOCH + Duration::from_secs(1_763_700_000);
        let value = signer.sign_at(&alice(), at).unwrap();
        let WidgetValue::Token { token, expires_at } = &value else {
            panic!("a JWT widget signs a token");
        };
        assert_eq!(*expires_at, 1_763_700_120);
        let shown = format!("{value:?} {signer:?}");
        assert!(
            !shown.contains(token.as_str()) && shown.contains("REDACTED"),
            "{shown}"
        );
    }

    #[test]
    fn claims_a_widget_cannot_fill_are_refused_by_name() {
        let base = || Widget::jwt(JwtAlgorithm::HS256, Secret::new("k".repeat(32)));
        for (widget, key) in [
            (base(), "widget.claims"),
            (
                base().with_claim("nonce", Claim::param("nonce")),
                "widget.claims.nonce",
            ),
            (
                base().with_claim("aud", Claim::target_origin()),
                "widget.claims.aud",
            ),
            (
                base()
                    .with_claim("email", Claim::identity("email"))
                    .with_token_ttl_secs(0),
                "widget.token_ttl_secs",
            ),
        ] {
            assert_eq!(WidgetSigner::new(&widget).unwrap_err().field(), key);
        }
        let short = Widget::hmac(Secret::new("short"), "email");
        assert_eq!(
            WidgetSigner::new(&short).unwrap_err().field(),
            "widget.secret"
        );
    }
}
