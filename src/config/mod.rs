//! Settings: the optional `webrtc.json` beside the executable (or the file named by
//! `WEBRTC_CGI_CONFIG`), validated into a `Settings` value with every default filled in.
//!
//! suEXEC strips most environment variables, so the file is the normal way to configure a
//! host; the variable exists for tests and for servers that pass it. This module reads one
//! file and nothing else; where the default data directory goes is the store's choice
//! (`store::location`), which `place_data_dir` asks for.

mod file;

use std::collections::HashMap;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::Value;

use file::TurnFile;

use crate::address::Network;
use crate::error::{Error, Result};
use crate::store::location::{self, Placement};

pub const SETTINGS_FILE_NAME: &str = "webrtc.json";
pub const DEFAULT_DATA_DIR_NAME: &str = "webrtc-data";

#[derive(Debug, Clone)]
pub struct Settings {
    pub data_dir: PathBuf,
    /// Whether `data_dir` came from the file or was chosen (see `place_data_dir`).
    pub data_place: Placement,
    pub hold_seconds: u32,
    pub retry_ms: u32,
    pub peer_timeout_seconds: u32,
    /// How often a quiet browser (connected to everyone over data channels, not the room's
    /// doorkeeper) reads its inbox instead of holding an event stream.
    pub quiet_poll_seconds: u32,
    pub max_peers: usize,
    pub max_body_bytes: u64,
    pub max_backlog_bytes: u64,
    /// How many joins one address may make per minute, and posts one peer may make per
    /// second (averaged over ten seconds).
    pub max_joins_per_minute: u32,
    pub max_posts_per_second: u32,
    /// Joins per minute from all addresses together.
    pub max_site_joins_per_minute: u32,
    /// How many requests may be held open at once (each is one of the account's entry
    /// processes on hosts that count them), and how many of those one address may hold.
    pub max_held_streams: u32,
    pub max_held_streams_per_address: u32,
    /// How many rooms may exist at once, and how many bytes the data directory may hold.
    pub max_rooms: u32,
    pub max_data_bytes: u64,
    /// Proxies whose X-Forwarded-For is believed (see `address.rs`).
    pub trusted_proxies: Vec<Network>,
    /// Passed to the browser as `iceServers`, after validation.
    pub ice_servers: Value,
    pub turn: Option<TurnSettings>,
    /// `"relay"` makes browsers use TURN only, hiding their addresses from each other.
    pub ice_transport_policy: IceTransportPolicy,
    /// Whether a finished request hands the end of its output to a child process (see
    /// `gateway::Gateway::ending`): `auto` decides from what runs the program.
    pub hand_over: HandOver,
    /// Where the settings came from, for the self-check page; `None` means built-in defaults.
    pub source: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum IceTransportPolicy {
    All,
    Relay,
}

impl IceTransportPolicy {
    pub fn as_str(self) -> &'static str {
        match self {
            IceTransportPolicy::All => "all",
            IceTransportPolicy::Relay => "relay",
        }
    }
}

/// The `hand_over` setting: `auto` keeps the end-of-request hand-over where the gateway
/// detection says it helps; `on` and `off` overrule a detection that is wrong for a host.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum HandOver {
    Auto,
    On,
    Off,
}

/// coturn's `use-auth-secret` (TURN REST API) time-limited credentials.
#[derive(Debug, Clone)]
pub struct TurnSettings {
    pub urls: Vec<String>,
    pub secret: String,
    pub ttl_seconds: u32,
}

/// `bounded!(file.KEY, DEFAULT, LOW, HIGH)`: the value of KEY, or DEFAULT when the file
/// leaves it out, refused outside LOW..=HIGH with a message that names KEY. The name is the
/// field's own, so the message cannot name another key.
macro_rules! bounded {
    ($file:ident . $key:ident, $default:expr, $low:expr, $high:expr) => {
        in_range(stringify!($key), $file.$key, $default, $low, $high)
    };
}

impl Settings {
    /// Finds and reads the settings for this request. `env` holds the CGI variables;
    /// `executable_dir` is the folder of the running executable.
    pub fn load(env: &HashMap<String, String>, executable_dir: &Path) -> Result<Settings> {
        if let Some(path) = env.get("WEBRTC_CGI_CONFIG").filter(|path| !path.is_empty()) {
            let path = PathBuf::from(path);
            let text = fs::read_to_string(&path).map_err(|error| {
                Error::Settings(format!(
                    "cannot read the settings file named by WEBRTC_CGI_CONFIG: {error}"
                ))
            })?;
            let base = path.parent().unwrap_or(executable_dir).to_path_buf();
            return Settings::parse(&text, &base, Some(path));
        }
        let path = executable_dir.join(SETTINGS_FILE_NAME);
        match fs::read_to_string(&path) {
            Ok(text) => Settings::parse(&text, executable_dir, Some(path)),
            Err(error) if error.kind() == io::ErrorKind::NotFound => {
                Settings::parse("{}", executable_dir, None)
            }
            Err(error) => Err(Error::Settings(format!(
                "cannot read {SETTINGS_FILE_NAME}: {error} (it must be readable by the user the web server runs this program as)"
            ))),
        }
    }

