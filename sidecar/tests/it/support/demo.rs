//! `portal-sso demo` as a browser clicks through it over plain HTTP: the demo on four
//! consecutive ports (the sidecar, the two mock portals, the sidecar's admin), a browser
//! that keeps cookies per host (browsers ignore the port), follows redirects when asked
//! and sends a page's `fetch` with its headers, and reading its pages and the tokens
//! signed.

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

/// A running demo on four consecutive ports.
pub struct Demo {
    pub port: u16,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<io::Result<()>>>,
}

impl Demo {
    pub async fn start() -> Demo {
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
        panic!("no four consecutive free ports found in 20 tries");
    }

    /// Waits until the mock knowledge base and the app through the sidecar answer;
    /// `false` when `run` ended (another process took one of the ports in between).
    async fn ready(&self) -> bool {
        let mut browser = Browser::new();
        for _ in 0..200 {
            if self.task.as_ref().is_some_and(JoinHandle::is_finished) {
                return false;
            }
            if let (Ok(kb), Ok(app)) = (
                browser.try_get(&self.aha("/")).await,
                browser.try_get(&self.app("/")).await,
            ) && kb.text().contains("Acme Knowledge Base")
                && app.text().contains("Acme App")
            {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        false
    }

    pub fn app(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    pub fn kustomer(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port + 1)
    }

    pub fn aha(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port + 2)
    }

    /// The sidecar's admin listener, on the port after the portals.
    pub fn admin(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port + 3)
    }

    pub async fn stop(mut self) {
        drop(self.stop.take());
        let task = self.task.take().expect("running");
        let result = tokio::time::timeout(Duration::from_secs(10), task)
            .await
            .expect("the demo stops when asked")
            .expect("the demo task did not panic");
        result.expect("the demo ran without an error");
    }
}

/// The first of four consecutive free ports on 127.0.0.1, if they are free now.
pub fn free_base_port() -> Option<u16> {
    let first = std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).ok()?;
    let port = first.local_addr().ok()?.port();
    let _next: Vec<std::net::TcpListener> = (1..=3)
        .map(|offset| {
            std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, port.checked_add(offset)?)).ok()
        })
        .collect::<Option<_>>()?;
    Some(port)
}

/// One response.
pub struct Page {
    pub url: Url,
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl Page {
    pub fn location(&self) -> String {
        let location = self.headers[header::LOCATION].to_str().unwrap();
        self.url.join(location).unwrap().to_string()
    }

    pub fn raw_location(&self) -> &str {
        self.headers[header::LOCATION].to_str().unwrap()
    }

    /// The page's text without tags, white space collapsed, entities decoded.
    pub fn text(&self) -> String {
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
    pub fn link(&self, text: &str) -> String {
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
    pub fn input(&self, name: &str) -> Option<String> {
        let at = self.body.find(&format!("name=\"{name}\""))?;
        let tag_start = self.body[..at].rfind('<')?;
        let tag = &self.body[tag_start..tag_start + self.body[tag_start..].find('>')?];
        let value = tag.find("value=\"").map(|v| &tag[v + 7..])?;
        Some(unescape(&value[..value.find('"')?]))
    }

    pub fn sets_cookie(&self, name: &str) -> bool {
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
pub struct Browser {
    client: Client<HttpConnector, Full<Bytes>>,
    cookies: HashMap<String, Vec<cookie::Cookie<'static>>>,
}

impl Browser {
    pub fn new() -> Self {
        Self {
            client: Client::builder(TokioExecutor::new()).build_http(),
            cookies: HashMap::new(),
        }
    }

    pub async fn try_get(&mut self, url: &str) -> Result<Page, String> {
        self.send(Method::GET, url, None, &[]).await
    }

    /// One GET, no redirect followed.
    pub async fn get(&mut self, url: &str) -> Page {
        self.send(Method::GET, url, None, &[]).await.unwrap()
    }

    /// One request with the browser's cookies and the given headers, as a page's `fetch`
    /// sends it (`Sec-Fetch-Site`, `Origin`); `body` is JSON when given.
    pub async fn fetch(
        &mut self,
        method: Method,
        url: &str,
        headers: &[(&str, &str)],
        body: Option<&Value>,
    ) -> Page {
        let body = body.map(|json| ("application/json", json.to_string()));
        self.send(method, url, body, headers).await.unwrap()
    }

    /// One form POST, no redirect followed.
    pub async fn post(&mut self, url: &str, form: &[(&str, &str)]) -> Page {
        let body = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(form)
            .finish();
        let body = ("application/x-www-form-urlencoded", body);
        self.send(Method::POST, url, Some(body), &[]).await.unwrap()
    }

    /// Posts the demo app's login form as alice, with her password and `next`; returns
    /// the app's answer, not followed.
    pub async fn log_in_as_alice(&mut self, demo: &Demo, next: &str) -> Page {
        self.post(
            &demo.app("/login"),
            &[
                ("email", "alice@example.com"),
                ("password", "wonderland"),
                ("next", next),
            ],
        )
        .await
    }

    /// GETs `url` and follows redirects; returns the last page and every URL visited.
    pub async fn visit(&mut self, url: &str) -> (Page, Vec<String>) {
        let page = self.get(url).await;
        self.follow(page, vec![url.to_owned()]).await
    }

    pub async fn follow(
        &mut self,
        mut page: Page,
        mut visited: Vec<String>,
    ) -> (Page, Vec<String>) {
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
        body: Option<(&str, String)>,
        headers: &[(&str, &str)],
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
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let body = match body {
            Some((content_type, body)) => {
                request = request.header(header::CONTENT_TYPE, content_type);
                Full::new(Bytes::from(body))
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

/// The current time in seconds since the epoch.
pub fn now() -> i64 {
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
pub fn decode_unverified(token: &str) -> (Value, Value) {
    let mut parts = token.split('.');
    let mut part = || {
        let bytes = URL_SAFE_NO_PAD.decode(parts.next().unwrap()).unwrap();
        serde_json::from_slice::<Value>(&bytes).unwrap()
    };
    let header = part();
    let claims = part();
    (header, claims)
}

/// The value of query parameter `name` in `url`.
pub fn query_value(url: &str, name: &str) -> Option<String> {
    Url::parse(url)
        .unwrap()
        .query_pairs()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.into_owned())
}

/// Kustomer portal "Log in" -> the app's login form -> alice -> back on the portal.
/// Returns the portal's page.
pub async fn sign_in_through_kustomer(demo: &Demo, browser: &mut Browser) -> Page {
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
    let submitted = browser.log_in_as_alice(demo, &next).await;
    assert_eq!(submitted.status, StatusCode::SEE_OTHER);
    let (page, _) = browser.follow(submitted, vec![demo.app("/login")]).await;
    page
}
