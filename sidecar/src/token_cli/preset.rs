//! `token sign` and `token inspect` for the presets beyond Kustomer and Aha!.
//!
//! `sign` runs one sign-in through the layer itself (the core's preset, a fixed identity,
//! one request to its route) and prints the token from the answer, so what it prints is
//! exactly what the layer signs. `inspect` checks the header (`alg` the preset's, `typ`
//! `JWT`), the signature when the HS* secret or the public key is given, each claim the
//! preset always signs (present, and a string or an integer as the vendor reads it), and
//! the vendor's time rules (`iat` within three minutes for Zendesk and Helpjuice, `exp`
//! not past).

use std::convert::Infallible;
use std::future::{Ready, ready};
use std::task::{Context, Poll};

use http::{Request, Response};
use jsonwebtoken::DecodingKey;
use serde_json::{Map, Value};
use tower_layer::Layer as _;
use tower_service::Service;

use super::Kind;
use super::check::Decoded;
use portal_sso::{Identity, JwtAlgorithm, JwtPortal, Secret, SsoLayer, TokenIn};

/// The origin every target of a signed-for-inspection sign-in is on.
const ORIGIN: &str = "https://portal.invalid";

/// The preset's portal with `key`, sending to `callback` (or a placeholder), its token in
/// the query or fragment, and the request parameters that make it sign.
fn portal(kind: Kind, key: Secret, callback: Option<&str>) -> (JwtPortal, Vec<(String, String)>) {
    let callback = callback.map_or_else(|| format!("{ORIGIN}/callback"), str::to_owned);
    let target = |name: &str| vec![(name.to_owned(), format!("{ORIGIN}/"))];
    let (portal, params) = match kind {
        Kind::Zendesk => (
            JwtPortal::zendesk(key, callback).with_token_in(TokenIn::Query),
            Vec::new(),
        ),
        Kind::Gitbook => (JwtPortal::gitbook(key, callback), Vec::new()),
        Kind::Canny => (JwtPortal::canny(key), Vec::new()),
        Kind::Helpscout => (JwtPortal::helpscout(key, callback), Vec::new()),
        Kind::Frill => (JwtPortal::frill(key), target("redirect")),
        Kind::Readme => (JwtPortal::readme(key, callback), Vec::new()),
        Kind::Mintlify => (JwtPortal::mintlify(key, callback), Vec::new()),
        Kind::Helpjuice => (JwtPortal::helpjuice(key, callback), Vec::new()),
        Kind::Helpdocs => (JwtPortal::helpdocs(key, callback), Vec::new()),
        Kind::Freshworks => (JwtPortal::freshworks(key), target("redirect_uri")),
        Kind::Kustomer | Kind::Aha => unreachable!("signed by their own claims"),
    };
    (portal.with_redirect_origins([ORIGIN]), params)
}

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

/// Signs for `identity` as the layer's `kind` preset does, with `params` added to the
/// request the portal would send.
pub(super) fn sign(
    kind: Kind,
    key: Secret,
    identity: Identity,
    callback: Option<&str>,
    params: &[(String, String)],
) -> Result<String, String> {
    let (portal, mut query) = portal(kind, key, callback);
    query.extend(params.iter().cloned());
    let path = portal.path().to_owned();
    let token_param = match kind {
        Kind::Mintlify => None,
        Kind::Zendesk | Kind::Helpjuice | Kind::Helpdocs => Some("jwt"),
        Kind::Gitbook => Some("jwt_token"),
        Kind::Canny | Kind::Frill => Some("ssoToken"),
        Kind::Helpscout => Some("token"),
        Kind::Readme => Some("auth_token"),
        Kind::Freshworks => Some("id_token"),
        Kind::Kustomer | Kind::Aha => unreachable!("signed by their own claims"),
    };
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
    let token = match token_param {
        None => url.fragment().map(str::to_owned),
        Some(name) => url
            .query_pairs()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.into_owned()),
    };
    token.ok_or_else(refused)
}

/// What a claim must hold.
#[derive(Clone, Copy)]
enum Holds {
    Text,
    Integer,
    /// A user id: a string or an integer.
    Id,
}

