//! Fuzzes the request parser, `Request::parse`, with CGI variables and a body built from the
//! input. The parser sees everything a client controls, so it must never panic, every refusal
//! must be a client error (4xx) with a message, and what it accepts must already be safe to
//! use as file names, header-free text and single-line records.
#![no_main]

use std::collections::HashMap;

use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::fuzz_target;
use webrtc_cgi::mode::{ice::Ice, leave::Leave, page::Page, post::Post, sse::Sse, Request};
use webrtc_cgi::values::{Credentials, RoomName};

/// Parameter names the parser knows, so that most inputs reach a mode rather than stopping
/// at "unknown parameter".
#[derive(Arbitrary, Debug)]
enum Key {
    Mode,
    Room,
    Peer,
    Token,
    Last,
    Hold,
    Asset,
    Version,
    Other(String),
}

#[derive(Arbitrary, Debug)]
enum Value {
    Mode(ModeName),
    Name(u8, u8),
    Number(u64),
    Text(String),
}

#[derive(Arbitrary, Debug)]
enum ModeName {
    Join,
    Post,
    Sse,
    Leave,
    Ice,
    Check,
    Probe,
}

#[derive(Arbitrary, Debug)]
enum Method {
    Get,
    Post,
    Head,
    Other(String),
}

#[derive(Arbitrary, Debug)]
enum Body {
    Raw(Vec<u8>),
    Message {
        to: Option<String>,
        kind: String,
        data: Option<String>,
        extra: Option<String>,
    },
    Nested(u16),
}

#[derive(Arbitrary, Debug)]
struct Input {
    method: Method,
    parameters: Vec<(Key, Value, bool)>,
    raw_query: Option<String>,
    last_event_id: Option<String>,
    if_none_match: Option<String>,
    host: Option<String>,
    content_length: Option<String>,
    body: Body,
}

fn key_text(key: &Key) -> &str {
    match key {
        Key::Mode => "mode",
        Key::Room => "room",
        Key::Peer => "peer",
        Key::Token => "token",
        Key::Last => "last",
        Key::Hold => "hold",
        Key::Asset => "asset",
        Key::Version => "v",
        Key::Other(text) => text,
    }
}

fn value_text(value: &Value) -> String {
    match value {
        Value::Mode(ModeName::Join) => "join".into(),
        Value::Mode(ModeName::Post) => "post".into(),
        Value::Mode(ModeName::Sse) => "sse".into(),
        Value::Mode(ModeName::Leave) => "leave".into(),
        Value::Mode(ModeName::Ice) => "ice".into(),
        Value::Mode(ModeName::Check) => "check".into(),
        Value::Mode(ModeName::Probe) => "probe".into(),
        // A valid name of a chosen length, to reach the checks after the name checks.
        Value::Name(length, seed) => (0..usize::from(*length % 70))
            .map(|index| char::from(b"aZ9_-"[(index + usize::from(*seed)) % 5]))
            .collect(),
        Value::Number(number) => number.to_string(),
        Value::Text(text) => text.clone(),
    }
}

/// Percent-encodes everything but unreserved characters, as a browser would.
fn encode(text: &str) -> String {
    let mut encoded = String::new();
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-_.~".contains(&byte) {
            encoded.push(char::from(byte));
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    encoded
}

/// A JSON string literal, escaped by hand so the target needs no JSON crate of its own.
fn json_string(text: &str) -> String {
    let mut quoted = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => quoted.push_str("\\\""),
            '\\' => quoted.push_str("\\\\"),
            c if (c as u32) < 0x20 => quoted.push_str(&format!("\\u{:04x}", c as u32)),
            c => quoted.push(c),
        }
    }
    quoted.push('"');
    quoted
}

