//! The vendor presets of the JWT-redirect engine (`kind = "zendesk"`, `"gitbook"`...):
//! each kind is a struct with only the keys its vendor can use, so a key of another kind
//! is refused by name while the file is read; all of them are then checked and built the
//! same way, from the [`Keys`] they hold.

// Vendor names (GitBook, HelpDocs, ReadMe) and EdDSA are prose here, not code.
#![allow(clippy::doc_markdown)]

use std::str::FromStr;

use serde::Deserialize;

use portal_sso::{JwtPortal, Secret, TokenIn};

use super::classic::check_origins;
use super::{PortalSettings, route_path};
use crate::config::ConfigFileError;
use crate::config::secret_ref::SecretRef;

/// The keys a preset entry may hold, each borrowed from the entry; `None` when the kind
/// has no such key or the file leaves it out.
#[derive(Default)]
pub(super) struct Keys<'a> {
    pub(super) name: Option<&'a str>,
    pub(super) path: Option<&'a str>,
    pub(super) secret: Option<&'a SecretRef>,
    pub(super) private_key: Option<&'a SecretRef>,
    pub(super) callback_url: Option<&'a str>,
    pub(super) redirect_origins: Option<&'a [String]>,
    pub(super) form_action_origins: Option<&'a [String]>,
    pub(super) default_redirect: Option<&'a str>,
    pub(super) token_in: Option<&'a str>,
    pub(super) token_ttl_secs: Option<u64>,
    pub(super) audience: Option<&'a str>,
    pub(super) logout_path: Option<&'a str>,
    pub(super) logout_redirect: Option<&'a str>,
    pub(super) portal_logout_url: Option<&'a str>,
}

/// A key's value as [`Keys`] holds it.
trait View {
    type Out<'a>
    where
        Self: 'a;
    fn view(&self) -> Self::Out<'_>;
}

impl View for SecretRef {
    type Out<'a> = Option<&'a SecretRef>;
    fn view(&self) -> Option<&SecretRef> {
        Some(self)
    }
}

impl View for Option<String> {
    type Out<'a> = Option<&'a str>;
    fn view(&self) -> Option<&str> {
        self.as_deref()
    }
}

impl View for Option<Vec<String>> {
    type Out<'a> = Option<&'a [String]>;
    fn view(&self) -> Option<&[String]> {
        self.as_deref()
    }
}

impl View for Option<u64> {
    type Out<'a> = Option<u64>;
    fn view(&self) -> Option<u64> {
        *self
    }
}

/// One preset's entry: `name`, `path` and the keys listed, nothing else.
macro_rules! preset_file {
    ($(#[$doc:meta])* $file:ident { $($field:ident: $ty:ty),* $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Deserialize)]
        #[serde(deny_unknown_fields)]
        pub(in crate::config) struct $file {
            name: Option<String>,
            path: Option<String>,
            $($field: $ty,)*
        }

        impl $file {
            pub(super) fn keys(&self) -> Keys<'_> {
                Keys {
                    name: self.name.as_deref(),
                    path: self.path.as_deref(),
                    $($field: self.$field.view(),)*
                    ..Keys::default()
                }
            }
        }
    };
}

preset_file!(
    /// `kind = "zendesk"`: Zendesk's JWT SSO; the token is posted to `callback_url`
    /// (`https://SUBDOMAIN.zendesk.com/access/jwt`).
    ZendeskFile {
        secret: SecretRef,
        callback_url: Option<String>,
        redirect_origins: Option<Vec<String>>,
        form_action_origins: Option<Vec<String>>,
        token_in: Option<String>,
        logout_path: Option<String>,
        logout_redirect: Option<String>,
        portal_logout_url: Option<String>,
    }
);

preset_file!(
    /// `kind = "gitbook"`: GitBook visitor authentication; `callback_url` is the site.
    GitbookFile {
        secret: SecretRef,
        callback_url: Option<String>,
        token_ttl_secs: Option<u64>,
    }
);

preset_file!(
    /// `kind = "canny"`: Canny's SSO redirect; `redirect_origins` is the board's origin.
    CannyFile {
        secret: SecretRef,
        redirect_origins: Option<Vec<String>>,
    }
);

preset_file!(
    /// `kind = "helpscout"`: Help Scout Docs; `callback_url` is the site's `/authcallback`.
    HelpscoutFile {
        secret: SecretRef,
        callback_url: Option<String>,
        token_ttl_secs: Option<u64>,
    }
);

