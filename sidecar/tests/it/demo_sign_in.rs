//! `portal-sso demo` signing in, driven over plain HTTP the way a browser clicks through
//! it: Kustomer's round trip through the app's login form, Aha! without a second login or
//! with the app's login once, a wrong password, and a login that returns only to paths of
//! the same site.

use crate::support;

use http::{StatusCode, header};
use support::demo::{Browser, Demo, decode_unverified, now, query_value, sign_in_through_kustomer};

#[tokio::test]
async fn kustomer_round_trip_ends_signed_in_on_the_portal() {
    let demo = Demo::start().await;
    let mut browser = Browser::new();

    let (home, _) = browser.visit(&demo.kustomer("/")).await;
    assert_eq!(home.status, StatusCode::OK);
    assert!(home.text().contains("You are not signed in"));
    let start = home.link("Log in");
    let prefix = format!("{}?trackingToken=", demo.app("/sso/kustomer"));
    assert!(start.starts_with(&prefix), "{start}");
    // Not escaped, as Kustomer's own example shows it.
    let redirect_uri = format!(
        "&kustomerRedirectUri=http://127.0.0.1:{p}/login?referralUrl=http%3A%2F%2F127.0.0.1%3A{p}%2F",
        p = demo.port + 1
    );
    assert!(start.ends_with(&redirect_uri), "{start}");
    let tracking = query_value(&start, "trackingToken").unwrap();
    let (tracking_header, _) = decode_unverified(&tracking);
    assert_eq!(tracking_header["alg"], "none", "trackingToken is unsigned");
    assert!(tracking.ends_with('.'));

    // Signed out at the app: the layer sends the browser to the app's login page.
    let to_login = browser.get(&start).await;
    assert_eq!(to_login.status, StatusCode::FOUND);
    assert!(
        to_login
            .raw_location()
            .starts_with("/login?next=%2Fsso%2Fkustomer%3FtrackingToken%3D"),
        "{}",
        to_login.raw_location()
    );
    let form = browser.get(&to_login.location()).await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(
        form.body
            .contains("<form method=\"post\" action=\"/login\">")
    );
    assert!(form.body.contains("name=\"email\""));
    assert!(form.body.contains("name=\"password\""));
    assert!(form.body.contains("type=\"submit\""));
    let next = form.input("next").unwrap();
    assert_eq!(
        demo.app(&next),
        start,
        "next brings the browser back to this exact URL"
    );

    let submitted = browser.log_in_as_alice(&demo, &next).await;
    assert_eq!(submitted.status, StatusCode::SEE_OTHER);
    assert_eq!(submitted.raw_location(), next);
    assert!(submitted.sets_cookie("demo_session"));

    let signed = browser.get(&submitted.location()).await;
    assert_eq!(signed.status, StatusCode::FOUND);
    assert_eq!(signed.headers[header::CACHE_CONTROL], "no-store");
    let location = signed.raw_location().to_owned();
    let expected_base = format!(
        "http://127.0.0.1:{}/login?referralUrl=http%3A%2F%2F127.0.0.1%3A{}%2F&externalToken=",
        demo.port + 1,
        demo.port + 1
    );
    assert!(location.starts_with(&expected_base), "{location}");
    let token = &location[expected_base.len()..];
    let (jwt_header, claims) = decode_unverified(token);
    assert_eq!(
        jwt_header,
        serde_json::json!({"alg": "HS256", "typ": "JWT"})
    );
    assert_eq!(claims["email"], "alice@example.com");
    let iat = claims["iat"].as_i64().expect("iat is an integer");
    assert!((now() - iat).abs() <= 5, "iat {iat} is now");

    let portal = browser.get(&location).await;
    assert_eq!(portal.status, StatusCode::OK, "{}", portal.text());
    let text = portal.text();
    assert!(text.contains("Signed in as alice@example.com"), "{text}");
    assert!(
        text.contains("\"email\": \"alice@example.com\""),
        "claims shown: {text}"
    );
    assert!(portal.sets_cookie("kustomer_session"));

    let (home, _) = browser.visit(&demo.kustomer("/")).await;
    assert!(home.text().contains("Signed in as alice@example.com"));
    demo.stop().await;
}

