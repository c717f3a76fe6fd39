//! The demo's pages: one plain layout per site, protective headers, redirects.

use axum::body::Body;
use axum::response::Response;
use cookie::Cookie;
use http::header::{LOCATION, SET_COOKIE};
use http::{HeaderValue, StatusCode};

pub(crate) use crate::page::escape;
use crate::page::{protect, protect_html};

/// How a site looks: its name, a one-line description and an accent colour.
pub(crate) struct Brand {
    pub(crate) name: &'static str,
    pub(crate) about: &'static str,
    pub(crate) accent: &'static str,
}

pub(crate) const APP: Brand = Brand {
    name: "Acme App",
    about: "Your app, with its own login, behind the portal-sso sidecar",
    accent: "#2f6f4f",
};

pub(crate) const KUSTOMER: Brand = Brand {
    name: "Acme Help Center",
    about: "Mock Kustomer knowledge-base portal (custom sign-on)",
    accent: "#5b3fb5",
};

pub(crate) const AHA: Brand = Brand {
    name: "Acme Knowledge Base",
    about: "Mock Aha! knowledge base (JWT single sign-on)",
    accent: "#0b5cab",
};

/// A page: `title` is escaped here; `body` is HTML the caller built with [`escape`] around
/// every piece of user-derived text.
pub(crate) fn html(brand: &Brand, status: StatusCode, title: &str, body: &str) -> Response {
    let document = format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title} &middot; {name}</title>\n<style>\n\
         body{{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:0;background:#f6f7f9;color:#1d2330;line-height:1.5}}\n\
         header{{background:{accent};color:#fff;padding:.8rem 1.5rem}}\n\
         header strong{{font-size:1.2rem}} header span{{opacity:.85;margin-left:.8rem;font-size:.9rem}}\n\
         main{{max-width:44rem;margin:2rem auto;background:#fff;padding:1.5rem 2rem;border-radius:8px;box-shadow:0 1px 3px rgba(0,0,0,.12)}}\n\
         h1{{font-size:1.5rem;margin-top:0}}\n\
         a{{color:{accent}}}\n\
         a.button,button{{display:inline-block;background:{accent};color:#fff;border:0;border-radius:5px;padding:.5rem 1.1rem;font-size:1rem;text-decoration:none;cursor:pointer}}\n\
         label{{display:block;margin:.7rem 0 .2rem}}\n\
         input{{font-size:1rem;padding:.4rem;width:100%;max-width:22rem;box-sizing:border-box}}\n\
         pre{{background:#f0f2f5;padding:.8rem;border-radius:5px;overflow-x:auto;font-size:.85rem}}\n\
         .ok{{color:#17692f}} .error{{background:#fdecec;color:#8a1c1c;padding:.6rem .8rem;border-radius:5px}}\n\
         .muted{{color:#5c6270;font-size:.9rem}}\n\
         .chat{{display:block;border:1px solid #d5d9e0;border-radius:6px;padding:.6rem .9rem;margin:1.2rem 0}} .chat span{{display:block}}\n\
         </style></head>\n<body>\n<header><strong>{name}</strong><span>{about}</span></header>\n\
         <main>\n<h1>{title}</h1>\n{body}\n</main>\n</body></html>\n",
        title = escape(title),
        name = brand.name,
        about = brand.about,
        accent = brand.accent,
    );
    let mut response = Response::new(Body::from(document));
    *response.status_mut() = status;
    protect_html(&mut response);
    response
}

/// A redirect with the given status (`302 Found` after a link, `303 See Other` after a
/// form) and `Set-Cookie` headers.
pub(crate) fn redirect(status: StatusCode, location: &str, cookies: &[Cookie<'_>]) -> Response {
    let mut response = Response::new(Body::empty());
    *response.status_mut() = status;
    let value = HeaderValue::from_str(location).unwrap_or(HeaderValue::from_static("/"));
    response.headers_mut().insert(LOCATION, value);
    for cookie in cookies {
        set_cookie(&mut response, cookie);
    }
    protect(&mut response);
    response
}

/// Adds a `Set-Cookie` header.
pub(crate) fn set_cookie(response: &mut Response, cookie: &Cookie<'_>) {
    if let Ok(value) = HeaderValue::from_str(&cookie.to_string()) {
        response.headers_mut().append(SET_COOKIE, value);
    }
}

/// Claims as indented JSON inside a `<pre>`, escaped.
pub(crate) fn claims_block(claims: &serde_json::Value) -> String {
    let json = serde_json::to_string_pretty(claims).unwrap_or_default();
    format!("<pre>{}</pre>", escape(&json))
}
