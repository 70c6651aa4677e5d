//! The settings file as written: the keys `webrtc.json` may hold (`SettingsFile`, `TurnFile`)
//! and the messages that refuse a file, a key or a value of the wrong type.
//!
//! A settings error is shown to visitors (a 500 page, the self-check), so these messages
//! name the key at fault and what it must hold, never the value given: it may be a secret.
//! The list of known keys is the one serde's derive makes from the structs' fields, so it
//! cannot drift from them. Checking the values themselves (ranges, URLs) is `config`'s.

use serde::de::{self, Visitor};
use serde::Deserialize;
use serde_json::{Map, Value};

use super::{HandOver, IceTransportPolicy, SETTINGS_FILE_NAME};
use crate::error::{Error, Result};

/// The top-level keys; `None` is a key left out. Unknown keys never reach serde (`parse`
/// takes them out and names them all at once); `deny_unknown_fields` is what makes serde's
/// derive hand the field names to `field_names`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct SettingsFile {
    pub(super) data_dir: Option<String>,
    pub(super) hold_seconds: Option<u32>,
    pub(super) retry_ms: Option<u32>,
    pub(super) peer_timeout_seconds: Option<u32>,
    pub(super) quiet_poll_seconds: Option<u32>,
    pub(super) max_peers: Option<u32>,
    pub(super) max_body_bytes: Option<u64>,
    pub(super) max_backlog_bytes: Option<u64>,
    pub(super) max_joins_per_minute: Option<u32>,
    pub(super) max_posts_per_second: Option<u32>,
    pub(super) max_site_joins_per_minute: Option<u32>,
    pub(super) max_held_streams: Option<u32>,
    pub(super) max_held_streams_per_address: Option<u32>,
    pub(super) max_rooms: Option<u32>,
    pub(super) max_data_bytes: Option<u64>,
    pub(super) trusted_proxies: Option<Vec<String>>,
    pub(super) ice_servers: Option<Value>,
    pub(super) ice_transport_policy: Option<IceTransportPolicy>,
    pub(super) hand_over: Option<HandOver>,
    pub(super) turn: Option<TurnFile>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct TurnFile {
    pub(super) urls: Value,
    pub(super) secret: String,
    pub(super) ttl_seconds: Option<u32>,
}

/// What each key of the settings file holds, for messages about a value of the wrong type.
/// A key not listed holds a whole number.
const EXPECTED: &[(&str, &str)] = &[
    ("data_dir", "a folder path (text)"),
    (
        "ice_servers",
        "a list of objects like {\"urls\": \"stun:host:3478\"}",
    ),
    (
        "turn",
        "an object {\"urls\": ..., \"secret\": \"...\", \"ttl_seconds\": N}",
    ),
    ("turn.urls", "a turn: URL or a list of them"),
    ("turn.secret", "text (coturn's static-auth-secret)"),
    ("ice_transport_policy", "\"all\" or \"relay\""),
    ("hand_over", "\"auto\", \"on\" or \"off\""),
    (
        "trusted_proxies",
        "a list of addresses or networks, like \"203.0.113.7\" or \"2001:db8::/32\"",
    ),
];

/// The keys of the settings file, in the order of `SettingsFile`'s fields.
pub(super) fn known_keys() -> &'static [&'static str] {
    field_names::<SettingsFile>()
}

/// Parses the file's JSON. serde's own messages quote the offending value, so they are
/// replaced by ones that name the key and what it must hold. A value of the wrong type is
/// reported before unknown keys, which are all named together.
pub(super) fn parse(text: &str) -> Result<SettingsFile> {
    let value: Value = serde_json::from_str(text).map_err(|error| {
        Error::Settings(format!(
            "{SETTINGS_FILE_NAME} is not valid JSON (line {}, column {})",
            error.line(),
            error.column()
        ))
    })?;
    let Value::Object(mut fields) = value else {
        return Err(Error::Settings(format!(
            "{SETTINGS_FILE_NAME} must hold one JSON object {{\"key\": value, ...}}"
        )));
    };
    // JSON has no comments: keys starting with "_" are notes, as in the shipped
    // webrtc.example.json, which explains each setting in such a key beside it.
    fields.retain(|key, _| !key.starts_with('_'));
    let known = known_keys();
    let mut unknown: Vec<String> = (fields.keys())
        .filter(|key| !known.contains(&key.as_str()))
        .cloned()
        .collect();
    fields.retain(|key, _| known.contains(&key.as_str()));
    let file = settings_file(fields)?;
    if !unknown.is_empty() {
        unknown.sort();
        return Err(Error::Settings(unknown_keys_message(&unknown)));
    }
    Ok(file)
}