#[tokio::test]
async fn aha_signs_in_without_a_second_login() {
    let demo = Demo::start().await;
    let mut browser = Browser::new();
    let portal = sign_in_through_kustomer(&demo, &mut browser).await;
    assert!(portal.text().contains("Signed in as alice@example.com"));

    let (home, _) = browser.visit(&demo.aha("/")).await;
    assert!(home.text().contains("You are not signed in"));
    let start = browser.get(&home.link("Log in")).await;
    assert_eq!(start.status, StatusCode::FOUND);
    let remote_login = start.location();
    assert!(
        remote_login.starts_with(&demo.app("/sso/aha?state=")),
        "{remote_login}"
    );
    let state = query_value(&remote_login, "state").unwrap();
    assert_eq!(state.len(), 64);
    assert_eq!(
        query_value(&remote_login, "return_to").unwrap(),
        "/kb/welcome"
    );

    let signed = browser.get(&remote_login).await;
    assert_eq!(
        signed.status,
        StatusCode::FOUND,
        "no second login: {}",
        signed.text()
    );
    let callback = signed.raw_location().to_owned();
    assert!(
        callback.starts_with(&demo.aha("/auth/jwt/callback?jwt=")),
        "{callback}"
    );
    assert_eq!(query_value(&callback, "state").unwrap(), state);
    assert_eq!(query_value(&callback, "return_to").unwrap(), "/kb/welcome");
    let (jwt_header, claims) = decode_unverified(&query_value(&callback, "jwt").unwrap());
    assert_eq!(jwt_header["alg"], "HS256");
    assert_eq!(claims["email"], "alice@example.com");
    assert_eq!(claims["first_name"], "Alice");
    assert_eq!(claims["last_name"], "Liddell");
    assert_eq!(claims["jti"].as_str().unwrap().len(), 32);
    assert!(claims["iat"].is_i64());

    let (page, visited) = browser.visit(&callback).await;
    assert_eq!(visited.len(), 1);
    assert_eq!(page.status, StatusCode::OK, "{}", page.text());
    let text = page.text();
    assert!(text.contains("Signed in as alice@example.com"), "{text}");
    assert!(text.contains("\"jti\""), "claims shown: {text}");
    assert_eq!(
        page.link("Continue to /kb/welcome"),
        demo.aha("/kb/welcome")
    );

    let (article, _) = browser.visit(&demo.aha("/kb/welcome")).await;
    assert!(article.text().contains("Signed in as alice@example.com"));
    demo.stop().await;
}

#[tokio::test]
async fn aha_first_goes_through_the_app_login_once() {
    let demo = Demo::start().await;
    let mut browser = Browser::new();
    let (home, _) = browser.visit(&demo.aha("/")).await;
    let (form, visited) = browser.visit(&home.link("Log in")).await;
    assert_eq!(form.url.path(), "/login", "{visited:#?}");
    let next = form.input("next").unwrap();
    assert!(next.starts_with("/sso/aha?state="), "{next}");
    assert!(form.text().contains("continue to the Acme Knowledge Base"));
    let submitted = browser
        .post(
            &demo.app("/login"),
            &[
                ("email", "bob@example.com"),
                ("password", "builder"),
                ("next", &next),
            ],
        )
        .await;
    let (page, visited) = browser.follow(submitted, vec![]).await;
    assert_eq!(
        visited.len(),
        2,
        "login -> /sso/aha -> callback: {visited:#?}"
    );
    assert!(
        page.text().contains("Signed in as bob@example.com"),
        "{}",
        page.text()
    );
    demo.stop().await;
}

#[tokio::test]
async fn wrong_password_shows_the_login_form_with_an_error() {
    let demo = Demo::start().await;
    let mut browser = Browser::new();
    for (email, password) in [
        ("alice@example.com", "looking-glass"),
        ("alice@example.com", ""),
        ("mallory@example.com", "wonderland"),
    ] {
        let page = browser
            .post(
                &demo.app("/login"),
                &[("email", email), ("password", password), ("next", "/")],
            )
            .await;
        assert_eq!(
            page.status,
            StatusCode::UNAUTHORIZED,
            "{email} / {password}"
        );
        assert!(page.text().contains("Wrong email or password"));
        assert!(page.body.contains("name=\"password\""));
        assert_eq!(page.input("email").as_deref(), Some(email));
        assert!(!page.sets_cookie("demo_session"));
    }
    let (home, _) = browser.visit(&demo.app("/")).await;
    assert!(home.text().contains("You are not signed in"));
    demo.stop().await;
}

#[tokio::test]
async fn login_returns_only_to_same_site_paths() {
    let demo = Demo::start().await;
    let mut browser = Browser::new();
    for (next, expected) in [
        ("/sso/aha?state=x", "/sso/aha?state=x"),
        ("//evil.example/", "/"),
        ("https://evil.example/", "/"),
        ("/\\evil.example", "/"),
        ("javascript:alert(1)", "/"),
    ] {
        let mut fresh = Browser::new();
        let page = fresh.log_in_as_alice(&demo, next).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER);
        assert_eq!(page.raw_location(), expected, "next={next}");
    }
    // The form escapes what it echoes.
    let form = browser
        .get(&demo.app("/login?next=%2F%22%3E%3Cscript%3Ealert(1)%3C%2Fscript%3E"))
        .await;
    assert!(!form.body.contains("<script>"));
    assert!(form.body.contains("&quot;&gt;&lt;script&gt;"));
    demo.stop().await;
}
