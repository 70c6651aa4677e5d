//! Who may see and do what: a peer cannot read, post or leave as another, a token appears
//! only in its owner's join answer, every answer carries the security headers, and rooms
//! cannot be listed or told apart from ones that never existed.

use std::collections::{HashMap, HashSet};

use serde_json::json;

use crate::site::*;

/// A peer can neither read another peer's stream nor post or leave as another, with a
/// wrong, missing or borrowed token (403), nor act in a room it is not in (404).
#[test]
fn a_peer_cannot_read_post_or_leave_as_another() {
    let site = Site::new();
    let alice = site.join("r");
    let bob = site.join("r");
    let eve = site.join("r");
    let outsider = site.join("other");
    assert_eq!(
        site.post(
            &alice,
            json!({"to": bob.id, "type": "private", "data": "for bob"})
        )
        .status,
        202
    );
    let as_bob = |token: &str| Peer {
        room: "r".into(),
        id: bob.id.clone(),
        token: token.to_string(),
    };
    let forged_tokens = [
        eve.token.clone(),
        alice.token.clone(),
        outsider.token.clone(),
        bob.token[..21].to_string(),
        format!("{}A", bob.token),
        bob.token.to_ascii_lowercase(),
        "A".repeat(22),
    ];
    for token in &forged_tokens {
        if *token == bob.token {
            continue;
        }
        let forged = as_bob(token);
        let read = site.sse(&forged, None, 0);
        assert_eq!(read.status, 403, "{token}: {read:?}");
        assert!(!read.body.contains("for bob"));
        let posted = site.post(&forged, json!({"to": alice.id, "type": "spoof"}));
        assert_eq!(posted.status, 403, "{token}: {posted:?}");
        assert_eq!(site.leave(&forged).status, 403);
        let ice = site.request("GET", &query_of(&forged, "ice"), b"");
        assert_eq!(ice.status, 403, "{token}: {ice:?}");
    }
    for mode in ["sse", "ice"] {
        let query = format!("mode={mode}&room=r&peer={}", bob.id);
        assert_eq!(site.request("GET", &query, b"").status, 403);
        let query = format!("mode={mode}&room=r&peer={}&token=", bob.id);
        assert_eq!(site.request("GET", &query, b"").status, 403);
    }
    let answer = site.request(
        "POST",
        &format!("mode=post&room=r&peer={}", bob.id),
        br#"{"type":"spoof"}"#,
    );
    assert_eq!(answer.status, 403);
    // A real peer of another room, with its own valid token, is a stranger here.
    let stranger = Peer {
        room: "r".into(),
        ..outsider.clone()
    };
    assert_eq!(site.sse(&stranger, None, 0).status, 404);
    assert_eq!(site.post(&stranger, json!({"type": "x"})).status, 404);

    // Nothing forged arrived, Bob's message is still his, and he is still in the room.
    let alice_events = poll_events(&site, &alice, None);
    assert!(alice_events.iter().all(|(_, data)| data["type"] != "spoof"));
    let bob_events = poll_events(&site, &bob, None);
    assert!(bob_events.iter().any(|(_, data)| data["data"] == "for bob"));
}

/// Runs a request and keeps its raw answer under a label, for checks over all answers.
struct Recorder<'a> {
    site: &'a Site,
    answers: Vec<(String, Vec<u8>)>,
}

impl Recorder<'_> {
    fn run(&mut self, label: &str, method: &str, query: &str, body: &[u8]) -> Answer {
        let length = body.len().to_string();
        let output = run_raw(
            &mut self
                .site
                .command(method, query, &[("CONTENT_LENGTH", length.as_str())]),
            body,
        );
        self.answers.push((label.to_string(), output.clone()));
        parse_answer(&output)
    }

    fn join(&mut self, room: &str) -> Peer {
        let answer = self.run(
            &format!("join {room}"),
            "POST",
            &format!("mode=join&room={room}"),
            b"",
        );
        assert_eq!(answer.status, 200);
        let json = answer.json();
        let peer = Peer {
            room: room.to_string(),
            id: json["peer"].as_str().unwrap().to_string(),
            token: json["token"].as_str().unwrap().to_string(),
        };
        let label = format!("join of {}", peer.id);
        self.answers.last_mut().unwrap().0 = label;
        peer
    }
}

