//! The interface of PROTOCOL.md: modes, delivery, presence and every error status.

use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::Child;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::site::*;

#[test]
fn a_bare_url_redirects_to_a_fresh_room() {
    let site = Site::new();
    let first = site.request("GET", "", b"");
    let second = site.request("GET", "", b"");
    assert_eq!(first.status, 303);
    let location = first.header("Location").unwrap();
    let room = location.strip_prefix("?room=").expect("relative room URL");
    assert!(
        room.len() >= 12,
        "room names carry at least 72 bits: {room}"
    );
    assert!(room
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
    assert_ne!(first.header("Location"), second.header("Location"));
}

#[test]
fn the_page_is_html_with_a_strict_policy() {
    let site = Site::new();
    let answer = site.request("GET", "room=team-42&utm_source=chat", b"");
    assert_eq!(answer.status, 200);
    assert_eq!(
        answer.header("Content-Type"),
        Some("text/html; charset=utf-8")
    );
    let policy = answer.header("Content-Security-Policy").unwrap();
    assert!(policy.contains("script-src 'self'") && !policy.contains("unsafe-inline"));
    assert_eq!(answer.header("X-Content-Type-Options"), Some("nosniff"));
    assert_eq!(answer.header("Referrer-Policy"), Some("no-referrer"));
    assert!(answer.body.contains("<html"));
    assert!(!answer.body.contains("<script>"), "no inline script");
}

#[test]
fn a_message_travels_from_one_peer_to_another() {
    let site = Site::new();
    let alice = site.join("room1");
    let bob = site.join("room1");
    let answer = site.post(
        &alice,
        json!({"to": bob.id, "type": "description", "data": {"sdp": "v=0\r\n"}}),
    );
    assert_eq!(answer.status, 202, "{answer:?}");
    assert_eq!(answer.json()["stored"], 1);
    let events = site.poll(&bob, None);
    assert_eq!(events.len(), 1);
    assert_eq!(
        events[0].data,
        json!({"from": alice.id, "type": "description", "data": {"sdp": "v=0\r\n"}})
    );
    // Alice got only Bob's arrival.
    assert_eq!(
        from_and_type(&site.poll(&alice, None)),
        vec![(bob.id.clone(), "join".to_string())]
    );
}

#[test]
fn join_lists_the_peers_already_there_and_announces_the_newcomer() {
    let site = Site::new();
    let alice = site.join("r");
    let bob = site.join("r");
    let answer = site.request("POST", "mode=join&room=r", b"");
    let json = answer.json();
    assert_eq!(json["peers"], json!([alice.id, bob.id]));
    assert!(json["iceServers"].is_array());
    assert!(
        json["token"].as_str().unwrap().len() >= 22,
        "128 bits or more"
    );
    let carol = json["peer"].as_str().unwrap();
    assert_eq!(
        from_and_type(&site.poll(&bob, None)),
        vec![(carol.to_string(), "join".to_string())]
    );
}

#[test]
fn broadcast_reaches_everyone_else_and_addressed_only_its_recipient() {
    let site = Site::new();
    let alice = site.join("r");
    let bob = site.join("r");
    let carol = site.join("r");
    let _ = (site.poll(&alice, None), site.poll(&bob, None));
    assert_eq!(site.post(&alice, json!({"type": "hi"})).json()["stored"], 2);
    assert_eq!(
        site.post(&alice, json!({"to": carol.id, "type": "secret"}))
            .json()["stored"],
        1
    );
    let bob_types: Vec<_> = from_and_type(&site.poll(&bob, Some(1)))
        .into_iter()
        .map(|(_, kind)| kind)
        .collect();
    assert_eq!(bob_types, vec!["hi"]);
    let carol_events = from_and_type(&site.poll(&carol, None));
    assert_eq!(
        carol_events,
        vec![
            (alice.id.clone(), "hi".into()),
            (alice.id.clone(), "secret".into())
        ]
    );
    assert!(
        site.poll(&alice, Some(2)).is_empty(),
        "the sender does not get its own broadcast"
    );
}

#[test]
fn messages_stay_until_acknowledged_by_last_event_id_and_are_never_sent_again() {
    let site = Site::new();
    let alice = site.join("r");
    let bob = site.join("r");
    for n in 0..3 {
        site.post(&alice, json!({"to": bob.id, "type": "n", "data": n}));
    }
    let first = site.poll(&bob, None);
    let ids: Vec<u64> = first.iter().map(|event| event.id.unwrap()).collect();
    assert_eq!(ids.len(), 3);
    assert!(
        ids.windows(2).all(|pair| pair[0] < pair[1]),
        "strictly increasing: {ids:?}"
    );
    // A response cut off after the first message: the browser reconnects with its id.
    let replay = site.poll(&bob, Some(ids[0]));
    assert_eq!(
        replay
            .iter()
            .map(|event| event.id.unwrap())
            .collect::<Vec<_>>(),
        ids[1..]
    );
    // Everything acknowledged: nothing comes back, and the inbox is emptied on disk.
    assert!(site.poll(&bob, Some(ids[2])).is_empty());
    site.post(&alice, json!({"to": bob.id, "type": "n", "data": 3}));
    let later = site.poll(&bob, Some(ids[2]));
    assert_eq!(later.len(), 1);
    assert!(
        later[0].id.unwrap() > ids[2],
        "ids keep increasing after a compaction"
    );
    let inbox = std::fs::read_to_string(
        site.data_dir()
            .join("rooms/r")
            .join(format!("inbox-{}", bob.id)),
    )
    .unwrap();
    assert_eq!(
        inbox.lines().count(),
        1,
        "acknowledged messages are deleted: {inbox:?}"
    );
}

#[test]
fn the_last_parameter_stands_in_for_the_header() {
    let site = Site::new();
    let alice = site.join("r");
    let bob = site.join("r");
    site.post(&alice, json!({"to": bob.id, "type": "a"}));
    site.post(&alice, json!({"to": bob.id, "type": "b"}));
    let query = format!(
        "mode=sse&room=r&peer={}&token={}&hold=0&last=1",
        bob.id, bob.token
    );
    let answer = site.request("GET", &query, b"");
    let types: Vec<_> = from_and_type(&parse_events(&answer.body))
        .into_iter()
        .map(|(_, kind)| kind)
        .collect();
    assert!(
        types.contains(&"b".to_string()) && !types.contains(&"a".to_string()),
        "{types:?}"
    );
}

#[test]
fn a_stream_starts_with_retry_and_hello_and_ends_with_bye() {
    let site = Site::new();
    let alice = site.join("r");
    let answer = site.sse(&alice, None, 0);
    assert_eq!(answer.header("Content-Type"), Some("text/event-stream"));
    assert_eq!(answer.header("X-Accel-Buffering"), Some("no"));
    assert_eq!(answer.header("Cache-Control"), Some("no-store"));
    let (padding, rest) = answer.body.split_once('\n').unwrap();
    assert!(
        padding.starts_with(':') && padding.len() >= 1024,
        "a long comment opens the stream, so compressing proxies let the first events through"
    );
    assert!(
        rest.starts_with("retry: 1000\n"),
        "polling retries at 1 s: {rest:?}"
    );
    let names: Vec<_> = parse_events(&answer.body)
        .into_iter()
        .filter_map(|event| event.name)
        .collect();
    assert_eq!(names, vec!["hello", "bye"]);
}

#[test]
fn a_held_stream_delivers_a_message_while_it_is_open() {
    let site = Site::with_settings(json!({"hold_seconds": 4, "peer_timeout_seconds": 30}));
    let alice = site.join("r");
    let bob = site.join("r");
    let query = format!("mode=sse&room=r&peer={}&token={}", bob.id, bob.token);
    let mut child: Child = site.command("GET", &query, &[]).spawn().unwrap();
    let mut reader = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    // Wait for the hello event: the stream is open and flushed.
    while !line.starts_with("event: hello") {
        line.clear();
        assert!(
            reader.read_line(&mut line).unwrap() > 0,
            "stream ended early"
        );
    }
    let posted_at = Instant::now();
    assert_eq!(
        site.post(&alice, json!({"to": bob.id, "type": "ping"}))
            .status,
        202
    );
    loop {
        line.clear();
        assert!(
            reader.read_line(&mut line).unwrap() > 0,
            "stream ended before the message"
        );
        if line.contains("\"type\":\"ping\"") {
            break;
        }
    }
    assert!(
        posted_at.elapsed() < Duration::from_secs(3),
        "the message came with the stream's end, not while it was held"
    );
    let mut rest = String::new();
    reader.read_to_string(&mut rest).unwrap();
    assert!(rest.contains("event: bye"));
    child.wait().unwrap();
}

#[test]
fn leaving_tells_the_others_and_removes_the_peer() {
    let site = Site::new();
    let alice = site.join("r");
    let bob = site.join("r");
    site.poll(&alice, None);
    assert_eq!(site.leave(&bob).status, 200);
    let events = site.poll(&alice, Some(1));
    assert_eq!(
        from_and_type(&events),
        vec![(bob.id.clone(), "leave".to_string())]
    );
    assert_eq!(site.poll_status(&bob), 404);
    assert_eq!(site.leave(&alice).status, 200);
    assert!(
        site.files_under(&site.data_dir().join("rooms")).is_empty(),
        "an empty room leaves no files"
    );
}

#[test]
fn a_silent_peer_expires_and_the_others_are_told() {
    let site = Site::with_settings(json!({"hold_seconds": 0, "peer_timeout_seconds": 5}));
    let alice = site.join("r");
    let bob = site.join("r");
    site.poll(&alice, None);
    std::thread::sleep(Duration::from_secs(4));
    site.poll(&alice, Some(1));
    std::thread::sleep(Duration::from_secs(3));
    // Bob has made no SSE request for over 5 s; Alice has.
    let events = site.poll(&alice, Some(1));
    assert_eq!(
        from_and_type(&events),
        vec![(bob.id.clone(), "leave".to_string())]
    );
    let answer = site.post(&bob, json!({"type": "late"}));
    assert_eq!(answer.status, 404);
    assert!(answer.error().contains("join again"), "{answer:?}");
}

#[test]
fn abandoned_rooms_are_swept_by_later_requests() {
    let site = Site::with_settings(json!({"hold_seconds": 0, "peer_timeout_seconds": 5}));
    site.join("abandoned");
    let room_dir = site.data_dir().join("rooms/abandoned");
    assert!(room_dir.exists());
    // Make both the room and the last sweep look old, as if a minute had passed.
    let old = std::time::SystemTime::now() - Duration::from_secs(120);
    for path in [room_dir.clone(), site.data_dir().join("last-sweep")] {
        std::fs::File::open(&path)
            .unwrap()
            .set_modified(old)
            .unwrap();
    }
    let peers = std::fs::read_to_string(room_dir.join("peers.json")).unwrap();
    let mut state: Value = serde_json::from_str(&peers).unwrap();
    state["peers"][0]["seen"] = json!(1);
    std::fs::write(room_dir.join("peers.json"), state.to_string()).unwrap();
    std::fs::File::open(&room_dir)
        .unwrap()
        .set_modified(old)
        .unwrap();
    site.join("other");
    assert!(!room_dir.exists(), "the abandoned room was deleted");
}

#[test]
fn every_error_has_its_status_and_says_what_was_wrong() {
    let site = Site::with_settings(
        json!({"max_peers": 2, "max_body_bytes": 1024, "max_backlog_bytes": 1024}),
    );
    let alice = site.join("r");
    let bob = site.join("r");
    let check = |answer: Answer, status: u16, fragment: &str| {
        assert_eq!(answer.status, status, "{answer:?}");
        assert!(
            answer.error().contains(fragment),
            "{:?} lacks {fragment:?}",
            answer.error()
        );
        assert_eq!(answer.header("Content-Type"), Some("application/json"));
    };
    check(
        site.request("POST", "mode=join&room=bad/name", b""),
        400,
        "room name",
    );
    let wrong_token = format!(
        "mode=post&room=r&peer={}&token=AAAAAAAAAAAAAAAAAAAAAA",
        alice.id
    );
    check(
        site.request("POST", &wrong_token, br#"{"type":"x"}"#),
        403,
        "wrong token",
    );
    let no_token = format!("mode=sse&room=r&peer={}", alice.id);
    check(site.request("GET", &no_token, b""), 403, "token");
    let stranger = format!("mode=sse&room=r&peer=nobody&token={}", alice.token);
    check(site.request("GET", &stranger, b""), 404, "not in this room");
    check(
        site.request("GET", "mode=join&room=r", b""),
        405,
        "join takes POST",
    );
    assert_eq!(
        site.request("GET", "mode=join&room=r", b"").header("Allow"),
        Some("POST")
    );
    check(
        site.request("POST", "mode=join&room=r", b""),
        409,
        "room is full",
    );
    check(
        site.post(&alice, json!({"to": "gone1", "type": "x"})),
        410,
        "not in this room",
    );
    let no_length = format!("mode=post&room=r&peer={}&token={}", alice.id, alice.token);
    check(
        site.run(&mut site.command("POST", &no_length, &[]), b""),
        411,
        "Content-Length",
    );
    check(
        site.post(&alice, json!({"type": "x", "data": "y".repeat(2000)})),
        413,
        "limit is 1024",
    );
    let answer = site.post(
        &alice,
        json!({"to": bob.id, "type": "x", "data": "y".repeat(600)}),
    );
    assert_eq!(answer.status, 202);
    let answer = site.post(
        &alice,
        json!({"to": bob.id, "type": "x", "data": "y".repeat(600)}),
    );
    assert_eq!(answer.header("Retry-After"), Some("2"));
    check(answer, 429, "too many unread messages");
    check(
        site.post(&alice, json!({"type": "x", "oops": 1})),
        400,
        "unknown field",
    );
}

#[test]
fn a_huge_content_length_is_refused_before_reading() {
    let site = Site::new();
    let alice = site.join("r");
    let query = format!("mode=post&room=r&peer={}&token={}", alice.id, alice.token);
    let answer = site.run(
        &mut site.command("POST", &query, &[("CONTENT_LENGTH", "1000000000000")]),
        b"",
    );
    assert_eq!(answer.status, 413);
    assert!(answer.error().contains("1000000000000"));
    let answer = site.run(
        &mut site.command(
            "POST",
            &query,
            &[("CONTENT_LENGTH", "99999999999999999999999")],
        ),
        b"",
    );
    assert_eq!(answer.status, 400);
}

#[test]
fn a_body_shorter_than_its_content_length_is_refused_and_stores_nothing() {
    let site = Site::new();
    let alice = site.join("r");
    let bob = site.join("r");
    let query = format!("mode=post&room=r&peer={}&token={}", alice.id, alice.token);
    let answer = site.run(
        &mut site.command("POST", &query, &[("CONTENT_LENGTH", "500")]),
        br#"{"type":"x"}"#,
    );
    assert_eq!(answer.status, 400);
    assert!(
        answer.error().contains("ended after 12 of its 500 bytes"),
        "{answer:?}"
    );
    assert!(from_and_type(&site.poll(&bob, None)).is_empty());
}

#[test]
fn hostile_values_in_every_parameter_get_a_clear_4xx_and_touch_nothing() {
    let site = Site::new();
    let alice = site.join("r");
    for value in HOSTILE_VALUES {
        let queries = [
            format!("room={value}"),
            format!("mode=join&room={value}"),
            format!(
                "mode=sse&room={value}&peer={}&token={}",
                alice.id, alice.token
            ),
            format!("mode=sse&room=r&peer={value}&token={}", alice.token),
            format!("mode=sse&room=r&peer={}&token={value}", alice.id),
            format!(
                "mode=sse&room=r&peer={}&token={}&last={value}",
                alice.id, alice.token
            ),
            format!("mode={value}&room=r"),
            format!("asset={value}"),
        ];
        for query in queries {
            let method = if query.starts_with("mode=join") {
                "POST"
            } else {
                "GET"
            };
            let answer = site.request(method, &query, b"");
            assert!(
                (400..500).contains(&answer.status),
                "{query}: {} {}",
                answer.status,
                answer.body
            );
            assert!(
                !answer.headers.contains_key("set-cookie"),
                "{query}: a header was injected"
            );
        }
    }
    // Only the one real room exists; nothing was created outside the data directory.
    let rooms: Vec<_> = std::fs::read_dir(site.data_dir().join("rooms"))
        .unwrap()
        .flatten()
        .map(|entry| entry.file_name())
        .collect();
    assert_eq!(rooms, vec!["r"]);
    let top: Vec<_> = std::fs::read_dir(site.dir.path())
        .unwrap()
        .flatten()
        .map(|entry| entry.file_name().into_string().unwrap())
        .collect();
    assert_eq!(top.len(), 2, "{top:?}");
}

#[test]
fn duplicate_and_unknown_parameters_are_refused() {
    let site = Site::new();
    let alice = site.join("r");
    let duplicate = format!(
        "mode=sse&room=r&room=r&peer={}&token={}",
        alice.id, alice.token
    );
    let answer = site.request("GET", &duplicate, b"");
    assert_eq!(answer.status, 400);
    assert!(answer.error().contains("more than once"));
    let many: String = (0..10_000).map(|n| format!("p{n}=1&")).collect();
    let answer = site.request("GET", &many, b"");
    assert_eq!(answer.status, 400);
    assert!(answer.body.contains("longer than"), "{}", answer.body);
}

#[test]
fn the_page_mode_answers_errors_as_html() {
    let site = Site::new();
    let answer = site.request("GET", "room=..%2f", b"");
    assert_eq!(answer.status, 400);
    assert!(answer
        .header("Content-Type")
        .unwrap()
        .starts_with("text/html"));
    assert!(answer.body.contains("room name"));
}

#[test]
fn invalid_settings_are_a_500_that_names_the_problem() {
    let site = Site::with_settings(json!({"hold_seconds": 999}));
    let answer = site.request("GET", "room=r", b"");
    assert_eq!(answer.status, 500);
    assert!(
        answer.body.contains("hold_seconds must be from 0 to 50"),
        "{}",
        answer.body
    );
    assert!(!answer.body.contains("999"), "the value is not shown");
    std::fs::write(site.dir.path().join("webrtc.json"), "{\"max_peer\": 3}").unwrap();
    let answer = site.request("POST", "mode=join&room=r", b"");
    assert_eq!(answer.status, 500);
    assert!(
        answer.error().contains("unknown field `max_peer`"),
        "{answer:?}"
    );
}

#[test]
fn the_data_directory_is_private_and_denied_to_the_web() {
    use std::os::unix::fs::PermissionsExt;
    let site = Site::new();
    site.join("r");
    let mode = |path: &Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&site.data_dir()), 0o700);
    for file in site.files_under(&site.data_dir()) {
        assert_eq!(mode(&file), 0o600, "{}", file.display());
    }
    let htaccess = std::fs::read_to_string(site.data_dir().join(".htaccess")).unwrap();
    assert!(htaccess.contains("Require all denied"));
}

