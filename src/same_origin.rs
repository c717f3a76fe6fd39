//! Whether a request comes from the app's own pages: what a widget's route asks before it
//! signs anything, since its answer is readable by whoever makes the request.
//!
//! A browser says where a request comes from in `Sec-Fetch-Site`, which no page can set:
//! only `same-origin` passes. A browser too old to send it still sends `Origin` on a
//! `fetch` (or at least `Referer`), which must then be the app's own origin: the public
//! origin when one is configured, else the request's as [`RequestOrigin`] reads it
//! (trusted proxies' forwarding headers included). A request with none of them is
//! refused: it is not a page's `fetch`.

use http::HeaderMap;
use http::header::{self, HeaderName};
use url::Url;

use crate::request_origin::RequestOrigin;

const SEC_FETCH_SITE: HeaderName = HeaderName::from_static("sec-fetch-site");

/// A request refused as not coming from the app's own pages, with the origin it names
/// when it names a well-formed one (for the event).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CrossSite {
    pub(crate) from: Option<String>,
}

/// `Ok` when the request comes from a page of `own` origin (`None`: it could not be
/// told, so nothing is).
pub(crate) fn check(headers: &HeaderMap, own: Option<&str>) -> Result<(), CrossSite> {
    // Origin when sent (a `null` one names nothing), else Referer's origin.
    let named = || match single(headers, &header::ORIGIN) {
        Some(origin) => origin_of(origin),
        None => single(headers, &header::REFERER).and_then(origin_of),
    };
    let mut sites = headers.get_all(SEC_FETCH_SITE).iter();
    match (sites.next(), sites.next()) {
        (Some(site), None) if site.as_bytes().eq_ignore_ascii_case(b"same-origin") => Ok(()),
        (Some(_), _) => Err(CrossSite { from: named() }),
        (None, _) => match (named(), own.and_then(origin_of)) {
            (Some(named), Some(own)) if named == own => Ok(()),
            (named, _) => Err(CrossSite { from: named }),
        },
    }
}

/// The app's own origin for `headers`: the configured public origin, else the request's.
pub(crate) fn own_origin(
    public: Option<&str>,
    origin: RequestOrigin,
    parts: &http::request::Parts,
) -> Option<String> {
    public.map(str::to_owned).or_else(|| origin.of(parts))
}

/// The header's value when it is there exactly once and is text.
fn single<'h>(headers: &'h HeaderMap, name: &HeaderName) -> Option<&'h str> {
    let mut values = headers.get_all(name).iter();
    match (values.next(), values.next()) {
        (Some(value), None) => value.to_str().ok(),
        _ => None,
    }
}

/// `scheme://host[:port]` of an `http(s)` URL or origin, normalised (lower case, default
/// port left out); `None` for `null`, another scheme or anything that does not parse.
fn origin_of(text: &str) -> Option<String> {
    let url = Url::parse(text).ok()?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return None;
    }
    Some(url.origin().ascii_serialization())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(
                HeaderName::from_bytes(name.as_bytes()).unwrap(),
                value.parse().unwrap(),
            );
        }
        map
    }

    const OWN: Option<&str> = Some("https://app.example");

    #[test]
    fn only_same_origin_passes_when_the_browser_says_where_it_comes_from() {
        assert_eq!(
            check(&headers(&[("sec-fetch-site", "same-origin")]), OWN),
            Ok(())
        );
        for site in [
            "same-site",
            "cross-site",
            "none",
            "",
            "same-origin, same-origin",
        ] {
            let refused = check(
                &headers(&[("sec-fetch-site", site), ("origin", "https://app.example")]),
                OWN,
            );
            assert!(refused.is_err(), "{site:?}");
        }
        let twice = headers(&[
            ("sec-fetch-site", "same-origin"),
            ("sec-fetch-site", "cross-site"),
        ]);
        assert!(check(&twice, OWN).is_err());
    }

    #[test]
    fn without_it_origin_or_else_referer_must_be_the_apps_own() {
        for (pairs, passes) in [
            (&[("origin", "https://app.example")][..], true),
            (&[("origin", "https://APP.example:443")][..], true),
            (
                &[("referer", "https://app.example/settings?tab=1")][..],
                true,
            ),
            (&[("origin", "https://evil.example")][..], false),
            (&[("origin", "null")][..], false),
            (&[("origin", "http://app.example")][..], false),
            (&[("origin", "https://app.example.evil.example")][..], false),
            // Origin wins over Referer when both are sent.
            (
                &[
                    ("origin", "https://evil.example"),
                    ("referer", "https://app.example/"),
                ][..],
                false,
            ),
            (
                &[("referer", "https://evil.example/https://app.example/")][..],
                false,
            ),
            (
                &[
                    ("origin", "https://app.example"),
                    ("origin", "https://app.example"),
                ][..],
                false,
            ),
            (&[][..], false),
        ] {
            assert_eq!(check(&headers(pairs), OWN).is_ok(), passes, "{pairs:?}");
        }
        assert!(check(&headers(&[("origin", "https://app.example")]), None).is_err());
        let refused = check(&headers(&[("origin", "https://Evil.example")]), OWN).unwrap_err();
        assert_eq!(refused.from.as_deref(), Some("https://evil.example"));
    }
}
