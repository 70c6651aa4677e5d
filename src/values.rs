//! The checked values that travel from a request into the store and back out as JSON: room
//! names, peer ids, tokens, message types and message data. Each is a newtype that can only
//! be built by its parser (or, for what the server generates itself, by its generator), so a
//! value that reaches a file name or a `format!`-built JSON line is safe there by type.
//!
//! Pure: no I/O, and nothing here knows about modes or files.

use serde_json::Value;

use crate::error::{Error, Result};
use crate::secret;

/// A room name: 1 to 64 characters of `A-Z a-z 0-9 _ -`, so it is safe as a file name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoomName(String);

/// A peer id as the server generates it; the same alphabet as room names.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PeerId(String);

/// A peer's secret. Never written into an answer except its owner's join.
#[derive(Clone, PartialEq, Eq)]
pub struct Token(String);

/// A message's `type`: a name that is not reserved for the server, so it can be written
/// into a JSON string without escaping.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageType(String);

/// A message's `data` as compact JSON text: one line, ready to be stored and streamed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventData(String);

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    pub peer: PeerId,
    pub token: Token,
}

fn is_name_char(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || byte == b'_' || byte == b'-'
}

fn is_name(text: &str, max_len: usize) -> bool {
    !text.is_empty() && text.len() <= max_len && text.bytes().all(is_name_char)
}

impl RoomName {
    pub fn parse(text: &str) -> Result<RoomName> {
        if is_name(text, 64) {
            Ok(RoomName(text.to_string()))
        } else {
            Err(Error::BadRequest(
                "a room name is 1 to 64 characters of A-Z, a-z, 0-9, _ and -".to_string(),
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl PeerId {
    pub fn parse(text: &str) -> Result<PeerId> {
        if is_name(text, 32) {
            Ok(PeerId(text.to_string()))
        } else {
            Err(Error::BadRequest(
                "a peer id is 1 to 32 characters of A-Z, a-z, 0-9, _ and -".to_string(),
            ))
        }
    }

    /// A fresh id from the OS generator.
    pub fn generate() -> PeerId {
        PeerId(secret::peer_id())
    }

    /// Wraps an id this server generated and stored itself.
    pub(crate) fn stored(text: String) -> PeerId {
        debug_assert!(is_name(&text, 32));
        PeerId(text)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Token {
    /// A token as a client sent it: any non-empty text without control characters (the
    /// query decoder refuses those). It is only ever compared, never stored or shown.
    pub fn parse(text: &str) -> Result<Token> {
        if text.is_empty() {
            return Err(Error::Forbidden(
                "the parameter \"token\" is missing: only the peer that joined can do this"
                    .to_string(),
            ));
        }
        Ok(Token(text.to_string()))
    }

    /// A fresh token from the OS generator.
    pub fn generate() -> Token {
        Token(secret::token())
    }

    /// Wraps a token this server generated and stored itself.
    pub(crate) fn stored(text: String) -> Token {
        Token(text)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Compares in constant time, so the answer's timing does not tell how much of a guess
    /// was right.
    pub fn matches(&self, other: &Token) -> bool {
        secret::constant_time_eq(self.0.as_bytes(), other.0.as_bytes())
    }
}

/// Tokens stay out of logs and panic messages.
impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Token(…)")
    }
}

impl MessageType {
    pub fn parse(text: &str) -> Result<MessageType> {
        if !is_name(text, 32) {
            return Err(Error::BadRequest(
                "\"type\" is 1 to 32 characters of A-Z, a-z, 0-9, _ and -".to_string(),
            ));
        }
        if text == "join" || text == "leave" {
            return Err(Error::BadRequest(format!(
                "\"type\": \"{text}\" is reserved for the server"
            )));
        }
        Ok(MessageType(text.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl EventData {
    /// Re-serialises (rather than passing the raw text on) so that the value is one compact
    /// line, which the store's records and SSE `data:` lines depend on. `null` is no data.
    pub fn from_json(value: Value) -> Option<EventData> {
        match value {
            Value::Null => None,
            value => Some(EventData(value.to_string())),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_keep_to_their_alphabet() {
        assert!(RoomName::parse("ab_C-9").is_ok());
        assert!(RoomName::parse("..").is_err());
        assert!(RoomName::parse(&"a".repeat(65)).is_err());
        assert!(PeerId::parse(&"a".repeat(33)).is_err());
        assert_eq!(PeerId::generate().as_str().len(), 12);
    }

    #[test]
    fn message_types_refuse_the_server_events() {
        assert!(MessageType::parse("description").is_ok());
        assert!(MessageType::parse("join").is_err());
        assert!(MessageType::parse("a\"b").is_err());
    }

    #[test]
    fn event_data_is_one_line_and_tokens_do_not_print() {
        let data = EventData::from_json(serde_json::json!({"a": "b\nc"})).unwrap();
        assert_eq!(data.as_str(), "{\"a\":\"b\\nc\"}");
        assert!(EventData::from_json(Value::Null).is_none());
        let token = Token::generate();
        assert!(!format!("{token:?}").contains(token.as_str()));
        assert!(token.matches(&Token::stored(token.as_str().to_string())));
    }
}