fn body_bytes(body: &Body) -> Vec<u8> {
    match body {
        Body::Raw(bytes) => bytes.clone(),
        Body::Message {
            to,
            kind,
            data,
            extra,
        } => {
            let mut fields = vec![format!("\"type\":{}", json_string(kind))];
            if let Some(to) = to {
                fields.push(format!("\"to\":{}", json_string(to)));
            }
            // `data` is taken as raw JSON text, so the fuzzer can shape any value.
            if let Some(data) = data {
                fields.push(format!("\"data\":{data}"));
            }
            if let Some(extra) = extra {
                fields.push(format!("{}:1", json_string(extra)));
            }
            format!("{{{}}}", fields.join(",")).into_bytes()
        }
        Body::Nested(depth) => {
            let depth = usize::from(*depth % 512);
            format!(
                "{{\"type\":\"x\",\"data\":{}{}}}",
                "[".repeat(depth),
                "]".repeat(depth)
            )
            .into_bytes()
        }
    }
}

fn check_name(text: &str, max_len: usize) {
    assert!(!text.is_empty() && text.len() <= max_len, "{text:?}");
    assert!(
        text.bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || byte == b'_' || byte == b'-'),
        "{text:?} is not safe as a file name"
    );
}

fn check_room(room: &RoomName) {
    check_name(room.as_str(), 64);
}

fn check_credentials(credentials: &Credentials) {
    check_name(credentials.peer.as_str(), 32);
    assert!(!credentials.token.as_str().is_empty());
    assert!(!credentials.token.as_str().chars().any(char::is_control));
}

fuzz_target!(|input: Input| {
    let mut env = HashMap::new();
    let method = match &input.method {
        Method::Get => "GET".to_string(),
        Method::Post => "POST".to_string(),
        Method::Head => "HEAD".to_string(),
        Method::Other(text) => text.clone(),
    };
    env.insert("REQUEST_METHOD".to_string(), method);
    let query = match &input.raw_query {
        Some(raw) => raw.clone(),
        None => input
            .parameters
            .iter()
            .map(|(key, value, encoded)| {
                let value = value_text(value);
                if *encoded {
                    format!("{}={}", encode(key_text(key)), encode(&value))
                } else {
                    format!("{}={value}", key_text(key))
                }
            })
            .collect::<Vec<_>>()
            .join("&"),
    };
    env.insert("QUERY_STRING".to_string(), query);
    env.insert("REMOTE_ADDR".to_string(), "192.0.2.1".to_string());
    if let Some(text) = &input.last_event_id {
        env.insert("HTTP_LAST_EVENT_ID".to_string(), text.clone());
    }
    if let Some(text) = &input.if_none_match {
        env.insert("HTTP_IF_NONE_MATCH".to_string(), text.clone());
    }
    if let Some(text) = &input.host {
        env.insert("HTTP_HOST".to_string(), text.clone());
    }
    let body = body_bytes(&input.body);
    let length = input
        .content_length
        .clone()
        .unwrap_or_else(|| body.len().to_string());
    env.insert("CONTENT_LENGTH".to_string(), length);

    match Request::parse(&env, &body) {
        Err(error) => {
            let status = error.status();
            assert!(
                (400..500).contains(&status),
                "a refusal must be a client error, got {status}: {error}"
            );
            assert!(!error.to_string().is_empty(), "a refusal says why");
        }
        Ok(Request::Page(Page { room: Some(room) })) => check_room(&room),
        Ok(Request::Join(join)) => check_room(&join.room),
        Ok(Request::Sse(Sse {
            room, credentials, ..
        }))
        | Ok(Request::Leave(Leave { room, credentials }))
        | Ok(Request::Ice(Ice { room, credentials })) => {
            check_room(&room);
            check_credentials(&credentials);
        }
        Ok(Request::Post(Post {
            room,
            credentials,
            message,
        })) => {
            check_room(&room);
            check_credentials(&credentials);
            check_name(message.kind.as_str(), 32);
            assert!(message.kind.as_str() != "join" && message.kind.as_str() != "leave");
            if let Some(to) = &message.to {
                check_name(to.as_str(), 32);
            }
            // The data is stored as one record line and streamed as one `data:` line.
            if let Some(data) = &message.data {
                let data = data.as_str();
                assert!(
                    !data.contains('\n') && !data.contains('\r'),
                    "data spans lines: {data:?}"
                );
            }
        }
        // The other modes carry nothing taken from the request that reaches a file name.
        Ok(_) => {}
    }
});