#[test]
fn a_stuck_lock_is_answered_503_with_a_retry_hint() {
    use fs2::FileExt;
    let site = Site::new();
    let alice = site.join("r");
    let lock = std::fs::File::open(site.data_dir().join("rooms/r/lock")).unwrap();
    lock.lock_exclusive().unwrap();
    let started = Instant::now();
    let answer = site.post(&alice, json!({"type": "x"}));
    assert_eq!(answer.status, 503);
    assert_eq!(answer.header("Retry-After"), Some("1"));
    assert!(answer.error().contains("locked"));
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "the wait is bounded"
    );
    drop(lock);
    assert_eq!(site.post(&alice, json!({"type": "x"})).status, 202);
}

/// Many processes post to one recipient at once while its SSE requests come and go,
/// acknowledging with Last-Event-ID: every message arrives exactly once, in each sender's
/// order, and nothing is left behind.
#[test]
fn concurrent_senders_and_a_reconnecting_reader_lose_and_duplicate_nothing() {
    const SENDERS: usize = 6;
    const MESSAGES: usize = 25;
    let site = Site::with_settings(json!({"hold_seconds": 1, "max_peers": 8}));
    let reader = site.join("busy");
    let senders: Vec<Peer> = (0..SENDERS).map(|_| site.join("busy")).collect();
    let site = std::sync::Arc::new(site);
    let threads: Vec<_> = senders
        .iter()
        .cloned()
        .map(|sender| {
            let site = site.clone();
            let to = reader.id.clone();
            std::thread::spawn(move || {
                for n in 0..MESSAGES {
                    let answer = site.post(&sender, json!({"to": to, "type": "seq", "data": n}));
                    assert_eq!(answer.status, 202, "{answer:?}");
                }
            })
        })
        .collect();
    let mut received: Vec<Event> = Vec::new();
    let mut last: Option<u64> = None;
    let deadline = Instant::now() + Duration::from_secs(120);
    while received
        .iter()
        .filter(|event| event.data["type"] == "seq")
        .count()
        < SENDERS * MESSAGES
    {
        assert!(
            Instant::now() < deadline,
            "messages missing after two minutes"
        );
        let events = site.poll(&reader, last);
        // Acknowledge only part of what came, as a cut-off response would.
        let keep = events.len().div_ceil(2);
        for event in events.into_iter().take(keep) {
            assert!(
                last.is_none_or(|last| event.id.unwrap() > last),
                "ids go up"
            );
            last = event.id;
            received.push(event);
        }
    }
    for thread in threads {
        thread.join().unwrap();
    }
    let mut ids: Vec<u64> = received.iter().map(|event| event.id.unwrap()).collect();
    let count = ids.len();
    ids.dedup();
    assert_eq!(ids.len(), count, "no id delivered twice");
    for sender in &senders {
        let sequence: Vec<i64> = received
            .iter()
            .filter(|event| event.data["from"] == sender.id.as_str() && event.data["type"] == "seq")
            .map(|event| event.data["data"].as_i64().unwrap())
            .collect();
        assert_eq!(
            sequence,
            (0..MESSAGES as i64).collect::<Vec<_>>(),
            "in order, exactly once"
        );
    }
    assert!(site.poll(&reader, last).is_empty());
    site.leave(&reader);
    for sender in &senders {
        site.leave(sender);
    }
    assert!(site.files_under(&site.data_dir().join("rooms")).is_empty());
}

