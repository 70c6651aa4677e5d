//! The modes: one file per mode, each holding its request type, its parse and its run (like
//! a command of a small server). `Request::parse` picks the mode from the query and hands
//! the input to that mode's parser; `Request::run` runs it against the store and gives back
//! a `Reply`, either a whole `Response` or a stream for the caller to write. The process
//! edge (`main.rs`) needs to know neither the modes nor their fields.
//!
//! Parsing is pure (it reads no environment, stdin or files), and after it nothing looks at
//! raw strings again: every value a mode carries is of a checked type (`values.rs`).

pub mod asset;
pub mod check;
pub mod ice;
pub mod join;
pub mod leave;
pub mod page;
pub mod post;
mod private_files;
pub mod probe;
mod query;
pub mod sse;

use std::collections::HashMap;
use std::io::Write;

use crate::address::Network;
use crate::config::Settings;
use crate::error::{Error, Result};
use crate::gateway::Gateway;
use crate::response::Response;
use crate::store::StreamSlot;
use crate::stream::Clock;
use query::{printable, Input};

#[derive(Debug, PartialEq, Eq)]
pub enum Request {
    Page(page::Page),
    Asset(asset::Asset),
    Check(check::Check),
    Join(join::Join),
    Post(post::Post),
    Sse(sse::Sse),
    Leave(leave::Leave),
    Ice(ice::Ice),
    Probe(probe::Probe),
}

/// What every mode may use besides its own request.
pub struct Context<'a> {
    pub settings: &'a Settings,
    /// Unix seconds at the start of the request.
    pub now: u64,
    /// SCRIPT_NAME, for the page's own URLs.
    pub script_name: &'a str,
    /// What runs this program: decides whether event streams may be held.
    pub gateway: Gateway,
    /// Whether the request came over https (see `over_https`).
    pub https: bool,
}

/// Whether the request came over https: the web server says so, or a trusted proxy does
/// (`X-Forwarded-Proto`, believed only from an address in `trusted_proxies`, as any client
/// could send it). This decides `Strict-Transport-Security`.
pub fn over_https(env: &HashMap<String, String>, trusted_proxies: &[Network]) -> bool {
    let variable = |name: &str| env.get(name).map_or("", String::as_str);
    let forwarded = variable("HTTP_X_FORWARDED_PROTO").eq_ignore_ascii_case("https")
        && Network::any_contains(trusted_proxies, variable("REMOTE_ADDR"));
    variable("HTTPS").eq_ignore_ascii_case("on")
        || variable("REQUEST_SCHEME") == "https"
        || forwarded
}

/// A mode's answer.
pub enum Reply {
    Whole(Response),
    /// An answer written over time; nothing of it is written yet.
    Stream(Stream),
}

pub enum Stream {
    Events(Box<sse::EventStream>),
    Probe { https: bool, slot: StreamSlot },
}

impl Stream {
    /// Writes the whole stream. A client that goes away ends it quietly.
    pub fn run(self, out: &mut impl Write, clock: &impl Clock) {
        match self {
            Stream::Events(stream) => stream.run(out, clock),
            Stream::Probe { https, slot } => {
                probe::write(out, clock, https);
                drop(slot);
            }
        }
    }
}

/// How an error is shown: the page and the self-check are for people (a small HTML page),
/// the other modes for the client (JSON). Decided from the raw query, as it must work for a
/// query that does not parse.
pub fn errors_in_html(query_string: &str) -> bool {
    !query_string
        .split('&')
        .any(|pair| pair.starts_with("mode=") && pair != "mode=check")
}

/// The answer when the settings do not load: the self-check page still shows, with the
/// problem in its Settings row, so that a site owner sees the version and what to fix (a key
/// from a newer version's guide, a typo). `None`: every other request gets the error itself.
pub fn check_without_settings(env: &HashMap<String, String>, error: &Error) -> Option<Response> {
    match Request::parse(env, b"") {
        Ok(Request::Check(check)) => {
            let script_name = env.get("SCRIPT_NAME").map_or("", String::as_str);
            Some(check.page_without_settings(error, script_name))
        }
        _ => None,
    }
}

