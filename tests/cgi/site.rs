//! The one harness of the CGI tests: runs the built executable exactly as a web server runs
//! a CGI (the request in environment variables and stdin, the answer read from stdout), each
//! `Site` with its own temporary data directory and settings file, and parses what comes
//! back (answers, event streams). Every test module uses it; none starts the executable or
//! parses its output by itself.
//!
//! An `Answer` keeps the request that produced it, the executable's stderr and a listing of
//! the data directory as it was right after; its `Debug` prints all of them, so a failed
//! `assert_eq!(answer.status, 200, "{answer:?}")` shows everything needed to see why.

use std::collections::HashMap;
use std::fmt;
use std::io::Write;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Output, Stdio};

use serde_json::{json, Value};

pub const EXECUTABLE: &str = env!("CARGO_BIN_EXE_webrtc-cgi");

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

pub struct Answer {
    pub status: u16,
    pub headers: HashMap<String, String>,
    pub body: String,
    /// How the request looked, what the executable logged, and the data directory after:
    /// for failure messages only.
    context: Context,
}

#[derive(Default)]
struct Context {
    request: String,
    stderr: String,
    listing: String,
}

/// Long bodies (an event stream's padding, the page) are cut in failure messages.
const SHOWN_BODY_CHARS: usize = 3000;