preset_file!(
    /// `kind = "frill"`: Frill SSO; the request's `redirect` must be on `redirect_origins`.
    FrillFile {
        secret: SecretRef,
        redirect_origins: Option<Vec<String>>,
        default_redirect: Option<String>,
    }
);

preset_file!(
    /// `kind = "readme"`: ReadMe custom login; `callback_url` is the hub.
    ReadmeFile {
        secret: SecretRef,
        callback_url: Option<String>,
    }
);

preset_file!(
    /// `kind = "mintlify"`: Mintlify JWT auth, EdDSA; `callback_url` is the docs'
    /// `/login/jwt-callback`.
    MintlifyFile {
        private_key: SecretRef,
        callback_url: Option<String>,
        token_ttl_secs: Option<u64>,
    }
);

preset_file!(
    /// `kind = "helpjuice"`: Helpjuice JWT SSO; `callback_url` is
    /// `https://helpjuice.com/jwt/SUBDOMAIN`.
    HelpjuiceFile {
        secret: SecretRef,
        callback_url: Option<String>,
        redirect_origins: Option<Vec<String>>,
    }
);

preset_file!(
    /// `kind = "helpdocs"`: HelpDocs custom JWT; `callback_url` is the docs URL, whose
    /// origin is `aud` unless `audience` says otherwise.
    HelpdocsFile {
        secret: SecretRef,
        callback_url: Option<String>,
        audience: Option<String>,
        token_ttl_secs: Option<u64>,
    }
);

preset_file!(
    /// `kind = "freshworks"`: Freshworks custom JWT SSO, RS256; the request's
    /// `redirect_uri` must be on `redirect_origins`.
    FreshworksFile {
        private_key: SecretRef,
        redirect_origins: Option<Vec<String>>,
        default_redirect: Option<String>,
    }
);

/// What the sidecar knows of each preset beyond the core's constructor: an example of
/// its `callback_url` when it needs one, where its target comes from otherwise, and its
/// claims as the summary lists them (`?` when sent only if known).
struct Preset {
    kind: &'static str,
    callback_example: Option<&'static str>,
    target_param: Option<&'static str>,
    /// An example origin, for a preset whose every sign-in carries an address to check
    /// against `redirect_origins`: without them, each would be refused.
    origins_example: Option<&'static str>,
    claims: &'static str,
}

const PRESETS: &[Preset] = &[
    Preset {
        kind: "zendesk",
        callback_example: Some("https://acme.zendesk.com/access/jwt"),
        target_param: None,
        origins_example: None,
        claims: "iat, jti, email, name, external_id?",
    },
    Preset {
        kind: "gitbook",
        callback_example: Some("https://docs.acme.com"),
        target_param: None,
        origins_example: None,
        claims: "iat, exp, email, name?",
    },
    Preset {
        kind: "canny",
        callback_example: None,
        target_param: None,
        origins_example: Some("https://acme.canny.io"),
        claims: "email, id, name, avatarURL?",
    },
    Preset {
        kind: "helpscout",
        callback_example: Some("https://docs.acme.com/authcallback"),
        target_param: None,
        origins_example: None,
        claims: "sub, exp",
    },
    Preset {
        kind: "frill",
        callback_example: None,
        target_param: Some("redirect"),
        origins_example: None,
        claims: "email, id, name?, avatar?",
    },
    Preset {
        kind: "readme",
        callback_example: Some("https://docs.acme.com/"),
        target_param: None,
        origins_example: None,
        claims: "name?, email",
    },
    Preset {
        kind: "mintlify",
        callback_example: Some("https://docs.acme.com/login/jwt-callback"),
        target_param: None,
        origins_example: None,
        claims: "exp, expiresAt, groups?, content?, apiPlaygroundInputs?",
    },
    Preset {
        kind: "helpjuice",
        callback_example: Some("https://helpjuice.com/jwt/acme"),
        target_param: None,
        origins_example: None,
        claims: "jti, iat (ms), email, first_name?, last_name?",
    },
    Preset {
        kind: "helpdocs",
        callback_example: Some("https://acme.helpdocs.io/"),
        target_param: None,
        origins_example: None,
        claims: "iat, exp, aud",
    },
    Preset {
        kind: "freshworks",
        callback_example: None,
        target_param: Some("redirect_uri"),
        origins_example: None,
        claims: "sub, email, iat, nonce, given_name?, family_name?",
    },
];

