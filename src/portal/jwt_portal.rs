//! [`JwtPortal`]: one portal described as data, the engine's builder. The vendors'
//! constructors (`JwtPortal::zendesk`, ...) are in their own files and start from here.

// Vendor names (GitBook, HelpDocs, ReadMe) are prose here, not code.
#![allow(clippy::doc_markdown)]

use super::claim::{Claim, PassParam, Source, TokenIn};
use super::preset::Preset;
use crate::secret::Secret;
use crate::token::JwtAlgorithm;

/// The token lifetime of [`JwtPortal::new`] and most presets: one hour.
pub const DEFAULT_TOKEN_TTL_SECS: u64 = 3600;

/// The kind of a portal described field by field rather than by a preset.
pub const CUSTOM_KIND: &str = "jwt";

/// One portal that signs a JWT for the signed-in user and sends the browser back with it:
/// the algorithm and key, the claims, where the browser goes, how the token travels and
/// which request parameters come back. Every vendor is a constructor filling these in
/// (`JwtPortal::zendesk`, `JwtPortal::gitbook`, ...); `new` starts an empty one for a
/// portal no preset covers. [`SsoLayerBuilder::build`](crate::SsoLayerBuilder::build)
/// checks it.
///
/// ```
/// use portal_sso::{Claim, JwtAlgorithm, JwtPortal, PassParam, Secret, TimeUnit, TokenIn};
///
/// // HelpCenter.io: `/sso/jwt?jwt=<token>` on the help center, HS256.
/// let portal = JwtPortal::new(JwtAlgorithm::HS256, Secret::new("the-help-center-secret-0123456789"))
///     .with_name("helpcenter")
///     .with_path("/sso/helpcenter")
///     .with_callback_url("https://help.acme.example/sso/jwt")
///     .with_token_param("jwt")
///     .with_token_in(TokenIn::Query)
///     .with_claim("email", Claim::identity("email"))
///     .with_claim("name", Claim::identity_if_known("name"))
///     .with_claim("iat", Claim::time(TimeUnit::Seconds, 0))
///     .with_pass_param(PassParam::path("return_to"));
/// assert_eq!(portal.required_fields(), ["email"]);
/// ```
#[derive(Debug, Clone)]
#[must_use]
pub struct JwtPortal {
    pub(crate) preset: Option<&'static Preset>,
    pub(crate) name: String,
    pub(crate) path: String,
    pub(crate) algorithm: JwtAlgorithm,
    pub(crate) key: Secret,
    pub(crate) callback_url: Option<String>,
    pub(crate) target_param: Option<String>,
    pub(crate) path_param: Option<String>,
    pub(crate) redirect_origins: Vec<String>,
    pub(crate) default_redirect: Option<String>,
    pub(crate) token_param: String,
    pub(crate) token_in: TokenIn,
    pub(crate) pass_params: Vec<PassParam>,
    pub(crate) claims: Vec<(String, Claim)>,
    pub(crate) token_ttl_secs: u64,
    pub(crate) logout_path: LogoutPath,
    pub(crate) logout_redirect: String,
    pub(crate) portal_logout_url: Option<String>,
    pub(crate) logout_errors: bool,
    pub(crate) form_action_origins: Vec<String>,
    pub(crate) pinned_params: Vec<(String, String)>,
}

/// Where a portal's "Remote logout URL" route is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum LogoutPath {
    /// No such route.
    Off,
    /// `<path>/logout`, following the login route: two portals of one kind on their own
    /// paths get a logout route each.
    UnderPath,
    /// This path.
    At(String),
}

impl JwtPortal {
    /// A portal of kind `jwt` on `/sso/jwt` signing with `algorithm`: `key` is the shared
    /// secret for HS256/384/512 and a PEM private key for RS256, ES256 and `EdDSA`. It has
    /// no claims and no target yet: give it claims and a
    /// [`callback_url`](JwtPortal::with_callback_url) or a
    /// [`target_param`](JwtPortal::with_target_param).
    pub fn new(algorithm: JwtAlgorithm, key: Secret) -> Self {
        Self::made(None, algorithm, key)
    }

