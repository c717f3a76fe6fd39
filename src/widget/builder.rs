//! [`Widget`]: one in-app widget described as data. The vendors' constructors
//! (`Widget::kustomer_chat`, ...) are in their own files and start from here.

use crate::portal::{CUSTOM_KIND, Claim, ClaimSource, WidgetPreset};
use crate::secret::Secret;
use crate::token::JwtAlgorithm;

/// The lifetime of a JWT widget's value unless its preset or
/// [`with_token_ttl_secs`](Widget::with_token_ttl_secs) says otherwise: ten minutes.
pub const DEFAULT_WIDGET_TTL_SECS: u64 = 600;

/// The kind of an HMAC widget described field by field rather than by a preset.
pub const HMAC_KIND: &str = "hmac";

/// What a widget's value is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum WidgetFormat {
    /// A JWT of the widget's claims under this algorithm; the page is given the token
    /// and when it expires.
    Jwt(JwtAlgorithm),
    /// The lower-case hex HMAC-SHA256 of one identity field with the shared secret; the
    /// page is given the signature and the value that was signed. Such a value never
    /// expires: the vendor checks it against the identifier, not against a time.
    HmacSha256,
}

/// One in-app widget: the key, what is signed for the signed-in user, and the route the
/// page fetches it from. Every vendor is a constructor filling these in
/// (`Widget::kustomer_chat`, `Widget::helpscout_beacon`, ...); [`Widget::jwt`] and
/// [`Widget::hmac`] start one no preset covers.
/// [`SsoLayerBuilder::build`](crate::SsoLayerBuilder::build) checks it.
///
/// ```
/// use portal_sso::{Claim, JwtAlgorithm, Secret, TimeUnit, Widget};
///
/// // A chat widget that takes `{"sub", "email", "exp"}` under HS256.
/// let widget = Widget::jwt(JwtAlgorithm::HS256, Secret::new("the-chat-vendors-secret-0123456789"))
///     .with_name("chat")
///     .with_path("/sso/widget/chat")
///     .with_claim("sub", Claim::identity("id").as_string())
///     .with_claim("email", Claim::identity("email"))
///     .with_claim("exp", Claim::expiry(TimeUnit::Seconds))
///     .with_token_ttl_secs(300);
/// assert_eq!(widget.required_fields(), ["id", "email"]);
///
/// // A widget that takes the hex HMAC-SHA256 of the email.
/// let beacon = Widget::hmac(Secret::new("the-beacon-secret-key-0123456789ab"), "email");
/// assert_eq!(beacon.kind(), "hmac");
/// assert_eq!(beacon.answer_field(), Some("email"));
/// ```
#[derive(Debug, Clone)]
#[must_use]
pub struct Widget {
    pub(crate) preset: Option<&'static WidgetPreset>,
    pub(crate) name: String,
    pub(crate) path: String,
    pub(crate) key: Secret,
    pub(crate) format: WidgetFormat,
    pub(crate) claims: Vec<(String, Claim)>,
    pub(crate) key_id: Option<String>,
    pub(crate) token_ttl_secs: u64,
    /// The identity field an HMAC widget signs.
    pub(crate) signed_field: Option<String>,
    /// The name the signed value is answered under (`email`, `user_id`).
    pub(crate) answer_field: Option<&'static str>,
}

impl Widget {
    /// A JWT widget of kind `jwt` on `/sso/widget/jwt` signing with `algorithm`: `key` is
    /// the shared secret for HS256/384/512 and a PEM private key for RS256, ES256 and
    /// `EdDSA`. It has no claims yet: give it some with
    /// [`with_claim`](Widget::with_claim). A claim may not take a request parameter or a
    /// target origin: the widget's route reads neither.
    pub fn jwt(algorithm: JwtAlgorithm, key: Secret) -> Self {
        Self::made(None, WidgetFormat::Jwt(algorithm), key)
    }

    /// An HMAC widget of kind `hmac` on `/sso/widget/hmac`: the lower-case hex
    /// HMAC-SHA256 of the identity field `field` (a string, or a number written in
    /// decimal) with `secret`. The page is given `{"signature", "email"}` when the email
    /// is signed and `{"signature", "user_id"}` for any other field.
    pub fn hmac(secret: Secret, field: impl Into<String>) -> Self {
        let field = field.into();
        let answer = if field == "email" { "email" } else { "user_id" };
        let mut widget = Self::made(None, WidgetFormat::HmacSha256, secret);
        widget.signed_field = Some(field);
        widget.answer_field = Some(answer);
        widget
    }

    /// A widget of `preset`'s kind and format on `/sso/widget/<kind>`: where a vendor
    /// file starts.
    pub(crate) fn of(preset: &'static WidgetPreset, key: Secret) -> Self {
        Self::made(Some(preset), preset.format(), key)
    }

