//! What is allowed but unwise: `check-config` prints each as a warning line, and `serve`
//! and a reload log them.

use portal_sso::Preset;
use portal_sso::origins::OriginPattern;

use super::cookie_key::CookieKey;
use super::{SidecarConfig, admin};

impl SidecarConfig {
    /// One line per warning, each naming the key it is about.
    pub fn warnings(&self) -> Vec<String> {
        let mut warnings: Vec<String> =
            admin::open_admin_warning(self.admin_listen, self.admin_token.as_ref())
                .into_iter()
                .collect();
        if let CookieKey::PerProcess(_) = self.cookie_key {
            warnings.push(
                "cookie_key: not set, so this process makes its own at random and replicas \
                 will not agree (a browser's login-loop count and remote-logout marker are \
                 read only by the replica that set them); give every replica the same \
                 cookie_key = { env = \"…\" } or { file = \"…\" }, 32 random bytes or more"
                    .to_owned(),
            );
        }
        for (index, portal) in self.portals.iter().enumerate() {
            for (at, origin) in portal.portal.redirect_origins().iter().enumerate() {
                if let Some(vendor) = shared_vendor_domain(origin) {
                    warnings.push(format!(
                        "portal[{index}].redirect_origins[{at}]: `{origin}` covers every \
                         tenant of {vendor}: any of them could receive this portal's tokens; \
                         name your own host instead"
                    ));
                }
            }
        }
        warnings
    }
}

/// The vendor and domain a wildcard origin spans, when it spans a vendor's shared domain
/// (`https://*.zendesk.com`, or wider, `https://*.com`).
fn shared_vendor_domain(origin: &str) -> Option<String> {
    let pattern = OriginPattern::parse(origin).ok()?;
    let domain = pattern.wildcard_domain()?;
    Preset::all().find_map(|preset| {
        preset
            .tenant_domains()
            .iter()
            .find(|tenant| **tenant == domain || tenant.ends_with(&format!(".{domain}")))
            .map(|tenant| format!("{} ({tenant})", preset.vendor()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_over_a_vendors_shared_domain_are_named() {
        for origin in [
            "https://*.zendesk.com",
            "https://*.frill.co",
            "https://*.kustomer.help",
            "https://*.freshdesk.com",
            "https://*.com",
        ] {
            assert!(shared_vendor_domain(origin).is_some(), "{origin}");
        }
        for origin in [
            "https://acme.zendesk.com",
            "https://*.acme.zendesk.com",
            "https://*.acme.com",
        ] {
            assert_eq!(shared_vendor_domain(origin), None, "{origin}");
        }
    }
}
