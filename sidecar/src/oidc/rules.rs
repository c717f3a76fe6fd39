//! The access rules, checked on the verified claims after a sign-in: a user who fails one
//! is refused with a page naming it.

use serde_json::Value;

use super::settings::Rules;

/// A rule the user failed: the event's reason and the page's sentence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Refusal {
    pub(crate) reason: &'static str,
    pub(crate) explain: String,
}

/// Checks `claims` (the ID token's, completed by userinfo) against `rules`; `email` is the
/// identity's address.
pub(crate) fn check(rules: &Rules, claims: &Value, email: &str) -> Result<(), Refusal> {
    if rules.require_email_verified && !is_true(claims.get("email_verified")) {
        return Err(Refusal {
            reason: "email_not_verified",
            explain: format!(
                "Your identity provider does not say that the email address {email} is verified \
                 (rule: require_email_verified). Verify it there, then sign in again."
            ),
        });
    }
    if !rules.allowed_email_domains.is_empty() {
        let domain = email
            .rsplit_once('@')
            .map(|(_, domain)| domain.trim_end_matches('.').to_ascii_lowercase())
            .unwrap_or_default();
        if !rules.allowed_email_domains.contains(&domain) {
            return Err(Refusal {
                reason: "email_domain_not_allowed",
                explain: format!(
                    "Accounts of the domain {domain} may not sign in here (rule: \
                     allowed_email_domains). Sign in with an account of {}.",
                    rules.allowed_email_domains.join(", ")
                ),
            });
        }
    }
    if !rules.allowed_groups.is_empty() {
        let groups = groups(claims, &rules.groups_claim);
        if !rules
            .allowed_groups
            .iter()
            .any(|allowed| groups.contains(&allowed.as_str()))
        {
            return Err(Refusal {
                reason: "group_not_allowed",
                explain: format!(
                    "Your account is in none of the groups that may sign in here (rule: \
                     allowed_groups, read from the `{}` claim): {}.",
                    rules.groups_claim,
                    rules.allowed_groups.join(", ")
                ),
            });
        }
    }
    Ok(())
}

/// `true`, or the string `"true"` some providers send.
fn is_true(value: Option<&Value>) -> bool {
    match value {
        Some(Value::Bool(verified)) => *verified,
        Some(Value::String(text)) => text == "true",
        _ => false,
    }
}

/// The groups in the claim `name` (a claim name, or a JSON pointer starting with `/`): a
/// list of strings, or one string.
fn groups<'a>(claims: &'a Value, name: &str) -> Vec<&'a str> {
    let value = if name.starts_with('/') {
        claims.pointer(name)
    } else {
        claims.get(name)
    };
    match value {
        Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).collect(),
        Some(Value::String(one)) => vec![one.as_str()],
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rules() -> Rules {
        Rules {
            require_email_verified: true,
            allowed_email_domains: vec!["acme.com".to_owned()],
            allowed_groups: vec!["support".to_owned()],
            groups_claim: "groups".to_owned(),
        }
    }

    #[test]
    fn each_rule_refuses_with_its_reason() {
        let ok = json!({"email_verified": true, "groups": ["staff", "support"]});
        assert_eq!(check(&rules(), &ok, "a@ACME.com"), Ok(()));
        let cases = [
            (
                json!({"email_verified": false, "groups": ["support"]}),
                "a@acme.com",
                "email_not_verified",
            ),
            (
                json!({"groups": ["support"]}),
                "a@acme.com",
                "email_not_verified",
            ),
            (
                json!({"email_verified": true, "groups": ["support"]}),
                "a@evil.com",
                "email_domain_not_allowed",
            ),
            (
                json!({"email_verified": true, "groups": ["sales"]}),
                "a@acme.com",
                "group_not_allowed",
            ),
            (
                json!({"email_verified": true}),
                "a@acme.com",
                "group_not_allowed",
            ),
        ];
        for (claims, email, reason) in cases {
            assert_eq!(
                check(&rules(), &claims, email).unwrap_err().reason,
                reason,
                "{claims}"
            );
        }
    }

    #[test]
    fn groups_may_be_one_string_or_found_by_pointer() {
        let mut rules = rules();
        rules.groups_claim = "/realm_access/roles".to_owned();
        let claims = json!({"email_verified": "true", "realm_access": {"roles": ["support"]}});
        assert_eq!(check(&rules, &claims, "a@acme.com"), Ok(()));
        rules.groups_claim = "role".to_owned();
        let claims = json!({"email_verified": true, "role": "support"});
        assert_eq!(check(&rules, &claims, "a@acme.com"), Ok(()));
    }
}
