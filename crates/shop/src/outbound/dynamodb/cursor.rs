//! Opaque page cursors: DynamoDB's last evaluated key as base64url JSON. A
//! cursor is checked against the keys the query expects (and the caller's own
//! partition) before it reaches DynamoDB, so a forged one is a 400, not a 500.

use std::collections::{BTreeMap, HashMap};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

const MAX_CURSOR_LEN: usize = 1024;
const MAX_VALUE_LEN: usize = 256;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("invalid cursor")]
pub struct CursorError;

pub fn encode(key: &HashMap<String, String>) -> String {
    let ordered: BTreeMap<&String, &String> = key.iter().collect();
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(&ordered).unwrap_or_default())
}

/// Decodes a cursor that must hold exactly `expected` keys, each satisfying
/// `allowed(name, value)`.
pub fn decode(
    raw: &str,
    expected: &[&str],
    allowed: impl Fn(&str, &str) -> bool,
) -> Result<HashMap<String, String>, CursorError> {
    if raw.is_empty() || raw.len() > MAX_CURSOR_LEN {
        return Err(CursorError);
    }
    let bytes = URL_SAFE_NO_PAD.decode(raw).map_err(|_| CursorError)?;
    let key: HashMap<String, String> = serde_json::from_slice(&bytes).map_err(|_| CursorError)?;
    let fits = key.len() == expected.len()
        && expected
            .iter()
            .all(|name| key.get(*name).is_some_and(|v| !v.is_empty() && v.len() <= MAX_VALUE_LEN && allowed(name, v)));
    if fits {
        Ok(key)
    } else {
        Err(CursorError)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> HashMap<String, String> {
        HashMap::from([("pk".to_owned(), "product#a".to_owned()), ("sk".to_owned(), "meta".to_owned())])
    }

    #[test]
    fn round_trips() {
        let cursor = encode(&key());
        assert_eq!(decode(&cursor, &["pk", "sk"], |_, _| true), Ok(key()));
    }

    #[test]
    fn refuses_anything_else() {
        let good = encode(&key());
        assert_eq!(decode(&good, &["pk", "sk", "category"], |_, _| true), Err(CursorError));
        assert_eq!(decode(&good, &["pk", "sk"], |name, v| name != "pk" || v.starts_with("user#")), Err(CursorError));
        for bad in [
            "",
            "!!!",
            "e30",
            &"A".repeat(2000),
            &URL_SAFE_NO_PAD.encode("[1,2]"),
            &URL_SAFE_NO_PAD.encode(r#"{"pk":1,"sk":"x"}"#),
        ] {
            assert_eq!(decode(bad, &["pk", "sk"], |_, _| true), Err(CursorError), "{bad}");
        }
    }
}
