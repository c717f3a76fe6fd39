//! Where `kustomer-secret` asks: the API host for `--org`, `--region` or `--api-base`,
//! and the knowledge base settings path on it.

use url::{Host, Url};

use super::{Failure, Region};

/// The API in the Americas, used when neither `--org` nor `--region` is given.
const US_BASE: &str = "https://api.kustomerapp.com";
/// The API in Europe.
const EU_BASE: &str = "https://api.prod2.kustomerapp.com";

/// The API base for `--org`, `--region` or `--api-base` (which wins over both).
pub(super) fn api_base(
    org: Option<&str>,
    region: Option<Region>,
    api_base: Option<&str>,
) -> Result<Url, Failure> {
    if let Some(raw) = api_base {
        return custom_base(raw);
    }
    let base = match (org, region) {
        (Some(org), _) => {
            let org = valid_org(org)?;
            format!("https://{org}.api.kustomerapp.com")
        }
        (None, None | Some(Region::Us)) => US_BASE.to_owned(),
        (None, Some(Region::Eu)) => EU_BASE.to_owned(),
    };
    Url::parse(&base).map_err(|_| Failure::Usage(format!("`{base}` is not a valid URL")))
}

/// An organization name as it stands in `ORG.api.kustomerapp.com`: one DNS label.
fn valid_org(org: &str) -> Result<String, Failure> {
    let fits = !org.is_empty()
        && org.len() <= 63
        && org.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        && !org.starts_with('-')
        && !org.ends_with('-');
    if fits {
        Ok(org.to_ascii_lowercase())
    } else {
        Err(Failure::Usage(format!(
            "--org {org:?} is not an organization name: use the NAME of \
             NAME.api.kustomerapp.com (letters, digits and inner hyphens, at most 63)"
        )))
    }
}

fn custom_base(raw: &str) -> Result<Url, Failure> {
    let refuse = |why: &str| Failure::Usage(format!("--api-base {raw:?} is refused: {why}"));
    let url = Url::parse(raw).map_err(|_| refuse("it is not an absolute URL"))?;
    match url.scheme() {
        "https" => {}
        "http" => {
            let loopback = match url.host() {
                Some(Host::Domain(domain)) => domain.eq_ignore_ascii_case("localhost"),
                Some(Host::Ipv4(ip)) => ip == std::net::Ipv4Addr::LOCALHOST,
                Some(Host::Ipv6(ip)) => ip == std::net::Ipv6Addr::LOCALHOST,
                None => false,
            };
            if !loopback {
                return Err(refuse(
                    "http is allowed only for 127.0.0.1, [::1] or localhost; use https",
                ));
            }
        }
        _ => return Err(refuse("the scheme must be https")),
    }
    if url.host().is_none() {
        return Err(refuse("it has no host"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(refuse("it must not carry a user name or password"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(refuse("it must not have a query or fragment"));
    }
    Ok(url)
}

/// `{base}/v1/auth/kb/{kb_id}/settings`, after checking that the ID is safe in a path.
pub(super) fn settings_url(base: &Url, kb_id: &str) -> Result<Url, Failure> {
    let fits = !kb_id.is_empty()
        && kb_id.len() <= 128
        && kb_id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if !fits {
        return Err(Failure::Usage(format!(
            "--kb-id {kb_id:?} is not a knowledge base ID: copy it from Settings > Knowledge \
             Base > Configuration (letters, digits, `-` and `_`, at most 128)"
        )));
    }
    let mut url = base.clone();
    let path = format!(
        "{}/v1/auth/kb/{kb_id}/settings",
        base.path().trim_end_matches('/')
    );
    url.set_path(&path);
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base(org: Option<&str>, region: Option<Region>) -> String {
        api_base(org, region, None).unwrap().to_string()
    }

    #[test]
    fn org_names_the_host() {
        assert_eq!(
            base(Some("acme"), None),
            "https://acme.api.kustomerapp.com/"
        );
        assert_eq!(
            base(Some("Acme-Corp"), None),
            "https://acme-corp.api.kustomerapp.com/"
        );
    }

    #[test]
    fn region_picks_the_shared_host() {
        assert_eq!(base(None, None), "https://api.kustomerapp.com/");
        assert_eq!(base(None, Some(Region::Us)), "https://api.kustomerapp.com/");
        assert_eq!(
            base(None, Some(Region::Eu)),
            "https://api.prod2.kustomerapp.com/"
        );
    }

    #[test]
    fn settings_path_is_the_documented_one() {
        let url = settings_url(
            &api_base(Some("acme"), None, None).unwrap(),
            "5f1a2b3c4d5e6f7a8b9c0d1e",
        )
        .unwrap();
        assert_eq!(
            url.as_str(),
            "https://acme.api.kustomerapp.com/v1/auth/kb/5f1a2b3c4d5e6f7a8b9c0d1e/settings"
        );
        let url = settings_url(
            &api_base(None, None, Some("http://127.0.0.1:8080/mock/")).unwrap(),
            "kb1",
        )
        .unwrap();
        assert_eq!(
            url.as_str(),
            "http://127.0.0.1:8080/mock/v1/auth/kb/kb1/settings"
        );
    }

    #[test]
    fn invalid_org_is_refused() {
        for org in [
            "",
            "-acme",
            "acme-",
            "acme.evil.com",
            "evil.com/x",
            "acme corp",
            "a@b",
            "acme#",
            "ac%2Fme",
            &"a".repeat(64),
        ] {
            let failure = api_base(Some(org), None, None).unwrap_err();
            assert_eq!(failure.exit_code(), 2, "org {org:?}");
            assert!(failure.to_string().contains("--org"), "org {org:?}");
        }
    }

    #[test]
    fn invalid_kb_id_is_refused() {
        let base = api_base(None, None, None).unwrap();
        for id in [
            "",
            "../admin",
            "a/b",
            "a?b",
            "a#b",
            "a%2e",
            "a b",
            &"1".repeat(129),
        ] {
            let failure = settings_url(&base, id).unwrap_err();
            assert_eq!(failure.exit_code(), 2, "id {id:?}");
        }
    }

    #[test]
    fn api_base_allows_http_only_on_loopback() {
        for ok in [
            "https://kustomer.example.com",
            "http://127.0.0.1:9000",
            "http://localhost:9000/",
            "http://[::1]:9000",
        ] {
            assert!(api_base(None, None, Some(ok)).is_ok(), "{ok}");
        }
        for refused in [
            "http://api.kustomerapp.com",
            "http://127.0.0.2",
            "http://localhost.evil.com",
            "ftp://127.0.0.1",
            "https://user:pw@api.kustomerapp.com",
            "https://api.kustomerapp.com/?x=1",
            "not a url",
        ] {
            let failure = api_base(None, None, Some(refused)).unwrap_err();
            assert_eq!(failure.exit_code(), 2, "{refused}");
        }
    }

    #[test]
    fn api_base_wins_over_org_and_region() {
        let url = api_base(Some("acme"), Some(Region::Eu), Some("http://127.0.0.1:1")).unwrap();
        assert_eq!(url.as_str(), "http://127.0.0.1:1/");
    }
}
