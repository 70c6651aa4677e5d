//! A response as plain data (status, headers, body) and the one function that writes it as
//! CGI output. Building a response has no side effects (no logging: the caller logs). Every answer of the executable, errors included, goes through `write_head`,
//! so the security headers are never missing and no header value can carry a line break.

use std::io::{self, Write};

use serde_json::json;

use crate::error::Error;

pub struct Response {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    pub body: Vec<u8>,
}

/// Headers for answers that must never be stored by a browser or a proxy.
const NO_STORE: (&str, &str) = ("Cache-Control", "no-store");

impl Response {
    pub fn new(status: u16, content_type: &str, body: Vec<u8>) -> Response {
        Response {
            status,
            headers: vec![("Content-Type", content_type.to_string())],
            body,
        }
    }

    /// An API answer.
    pub fn json(status: u16, value: &serde_json::Value) -> Response {
        let mut body = value.to_string().into_bytes();
        body.push(b'\n');
        Response::new(status, "application/json", body).with(NO_STORE.0, NO_STORE.1)
    }

    pub fn with(mut self, name: &'static str, value: impl Into<String>) -> Response {
        self.headers.push((name, value.into()));
        self
    }

    /// An API error: JSON `{"error": "..."}`.
    pub fn error_json(error: &Error) -> Response {
        let response = Response::json(error.status(), &json!({ "error": error.public_message() }));
        error_headers(response, error)
    }

    /// An error shown to a person: a small readable HTML page.
    pub fn error_html(error: &Error) -> Response {
        let message = html_escape(&error.public_message());
        let status = error.status();
        let title = reason(status);
        let body = format!(
            "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\"><title>{status} {title}</title></head>\n<body><h1>{status} {title}</h1>\n<p>{message}</p>\n<p>webrtc-cgi</p></body></html>\n"
        );
        let response = Response::new(status, "text/html; charset=utf-8", body.into_bytes())
            .with(NO_STORE.0, NO_STORE.1)
            .with("Content-Security-Policy", "default-src 'none'");
        error_headers(response, error)
    }

    /// Writes the whole answer. The length is stated so that a client knows the answer is
    /// complete when its last byte arrives, not only when the output ends (Apache passes the
    /// length on whenever it does not compress the answer).
    pub fn write_to(&self, out: &mut impl Write) -> io::Result<()> {
        let mut headers = self.headers.clone();
        headers.push(("Content-Length", self.body.len().to_string()));
        write_head(out, self.status, &headers)?;
        out.write_all(&self.body)?;
        out.flush()
    }
}

fn error_headers(mut response: Response, error: &Error) -> Response {
    if let Error::MethodNotAllowed { allow, .. } = error {
        response = response.with("Allow", *allow);
    }
    if let Some(seconds) = error.retry_after_seconds() {
        response = response.with("Retry-After", seconds.to_string());
    }
    response
}

/// Writes the CGI header block, with the headers every answer carries.
pub fn write_head(
    out: &mut impl Write,
    status: u16,
    headers: &[(&'static str, String)],
) -> io::Result<()> {
    let mut head = format!("Status: {status} {}\r\n", reason(status));
    for (name, value) in headers {
        // Values are built by this program, never copied from a request, but a line break
        // in one would split the header block, so none gets through whatever happens.
        let value: String = value.chars().filter(|c| *c != '\r' && *c != '\n').collect();
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("X-Content-Type-Options: nosniff\r\nReferrer-Policy: no-referrer\r\n\r\n");
    out.write_all(head.as_bytes())
}

pub fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        202 => "Accepted",
        303 => "See Other",
        304 => "Not Modified",
        400 => "Bad Request",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        409 => "Conflict",
        410 => "Gone",
        411 => "Length Required",
        413 => "Content Too Large",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        507 => "Insufficient Storage",
        _ => "Unknown",
    }
}

pub fn html_escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            _ => escaped.push(c),
        }
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::*;

    fn written(response: &Response) -> String {
        let mut out = Vec::new();
        response.write_to(&mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn every_answer_has_status_and_security_headers() {
        let text = written(&Response::json(202, &json!({"stored": 1})));
        assert!(text.starts_with("Status: 202 Accepted\r\nContent-Type: application/json\r\n"));
        assert!(text.contains("X-Content-Type-Options: nosniff\r\n"));
        assert!(text.contains("Referrer-Policy: no-referrer\r\n"));
        assert!(text.contains("Cache-Control: no-store\r\n"));
        assert!(text.ends_with("\r\n\r\n{\"stored\":1}\n"));
    }

    #[test]
    fn header_values_cannot_split_the_head() {
        let text = written(
            &Response::new(200, "text/plain", Vec::new()).with("X-Test", "a\r\nSet-Cookie: b"),
        );
        assert!(text.contains("X-Test: aSet-Cookie: b\r\n"));
    }

    #[test]
    fn error_pages_escape_their_message() {
        let error = Error::BadRequest("<script>alert(1)</script>".to_string());
        let text = written(&Response::error_html(&error));
        assert!(text.starts_with("Status: 400 Bad Request\r\n"));
        assert!(text.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(!text.contains("<script>"));
    }

    #[test]
    fn method_errors_say_what_is_allowed() {
        let error = Error::MethodNotAllowed {
            allow: "POST",
            message: "join takes POST".into(),
        };
        assert!(written(&Response::error_json(&error)).contains("Allow: POST\r\n"));
    }
}