impl fmt::Debug for Answer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut headers: Vec<_> = self.headers.iter().collect();
        headers.sort();
        let body: String = self.body.chars().take(SHOWN_BODY_CHARS).collect();
        let cut = if body.len() < self.body.len() {
            " …(cut)"
        } else {
            ""
        };
        write!(
            f,
            "\n--- request\n{}\n--- answer {}\n{headers:?}\n{body}{cut}\n--- stderr\n{}\n--- data directory\n{}---",
            self.context.request,
            self.status,
            self.context.stderr,
            self.context.listing,
        )
    }
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

    /// Runs a CGI command to its end and parses its answer, keeping the request, stderr
    /// and the data directory's listing for failure messages.
    pub fn run(&self, command: &mut Command, body: &[u8]) -> Answer {
        let output = run_output(command, body);
        self.answer(command, &output)
    }

    /// The answer in an output of `command`, with its context for failure messages.
    pub fn answer(&self, command: &Command, output: &Output) -> Answer {
        let mut answer = parse_answer(&output.stdout);
        answer.context = Context {
            request: describe(command),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
            listing: listing(&self.data_dir()),
        };
        answer
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

    /// Starts a post by `from` whose body (of `length` bytes) the caller writes, so that it
    /// can stall, stop or kill the process on the way.
    pub fn spawn_post(&self, from: &Peer, length: usize) -> (Child, ChildStdin) {
        let mut child = self
            .command(
                "POST",
                &query_of(from, "post"),
                &[("CONTENT_LENGTH", &length.to_string())],
            )
            .spawn()
            .unwrap();
        let stdin = child.stdin.take().unwrap();
        (child, stdin)
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
    run_output(command, body).stdout
}

/// Runs a command to its end; a failed exit is a test failure that shows the request and
/// both outputs.
pub fn run_output(command: &mut Command, body: &[u8]) -> Output {
    let mut child = command
        .spawn()
        .unwrap_or_else(|error| panic!("{} does not start: {error}", describe(command)));
    let mut stdin = child.stdin.take().unwrap();
    // A broken pipe is fine: the executable may answer without reading the body.
    let _ = stdin.write_all(body);
    drop(stdin);
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "the executable failed: {:?}\n--- request\n{}\n--- stdout\n{}\n--- stderr\n{}",
        output.status,
        describe(command),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// A request as a failure message shows it: the program (and wrapper), the method, the
/// query and the request's own variables.
pub fn describe(command: &Command) -> String {
    let mut text = format!("{:?}", command.get_program());
    for arg in command.get_args() {
        text.push_str(&format!(" {arg:?}"));
    }
    for (name, value) in command.get_envs() {
        let name = name.to_string_lossy();
        let shown = matches!(
            name.as_ref(),
            "REQUEST_METHOD" | "QUERY_STRING" | "CONTENT_LENGTH"
        ) || name.starts_with("HTTP_")
            || name == "REMOTE_ADDR";
        if let (true, Some(value)) = (shown, value) {
            text.push_str(&format!("\n  {name}={}", value.to_string_lossy()));
        }
    }
    text
}

/// Every file and folder under `dir`, with its mode and size, one a line.
pub fn listing(dir: &Path) -> String {
    fn walk(dir: &Path, base: &Path, text: &mut String) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        let mut entries: Vec<_> = entries.flatten().collect();
        entries.sort_by_key(|entry| entry.file_name());
        for entry in entries {
            let path = entry.path();
            let Ok(metadata) = std::fs::symlink_metadata(&path) else {
                continue;
            };
            let shown = path.strip_prefix(base).unwrap_or(&path).display();
            text.push_str(&format!(
                "{:o} {:>8} {shown}\n",
                metadata.mode() & 0o7777,
                metadata.len()
            ));
            if metadata.is_dir() {
                walk(&path, base, text);
            }
        }
    }
    let mut text = String::new();
    walk(dir, dir, &mut text);
    if text.is_empty() {
        text.push_str("(empty or missing)\n");
    }
    text
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
        context: Context::default(),
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

/// A CGI command started through `wrapper`, with a Content-Length for a POST.
pub fn wrapped_command(
    site: &Site,
    wrapper: &[&str],
    executable: &str,
    method: &str,
    query: &str,
    length: usize,
) -> Command {
    let length = length.to_string();
    let headers: &[(&str, &str)] = if method == "POST" {
        &[("CONTENT_LENGTH", length.as_str())]
    } else {
        &[]
    };
    site.command_via(wrapper, executable, method, query, headers)
}

/// The header block of a raw answer, up to the first blank line.
pub fn header_block(output: &[u8]) -> String {
    let text = String::from_utf8_lossy(output);
    let (head, _) = text
        .split_once("\r\n\r\n")
        .unwrap_or_else(|| panic!("no header block in {text:?}"));
    head.to_string()
}

pub fn query_of(peer: &Peer, mode: &str) -> String {
    format!(
        "mode={mode}&room={}&peer={}&token={}",
        peer.room, peer.id, peer.token
    )
}

pub fn message_query(peer: &Peer) -> String {
    query_of(peer, "post")
}

/// The message events of an event stream, as (id, data). A `data:` line that is not whole
/// JSON is a torn or corrupted message, and is returned as an error naming it.
pub fn message_events(body: &str) -> Result<Vec<(u64, Value)>, String> {
    let mut events = Vec::new();
    for block in body.split("\n\n") {
        let mut id = None;
        let mut data = None;
        let mut named = false;
        for line in block.lines() {
            if let Some(text) = line.strip_prefix("id: ") {
                id = Some(
                    text.parse::<u64>()
                        .map_err(|_| format!("bad id line {line:?}"))?,
                );
            } else if line.starts_with("event: ") {
                named = true;
            } else if let Some(text) = line.strip_prefix("data: ") {
                if data.is_some() {
                    return Err(format!("an event with two data lines: {block:?}"));
                }
                data = Some(
                    serde_json::from_str::<Value>(text)
                        .map_err(|error| format!("torn event data {text:?}: {error}"))?,
                );
            }
        }
        if named {
            continue;
        }
        match (id, data) {
            (Some(id), Some(data)) => events.push((id, data)),
            (None, None) => {}
            _ => return Err(format!("an event without id or data: {block:?}")),
        }
    }
    Ok(events)
}

/// Polls a peer's stream (hold 0), acknowledging `last`, and returns its message events.
pub fn poll_events(site: &Site, peer: &Peer, last: Option<u64>) -> Vec<(u64, Value)> {
    let answer = site.sse(peer, last, 0);
    assert_eq!(answer.status, 200, "{answer:?}");
    message_events(&answer.body).unwrap_or_else(|error| panic!("{error}"))
}

/// Whether an answer reached the client whole: a header block and a complete JSON body.
pub fn whole_answer(output: &[u8]) -> Option<(u16, Value)> {
    let text = std::str::from_utf8(output).ok()?;
    let (head, body) = text.split_once("\r\n\r\n")?;
    let status = head.strip_prefix("Status: ")?.get(..3)?.parse().ok()?;
    let body = serde_json::from_str(body).ok()?;
    Some((status, body))
}

/// Whether the tests run as root, found without a system call: /proc/self belongs to the
/// effective user of the process that looks at it.
pub fn running_as_root() -> bool {
    std::fs::metadata("/proc/self").is_ok_and(|metadata| metadata.uid() == 0)
}

/// Sends a signal with kill(1); the standard library can only send SIGKILL.
pub fn signal(child: &Child, name: &str) {
    let status = Command::new("kill")
        .arg(format!("-{name}"))
        .arg(child.id().to_string())
        .status()
        .expect("kill(1) runs");
    assert!(status.success(), "kill -{name} failed");
}

/// Whether the process is stopped, from the state field of /proc/PID/stat.
pub fn is_stopped(child: &Child) -> bool {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{}/stat", child.id())) else {
        return false;
    };
    stat.rsplit_once(") ")
        .is_some_and(|(_, rest)| rest.starts_with('T') || rest.starts_with('t'))
}

/// Whether another process holds the lock at `path` right now.
pub fn lock_is_held(path: &Path) -> bool {
    use fs2::FileExt;
    let Ok(file) = std::fs::File::open(path) else {
        return false;
    };
    match file.try_lock_exclusive() {
        Ok(()) => {
            let _ = FileExt::unlock(&file);
            false
        }
        Err(_) => true,
    }
}
