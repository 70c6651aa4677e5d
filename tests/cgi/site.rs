//! The harness: runs the built executable exactly as a web server runs a CGI (the request
//! in environment variables and stdin, the answer read from stdout), each `Site` with its own
//! temporary data directory and settings file.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::{json, Value};

const EXECUTABLE: &str = env!("CARGO_BIN_EXE_webrtc-cgi");

/// Inputs that have broken other servers: traversal, NUL, CR/LF, emoji, invalid UTF-8.
pub const HOSTILE_VALUES: &[&str] = &[
    "..",
    "../etc/passwd",
    "%2e%2e",
    "%2e%2e%2f%2e%2e%2fetc",
    "/etc/passwd",
    "a%00b",
    "%00",
    "a%0d%0aSet-Cookie:%20x=1",
    "%0a",
    "%F0%9F%98%80",
    "%ff%fe",
    "%",
    "%zz",
    "a'b",
    "a\"b",
    "<script>",
    "",
];

pub struct Site {
    pub dir: tempfile::TempDir,
}

#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: HashMap<String, String>,
    pub body: String,
}

impl Answer {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|error| panic!("not JSON ({error}): {:?}", self.body))
    }

    pub fn error(&self) -> String {
        self.json()["error"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(&name.to_ascii_lowercase())
            .map(String::as_str)
    }
}

#[derive(Debug, Clone)]
pub struct Peer {
    pub room: String,
    pub id: String,
    pub token: String,
}

#[derive(Debug, PartialEq)]
pub struct Event {
    pub id: Option<u64>,
    pub name: Option<String>,
    pub data: Value,
}

impl Site {
    pub fn new() -> Site {
        Site::with_settings(json!({}))
    }

    /// A site with a short hold, so held responses end quickly in tests.
    pub fn with_settings(extra: Value) -> Site {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut settings =
            json!({ "data_dir": "data", "hold_seconds": 1, "peer_timeout_seconds": 30 });
        for (key, value) in extra.as_object().expect("object") {
            settings[key] = value.clone();
        }
        std::fs::write(dir.path().join("webrtc.json"), settings.to_string()).unwrap();
        Site { dir }
    }

    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    pub fn command(&self, method: &str, query: &str, headers: &[(&str, &str)]) -> Command {
        self.command_via(&[], EXECUTABLE, method, query, headers)
    }

    /// A CGI command like `command`, but started as `wrapper... executable`, so that the
    /// wrapper can change the process (a file size limit, another user) before it execs.
    pub fn command_via(
        &self,
        wrapper: &[&str],
        executable: &str,
        method: &str,
        query: &str,
        headers: &[(&str, &str)],
    ) -> Command {
        let mut command = match wrapper.split_first() {
            Some((program, args)) => {
                let mut command = Command::new(program);
                command.args(args).arg(executable);
                command
            }
            None => Command::new(executable),
        };
        command
            .env_clear()
            .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
            .env("WEBRTC_CGI_CONFIG", self.dir.path().join("webrtc.json"))
            .env("GATEWAY_INTERFACE", "CGI/1.1")
            .env("SERVER_PROTOCOL", "HTTP/1.1")
            .env("REQUEST_METHOD", method)
            .env("QUERY_STRING", query)
            .env("SCRIPT_NAME", "/cgi-bin/webrtc.cgi")
            .env("REMOTE_ADDR", "127.0.0.1")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (name, value) in headers {
            command.env(name, value);
        }
        command
    }

    pub fn run(&self, command: &mut Command, body: &[u8]) -> Answer {
        parse_answer(&run_raw(command, body))
    }

    pub fn request(&self, method: &str, query: &str, body: &[u8]) -> Answer {
        let length = body.len().to_string();
        let headers: Vec<(&str, &str)> = if method == "POST" {
            vec![("CONTENT_LENGTH", length.as_str())]
        } else {
            vec![]
        };
        self.run(&mut self.command(method, query, &headers), body)
    }

    pub fn join(&self, room: &str) -> Peer {
        let answer = self.request("POST", &format!("mode=join&room={room}"), b"");
        assert_eq!(answer.status, 200, "{answer:?}");
        let json = answer.json();
        Peer {
            room: room.to_string(),
            id: json["peer"].as_str().unwrap().to_string(),
            token: json["token"].as_str().unwrap().to_string(),
        }
    }

