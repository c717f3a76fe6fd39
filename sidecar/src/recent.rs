//! The last SSO decisions, kept in memory for the admin listener's `/events`: the answer
//! to "why did this sign-in fail" without searching the logs.

use std::collections::VecDeque;
use std::num::NonZeroU8;
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::Serialize;
use time::OffsetDateTime;
use time::format_description::well_known::Iso8601;
use time::format_description::well_known::iso8601::{Config, EncodedConfig, TimePrecision};

use portal_sso::{EventObserver, SsoEvent};

/// How many events [`Recent::default`] keeps.
pub const DEFAULT_CAPACITY: usize = 200;

/// The last `capacity` [`SsoEvent`]s, newest first.
///
/// Events hold no token, secret, cookie or `trackingToken` (the layer never puts one in),
/// and the email is already masked.
#[derive(Debug)]
pub struct Recent {
    capacity: usize,
    events: Mutex<VecDeque<Record>>,
}

/// One event as `/events` shows it.
#[derive(Debug, Clone, Serialize)]
struct Record {
    time: String,
    unix_ms: u128,
    event: &'static str,
    portal: String,
    path: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    email: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    target_origin: Option<String>,
}

impl Default for Recent {
    fn default() -> Self {
        Self::new(DEFAULT_CAPACITY)
    }
}

impl Recent {
    /// Keeps the last `capacity` events.
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity,
            events: Mutex::new(VecDeque::with_capacity(capacity)),
        }
    }

    /// The events as a JSON array, newest first.
    pub fn to_json(&self) -> String {
        let events = self
            .events
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        serde_json::to_string(&*events).unwrap_or_else(|_| "[]".to_owned())
    }
}

impl EventObserver for Recent {
    fn on_event(&self, event: &SsoEvent) {
        if self.capacity == 0 {
            return;
        }
        let since_epoch = event.at.duration_since(UNIX_EPOCH).unwrap_or_default();
        let record = Record {
            time: rfc3339(event.at),
            unix_ms: since_epoch.as_millis(),
            event: event.kind.name(),
            portal: event.portal.clone(),
            path: event.path.clone(),
            reason: event.reason.clone(),
            email: event.email.clone(),
            target_origin: event.target_origin.clone(),
        };
        let mut events = self
            .events
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if events.len() == self.capacity {
            events.pop_back();
        }
        events.push_front(record);
    }
}

/// RFC 3339 in UTC to the millisecond: `2026-11-21T10:47:16.123Z`.
const RFC3339_MILLIS: EncodedConfig = Config::DEFAULT
    .set_time_precision(TimePrecision::Second {
        decimal_digits: NonZeroU8::new(3),
    })
    .encode();

fn rfc3339(at: SystemTime) -> String {
    // Formatting fails only past the year 9999.
    OffsetDateTime::from(at)
        .format(&Iso8601::<RFC3339_MILLIS>)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn formats_utc_dates() {
        assert_eq!(rfc3339(UNIX_EPOCH), "1970-01-01T00:00:00.000Z");
        let at = UNIX_EPOCH + Duration::from_millis(1_709_210_096_250);
        assert_eq!(rfc3339(at), "2024-02-29T12:34:56.250Z");
    }
}
