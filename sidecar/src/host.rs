//! One host per request: a request that names two is refused before any route sees it,
//! so the app, the SSO routes and `X-Forwarded-Host` cannot each read a different one.

use http::{Request, Response, StatusCode, header};

use crate::page::page;

/// Whether `request` names more than one host (RFC 9112 §3.2): two `Host` headers, or an
/// absolute-form target (`GET http://a.example/ HTTP/1.1`) whose authority is not its
/// `Host` (compared without regard to case).
pub fn names_two_hosts<B>(request: &Request<B>) -> bool {
    let mut hosts = request.headers().get_all(header::HOST).iter();
    let (first, second) = (hosts.next(), hosts.next());
    if second.is_some() {
        return true;
    }
    match (request.uri().authority(), first) {
        (Some(authority), Some(host)) => !host
            .as_bytes()
            .eq_ignore_ascii_case(authority.as_str().as_bytes()),
        _ => false,
    }
}

/// The 400 page for a request that [`names_two_hosts`].
pub fn refusal() -> Response<String> {
    page(
        StatusCode::BAD_REQUEST,
        "Bad request",
        "The request named more than one host.",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(target: &str, hosts: &[&str]) -> Request<()> {
        let mut builder = Request::get(target);
        for host in hosts {
            builder = builder.header(header::HOST, *host);
        }
        builder.body(()).unwrap()
    }

    #[test]
    fn one_host_however_written_is_fine() {
        assert!(!names_two_hosts(&request("/x", &["app.example"])));
        assert!(!names_two_hosts(&request("/x", &[])));
        assert!(!names_two_hosts(&request("http://app.example/x", &[])));
        assert!(!names_two_hosts(&request(
            "http://APP.example:8080/x",
            &["app.EXAMPLE:8080"]
        )));
    }

    #[test]
    fn two_hosts_are_found() {
        assert!(names_two_hosts(&request(
            "/x",
            &["app.example", "evil.example"]
        )));
        assert!(names_two_hosts(&request(
            "/x",
            &["app.example", "app.example"]
        )));
        assert!(names_two_hosts(&request(
            "http://evil.example/x",
            &["app.example"]
        )));
        assert!(names_two_hosts(&request(
            "http://app.example:81/x",
            &["app.example"]
        )));
        assert!(names_two_hosts(&request(
            "http://u@app.example/x",
            &["app.example"]
        )));
    }
}
