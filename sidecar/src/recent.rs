//! The last SSO decisions and refusals, kept in memory for the admin listener's
//! `/events`: the answer to "why did this sign-in fail" without searching the logs.
//!
//! Decisions (tokens issued, logins asked for, logouts) and refusals (redirects and
//! requests refused, identity failures) are kept in two lists of their own, so that a
//! flood of refused requests, which anyone can send, cannot push the real decisions out.

use std::collections::VecDeque;
use std::num::NonZeroU8;
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::Serialize;
use time::OffsetDateTime;
use time::format_description::well_known::Iso8601;
use time::format_description::well_known::iso8601::{Config, EncodedConfig, TimePrecision};

use portal_sso::{EventKind, EventObserver, SsoEvent};

/// How many events of each class [`Recent::default`] keeps.
pub const DEFAULT_CAPACITY: usize = 200;

/// The last `capacity` decisions and the last `capacity` refusals ([`SsoEvent`]s), shown
/// together newest first.
///
/// Events hold no token, secret, cookie or `trackingToken` (the layer never puts one in),
/// and the email is already masked.
#[derive(Debug)]
pub struct Recent {
    capacity: usize,
    lists: Mutex<Lists>,
}

/// The two lists, each newest first, and the number the next event gets.
#[derive(Debug, Default)]
struct Lists {
    decisions: VecDeque<Record>,
    refusals: VecDeque<Record>,
    next: u64,
}

/// Which list an event is kept in: `/events` shows it as `class`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
enum Class {
    /// A token issued, a login asked for, a logout.
    Decision,
    /// Anything refused or failed.
    Refusal,
}

impl Class {
    fn of(kind: EventKind) -> Self {
        match kind {
            EventKind::TokenIssued
            | EventKind::LoginRequired
            | EventKind::Logout
            | EventKind::AppLogout => Class::Decision,
            _ => Class::Refusal,
        }
    }
}

/// One event as `/events` shows it.
#[derive(Debug, Clone, Serialize)]
struct Record {
    /// The order events came in, across both lists.
    #[serde(skip)]
    seq: u64,
    time: String,
    unix_ms: u128,
    event: &'static str,
    class: Class,
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
    /// Keeps the last `capacity` decisions and the last `capacity` refusals.
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity,
            lists: Mutex::new(Lists::default()),
        }
    }

    /// The events of both lists as one JSON array, newest first, each with its `class`
    /// (`decision` or `refusal`).
    pub fn to_json(&self) -> String {
        let lists = self
            .lists
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut events: Vec<&Record> = lists.decisions.iter().chain(&lists.refusals).collect();
        events.sort_unstable_by_key(|record| std::cmp::Reverse(record.seq));
        serde_json::to_string(&events).unwrap_or_else(|_| "[]".to_owned())
    }
}

impl EventObserver for Recent {
    fn on_event(&self, event: &SsoEvent) {
        if self.capacity == 0 {
            return;
        }
        let since_epoch = event.at.duration_since(UNIX_EPOCH).unwrap_or_default();
        let class = Class::of(event.kind);
        let mut record = Record {
            seq: 0,
            time: rfc3339(event.at),
            unix_ms: since_epoch.as_millis(),
            event: event.kind.name(),
            class,
            portal: event.portal.clone(),
            path: event.path.clone(),
            reason: event.reason.clone(),
            email: event.email.clone(),
            target_origin: event.target_origin.clone(),
        };
        let mut lists = self
            .lists
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        record.seq = lists.next;
        lists.next += 1;
        let list = match class {
            Class::Decision => &mut lists.decisions,
            Class::Refusal => &mut lists.refusals,
        };
        if list.len() == self.capacity {
            list.pop_back();
        }
        list.push_front(record);
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
    fn a_flood_of_refusals_keeps_the_decisions() {
        let recent = Recent::new(3);
        let event = |kind| SsoEvent {
            kind,
            at: SystemTime::now(),
            portal: "kustomer".to_owned(),
            path: "/sso/kustomer".to_owned(),
            reason: None,
            email: None,
            target_origin: None,
        };
        recent.on_event(&event(EventKind::TokenIssued));
        for _ in 0..10 {
            recent.on_event(&event(EventKind::RedirectRejected));
        }
        recent.on_event(&event(EventKind::Logout));
        let events: serde_json::Value = serde_json::from_str(&recent.to_json()).unwrap();
        let shown: Vec<(&str, &str)> = events
            .as_array()
            .unwrap()
            .iter()
            .map(|e| (e["event"].as_str().unwrap(), e["class"].as_str().unwrap()))
            .collect();
        assert_eq!(
            shown,
            [
                ("logout", "decision"),
                ("redirect_rejected", "refusal"),
                ("redirect_rejected", "refusal"),
                ("redirect_rejected", "refusal"),
                ("token_issued", "decision"),
            ]
        );
    }

    #[test]
    fn formats_utc_dates() {
        assert_eq!(rfc3339(UNIX_EPOCH), "1970-01-01T00:00:00.000Z");
        let at = UNIX_EPOCH + Duration::from_millis(1_709_210_096_250);
        assert_eq!(rfc3339(at), "2024-02-29T12:34:56.250Z");
    }
}
