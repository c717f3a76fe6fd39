//! The pages of the OIDC routes: an explanation with a link to start over, and the
//! chooser of providers. Every text is escaped; none carries a token, code or cookie.

use std::fmt::Write as _;

use http::header::{LOCATION, SET_COOKIE};
use http::{HeaderValue, Response, StatusCode};

use crate::page::{escape, protect, protect_html};

/// An explanation, and a link (`href`, already a same-site path) when there is a way on.
pub(crate) fn explain(
    status: StatusCode,
    title: &str,
    message: &str,
    link: Option<(&str, &str)>,
) -> Response<String> {
    let link = link.map_or_else(String::new, |(text, href)| {
        format!("<p><a href=\"{}\">{}</a></p>\n", escape(href), escape(text))
    });
    html(
        status,
        title,
        &format!("<p>{}</p>\n{link}", escape(message)),
    )
}

/// The chooser: one link per provider (`(label, href)`), and an email field sending a
/// `login_hint` when some provider is picked by email domain.
pub(crate) fn chooser(
    providers: &[(String, String)],
    hint_form: Option<&str>,
    note: Option<&str>,
) -> Response<String> {
    let mut body = String::new();
    if let Some(note) = note {
        let _ = writeln!(body, "<p>{}</p>", escape(note));
    }
    body.push_str("<ul>\n");
    for (label, href) in providers {
        let _ = writeln!(
            body,
            "<li><a href=\"{}\">Sign in with {}</a></li>",
            escape(href),
            escape(label)
        );
    }
    body.push_str("</ul>\n");
    if let Some(next) = hint_form {
        let _ = writeln!(
            body,
            "<form method=\"get\" action=\"{}\"><input type=\"hidden\" name=\"next\" value=\"{}\">\
             <label>Or your work email: <input type=\"email\" name=\"login_hint\" required></label> \
             <button type=\"submit\">Continue</button></form>",
            super::LOGIN_PATH,
            escape(next)
        );
    }
    html(StatusCode::OK, "Sign in", &body)
}

fn html(status: StatusCode, title: &str, body: &str) -> Response<String> {
    let page = format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title}</title></head>\n\
         <body style=\"font-family:system-ui,sans-serif;max-width:40rem;margin:4rem auto;line-height:1.5\">\n\
         <h1>{title}</h1>\n{body}<p><small>{code} {reason} &middot; portal-sso</small></p>\n</body></html>\n",
        title = escape(title),
        code = status.as_u16(),
        reason = status.canonical_reason().unwrap_or(""),
    );
    let mut response = Response::new(page);
    *response.status_mut() = status;
    protect_html(&mut response);
    response
}

/// A `302` to `location`, not cached and sending no `Referer`.
pub(crate) fn redirect(location: &str) -> Response<String> {
    let mut response = Response::new(String::new());
    *response.status_mut() = StatusCode::FOUND;
    if let Ok(value) = HeaderValue::from_str(location) {
        response.headers_mut().insert(LOCATION, value);
    }
    protect(&mut response);
    response
}

/// Adds a `Set-Cookie`.
pub(crate) fn set_cookie(response: &mut Response<String>, cookie: &cookie::Cookie<'_>) {
    if let Ok(mut value) = HeaderValue::from_str(&cookie.to_string()) {
        value.set_sensitive(true);
        response.headers_mut().append(SET_COOKIE, value);
    }
}