/// Over a whole session (joins, messages, streams, leaves, errors, the page, assets, the
/// self-check), a token appears only in its owner's join answer, every answer carries
/// nosniff and no-referrer, and the page's policy allows no inline code.
#[test]
fn tokens_appear_only_in_their_owners_join_and_every_answer_carries_the_security_headers() {
    let site = Site::with_settings(json!({"hold_seconds": 1}));
    let mut recorder = Recorder {
        site: &site,
        answers: Vec::new(),
    };
    let alice = recorder.join("r");
    let bob = recorder.join("r");
    let carol = recorder.join("r");
    let message = json!({"to": bob.id, "type": "offer", "data": {"sdp": "v=0"}}).to_string();
    recorder.run("post", "POST", &message_query(&alice), message.as_bytes());
    let broadcast = json!({"type": "hi"}).to_string();
    recorder.run(
        "broadcast",
        "POST",
        &message_query(&bob),
        broadcast.as_bytes(),
    );
    for peer in [&alice, &bob, &carol] {
        recorder.run(
            "poll",
            "GET",
            &format!("{}&hold=0", query_of(peer, "sse")),
            b"",
        );
        recorder.run("held", "GET", &query_of(peer, "sse"), b"");
        recorder.run("ice", "GET", &query_of(peer, "ice"), b"");
    }
    let wrong = format!("mode=post&room=r&peer={}&token={}", bob.id, alice.token);
    recorder.run("wrong token", "POST", &wrong, broadcast.as_bytes());
    let wrong_sse = format!(
        "mode=sse&room=r&peer={}&token={}&hold=0",
        alice.id, bob.token
    );
    recorder.run("wrong token sse", "GET", &wrong_sse, b"");
    let long_last = format!("{}&hold=0&last=99", query_of(&carol, "sse"));
    recorder.run("last ahead", "GET", &long_last, b"");
    let unknown_field = format!(
        "mode=sse&room=r&peer={}&token={}&x=1",
        alice.id, alice.token
    );
    recorder.run("unknown parameter", "GET", &unknown_field, b"");
    recorder.run("bad json", "POST", &message_query(&carol), b"{");
    recorder.run("wrong method", "GET", &message_query(&carol), b"");
    recorder.run("new room", "GET", "", b"");
    let page = recorder.run("page", "GET", "room=r", b"");
    recorder.run("page error", "GET", "room=%2e%2e", b"");
    recorder.run("check", "GET", "mode=check", b"");
    recorder.run("probe", "GET", "mode=probe", b"");
    recorder.run("unknown asset", "GET", "asset=nope.js", b"");
    for asset in page
        .body
        .split("asset=")
        .skip(1)
        .filter_map(|rest| rest.split(['&', '"', '\'']).next())
        .collect::<HashSet<_>>()
    {
        recorder.run("asset", "GET", &format!("asset={asset}"), b"");
    }
    recorder.run("leave", "POST", &query_of(&carol, "leave"), b"");
    recorder.run(
        "after leave",
        "GET",
        &format!("{}&hold=0", query_of(&carol, "sse")),
        b"",
    );

    let joins: HashMap<&str, &str> = [&alice, &bob, &carol]
        .iter()
        .map(|peer| (peer.token.as_str(), peer.id.as_str()))
        .collect();
    assert!(recorder.answers.len() > 25);
    for (label, output) in &recorder.answers {
        let text = String::from_utf8_lossy(output);
        for (token, owner) in &joins {
            if text.contains(token) {
                assert_eq!(
                    label,
                    &format!("join of {owner}"),
                    "{owner}'s token appears in the answer to {label}"
                );
            }
        }
        let head = header_block(output);
        assert!(
            head.contains("\r\nX-Content-Type-Options: nosniff"),
            "{label}: {head}"
        );
        assert!(
            head.contains("\r\nReferrer-Policy: no-referrer"),
            "{label}: {head}"
        );
        let answer = parse_answer(output);
        if let Some(policy) = answer.header("Content-Security-Policy") {
            assert!(!policy.contains("unsafe-inline"), "{label}: {policy}");
            assert!(!policy.contains("unsafe-eval"), "{label}: {policy}");
        } else {
            // A redirect's body is never shown; every page a browser renders has a policy.
            let html = answer
                .header("Content-Type")
                .is_some_and(|kind| kind.starts_with("text/html"));
            assert!(
                !html || answer.status == 303,
                "{label}: an HTML answer without a Content-Security-Policy"
            );
        }
    }
}

