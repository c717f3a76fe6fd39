//! `portal-sso demo`, driven over plain HTTP the way a browser would click through it:
//! redirects followed by hand, cookies kept per host (browsers ignore the port).

use std::collections::HashMap;
use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use bytes::Bytes;
use http::{HeaderMap, Method, Request, StatusCode, header};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde_json::Value;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use url::Url;

/// A running demo on three consecutive ports.
struct Demo {
    port: u16,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<io::Result<()>>>,
}

impl Demo {
    async fn start() -> Demo {
        for _ in 0..20 {
            let Some(port) = free_base_port() else {
                continue;
            };
            let (stop, stopped) = oneshot::channel::<()>();
            let listen = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
            let task = tokio::spawn(portal_sso_sidecar::demo::run(listen, async {
                let _ = stopped.await;
            }));
            let demo = Demo {
                port,
                stop: Some(stop),
                task: Some(task),
            };
            if demo.ready().await {
                return demo;
            }
        }
        panic!("no three consecutive free ports found in 20 tries");
    }

    /// Waits until the last site answers as the mock knowledge base; `false` when `run`
    /// ended (another process took one of the ports in between).
    async fn ready(&self) -> bool {
        let mut browser = Browser::new();
        for _ in 0..200 {
            if self.task.as_ref().is_some_and(JoinHandle::is_finished) {
                return false;
            }
            if let Ok(page) = browser.try_get(&self.aha("/")).await
                && page.text().contains("Acme Knowledge Base")
            {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        false
    }

    fn app(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    fn kustomer(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port + 1)
    }

    fn aha(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port + 2)
    }

    async fn stop(mut self) {
        drop(self.stop.take());
        let task = self.task.take().expect("running");
        let result = tokio::time::timeout(Duration::from_secs(10), task)
            .await
            .expect("the demo stops when asked")
            .expect("the demo task did not panic");
        result.expect("the demo ran without an error");
    }
}

fn free_base_port() -> Option<u16> {
    let first = std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).ok()?;
    let port = first.local_addr().ok()?.port();
    let _second = std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, port.checked_add(1)?)).ok()?;
    let _third = std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, port.checked_add(2)?)).ok()?;
    Some(port)
}

/// One response.
struct Page {
    url: Url,
    status: StatusCode,
    headers: HeaderMap,
    body: String,
}

impl Page {
    fn location(&self) -> String {
        let location = self.headers[header::LOCATION].to_str().unwrap();
        self.url.join(location).unwrap().to_string()
    }

    fn raw_location(&self) -> &str {
        self.headers[header::LOCATION].to_str().unwrap()
    }

    /// The page's text without tags, white space collapsed, entities decoded.
    fn text(&self) -> String {
        let mut out = String::new();
        let mut in_tag = false;
        for c in self.body.chars() {
            match c {
                '<' => in_tag = true,
                '>' => in_tag = false,
                c if !in_tag => out.push(c),
                _ => {}
            }
        }
        unescape(&out.split_whitespace().collect::<Vec<_>>().join(" "))
    }

    /// The `href` of the link whose text is `text`, resolved against the page's URL.
    fn link(&self, text: &str) -> String {
        let end = self
            .body
            .find(&format!(">{text}</a>"))
            .unwrap_or_else(|| panic!("no link {text:?} on {}:\n{}", self.url, self.body));
        let start = self.body[..end]
            .rfind("href=\"")
            .expect("the link has an href")
            + 6;
        let href = &self.body[start..];
        let href = unescape(&href[..href.find('"').unwrap()]);
        self.url.join(&href).unwrap().to_string()
    }

    /// The `value` of the input named `name`.
    fn input(&self, name: &str) -> Option<String> {
        let at = self.body.find(&format!("name=\"{name}\""))?;
        let tag_start = self.body[..at].rfind('<')?;
        let tag = &self.body[tag_start..tag_start + self.body[tag_start..].find('>')?];
        let value = tag.find("value=\"").map(|v| &tag[v + 7..])?;
        Some(unescape(&value[..value.find('"')?]))
    }

    fn sets_cookie(&self, name: &str) -> bool {
        self.headers
            .get_all(header::SET_COOKIE)
            .iter()
            .any(|value| value.to_str().unwrap().starts_with(&format!("{name}=")))
    }
}

fn unescape(text: &str) -> String {
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&middot;", "·")
        .replace("&amp;", "&")
}

