//! Parses a CGI request (its variables and its body) into a typed `Request`. After this
//! module nothing looks at raw strings again: room names, peer ids, tokens and messages are
//! checked here, and anything left over or malformed is rejected with a precise message.
//!
//! Pure: it reads no environment, no stdin and no files.

use std::collections::HashMap;

use percent_encoding::percent_decode_str;
use serde::Deserialize;
use serde_json::Value;

use crate::error::{Error, Result};

/// Longer query strings are refused before they are split: no valid request comes near it.
const MAX_QUERY_BYTES: usize = 4096;
const MAX_PARAMETERS: usize = 32;

/// A room name: 1 to 64 characters of `A-Z a-z 0-9 _ -`, so it is safe as a file name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoomName(String);

/// A peer id as the server generates it; the same alphabet as room names.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PeerId(String);

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    pub peer: PeerId,
    pub token: String,
}

#[derive(Debug, PartialEq, Eq)]
pub struct OutgoingMessage {
    pub to: Option<PeerId>,
    pub kind: String,
    /// The `data` value as compact JSON text (so one line), ready to be stored and streamed.
    pub data: Option<String>,
    /// Whether the message has the form a sealed room takes (PROTOCOL.md, "Sealed rooms").
    pub sealed: bool,
}

#[derive(Debug, PartialEq, Eq)]
pub enum Request {
    NewRoom,
    Page {
        room: RoomName,
    },
    Asset {
        name: String,
        version: Option<String>,
        if_none_match: Option<String>,
    },
    Check {
        https: bool,
        server_software: String,
    },
    Join {
        room: RoomName,
        address: String,
        /// The joiner asks for a sealed room (`sealed=1`).
        sealed: bool,
    },
    Post {
        room: RoomName,
        credentials: Credentials,
        message: OutgoingMessage,
    },
    Sse {
        room: RoomName,
        credentials: Credentials,
        last_event_id: Option<u64>,
        hold_seconds: Option<u32>,
    },
    Leave {
        room: RoomName,
        credentials: Credentials,
    },
    Ice {
        room: RoomName,
        credentials: Credentials,
    },
    Probe,
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

