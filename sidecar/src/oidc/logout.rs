//! `/sso/oidc/logout`: ends portal-sso's session (the portals' remote-logout routes do
//! too, through the layer), then, with `end_session = true` and an end-session endpoint
//! advertised, sends the browser to the IdP's logout with `client_id` and the configured
//! `post_logout_redirect_uri`.

use http::request::Parts;
use http::{Response, StatusCode};

use super::events::Event;
use super::session::{self, sessions};
use super::{Oidc, pages};

pub(super) async fn logout(oidc: &Oidc, parts: &Parts) -> Response<String> {
    let provider_name = sessions(
        parts,
        oidc.settings.session_cookie_name(),
        &oidc.keys.session,
    )
    .next()
    .map(|session| session.provider)
    .or_else(|| {
        // Signed out already: a single provider's logout is still the one to follow.
        match oidc.providers.as_slice() {
            [only] => Some(only.settings.name.clone()),
            _ => None,
        }
    });
    let provider = provider_name
        .as_deref()
        .and_then(|name| oidc.provider(name));
    let mut response = match provider {
        Some(provider) if provider.settings.end_session => {
            match provider
                .ready()
                .await
                .ok()
                .as_ref()
                .and_then(|d| d.end_session_endpoint().cloned())
            {
                Some(mut endpoint) => {
                    {
                        let mut query = endpoint.query_pairs_mut();
                        query.append_pair("client_id", &provider.settings.client_id);
                        if let Some(uri) = &provider.settings.post_logout_redirect_uri {
                            query.append_pair("post_logout_redirect_uri", uri.as_str());
                        }
                    }
                    pages::redirect(endpoint.as_str())
                }
                None => signed_out(provider.settings.post_logout_redirect_uri.as_ref()),
            }
        }
        Some(provider) => signed_out(provider.settings.post_logout_redirect_uri.as_ref()),
        None => signed_out(None),
    };
    pages::set_cookie(&mut response, &session::removal(&oidc.settings));
    oidc.record(
        Event::SignedOut,
        provider_name.as_deref().unwrap_or(""),
        None,
    );
    response
}

/// The end of a logout that does not go on to the IdP.
fn signed_out(then: Option<&url::Url>) -> Response<String> {
    match then {
        Some(url) => pages::redirect(url.as_str()),
        None => pages::explain(StatusCode::OK, "Signed out", "You are signed out.", None),
    }
}