#[test]
fn join_hands_out_time_limited_turn_credentials_and_ice_renews_them() {
    use hmac::{Hmac, Mac};
    let secret = "s3cret-shared-with-coturn";
    let site = Site::with_settings(json!({
        "turn": {"urls": ["turn:127.0.0.1:3478"], "secret": secret, "ttl_seconds": 600}
    }));
    let answer = site.request("POST", "mode=join&room=r", b"");
    assert!(
        !answer.body.contains(secret),
        "the secret never reaches a browser"
    );
    let json = answer.json();
    let peer = json["peer"].as_str().unwrap();
    let servers = json["iceServers"].as_array().unwrap();
    let turn = servers
        .iter()
        .find(|server| server["urls"][0] == "turn:127.0.0.1:3478")
        .unwrap();
    let username = turn["username"].as_str().unwrap();
    let (expiry, user_peer) = username.split_once(':').unwrap();
    assert_eq!(user_peer, peer);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let expiry: u64 = expiry.parse().unwrap();
    assert!(
        (now + 590..=now + 610).contains(&expiry),
        "expires in ttl_seconds"
    );
    assert_eq!(json["iceServersExpireAt"], expiry);
    // coturn computes the same: base64(HMAC-SHA1(secret, username)).
    let mut mac = Hmac::<sha1::Sha1>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(username.as_bytes());
    let digest = mac.finalize().into_bytes();
    let credential = turn["credential"].as_str().unwrap();
    assert_eq!(credential.len(), 28);
    assert_eq!(decode_base64(credential), digest.to_vec());

    let token = json["token"].as_str().unwrap();
    let renewed = site.request(
        "GET",
        &format!("mode=ice&room=r&peer={peer}&token={token}"),
        b"",
    );
    assert_eq!(renewed.status, 200, "{renewed:?}");
    assert!(renewed.json()["iceServers"]
        .as_array()
        .unwrap()
        .iter()
        .any(|server| server["username"].is_string()));
    let refused = site.request(
        "GET",
        &format!("mode=ice&room=r&peer={peer}&token=wrong"),
        b"",
    );
    assert_eq!(refused.status, 403);
}

