//! An in-app widget's route: check that the app's own page asks, ask who is signed in,
//! then answer the page with the widget's value as JSON, or with why there is none.
//! Never a redirect: a widget that gets no value falls back to anonymous.

use std::sync::Arc;

use http::header::{ALLOW, COOKIE};
use http::request::Parts;
use http::{HeaderValue, Method, StatusCode};

use super::Begin;
use crate::config::Config;
use crate::events::{EventKind, MaskedEmail};
use crate::identity::{Identity, IdentityError, IdentityErrorKind};
use crate::request_origin::RequestOrigin;
use crate::response::{Written, json};
use crate::same_origin;
use crate::widget::WidgetSignError;

pub(super) fn begin(
    config: &Arc<Config>,
    index: usize,
    parts: &Parts,
    origin: RequestOrigin,
) -> Begin {
    let path = parts.uri.path();
    if parts.method != Method::GET && parts.method != Method::HEAD {
        let mut response = refuse(
            config,
            index,
            path,
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
        );
        response
            .headers_mut()
            .insert(ALLOW, HeaderValue::from_static("GET, HEAD"));
        return Begin::Respond(response);
    }
    let own = same_origin::own_origin(config.public_origin.as_deref(), origin, parts);
    if let Err(cross) = same_origin::check(&parts.headers, own.as_deref()) {
        let widget = &config.widgets[index];
        config.record(EventKind::WidgetRefused, &widget.name, path, |event| {
            event.reason = Some("cross_site".to_owned());
            event.target_origin = cross.from;
        });
        return Begin::Respond(error_json(StatusCode::FORBIDDEN, "cross_site"));
    }
    let cookie_bytes: usize = parts
        .headers
        .get_all(COOKIE)
        .iter()
        .map(HeaderValue::len)
        .sum();
    if cookie_bytes > config.max_cookie_bytes {
        return Begin::Respond(refuse(
            config,
            index,
            path,
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            "cookie_too_large",
        ));
    }
    let future = config.resolver.resolve(parts);
    let config = Arc::clone(config);
    let path = path.to_owned();
    Begin::Resolve(Box::pin(async move {
        let resolved = future.await;
        complete(&config, index, &path, resolved)
    }))
}

/// Turns the identity source's answer into the page's answer.
fn complete(
    config: &Config,
    index: usize,
    path: &str,
    resolved: Result<Option<Identity>, IdentityError>,
) -> Written {
    let widget = &config.widgets[index];
    let identity = match resolved {
        Ok(Some(identity)) => identity,
        Ok(None) => return refuse(config, index, path, StatusCode::UNAUTHORIZED, "signed_out"),
        Err(error) if error.kind() == IdentityErrorKind::Conflict => {
            config.record(EventKind::WidgetRefused, &widget.name, path, |event| {
                event.reason = Some(format!("signed_out: {}", error.message()));
            });
            return error_json(StatusCode::UNAUTHORIZED, "signed_out");
        }
        Err(error) if error.kind() == IdentityErrorKind::Unavailable => {
            config.record(EventKind::IdentityError, &widget.name, path, |event| {
                event.reason = Some(error.message().to_owned());
            });
            return error_json(StatusCode::SERVICE_UNAVAILABLE, "identity_unavailable");
        }
        Err(error) => return rejected(config, index, path, &error),
    };
    match widget.signer.sign(&identity) {
        Ok(value) => {
            config.record(EventKind::WidgetTokenIssued, &widget.name, path, |event| {
                event.email = Some(MaskedEmail(identity.email()).to_string());
            });
            json(StatusCode::OK, value.to_json())
        }
        Err(WidgetSignError::Identity(error)) => rejected(config, index, path, &error),
        Err(_) => refuse(
            config,
            index,
            path,
            StatusCode::INTERNAL_SERVER_ERROR,
            "signing_failed",
        ),
    }
}

/// An identity the widget cannot be given: 403, the event naming the field.
fn rejected(config: &Config, index: usize, path: &str, error: &IdentityError) -> Written {
    let widget = &config.widgets[index];
    config.record(EventKind::WidgetRefused, &widget.name, path, |event| {
        event.reason = Some(match error.field() {
            Some(field) => format!("identity_rejected: {field}: {}", error.message()),
            None => format!("identity_rejected: {}", error.message()),
        });
    });
    error_json(StatusCode::FORBIDDEN, "identity_rejected")
}

/// Records a `widget_refused` event for `reason` and answers `{"error": reason}`.
fn refuse(config: &Config, index: usize, path: &str, status: StatusCode, reason: &str) -> Written {
    config.record(
        EventKind::WidgetRefused,
        &config.widgets[index].name,
        path,
        |event| event.reason = Some(reason.to_owned()),
    );
    error_json(status, reason)
}

/// `{"error": error}` with `status`.
fn error_json(status: StatusCode, error: &str) -> Written {
    json(status, serde_json::json!({ "error": error }).to_string())
}
