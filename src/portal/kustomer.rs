//! Kustomer custom sign-on.
//!
//! The portal sends the browser to
//! `/sso/kustomer?trackingToken=UNSIGNED_JWT&kustomerRedirectUri=URL`. `trackingToken` is
//! ignored. The user's email is signed as `{"email", "iat"}` (HS256, `typ: JWT`) and the
//! browser is sent to `kustomerRedirectUri` (or the configured default) with
//! `externalToken=<jwt>` added to its query.

use std::borrow::Cow;
use std::fmt;
use std::sync::{Arc, Mutex};

use serde::Serialize;
use url::Url;

use super::{Refusal, carries_param};
use crate::error::ConfigError;
use crate::identity::Identity;
use crate::query;
#[cfg(doc)]
use crate::redirect::append_query_param;
use crate::redirect::{RedirectOrigins, query_param_place};
use crate::secret::Secret;
use crate::token::{SignError, Signer};

/// The route Kustomer's "Redirect URI" points at, unless [`KustomerPortal::with_path`]
/// says otherwise.
pub const DEFAULT_PATH: &str = "/sso/kustomer";

/// Settings for one Kustomer knowledge-base portal (one brand).
///
/// ```
/// use portal_sso::{KustomerPortal, Secret};
///
/// let portal = KustomerPortal::new(Secret::new("the-knowledge-base-secret-from-kustomer"))
///     .with_redirect_origins(["https://acme.kustomer.help"])
///     .with_default_redirect("https://acme.kustomer.help/login");
/// # let _ = portal;
/// ```
#[derive(Debug, Clone)]
pub struct KustomerPortal {
    pub(crate) name: String,
    pub(crate) path: String,
    pub(crate) secret: Secret,
    pub(crate) redirect_origins: Vec<String>,
    pub(crate) default_redirect: Option<String>,
}

impl KustomerPortal {
    /// A portal signing with `secret`, the value in the `attributes` of Kustomer's
    /// `/v1/auth/kb/:id/settings` answer.
    pub fn new(secret: Secret) -> Self {
        Self {
            name: "kustomer".to_owned(),
            path: DEFAULT_PATH.to_owned(),
            secret,
            redirect_origins: Vec::new(),
            default_redirect: None,
        }
    }

    /// Sets the name used in events and metrics. Default: `kustomer`.
    #[must_use]
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// Sets the login route. Default: `/sso/kustomer`.
    #[must_use]
    pub fn with_path(mut self, path: impl Into<String>) -> Self {
        self.path = path.into();
        self
    }

    /// Sets the origins `kustomerRedirectUri` may point at, e.g.
    /// `https://acme.kustomer.help`. Default: none, so only the default redirect is used.
    ///
    /// # Security
    /// Each entry is an exact origin; `https://*.example.com` allows any subdomain and
    /// only when written so. Every `kustomerRedirectUri` outside them is refused with a
    /// 400 page and no token is signed.
    #[must_use]
    pub fn with_redirect_origins<I, T>(mut self, origins: I) -> Self
    where
        I: IntoIterator<Item = T>,
        T: Into<String>,
    {
        self.redirect_origins = origins.into_iter().map(Into::into).collect();
        self
    }

    /// Sets where to send the browser when the request has no `kustomerRedirectUri`.
    /// It must be inside the redirect origins. Default: none (such requests get a 400).
    #[must_use]
    pub fn with_default_redirect(mut self, url: impl Into<String>) -> Self {
        self.default_redirect = Some(url.into());
        self
    }
}

/// The parameter the token is added as.
const TOKEN_PARAM: &str = "externalToken";

/// A Kustomer portal, validated.
#[derive(Debug)]
pub(crate) struct Kustomer {
    origins: RedirectOrigins,
    default_redirect: Option<Arc<Target>>,
    accepted: Accepted,
}

/// A checked redirect target, with where its token goes worked out once.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Target {
    url: Url,
    /// Where the fragment starts in `url` (its length when there is none).
    fragment_at: usize,
    /// Written between the URL's query and `externalToken=`.
    separator: &'static str,
}

impl Target {
    fn new(url: Url) -> Self {
        let (before_fragment, separator, _) = query_param_place(url.as_str());
        Self {
            fragment_at: before_fragment.len(),
            separator,
            url,
        }
    }

    /// The URL, without the token.
    pub(crate) fn url(&self) -> &Url {
        &self.url
    }
}