fn decode_base64(text: &str) -> Vec<u8> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut bits = 0u32;
    let mut count = 0;
    let mut bytes = Vec::new();
    for c in text.bytes().filter(|&c| c != b'=') {
        bits = bits << 6 | ALPHABET.iter().position(|&a| a == c).unwrap() as u32;
        count += 6;
        if count >= 8 {
            count -= 8;
            bytes.push((bits >> count) as u8);
        }
    }
    bytes
}

#[test]
fn the_self_check_page_reports_a_working_data_directory_and_exposes_no_paths() {
    let site = Site::new();
    let answer = site.request("GET", "mode=check", b"");
    assert_eq!(answer.status, 200);
    assert!(
        answer.body.contains("writable, and locking works"),
        "{}",
        answer.body
    );
    assert!(answer.body.contains("webrtc.json found and valid"));
    let dir = site.dir.path().to_string_lossy().into_owned();
    assert!(!answer.body.contains(&dir), "no full paths on the page");
    assert!(answer.header("Content-Security-Policy").is_some());
    assert!(
        site.files_under(&site.data_dir().join("rooms")).is_empty(),
        "the self-test cleans up"
    );
}

#[test]
fn the_streaming_probe_spaces_its_events_in_time() {
    let site = Site::new();
    let answer = site.request("GET", "mode=probe", b"");
    assert_eq!(answer.header("Content-Type"), Some("text/event-stream"));
    let times: Vec<u64> = parse_events(&answer.body)
        .iter()
        .filter(|event| event.name.as_deref() == Some("tick"))
        .map(|event| event.data["t"].as_u64().unwrap())
        .collect();
    assert_eq!(times.len(), 5);
    assert!(times[4] - times[0] >= 1500, "ticks 400 ms apart: {times:?}");
}