    /// A portal of `preset`'s kind, named so, on `/sso/<kind>`, with the defaults each
    /// setter names: where a vendor file starts.
    pub(super) fn of(preset: &'static Preset, key: Secret) -> Self {
        Self::made(Some(preset), preset.algorithm(), key)
    }

    fn made(preset: Option<&'static Preset>, algorithm: JwtAlgorithm, key: Secret) -> Self {
        let kind = preset.map_or(CUSTOM_KIND, Preset::kind);
        Self {
            preset,
            name: kind.to_owned(),
            path: format!("/sso/{kind}"),
            algorithm,
            key,
            callback_url: None,
            target_param: None,
            path_param: None,
            redirect_origins: Vec::new(),
            default_redirect: None,
            token_param: "jwt".to_owned(),
            token_in: TokenIn::Query,
            pass_params: Vec::new(),
            claims: Vec::new(),
            token_ttl_secs: DEFAULT_TOKEN_TTL_SECS,
            logout_path: LogoutPath::Off,
            logout_redirect: "/".to_owned(),
            portal_logout_url: None,
            logout_errors: false,
            form_action_origins: Vec::new(),
            pinned_params: Vec::new(),
        }
    }

    /// Sets the name used in events and metrics. Default: the kind (`jwt`, `zendesk`...).
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// Sets the login route the portal sends the browser to. Default: `/sso/<kind>`.
    pub fn with_path(mut self, path: impl Into<String>) -> Self {
        self.path = path.into();
        self
    }

    /// Sets the algorithm, keeping the key (Mintlify moved from ES256 to `EdDSA` once
    /// already). Default: the preset's, or the one given to [`new`](JwtPortal::new).
    pub fn with_algorithm(mut self, algorithm: JwtAlgorithm) -> Self {
        self.algorithm = algorithm;
        self
    }

    /// Sets the fixed address the browser is sent to with the token. Default: the
    /// preset's argument, or none.
    pub fn with_callback_url(mut self, url: impl Into<String>) -> Self {
        self.callback_url = Some(url.into());
        self
    }

    /// Takes the address the browser is sent to from this request parameter instead of a
    /// fixed callback (Kustomer's `kustomerRedirectUri`, Frill's `redirect`). Default: none.
    ///
    /// # Security
    /// The address must be on one of [`redirect_origins`](JwtPortal::with_redirect_origins),
    /// under the same rules `kustomerRedirectUri` is checked by, and must not already carry
    /// a parameter the sign-in adds; otherwise the answer is a 400 page and nothing is
    /// signed.
    pub fn with_target_param(mut self, name: impl Into<String>) -> Self {
        self.target_param = Some(name.into());
        self
    }

    /// Joins the same-site path in this request parameter to the callback URL (GitBook's
    /// `location`): `https://docs.acme.com` and `location=guides/setup` send the browser to
    /// `https://docs.acme.com/guides/setup`. A value that is not a plain path is left out
    /// and the callback itself is used. Default: none.
    pub fn with_path_param(mut self, name: impl Into<String>) -> Self {
        self.path_param = Some(name.into());
        self
    }

    /// Sets the origins a request-supplied address may be on (the target parameter and
    /// [`PassParam::url`] parameters), e.g. `https://acme.frill.co`. Default: none.
    ///
    /// # Security
    /// Each entry is an exact origin; `https://*.example.com` allows any subdomain and
    /// only when written so.
    pub fn with_redirect_origins<I, T>(mut self, origins: I) -> Self
    where
        I: IntoIterator<Item = T>,
        T: Into<String>,
    {
        self.redirect_origins = origins.into_iter().map(Into::into).collect();
        self
    }

    /// Sets where the browser goes when the request has no target parameter. It must be
    /// on the redirect origins. Default: none (such requests get a 400).
    pub fn with_default_redirect(mut self, url: impl Into<String>) -> Self {
        self.default_redirect = Some(url.into());
        self
    }

    /// Sets the name the token travels under (`jwt`, `ssoToken`, `id_token`...). With
    /// [`TokenIn::Fragment`] an empty name puts the bare token in the fragment.
    /// Default: the preset's, else `jwt`.
    pub fn with_token_param(mut self, name: impl Into<String>) -> Self {
        self.token_param = name.into();
        self
    }

