//! The check mode (`GET ?mode=check`): the self-check page, what a site owner opens right
//! after uploading, to see whether this host can run the chat and what to change if not. It
//! shows facts and advice only; it never shows secrets (tokens, the TURN secret) or full
//! paths. Its server-side rows (version, build, settings, data directory, capacity) are also
//! what `webrtc.cgi --check` prints in a shell (`shell.rs`); it still answers when the
//! settings do not load, with the problem in its Settings row.

use std::path::PathBuf;

use super::private_files::WebPaths;
use super::query::{require_method, Input};
use super::{Context, Reply};
use crate::assets::{asset_href, script_url, CONTENT_SECURITY_POLICY, SELF_CHECK_SCRIPT, VERSION};
use crate::config::{HandOver, Settings};
use crate::error::{Error, Result};
use crate::gateway::{Ending, Gateway};
use crate::response::{html_escape, Response};
use crate::store::location::Placement;
use crate::store::{Store, SELF_CHECK_FILE};

#[derive(Debug, PartialEq, Eq)]
pub struct Check {
    /// Whether the page came over https (or from this machine, which browsers treat as
    /// secure too).
    pub https: bool,
    pub server_software: String,
    /// Where the server says this program lives, to find the private files' URLs.
    pub web_paths: WebPaths,
}

impl Check {
    pub(super) fn parse(input: &Input) -> Result<Check> {
        require_method(input.method, "GET", "check")?;
        input.query.only(&["mode"])?;
        // Browsers treat loopback addresses as secure, so a local test counts.
        let host = input.variable("HTTP_HOST");
        let host = host.rsplit_once(':').map_or(host, |(name, port)| {
            if port.bytes().all(|b| b.is_ascii_digit()) {
                name
            } else {
                host
            }
        });
        let local = matches!(host, "localhost" | "127.0.0.1" | "[::1]");
        let https = local
            || input.variable("HTTPS").eq_ignore_ascii_case("on")
            || input.variable("REQUEST_SCHEME") == "https"
            || input.variable("HTTP_X_FORWARDED_PROTO") == "https";
        let web_root = ["CONTEXT_DOCUMENT_ROOT", "DOCUMENT_ROOT"]
            .iter()
            .map(|name| input.variable(name))
            .find(|root| !root.is_empty())
            .map(|root| {
                let prefix = input.optional("CONTEXT_PREFIX").filter(|prefix| {
                    !prefix.is_empty() && !input.variable("CONTEXT_DOCUMENT_ROOT").is_empty()
                });
                (PathBuf::from(root), prefix.unwrap_or("/").to_string())
            });
        Ok(Check {
            https,
            server_software: input.variable("SERVER_SOFTWARE").to_string(),
            web_paths: WebPaths {
                script_filename: PathBuf::from(input.variable("SCRIPT_FILENAME")),
                script_name: input.variable("SCRIPT_NAME").to_string(),
                web_root,
            },
        })
    }

    pub(super) fn run(self, context: &Context) -> Result<Reply> {
        let mut rows = rows(Ok(context.settings), self.https, &self.server_software);
        rows.push(gateway_row(context.gateway, context.settings.hand_over));
        let private = private_urls(context.settings, &self.web_paths);
        Ok(Reply::Whole(render(&rows, &private, context.script_name)))
    }

    /// The page when the settings did not load: the version, the build and the problem,
    /// which is what a site owner needs to fix it (a key of a newer version, a typo).
    pub(super) fn page_without_settings(self, error: &Error, script_name: &str) -> Response {
        render(
            &rows(Err(error), self.https, &self.server_software),
            &[],
            script_name,
        )
    }
}

/// The row that says what runs this program, and what that means for the chat; and, when
/// `hand_over` in the settings overrules what the detection would do, that it does.
fn gateway_row(gateway: Gateway, hand_over: HandOver) -> Row {
    let overruled = match (hand_over, gateway.ending(HandOver::Auto)) {
        (HandOver::On, Ending::Exit) => {
            "; hand_over \"on\" keeps the end-of-request hand-over, which this gateway gains nothing from (see Limits, Process limits)"
        }
        (HandOver::Off, Ending::HandOver) => {
            "; hand_over \"off\" skips the end-of-request hand-over, so keep-alive requests wait about 10 ms longer each"
        }
        _ => "",
    };
    match gateway {
        Gateway::FastCgiWrapper => row(
            "Gateway",
            Verdict::Warning,
            format!(
                "{}: it passes this program's output on only when it ends, so event streams are answered at once and browsers poll once a second (calls connect a little slower). Start fcgiwrap with several processes (-c 4 or more): each request takes one{overruled}",
                gateway.describe()
            ),
        ),
        _ => row("Gateway", Verdict::Good, format!("{}{overruled}", gateway.describe())),
    }
}