/// Apache sleeps 10 ms before a connection's next request whenever the process it started
/// still exists when the output ends (ARCHITECTURE.md, "Ending a request"). So the output of every mode,
/// streams included, must end only after that process has exited.
#[test]
fn the_started_process_has_exited_when_the_output_ends() {
    let site = Site::new();
    let alice = site.join("exit");
    let bob = site.join("exit");
    let message = serde_json::to_vec(&json!({"to": bob.id, "type": "note"})).unwrap();
    let alice_query = format!(
        "mode=post&room=exit&peer={}&token={}",
        alice.id, alice.token
    );
    let bob_query = format!(
        "mode=sse&room=exit&peer={}&token={}&hold=0",
        bob.id, bob.token
    );
    let length = message.len().to_string();
    let post_headers = [
        ("CONTENT_TYPE", "application/json"),
        ("CONTENT_LENGTH", length.as_str()),
    ];
    let cases = [
        ("GET", "room=exit", &b""[..], &[][..]),
        ("GET", "asset=icon.svg", b"", &[]),
        ("POST", "mode=join&room=exit", b"", &[]),
        ("POST", &alice_query, &message, &post_headers),
        ("GET", &bob_query, b"", &[]),
        ("GET", "mode=nonsense", b"", &[]),
    ];
    for (method, query, body, headers) in cases {
        for _ in 0..20 {
            let mut child = site
                .command(method, query, headers)
                .spawn()
                .expect("the executable runs");
            let mut stdin = child.stdin.take().unwrap();
            let _ = std::io::Write::write_all(&mut stdin, body);
            drop(stdin);
            let mut output = Vec::new();
            child
                .stdout
                .take()
                .unwrap()
                .read_to_end(&mut output)
                .unwrap();
            let exited = child.try_wait().unwrap();
            assert!(
                exited.is_some(),
                "{method} ?{query}: the output ended while the process still ran"
            );
            assert!(exited.unwrap().success());
            assert!(
                output.starts_with(b"Status: "),
                "{method} ?{query}: {}",
                String::from_utf8_lossy(&output)
            );
        }
    }
}