    fn made(preset: Option<&'static WidgetPreset>, format: WidgetFormat, key: Secret) -> Self {
        let kind = match (preset, format) {
            (Some(preset), _) => preset.kind(),
            (None, WidgetFormat::Jwt(_)) => CUSTOM_KIND,
            (None, WidgetFormat::HmacSha256) => HMAC_KIND,
        };
        Self {
            preset,
            name: kind.to_owned(),
            path: format!("/sso/widget/{kind}"),
            key,
            format,
            claims: Vec::new(),
            key_id: None,
            token_ttl_secs: DEFAULT_WIDGET_TTL_SECS,
            signed_field: None,
            answer_field: None,
        }
    }

    /// An HMAC preset signing `field`, answered under `answer`.
    pub(crate) fn signing(mut self, field: &str, answer: &'static str) -> Self {
        self.signed_field = Some(field.to_owned());
        self.answer_field = Some(answer);
        self
    }

    /// Sets the name used in events and metrics. Default: the kind.
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// Sets the route the page fetches the value from. Default: `/sso/widget/<kind>`.
    pub fn with_path(mut self, path: impl Into<String>) -> Self {
        self.path = path.into();
        self
    }

    /// Adds the claim `name` of a JWT widget (replacing one of the same name). Default:
    /// the preset's claims, else none. An HMAC widget takes none.
    pub fn with_claim(mut self, name: impl Into<String>, claim: Claim) -> Self {
        crate::portal::claim::set(&mut self.claims, name.into(), claim);
        self
    }

    /// Removes the claim `name`.
    pub fn without_claim(mut self, name: &str) -> Self {
        self.claims.retain(|(taken, _)| taken != name);
        self
    }

    /// Sets the `kid` of a JWT widget's header: the key's ID as the vendor shows it
    /// (Zendesk's `app_…`). Default: none (Zendesk messaging requires one).
    pub fn with_key_id(mut self, key_id: impl Into<String>) -> Self {
        self.key_id = Some(key_id.into());
        self
    }

    /// Sets how long a JWT widget's value lasts: its `exp` claim, if it has one, and the
    /// `expires_at` the page is given, from 1 second to the vendor's window (Kustomer
    /// Chat: 15 minutes) or 30 days. Default: the preset's, else 600.
    pub fn with_token_ttl_secs(mut self, secs: u64) -> Self {
        self.token_ttl_secs = secs;
        self
    }

    /// The preset this widget was made from (`kustomer-chat`...), or `jwt` / `hmac`.
    pub fn kind(&self) -> &'static str {
        match (self.preset, self.format) {
            (Some(preset), _) => preset.kind(),
            (None, WidgetFormat::Jwt(_)) => CUSTOM_KIND,
            (None, WidgetFormat::HmacSha256) => HMAC_KIND,
        }
    }

    /// The preset this widget was made from; `None` for one described field by field.
    pub fn preset(&self) -> Option<&'static WidgetPreset> {
        self.preset
    }

    /// The name used in events and metrics.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The route the page fetches the value from.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// What the widget's value is.
    pub fn format(&self) -> WidgetFormat {
        self.format
    }

    /// A JWT widget's claims, named, in the order they are signed.
    pub fn claims(&self) -> impl Iterator<Item = (&str, &Claim)> {
        self.claims
            .iter()
            .map(|(name, claim)| (name.as_str(), claim))
    }

    /// The `kid` a JWT widget's header carries, if any.
    pub fn key_id(&self) -> Option<&str> {
        self.key_id.as_deref()
    }

    /// How long a JWT widget's value lasts, in seconds.
    pub fn token_ttl_secs(&self) -> u64 {
        self.token_ttl_secs
    }

    /// The identity field an HMAC widget signs.
    pub fn signed_field(&self) -> Option<&str> {
        self.signed_field.as_deref()
    }

    /// The name an HMAC widget's signed value is answered under: `email` or `user_id`.
    pub fn answer_field(&self) -> Option<&'static str> {
        self.answer_field
    }

    /// The identity fields every value needs, in claim order: a user without one of them
    /// is refused (403, `identity_rejected`). A config checker compares this with the
    /// fields its session source maps
    /// ([`ClaimPointers::supplies`](crate::ClaimPointers::supplies)).
    pub fn required_fields(&self) -> Vec<&str> {
        let mut fields: Vec<&str> = self.signed_field.as_deref().into_iter().collect();
        for (_, claim) in &self.claims {
            if let ClaimSource::Identity {
                field,
                required: true,
                ..
            } = claim.source()
                && !fields.contains(&field)
            {
                fields.push(field);
            }
        }
        fields
    }

    /// The name `field` reaches the vendor under: the claim that carries it, or the
    /// answer's name for an HMAC widget; for messages that name both.
    pub fn carried_as<'w>(&'w self, field: &str) -> Option<&'w str> {
        if self.signed_field.as_deref() == Some(field) {
            return self.answer_field;
        }
        self.claims
            .iter()
            .find_map(|(name, claim)| match claim.source() {
                ClaimSource::Identity { field: taken, .. } if taken == field => Some(name.as_str()),
                _ => None,
            })
    }
}