/// The URLs the browser tries to download: the settings file and a file of the data folder
/// (written by the self-test). Empty when both are where no URL leads.
fn private_urls(settings: &Settings, web_paths: &WebPaths) -> Vec<String> {
    let mut urls = Vec::new();
    if let Some(url) = settings
        .source
        .as_ref()
        .and_then(|path| web_paths.url_of(path))
    {
        urls.push(url);
    }
    if settings.data_place != Placement::OutsideWebRoot {
        if let Some(url) = web_paths.url_of(&settings.data_dir.join(SELF_CHECK_FILE)) {
            urls.push(url);
        }
    }
    urls
}

pub(crate) enum Verdict {
    Good,
    Warning,
    Failure,
}

pub(crate) struct Row {
    pub(crate) name: &'static str,
    pub(crate) verdict: Verdict,
    pub(crate) text: String,
}

/// How the data directory is tested.
pub(crate) enum DataDirectory {
    /// Created when missing, as any request through the web server would.
    CreateAndTest,
    /// Left alone when missing: from a shell it would belong to the shell's account, which
    /// on a host without suEXEC is not the one the web server runs the program as.
    TestIfPresent,
}

/// scripts/package names the commit it builds (with "-modified" for changed files); any
/// other build says it has none.
const COMMIT: Option<&str> = option_env!("WEBRTC_CGI_COMMIT");

/// The version and build, as the page's first row and `--version` show them.
pub(crate) fn version() -> String {
    let build = match COMMIT {
        Some(commit) if !commit.is_empty() => format!("commit {commit}"),
        _ => "not a release build".to_string(),
    };
    format!(
        "webrtc-cgi {} ({build}, client {VERSION})",
        env!("CARGO_PKG_VERSION")
    )
}

fn row(name: &'static str, verdict: Verdict, text: impl Into<String>) -> Row {
    Row {
        name,
        verdict,
        text: text.into(),
    }
}

/// What the page reports, one row per fact: first what the program and its files are, then
/// how the page came, then what the settings allow.
fn rows(
    settings: std::result::Result<&Settings, &Error>,
    https: bool,
    server_software: &str,
) -> Vec<Row> {
    let mut rows = setup_rows(settings, DataDirectory::CreateAndTest);
    let (verdict, text) = if https {
        (
            Verdict::Good,
            "this page came over https (or from this machine itself), so browsers allow the camera",
        )
    } else {
        (Verdict::Failure, "this page came over plain http: browsers allow camera and microphone only on https (or on localhost). Turn on your host's free certificate (AutoSSL, Let's Encrypt) and open the https:// address.")
    };
    rows.push(row("HTTPS", verdict, text));
    rows.push(row(
        "Server",
        Verdict::Good,
        if server_software.is_empty() {
            "unknown".to_string()
        } else {
            server_software.to_string()
        },
    ));
    if let Ok(settings) = settings {
        rows.extend(capacity_rows(settings));
    }
    rows
}

/// The version, the build, the settings and the data directory: what the program can test
/// about itself wherever it runs.
pub(crate) fn setup_rows(
    settings: std::result::Result<&Settings, &Error>,
    data_directory: DataDirectory,
) -> Vec<Row> {
    let mut rows = vec![row("Version", Verdict::Good, version())];
    let (verdict, text) = if cfg!(target_feature = "crt-static") {
        (
            Verdict::Good,
            "static: runs on old and new Linux hosts alike",
        )
    } else {
        (Verdict::Warning, "dynamically linked: it may fail on hosts with an older glibc; use the static release build")
    };
    rows.push(row("Build", verdict, text));
    let settings = match settings {
        Ok(settings) => settings,
        Err(error) => {
            rows.push(row("Settings", Verdict::Failure, error.public_message()));
            rows.push(row(
                "Data directory",
                Verdict::Warning,
                "not tested until the settings are fixed",
            ));
            return rows;
        }
    };
    let source = match &settings.source {
        Some(path) => format!(
            "{} found and valid",
            path.file_name()
                .map(|name| name.to_string_lossy().into_owned())
                .unwrap_or_default()
        ),
        None => "no webrtc.json: using the built-in defaults".to_string(),
    };
    rows.push(row("Settings", Verdict::Good, source));
    let untouched =
        matches!(data_directory, DataDirectory::TestIfPresent) && !Store::data_dir_exists(settings);
    let (verdict, text) = if untouched {
        (Verdict::Warning, "not created yet: the first request through the web server creates it, as the account the server runs this program as. Open the chat or ?mode=check in a browser, then check again.".to_string())
    } else {
        match Store::open(settings).and_then(|store| store.self_test()) {
            Ok(()) => (Verdict::Good, "writable, and locking works".to_string()),
            Err(error) => (Verdict::Failure, data_dir_problem(&error)),
        }
    };
    rows.push(row("Data directory", verdict, text));
    rows
}