/// No request lists rooms, and a room's existence does not show: probes of an existing room
/// and of one that never existed get the same answers, and probing creates nothing.
#[test]
fn rooms_cannot_be_listed_and_unknown_rooms_look_empty() {
    let site = Site::new();
    let room = "team-Qx7rW2";
    let alice = site.join(room);
    let probes = [
        ("GET", "mode=list"),
        ("GET", "mode=rooms"),
        ("GET", "mode=check"),
        ("GET", "mode=probe"),
        ("GET", "asset=..%2fdata%2frooms"),
        ("GET", "room=*"),
        ("GET", ""),
        ("POST", "mode=join&room=*"),
    ];
    for (method, query) in probes {
        let answer = site.request(method, query, b"");
        assert!(
            !answer.body.contains(room) && !answer.body.contains(&alice.id),
            "{query} shows a room: {}",
            answer.body
        );
    }

    let stranger = |room: &str| Peer {
        room: room.to_string(),
        id: "AAAAAAAAAAAA".into(),
        token: "B".repeat(22),
    };
    let existing = stranger(room);
    let unknown = stranger("never-Zz9k2L");
    let strip = |answer: Answer, room: &str| (answer.status, answer.body.replace(room, "ROOM"));
    assert_eq!(
        strip(site.sse(&existing, None, 0), room),
        strip(site.sse(&unknown, None, 0), "never-Zz9k2L")
    );
    assert_eq!(
        strip(site.post(&existing, json!({"type": "x"})), room),
        strip(site.post(&unknown, json!({"type": "x"})), "never-Zz9k2L")
    );
    assert_eq!(
        strip(site.leave(&existing), room),
        strip(site.leave(&unknown), "never-Zz9k2L")
    );
    assert_eq!(
        site.request("GET", &format!("room={room}"), b"").body,
        site.request("GET", "room=never-Zz9k2L", b"").body,
        "the page is the same for every room"
    );
    let rooms: Vec<_> = std::fs::read_dir(site.data_dir().join("rooms"))
        .unwrap()
        .flatten()
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(rooms, [room], "probing an unknown room created it");
    // An unknown room is an empty room: joining it finds no one.
    let answer = site.request("POST", "mode=join&room=never-Zz9k2L", b"");
    assert_eq!(answer.json()["peers"], json!([]));
}

/// A settings error is a 500 page that visitors see: it names the key and what it must
/// hold, never the value, which may be the TURN secret.
#[test]
fn a_secret_in_a_bad_setting_never_reaches_the_error_page() {
    let secret = "the-turn-secret-of-this-site";
    for settings in [
        json!({ "turn": secret }),
        json!({ "turn": { "urls": secret, "secret": secret } }),
        json!({ "turn": { "urls": "turn:t.example", "secret": [secret] } }),
        json!({ "hold_seconds": secret }),
    ] {
        let site = Site::with_settings(settings.clone());
        for (method, query) in [("GET", "room=r"), ("POST", "mode=join&room=r")] {
            let answer = site.request(method, query, b"");
            assert_eq!(answer.status, 500, "{settings}: {answer:?}");
            assert!(answer.body.contains("turn") || answer.body.contains("hold_seconds"));
            assert!(!answer.body.contains(secret), "{settings}: {answer:?}");
        }
    }
}

