//! A Zendesk help center on a host-mapped domain: the form that posts the token may also
//! post to (and be redirected to) the origins in `form_action_origins`, through the real
//! binary; a malformed one is a config error naming the key.

use crate::support;

use http::StatusCode;
use support::*;

const ZENDESK_SECRET: &str = "zendesk-shared-secret-for-the-tests-0123456789";

fn with_zendesk(upstream: &Upstream, origins: &str) -> String {
    format!(
        "{}\n[[portal]]\nkind = \"zendesk\"\nsecret = {{ env = \"ZENDESK_JWT_SECRET\" }}\n\
         callback_url = \"https://acme.zendesk.com/access/jwt\"\nlogout_path = \"\"\n\
         form_action_origins = {origins}\n",
        config(
            &upstream.url(),
            &format!("{}/api/me", upstream.url()),
            "",
            ""
        )
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_form_may_post_to_the_host_mapped_origin_too() {
    let upstream = Upstream::start().await;
    let config = with_zendesk(&upstream, r#"["https://support.acme.com"]"#);
    let sidecar = Sidecar::start_with_env(&config, &[("ZENDESK_JWT_SECRET", ZENDESK_SECRET)]);
    let (status, headers, body) = get(
        &sidecar.url("/sso/zendesk?return_to=%2Fhc%2Fen-us"),
        Some(&format!("sid={ALICE_SESSION}")),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let policy = headers["content-security-policy"].to_str().unwrap();
    assert!(
        policy.contains("form-action https://acme.zendesk.com https://support.acme.com;"),
        "{policy}"
    );
    let page = String::from_utf8(body.to_vec()).unwrap();
    assert!(
        page.contains("action=\"https://acme.zendesk.com/access/jwt?return_to="),
        "{page}"
    );
}

#[test]
fn a_malformed_form_action_origin_is_named() {
    let dir = TempDir::new();
    let path = dir.write(
        "portal-sso.toml",
        &format!(
            "{}\n[[portal]]\nkind = \"zendesk\"\nsecret = {{ env = \"ZENDESK_JWT_SECRET\" }}\n\
             callback_url = \"https://acme.zendesk.com/access/jwt\"\nlogout_path = \"\"\n\
             form_action_origins = [\"support.acme.com/path\"]\n",
            config("http://127.0.0.1:9", "http://127.0.0.1:9/api/me", "", "")
        ),
    );
    let mut env = secret_env();
    env.push(("ZENDESK_JWT_SECRET", ZENDESK_SECRET));
    let output = run_cli(&["check-config", "--config", path.to_str().unwrap()], &env);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        stderr.starts_with("portal-sso: config error: portal[2].form_action_origins"),
        "{stderr}"
    );
}