/// Reads known keys into `SettingsFile`, or names the first key whose value fails on its own.
fn settings_file(fields: Map<String, Value>) -> Result<SettingsFile> {
    if let Ok(file) = serde_json::from_value::<SettingsFile>(Value::Object(fields.clone())) {
        return Ok(file);
    }
    for (key, field) in &fields {
        let alone = serde_json::json!({ key.as_str(): field });
        if serde_json::from_value::<SettingsFile>(alone).is_ok() {
            continue;
        }
        let path = match (key.as_str(), field) {
            ("turn", Value::Object(turn)) => turn_key_at_fault(turn),
            _ => key.clone(),
        };
        let expected = EXPECTED
            .iter()
            .find(|(name, _)| *name == path)
            .map_or("a whole number", |(_, expected)| expected);
        return Err(Error::Settings(format!(
            "{SETTINGS_FILE_NAME}: {} must be {expected}",
            shown_key(&path)
        )));
    }
    Err(Error::Settings(format!(
        "{SETTINGS_FILE_NAME} has an invalid value"
    )))
}

/// Which key of a `turn` object fails, as `turn.KEY`.
fn turn_key_at_fault(turn: &Map<String, Value>) -> String {
    let complete = |key: &str, field: &Value| {
        let mut probe = serde_json::json!({"urls": "turn:x", "secret": "s"});
        probe[key] = field.clone();
        probe
    };
    for (key, field) in turn {
        if serde_json::from_value::<TurnFile>(complete(key, field)).is_err() {
            if !field_names::<TurnFile>().contains(&key.as_str()) {
                return format!("turn (unknown field `{}`)", shown_key(key));
            }
            return format!("turn.{key}");
        }
    }
    "turn (it needs urls and secret)".to_string()
}

/// Keys are names the site owner typed, not values, but are shortened all the same.
fn shown_key(key: &str) -> String {
    key.chars().take(40).collect()
}

/// Names the keys and this version: a key from the guide of a newer version is refused by an
/// older program, and the self-check page shows this message.
fn unknown_keys_message(unknown: &[String]) -> String {
    let (noun, pronoun) = if unknown.len() == 1 {
        ("field", "it")
    } else {
        ("fields", "they")
    };
    let names: Vec<String> = unknown.iter().map(|key| format!("`{key}`")).collect();
    format!(
        "{SETTINGS_FILE_NAME}: unknown {noun} {}: webrtc-cgi {} does not know {pronoun}. A setting from the guide of a newer version needs that newer webrtc.cgi; otherwise check the spelling (known: {}; keys starting with _ are notes)",
        names.join(", "),
        env!("CARGO_PKG_VERSION"),
        known_keys().join(", ")
    )
}

/// The fields of a struct whose `Deserialize` is derived, as the derive lists them: serde
/// passes them to `deserialize_struct`, where `FieldNames` keeps them and stops.
fn field_names<T: de::DeserializeOwned>() -> &'static [&'static str] {
    let mut names: &'static [&'static str] = &[];
    // The error is the expected end: `FieldNames` never yields a value.
    let _ = T::deserialize(FieldNames(&mut names));
    names
}

/// A deserializer that only records the field names it is asked for.
struct FieldNames<'a>(&'a mut &'static [&'static str]);

impl<'de> de::Deserializer<'de> for FieldNames<'_> {
    type Error = de::value::Error;

    fn deserialize_any<V: Visitor<'de>>(
        self,
        _visitor: V,
    ) -> std::result::Result<V::Value, Self::Error> {
        Err(de::Error::custom("not a struct"))
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        _visitor: V,
    ) -> std::result::Result<V::Value, Self::Error> {
        *self.0 = fields;
        Err(de::Error::custom("field names taken"))
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map enum identifier
        ignored_any
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The known keys are read from the structs' fields: each one is a field that takes a
    /// value (`null`, as all are optional), and a name that is none is refused.
    #[test]
    fn the_known_keys_are_the_fields() {
        assert_eq!(known_keys().first(), Some(&"data_dir"));
        assert!(known_keys().contains(&"max_held_streams_per_address"));
        for key in known_keys() {
            let alone = serde_json::json!({ *key: null });
            assert!(
                serde_json::from_value::<SettingsFile>(alone).is_ok(),
                "{key}"
            );
        }
        let stranger = serde_json::json!({"max_peer": null});
        assert!(serde_json::from_value::<SettingsFile>(stranger).is_err());
        assert_eq!(field_names::<TurnFile>(), ["urls", "secret", "ttl_seconds"]);
    }

    /// A key described in `EXPECTED` is one the file has, so no description is dead.
    #[test]
    fn every_described_key_exists() {
        for (path, _) in EXPECTED {
            let (key, inner) = path.split_once('.').unwrap_or((path, ""));
            assert!(known_keys().contains(&key), "{path}");
            assert!(
                inner.is_empty() || field_names::<TurnFile>().contains(&inner),
                "{path}"
            );
        }
    }
}