/// API modes refuse what a browser sends for another site's page (`Sec-Fetch-Site:
/// cross-site`, a foreign or `null` Origin) with a 403 that says why, and the room sees no
/// ghost peer; the page's own requests (same origin, with or without the default port) and
/// header-less clients (curl, old browsers) still work, and so does opening the page from a
/// link on another site.
#[test]
fn cross_site_requests_are_refused_and_same_site_ones_work() {
    let site = Site::new();
    let host = ("HTTP_HOST", "chat.example.org");
    let alice = site.join("r");
    let join = "mode=join&room=r";
    let length = ("CONTENT_LENGTH", "0");
    for headers in [
        vec![host, length, ("HTTP_SEC_FETCH_SITE", "cross-site")],
        vec![host, length, ("HTTP_ORIGIN", "https://evil.example")],
        vec![
            host,
            length,
            ("HTTP_ORIGIN", "https://chat.example.org.evil.example"),
        ],
        vec![host, length, ("HTTP_ORIGIN", "null")],
        vec![length, ("HTTP_ORIGIN", "https://chat.example.org")],
        // A Host without its port is completed by the port the request came to, not any.
        vec![
            ("HTTP_HOST", "127.0.0.1"),
            ("SERVER_PORT", "8080"),
            length,
            ("HTTP_ORIGIN", "http://127.0.0.1:9090"),
        ],
    ] {
        let answer = site.run(&mut site.command("POST", join, &headers), b"");
        assert_eq!(answer.status, 403, "{answer:?}");
        assert!(answer.error().contains("cross-site"), "{answer:?}");
    }
    let sse = format!("{}&hold=0", query_of(&alice, "sse"));
    let answer = site.run(
        &mut site.command("GET", &sse, &[host, ("HTTP_SEC_FETCH_SITE", "cross-site")]),
        b"",
    );
    assert_eq!(answer.status, 403, "{answer:?}");
    let answer = site.run(
        &mut site.command(
            "GET",
            "mode=probe",
            &[host, ("HTTP_ORIGIN", "https://evil.example")],
        ),
        b"",
    );
    assert_eq!(answer.status, 403, "{answer:?}");
    assert!(
        poll_events(&site, &alice, None).is_empty(),
        "no ghost peer joined"
    );

    for headers in [
        vec![
            host,
            length,
            ("HTTP_ORIGIN", "https://chat.example.org"),
            ("HTTP_SEC_FETCH_SITE", "same-origin"),
        ],
        vec![
            host,
            length,
            ("HTTP_ORIGIN", "https://CHAT.example.org:443"),
        ],
        vec![
            ("HTTP_HOST", "127.0.0.1:8080"),
            length,
            ("HTTP_ORIGIN", "http://127.0.0.1:8080"),
        ],
        vec![host, length, ("HTTP_SEC_FETCH_SITE", "same-site")],
        vec![length],
    ] {
        let answer = site.run(&mut site.command("POST", join, &headers), b"");
        assert_eq!(answer.status, 200, "{answer:?}");
    }
    assert_eq!(
        poll_events(&site, &alice, None).len(),
        5,
        "every same-site join was announced"
    );
    // nginx's fastcgi_params pass `$host`, without the port: the port the request came to
    // completes it (a room of its own, as the one above is full now).
    let nginx = [
        ("HTTP_HOST", "127.0.0.1"),
        ("SERVER_PORT", "8080"),
        length,
        ("HTTP_ORIGIN", "http://127.0.0.1:8080"),
    ];
    let answer = site.run(&mut site.command("POST", "mode=join&room=r2", &nginx), b"");
    assert_eq!(answer.status, 200, "{answer:?}");
    // A link from another site opens the page: that is a navigation, not an API call.
    let answer = site.run(
        &mut site.command(
            "GET",
            "room=r",
            &[host, ("HTTP_SEC_FETCH_SITE", "cross-site")],
        ),
        b"",
    );
    assert_eq!(answer.status, 200, "{answer:?}");
}

