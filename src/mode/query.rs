//! The CGI input as the modes read it: the variables, the method, the decoded query and the
//! body, with the checks every mode shares (one value per parameter, no parameter a mode does
//! not take, the method, numbers). Nothing outside `mode/` looks at raw query strings.
//!
//! Pure: it reads no environment, no stdin and no files.

use std::collections::HashMap;

use percent_encoding::percent_decode_str;

use crate::address::ClientOrigin;
use crate::error::{Error, Result};
use crate::values::{Credentials, PeerId, RoomName, Token};

/// Longer query strings are refused before they are split: no valid request comes near it.
const MAX_QUERY_BYTES: usize = 4096;
const MAX_PARAMETERS: usize = 32;

/// One request's input, for the mode parsers.
pub(super) struct Input<'a> {
    env: &'a HashMap<String, String>,
    pub(super) method: &'a str,
    pub(super) query: Query,
    pub(super) body: &'a [u8],
}

impl<'a> Input<'a> {
    pub(super) fn new(env: &'a HashMap<String, String>, body: &'a [u8]) -> Result<Input<'a>> {
        let method = env.get("REQUEST_METHOD").map_or("", String::as_str);
        let query = Query::parse(env.get("QUERY_STRING").map_or("", String::as_str))?;
        Ok(Input {
            env,
            method,
            query,
            body,
        })
    }

    /// A CGI variable, empty when absent.
    pub(super) fn variable(&self, name: &str) -> &'a str {
        self.env.get(name).map_or("", String::as_str)
    }

    /// The peer and its token. The token may come in the `X-Peer-Token` header, which keeps
    /// it out of URLs (and so out of access logs), or in the query, where an EventSource,
    /// which cannot send headers, and older clients put it.
    pub(super) fn credentials(&self) -> Result<Credentials> {
        let peer = PeerId::parse(self.query.require("peer")?)?;
        let token = match (self.optional("HTTP_X_PEER_TOKEN"), self.query.get("token")) {
            (Some(header), Some(query)) if header != query => {
                return Err(Error::BadRequest(
                    "the token is given twice, differently: in X-Peer-Token and in the query"
                        .to_string(),
                ))
            }
            (Some(header), _) => header,
            (None, Some(query)) => query,
            (None, None) => "",
        };
        Ok(Credentials {
            peer,
            token: Token::parse(token)?,
        })
    }

    /// Where the request comes from, for the per-address limits.
    pub(super) fn origin(&self) -> ClientOrigin {
        ClientOrigin {
            remote: self.variable("REMOTE_ADDR").to_string(),
            forwarded_for: self.optional("HTTP_X_FORWARDED_FOR").map(str::to_string),
        }
    }

    /// Refuses a request that a browser made for another site's page: `Sec-Fetch-Site:
    /// cross-site`, or an `Origin` that is not this site's own. A request without either
    /// (an older browser, curl) passes: the headers protect visitors' browsers, and a
    /// script outside a browser could send anything anyway.
    pub(super) fn refuse_cross_site(&self) -> Result<()> {
        let refused = || {
            Err(Error::Forbidden(
                "cross-site requests are refused: only pages of this site may use its API"
                    .to_string(),
            ))
        };
        if self
            .variable("HTTP_SEC_FETCH_SITE")
            .eq_ignore_ascii_case("cross-site")
        {
            return refused();
        }
        match self.optional("HTTP_ORIGIN") {
            Some(origin) if !self.is_own_origin(origin) => refused(),
            _ => Ok(()),
        }
    }

    /// Whether `origin` (`scheme://host[:port]`) names the host this request was sent to.
    fn is_own_origin(&self, origin: &str) -> bool {
        let Some((scheme, authority)) = origin.split_once("://") else {
            // `null` (a sandboxed frame, a file) and anything malformed.
            return false;
        };
        let host = self.variable("HTTP_HOST");
        if host.is_empty() {
            return false;
        }
        let origin = without_default_port(scheme, authority);
        if origin == without_default_port(scheme, host) {
            return true;
        }
        // nginx's fastcgi_params hand on `$host`, which drops the port: the port the request
        // came to completes it (a host name ends in a digit or a letter; `[::1]` in `]`).
        let port = self.variable("SERVER_PORT");
        let has_port = host
            .rsplit_once(':')
            .is_some_and(|(_, tail)| !tail.contains(']'));
        !has_port
            && !port.is_empty()
            && origin == without_default_port(scheme, &format!("{host}:{port}"))
    }
}

/// An authority in lower case without the scheme's default port, so `Host: example.org:443`
/// and `Origin: https://example.org` compare equal.
fn without_default_port(scheme: &str, authority: &str) -> String {
    let authority = authority.to_ascii_lowercase();
    let default = match scheme.to_ascii_lowercase().as_str() {
        "https" => ":443",
        "http" => ":80",
        _ => "",
    };
    match authority.strip_suffix(default) {
        Some(bare) if !default.is_empty() => bare.to_string(),
        _ => authority,
    }
}

impl<'a> Input<'a> {
    /// A CGI variable, `None` when absent.
    pub(super) fn optional(&self, name: &str) -> Option<&'a str> {
        self.env.get(name).map(String::as_str)
    }
}

/// The decoded query: each parameter once, in order.
pub(super) struct Query {
    parameters: Vec<(String, String)>,
}

impl Query {
    pub(super) fn parse(text: &str) -> Result<Query> {
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

    pub(super) fn get(&self, key: &str) -> Option<&str> {
        self.parameters
            .iter()
            .find(|(name, _)| name == key)
            .map(|(_, value)| value.as_str())
    }

    pub(super) fn require(&self, key: &str) -> Result<&str> {
        self.get(key)
            .ok_or_else(|| Error::BadRequest(format!("the parameter \"{key}\" is missing")))
    }

    /// Rejects parameters that the mode does not take.
    pub(super) fn only(&self, allowed: &[&str]) -> Result<()> {
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

    pub(super) fn room(&self) -> Result<RoomName> {
        RoomName::parse(self.require("room")?)
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
pub(super) fn printable(text: &str) -> String {
    let mut shown: String = text.chars().take(40).collect();
    if shown.len() < text.len() {
        shown.push('…');
    }
    shown
}

pub(super) fn parse_number<T: std::str::FromStr>(key: &str, text: &str) -> Result<T> {
    if text.is_empty() || !text.bytes().all(|byte| byte.is_ascii_digit()) || text.len() > 19 {
        return Err(Error::BadRequest(format!(
            "the parameter \"{key}\" must be a whole number"
        )));
    }
    text.parse()
        .map_err(|_| Error::BadRequest(format!("the parameter \"{key}\" is out of range")))
}

pub(super) fn require_method(method: &str, allowed: &'static str, mode: &str) -> Result<()> {
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
