//! Errors inside a tagged `[[portal]]` entry that still name their key.

use serde::de::Error as _;
use serde::{Deserialize, Deserializer};

/// Ends the key that [`keyed`] puts at the front of a message. A control character: serde
/// never writes one, and a key of the file holds one only if written as an escape, when
/// the worst outcome is a key named oddly in the one-line error.
pub(super) const KEY_END: char = '\u{1f}';

/// Reads one variant of a `#[serde(tag = "...")]` enum, keeping the key of an error.
///
/// serde reads a tagged entry whole to find its tag and then reads the variant from that
/// copy, where the path of the enclosing read no longer reaches: an error would name only
/// the entry (`portal[1]`). This reads the variant with a path of its own and puts it in
/// front of the message, for the file's parser to join to the entry's.
pub(super) fn keyed<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    serde_path_to_error::deserialize(deserializer).map_err(|err| {
        let key = err.path().to_string();
        D::Error::custom(format_args!("{key}{KEY_END}{}", err.into_inner()))
    })
}