impl Kustomer {
    pub(crate) fn build(portal: &KustomerPortal, field: &str) -> Result<Self, ConfigError> {
        let origins = RedirectOrigins::parse(&portal.redirect_origins)
            .map_err(|problem| ConfigError::new(format!("{field}.redirect_origins"), problem))?;
        let default_redirect = match &portal.default_redirect {
            None => None,
            Some(raw) => Some(Arc::new(Target::new(origins.check(raw).map_err(
                |rejection| {
                    ConfigError::new(
                        format!("{field}.default_redirect"),
                        format!("`{raw}` is refused: {rejection}"),
                    )
                },
            )?))),
        };
        if default_redirect
            .as_ref()
            .is_some_and(|target| carries_param(target.url(), TOKEN_PARAM))
        {
            return Err(ConfigError::new(
                format!("{field}.default_redirect"),
                format!("already carries a parameter that reads as `{TOKEN_PARAM}`"),
            ));
        }
        if origins.is_empty() && default_redirect.is_none() {
            return Err(ConfigError::new(
                format!("{field}.redirect_origins"),
                "is empty: give the portal's origin, e.g. https://acme.kustomer.help",
            ));
        }
        Ok(Self {
            origins,
            default_redirect,
            accepted: Accepted::default(),
        })
    }

    /// Reads and checks the request's parameters before anyone is looked up.
    pub(crate) fn prepare(&self, query: Option<&str>) -> Result<Arc<Target>, Refusal> {
        let [target] = query::pick_raw(query, ["kustomerRedirectUri"]).map_err(Refusal::Query)?;
        let Some(raw) = target else {
            return self
                .default_redirect
                .clone()
                .ok_or(Refusal::MissingRedirect);
        };
        // Sent as the vendor's example shows (`...&kustomerRedirectUri=https://...`, not
        // escaped), the raw bytes are the URL: decoding them would turn the `%2F` of its
        // own `referralUrl` into `/`. Escaped (its scheme's `:` is `%3A`), it is decoded
        // once, even if an inner URL was left unescaped.
        let sent_as_url = ["https://", "http://"].iter().any(|scheme| {
            raw.len() >= scheme.len()
                && raw.as_bytes()[..scheme.len()].eq_ignore_ascii_case(scheme.as_bytes())
        });
        let target = if sent_as_url {
            Cow::Borrowed(raw)
        } else {
            query::decode(raw).map_err(Refusal::Query)?
        };
        if let Some(url) = self.accepted.get(&target) {
            return Ok(url);
        }
        let url = self.origins.check(&target).map_err(Refusal::Redirect)?;
        // A second `externalToken`, in any spelling a parser reads as one, would leave it
        // to the portal which one it reads: a planted token could sign in the wrong user.
        if carries_param(&url, TOKEN_PARAM) {
            return Err(Refusal::TargetCarries(TOKEN_PARAM));
        }
        let target_url = Arc::new(Target::new(url));
        self.accepted.insert(&target, &target_url);
        Ok(target_url)
    }

    /// Where the browser goes with the token: `target` with `externalToken=<jwt>` added
    /// as [`append_query_param`] adds it, signed straight into one buffer of the right
    /// size.
    pub(crate) fn location(
        target: &Target,
        signer: &Signer,
        claims: &Claims<'_>,
    ) -> Result<Vec<u8>, SignError> {
        let (before_fragment, fragment) = target.url.as_str().split_at(target.fragment_at);
        let before = [before_fragment, target.separator, "externalToken="];
        let mut json = [0u8; MAX_PLAIN_JSON];
        match claims.plain_json(&mut json) {
            Some(json) => signer.sign_json_within(json, &before, fragment),
            None => signer.sign_within(claims, &before, fragment),
        }
    }
}

/// How many accepted targets a portal remembers.
const ACCEPTED_SLOTS: usize = 16;
/// Longer targets are checked every time rather than remembered.
const MAX_REMEMBERED_LEN: usize = 1024;

/// Redirect targets this portal has accepted, so the few return addresses a portal
/// sends again and again are parsed and checked once.
///
/// The check is a function of the target string and the configuration alone, and only
/// accepted targets are remembered, keyed by the exact string that was checked: a
/// target found here would be accepted again, with the same URL. The memory is bounded
/// (a fixed number of slots, each holding one target of at most [`MAX_REMEMBERED_LEN`]
/// bytes); a new target takes over its slot, so a stream of distinct targets only costs
/// the full check each time. Slots are never waited for: one that another request holds
/// is skipped, and the target is checked in full.
struct Accepted {
    slots: Box<[Slot]>,
}

/// One remembered target (as checked) and the URL it was accepted as.
type Slot = Mutex<Option<(Box<str>, Arc<Target>)>>;

impl Default for Accepted {
    fn default() -> Self {
        Self {
            slots: (0..ACCEPTED_SLOTS).map(|_| Mutex::new(None)).collect(),
        }
    }
}

