//! Finding the secret in Kustomer's answer, and saying what the answer held instead
//! (names and kinds of values, never the values).

use serde_json::Value;

use super::Failure;

/// Where the secret is looked for, as JSON pointers, in order.
const SECRET_POINTERS: [&str; 2] = ["/data/attributes/secret", "/attributes/secret"];

/// The secret at `data.attributes.secret` or `attributes.secret` (JSON:API style). One
/// holding a control character (an ANSI escape, CR or LF) is refused: printed, it would
/// act on the operator's terminal, and written, it would not be the secret Kustomer signs
/// with.
pub(super) fn find_secret(body: &[u8]) -> Result<String, Failure> {
    let payload: Value = serde_json::from_slice(body)
        .map_err(|_| Failure::Payload("the answer is not JSON".to_owned()))?;
    for pointer in SECRET_POINTERS {
        match payload.pointer(pointer) {
            None => {}
            Some(Value::String(secret)) if secret.chars().any(char::is_control) => {
                return Err(Failure::Payload(format!(
                    "`{}` holds control characters (a terminal escape or a line break, \
                     which no signing secret has): refused, and nothing was written",
                    dotted(pointer)
                )));
            }
            Some(Value::String(secret)) if !secret.is_empty() => return Ok(secret.clone()),
            Some(other) => {
                return Err(Failure::Payload(format!(
                    "`{}` is {}, not a non-empty string",
                    dotted(pointer),
                    describe(other)
                )));
            }
        }
    }
    let tried = SECRET_POINTERS.map(dotted).join(" and ");
    let found = ["/data/attributes", "/attributes"]
        .into_iter()
        .find_map(|pointer| Some((pointer, payload.pointer(pointer)?)));
    let detail = match found {
        Some((pointer, Value::Object(attributes))) => {
            format!(
                "`{}` has the keys {}",
                dotted(pointer),
                key_list(attributes)
            )
        }
        Some((pointer, other)) => format!("`{}` is {}", dotted(pointer), describe(other)),
        None => match &payload {
            Value::Object(top) => format!(
                "there is no `attributes` field; the answer's top-level keys are {}",
                key_list(top)
            ),
            other => format!("the answer is {}", describe(other)),
        },
    };
    Err(Failure::Payload(format!(
        "no secret in the answer: tried {tried}; {detail}"
    )))
}

/// `/data/attributes/secret` as `data.attributes.secret`.
fn dotted(pointer: &str) -> String {
    pointer.trim_start_matches('/').replace('/', ".")
}

/// What kind of JSON value this is, never the value itself.
fn describe(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(text) if text.is_empty() => "an empty string",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Key names only, quoted and escaped, at most 20 of them.
fn key_list(object: &serde_json::Map<String, Value>) -> String {
    if object.is_empty() {
        return "(none)".to_owned();
    }
    let mut names: Vec<String> = object
        .keys()
        .take(20)
        .map(|key| format!("{key:?}"))
        .collect();
    if object.len() > 20 {
        names.push(format!("and {} more", object.len() - 20));
    }
    names.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_is_found_in_either_shape() {
        let json_api = br#"{"data":{"type":"kb_settings","id":"x","attributes":{"secret":"s3"}}}"#;
        assert_eq!(find_secret(json_api).unwrap(), "s3");
        let flat = br#"{"attributes":{"secret":"s4","name":"kb"}}"#;
        assert_eq!(find_secret(flat).unwrap(), "s4");
    }

    #[test]
    fn missing_secret_names_paths_and_keys_but_no_values() {
        let body = br#"{"data":{"attributes":{"name":"hidden-value","token":"other-value"}}}"#;
        let message = find_secret(body).unwrap_err().to_string();
        assert!(message.contains("data.attributes.secret"), "{message}");
        assert!(message.contains("attributes.secret"), "{message}");
        assert!(message.contains("\"name\""), "{message}");
        assert!(message.contains("\"token\""), "{message}");
        assert!(!message.contains("hidden-value"), "{message}");
        assert!(!message.contains("other-value"), "{message}");

        let message = find_secret(br#"{"errors":[{"x":"y"}]}"#)
            .unwrap_err()
            .to_string();
        assert!(message.contains("\"errors\""), "{message}");

        let message = find_secret(br#"{"data":{"attributes":{"secret":42}}}"#)
            .unwrap_err()
            .to_string();
        assert!(message.contains("a number"), "{message}");
        assert!(!message.contains("42"), "{message}");

        let message = find_secret(br#"{"attributes":{"secret":"s\u001b[2Jx"}}"#)
            .unwrap_err()
            .to_string();
        assert!(message.contains("control characters"), "{message}");
        assert!(!message.contains("s\u{1b}"), "{message}");

        let failure = find_secret(b"<html>secret</html>").unwrap_err();
        assert_eq!(failure.exit_code(), 7);
    }
}