    /// Sets how the token travels. Default: the preset's, else [`TokenIn::Query`].
    pub fn with_token_in(mut self, token_in: TokenIn) -> Self {
        self.token_in = token_in;
        self
    }

    /// Adds a request parameter to carry back beside the token (replacing one of the same
    /// name). Default: the preset's, else none.
    pub fn with_pass_param(mut self, param: PassParam) -> Self {
        self.pass_params.retain(|p| p.name != param.name);
        self.pass_params.push(param);
        self
    }

    /// Removes the carried-back parameter `name`.
    pub fn without_pass_param(mut self, name: &str) -> Self {
        self.pass_params.retain(|p| p.name != name);
        self
    }

    /// Adds the claim `name` (replacing one of the same name). Default: the preset's
    /// claims, else none.
    ///
    /// # Security
    /// A claim that grants privileges (`role`, `isAdmin`, ...) should be a
    /// [`Claim::value`] or a [`Claim::identity`] field the app sets; it is refused at build
    /// time as a [`Claim::param`].
    pub fn with_claim(mut self, name: impl Into<String>, claim: Claim) -> Self {
        crate::portal::claim::set(&mut self.claims, name.into(), claim);
        self
    }

    /// Removes the claim `name`.
    pub fn without_claim(mut self, name: &str) -> Self {
        self.claims.retain(|(taken, _)| taken != name);
        self
    }

    /// Sets the `aud` claim to `audience` (HelpDocs wants the docs site's origin).
    /// Default: the preset's, else no `aud`.
    pub fn with_audience(self, audience: impl Into<String>) -> Self {
        self.with_claim("aud", Claim::value(audience.into()))
    }

    /// Sets the lifetime [`Claim::expiry`] adds to the time of signing, from 1 second to
    /// 30 days. Default: 3600 (GitBook: 7200, as its sample sets).
    pub fn with_token_ttl_secs(mut self, secs: u64) -> Self {
        self.token_ttl_secs = secs;
        self
    }

    /// Sets the portal's "Remote logout URL" route, which ends the app session, or `None`
    /// for no such route. Default: for the presets with one (Aha!, Zendesk) the login
    /// route followed by `/logout` (`/sso/aha/logout`), else none.
    pub fn with_logout_path(mut self, path: Option<impl Into<String>>) -> Self {
        self.logout_path = path.map_or(LogoutPath::Off, |path| LogoutPath::At(path.into()));
        self
    }

    /// Gives the portal a remote logout route under its login route, as
    /// [`with_logout_path`](JwtPortal::with_logout_path) says.
    pub(super) fn with_logout_under_path(mut self) -> Self {
        self.logout_path = LogoutPath::UnderPath;
        self
    }

    /// Pins the carried-back parameter `name` to `value` (Canny's `companyID`): a request
    /// naming another value is refused with a 400 page and nothing is signed, and the
    /// portal is sent `value` whether the request named it or not. `name` must be one of
    /// the portal's [pass params](JwtPortal::with_pass_param). Default: none.
    pub fn with_pinned_param(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        let name = name.into();
        self.pinned_params.retain(|(taken, _)| *taken != name);
        self.pinned_params.push((name, value.into()));
        self
    }

    /// Sets the page the remote logout route lands on: a path of the app or an absolute
    /// URL, never taken from the request. Default: `/`.
    pub fn with_logout_redirect(mut self, url: impl Into<String>) -> Self {
        self.logout_redirect = url.into();
        self
    }

    /// Sets the portal's own logout URL, where the browser is sent after the app's own
    /// logout when [`SsoLayerBuilder::with_app_logout_path`] is set. Default: none.
    ///
    /// [`SsoLayerBuilder::with_app_logout_path`]: crate::SsoLayerBuilder::with_app_logout_path
    pub fn with_portal_logout_url(mut self, url: impl Into<String>) -> Self {
        self.portal_logout_url = Some(url.into());
        self
    }

