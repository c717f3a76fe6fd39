//! What the mock portals remember: their sessions, the Aha! `state` values they issued and
//! the token ids they have seen. In memory, for the life of the demo.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use cookie::Cookie;
use http::HeaderMap;

use crate::demo::random_hex;
use portal_sso::find_cookie;

/// The most entries a [`Memory`] keeps; the oldest goes first.
const MAX_ENTRIES: usize = 10_000;

/// A mock portal's signed-in user: the email and the claims they signed in with.
#[derive(Clone)]
pub(crate) struct Visitor {
    pub(crate) email: String,
    pub(crate) claims: serde_json::Value,
}

/// Sessions keyed by a random id held in a cookie.
pub(crate) struct Sessions {
    cookie: &'static str,
    by_id: Mutex<HashMap<String, (u64, Visitor)>>,
}

impl Sessions {
    pub(crate) fn new(cookie: &'static str) -> Self {
        Self {
            cookie,
            by_id: Mutex::new(HashMap::new()),
        }
    }

    /// The visitor behind the request's session cookie, if any.
    pub(crate) fn get(&self, headers: &HeaderMap) -> Option<Visitor> {
        let id = find_cookie(headers, self.cookie)?;
        let sessions = self.by_id.lock().unwrap_or_else(PoisonError::into_inner);
        sessions.get(id).map(|(_, visitor)| visitor.clone())
    }

    /// Starts a session; returns the cookie that carries it.
    pub(crate) fn start(&self, visitor: Visitor, now: u64) -> Cookie<'static> {
        let id = random_hex();
        let mut sessions = self.by_id.lock().unwrap_or_else(PoisonError::into_inner);
        if sessions.len() >= MAX_ENTRIES {
            evict_oldest(&mut sessions, |(since, _)| *since);
        }
        sessions.insert(id.clone(), (now, visitor));
        Cookie::build((self.cookie, id))
            .path("/")
            .http_only(true)
            .same_site(cookie::SameSite::Lax)
            .build()
    }

    /// Ends the request's session, if any; returns the cookie that deletes it.
    pub(crate) fn end(&self, headers: &HeaderMap) -> Cookie<'static> {
        if let Some(id) = find_cookie(headers, self.cookie) {
            self.by_id
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .remove(id);
        }
        Cookie::build((self.cookie, ""))
            .path("/")
            .http_only(true)
            .max_age(cookie::time::Duration::ZERO)
            .expires(cookie::time::OffsetDateTime::UNIX_EPOCH)
            .build()
    }
}

/// One-time values with the time they were recorded: issued `state`s, seen `jti`s.
pub(crate) struct Memory {
    values: Mutex<HashMap<String, u64>>,
    ttl_secs: u64,
}

impl Memory {
    pub(crate) fn new(ttl_secs: u64) -> Self {
        Self {
            values: Mutex::new(HashMap::new()),
            ttl_secs,
        }
    }

    /// Records `value` at `now`; returns `false` when it is already there.
    pub(crate) fn insert(&self, value: String, now: u64) -> bool {
        let mut values = self.values.lock().unwrap_or_else(PoisonError::into_inner);
        values.retain(|_, at| now.saturating_sub(*at) <= self.ttl_secs);
        if values.contains_key(&value) {
            return false;
        }
        if values.len() >= MAX_ENTRIES {
            evict_oldest(&mut values, |at| *at);
        }
        values.insert(value, now);
        true
    }

    /// Removes `value`; returns whether it was there and recorded less than the time to
    /// live ago.
    pub(crate) fn take(&self, value: &str, now: u64) -> bool {
        let mut values = self.values.lock().unwrap_or_else(PoisonError::into_inner);
        values
            .remove(value)
            .is_some_and(|at| now.saturating_sub(at) <= self.ttl_secs)
    }
}

fn evict_oldest<V>(map: &mut HashMap<String, V>, age: impl Fn(&V) -> u64) {
    if let Some(oldest) = map
        .iter()
        .min_by_key(|(_, value)| age(value))
        .map(|(key, _)| key.clone())
    {
        map.remove(&oldest);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_values_are_one_time_and_expire() {
        let memory = Memory::new(900);
        assert!(memory.insert("a".to_owned(), 1000));
        assert!(!memory.insert("a".to_owned(), 1001));
        assert!(memory.take("a", 1002));
        assert!(!memory.take("a", 1003));
        assert!(memory.insert("b".to_owned(), 1000));
        assert!(!memory.take("b", 1000 + 901));
    }
}