/// Sends requests, keeps cookies per host and follows redirects when asked.
struct Browser {
    client: Client<HttpConnector, Full<Bytes>>,
    cookies: HashMap<String, Vec<cookie::Cookie<'static>>>,
}

impl Browser {
    fn new() -> Self {
        Self {
            client: Client::builder(TokioExecutor::new()).build_http(),
            cookies: HashMap::new(),
        }
    }

    async fn try_get(&mut self, url: &str) -> Result<Page, String> {
        self.send(Method::GET, url, None).await
    }

    /// One GET, no redirect followed.
    async fn get(&mut self, url: &str) -> Page {
        self.send(Method::GET, url, None).await.unwrap()
    }

    /// One form POST, no redirect followed.
    async fn post(&mut self, url: &str, form: &[(&str, &str)]) -> Page {
        let body = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(form)
            .finish();
        self.send(Method::POST, url, Some(body)).await.unwrap()
    }

    /// GETs `url` and follows redirects; returns the last page and every URL visited.
    async fn visit(&mut self, url: &str) -> (Page, Vec<String>) {
        let page = self.get(url).await;
        self.follow(page, vec![url.to_owned()]).await
    }

    async fn follow(&mut self, mut page: Page, mut visited: Vec<String>) -> (Page, Vec<String>) {
        while page.status.is_redirection() {
            assert!(visited.len() < 15, "redirect loop: {visited:#?}");
            let next = page.location();
            visited.push(next.clone());
            page = self.get(&next).await;
        }
        (page, visited)
    }

    async fn send(
        &mut self,
        method: Method,
        url: &str,
        form: Option<String>,
    ) -> Result<Page, String> {
        let parsed = Url::parse(url).unwrap();
        let host = parsed.host_str().unwrap().to_owned();
        let mut request = Request::builder().method(method).uri(url);
        let cookie_header = self
            .cookies
            .get(&host)
            .map(|jar| {
                jar.iter()
                    .filter(|c| parsed.path().starts_with(c.path().unwrap_or("/")))
                    .map(|c| format!("{}={}", c.name(), c.value()))
                    .collect::<Vec<_>>()
                    .join("; ")
            })
            .unwrap_or_default();
        if !cookie_header.is_empty() {
            request = request.header(header::COOKIE, cookie_header);
        }
        let body = match form {
            Some(form) => {
                request = request.header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
                Full::new(Bytes::from(form))
            }
            None => Full::new(Bytes::new()),
        };
        let response = self
            .client
            .request(request.body(body).unwrap())
            .await
            .map_err(|err| err.to_string())?;
        let (parts, body) = response.into_parts();
        let body = body.collect().await.map_err(|err| err.to_string())?;
        let jar = self.cookies.entry(host).or_default();
        for value in parts.headers.get_all(header::SET_COOKIE) {
            let set = cookie::Cookie::parse(value.to_str().unwrap().to_owned()).unwrap();
            jar.retain(|c| c.name() != set.name() || c.path() != set.path());
            let expired = set.max_age().is_some_and(cookie::time::Duration::is_zero)
                || set
                    .expires_datetime()
                    .is_some_and(|at| at < cookie::time::OffsetDateTime::now_utc());
            if !expired {
                jar.push(set);
            }
        }
        Ok(Page {
            url: parsed,
            status: parts.status,
            headers: parts.headers,
            body: String::from_utf8(body.to_bytes().to_vec()).unwrap(),
        })
    }
}

fn now() -> i64 {
    i64::try_from(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs(),
    )
    .unwrap()
}

/// A JWT's header and claims, read without the secret (the mock portals check the
/// signature; these tests check what was signed).
fn decode_unverified(token: &str) -> (Value, Value) {
    let mut parts = token.split('.');
    let mut part = || {
        let bytes = URL_SAFE_NO_PAD.decode(parts.next().unwrap()).unwrap();
        serde_json::from_slice::<Value>(&bytes).unwrap()
    };
    let header = part();
    let claims = part();
    (header, claims)
}

fn query_value(url: &str, name: &str) -> Option<String> {
    Url::parse(url)
        .unwrap()
        .query_pairs()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.into_owned())
}