    pub fn post(&self, from: &Peer, message: Value) -> Answer {
        self.request(
            "POST",
            &format!(
                "mode=post&room={}&peer={}&token={}",
                from.room, from.id, from.token
            ),
            message.to_string().as_bytes(),
        )
    }

    /// An SSE request that answers at once (hold 0); returns the message events.
    pub fn poll(&self, peer: &Peer, last_event_id: Option<u64>) -> Vec<Event> {
        let answer = self.sse(peer, last_event_id, 0);
        assert_eq!(answer.status, 200, "{answer:?}");
        parse_events(&answer.body)
            .into_iter()
            .filter(|event| event.name.is_none())
            .collect()
    }

    pub fn sse(&self, peer: &Peer, last_event_id: Option<u64>, hold: u32) -> Answer {
        let id_text = last_event_id.map(|id| id.to_string()).unwrap_or_default();
        let mut headers = vec![];
        if last_event_id.is_some() {
            headers.push(("HTTP_LAST_EVENT_ID", id_text.as_str()));
        }
        let query = format!(
            "mode=sse&room={}&peer={}&token={}&hold={hold}",
            peer.room, peer.id, peer.token
        );
        self.run(&mut self.command("GET", &query, &headers), b"")
    }

    pub fn poll_status(&self, peer: &Peer) -> u16 {
        self.sse(peer, None, 0).status
    }

    pub fn leave(&self, peer: &Peer) -> Answer {
        self.request(
            "POST",
            &format!(
                "mode=leave&room={}&peer={}&token={}",
                peer.room, peer.id, peer.token
            ),
            b"",
        )
    }

    pub fn files_under(&self, dir: &Path) -> Vec<PathBuf> {
        let mut found = Vec::new();
        if let Ok(entries) = std::fs::read_dir(dir) {
            for entry in entries.flatten() {
                if entry.path().is_dir() {
                    found.extend(self.files_under(&entry.path()));
                } else {
                    found.push(entry.path());
                }
            }
        }
        found
    }
}

/// Runs a command to its end and returns what it wrote to stdout, whole.
pub fn run_raw(command: &mut Command, body: &[u8]) -> Vec<u8> {
    let mut child = command.spawn().expect("the executable runs");
    let mut stdin = child.stdin.take().unwrap();
    // A broken pipe is fine: the executable may answer without reading the body.
    let _ = stdin.write_all(body);
    drop(stdin);
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "the executable failed: {:?}, stderr {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    output.stdout
}

pub fn parse_answer(output: &[u8]) -> Answer {
    let text = String::from_utf8_lossy(output).into_owned();
    let (head, body) = text
        .split_once("\r\n\r\n")
        .unwrap_or_else(|| panic!("no header block in {text:?}"));
    let mut headers = HashMap::new();
    for line in head.split("\r\n") {
        let (name, value) = line
            .split_once(": ")
            .unwrap_or_else(|| panic!("bad header line {line:?}"));
        headers.insert(name.to_ascii_lowercase(), value.to_string());
    }
    let status = headers["status"][..3].parse().unwrap();
    Answer {
        status,
        headers,
        body: body.to_string(),
    }
}

pub fn parse_events(body: &str) -> Vec<Event> {
    let mut events = Vec::new();
    for block in body.split("\n\n") {
        let mut event = Event {
            id: None,
            name: None,
            data: Value::Null,
        };
        let mut has_data = false;
        for line in block.lines() {
            if let Some(id) = line.strip_prefix("id: ") {
                event.id = Some(id.parse().unwrap());
            } else if let Some(name) = line.strip_prefix("event: ") {
                event.name = Some(name.to_string());
            } else if let Some(data) = line.strip_prefix("data: ") {
                event.data = serde_json::from_str(data).unwrap();
                has_data = true;
            }
        }
        if has_data {
            events.push(event);
        }
    }
    events
}

pub fn from_and_type(events: &[Event]) -> Vec<(String, String)> {
    events
        .iter()
        .map(|event| {
            (
                event.data["from"].as_str().unwrap_or("").to_string(),
                event.data["type"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}
