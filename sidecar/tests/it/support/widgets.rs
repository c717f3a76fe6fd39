//! What the widget tests share: every widget's secret and the environment holding them,
//! the `[session.claims]` they need, a `[[widget]]` for every kind, and the HMAC a
//! signature is recomputed with.

use hmac::{Hmac, Mac};
use sha2::Sha256;

pub const CHAT_SECRET: &str = "kustomer-chat-secret-0123456789abcdefghij";
pub const MESSAGING_SECRET: &str = "zendesk-messaging-key-secret-0123456789abcd";
pub const MESSAGING_KID: &str = "app_64b9f1e5c9a2d70021e4a3b8";
pub const INTERCOM_SECRET: &str = "intercom-messenger-api-secret-0123456789ab";
pub const CANNY_SECRET: &str = "canny-private-sso-key-0123456789abcdefghij";
pub const BEACON_SECRET: &str = "helpscout-beacon-secret-key-0123456789abcd";
pub const FRONT_SECRET: &str = "front-chat-identity-secret-0123456789abcdef";
pub const CRISP_SECRET: &str = "crisp-verification-secret-0123456789abcdef";

/// The environment holding every widget's secret.
pub fn env() -> Vec<(&'static str, &'static str)> {
    vec![
        ("KUSTOMER_CHAT_SECRET", CHAT_SECRET),
        ("ZENDESK_MESSAGING_SECRET", MESSAGING_SECRET),
        ("INTERCOM_SECRET", INTERCOM_SECRET),
        ("CANNY_SSO_KEY", CANNY_SECRET),
        ("BEACON_SECRET", BEACON_SECRET),
        ("FRONT_CHAT_SECRET", FRONT_SECRET),
        ("CRISP_SECRET", CRISP_SECRET),
    ]
}

/// `[session.claims]` with the fields the widgets sign beyond the names.
pub const CLAIMS: &str = "email = \"/email\"\nid = \"/id\"\nemail_verified = \"/email_verified\"\n\
                      avatar_url = \"/avatar_url\"";

/// A `[[widget]]` for every preset, a custom JWT and a custom HMAC; the Beacon's secret
/// read from `beacon_file`.
pub fn widgets(beacon_file: &str) -> String {
    format!(
        r#"
[[widget]]
kind = "kustomer-chat"
secret = {{ env = "KUSTOMER_CHAT_SECRET" }}

[[widget]]
kind = "zendesk-messaging"
secret = {{ env = "ZENDESK_MESSAGING_SECRET" }}
key_id = "{MESSAGING_KID}"
token_ttl_secs = 300

[[widget]]
kind = "intercom"
secret = {{ env = "INTERCOM_SECRET" }}

[[widget]]
kind = "canny-widget"
secret = {{ env = "CANNY_SSO_KEY" }}

[[widget]]
kind = "helpscout-beacon"
secret = {{ file = "{beacon_file}" }}

[[widget]]
kind = "front-chat"
secret = {{ env = "FRONT_CHAT_SECRET" }}

[[widget]]
kind = "intercom-hmac"
secret = {{ env = "INTERCOM_SECRET" }}

[[widget]]
kind = "crisp"
secret = {{ env = "CRISP_SECRET" }}

[[widget]]
kind = "jwt"
name = "chat"
path = "/sso/widget/chat"
algorithm = "HS384"
secret = {{ env = "CRISP_SECRET" }}
token_ttl_secs = 120
[widget.claims]
sub = {{ identity = "id", as_string = true }}
iat_ms = {{ time = "milliseconds" }}
exp = "expiry"

[[widget]]
kind = "hmac"
path = "/sso/widget/by-id"
field = "id"
secret = {{ env = "FRONT_CHAT_SECRET" }}
"#
    )
}

/// The lower-case hex HMAC-SHA256 of `message` under `secret`.
pub fn hmac_hex(secret: &str, message: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(message.as_bytes());
    super::hex(&mac.finalize().into_bytes())
}
