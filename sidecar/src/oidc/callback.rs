//! The redirect path (`/sso/oidc/callback`): the IdP sends the browser back here with a
//! code. The state is matched with its cookie, the code redeemed with the PKCE verifier,
//! the ID token verified (by `openidconnect`: signature against the IdP's key set, `iss`,
//! `aud`, `exp`, the nonce; here: `azp`, `iat` and an asymmetric-only algorithm list),
//! missing fields read from userinfo, the access rules checked, and portal-sso's session
//! cookie set.

use http::request::Parts;
use http::{Response, StatusCode};
use openidconnect::{
    AuthorizationCode, Nonce, OAuth2TokenResponse as _, PkceCodeVerifier, RequestTokenError,
    TokenResponse as _,
};
use serde_json::Value;

use super::events::Event;
use super::flow::{self, Flow};
use super::id_token::{VerifyError, complete_from_userinfo, needs_userinfo, payload, verify};
use super::provider::Provider;
use super::session::Session;
use super::{LOGIN_PATH, Oidc, RETURN_PARAM, login, pages, params, rules};

/// The most characters of the IdP's own error text shown and recorded.
const MAX_IDP_TEXT: usize = 300;

/// Why a callback ends without a session: the event, and the page.
struct Stop {
    event: Event,
    detail: Option<String>,
    /// Boxed: a `Result` carrying it stays small.
    response: Box<Response<String>>,
}

pub(super) async fn callback(oidc: &Oidc, parts: &Parts) -> Response<String> {
    let read = params(
        parts.uri.query(),
        ["state", "code", "error", "error_description", "iss"],
    );
    let [state, code, error, description, iss] = match read {
        Ok(found) => found,
        Err(twice) => {
            return finish(
                oidc,
                "",
                Err(start_over(
                    Event::Refused("parameter_repeated"),
                    &format!("The parameter `{twice}` was sent more than once."),
                )),
            );
        }
    };
    let Some(state) = state.filter(|s| flow::is_state(s)) else {
        return finish(
            oidc,
            "",
            Err(start_over(
                Event::Refused("state_missing"),
                "This sign-in link carries no sign-in of this site.",
            )),
        );
    };
    let secure = oidc.settings.secure();
    let Some(flow) = Flow::open(parts, &oidc.keys.flow, secure, &state) else {
        return finish(
            oidc,
            "",
            Err(start_over(
                Event::Refused("state_unknown"),
                "This sign-in was not started in this browser, has expired, or was already used.",
            )),
        );
    };
    let mut response = if oidc.redeemed.first_use(&state) {
        let reply = Reply {
            code,
            error,
            description,
            iss,
        };
        let outcome = redeem(oidc, parts, &flow, reply).await;
        finish(oidc, &flow.provider, outcome)
    } else {
        finish(
            oidc,
            &flow.provider,
            Err(start_over(
                Event::Refused("state_replayed"),
                "This sign-in was already used.",
            )),
        )
    };
    pages::set_cookie(&mut response, &flow::removal(secure, &state));
    response
}

/// Records the outcome and gives its response.
fn finish(
    oidc: &Oidc,
    provider: &str,
    outcome: Result<(Response<String>, String), Stop>,
) -> Response<String> {
    match outcome {
        Ok((response, masked)) => {
            oidc.record(Event::SignedIn, provider, Some(&masked));
            response
        }
        Err(stop) => {
            oidc.record(stop.event, provider, stop.detail.as_deref());
            *stop.response
        }
    }
}

/// A 400 page whose link starts a new sign-in.
fn start_over(event: Event, message: &str) -> Stop {
    Stop {
        event,
        detail: None,
        response: Box::new(pages::explain(
            StatusCode::BAD_REQUEST,
            "Sign-in expired",
            message,
            Some(("Start the sign-in again", LOGIN_PATH)),
        )),
    }
}

/// A refusal: 403 with `message`, a link to try again with another account.
fn refuse(reason: &'static str, message: &str, next: &str) -> Stop {
    Stop {
        event: Event::Refused(reason),
        detail: None,
        response: Box::new(pages::explain(
            StatusCode::FORBIDDEN,
            "Sign-in refused",
            message,
            Some(("Sign in again", &again(next))),
        )),
    }
}

fn again(next: &str) -> String {
    format!(
        "{LOGIN_PATH}?{RETURN_PARAM}={}",
        url::form_urlencoded::byte_serialize(next.as_bytes()).collect::<String>()
    )
}

/// The IdP failing during the sign-in: a page naming it.
fn idp_failed(provider: &Provider, reason: &'static str, what: &str, next: &str) -> Stop {
    let settings = &provider.settings;
    Stop {
        event: Event::Unavailable(reason),
        detail: Some(what.to_owned()),
        response: Box::new(login::unavailable(
            &settings.label,
            &settings.issuer,
            what,
            next,
        )),
    }
}

/// What the IdP's redirect back carries.
struct Reply {
    code: Option<String>,
    error: Option<String>,
    description: Option<String>,
    iss: Option<String>,
}