impl Request {
    /// Builds the typed request from the CGI variables and the body (already read; only
    /// post mode looks at it).
    pub fn parse(env: &HashMap<String, String>, body: &[u8]) -> Result<Request> {
        let input = Input::new(env, body)?;
        let Some(mode) = input.query.get("mode") else {
            if input.query.get("asset").is_some() {
                return asset::Asset::parse(&input).map(Request::Asset);
            }
            return page::Page::parse(&input).map(Request::Page);
        };
        if mode != "check" {
            input.refuse_cross_site()?;
        }
        match mode {
            "join" => join::Join::parse(&input).map(Request::Join),
            "post" => post::Post::parse(&input).map(Request::Post),
            "sse" => sse::Sse::parse(&input).map(Request::Sse),
            "leave" => leave::Leave::parse(&input).map(Request::Leave),
            "ice" => ice::Ice::parse(&input).map(Request::Ice),
            "check" => check::Check::parse(&input).map(Request::Check),
            "probe" => probe::Probe::parse(&input).map(Request::Probe),
            other => Err(Error::BadRequest(format!(
                "unknown mode \"{}\" (modes: join, post, sse, leave, ice, check, probe)",
                printable(other)
            ))),
        }
    }

    pub fn run(self, context: &Context) -> Result<Reply> {
        match self {
            Request::Page(request) => request.run(context),
            Request::Asset(request) => request.run(context),
            Request::Check(request) => request.run(context),
            Request::Join(request) => request.run(context),
            Request::Post(request) => request.run(context),
            Request::Sse(request) => request.run(context),
            Request::Leave(request) => request.run(context),
            Request::Ice(request) => request.run(context),
            Request::Probe(request) => request.run(context),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::values::PeerId;

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
        assert!(matches!(
            parse("GET", "", ""),
            Ok(Request::Page(page::Page { room: None }))
        ));
        assert!(
            matches!(parse("HEAD", "room=ab_C-9&utm_source=x", ""), Ok(Request::Page(page::Page { room: Some(room) })) if room.as_str() == "ab_C-9")
        );
        assert!(matches!(
            parse("POST", "mode=join&room=r1", ""),
            Ok(Request::Join(_))
        ));
        match parse("GET", &format!("mode=sse&{CREDENTIALS}&last=7&hold=0"), "") {
            Ok(Request::Sse(sse::Sse {
                credentials,
                last_event_id,
                hold_seconds,
                ..
            })) => {
                assert_eq!(credentials.peer.as_str(), "p1");
                assert_eq!(credentials.token.as_str(), "t1");
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
        let Request::Post(post::Post { message, .. }) = request else {
            panic!("not a post")
        };
        assert_eq!(message.to, Some(PeerId::parse("p2").unwrap()));
        assert_eq!(
            message.data.as_ref().map(|data| data.as_str()),
            Some("{\"a\":\"b\\nc\"}")
        );
    }

    #[test]
    fn https_is_what_the_server_or_a_trusted_proxy_says() {
        let env = |pairs: &[(&str, &str)]| -> HashMap<String, String> {
            pairs
                .iter()
                .map(|(key, value)| (key.to_string(), value.to_string()))
                .collect()
        };
        let proxy = [Network::parse("192.0.2.0/24").unwrap()];
        assert!(over_https(&env(&[("HTTPS", "on")]), &[]));
        assert!(over_https(&env(&[("REQUEST_SCHEME", "https")]), &[]));
        let forwarded = env(&[
            ("HTTP_X_FORWARDED_PROTO", "https"),
            ("REMOTE_ADDR", "192.0.2.9"),
        ]);
        assert!(over_https(&forwarded, &proxy));
        assert!(
            !over_https(&forwarded, &[]),
            "any client can send the header"
        );
        let stranger = env(&[
            ("HTTP_X_FORWARDED_PROTO", "https"),
            ("REMOTE_ADDR", "198.51.100.1"),
        ]);
        assert!(!over_https(&stranger, &proxy));
    }
}
