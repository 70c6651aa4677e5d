//! webrtc.cgi run from a shell (no `GATEWAY_INTERFACE`), for hosts that give SSH: `--version`,
//! `--check` (the self-check's server-side tests, as text, with an exit status) and `--help`.
//!
//! A pure function from the arguments to what to print and the exit status: `main.rs` reads
//! the arguments and writes the answer. Nothing here runs inside a web server, and nothing
//! here creates the data directory: created from a shell it would belong to the shell's
//! account, which on a host without suEXEC is not the one the web server runs the program as.

use std::collections::HashMap;
use std::path::Path;

use crate::config::Settings;
use crate::mode::check::{self, DataDirectory, Verdict};

/// What the shell gets back.
#[derive(Debug, PartialEq, Eq)]
pub struct Answer {
    pub stdout: String,
    pub stderr: String,
    pub status: i32,
}

/// The exit status of a usage mistake, as in most Unix tools.
const USAGE_STATUS: i32 = 2;

/// Answers `webrtc.cgi ARGS` run from a shell. `env` holds the environment (for
/// `WEBRTC_CGI_CONFIG`); `executable_dir` is where the settings and data folder live;
/// `account` is the user id the shell runs as, whose data folder `--check` looks for.
pub fn run(
    args: &[String],
    env: &HashMap<String, String>,
    executable_dir: &Path,
    account: u32,
) -> Answer {
    match args {
        [flag] if flag == "--version" || flag == "-V" => success(format!("{}\n", check::version())),
        [flag] if flag == "--help" || flag == "-h" => success(help()),
        [flag] if flag == "--check" => self_check(env, executable_dir, account),
        [] => usage_error("no option given"),
        [flag] => usage_error(&format!("unknown option {flag:?}")),
        _ => usage_error("give one option"),
    }
}

fn success(stdout: String) -> Answer {
    Answer {
        stdout,
        stderr: String::new(),
        status: 0,
    }
}

fn usage_error(problem: &str) -> Answer {
    Answer {
        stdout: String::new(),
        stderr: format!("webrtc.cgi: {problem}\n{USAGE}"),
        status: USAGE_STATUS,
    }
}

const USAGE: &str = "usage: webrtc.cgi --check | --version | --help\n";

fn help() -> String {
    format!(
        "{version}

Browser video chat for shared hosting. A web server (Apache, LiteSpeed) runs this program as
CGI, once per request: open https://your-domain/cgi-bin/webrtc.cgi for a fresh room, and
?mode=check for the self-check page. Run from a shell, it answers:

  --check    test the settings (webrtc.json beside the program, or the file named by
             WEBRTC_CGI_CONFIG), the data folder and its locking, and the build, as this
             account; exits with 1 when something must be fixed
  --version  print the version and the build
  --help     print this

{USAGE}",
        version = check::version()
    )
}

fn self_check(env: &HashMap<String, String>, executable_dir: &Path, account: u32) -> Answer {
    let settings = Settings::load(env, executable_dir).map(|mut settings| {
        settings.find_placed_data_dir(executable_dir, account);
        settings
    });
    let mut rows = check::setup_rows(settings.as_ref(), DataDirectory::TestIfPresent);
    if let Ok(settings) = &settings {
        rows.extend(check::capacity_rows(settings));
    }
    let mut text =
        "webrtc.cgi --check: the self-check's tests of this program, as this account\n".to_string();
    let mut failures = 0;
    for row in &rows {
        let mark = match row.verdict {
            Verdict::Good => "ok     ",
            Verdict::Warning => "warning",
            Verdict::Failure => {
                failures += 1;
                "FAILED "
            }
        };
        text.push_str(&format!("{mark}  {}: {}\n", row.name, row.text));
    }
    text.push_str(
        "Only a browser can test https, the web server and streaming: open ?mode=check there.\n",
    );
    text.push_str(&match failures {
        0 => "Nothing to fix here.\n".to_string(),
        1 => "1 problem to fix.\n".to_string(),
        count => format!("{count} problems to fix.\n"),
    });
    Answer {
        stdout: text,
        stderr: String::new(),
        status: i32::from(failures > 0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs `args` with no settings file in reach, and checks the status and a fragment of
    /// what is printed (stdout and stderr together).
    fn check(args: &[&str], status: i32, fragment: &str) {
        let args: Vec<String> = args.iter().map(|arg| arg.to_string()).collect();
        let folder = Path::new("/nonexistent/webrtc-cgi");
        let answer = run(&args, &HashMap::new(), folder, u32::MAX);
        let printed = format!("{}{}", answer.stdout, answer.stderr);
        assert_eq!(answer.status, status, "{args:?}: {printed}");
        assert!(printed.contains(fragment), "{args:?}: {printed}");
    }

    #[test]
    fn options_and_their_exit_status() {
        check(&["--version"], 0, env!("CARGO_PKG_VERSION"));
        check(&["-V"], 0, "webrtc-cgi ");
        check(&["--help"], 0, "--check    test the settings");
        check(&["-h"], 0, USAGE);
        check(&[], 2, "no option given");
        check(&["--versions"], 2, "unknown option \"--versions\"");
        check(&["--check", "--help"], 2, "give one option");
    }

    #[test]
    fn check_without_a_reachable_data_directory_warns_and_creates_nothing() {
        check(&["--check"], 0, "warning  Data directory: not created yet");
        assert!(!Path::new("/nonexistent").exists());
    }
}