/// The sign-in `flow` completed with the IdP's `reply`: the response setting the session
/// cookie and the masked email, or why not.
async fn redeem(
    oidc: &Oidc,
    parts: &Parts,
    flow: &Flow,
    reply: Reply,
) -> Result<(Response<String>, String), Stop> {
    let Reply {
        code,
        error,
        description,
        iss,
    } = reply;
    let next = flow.return_to.as_str();
    let Some(provider) = oidc
        .provider(&flow.provider)
        .filter(|p| p.settings.redirect_path == parts.uri.path())
    else {
        return Err(start_over(
            Event::Refused("provider_unknown"),
            "This sign-in was started for an identity provider that is not configured here any more.",
        ));
    };
    let settings = &provider.settings;
    // RFC 9207: an `iss` that is not this provider's is a mix-up.
    if iss.as_deref().is_some_and(|iss| iss != settings.issuer) {
        return Err(refuse(
            "issuer_mismatch",
            "The answer came from another identity provider than the one this sign-in was sent to.",
            next,
        ));
    }
    if let Some(error) = error {
        let said: String = match &description {
            Some(description) => format!("{error}: {description}"),
            None => error.clone(),
        }
        .chars()
        .take(MAX_IDP_TEXT)
        .collect();
        let mut stop = refuse(
            "idp_error",
            &format!(
                "{} did not sign you in and said: \u{201c}{said}\u{201d}.",
                settings.label
            ),
            next,
        );
        stop.detail = Some(said);
        return Err(stop);
    }
    let Some(code) = code else {
        return Err(start_over(
            Event::Refused("code_missing"),
            "The identity provider's answer carries no code.",
        ));
    };
    let json = verified_claims(oidc, provider, flow, code).await?;
    establish(oidc, provider, &json, next)
}

/// Redeems `code` and verifies the ID token: its claims, completed by userinfo.
async fn verified_claims(
    oidc: &Oidc,
    provider: &Provider,
    flow: &Flow,
    code: String,
) -> Result<Value, Stop> {
    let next = flow.return_to.as_str();
    let discovered = provider
        .ready()
        .await
        .map_err(|error| idp_failed(provider, "discovery_failed", &error, next))?;
    let http = provider.http.caller();
    let exchange = discovered
        .client
        .exchange_code(AuthorizationCode::new(code))
        .map_err(|_| {
            idp_failed(
                provider,
                "token_endpoint_missing",
                "it advertises no token endpoint",
                next,
            )
        })?
        .set_pkce_verifier(PkceCodeVerifier::new(flow.verifier.clone()))
        .request_async(&http)
        .await;
    let tokens = match exchange {
        Ok(tokens) => tokens,
        Err(RequestTokenError::ServerResponse(answer)) => {
            return Err(refuse(
                "code_refused",
                &format!(
                    "The identity provider refused to complete the sign-in ({}).",
                    answer.error()
                ),
                next,
            ));
        }
        Err(RequestTokenError::Request(err)) => {
            return Err(idp_failed(
                provider,
                "token_endpoint_unreachable",
                &format!("its token endpoint failed: {err}"),
                next,
            ));
        }
        Err(_) => return Err(refuse_token("id_token_invalid", next)),
    };
    let Some(id_token) = tokens.id_token() else {
        return Err(refuse_token("id_token_missing", next));
    };
    let nonce = Nonce::new(flow.nonce.clone());
    let (claims, discovered) = match verify(&discovered, id_token, &nonce) {
        Err(VerifyError::UnknownKey) => {
            let refreshed = provider.refetch_keys(&discovered).await;
            let Some(refreshed) = refreshed else {
                return Err(refuse_token("id_token_unknown_key", next));
            };
            let claims = verify(&refreshed, id_token, &nonce)
                .map_err(|err| refuse_token(err.reason(), next))?;
            (claims, refreshed)
        }
        Err(err) => return Err(refuse_token(err.reason(), next)),
        Ok(claims) => (claims, discovered),
    };
    let mut json = payload(id_token).ok_or_else(|| refuse_token("id_token_invalid", next))?;
    if needs_userinfo(oidc, &provider.settings, &json) {
        complete_from_userinfo(
            &discovered,
            provider,
            tokens.access_token(),
            &claims,
            &mut json,
        )
        .await;
    }
    Ok(json)
}

/// The identity in `json`, checked against the access rules, sealed in the session
/// cookie: the response going back to `next`, and the masked email.
fn establish(
    oidc: &Oidc,
    provider: &Provider,
    json: &Value,
    next: &str,
) -> Result<(Response<String>, String), Stop> {
    let settings = &provider.settings;
    let identity = match oidc.settings.claims.identity_from(json) {
        Ok(Some(identity)) => identity,
        Ok(None) => {
            return Err(refuse(
                "email_missing",
                "Your identity provider gave no email address for your account.",
                next,
            ));
        }
        Err(error) => {
            return Err(refuse(
                "identity_invalid",
                &format!("Your account cannot be used: {}.", error.message()),
                next,
            ));
        }
    };
    if let Err(refusal) = rules::check(&settings.rules, json, identity.email()) {
        let mut stop = refuse(refusal.reason, &refusal.explain, next);
        stop.detail = Some(portal_sso::events::mask_email(identity.email()));
        return Err(stop);
    }
    let names = field_names(oidc);
    let ttl = settings.session_ttl.as_secs();
    let session = Session::new(&settings.name, &identity, &names, ttl);
    let cookie = session.seal(&oidc.settings, &oidc.keys.session, ttl).map_err(|size| {
        refuse(
            "session_too_large",
            &format!(
                "Your account's details take {size} bytes, more than the {} bytes this sign-in keeps in \
                 its cookie. The operator can map fewer or shorter fields in [session.claims].",
                super::MAX_COOKIE_BYTES
            ),
            next,
        )
    })?;
    let mut response = pages::redirect(next);
    pages::set_cookie(&mut response, &cookie);
    Ok((response, portal_sso::events::mask_email(identity.email())))
}

fn refuse_token(reason: &'static str, next: &str) -> Stop {
    refuse(
        reason,
        "The identity provider's answer could not be verified, so you are not signed in. \
         The operator can find the cause in the log.",
        next,
    )
}

/// The identity fields the session keeps: `email`, the names, and every field mapped.
fn field_names(oidc: &Oidc) -> Vec<String> {
    oidc.settings
        .fields
        .iter()
        .map(|(name, _)| name.clone())
        .collect()
}