/// What the settings allow: held requests, room size, the TURN relay.
pub(crate) fn capacity_rows(settings: &Settings) -> Vec<Row> {
    let mut rows = Vec::new();
    let (verdict, text) = if settings.hold_seconds == 0 {
        (
            Verdict::Warning,
            "hold_seconds is 0: browsers poll once a second (slower signaling, more requests)"
                .to_string(),
        )
    } else {
        (Verdict::Good, format!(
            "each room tab holds one request for up to {} s at a time (one entry process on hosts that count them) until its call is connected; a connected room then holds one (measured: 1 for calls of 2, 3 and 6), the others reading their messages every {} s",
            settings.hold_seconds, settings.quiet_poll_seconds
        ))
    };
    rows.push(row("Held connections", verdict, text));
    rows.push(row(
        "Room size",
        Verdict::Good,
        format!("up to {} people per room", settings.max_peers),
    ));
    let static_turn = settings.ice_servers.as_array().is_some_and(|servers| {
        servers.iter().any(|server| {
            let urls = &server["urls"];
            let has_turn =
                |url: &serde_json::Value| url.as_str().is_some_and(|url| url.starts_with("turn"));
            has_turn(urls)
                || urls
                    .as_array()
                    .is_some_and(|urls| urls.iter().any(has_turn))
        })
    });
    let (verdict, text) = if settings.turn.is_some() {
        (Verdict::Good, "configured with time-limited credentials")
    } else if static_turn {
        (Verdict::Good, "configured in ice_servers")
    } else {
        (Verdict::Warning, "none: calls between some networks (mobile data, strict company networks) will not connect. Add a TURN server to webrtc.json.")
    };
    rows.push(row("TURN relay", verdict, text));
    rows
}

/// The pending row that check.js fills in after asking for `urls` (or a settled one when there
/// is nothing to ask for).
fn private_files_row(urls: &[String]) -> String {
    if urls.is_empty() {
        return "<tr id=\"private-files\" class=\"good\"><th scope=\"row\">Private files</th><td><span class=\"mark\" aria-hidden=\"true\">✔</span> <span id=\"private-files-result\">the settings file and the data folder are outside the web root: no URL leads to them</span></td></tr>\n".to_string();
    }
    format!(
        "<tr id=\"private-files\" class=\"pending\" data-urls=\"{}\"><th scope=\"row\">Private files</th><td><span class=\"mark\" aria-hidden=\"true\">…</span> <span id=\"private-files-result\">testing whether the settings file and the data folder can be downloaded…</span></td></tr>\n",
        html_escape(&urls.join(" "))
    )
}

fn render(rows: &[Row], private_urls: &[String], script_name: &str) -> Response {
    let mut table = String::new();
    for Row {
        name,
        verdict,
        text,
    } in rows
    {
        let (class, mark) = match verdict {
            Verdict::Good => ("good", "✔"),
            Verdict::Warning => ("warning", "!"),
            Verdict::Failure => ("failure", "✘"),
        };
        table.push_str(&format!(
            "<tr class=\"{class}\"><th scope=\"row\">{name}</th><td><span class=\"mark\" aria-hidden=\"true\">{mark}</span> {}</td></tr>\n",
            html_escape(text)
        ));
    }
    let private = private_files_row(private_urls);
    let script = script_url(script_name);
    let stylesheet = asset_href(&script, "check.css");
    let module = asset_href(&script, SELF_CHECK_SCRIPT);
    let body = format!(
        r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>webrtc-cgi self-check</title>
<link rel="stylesheet" href="{stylesheet}">
</head>
<body>
<main>
<h1>webrtc-cgi self-check</h1>
<table>
{table}{private}<tr id="streaming" class="pending"><th scope="row">Streaming</th><td><span class="mark" aria-hidden="true">…</span> <span id="streaming-result">testing whether events arrive as they are sent…</span></td></tr>
</table>
<p><a href="{script}">Start a new room</a></p>
</main>
<script type="module" src="{module}"></script>
</body>
</html>
"#
    );
    Response::new(200, "text/html; charset=utf-8", body.into_bytes())
        .with("Cache-Control", "no-store")
        .with("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        .with("X-Frame-Options", "DENY")
        .with("Cross-Origin-Opener-Policy", "same-origin")
}

fn data_dir_problem(error: &Error) -> String {
    match error {
        Error::DataDirectory(advice) => advice.clone(),
        Error::Busy(_) => "busy: another request held the lock too long; reload".to_string(),
        other => other.public_message(),
    }
}
