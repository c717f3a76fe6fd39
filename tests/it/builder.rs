//! The builder refuses every setting the layer cannot work with, at build time, with a
//! `ConfigError` naming the field.

use crate::common;

use common::*;
use portal_sso::{ConfigError, JwtPortal, MIN_SECRET_LEN, Secret, SsoLayer, SsoLayerBuilder};

fn refused(builder: SsoLayerBuilder) -> ConfigError {
    builder.build().expect_err("the configuration is refused")
}

fn kustomer_only() -> SsoLayerBuilder {
    SsoLayer::builder().with_identity(Users::default())
}

#[test]
fn a_missing_identity_source_is_named() {
    let err = refused(SsoLayer::builder().with_portal(kustomer_portal()));
    assert_eq!(err.field(), "identity");
    assert!(err.to_string().starts_with("identity: "), "{err}");
}

#[test]
fn no_portals_is_named() {
    let err = refused(SsoLayer::builder().with_identity(Users::default()));
    assert_eq!(err.field(), "portals");
}

#[test]
fn a_short_secret_is_refused_unless_allowed() {
    let short = "s".repeat(MIN_SECRET_LEN - 1);
    let err = refused(kustomer_only().with_portal(
        JwtPortal::kustomer(Secret::new(&short)).with_redirect_origins([KUSTOMER_ORIGIN]),
    ));
    assert_eq!(err.field(), "portals[0].secret");
    assert!(err.problem().contains("31 bytes"), "{err}");
    assert!(
        !err.to_string().contains(&short),
        "the error never shows the secret"
    );

    let err = refused(
        kustomer_only()
            .with_portal(kustomer_portal())
            .with_portal(JwtPortal::aha(Secret::new("short"), AHA_CALLBACK)),
    );
    assert_eq!(err.field(), "portals[1].secret");

    assert!(
        kustomer_only()
            .with_portal(
                JwtPortal::kustomer(Secret::new(&short)).with_redirect_origins([KUSTOMER_ORIGIN])
            )
            .allow_short_secrets(true)
            .build()
            .is_ok()
    );
    let exact = "s".repeat(MIN_SECRET_LEN);
    assert!(
        kustomer_only()
            .with_portal(
                JwtPortal::kustomer(Secret::new(&exact)).with_redirect_origins([KUSTOMER_ORIGIN])
            )
            .build()
            .is_ok()
    );
}

#[test]
fn an_empty_secret_is_refused_even_when_short_ones_are_allowed() {
    let err = refused(
        kustomer_only()
            .with_portal(
                JwtPortal::kustomer(Secret::new("")).with_redirect_origins([KUSTOMER_ORIGIN]),
            )
            .allow_short_secrets(true),
    );
    assert_eq!(err.field(), "portals[0].secret");
}

#[test]
fn bad_redirect_origin_patterns_are_named() {
    for origin in [
        "acme.kustomer.help",
        "ftp://acme.kustomer.help",
        "https://acme.kustomer.help/login",
        "https://acme.kustomer.help?x=1",
        "https://user@acme.kustomer.help",
        "https://acme.*.help",
        "https://*",
        "https://*.127.0.0.1",
        "https://",
    ] {
        let err = refused(kustomer_only().with_portal(
            JwtPortal::kustomer(Secret::new(KUSTOMER_SECRET)).with_redirect_origins([origin]),
        ));
        assert_eq!(err.field(), "portals[0].redirect_origins[0]", "{origin}");
    }
}

#[test]
fn a_kustomer_portal_needs_somewhere_to_send_tokens() {
    let err =
        refused(kustomer_only().with_portal(JwtPortal::kustomer(Secret::new(KUSTOMER_SECRET))));
    assert_eq!(err.field(), "portals[0].redirect_origins");
}

#[test]
fn a_default_redirect_outside_the_origins_is_named() {
    for default in [
        "https://evil.com/login",
        "http://acme.kustomer.help/login",
        "/login",
        "https://acme.kustomer.help.evil.com/",
    ] {
        let err = refused(
            kustomer_only().with_portal(
                JwtPortal::kustomer(Secret::new(KUSTOMER_SECRET))
                    .with_redirect_origins([KUSTOMER_ORIGIN])
                    .with_default_redirect(default),
            ),
        );
        assert_eq!(err.field(), "portals[0].default_redirect", "{default}");
    }
}