    /// Puts a data directory that the file does not name where no URL leads: outside the
    /// web root when this account may write there, else beside the executable under an
    /// unguessable name (`store::location`). A server that reads no .htaccess (nginx,
    /// lighttpd) would otherwise serve the rooms' tokens and messages. `account` is the id
    /// this program runs as.
    pub fn place_data_dir(
        &mut self,
        env: &HashMap<String, String>,
        executable_dir: &Path,
        account: u32,
    ) -> Result<()> {
        if self.data_place != Placement::Beside {
            return Ok(());
        }
        // Apache sets CONTEXT_DOCUMENT_ROOT where a folder has a root of its own (a user's
        // ~/public_html); DOCUMENT_ROOT is then the server's.
        let web_root = ["CONTEXT_DOCUMENT_ROOT", "DOCUMENT_ROOT"]
            .iter()
            .find_map(|name| env.get(*name).filter(|value| !value.is_empty()))
            .map(Path::new);
        let (data_dir, place) = location::choose(executable_dir, web_root, account)
            .map_err(|error| {
                Error::DataDirectory(format!(
                    "cannot create a data folder beside webrtc.cgi ({error}): let this account write to its folder (chmod 755), or set data_dir in {SETTINGS_FILE_NAME}"
                ))
            })?;
        self.data_dir = data_dir;
        self.data_place = place;
        Ok(())
    }

    /// Like `place_data_dir`, for a run from a shell: takes the default data folder that the
    /// web server already made, and makes none (made from a shell, it would belong to the
    /// shell's account). Without one, `data_dir` stays the folder beside the settings.
    pub fn find_placed_data_dir(&mut self, executable_dir: &Path, account: u32) {
        if self.data_place != Placement::Beside {
            return;
        }
        if let Some((data_dir, place)) = location::find_existing(executable_dir, account) {
            self.data_dir = data_dir;
            self.data_place = place;
        }
    }