    /// Reads `kind=error&message=…` on the remote logout route as the portal reporting a
    /// failed sign-in, as Zendesk does: the message is shown on a page and recorded as a
    /// `portal_error` event; the session is kept and no new sign-in starts, which could
    /// only fail the same way again. Default: the preset's (Zendesk: on), else off.
    pub fn with_logout_errors(mut self, on: bool) -> Self {
        self.logout_errors = on;
        self
    }

    /// Adds origins a [`TokenIn::FormPost`] page may post to besides the target's own
    /// (the form's `Content-Security-Policy: form-action`, which browsers also apply to
    /// the redirects that follow the post: a Zendesk help center on a host-mapped domain).
    /// Default: none.
    pub fn with_form_action_origins<I, T>(mut self, origins: I) -> Self
    where
        I: IntoIterator<Item = T>,
        T: Into<String>,
    {
        self.form_action_origins = origins.into_iter().map(Into::into).collect();
        self
    }

    /// The preset this portal was made from (`zendesk`, `kustomer`...), or `jwt`.
    pub fn kind(&self) -> &'static str {
        self.preset.map_or(CUSTOM_KIND, Preset::kind)
    }

    /// The preset this portal was made from; `None` for one described field by field.
    pub fn preset(&self) -> Option<&'static Preset> {
        self.preset
    }

    /// The name the token travels under (empty: the bare token in the fragment).
    pub fn token_param(&self) -> &str {
        &self.token_param
    }

    /// How the token travels.
    pub fn token_in(&self) -> TokenIn {
        self.token_in
    }

    /// The request parameter the target comes in, when the request supplies it.
    pub fn target_param(&self) -> Option<&str> {
        self.target_param.as_deref()
    }

    /// The request parameter whose same-site path is joined to the callback, if any.
    pub fn path_param(&self) -> Option<&str> {
        self.path_param.as_deref()
    }

    /// The request parameters carried back beside the token.
    pub fn pass_params(&self) -> &[PassParam] {
        &self.pass_params
    }

    /// The claims, named, in the order they are signed.
    pub fn claims(&self) -> impl Iterator<Item = (&str, &Claim)> {
        self.claims
            .iter()
            .map(|(name, claim)| (name.as_str(), claim))
    }

    /// The lifetime [`Claim::expiry`] adds, in seconds.
    pub fn token_ttl_secs(&self) -> u64 {
        self.token_ttl_secs
    }

    /// The remote logout route, if the portal has one.
    pub fn logout_path(&self) -> Option<String> {
        match &self.logout_path {
            LogoutPath::Off => None,
            LogoutPath::UnderPath => Some(format!("{}/logout", self.path.trim_end_matches('/'))),
            LogoutPath::At(path) => Some(path.clone()),
        }
    }

    /// The name used in events and metrics.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The login route.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The signing algorithm.
    pub fn algorithm(&self) -> JwtAlgorithm {
        self.algorithm
    }

    /// The fixed callback URL, when the portal has one.
    pub fn callback_url(&self) -> Option<&str> {
        self.callback_url.as_deref()
    }

    /// The configured redirect origins.
    pub fn redirect_origins(&self) -> &[String] {
        &self.redirect_origins
    }

    /// The identity fields every sign-in needs, in claim order: an identity without one
    /// of them is refused with a 403 page naming it. `email`, `first_name` and
    /// `last_name` are always known (names may be empty); `name` is the names joined
    /// unless the app sets it. A config checker can compare this with the fields its
    /// session source maps ([`ClaimPointers::supplies`](crate::ClaimPointers::supplies)).
    ///
    /// ```
    /// use portal_sso::{JwtPortal, Secret};
    ///
    /// let aha = JwtPortal::aha(Secret::new("an-aha-jwt-shared-secret-0123456789"), "https://acme.aha.site/auth/jwt/callback");
    /// assert_eq!(aha.required_fields(), ["first_name", "last_name", "email"]);
    /// ```
    pub fn required_fields(&self) -> Vec<&str> {
        let mut fields: Vec<&str> = Vec::new();
        for (_, claim) in &self.claims {
            if let Source::Identity {
                field,
                required: true,
                ..
            } = &claim.source
                && !fields.contains(&field.as_str())
            {
                fields.push(field);
            }
        }
        fields
    }
}
