//! What runs the program, and where its data goes by default: behind a FastCGI wrapper
//! (fcgiwrap sets FCGI_ROLE) an event stream is answered at once, because the wrapper would
//! pass its events on only at the end of the hold; without `data_dir` in the settings, the
//! data folder goes to the account's own folder above the web root, where no URL leads.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::site::{parse_events, Site};

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