/// The preset's algorithm and the claims it always signs.
fn rules(kind: Kind) -> (JwtAlgorithm, &'static [(&'static str, Holds)]) {
    use Holds::{Id, Integer, Text};
    match kind {
        Kind::Zendesk => (
            JwtAlgorithm::HS256,
            &[
                ("iat", Integer),
                ("jti", Text),
                ("email", Text),
                ("name", Text),
            ],
        ),
        Kind::Gitbook => (
            JwtAlgorithm::HS256,
            &[("iat", Integer), ("exp", Integer), ("email", Text)],
        ),
        Kind::Canny => (
            JwtAlgorithm::HS256,
            &[("email", Text), ("id", Id), ("name", Text)],
        ),
        Kind::Helpscout => (JwtAlgorithm::HS512, &[("sub", Text), ("exp", Integer)]),
        Kind::Frill => (JwtAlgorithm::HS256, &[("email", Text), ("id", Id)]),
        Kind::Readme => (JwtAlgorithm::HS256, &[("email", Text)]),
        Kind::Mintlify => (
            JwtAlgorithm::EdDSA,
            &[("exp", Integer), ("expiresAt", Integer)],
        ),
        Kind::Helpjuice => (
            JwtAlgorithm::HS256,
            &[("jti", Text), ("iat", Integer), ("email", Text)],
        ),
        Kind::Helpdocs => (
            JwtAlgorithm::HS256,
            &[("iat", Integer), ("exp", Integer), ("aud", Text)],
        ),
        Kind::Freshworks => (
            JwtAlgorithm::RS256,
            &[
                ("sub", Text),
                ("email", Text),
                ("iat", Integer),
                ("nonce", Text),
            ],
        ),
        Kind::Kustomer | Kind::Aha => unreachable!("checked by their vendors' rules"),
    }
}

/// How long after `iat` a vendor still accepts the token (Zendesk's clock skew and
/// Helpjuice's age limit are both three minutes).
const IAT_WINDOW_SECS: i64 = 180;

/// The report's check lines for `kind`, at `now` (Unix seconds): `(passed, text)`.
pub(super) fn check(
    kind: Kind,
    header: &Map<String, Value>,
    claims: &Map<String, Value>,
    signature: Option<(&str, bool)>,
    now: i64,
) -> Vec<(bool, String)> {
    let (algorithm, wanted) = rules(kind);
    let mut lines = Vec::new();
    let alg = header.get("alg").and_then(Value::as_str);
    lines.push(if alg == Some(algorithm.name()) {
        (true, format!("header alg is {algorithm}"))
    } else {
        (
            false,
            format!(
                "header alg is {}, but {} requires {algorithm}",
                alg.unwrap_or("missing"),
                kind.name()
            ),
        )
    });
    let typ = header.get("typ").and_then(Value::as_str);
    lines.push(match typ {
        Some("JWT") => (true, "header typ is JWT".to_owned()),
        Some(other) => (false, format!("header typ is {other}, but JWT is required")),
        None => (false, "header has no typ; typ JWT is required".to_owned()),
    });
    if let Some((key, valid)) = signature {
        lines.push(if valid {
            (true, format!("signature is valid ({algorithm} with {key})"))
        } else {
            (false, format!("signature is invalid for {key}"))
        });
    }
    for (name, holds) in wanted {
        let line = match (claims.get(*name), holds) {
            (None, _) => (false, format!("{name} is missing")),
            (Some(Value::String(_)), Holds::Text | Holds::Id) => {
                (true, format!("{name} is a string"))
            }
            (Some(Value::Number(n)), Holds::Integer | Holds::Id) if n.is_i64() || n.is_u64() => {
                (true, format!("{name} is an integer"))
            }
            (Some(_), Holds::Text) => (false, format!("{name} is not a string")),
            (Some(_), Holds::Integer) => (false, format!("{name} is not an integer")),
            (Some(_), Holds::Id) => (false, format!("{name} is neither a string nor an integer")),
        };
        lines.push(line);
    }
    if kind == Kind::Helpjuice
        && let Some(iat) = claims.get("iat").and_then(Value::as_i64)
        && iat < 100_000_000_000
    {
        lines.push((
            false,
            "iat looks like seconds; Helpjuice reads milliseconds".to_owned(),
        ));
    }
    lines.extend(times(kind, claims, now));
    lines
}