/// post, leave and ice take the token in an `X-Peer-Token` header (kept out of URLs and so
/// out of access logs), leave also in a `{"token"}` body (what `sendBeacon` can send); the
/// query form still works for old clients and the event stream. A wrong header token is a
/// 403, and two different tokens a 400.
#[test]
fn the_token_is_taken_from_a_header_or_a_beacon_body() {
    let site = Site::new();
    let alice = site.join("r");
    let bob = site.join("r");
    let post_query = format!("mode=post&room=r&peer={}", alice.id);
    let body = json!({"type": "hello", "data": "via header"}).to_string();
    let length = body.len().to_string();
    let (name, token) = ("HTTP_X_PEER_TOKEN", alice.token.clone());
    let answer = site.run(
        &mut site.command(
            "POST",
            &post_query,
            &[("CONTENT_LENGTH", &length), (name, &token)],
        ),
        body.as_bytes(),
    );
    assert_eq!(answer.status, 202, "{answer:?}");
    let events = poll_events(&site, &bob, None);
    assert_eq!(events.last().unwrap().1["data"], "via header");

    let answer = site.run(
        &mut site.command(
            "POST",
            &post_query,
            &[("CONTENT_LENGTH", &length), (name, &bob.token)],
        ),
        body.as_bytes(),
    );
    assert_eq!(answer.status, 403, "{answer:?}");
    let answer = site.run(
        &mut site.command(
            "POST",
            &format!("{post_query}&token={}", alice.token),
            &[("CONTENT_LENGTH", &length), (name, &bob.token)],
        ),
        body.as_bytes(),
    );
    assert_eq!(answer.status, 400, "{answer:?}");
    assert!(answer.error().contains("twice"), "{answer:?}");

    let ice = format!("mode=ice&room=r&peer={}", alice.id);
    let answer = site.run(&mut site.command("GET", &ice, &[(name, &token)]), b"");
    assert_eq!(answer.status, 200, "{answer:?}");
    assert!(answer.json()["iceServers"].is_array());

    let beacon = json!({ "token": bob.token }).to_string();
    let answer = site.request(
        "POST",
        &format!("mode=leave&room=r&peer={}", bob.id),
        beacon.as_bytes(),
    );
    assert_eq!(answer.status, 200, "{answer:?}");
    let events = poll_events(&site, &alice, None);
    assert!(
        events
            .iter()
            .any(|(_, data)| data["type"] == "leave" && data["from"] == bob.id.as_str()),
        "{events:?}"
    );
    let answer = site.request(
        "POST",
        &format!("mode=leave&room=r&peer={}", alice.id),
        b"{\"token\": \"not-hers\"}",
    );
    assert_eq!(answer.status, 403, "{answer:?}");
    let answer = site.run(
        &mut site.command(
            "POST",
            &format!("mode=leave&room=r&peer={}", alice.id),
            &[("CONTENT_LENGTH", "0"), (name, &token)],
        ),
        b"",
    );
    assert_eq!(answer.status, 200, "{answer:?}");
}

/// Over https every answer (the page, an API answer, an event stream, an error) carries
/// `Strict-Transport-Security`; over plain http none does, as browsers ignore it there and
/// a local test must not pin a host to https. The page isolates itself from pages it opens
/// (`Cross-Origin-Opener-Policy`).
#[test]
fn answers_over_https_carry_hsts_and_the_page_isolates_its_opener() {
    let site = Site::new();
    let alice = site.join("r");
    let sse = format!("{}&hold=0", query_of(&alice, "sse"));
    let requests: [(&str, &str); 4] = [
        ("GET", "room=r"),
        ("GET", sse.as_str()),
        ("POST", "mode=join&room=r"),
        ("GET", "mode=teleport"),
    ];
    for (method, query) in requests {
        for (https, expected) in [("on", Some("max-age=31536000")), ("off", None)] {
            let answer = site.run(
                &mut site.command(method, query, &[("HTTPS", https), ("CONTENT_LENGTH", "0")]),
                b"",
            );
            assert_eq!(
                answer.header("strict-transport-security"),
                expected,
                "{answer:?}"
            );
        }
    }
    let page = site.request("GET", "room=r", b"");
    assert_eq!(
        page.header("cross-origin-opener-policy"),
        Some("same-origin")
    );
}
