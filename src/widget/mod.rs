//! In-app widgets: the vendors' chat and feedback widgets that run inside the app's own
//! pages and are told who the user is with a value signed on the server.
//!
//! A [`Widget`] is one such value: a JWT made by the portals' claims engine and signer
//! (Kustomer Chat, Zendesk messaging, Intercom, Canny), or a lower-case hex HMAC-SHA256 of
//! one identity field (Help Scout Beacon, Front Chat, Intercom's `user_hash`, Crisp). The
//! layer answers its route (`/sso/widget/<kind>`) with JSON the page hands to the
//! vendor's script; [`WidgetSigner`] signs the same value for a page rendered on the
//! server. Each vendor is a [`WidgetPreset`](crate::WidgetPreset), one file each.

mod builder;
mod signer;

pub(crate) mod canny_widget;
pub(crate) mod crisp;
pub(crate) mod front_chat;
pub(crate) mod helpscout_beacon;
pub(crate) mod intercom;
pub(crate) mod intercom_hmac;
pub(crate) mod kustomer_chat;
pub(crate) mod zendesk_messaging;

pub use builder::{DEFAULT_WIDGET_TTL_SECS, HMAC_KIND, Widget, WidgetFormat};
pub use signer::{WidgetSignError, WidgetSigner, WidgetValue};
