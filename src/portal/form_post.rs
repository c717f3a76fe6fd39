//! [`TokenIn::FormPost`](super::TokenIn::FormPost): a page that posts the token to the
//! portal in a hidden field and submits itself, as Zendesk recommends over a token in a
//! URL.

use http::header::CONTENT_SECURITY_POLICY;
use http::{HeaderValue, Response, StatusCode};

use crate::response::{Written, escape, protect_html};

/// The page's one script. Fixed text, so the policy can allow it by hash alone.
const SUBMIT_SCRIPT: &str = "document.forms[0].submit()";

/// `sha256-` and the base64 SHA-256 of [`SUBMIT_SCRIPT`], as `script-src` names it.
const SUBMIT_SCRIPT_HASH: &str = "'sha256-ePniVEkSivX/c7XWBGafqh8tSpiRrKiqYeqbG7N1TOE='";

/// A 200 page posting `token` as the field `field` to `action` (a URL whose query holds
/// the parameters carried back). `form_action` lists the origins the form may post to.
///
/// The policy lets nothing load and no script run but the submitting one, and the form
/// post only to `form_action`; a browser without script shows the button.
pub(crate) fn page(action: &str, field: &str, token: &str, form_action: &str) -> Written {
    let body = format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Signing in</title></head>\n\
         <body>\n<form method=\"post\" action=\"{action}\">\n\
         <input type=\"hidden\" name=\"{field}\" value=\"{token}\">\n\
         <p>Signing you in to the help center&hellip;</p>\n\
         <button type=\"submit\">Continue</button>\n</form>\n\
         <script>{SUBMIT_SCRIPT}</script>\n</body></html>\n",
        action = escape(action),
        field = escape(field),
        token = escape(token),
    );
    let policy = format!(
        "default-src 'none'; script-src {SUBMIT_SCRIPT_HASH}; form-action {form_action}; \
         base-uri 'none'; frame-ancestors 'none'"
    );
    let Ok(policy) = HeaderValue::from_str(&policy) else {
        return crate::response::page(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Sign-in failed",
            "The portal's address could not be written into a response header.",
        );
    };
    let mut response = Response::new(body);
    protect_html(&mut response);
    response
        .headers_mut()
        .insert(CONTENT_SECURITY_POLICY, policy);
    response
}

#[cfg(test)]
mod tests {
    use base64::Engine as _;
    use sha2::Digest as _;

    use super::*;

    #[test]
    fn the_policy_names_the_script_by_its_hash() {
        let digest = sha2::Sha256::digest(SUBMIT_SCRIPT.as_bytes());
        let encoded = base64::engine::general_purpose::STANDARD.encode(digest);
        assert_eq!(SUBMIT_SCRIPT_HASH, format!("'sha256-{encoded}'"));
    }

    #[test]
    fn the_page_escapes_what_it_carries_and_allows_only_its_script() {
        let response = page(
            "https://acme.zendesk.com/access/jwt?return_to=%2Fhc&a=\"<x>",
            "jwt",
            "eyJ.a\"b<c>.sig",
            "https://acme.zendesk.com",
        );
        assert_eq!(response.status(), StatusCode::OK);
        let body = response.body();
        assert!(body.contains(
            "action=\"https://acme.zendesk.com/access/jwt?return_to=%2Fhc&amp;a=&quot;&lt;x&gt;\""
        ));
        assert!(body.contains("value=\"eyJ.a&quot;b&lt;c&gt;.sig\""));
        assert_eq!(body.matches("<script>").count(), 1);
        let policy = response.headers()[CONTENT_SECURITY_POLICY]
            .to_str()
            .unwrap();
        assert!(
            policy.contains("form-action https://acme.zendesk.com;"),
            "{policy}"
        );
        assert!(
            policy.starts_with("default-src 'none'; script-src 'sha256-"),
            "{policy}"
        );
        assert_eq!(response.headers()[http::header::CACHE_CONTROL], "no-store");
        assert_eq!(
            response.headers()[http::header::REFERRER_POLICY],
            "no-referrer"
        );
    }
}
