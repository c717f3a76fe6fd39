//! `token sign`: one sign-in through the layer itself, with the preset's portal, a fixed
//! identity and one request to its route; the token is read from the answer, so what is
//! printed is exactly what the layer signs.

use std::convert::Infallible;
use std::future::{Ready, ready};
use std::task::{Context, Poll};

use http::{Request, Response};
use tower_layer::Layer as _;
use tower_service::Service;

use super::SignArgs;
use portal_sso::{Identity, Secret, SsoLayer, TokenIn};

/// The origin every target of a signed-for-printing sign-in is on.
const ORIGIN: &str = "https://portal.invalid";

/// The app the layer wraps: never reached by a sign-in.
#[derive(Clone)]
struct Nothing;

impl Service<Request<()>> for Nothing {
    type Response = Response<String>;
    type Error = Infallible;
    type Future = Ready<Result<Response<String>, Infallible>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, _: Request<()>) -> Self::Future {
        ready(Ok(Response::new(String::new())))
    }
}

/// `NAME=VALUE` split, naming the option when there is no `=`.
fn pair<'a>(option: &str, text: &'a str) -> Result<(&'a str, &'a str), String> {
    text.split_once('=')
        .filter(|(name, _)| !name.is_empty())
        .ok_or_else(|| format!("{option} takes NAME=VALUE, not `{text}`"))
}

/// The identity `args` describe.
fn identity(args: &SignArgs) -> Result<Identity, String> {
    let mut identity = Identity::new(args.email.clone())
        .map_err(|error| format!("--email is not usable: {error}"))?
        .with_first_name(args.first_name.clone().unwrap_or_default())
        .with_last_name(args.last_name.clone().unwrap_or_default());
    for field in &args.fields {
        let (name, value) = pair("--field", field)?;
        let value = serde_json::from_str(value)
            .unwrap_or_else(|_| serde_json::Value::from(value.to_owned()));
        identity = identity.with_field(name, value);
    }
    Ok(identity)
}

/// Signs for the identity `args` describe, as the layer's preset `args.kind` does, with
/// `args.params` added to the request the portal would send.
pub(super) fn sign(args: &SignArgs, secret: Secret) -> Result<String, String> {
    let identity = identity(args)?;
    let mut portal = args.kind.portal(secret).with_redirect_origins([ORIGIN]);
    // The token is read from the answer's Location: a form post is asked for in the query.
    if portal.token_in() == TokenIn::FormPost {
        portal = portal.with_token_in(TokenIn::Query);
    }
    let mut query: Vec<(String, String)> = Vec::new();
    match portal.target_param() {
        Some(param) => query.push((param.to_owned(), format!("{ORIGIN}/"))),
        None if portal.callback_url().is_none() => {
            let callback = args
                .callback_url
                .clone()
                .unwrap_or_else(|| format!("{ORIGIN}/callback"));
            portal = portal.with_callback_url(callback);
        }
        None => {}
    }
    for param in &args.params {
        let (name, value) = pair("--param", param)?;
        query.push((name.to_owned(), value.to_owned()));
    }
    let (path, token_param, token_in) = (
        portal.path().to_owned(),
        portal.token_param().to_owned(),
        portal.token_in(),
    );
    let layer = SsoLayer::builder()
        .with_identity(move |_: &http::request::Parts| ready(Ok(Some(identity.clone()))))
        .with_portal(portal)
        .allow_short_secrets(true)
        .build()
        .map_err(|error| format!("{}: {}", error.field(), error.problem()))?;
    let query = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(&query)
        .finish();
    let request = Request::get(format!("{path}?{query}"))
        .body(())
        .map_err(|error| format!("the request could not be made: {error}"))?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|error| format!("no runtime: {error}"))?;
    let mut service = layer.layer(Nothing);
    let response = runtime
        .block_on(async {
            std::future::poll_fn(|cx| service.poll_ready(cx)).await?;
            service.call(request).await
        })
        .unwrap_or_else(|never| match never {});
    let refused = || {
        let body = response
            .body()
            .lines()
            .find(|l| l.contains("<p>"))
            .unwrap_or("");
        format!("the layer refused to sign ({}): {body}", response.status())
    };
    let location = response
        .headers()
        .get(http::header::LOCATION)
        .and_then(|value| value.to_str().ok())
        .ok_or_else(refused)?;
    let url = url::Url::parse(location).map_err(|_| refused())?;
    let token = match token_in {
        TokenIn::Fragment if token_param.is_empty() => url.fragment().map(str::to_owned),
        TokenIn::Fragment => url.fragment().and_then(|fragment| {
            url::form_urlencoded::parse(fragment.as_bytes())
                .find(|(key, _)| *key == *token_param)
                .map(|(_, value)| value.into_owned())
        }),
        _ => url
            .query_pairs()
            .find(|(key, _)| *key == *token_param)
            .map(|(_, value)| value.into_owned()),
    };
    token.ok_or_else(refused)
}