/// Kustomer portal "Log in" -> the app's login form -> alice -> back on the portal.
/// Returns the portal's page.
async fn sign_in_through_kustomer(demo: &Demo, browser: &mut Browser) -> Page {
    let (home, _) = browser.visit(&demo.kustomer("/")).await;
    assert!(
        home.text().contains("You are not signed in"),
        "{}",
        home.text()
    );
    let start = home.link("Log in");
    let (login_form, _) = browser.visit(&start).await;
    assert_eq!(login_form.url.path(), "/login");
    let next = login_form.input("next").expect("the form carries next");
    let submitted = browser
        .post(
            &demo.app("/login"),
            &[
                ("email", "alice@example.com"),
                ("password", "wonderland"),
                ("next", &next),
            ],
        )
        .await;
    assert_eq!(submitted.status, StatusCode::SEE_OTHER);
    let (page, _) = browser.follow(submitted, vec![demo.app("/login")]).await;
    page
}

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

    let submitted = browser
        .post(
            &demo.app("/login"),
            &[
                ("email", "alice@example.com"),
                ("password", "wonderland"),
                ("next", &next),
            ],
        )
        .await;
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
        let page = fresh
            .post(
                &demo.app("/login"),
                &[
                    ("email", "alice@example.com"),
                    ("password", "wonderland"),
                    ("next", next),
                ],
            )
            .await;
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

async fn signed_in_everywhere(demo: &Demo) -> Browser {
    let mut browser = Browser::new();
    sign_in_through_kustomer(demo, &mut browser).await;
    let (home, _) = browser.visit(&demo.aha("/")).await;
    let (page, _) = browser.visit(&home.link("Log in")).await;
    assert!(page.text().contains("Signed in as alice@example.com"));
    let (app, _) = browser.visit(&demo.app("/")).await;
    assert!(
        app.text()
            .contains("Signed in as Alice Liddell (alice@example.com)")
    );
    browser
}

/// Follows the "Log out" link of the page at `start`: the browser must pass through
/// `hops` and land signed out on the app, and the knowledge base must say it is signed
/// out too. Returns the knowledge base's page.
async fn log_out_from(browser: &mut Browser, start: &str, hops: [String; 3], demo: &Demo) -> Page {
    let (page, _) = browser.visit(start).await;
    let (landed, visited) = browser.visit(&page.link("Log out")).await;
    assert_eq!(visited, hops);
    assert!(
        landed.text().contains("You are not signed in"),
        "{}",
        landed.text()
    );
    let (kb, _) = browser.visit(&demo.aha("/")).await;
    assert!(kb.text().contains("You are not signed in"));
    kb
}

#[tokio::test]
async fn logging_out_of_the_knowledge_base_ends_the_app_session() {
    let demo = Demo::start().await;
    let mut browser = signed_in_everywhere(&demo).await;

    log_out_from(
        &mut browser,
        &demo.aha("/"),
        [
            demo.aha("/logout"),
            demo.app("/sso/aha/logout"),
            demo.app("/"),
        ],
        &demo,
    )
    .await;
    // The app session is gone, so a portal login needs the app's login again.
    let again = browser.get(&demo.app("/sso/aha?state=s")).await;
    assert_eq!(again.status, StatusCode::FOUND);
    assert!(again.raw_location().starts_with("/login?next="));
    demo.stop().await;
}

#[tokio::test]
async fn logging_out_of_the_app_ends_the_knowledge_base_session() {
    let demo = Demo::start().await;
    let mut browser = signed_in_everywhere(&demo).await;

    let kb = log_out_from(
        &mut browser,
        &demo.app("/"),
        [
            demo.app("/logout"),
            demo.aha("/portal_session/logout"),
            demo.app("/"),
        ],
        &demo,
    )
    .await;
    assert!(kb.text().contains("Log in"));
    demo.stop().await;
}

/// The Kustomer redirect for a signed-in browser.
async fn kustomer_token_location(demo: &Demo, browser: &mut Browser) -> String {
    let (home, _) = Browser::new().visit(&demo.kustomer("/")).await;
    let signed = browser.get(&home.link("Log in")).await;
    assert_eq!(signed.status, StatusCode::FOUND);
    let location = signed.location();
    assert!(location.contains("&externalToken="), "{location}");
    location
}