#[test]
fn two_routes_on_one_path_are_named() {
    let err = refused(
        kustomer_only()
            .with_portal(kustomer_portal())
            .with_portal(kustomer_portal().with_name("brand-b")),
    );
    assert_eq!(err.field(), "portals[1].path");
    assert!(err.problem().contains("/sso/kustomer"), "{err}");

    let err = refused(
        kustomer_only()
            .with_portal(aha_portal())
            .with_portal(kustomer_portal().with_path("/sso/aha/logout")),
    );
    assert_eq!(err.field(), "portals[1].path");

    let err = refused(
        kustomer_only()
            .with_portal(
                aha_portal().with_portal_logout_url("https://acme.aha.site/portal_session/logout"),
            )
            .with_app_logout_path("/sso/aha"),
    );
    assert_eq!(err.field(), "app_logout_path");
}

#[test]
fn bad_route_paths_are_named() {
    for path in [
        "sso/kustomer",
        "//sso",
        "/sso?x",
        "/sso#x",
        "/sso kustomer",
        "/sso%2F",
        "/sso\\k",
        "",
    ] {
        let err = refused(kustomer_only().with_portal(kustomer_portal().with_path(path)));
        assert_eq!(err.field(), "portals[0].path", "{path:?}");
    }
    let err = refused(kustomer_only().with_portal(aha_portal().with_logout_path(Some("logout"))));
    assert_eq!(err.field(), "portals[0].logout_path");
}

#[test]
fn a_bad_aha_callback_url_is_named() {
    for callback in [
        "",
        "/auth/jwt/callback",
        "acme.aha.site/auth/jwt/callback",
        "ftp://acme.aha.site/auth/jwt/callback",
        "https://user:pw@acme.aha.site/auth/jwt/callback",
        "javascript:alert(1)",
    ] {
        let err =
            refused(kustomer_only().with_portal(JwtPortal::aha(Secret::new(AHA_SECRET), callback)));
        assert_eq!(err.field(), "portals[0].callback_url", "{callback:?}");
    }
}

#[test]
fn a_bad_login_url_or_return_param_is_named() {
    for url in [
        "login",
        "//evil.com/login",
        "ftp://app.example.com/login",
        "https://",
        "/log in",
    ] {
        let err = refused(builder(&Users::default()).with_login_url(url));
        assert_eq!(err.field(), "login_url", "{url:?}");
    }
    for param in ["", "ne xt", "next&x=1", "n=1"] {
        let err = refused(builder(&Users::default()).with_return_param(param));
        assert_eq!(err.field(), "return_param", "{param:?}");
    }
}

#[test]
fn app_logout_needs_a_portal_logout_url() {
    let err = refused(builder(&Users::default()).with_app_logout_path("/logout"));
    assert_eq!(err.field(), "app_logout_path");
    assert!(err.problem().contains("portal_logout_url"), "{err}");

    let err =
        refused(kustomer_only().with_portal(
            aha_portal().with_portal_logout_url("acme.aha.site/portal_session/logout"),
        ));
    assert_eq!(err.field(), "portals[0].portal_logout_url");
}

#[test]
fn other_bad_settings_are_named() {
    let err = refused(
        builder(&Users::default()).with_login_loop_limit(0, std::time::Duration::from_secs(60)),
    );
    assert_eq!(err.field(), "login_loop_limit");
    let err = refused(builder(&Users::default()).with_app_logout_url("not a url"));
    assert_eq!(err.field(), "app_logout_url");
    let err = refused(
        kustomer_only().with_portal(aha_portal().with_logout_redirect("javascript:alert(1)")),
    );
    assert_eq!(err.field(), "portals[0].logout_redirect");
    let err = refused(kustomer_only().with_portal(kustomer_portal().with_name("")));
    assert_eq!(err.field(), "portals[0].name");
}

#[test]
fn a_good_configuration_lists_its_routes() {
    let layer = builder(&Users::default())
        .with_portal(
            aha_portal()
                .with_path("/sso/ideas")
                .with_logout_path(Some("/sso/ideas/logout"))
                .with_portal_logout_url("https://acme.aha.site/portal_session/logout"),
        )
        .with_app_logout_path("/logout")
        .build()
        .unwrap();
    let mut routes: Vec<_> = layer.routes().collect();
    routes.sort_unstable();
    assert_eq!(
        routes,
        [
            "/logout",
            "/sso/aha",
            "/sso/aha/logout",
            "/sso/ideas",
            "/sso/ideas/logout",
            "/sso/kustomer"
        ]
    );
}

#[test]
fn errors_display_field_and_problem_and_never_a_secret() {
    let secret = "tiny-secret";
    let err = refused(kustomer_only().with_portal(JwtPortal::aha(Secret::new(secret), "nope")));
    let shown = format!("{err} {err:?}");
    assert!(shown.contains("portals[0]"), "{shown}");
    assert!(!shown.contains(secret), "{shown}");
    let as_std: &dyn std::error::Error = &err;
    assert_eq!(
        as_std.to_string(),
        format!("{}: {}", err.field(), err.problem())
    );
}