    /// Wraps an id this server generated itself.
    pub fn generated(text: String) -> PeerId {
        debug_assert!(is_name(&text, 32));
        PeerId(text)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The decoded query: each parameter once, in order.
struct Query {
    parameters: Vec<(String, String)>,
}

impl Query {
    fn parse(text: &str) -> Result<Query> {
        if text.len() > MAX_QUERY_BYTES {
            return Err(Error::BadRequest(format!(
                "the query string is longer than {MAX_QUERY_BYTES} bytes"
            )));
        }
        let mut parameters: Vec<(String, String)> = Vec::new();
        for pair in text.split('&').filter(|pair| !pair.is_empty()) {
            if parameters.len() == MAX_PARAMETERS {
                return Err(Error::BadRequest(format!(
                    "the query string has more than {MAX_PARAMETERS} parameters"
                )));
            }
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            let key = decode(key)?;
            let value = decode(value)?;
            if parameters.iter().any(|(existing, _)| *existing == key) {
                return Err(Error::BadRequest(format!(
                    "the parameter \"{}\" is given more than once",
                    printable(&key)
                )));
            }
            parameters.push((key, value));
        }
        Ok(Query { parameters })
    }

    fn get(&self, key: &str) -> Option<&str> {
        self.parameters
            .iter()
            .find(|(name, _)| name == key)
            .map(|(_, value)| value.as_str())
    }

    fn require(&self, key: &str) -> Result<&str> {
        self.get(key)
            .ok_or_else(|| Error::BadRequest(format!("the parameter \"{key}\" is missing")))
    }

    /// Rejects parameters that the mode does not take.
    fn only(&self, allowed: &[&str]) -> Result<()> {
        match self
            .parameters
            .iter()
            .find(|(name, _)| !allowed.contains(&name.as_str()))
        {
            Some((name, _)) => Err(Error::BadRequest(format!(
                "the parameter \"{}\" is not taken here (allowed: {})",
                printable(name),
                allowed.join(", ")
            ))),
            None => Ok(()),
        }
    }

    fn room(&self) -> Result<RoomName> {
        RoomName::parse(self.require("room")?)
    }

    fn credentials(&self) -> Result<Credentials> {
        let peer = PeerId::parse(self.require("peer")?)?;
        let token = self.get("token").unwrap_or("");
        if token.is_empty() {
            return Err(Error::Forbidden(
                "the parameter \"token\" is missing: only the peer that joined can do this"
                    .to_string(),
            ));
        }
        Ok(Credentials {
            peer,
            token: token.to_string(),
        })
    }
}

fn decode(text: &str) -> Result<String> {
    let decoded = percent_decode_str(text).decode_utf8().map_err(|_| {
        Error::BadRequest("the query string is not valid percent-encoded UTF-8".to_string())
    })?;
    if decoded.chars().any(char::is_control) {
        return Err(Error::BadRequest(
            "the query string holds control characters (such as NUL, CR or LF)".to_string(),
        ));
    }
    Ok(decoded.into_owned())
}

/// Shortens text taken from a request before it is quoted back in an error message.
fn printable(text: &str) -> String {
    let mut shown: String = text.chars().take(40).collect();
    if shown.len() < text.len() {
        shown.push('…');
    }
    shown
}

fn parse_number<T: std::str::FromStr>(key: &str, text: &str) -> Result<T> {
    if text.is_empty() || !text.bytes().all(|byte| byte.is_ascii_digit()) || text.len() > 19 {
        return Err(Error::BadRequest(format!(
            "the parameter \"{key}\" must be a whole number"
        )));
    }
    text.parse()
        .map_err(|_| Error::BadRequest(format!("the parameter \"{key}\" is out of range")))
}

fn require_method(method: &str, allowed: &'static str, mode: &str) -> Result<()> {
    let accepted = match allowed {
        "GET" => method == "GET" || method == "HEAD",
        _ => method == allowed,
    };
    if accepted {
        Ok(())
    } else {
        let allow = if allowed == "GET" {
            "GET, HEAD"
        } else {
            allowed
        };
        Err(Error::MethodNotAllowed {
            allow,
            message: format!("{mode} takes {allowed}, not {}", printable(method)),
        })
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MessageBody {
    #[serde(default)]
    to: Option<String>,
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    data: Option<Value>,
}

fn parse_message(body: &[u8]) -> Result<OutgoingMessage> {
    if body.is_empty() {
        return Err(Error::BadRequest(
            "the body is empty: send {\"to\": ID, \"type\": \"...\", \"data\": ...}".to_string(),
        ));
    }
    let text = std::str::from_utf8(body)
        .map_err(|_| Error::BadRequest("the body is not valid UTF-8".to_string()))?;
    let message: MessageBody = serde_json::from_str(text)?;
    if !is_name(&message.kind, 32) {
        return Err(Error::BadRequest(
            "\"type\" is 1 to 32 characters of A-Z, a-z, 0-9, _ and -".to_string(),
        ));
    }
    if message.kind == "join" || message.kind == "leave" {
        return Err(Error::BadRequest(format!(
            "\"type\": \"{}\" is reserved for the server",
            message.kind
        )));
    }
    let to = message.to.as_deref().map(PeerId::parse).transpose()?;
    let sealed = is_sealed_form(&message.kind, message.data.as_ref());
    // Re-serialising (rather than passing the raw text on) makes the value one compact line,
    // which the store's records and SSE `data:` lines depend on, and parsing it first puts
    // serde_json's nesting limit between a hostile sender and the other browsers.
    let data = match message.data {
        None | Some(Value::Null) => None,
        Some(value) => Some(value.to_string()),
    };
    Ok(OutgoingMessage {
        to,
        kind: message.kind,
        data,
        sealed,
    })
}

/// Reads join's `sealed` parameter: absent, or `1`.
fn sealed_parameter(value: Option<&str>) -> Result<bool> {
    match value {
        None => Ok(false),
        Some("1") => Ok(true),
        Some(_) => Err(Error::BadRequest(
            "\"sealed\" takes only the value 1 (leave it out for a room that is not sealed)"
                .to_string(),
        )),
    }
}

/// The one form of message a sealed room accepts: type `sealed`, and data an object whose
/// only key `sealed` holds base64 text (PROTOCOL.md, "Sealed rooms").
fn is_sealed_form(kind: &str, data: Option<&Value>) -> bool {
    let Some(object) = data.and_then(Value::as_object) else {
        return false;
    };
    let base64 = |text: &str| {
        !text.is_empty()
            && text.len() % 4 == 0
            && text
                .bytes()
                .all(|byte| byte.is_ascii_alphanumeric() || b"+/=".contains(&byte))
    };
    kind == "sealed"
        && object.len() == 1
        && object
            .get("sealed")
            .and_then(Value::as_str)
            .is_some_and(base64)
}

impl Request {
    /// Builds the typed request from the CGI variables and the body (already read; only
    /// post mode looks at it).
    pub fn parse(env: &HashMap<String, String>, body: &[u8]) -> Result<Request> {
        let variable = |name: &str| env.get(name).map(String::as_str).unwrap_or("");
        let method = variable("REQUEST_METHOD");
        let query = Query::parse(variable("QUERY_STRING"))?;

        let Some(mode) = query.get("mode") else {
            require_method(method, "GET", "the page")?;
            if let Some(name) = query.get("asset") {
                query.only(&["asset", "v"])?;
                return Ok(Request::Asset {
                    name: name.to_string(),
                    version: query.get("v").map(str::to_string),
                    if_none_match: env.get("HTTP_IF_NONE_MATCH").cloned(),
                });
            }
            // Links shared through chat and social apps gain tracking parameters; the page
            // ignores them rather than failing for the person who clicked.
            return match query.get("room") {
                None => Ok(Request::NewRoom),
                Some(_) => Ok(Request::Page {
                    room: query.room()?,
                }),
            };
        };

        match mode {
            "join" => {
                require_method(method, "POST", "join")?;
                query.only(&["mode", "room", "sealed"])?;
                Ok(Request::Join {
                    room: query.room()?,
                    address: variable("REMOTE_ADDR").to_string(),
                    sealed: sealed_parameter(query.get("sealed"))?,
                })
            }
            "post" => {
                require_method(method, "POST", "post")?;
                query.only(&["mode", "room", "peer", "token"])?;
                let room = query.room()?;
                let credentials = query.credentials()?;
                if env
                    .get("CONTENT_LENGTH")
                    .map_or(true, |length| length.is_empty())
                {
                    return Err(Error::LengthRequired(
                        "post needs a JSON body with a Content-Length".to_string(),
                    ));
                }
                Ok(Request::Post {
                    room,
                    credentials,
                    message: parse_message(body)?,
                })
            }
            "sse" => {
                require_method(method, "GET", "sse")?;
                query.only(&["mode", "room", "peer", "token", "last", "hold"])?;
                let header = env
                    .get("HTTP_LAST_EVENT_ID")
                    .map(String::as_str)
                    .filter(|text| !text.trim().is_empty());
                let last_event_id = match (header, query.get("last")) {
                    (Some(text), _) => Some(parse_number("Last-Event-ID", text.trim())?),
                    (None, Some(text)) => Some(parse_number("last", text)?),
                    (None, None) => None,
                };
                let hold_seconds = query
                    .get("hold")
                    .map(|text| parse_number("hold", text))
                    .transpose()?;
                Ok(Request::Sse {
                    room: query.room()?,
                    credentials: query.credentials()?,
                    last_event_id,
                    hold_seconds,
                })
            }
            "leave" => {
                require_method(method, "POST", "leave")?;
                query.only(&["mode", "room", "peer", "token"])?;
                Ok(Request::Leave {
                    room: query.room()?,
                    credentials: query.credentials()?,
                })
            }
            "ice" => {
                require_method(method, "GET", "ice")?;
                query.only(&["mode", "room", "peer", "token"])?;
                Ok(Request::Ice {
                    room: query.room()?,
                    credentials: query.credentials()?,
                })
            }
            "check" => {
                require_method(method, "GET", "check")?;
                query.only(&["mode"])?;
                // Browsers treat loopback addresses as secure, so a local test counts.
                let host = variable("HTTP_HOST");
                let host = host.rsplit_once(':').map_or(host, |(name, port)| {
                    if port.bytes().all(|b| b.is_ascii_digit()) {
                        name
                    } else {
                        host
                    }
                });
                let local = matches!(host, "localhost" | "127.0.0.1" | "[::1]");
                let https = local
                    || env
                        .get("HTTPS")
                        .is_some_and(|value| value.eq_ignore_ascii_case("on"))
                    || env
                        .get("REQUEST_SCHEME")
                        .is_some_and(|scheme| scheme == "https")
                    || env
                        .get("HTTP_X_FORWARDED_PROTO")
                        .is_some_and(|scheme| scheme == "https");
                Ok(Request::Check {
                    https,
                    server_software: variable("SERVER_SOFTWARE").to_string(),
                })
            }
            "probe" => {
                require_method(method, "GET", "probe")?;
                query.only(&["mode"])?;
                Ok(Request::Probe)
            }
            other => Err(Error::BadRequest(format!(
                "unknown mode \"{}\" (modes: join, post, sse, leave, ice, check, probe)",
                printable(other)
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(method: &str, query: &str, body: &str) -> Result<Request> {
        let mut env = HashMap::new();
        env.insert("REQUEST_METHOD".to_string(), method.to_string());
        env.insert("QUERY_STRING".to_string(), query.to_string());
        env.insert("CONTENT_LENGTH".to_string(), body.len().to_string());
        Request::parse(&env, body.as_bytes())
    }

    fn check_error(method: &str, query: &str, body: &str, status: u16, fragment: &str) {
        match parse(method, query, body) {
            Err(error) => {
                assert_eq!(error.status(), status, "{query}: {error}");
                assert!(
                    error.to_string().contains(fragment),
                    "{query}: {error:?} lacks {fragment:?}"
                );
            }
            Ok(request) => panic!("{query} parsed as {request:?}"),
        }
    }

    const CREDENTIALS: &str = "room=r1&peer=p1&token=t1";

    #[test]
    fn modes_parse_into_typed_requests() {
        assert!(matches!(parse("GET", "", ""), Ok(Request::NewRoom)));
        assert!(
            matches!(parse("HEAD", "room=ab_C-9&utm_source=x", ""), Ok(Request::Page { room }) if room.as_str() == "ab_C-9")
        );
        assert!(matches!(
            parse("POST", "mode=join&room=r1", ""),
            Ok(Request::Join { .. })
        ));
        match parse("GET", &format!("mode=sse&{CREDENTIALS}&last=7&hold=0"), "") {
            Ok(Request::Sse {
                credentials,
                last_event_id,
                hold_seconds,
                ..
            }) => {
                assert_eq!(credentials.peer.as_str(), "p1");
                assert_eq!(credentials.token, "t1");
                assert_eq!(last_event_id, Some(7));
                assert_eq!(hold_seconds, Some(0));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn hostile_parameters_are_rejected() {
        check_error("GET", "room=..", "", 400, "room name");
        check_error("GET", "room=%2e%2e%2fetc", "", 400, "room name");
        check_error("GET", "room=a%00b", "", 400, "control characters");
        check_error(
            "GET",
            "room=a%0d%0aSet-Cookie:x",
            "",
            400,
            "control characters",
        );
        check_error("GET", "room=%ff", "", 400, "UTF-8");
        check_error("GET", "room=%F0%9F%98%80", "", 400, "room name");
        check_error("GET", "room=a&room=b", "", 400, "more than once");
        check_error("GET", &"room=a&".repeat(600), "", 400, "longer than");
        check_error("GET", "mode=teleport", "", 400, "unknown mode");
        check_error(
            "GET",
            &format!("mode=sse&{CREDENTIALS}&x=1"),
            "",
            400,
            "\"x\" is not taken",
        );
        check_error("GET", "mode=sse&room=r1&peer=p1", "", 403, "token");
        check_error(
            "GET",
            &format!("mode=sse&{CREDENTIALS}&last=-1"),
            "",
            400,
            "whole number",
        );
        check_error(
            "GET",
            &format!("mode=sse&{CREDENTIALS}&last=99999999999999999999"),
            "",
            400,
            "whole number",
        );
    }

    #[test]
    fn wrong_methods_are_405() {
        check_error(
            "GET",
            "mode=join&room=r1",
            "",
            405,
            "join takes POST, not GET",
        );
        check_error(
            "POST",
            &format!("mode=sse&{CREDENTIALS}"),
            "",
            405,
            "sse takes GET",
        );
        check_error("DELETE", "room=r1", "", 405, "the page takes GET");
    }

    #[test]
    fn message_bodies_are_checked() {
        let query = format!("mode=post&{CREDENTIALS}");
        check_error("POST", &query, "", 400, "body is empty");
        check_error("POST", &query, "not json", 400, "not valid JSON");
        check_error(
            "POST",
            &query,
            r#"{"type": "x", "extra": 1}"#,
            400,
            "unknown field",
        );
        check_error("POST", &query, r#"{"type": "join"}"#, 400, "reserved");
        check_error("POST", &query, r#"{"type": "a b"}"#, 400, "\"type\"");
        check_error(
            "POST",
            &query,
            r#"{"type": "x", "to": "../p"}"#,
            400,
            "peer id",
        );
        let nested = format!(
            r#"{{"type": "x", "data": {}{}}}"#,
            "[".repeat(5000),
            "]".repeat(5000)
        );
        check_error("POST", &query, &nested, 400, "recursion limit");
    }

    #[test]
    fn message_data_becomes_one_line() {
        let query = format!("mode=post&{CREDENTIALS}");
        let request = parse(
            "POST",
            &query,
            "{\"type\": \"x\", \"to\": \"p2\", \"data\": {\n\"a\": \"b\\nc\"\r\n}}",
        )
        .unwrap();
        let Request::Post { message, .. } = request else {
            panic!("not a post")
        };
        assert_eq!(message.to, Some(PeerId::parse("p2").unwrap()));
        assert_eq!(message.data.as_deref(), Some("{\"a\":\"b\\nc\"}"));
    }
}
