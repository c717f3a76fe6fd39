//! A browser's cookie store in front of an in-process app: it sends back the cookies it
//! was given and drops expired ones, as the login-loop and shared-key tests need.

use std::collections::BTreeMap;

use axum::Router;
use axum::body::Body;
use cookie::Cookie;
use http::{Request, StatusCode, header};
use tower::ServiceExt;

/// A browser's cookie store, enough for one host: name to value, expired ones removed.
#[derive(Default)]
pub struct Browser {
    pub cookies: BTreeMap<String, String>,
}

/// One answer, read whole, with the cookies it set.
pub struct Answer {
    pub status: StatusCode,
    pub location: Option<String>,
    pub body: String,
    pub set_cookies: Vec<Cookie<'static>>,
}

impl Browser {
    /// `GET uri` on `app`, sending the cookies kept and keeping the ones it sets.
    pub async fn get(&mut self, app: &Router, uri: &str) -> Answer {
        let mut request = Request::get(uri);
        if !self.cookies.is_empty() {
            let header = self
                .cookies
                .iter()
                .map(|(name, value)| format!("{name}={value}"))
                .collect::<Vec<_>>()
                .join("; ");
            request = request.header(header::COOKIE, header);
        }
        let response = app
            .clone()
            .oneshot(request.body(Body::empty()).unwrap())
            .await
            .unwrap();
        let status = response.status();
        let location = response
            .headers()
            .get(header::LOCATION)
            .map(|v| v.to_str().unwrap().to_owned());
        let set_cookies: Vec<Cookie<'static>> = response
            .headers()
            .get_all(header::SET_COOKIE)
            .iter()
            .map(|v| Cookie::parse(v.to_str().unwrap().to_owned()).unwrap())
            .collect();
        for cookie in &set_cookies {
            let expired = cookie
                .max_age()
                .is_some_and(|age| age.is_zero() || age.is_negative());
            if expired {
                self.cookies.remove(cookie.name());
            } else {
                self.cookies
                    .insert(cookie.name().to_owned(), cookie.value().to_owned());
            }
        }
        let body = axum::body::to_bytes(response.into_body(), 1 << 20)
            .await
            .unwrap();
        Answer {
            status,
            location,
            body: String::from_utf8(body.to_vec()).unwrap(),
            set_cookies,
        }
    }
}
