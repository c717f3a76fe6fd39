//! `/sso/oidc/login?next=PATH`: where the layer sends a signed-out browser. One provider:
//! straight to it; several: the one `?provider=` names, the one whose `email_domains`
//! match `?login_hint=`, or a chooser page. Then the IdP's authorization endpoint, with
//! the authorization code flow, PKCE S256 and a nonce, always.

use http::request::Parts;
use http::{Response, StatusCode};
use openidconnect::core::CoreAuthenticationFlow;
use openidconnect::{CsrfToken, LoginHint, Nonce, PkceCodeChallenge, Scope};

use super::events::Event;
use super::flow::Flow;
use super::provider::Provider;
use super::{LOGIN_PATH, Oidc, RETURN_PARAM, pages, params};

/// Starts a sign-in, or shows the chooser.
pub(super) async fn login(oidc: &Oidc, parts: &Parts) -> Response<String> {
    let [next, provider, hint] =
        match params(parts.uri.query(), [RETURN_PARAM, "provider", "login_hint"]) {
            Ok(found) => found,
            Err(twice) => {
                oidc.record(Event::Refused("parameter_repeated"), "", Some(&twice));
                return pages::explain(
                    StatusCode::BAD_REQUEST,
                    "Sign-in refused",
                    &format!("The parameter `{twice}` was sent more than once."),
                    None,
                );
            }
        };
    let next = next.unwrap_or_else(|| "/".to_owned());
    if !next.starts_with('/') || !portal_sso::is_same_site_path(&next) {
        oidc.record(Event::Refused("return_path_not_same_site"), "", None);
        return pages::explain(
            StatusCode::BAD_REQUEST,
            "Sign-in refused",
            "The address to come back to after signing in is not a path on this site.",
            None,
        );
    }
    // Already signed in here (another tab finished first): straight back.
    let signed_in = super::session::sessions(
        parts,
        oidc.settings.session_cookie_name(),
        &oidc.keys.session,
    )
    .next()
    .is_some();
    if signed_in {
        return pages::redirect(&next);
    }
    let hint = hint.filter(|h| !h.is_empty() && h.len() <= 254);
    let chosen = match provider {
        Some(name) => match oidc.provider(&name) {
            Some(provider) => provider,
            None => {
                return chooser(
                    oidc,
                    &next,
                    Some("That identity provider is not configured here."),
                );
            }
        },
        None => match pick(oidc, hint.as_deref()) {
            Some(provider) => provider,
            None if hint.is_some() => {
                return chooser(
                    oidc,
                    &next,
                    Some("No identity provider is set up for that email's domain: pick one."),
                );
            }
            None => return chooser(oidc, &next, None),
        },
    };
    start(oidc, chosen, &next, hint).await
}

/// The provider for this sign-in without asking: the only one, or the one whose email
/// domains match the hint.
fn pick<'a>(oidc: &'a Oidc, hint: Option<&str>) -> Option<&'a std::sync::Arc<Provider>> {
    if let [only] = oidc.providers.as_slice() {
        return Some(only);
    }
    let domain = hint?.rsplit_once('@')?.1.to_ascii_lowercase();
    oidc.providers
        .iter()
        .find(|p| p.settings.email_domains.contains(&domain))
}

fn chooser(oidc: &Oidc, next: &str, note: Option<&str>) -> Response<String> {
    let encode =
        |value: &str| url::form_urlencoded::byte_serialize(value.as_bytes()).collect::<String>();
    let links: Vec<(String, String)> = oidc
        .providers
        .iter()
        .map(|p| {
            (
                p.settings.label.clone(),
                format!(
                    "{LOGIN_PATH}?provider={}&{RETURN_PARAM}={}",
                    encode(&p.settings.name),
                    encode(next)
                ),
            )
        })
        .collect();
    let by_domain = oidc
        .providers
        .iter()
        .any(|p| !p.settings.email_domains.is_empty());
    pages::chooser(&links, by_domain.then_some(next), note)
}

/// Sends the browser to `provider`'s authorization endpoint, the sign-in kept in its
/// state cookie.
async fn start(
    oidc: &Oidc,
    provider: &Provider,
    next: &str,
    hint: Option<String>,
) -> Response<String> {
    let settings = &provider.settings;
    let discovered = match provider.ready().await {
        Ok(discovered) => discovered,
        Err(error) => {
            oidc.record(
                Event::Unavailable("discovery_failed"),
                &settings.name,
                Some(&error),
            );
            return unavailable(settings.label.as_str(), &settings.issuer, &error, next);
        }
    };
    let state = CsrfToken::new_random_len(16);
    let nonce = Nonce::new_random();
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let mut request = discovered
        .client
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            {
                let state = state.clone();
                move || state
            },
            {
                let nonce = nonce.clone();
                move || nonce
            },
        )
        .set_pkce_challenge(challenge);
    for scope in settings.scopes.iter().filter(|s| *s != "openid") {
        request = request.add_scope(Scope::new(scope.clone()));
    }
    if let Some(hint) = hint {
        request = request.set_login_hint(LoginHint::new(hint));
    }
    let (url, _, _) = request.url();
    let flow = Flow {
        provider: settings.name.clone(),
        nonce: nonce.secret().clone(),
        verifier: verifier.secret().clone(),
        return_to: next.to_owned(),
        started: crate::now_unix(),
    };
    let mut response = pages::redirect(url.as_str());
    pages::set_cookie(
        &mut response,
        &flow.seal(&oidc.keys.flow, oidc.settings.secure(), state.secret()),
    );
    oidc.record(Event::LoginStarted, &settings.name, None);
    response
}

/// The 503 page while the IdP cannot be reached: it names the IdP, and its link tries again.
pub(super) fn unavailable(label: &str, issuer: &str, error: &str, next: &str) -> Response<String> {
    let again = format!(
        "{LOGIN_PATH}?{RETURN_PARAM}={}",
        url::form_urlencoded::byte_serialize(next.as_bytes()).collect::<String>()
    );
    let mut response = pages::explain(
        StatusCode::SERVICE_UNAVAILABLE,
        "Sign-in temporarily unavailable",
        &format!(
            "The identity provider {label} ({issuer}) cannot be reached right now: {error}. \
             This sign-in keeps trying; please try again in a moment."
        ),
        Some(("Try again", &again)),
    );
    response.headers_mut().insert(
        http::header::RETRY_AFTER,
        http::HeaderValue::from_static("5"),
    );
    response
}
