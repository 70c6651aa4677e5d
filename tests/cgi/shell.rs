//! The executable run from a shell, as a host user with SSH runs it (`--version`, `--check`,
//! `--help`, anything else), and what it says about its own version and settings on the
//! self-check page. Shell runs have no CGI variables, so they are started here rather than
//! through `Site::command` (which is a web server's run); CGI runs still go through `site`.

use std::fmt;
use std::process::Command;

use serde_json::json;

use crate::site::{Site, EXECUTABLE};

const VERSION: &str = env!("CARGO_PKG_VERSION");

/// What a shell sees: the exit status and both outputs (all shown when an assertion fails).
struct Shell {
    args: Vec<String>,
    status: Option<i32>,
    stdout: String,
    stderr: String,
}

impl fmt::Debug for Shell {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "\n--- webrtc.cgi {}\n--- exit status {:?}\n--- stdout\n{}--- stderr\n{}---",
            self.args.join(" "),
            self.status,
            self.stdout,
            self.stderr
        )
    }
}

/// Runs `webrtc.cgi ARGS` the way a login shell does: no GATEWAY_INTERFACE or other CGI
/// variables, the site's settings named by WEBRTC_CGI_CONFIG.
fn shell(site: &Site, args: &[&str]) -> Shell {
    let output = Command::new(EXECUTABLE)
        .args(args)
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("HOME", site.dir.path())
        .env("WEBRTC_CGI_CONFIG", site.dir.path().join("webrtc.json"))
        .output()
        .expect("the executable starts");
    Shell {
        args: args.iter().map(|arg| arg.to_string()).collect(),
        status: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

#[test]
fn version_prints_the_version_and_the_build_on_one_line() {
    let run = shell(&Site::new(), &["--version"]);
    assert_eq!(run.status, Some(0), "{run:?}");
    assert!(
        run.stdout.starts_with(&format!("webrtc-cgi {VERSION} (")),
        "{run:?}"
    );
    assert!(run.stdout.contains(", client "), "{run:?}");
    assert_eq!(run.stdout.lines().count(), 1, "{run:?}");
    assert_eq!(run.stderr, "", "{run:?}");
}

#[test]
fn help_says_what_it_is_and_how_to_use_it() {
    let run = shell(&Site::new(), &["--help"]);
    assert_eq!(run.status, Some(0), "{run:?}");
    for needed in [
        "video chat",
        "CGI",
        "?mode=check",
        "--check",
        "--version",
        "webrtc.json",
    ] {
        assert!(run.stdout.contains(needed), "{needed:?} missing: {run:?}");
    }
}

#[test]
fn an_unknown_or_missing_option_prints_the_usage_and_exits_2() {
    let site = Site::new();
    for args in [
        &["--verbose"][..],
        &[],
        &["--check", "--version"],
        &["check"],
    ] {
        let run = shell(&site, args);
        assert_eq!(run.status, Some(2), "{run:?}");
        assert_eq!(run.stdout, "", "{run:?}");
        assert!(
            run.stderr
                .contains("usage: webrtc.cgi --check | --version | --help"),
            "{run:?}"
        );
    }
    assert!(
        !site.data_dir().exists(),
        "a usage error touched the data directory"
    );
}

#[test]
fn check_passes_with_a_working_data_directory() {
    let site = Site::new();
    // The first web request creates the data directory, as on a host.
    let page = site.request("GET", "mode=check", b"");
    assert_eq!(page.status, 200, "{page:?}");
    let run = shell(&site, &["--check"]);
    assert_eq!(run.status, Some(0), "{run:?}");
    for line in [
        "ok       Settings: webrtc.json found and valid",
        "ok       Data directory: writable, and locking works",
        // The test build is dynamic (a warning); tests/package checks the static release.
        "  Build: ",
        "Nothing to fix here.",
    ] {
        assert!(run.stdout.contains(line), "{line:?} missing: {run:?}");
    }
    assert!(!run.stdout.contains("FAILED"), "{run:?}");
    assert!(
        site.files_under(&site.data_dir().join("rooms")).is_empty(),
        "the check left its test room behind"
    );
}

#[test]
fn check_fails_with_a_broken_data_directory() {
    // A file where the data directory should be: nothing can be created in it.
    let site = Site::with_settings(json!({"data_dir": "blocked"}));
    std::fs::write(site.dir.path().join("blocked"), b"not a folder").unwrap();
    let run = shell(&site, &["--check"]);
    assert_eq!(run.status, Some(1), "{run:?}");
    assert!(run.stdout.contains("FAILED   Data directory: "), "{run:?}");
    assert!(run.stdout.contains("1 problem to fix."), "{run:?}");
    assert!(
        !run.stdout
            .contains(&site.dir.path().to_string_lossy().into_owned()),
        "the check shows a full path: {run:?}"
    );
}

#[test]
fn check_leaves_a_missing_data_directory_to_the_web_server() {
    let site = Site::new();
    let run = shell(&site, &["--check"]);
    assert_eq!(run.status, Some(0), "{run:?}");
    assert!(
        run.stdout
            .contains("warning  Data directory: not created yet"),
        "{run:?}"
    );
    assert!(
        !site.data_dir().exists(),
        "created from the shell, it would belong to the shell's account"
    );
}

#[test]
fn check_names_an_unknown_settings_key_and_this_version() {
    let site = Site::with_settings(json!({"newer_setting": 1}));
    let run = shell(&site, &["--check"]);
    assert_eq!(run.status, Some(1), "{run:?}");
    assert!(
        run.stdout.contains(&format!(
            "FAILED   Settings: webrtc.json: unknown field `newer_setting`: webrtc-cgi {VERSION} does not know it"
        )),
        "{run:?}"
    );
}

#[test]
fn the_self_check_page_shows_the_version_and_an_unknown_settings_key() {
    let site = Site::with_settings(json!({"newer_setting": 1}));
    let page = site.request("GET", "mode=check", b"");
    assert_eq!(page.status, 200, "{page:?}");
    assert!(
        page.body.contains(&format!("webrtc-cgi {VERSION} (")),
        "{page:?}"
    );
    assert!(
        page.body
            .contains("unknown field `newer_setting`: webrtc-cgi"),
        "{page:?}"
    );
    assert!(
        page.body
            .contains("not tested until the settings are fixed"),
        "{page:?}"
    );
    // Every other mode still refuses to run on settings it does not understand.
    let join = site.request("POST", "mode=join&room=r", b"");
    assert_eq!(join.status, 500, "{join:?}");
    assert!(
        join.error().contains("unknown field `newer_setting`"),
        "{join:?}"
    );
}

#[test]
fn inside_a_web_server_arguments_change_nothing() {
    // Apache passes the words of a query without "=" as arguments (the old ISINDEX rule).
    let site = Site::new();
    for (query, arg) in [
        ("--version", "--version"),
        ("", "--check"),
        ("", "--nonsense"),
    ] {
        let mut command = site.command("GET", query, &[]);
        command.arg(arg);
        let answer = site.run(&mut command, b"");
        assert_eq!(
            answer.status, 303,
            "a fresh room, as without arguments: {answer:?}"
        );
        assert!(answer.header("Location").is_some(), "{answer:?}");
        assert!(!answer.body.contains("webrtc-cgi "), "{answer:?}");
    }
}