/// The core's preset of `kind`, with its key and callback.
fn construct(kind: &str, key: Secret, callback: String) -> JwtPortal {
    match kind {
        "zendesk" => JwtPortal::zendesk(key, callback),
        "gitbook" => JwtPortal::gitbook(key, callback),
        "canny" => JwtPortal::canny(key),
        "helpscout" => JwtPortal::helpscout(key, callback),
        "frill" => JwtPortal::frill(key),
        "readme" => JwtPortal::readme(key, callback),
        "mintlify" => JwtPortal::mintlify(key, callback),
        "helpjuice" => JwtPortal::helpjuice(key, callback),
        "helpdocs" => JwtPortal::helpdocs(key, callback),
        "freshworks" => JwtPortal::freshworks(key),
        other => unreachable!("no preset `{other}`"),
    }
}

/// Reads the key and checks the values of a preset entry of `kind` into its portal.
pub(super) fn check_preset(
    kind: &'static str,
    keys: &Keys<'_>,
    key: impl Fn(&str) -> String,
) -> Result<PortalSettings, ConfigFileError> {
    let preset = PRESETS
        .iter()
        .find(|preset| preset.kind == kind)
        .unwrap_or_else(|| unreachable!("no preset `{kind}`"));
    let (key_from, secret) = match (keys.secret, keys.private_key) {
        (Some(from), _) => (from, from.read(&key("secret"))?),
        (None, Some(from)) => (from, from.read(&key("private_key"))?),
        (None, None) => unreachable!("every preset has a key"),
    };
    let callback = match (preset.callback_example, keys.callback_url) {
        (Some(_), Some(url)) => url.to_owned(),
        (Some(example), None) => {
            return Err(ConfigFileError::new(
                key("callback_url"),
                format!("is required for kind = \"{kind}\", e.g. \"{example}\""),
            ));
        }
        (None, _) => String::new(),
    };
    if let (Some(example), None) = (preset.origins_example, keys.redirect_origins) {
        return Err(ConfigFileError::new(
            key("redirect_origins"),
            format!(
                "is required for kind = \"{kind}\" (every sign-in carries a `redirect` to check \
                 against it), e.g. [\"{example}\"]"
            ),
        ));
    }
    let mut portal = apply_common(construct(kind, secret.clone(), callback), keys, &key)?;
    if let Some(audience) = keys.audience {
        portal = portal.with_audience(audience);
    }
    let target = match (preset.target_param, portal.callback_url()) {
        (Some(param), _) => format!("{param} on {}", portal.redirect_origins().join(", ")),
        (None, Some(url)) => url.to_owned(),
        (None, None) => String::new(),
    };
    let target = match keys.token_in {
        Some(way) => format!("{target} ({way})"),
        None => target,
    };
    Ok(PortalSettings {
        kind,
        path: route_path(keys.path, kind),
        target,
        claims: preset.claims.to_owned(),
        key_from: key_from.clone(),
        key: secret,
        portal,
    })
}

/// The keys every engine kind reads the same way: name, path, origins, default redirect,
/// token transport and lifetime, logout.
pub(super) fn apply_common(
    mut portal: JwtPortal,
    keys: &Keys<'_>,
    key: &impl Fn(&str) -> String,
) -> Result<JwtPortal, ConfigFileError> {
    if let Some(name) = keys.name {
        portal = portal.with_name(name);
    }
    if let Some(path) = keys.path {
        portal = portal.with_path(path);
    }
    if let Some(origins) = keys.redirect_origins {
        check_origins(origins, key)?;
        portal = portal.with_redirect_origins(origins.iter().cloned());
    }
    if let Some(origins) = keys.form_action_origins {
        // The layer checks them and names the entry at fault.
        portal = portal.with_form_action_origins(origins.iter().cloned());
    }
    if let Some(default) = keys.default_redirect {
        portal = portal.with_default_redirect(default);
    }
    if let Some(way) = keys.token_in {
        let way = TokenIn::from_str(way)
            .map_err(|problem| ConfigFileError::new(key("token_in"), problem))?;
        portal = portal.with_token_in(way);
    }
    if let Some(secs) = keys.token_ttl_secs {
        if secs == 0 {
            return Err(ConfigFileError::new(
                key("token_ttl_secs"),
                "must be at least 1",
            ));
        }
        portal = portal.with_token_ttl_secs(secs);
    }
    if let Some(logout_path) = keys.logout_path {
        portal = portal.with_logout_path((!logout_path.is_empty()).then_some(logout_path));
    }
    if let Some(redirect) = keys.logout_redirect {
        portal = portal.with_logout_redirect(redirect);
    }
    if let Some(url) = keys.portal_logout_url {
        portal = portal.with_portal_logout_url(url);
    }
    Ok(portal)
}