impl Accepted {
    fn slot(&self, target: &str) -> &Slot {
        // Which slot only spreads targets out; a match is always the whole string. The
        // length and the last 32 bytes tell a portal's usual targets apart (they share
        // their beginning).
        let bytes = target.as_bytes();
        let mut hash = bytes.len() as u64;
        for chunk in bytes[bytes.len().saturating_sub(32)..].chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            hash = (hash.rotate_left(5) ^ u64::from_le_bytes(word))
                .wrapping_mul(0x517c_c1b7_2722_0a95);
        }
        let index = usize::try_from(hash >> 60).unwrap_or(0) % self.slots.len();
        &self.slots[index]
    }

    fn get(&self, target: &str) -> Option<Arc<Target>> {
        let slot = self.slot(target).try_lock().ok()?;
        match &*slot {
            Some((remembered, url)) if **remembered == *target => Some(Arc::clone(url)),
            _ => None,
        }
    }

    fn insert(&self, target: &str, url: &Arc<Target>) {
        if target.len() > MAX_REMEMBERED_LEN {
            return;
        }
        if let Ok(mut slot) = self.slot(target).try_lock() {
            *slot = Some((target.into(), Arc::clone(url)));
        }
    }
}

impl fmt::Debug for Accepted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Accepted")
            .field("slots", &ACCEPTED_SLOTS)
            .finish_non_exhaustive()
    }
}

/// The claims Kustomer reads.
#[derive(Debug, Serialize)]
pub(crate) struct Claims<'a> {
    pub(crate) email: &'a str,
    pub(crate) iat: u64,
}

impl<'a> Claims<'a> {
    pub(crate) fn new(identity: &'a Identity, iat: u64) -> Self {
        Self {
            email: identity.email(),
            iat,
        }
    }

    /// The claims' JSON as `serde_json` writes it (`{"email":"...","iat":N}`), written
    /// into `out` without going through `Serialize`, when the email needs no escaping
    /// (no `"`, `\\` or control character below U+0020; an [`Identity`] has none) and
    /// fits. `None` otherwise: then serialize them.
    pub(crate) fn plain_json<'o>(&self, out: &'o mut [u8; MAX_PLAIN_JSON]) -> Option<&'o [u8]> {
        let email = self.email.as_bytes();
        // One pass with no early exit, which the compiler turns into vector compares.
        #[expect(
            clippy::needless_bitwise_bool,
            reason = "no short-circuit, so the loop vectorizes"
        )]
        let needs_escaping = email.iter().fold(false, |found, &b| {
            found | (b < 0x20) | (b == b'"') | (b == b'\\')
        });
        if needs_escaping {
            return None;
        }
        let mut digits = [0u8; 20];
        let mut at = digits.len();
        let mut iat = self.iat;
        loop {
            at -= 1;
            digits[at] = b'0' + u8::try_from(iat % 10).unwrap_or(0);
            iat /= 10;
            if iat == 0 {
                break;
            }
        }
        let pieces: [&[u8]; 5] = [b"{\"email\":\"", email, b"\",\"iat\":", &digits[at..], b"}"];
        let len = pieces.iter().map(|piece| piece.len()).sum();
        let mut written = 0;
        for piece in pieces {
            out.get_mut(written..written + piece.len())?
                .copy_from_slice(piece);
            written += piece.len();
        }
        debug_assert_eq!(written, len);
        Some(&out[..len])
    }
}

