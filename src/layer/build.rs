//! [`SsoLayerBuilder::build`]: every setting checked once, in the order they are
//! documented, into the [`Config`] the service reads.

use std::sync::Arc;

use url::Url;

use super::checks::{check_local_or_absolute, check_path, public_origin, signer};
use super::{SsoLayer, SsoLayerBuilder};
use crate::config::{AppLogout, Config, LoopGuard, PortalEntry, Route, WidgetEntry};
use crate::error::ConfigError;
use crate::portal::engine::Engine;
use crate::secret::{MIN_SECRET_LEN, Secret};
use crate::widget::WidgetSigner;

impl SsoLayerBuilder {
    /// Checks every setting and builds the layer.
    #[allow(clippy::too_many_lines)] // one check per setting, in the order they are documented
    pub fn build(self) -> Result<SsoLayer, ConfigError> {
        let resolver = self.identity.ok_or_else(|| {
            ConfigError::new(
                "identity",
                "is required: say how to find the signed-in user",
            )
        })?;
        if self.portals.is_empty() && self.widgets.is_empty() {
            return Err(ConfigError::new(
                "portals",
                "is empty: add at least one portal or widget",
            ));
        }
        let login_url = check_local_or_absolute(&self.login_url)
            .map_err(|problem| ConfigError::new("login_url", problem))?;
        let public_origin = self
            .public_url
            .as_deref()
            .map(public_origin)
            .transpose()
            .map_err(|problem| ConfigError::new("public_url", problem))?;
        if self.return_param.is_empty()
            || self
                .return_param
                .bytes()
                .any(|b| !b.is_ascii_alphanumeric() && b != b'_' && b != b'-')
        {
            return Err(ConfigError::new(
                "return_param",
                "must be a non-empty name of letters, digits, `_` or `-`",
            ));
        }
        if self.login_loop_limit == 0 {
            return Err(ConfigError::new("login_loop_limit", "must be at least 1"));
        }
        let cookie_key = cookie_key(self.cookie_key.as_ref())?;
        if let Some(cookie) = &self.session_cookie {
            cookie.check()?;
        }

        let mut routes: Vec<(Box<str>, Route)> = Vec::new();
        let mut add_route = |path: &str, route: Route, field: String| {
            check_path(path).map_err(|problem| ConfigError::new(field.clone(), problem))?;
            if routes.iter().any(|(taken, _)| **taken == *path) {
                return Err(ConfigError::new(
                    field,
                    format!("`{path}` is already used by another route"),
                ));
            }
            routes.push((path.into(), route));
            Ok(())
        };

        let mut portals = Vec::with_capacity(self.portals.len());
        let mut portal_logout_urls = Vec::new();
        for (index, portal) in self.portals.iter().enumerate() {
            let field = format!("portals[{index}]");
            let engine = Engine::build(portal, &field)?;
            if let Some(logout_path) = portal.logout_path() {
                add_route(
                    &logout_path,
                    Route::Logout(index),
                    format!("{field}.logout_path"),
                )?;
                check_local_or_absolute(&portal.logout_redirect)
                    .map_err(|p| ConfigError::new(format!("{field}.logout_redirect"), p))?;
            }
            if let Some(url) = &portal.portal_logout_url {
                let parsed = Url::parse(url)
                    .ok()
                    .filter(|u| matches!(u.scheme(), "https" | "http") && u.host().is_some())
                    .ok_or_else(|| {
                        ConfigError::new(
                            format!("{field}.portal_logout_url"),
                            "must be an absolute https:// URL, e.g. https://acme.aha.site/portal_session/logout",
                        )
                    })?;
                portal_logout_urls.push(parsed);
            }
            let signer = signer(portal, &field, self.allow_short_secrets)?;
            if portal.name.is_empty() {
                return Err(ConfigError::new(format!("{field}.name"), "is empty"));
            }
            add_route(&portal.path, Route::Login(index), format!("{field}.path"))?;
            portals.push(PortalEntry {
                name: portal.name.clone(),
                signer,
                engine,
                logout_redirect: portal.logout_redirect.clone(),
            });
        }

        let mut widgets = Vec::with_capacity(self.widgets.len());
        for (index, widget) in self.widgets.iter().enumerate() {
            let field = format!("widgets[{index}]");
            let signer = WidgetSigner::build(widget, &field, self.allow_short_secrets)?;
            if widget.name.is_empty() {
                return Err(ConfigError::new(format!("{field}.name"), "is empty"));
            }
            add_route(&widget.path, Route::Widget(index), format!("{field}.path"))?;
            widgets.push(WidgetEntry {
                name: widget.name.clone(),
                signer,
            });
        }

        let app_logout = match self.app_logout_path {
            None => None,
            Some(path) => {
                if portal_logout_urls.is_empty() {
                    return Err(ConfigError::new(
                        "app_logout_path",
                        "is set but no portal has a portal_logout_url to send the browser on to",
                    ));
                }
                add_route(&path, Route::AppLogout, "app_logout_path".to_owned())?;
                Some(AppLogout {
                    portal_logout_url: portal_logout_urls.swap_remove(0),
                })
            }
        };
        let app_logout_url = match self.app_logout_url {
            None => None,
            Some(url) => Some(
                check_local_or_absolute(&url)
                    .map_err(|problem| ConfigError::new("app_logout_url", problem))?,
            ),
        };

        Ok(SsoLayer {
            config: Arc::new(Config {
                routes: routes.into_boxed_slice(),
                portals: portals.into_boxed_slice(),
                widgets: widgets.into_boxed_slice(),
                resolver,
                login_origin: Url::parse(&login_url)
                    .ok()
                    .map(|url| url.origin().ascii_serialization()),
                login_url,
                request_origin: self.request_origin,
                public_origin,
                return_param: self.return_param,
                observers: self.observers.into_boxed_slice(),
                session_cookie: self.session_cookie,
                app_logout,
                app_logout_url,
                cookie_key,
                loop_guard: LoopGuard {
                    limit: self.login_loop_limit,
                    window: self.login_loop_window,
                },
                max_cookie_bytes: self.max_cookie_bytes,
            }),
        })
    }
}

/// The signing key of the layer's own cookies: derived from the configured material, which must
/// be [`MIN_SECRET_LEN`] bytes or more, or random for this layer alone.
fn cookie_key(material: Option<&Secret>) -> Result<cookie::Key, ConfigError> {
    match material {
        None => Ok(cookie::Key::generate()),
        Some(key) if key.len() < MIN_SECRET_LEN => Err(ConfigError::new(
            "cookie_key",
            format!(
                "is {} bytes; at least {MIN_SECRET_LEN} are required",
                key.len()
            ),
        )),
        Some(key) => Ok(cookie::Key::derive_from(key.expose())),
    }
}