    /// Validates settings text. Relative `data_dir` values are taken relative to `base`.
    pub fn parse(text: &str, base: &Path, source: Option<PathBuf>) -> Result<Settings> {
        let file = file::parse(text)?;

        let hold_seconds = bounded!(file.hold_seconds, 20, 0, 50)?;
        let retry_ms = bounded!(file.retry_ms, 500, 100, 60_000)?;
        let peer_timeout_seconds = bounded!(file.peer_timeout_seconds, 40, 5, 3600)?;
        if peer_timeout_seconds < hold_seconds + 5 {
            return Err(Error::Settings(format!(
                "{SETTINGS_FILE_NAME}: peer_timeout_seconds must be at least hold_seconds + 5, or held peers would expire"
            )));
        }
        // Each read marks the peer present; two may fail (a host's 508) before it would expire.
        // The default shrinks with a short presence timeout; a value given must fit it.
        let fitting_default = (peer_timeout_seconds / 3).clamp(1, 10);
        let quiet_poll_seconds = bounded!(file.quiet_poll_seconds, fitting_default, 1, 1800)?;
        if quiet_poll_seconds * 3 > peer_timeout_seconds {
            return Err(Error::Settings(format!(
                "{SETTINGS_FILE_NAME}: quiet_poll_seconds must be at most a third of peer_timeout_seconds, or quiet peers would expire"
            )));
        }
        let max_peers = bounded!(file.max_peers, 6, 2, 16)? as usize;
        let max_body_bytes = bounded!(file.max_body_bytes, 64 * 1024, 1024, 1 << 20)?;
        let max_backlog_bytes =
            bounded!(file.max_backlog_bytes, 256 * 1024, max_body_bytes, 64 << 20)?;
        let max_joins_per_minute = bounded!(file.max_joins_per_minute, 60, 1, 100_000)?;
        let max_posts_per_second = bounded!(file.max_posts_per_second, 50, 1, 100_000)?;

        let max_site_joins_per_minute =
            bounded!(file.max_site_joins_per_minute, 300, 1, 1_000_000)?;
        let max_held_streams = bounded!(file.max_held_streams, 12, 0, 1000)?;
        let max_held_streams_per_address = bounded!(file.max_held_streams_per_address, 4, 1, 1000)?;
        let max_rooms = bounded!(file.max_rooms, 100, 1, 100_000)?;
        let max_data_bytes = bounded!(file.max_data_bytes, 32 << 20, 1 << 20, 1 << 40)?;
        let trusted_proxies = file
            .trusted_proxies
            .unwrap_or_default()
            .iter()
            .map(|entry| Network::parse(entry))
            .collect::<Result<Vec<Network>>>()?;

        let ice_servers = match file.ice_servers {
            Some(value) => validate_ice_servers(value)?,
            None => serde_json::json!([{"urls": "stun:stun.l.google.com:19302"}]),
        };
        let turn = file.turn.map(validate_turn).transpose()?;
        let ice_transport_policy = file.ice_transport_policy.unwrap_or(IceTransportPolicy::All);
        if ice_transport_policy == IceTransportPolicy::Relay
            && turn.is_none()
            && !ice_servers.to_string().contains("\"turn")
        {
            return Err(Error::Settings(format!(
                "{SETTINGS_FILE_NAME}: ice_transport_policy \"relay\" needs a TURN server (turn, or a turn: URL in ice_servers); without one no call can connect"
            )));
        }

        let hand_over = file.hand_over.unwrap_or(HandOver::Auto);

        let (data_dir, data_place) = match file.data_dir {
            Some(dir) if dir.is_empty() => {
                return Err(Error::Settings(format!(
                    "{SETTINGS_FILE_NAME}: data_dir is empty"
                )))
            }
            Some(dir) => (base.join(dir), Placement::Configured),
            None => (base.join(DEFAULT_DATA_DIR_NAME), Placement::Beside),
        };

        Ok(Settings {
            data_dir,
            data_place,
            hold_seconds,
            retry_ms,
            peer_timeout_seconds,
            quiet_poll_seconds,
            max_peers,
            max_body_bytes,
            max_backlog_bytes,
            max_joins_per_minute,
            max_posts_per_second,
            max_site_joins_per_minute,
            max_held_streams,
            max_held_streams_per_address,
            max_rooms,
            max_data_bytes,
            trusted_proxies,
            ice_servers,
            turn,
            ice_transport_policy,
            hand_over,
            source,
        })
    }
}

fn in_range<T>(key: &str, value: Option<T>, default: T, low: T, high: T) -> Result<T>
where
    T: PartialOrd + std::fmt::Display + Copy,
{
    let value = value.unwrap_or(default);
    if value < low || value > high {
        return Err(Error::Settings(format!(
            "{SETTINGS_FILE_NAME}: {key} must be from {low} to {high}"
        )));
    }
    Ok(value)
}

fn is_ice_url(url: &str) -> bool {
    ["stun:", "stuns:", "turn:", "turns:"]
        .iter()
        .any(|scheme| url.starts_with(scheme) && url.len() > scheme.len())
}

fn ice_urls(value: &Value, key: &str) -> Result<Vec<String>> {
    let urls: Vec<&Value> = match value {
        Value::String(_) => vec![value],
        Value::Array(items) if !items.is_empty() => items.iter().collect(),
        _ => {
            return Err(Error::Settings(format!(
                "{SETTINGS_FILE_NAME}: {key} must be a URL or a non-empty list of URLs"
            )))
        }
    };
    urls.into_iter()
        .map(|url| match url.as_str() {
            Some(url) if is_ice_url(url) => Ok(url.to_string()),
            _ => Err(Error::Settings(format!(
                "{SETTINGS_FILE_NAME}: {key} holds something that is not a stun:, stuns:, turn: or turns: URL"
            ))),
        })
        .collect()
}

/// Checks `ice_servers` against the shape of WebRTC's `RTCIceServer`, so that a typo shows up
/// here rather than as a browser exception on every call.
fn validate_ice_servers(value: Value) -> Result<Value> {
    let Value::Array(servers) = &value else {
        return Err(Error::Settings(format!(
            "{SETTINGS_FILE_NAME}: ice_servers must be a list of objects like {{\"urls\": \"stun:host:3478\"}}"
        )));
    };
    for (index, server) in servers.iter().enumerate() {
        let Value::Object(fields) = server else {
            return Err(Error::Settings(format!(
                "{SETTINGS_FILE_NAME}: ice_servers[{index}] must be an object"
            )));
        };
        for (key, field) in fields {
            match key.as_str() {
                "urls" => {
                    ice_urls(field, &format!("ice_servers[{index}].urls"))?;
                }
                "username" | "credential" if field.is_string() => {}
                _ => {
                    return Err(Error::Settings(format!(
                        "{SETTINGS_FILE_NAME}: ice_servers[{index}] has an unknown or invalid key \"{key}\" (allowed: urls, username, credential)"
                    )))
                }
            }
        }
        if !fields.contains_key("urls") {
            return Err(Error::Settings(format!(
                "{SETTINGS_FILE_NAME}: ice_servers[{index}] has no \"urls\""
            )));
        }
    }
    Ok(value)
}