/// Room for the claims' JSON written by [`Claims::plain_json`]: a 254-byte address and
/// the largest `iat`.
const MAX_PLAIN_JSON: usize = 320;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_json_is_what_serde_json_writes() {
        let mut out = [0u8; MAX_PLAIN_JSON];
        for email in [
            "alice@example.com",
            "a.b+tag@sub.example.co.uk",
            "zoe+kb@例え.jp",
            "x'y{z}@e.com",
            "a/b=c?d@e\u{7f}.com",
        ] {
            for iat in [0, 1, 9, 10, 1_763_700_000, u64::MAX] {
                let claims = Claims { email, iat };
                assert_eq!(
                    claims.plain_json(&mut out),
                    Some(serde_json::to_vec(&claims).unwrap().as_slice()),
                    "{email} {iat}"
                );
            }
        }
        for email in ["a\"b@c", "a\\b@c", "a\u{1}b@c", "a\nb@c"] {
            assert_eq!(
                Claims { email, iat: 1 }.plain_json(&mut out),
                None,
                "{email:?}"
            );
        }
        let longest = format!("{}@e.com", "a".repeat(254 - 6));
        let claims = Claims {
            email: &longest,
            iat: u64::MAX,
        };
        assert_eq!(
            claims.plain_json(&mut out),
            Some(serde_json::to_vec(&claims).unwrap().as_slice())
        );
        let too_long = "a".repeat(MAX_PLAIN_JSON);
        assert_eq!(
            Claims {
                email: &too_long,
                iat: 1
            }
            .plain_json(&mut out),
            None
        );
    }

    #[test]
    fn locations_carry_the_token_before_the_fragment() {
        let signer = Signer::hs256(&Secret::new("k".repeat(32)));
        let claims = Claims {
            email: "alice@example.com",
            iat: 1,
        };
        let token = signer.sign(&claims).unwrap();
        for (url, expected) in [
            (
                "https://a.example/l",
                format!("https://a.example/l?externalToken={token}"),
            ),
            (
                "https://a.example/l?r=%2F#top",
                format!("https://a.example/l?r=%2F&externalToken={token}#top"),
            ),
            (
                "https://a.example/l?",
                format!("https://a.example/l?externalToken={token}"),
            ),
            (
                "https://a.example/l?a&",
                format!("https://a.example/l?a&externalToken={token}"),
            ),
        ] {
            let target = Target::new(Url::parse(url).unwrap());
            let location = Kustomer::location(&target, &signer, &claims).unwrap();
            assert_eq!(String::from_utf8(location).unwrap(), expected, "{url}");
            assert_eq!(
                expected,
                crate::redirect::append_query_param(url, "externalToken", &token)
            );
        }
        // Claims that need escaping are signed through serde_json, to the same token.
        let quoted = Claims {
            email: "a\"b@c",
            iat: 1,
        };
        let target = Target::new(Url::parse("https://a.example/").unwrap());
        assert_eq!(
            Kustomer::location(&target, &signer, &quoted).unwrap(),
            format!(
                "https://a.example/?externalToken={}",
                signer.sign(&quoted).unwrap()
            )
            .into_bytes()
        );
    }

    fn portal() -> Kustomer {
        let portal = KustomerPortal::new(Secret::new("k".repeat(32)))
            .with_redirect_origins(["https://acme.kustomer.help"]);
        Kustomer::build(&portal, "portal").unwrap()
    }

    #[test]
    fn an_accepted_target_is_remembered_and_answers_the_same() {
        let portal = portal();
        let query = "kustomerRedirectUri=https://ACME.kustomer.help./login?r=%2F";
        let first = portal.prepare(Some(query)).unwrap();
        let second = portal.prepare(Some(query)).unwrap();
        assert_eq!(
            first.url().as_str(),
            "https://acme.kustomer.help/login?r=%2F"
        );
        assert!(
            Arc::ptr_eq(&first, &second),
            "the second answer is remembered"
        );
        // Escaped, the same URL is decoded first and remembered by what was checked.
        let escaped = "kustomerRedirectUri=https%3A%2F%2Facme.kustomer.help%2Flogin";
        assert_eq!(
            portal.prepare(Some(escaped)).unwrap().url().as_str(),
            "https://acme.kustomer.help/login"
        );
        assert_eq!(
            portal.prepare(Some(escaped)).unwrap().url().as_str(),
            "https://acme.kustomer.help/login"
        );
    }

    #[test]
    fn refused_targets_stay_refused() {
        let portal = portal();
        for target in [
            "https://evil.example/",
            "https://acme.kustomer.help.evil.example/",
            "https://acme.kustomer.help/login?externalToken=x",
            "https://acme.kustomer.help/../x",
        ] {
            let query = format!("kustomerRedirectUri={target}");
            for _ in 0..3 {
                assert!(portal.prepare(Some(&query)).is_err(), "{target}");
            }
            // Nor does a remembered neighbour let it through.
            let good = format!(
                "kustomerRedirectUri=https://acme.kustomer.help/{}",
                target.len()
            );
            assert!(portal.prepare(Some(&good)).is_ok());
            assert!(portal.prepare(Some(&query)).is_err(), "{target}");
        }
    }

    #[test]
    fn many_distinct_targets_each_get_their_own_answer() {
        let portal = portal();
        for round in 0..3 {
            for i in 0..(4 * ACCEPTED_SLOTS) {
                let path = format!("/article/{i}?x={}", i % 5);
                let query = format!("kustomerRedirectUri=https://acme.kustomer.help{path}");
                let url = portal.prepare(Some(&query)).unwrap();
                assert_eq!(
                    url.url().as_str(),
                    format!("https://acme.kustomer.help{path}"),
                    "round {round}"
                );
            }
        }
        let long = format!(
            "kustomerRedirectUri=https://acme.kustomer.help/{}",
            "a".repeat(MAX_REMEMBERED_LEN)
        );
        let first = portal.prepare(Some(&long)).unwrap();
        let second = portal.prepare(Some(&long)).unwrap();
        assert_eq!(first, second);
        assert!(
            !Arc::ptr_eq(&first, &second),
            "long targets are not remembered"
        );
    }
}