#[tokio::test]
async fn the_mocks_refuse_tampered_tokens_and_say_why() {
    let demo = Demo::start().await;
    let mut browser = Browser::new();
    sign_in_through_kustomer(&demo, &mut browser).await;
    let mut stranger = Browser::new();

    // Kustomer: claims changed, signature kept.
    let location = kustomer_token_location(&demo, &mut browser).await;
    let (base, token) = location.split_once("&externalToken=").unwrap();
    let parts: Vec<&str> = token.split('.').collect();
    let forged_claims = URL_SAFE_NO_PAD.encode(format!(
        r#"{{"email":"mallory@example.com","iat":{}}}"#,
        now()
    ));
    let forged = format!(
        "{base}&externalToken={}.{forged_claims}.{}",
        parts[0], parts[2]
    );
    let page = stranger.get(&forged).await;
    assert_eq!(page.status, StatusCode::UNAUTHORIZED);
    let text = page.text();
    assert!(text.contains("Sign-in refused"), "{text}");
    assert!(text.contains("signature does not match"), "{text}");
    assert!(!text.contains("Signed in as"));
    assert!(!page.sets_cookie("kustomer_session"));

    // Kustomer: unsigned (`alg: none`).
    let none_header = URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#);
    let unsigned = format!("{base}&externalToken={none_header}.{forged_claims}.");
    let page = stranger.get(&unsigned).await;
    assert_eq!(page.status, StatusCode::UNAUTHORIZED);
    assert!(page.text().contains("alg `none`"), "{}", page.text());
    assert!(page.text().contains("only HS256"), "{}", page.text());

    // Kustomer: not a JWT at all.
    let page = stranger.get(&format!("{base}&externalToken=garbage")).await;
    assert_eq!(page.status, StatusCode::UNAUTHORIZED);
    assert!(page.text().contains("not a well-formed JWT"));
    let (home, _) = stranger.visit(&demo.kustomer("/")).await;
    assert!(home.text().contains("You are not signed in"));

    // Aha!: a signature changed by one character.
    let callback = aha_callback(&demo, &mut browser).await;
    let jwt = query_value(&callback, "jwt").unwrap();
    // The signature's first character: all six of its bits are signature (the last
    // character's lowest two are padding, which a changed letter may only touch).
    let at = jwt.rfind('.').unwrap() + 1;
    let first = &jwt[at..=at];
    let flipped = format!(
        "{}{}{}",
        &jwt[..at],
        if first == "A" { "B" } else { "A" },
        &jwt[at + 1..]
    );
    let page = stranger.get(&callback.replace(&jwt, &flipped)).await;
    assert_eq!(page.status, StatusCode::UNAUTHORIZED);
    assert!(
        page.text().contains("signature does not match"),
        "{}",
        page.text()
    );

    // Aha!: a state the knowledge base never issued.
    let callback = aha_callback(&demo, &mut browser).await;
    let state = query_value(&callback, "state").unwrap();
    let page = stranger
        .get(&callback.replace(&state, &"0".repeat(64)))
        .await;
    assert_eq!(page.status, StatusCode::UNAUTHORIZED);
    assert!(
        page.text().contains("not one this knowledge base issued"),
        "{}",
        page.text()
    );

    // Aha!: a good callback works once, not twice.
    let callback = aha_callback(&demo, &mut browser).await;
    let page = stranger.get(&callback).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text());
    let page = stranger.get(&callback).await;
    assert_eq!(page.status, StatusCode::UNAUTHORIZED);
    assert!(page.text().contains("already used"), "{}", page.text());
    demo.stop().await;
}

/// The Aha! callback URL for a signed-in browser, not yet visited.
async fn aha_callback(demo: &Demo, browser: &mut Browser) -> String {
    let start = browser.get(&demo.aha("/login?return_to=%2F")).await;
    let signed = browser.get(&start.location()).await;
    assert_eq!(signed.status, StatusCode::FOUND);
    signed.location()
}

#[tokio::test]
async fn a_taken_mock_port_is_named_in_the_error() {
    for _ in 0..20 {
        let Some(port) = free_base_port() else {
            continue;
        };
        let Ok(taken) = std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, port + 2)) else {
            continue;
        };
        let listen = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
        let result = portal_sso_sidecar::demo::run(listen, std::future::pending()).await;
        let err = result.expect_err("port + 2 is taken");
        if err.kind() != io::ErrorKind::AddrInUse {
            continue;
        }
        let message = err.to_string();
        assert!(message.contains(&format!("port {}", port + 2)), "{message}");
        assert!(message.contains("Aha!"), "{message}");
        drop(taken);
        return;
    }
    panic!("no free ports to try");
}
