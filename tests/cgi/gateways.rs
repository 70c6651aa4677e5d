//! What runs the program, and where its data goes by default: behind a FastCGI wrapper
//! (fcgiwrap sets FCGI_ROLE) an event stream is answered at once, because the wrapper would
//! pass its events on only at the end of the hold; the end-of-request hand-over happens only
//! where it helps, unless the `hand_over` setting says otherwise; without `data_dir` in the
//! settings, the data folder goes to the account's own folder above the web root, where no
//! URL leads.

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::site::{parse_events, run_output, wrapped_command, Site, EXECUTABLE};

#[test]
fn behind_a_fastcgi_wrapper_an_event_stream_is_answered_at_once() {
    let site = Site::with_settings(json!({ "hold_seconds": 20 }));
    let alice = site.join("fcgi");
    let bob = site.join("fcgi");
    let posted = site.post(
        &alice,
        json!({ "to": bob.id, "type": "chat", "data": { "n": 1 } }),
    );
    assert_eq!(posted.status, 202, "{posted:?}");
    let query = format!(
        "mode=sse&room={}&peer={}&token={}",
        bob.room, bob.id, bob.token
    );
    let started = Instant::now();
    let answer = site.run(
        &mut site.command("GET", &query, &[("FCGI_ROLE", "RESPONDER")]),
        b"",
    );
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "held for {:?}: {answer:?}",
        started.elapsed()
    );
    assert_eq!(answer.status, 200, "{answer:?}");
    let events = parse_events(&answer.body);
    let hello = events
        .iter()
        .find(|event| event.name.as_deref() == Some("hello"))
        .expect("a hello event");
    assert_eq!(hello.data["hold"], 0, "{answer:?}");
    assert!(
        events.iter().any(|event| event.data["type"] == "chat"),
        "the pending message still came: {answer:?}"
    );
    assert!(
        answer.body.contains("retry: 1000"),
        "the browser polls once a second"
    );
}

#[test]
fn without_data_dir_the_data_goes_above_the_web_root_into_the_accounts_folder() {
    let site = Site::with_settings(json!({}));
    // The same settings, without data_dir.
    let settings = json!({ "hold_seconds": 1, "peer_timeout_seconds": 30 });
    std::fs::write(site.dir.path().join("webrtc.json"), settings.to_string()).unwrap();
    let web_root = site.dir.path().join("home/public_html");
    std::fs::create_dir_all(&web_root).unwrap();
    let web_root_text = web_root.to_string_lossy().into_owned();
    let answer = site.run(
        &mut site.command(
            "POST",
            "mode=join&room=placed",
            &[("DOCUMENT_ROOT", web_root_text.as_str())],
        ),
        b"",
    );
    assert_eq!(answer.status, 200, "{answer:?}");
    // The temporary folder is this account's; above it, /tmp belongs to everyone.
    let expected = site.dir.path().join("webrtc-data");
    assert!(
        expected.join("rooms/placed").is_dir(),
        "the room is in {expected:?}: {answer:?}"
    );
    assert!(
        std::fs::read_dir(&web_root).unwrap().next().is_none(),
        "nothing was written inside the web root"
    );
}

/// Starts the executable as a child subreaper's (PR_SET_CHILD_SUBREAPER), so that a process
/// it leaves behind becomes the wrapper's child rather than init's; the wrapper reaps them all
/// and prints on stderr how many processes the request was, as a host's process limit counts
/// them.
const PROCESS_COUNTER: &[&str] = &[
    "python3",
    "-c",
    r#"
import ctypes, os, sys
if ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0) != 0:
    sys.exit("prctl(PR_SET_CHILD_SUBREAPER) failed: " + os.strerror(ctypes.get_errno()))
if os.fork() == 0:
    os.execv(sys.argv[1], sys.argv[1:])
ended = 0
while True:
    try:
        os.wait()
    except ChildProcessError:
        break
    ended += 1
print(f"processes: {ended}", file=sys.stderr)
"#,
];

/// How many processes one join was, with these settings and these extra variables, and its
/// answer.
fn processes_of_a_join(settings: Value, variables: &[(&str, &str)]) -> (usize, u16) {
    let site = Site::with_settings(settings);
    let mut command = wrapped_command(
        &site,
        PROCESS_COUNTER,
        EXECUTABLE,
        "POST",
        "mode=join&room=ending",
        0,
    );
    command.envs(variables.iter().copied());
    let output = run_output(&mut command, b"");
    let answer = site.answer(&command, &output);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let count = stderr
        .lines()
        .find_map(|line| line.strip_prefix("processes: "))
        .and_then(|count| count.parse().ok())
        .unwrap_or_else(|| panic!("no process count: {answer:?}"));
    (count, answer.status)
}

/// Where the server runs the program as its own account, a request ends in a second,
/// short-lived process (so Apache finds nothing to wait for); behind a FastCGI wrapper it
/// does not, as that process would only count against the account's process limit. The
/// `hand_over` setting forces either on a host where that detection is wrong.
#[test]
fn the_hand_over_adds_one_process_where_it_helps_or_where_it_is_forced_on() {
    let fastcgi = [("FCGI_ROLE", "RESPONDER")];
    for (setting, variables, expected) in [
        (json!({}), &[][..], 2),
        (json!({ "hand_over": "auto" }), &fastcgi[..], 1),
        (json!({ "hand_over": "off" }), &[][..], 1),
        (json!({ "hand_over": "on" }), &fastcgi[..], 2),
    ] {
        let (count, status) = processes_of_a_join(setting.clone(), variables);
        assert_eq!(status, 200, "{setting} {variables:?}");
        assert_eq!(count, expected, "processes with {setting} {variables:?}");
    }
}

/// A mistyped value is refused like any bad setting, with a message that names the values it
/// may take (README, "Settings"), never the value given.
#[test]
fn a_bad_hand_over_value_names_the_values_it_may_take() {
    let site = Site::with_settings(json!({ "hand_over": "no" }));
    let answer = site.request("POST", "mode=join&room=ending", b"");
    assert_eq!(answer.status, 500, "{answer:?}");
    assert_eq!(
        answer.error(),
        r#"webrtc.json: hand_over must be "auto", "on" or "off""#,
        "{answer:?}"
    );
}

/// The self-check says when `hand_over` overrules what the gateway detection would do, so a
/// site owner who set it sees that it is in force and what it costs; left at auto, it says
/// nothing of it.
#[test]
fn the_self_check_says_when_the_hand_over_setting_overrules_the_detection() {
    let gateway_row = |settings: Value| {
        let answer = Site::with_settings(settings).request("GET", "mode=check", b"");
        assert_eq!(answer.status, 200, "{answer:?}");
        let start = answer.body.find(">Gateway<").expect("a Gateway row");
        let row = &answer.body[start..];
        row[..row.find("</tr>").unwrap_or(row.len())].to_string()
    };
    let off = gateway_row(json!({ "hand_over": "off" }));
    assert!(
        off.contains("hand_over &quot;off&quot; skips the end-of-request hand-over"),
        "{off}"
    );
    for settings in [json!({}), json!({ "hand_over": "on" })] {
        let row = gateway_row(settings.clone());
        assert!(row.contains("as its own account"), "{settings}: {row}");
        assert!(!row.contains("hand_over"), "{settings}: {row}");
    }
}