fn validate_turn(turn: TurnFile) -> Result<TurnSettings> {
    let urls = ice_urls(&turn.urls, "turn.urls")?;
    if urls.iter().any(|url| !url.starts_with("turn")) {
        return Err(Error::Settings(format!(
            "{SETTINGS_FILE_NAME}: turn.urls must be turn: or turns: URLs"
        )));
    }
    if turn.secret.len() < 16 {
        return Err(Error::Settings(format!(
            "{SETTINGS_FILE_NAME}: turn.secret must be at least 16 characters (coturn's static-auth-secret)"
        )));
    }
    // An hour: the client renews credentials through `?mode=ice` before they expire, so a
    // short life costs nothing, and a leaked username and password stop working soon.
    let ttl_seconds = in_range("turn.ttl_seconds", turn.ttl_seconds, 3600, 60, 604_800)?;
    Ok(TurnSettings {
        urls,
        secret: turn.secret,
        ttl_seconds,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Settings> {
        Settings::parse(text, Path::new("/srv/cgi-bin"), None)
    }

    fn check_error(text: &str, expected_fragment: &str) {
        match parse(text) {
            Err(Error::Settings(message)) => assert!(
                message.contains(expected_fragment),
                "{message:?} lacks {expected_fragment:?}"
            ),
            other => panic!("expected a settings error for {text}, got {other:?}"),
        }
    }

    #[test]
    fn defaults_fill_an_empty_file() {
        let settings = parse("{}").unwrap();
        assert_eq!(settings.data_dir, Path::new("/srv/cgi-bin/webrtc-data"));
        assert_eq!(settings.hold_seconds, 20);
        assert_eq!(settings.quiet_poll_seconds, 10);
        let short = parse(r#"{"hold_seconds": 0, "peer_timeout_seconds": 6}"#).unwrap();
        assert_eq!(
            short.quiet_poll_seconds, 2,
            "the default fits a short presence timeout"
        );
        assert_eq!(settings.max_peers, 6);
        assert_eq!(settings.max_body_bytes, 65536);
        assert!(settings.ice_servers[0]["urls"]
            .as_str()
            .unwrap()
            .starts_with("stun:"));
    }

    #[test]
    fn relative_data_dir_is_beside_the_settings() {
        let settings = parse(r#"{"data_dir": "../private/chat"}"#).unwrap();
        assert_eq!(settings.data_dir, Path::new("/srv/cgi-bin/../private/chat"));
    }

    #[test]
    fn bad_settings_name_the_problem() {
        check_error(r#"{"hold_secs": 5}"#, "unknown field `hold_secs`");
        check_error(
            r#"{"hold_seconds": 90}"#,
            "hold_seconds must be from 0 to 50",
        );
        check_error(r#"{"max_peers": 1}"#, "max_peers must be from 2 to 16");
        check_error(
            r#"{"quiet_poll_seconds": 20}"#,
            "quiet_poll_seconds must be at most a third of peer_timeout_seconds",
        );
        check_error(
            r#"{"hold_seconds": 30, "peer_timeout_seconds": 20}"#,
            "peer_timeout_seconds must be at least hold_seconds + 5",
        );
        check_error(
            r#"{"ice_servers": [{"url": "stun:x"}]}"#,
            "unknown or invalid key \"url\"",
        );
        check_error(r#"{"ice_servers": [{"urls": "http://x"}]}"#, "not a stun:");
        check_error(
            r#"{"turn": {"urls": "turn:x", "secret": "short"}}"#,
            "at least 16",
        );
        check_error("{", "webrtc.json is not valid JSON (line 1");
        check_error(
            r#"{"ice_transport_policy": "relay"}"#,
            "needs a TURN server",
        );
        check_error(
            r#"{"ice_transport_policy": "none"}"#,
            "ice_transport_policy must be \"all\" or \"relay\"",
        );
    }

    #[test]
    fn the_hand_over_is_detected_unless_forced_on_or_off() {
        assert_eq!(parse("{}").unwrap().hand_over, HandOver::Auto);
        for (text, expected) in [
            (r#"{"hand_over": "auto"}"#, HandOver::Auto),
            (r#"{"hand_over": "on"}"#, HandOver::On),
            (r#"{"hand_over": "off"}"#, HandOver::Off),
        ] {
            assert_eq!(parse(text).unwrap().hand_over, expected, "{text}");
        }
        for text in [
            r#"{"hand_over": "never"}"#,
            r#"{"hand_over": false}"#,
            r#"{"hand_over": "Off"}"#,
        ] {
            check_error(text, r#"hand_over must be "auto", "on" or "off""#);
        }
    }

    /// A settings error is shown to visitors, so it must never quote the value it refused.
    #[test]
    fn settings_errors_name_the_key_never_the_value() {
        let secret = "s3cret-s3cret-s3cret";
        for (text, fragment) in [
            (
                format!(r#"{{"turn": "{secret}"}}"#),
                "turn must be an object",
            ),
            (
                format!(r#"{{"turn": {{"urls": "turn:x", "secret": 12, "x": "{secret}"}}}}"#),
                "turn",
            ),
            (
                format!(r#"{{"turn": {{"urls": ["{secret}"], "secret": "{secret}"}}}}"#),
                "turn.urls",
            ),
            (
                format!(r#"{{"hold_seconds": "{secret}"}}"#),
                "hold_seconds must be a whole number",
            ),
            (
                format!(r#"{{"ice_transport_policy": "{secret}"}}"#),
                "ice_transport_policy",
            ),
            (
                format!(r#"{{"ice_servers": [{{"urls": "{secret}"}}]}}"#),
                "ice_servers[0].urls",
            ),
            (
                format!(r#"{{"data_dir": ["{secret}"]}}"#),
                "data_dir must be a folder path",
            ),
            (
                format!(r#"{{"hold_seconds": 1{secret}}}"#),
                "not valid JSON",
            ),
        ] {
            match parse(&text) {
                Err(Error::Settings(message)) => {
                    assert!(message.contains(fragment), "{message:?} lacks {fragment:?}");
                    assert!(!message.contains("s3cret"), "{message:?} shows the value");
                }
                other => panic!("expected a settings error for {text}, got {other:?}"),
            }
        }
    }

    #[test]
    fn turn_credentials_live_an_hour_by_default() {
        let settings =
            parse(r#"{"turn": {"urls": "turn:t.example", "secret": "0123456789abcdef"}}"#).unwrap();
        assert_eq!(settings.turn.unwrap().ttl_seconds, 3600);
    }

    #[test]
    fn keys_starting_with_an_underscore_are_notes() {
        let settings =
            parse(r#"{"_comment": ["a note"], "_turn": {"urls": 1}, "max_peers": 3}"#).unwrap();
        assert_eq!(settings.max_peers, 3);
        assert!(settings.turn.is_none());
        check_error(r#"{"_note": 1, "max_peer": 3}"#, "unknown field `max_peer`");
    }

    #[test]
    fn an_unknown_key_names_this_version_and_the_known_keys() {
        let version = env!("CARGO_PKG_VERSION");
        check_error(
            r#"{"max_peer": 3}"#,
            &format!("unknown field `max_peer`: webrtc-cgi {version} does not know it"),
        );
        check_error(r#"{"b": 1, "a": 2}"#, "unknown fields `a`, `b`");
        check_error(r#"{"b": 1}"#, "known: data_dir, hold_seconds,");
        // Every key the list names really is one: none of them is refused as unknown.
        for key in file::known_keys() {
            match parse(&format!(r#"{{"{key}": true}}"#)) {
                Err(Error::Settings(message)) => {
                    assert!(!message.contains("unknown field"), "{key}: {message}")
                }
                other => panic!("{key}: true is no valid value, got {other:?}"),
            }
        }
    }

    #[test]
    fn the_shipped_example_is_valid_and_holds_the_defaults() {
        let example = include_str!("../../scripts/deploy/webrtc.example.json");
        let settings = parse(example).unwrap();
        let defaults = parse("{}").unwrap();
        assert_eq!(format!("{settings:?}"), format!("{defaults:?}"));
        // Its guide to TURN: rename "_turn" to "turn".
        let with_turn = parse(&example.replace("\"_turn\":", "\"turn\":")).unwrap();
        assert_eq!(
            with_turn.turn.map(|turn| turn.urls),
            Some(vec!["turn:turn.example.org:3478".to_string()])
        );
    }

    #[test]
    fn turn_entries_pass_through() {
        let settings = parse(
            r#"{"ice_servers": [{"urls": ["turn:t.example:3478"], "username": "u", "credential": "c"}]}"#,
        )
        .unwrap();
        assert_eq!(settings.ice_servers[0]["username"], "u");
    }
}