/// The time checks the vendor applies: `iat` within its window (Zendesk, Helpjuice in
/// milliseconds), `exp` not past, and for `HelpDocs` `iat` not ahead.
fn times(kind: Kind, claims: &Map<String, Value>, now: i64) -> Vec<(bool, String)> {
    let mut lines = Vec::new();
    let iat = claims.get("iat").and_then(Value::as_i64);
    let window = match kind {
        Kind::Zendesk => iat.map(|iat| (iat, "Zendesk")),
        Kind::Helpjuice => iat.map(|iat| (iat / 1000, "Helpjuice")),
        _ => None,
    };
    if let Some((iat, vendor)) = window {
        let age = now - iat;
        lines.push(if age.abs() <= IAT_WINDOW_SECS {
            (
                true,
                format!("iat is {age} s from now, within {vendor}'s 3 minutes"),
            )
        } else if age > 0 {
            (
                false,
                format!("iat is {age} s old; {vendor} accepts 3 minutes"),
            )
        } else {
            (
                false,
                format!("iat is {} s ahead; {vendor} accepts 3 minutes", -age),
            )
        });
    }
    if kind == Kind::Helpdocs
        && let Some(iat) = iat
        && iat > now
    {
        lines.push((
            false,
            format!("iat is {} s ahead; HelpDocs refuses it", iat - now),
        ));
    }
    if let Some(exp) = claims.get("exp").and_then(Value::as_i64) {
        lines.push(if exp > now {
            (true, format!("exp is in {} s", exp - now))
        } else {
            (false, format!("exp passed {} s ago", now - exp))
        });
    }
    lines
}

/// The preset's algorithm: HS* presets' signatures can be checked with `--secret-env`.
pub(super) fn algorithm(kind: Kind) -> JwtAlgorithm {
    rules(kind).0
}

impl Decoded<'_> {
    /// Whether the signature is `algorithm`'s with the public key in the PEM `pem`; an
    /// error when `pem` is not such a key.
    pub(super) fn verify_public(
        &self,
        algorithm: JwtAlgorithm,
        pem: &[u8],
    ) -> Result<bool, String> {
        let key = match algorithm {
            JwtAlgorithm::EdDSA => DecodingKey::from_ed_pem(pem),
            JwtAlgorithm::ES256 => DecodingKey::from_ec_pem(pem),
            _ => DecodingKey::from_rsa_pem(pem),
        }
        .map_err(|_| format!("is not a PEM public key for {algorithm}"))?;
        Ok(jsonwebtoken::crypto::verify(
            self.signature,
            self.signing_input.as_bytes(),
            &key,
            algorithm.into(),
        )
        .unwrap_or(false))
    }

    /// Whether the signature is `algorithm`'s HMAC with `secret`.
    pub(super) fn verify_hmac(&self, algorithm: JwtAlgorithm, secret: &Secret) -> bool {
        jsonwebtoken::crypto::verify(
            self.signature,
            self.signing_input.as_bytes(),
            &DecodingKey::from_secret(secret.expose()),
            algorithm.into(),
        )
        .unwrap_or(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_764_590_000;

    fn time_lines(kind: Kind, claims: &Value) -> Vec<(bool, String)> {
        times(kind, claims.as_object().unwrap(), NOW)
    }

    #[test]
    fn zendesk_and_helpjuice_accept_an_iat_within_three_minutes_either_way() {
        for (kind, unit) in [(Kind::Zendesk, 1), (Kind::Helpjuice, 1000)] {
            let at = |secs: i64| time_lines(kind, &serde_json::json!({ "iat": secs * unit }));
            assert!(at(NOW - 10)[0].0, "{:?}", at(NOW - 10));
            assert!(at(NOW + 170)[0].0, "{:?}", at(NOW + 170));
            let old = at(NOW - 200);
            assert!(!old[0].0 && old[0].1.contains("200 s old"), "{old:?}");
            let ahead = at(NOW + 200);
            assert!(
                !ahead[0].0 && ahead[0].1.contains("200 s ahead"),
                "{ahead:?}"
            );
        }
    }

    #[test]
    fn a_past_exp_and_a_helpdocs_iat_ahead_are_problems() {
        let past = time_lines(
            Kind::Gitbook,
            &serde_json::json!({ "iat": NOW - 90, "exp": NOW - 30 }),
        );
        assert_eq!(past, [(false, "exp passed 30 s ago".to_owned())]);
        let fine = time_lines(Kind::Mintlify, &serde_json::json!({ "exp": NOW + 10 }));
        assert_eq!(fine, [(true, "exp is in 10 s".to_owned())]);
        let ahead = time_lines(
            Kind::Helpdocs,
            &serde_json::json!({ "iat": NOW + 60, "exp": NOW + 600 }),
        );
        assert!(
            ahead
                .iter()
                .any(|(ok, text)| !ok && text == "iat is 60 s ahead; HelpDocs refuses it"),
            "{ahead:?}"
        );
        // Kinds without time claims get no time lines.
        assert!(time_lines(Kind::Canny, &serde_json::json!({ "email": "a@b.c" })).is_empty());
    }
}
