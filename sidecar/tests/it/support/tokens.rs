//! Reading what the sidecar signed: an HS256 token decoded with its secret, the test-only
//! PEM keys, and the exact set of claim names.

/// Decodes an HS256 token with `secret`, checking the signature and header.
pub fn decode(token: &str, secret: &str) -> serde_json::Value {
    let header = jsonwebtoken::decode_header(token).unwrap();
    assert_eq!(header.alg, jsonwebtoken::Algorithm::HS256);
    assert_eq!(header.typ.as_deref(), Some("JWT"));
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::HS256);
    validation.required_spec_claims.clear();
    validation.validate_exp = false;
    jsonwebtoken::decode::<serde_json::Value>(
        token,
        &jsonwebtoken::DecodingKey::from_secret(secret.as_bytes()),
        &validation,
    )
    .unwrap()
    .claims
}

/// The path of a test-only key under the repository's `tests/keys/`.
pub fn key_path(name: &str) -> String {
    format!("{}/../tests/keys/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// Asserts that `claims` (a JSON object) has exactly the names `names`, in any order;
/// `label` says which token failed.
pub fn assert_claim_names(label: &str, claims: &serde_json::Value, names: &[&str]) {
    let mut found: Vec<&str> = claims
        .as_object()
        .unwrap_or_else(|| panic!("{label}: claims are not an object: {claims}"))
        .keys()
        .map(String::as_str)
        .collect();
    found.sort_unstable();
    let mut names = names.to_vec();
    names.sort_unstable();
    assert_eq!(found, names, "{label}: {claims}");
}

/// Alice's Kustomer token, signed by `sidecar` now.
pub async fn kustomer_token(sidecar: &super::Sidecar) -> String {
    let cookie = format!("sid={}", super::ALICE_SESSION);
    let (status, headers, _) = super::get(&sidecar.url("/sso/kustomer"), Some(&cookie)).await;
    assert_eq!(status, http::StatusCode::FOUND);
    super::query_param(&super::location(&headers), "externalToken")
        .expect("a token in the redirect")
}

/// Whether `token` carries a valid HS256 signature made with `secret`.
pub fn verifies(token: &str, secret: &str) -> bool {
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::HS256);
    validation.required_spec_claims.clear();
    jsonwebtoken::decode::<serde_json::Value>(
        token,
        &jsonwebtoken::DecodingKey::from_secret(secret.as_bytes()),
        &validation,
    )
    .is_ok()
}
