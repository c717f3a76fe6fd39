//! Reading what a JWT-redirect portal is sent: tokens under any algorithm, the test-only
//! keys, the token in a fragment, the fields of a self-posting form.

use http::request::Parts;
use jsonwebtoken::{Algorithm, DecodingKey, Header, Validation};
use portal_sso::{Identity, JwtPortal, Secret, Sso, SsoLayer};
use serde_json::{Map, Value, json};

use super::{Recorder, Reply};

/// Alice as an app with more than names knows her: a numeric id, an external id, an
/// avatar and groups.
pub fn alice_in_full() -> Identity {
    Identity::new("alice@example.com")
        .expect("an address")
        .with_first_name("Alice")
        .with_last_name("Liddell")
        .with_field("id", 42)
        .with_field("external_id", "crm-0042")
        .with_field("avatar_url", "https://cdn.acme.example/alice.png")
        .with_field("groups", json!(["beta", "docs"]))
}

/// The test app behind a layer with `portal` alone, signing `identity` in on every
/// request, events going to `recorder`.
pub fn signed_in(portal: JwtPortal, identity: Identity, recorder: &Recorder) -> Sso<axum::Router> {
    super::app(
        SsoLayer::builder()
            .with_identity(move |_: &Parts| {
                let identity = identity.clone();
                async move { Ok(Some(identity)) }
            })
            .with_observer(recorder.observer())
            .with_portal(portal),
    )
}

/// A test-only key from `tests/keys/`.
pub fn key_file(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/keys/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|error| panic!("{path}: {error}"))
}

/// A test-only private key, as a portal is configured with it.
pub fn private_key(name: &str) -> Secret {
    Secret::new(key_file(name))
}

/// The RSA public key matching `test-only-rsa-private.pem`.
pub fn rsa_public() -> DecodingKey {
    DecodingKey::from_rsa_pem(&key_file("test-only-rsa-public.pem")).expect("RSA public key")
}

/// The P-256 public key matching `test-only-p256-private.pem`.
pub fn p256_public() -> DecodingKey {
    DecodingKey::from_ec_pem(&key_file("test-only-p256-public.pem")).expect("P-256 public key")
}

/// The Ed25519 public key matching `test-only-ed25519-private.pem`.
pub fn ed25519_public() -> DecodingKey {
    DecodingKey::from_ed_pem(&key_file("test-only-ed25519-public.pem")).expect("Ed25519 public key")
}

/// Verifies `token` under exactly `alg` with `key` (no claim required, times not checked)
/// and returns its header and claims.
pub fn decode_with(token: &str, alg: Algorithm, key: &DecodingKey) -> (Header, Map<String, Value>) {
    let mut validation = Validation::new(alg);
    validation.required_spec_claims.clear();
    validation.validate_exp = false;
    validation.validate_aud = false;
    let data = jsonwebtoken::decode::<Map<String, Value>>(token, key, &validation)
        .unwrap_or_else(|error| panic!("the token verifies under {alg:?}: {error}"));
    assert_eq!(data.header.alg, alg);
    assert_eq!(data.header.typ.as_deref(), Some("JWT"), "typ is JWT");
    (data.header, data.claims)
}

/// [`decode_with`] for an HMAC secret.
pub fn decode_hs(token: &str, alg: Algorithm, secret: &str) -> Map<String, Value> {
    decode_with(token, alg, &DecodingKey::from_secret(secret.as_bytes())).1
}

/// The claim names, sorted.
pub fn claim_names(claims: &Map<String, Value>) -> Vec<&str> {
    let mut names: Vec<&str> = claims.keys().map(String::as_str).collect();
    names.sort_unstable();
    names
}

/// `Location` with the token replaced by `TOKEN`, so a whole URL can be compared byte
/// for byte; and the token.
pub fn location_and_token(reply: &Reply, token_param: &str) -> (String, String) {
    let location = reply.location();
    let token = super::token_in(location, token_param);
    (location.replace(&token, "TOKEN"), token)
}

/// The token that is the whole fragment of `Location`.
pub fn fragment_token(reply: &Reply) -> (String, String) {
    let location = reply.location();
    let (before, token) = location.split_once('#').expect("Location has a fragment");
    (format!("{before}#TOKEN"), token.to_owned())
}

/// A self-posting form as the browser reads it.
#[derive(Debug)]
pub struct Form {
    pub method: String,
    pub action: String,
    pub fields: Vec<(String, String)>,
    pub scripts: Vec<String>,
}

impl Form {
    /// Reads the one form in `html`, unescaping attribute values.
    pub fn parse(html: &str) -> Self {
        let forms: Vec<&str> = html.split("<form ").skip(1).collect();
        assert_eq!(forms.len(), 1, "one form in {html}");
        let form = forms[0];
        let tag = &form[..form.find('>').expect("form tag ends")];
        let mut fields = Vec::new();
        for input in form.split("<input ").skip(1) {
            let input = &input[..input.find('>').expect("input tag ends")];
            assert_eq!(attribute(input, "type").as_deref(), Some("hidden"));
            fields.push((
                attribute(input, "name").expect("name"),
                attribute(input, "value").expect("value"),
            ));
        }
        let scripts = html
            .split("<script")
            .skip(1)
            .map(|rest| {
                let body = &rest[rest.find('>').expect("script tag ends") + 1..];
                body[..body.find("</script>").expect("script ends")].to_owned()
            })
            .collect();
        Self {
            method: attribute(tag, "method").expect("method"),
            action: attribute(tag, "action").expect("action"),
            fields,
            scripts,
        }
    }
}

fn attribute(tag: &str, name: &str) -> Option<String> {
    let start = tag.find(&format!("{name}=\""))? + name.len() + 2;
    let end = start + tag[start..].find('"')?;
    Some(
        tag[start..end]
            .replace("&quot;", "\"")
            .replace("&#39;", "'")
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&amp;", "&"),
    )
}

/// The `sha256-` source a CSP names `script` by.
pub fn csp_hash(script: &str) -> String {
    use base64::Engine as _;
    use sha2::Digest as _;
    let digest = sha2::Sha256::digest(script.as_bytes());
    format!(
        "'sha256-{}'",
        base64::engine::general_purpose::STANDARD.encode(digest)
    )
}
