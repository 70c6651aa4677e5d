//! Sealed rooms (PROTOCOL.md, "Sealed rooms"): the join's `sealed` parameter, the refusal of
//! unsealed posts to a sealed room, and a data directory that keeps what it was given and
//! nothing more.

use std::collections::BTreeSet;

use serde_json::{json, Value};

use crate::site::*;

/// A sealed body as a client makes it: base64 the server never reads.
const SEALED: &str = "q83vASNFZ4mrze8BI0VniavN7wEjRWeJq83vASNFZ4k=";

/// Joins `room` asking for a sealed room; returns the peer and the answer's `sealed`.
fn join_sealed(site: &Site, room: &str) -> (Peer, Value) {
    let answer = site.request("POST", &format!("mode=join&room={room}&sealed=1"), b"");
    assert_eq!(answer.status, 200, "{answer:?}");
    let json = answer.json();
    let text = |key: &str| json[key].as_str().unwrap_or_default().to_string();
    let peer = Peer {
        room: room.to_string(),
        id: text("peer"),
        token: text("token"),
    };
    (peer, json["sealed"].clone())
}

fn sealed_message(to: &Peer) -> Value {
    json!({ "to": to.id, "type": "sealed", "data": { "sealed": SEALED } })
}

#[test]
fn the_first_joiner_seals_a_room_and_every_joiner_is_told() {
    let site = Site::new();
    let (_first, sealed) = join_sealed(&site, "sealed1");
    assert_eq!(sealed, json!(true));
    let later = site.request("POST", "mode=join&room=sealed1", b"");
    assert_eq!(later.status, 200, "{later:?}");
    assert_eq!(
        later.json()["sealed"],
        json!(true),
        "a joiner without the key learns the room is sealed"
    );

    let _open = site.join("open1");
    let (_late, sealed) = join_sealed(&site, "open1");
    assert_eq!(
        sealed,
        json!(false),
        "a room its first joiner left open stays open"
    );
}

#[test]
fn sealed_takes_only_the_value_1() {
    let site = Site::new();
    for value in ["0", "yes", "true"] {
        let answer = site.request(
            "POST",
            &format!("mode=join&room=sealed2&sealed={value}"),
            b"",
        );
        assert_eq!(answer.status, 400, "sealed={value}: {answer:?}");
        assert!(answer.error().contains("sealed"), "{answer:?}");
    }
}

#[test]
fn a_sealed_room_refuses_unsealed_posts_and_says_why() {
    let site = Site::new();
    let (alice, _) = join_sealed(&site, "sealed3");
    let (bob, _) = join_sealed(&site, "sealed3");
    let unsealed = [
        json!({ "to": bob.id, "type": "description", "data": { "type": "offer", "sdp": "v=0\r\n" } }),
        json!({ "to": bob.id, "type": "candidates", "data": [{ "candidate": "candidate:1 1 udp 1 10.0.0.2 5000 typ host" }] }),
        json!({ "to": bob.id, "type": "sealed" }),
        json!({ "to": bob.id, "type": "sealed", "data": SEALED }),
        json!({ "to": bob.id, "type": "sealed", "data": { "sealed": "not base64!" } }),
        json!({ "to": bob.id, "type": "sealed", "data": { "sealed": "" } }),
        json!({ "to": bob.id, "type": "sealed", "data": { "sealed": SEALED, "sdp": "v=0" } }),
        json!({ "to": bob.id, "type": "reset", "data": { "sealed": SEALED } }),
    ];
    for message in unsealed {
        let answer = site.post(&alice, message.clone());
        assert_eq!(answer.status, 400, "{message}: {answer:?}");
        assert!(
            answer.error().contains("this room is sealed"),
            "the refusal names why: {answer:?}"
        );
    }
    assert!(
        site.poll(&bob, None).is_empty(),
        "nothing refused reached the recipient"
    );

    let answer = site.post(&alice, sealed_message(&bob));
    assert_eq!(answer.status, 202, "{answer:?}");
    let events = site.poll(&bob, None);
    let data: Vec<&Value> = events.iter().map(|event| &event.data).collect();
    assert_eq!(
        data,
        [&json!({ "from": alice.id, "type": "sealed", "data": { "sealed": SEALED } })]
    );
}

#[test]
fn a_room_without_sealing_takes_any_post_as_before() {
    let site = Site::new();
    let alice = site.join("open2");
    let bob = site.join("open2");
    let message = json!({ "to": bob.id, "type": "description", "data": { "sdp": "v=0" } });
    let answer = site.post(&alice, message);
    assert_eq!(answer.status, 202, "{answer:?}");
    let peers_file = site.data_dir().join("rooms/open2/peers.json");
    let state: Value = serde_json::from_slice(&std::fs::read(&peers_file).unwrap()).unwrap();
    assert!(
        state.get("sealed").is_none(),
        "an open room's file is as before sealing existed: {state}"
    );
}

#[test]
fn the_server_stores_what_it_was_given_and_nothing_more() {
    let site = Site::new();
    let (alice, _) = join_sealed(&site, "sealed4");
    let (bob, _) = join_sealed(&site, "sealed4");
    assert_eq!(site.post(&alice, sealed_message(&bob)).status, 202);

    let room_dir = site.data_dir().join("rooms/sealed4");
    let names: BTreeSet<String> = site
        .files_under(&room_dir)
        .iter()
        .filter_map(|path| path.file_name()?.to_str().map(str::to_string))
        .collect();
    let per_peer = |prefix: &str| [&alice, &bob].map(|peer| format!("{prefix}{}", peer.id));
    let required: BTreeSet<String> = ["lock".to_string(), "peers.json".to_string()]
        .into_iter()
        .chain(per_peer("inbox-"))
        .collect();
    let allowed: BTreeSet<String> = required.iter().cloned().chain(per_peer("rate-")).collect();
    assert!(
        names.is_superset(&required) && names.is_subset(&allowed),
        "the room holds its lock, its listing, inboxes and post counters, nothing else: {names:?}"
    );

    let state: Value =
        serde_json::from_slice(&std::fs::read(room_dir.join("peers.json")).unwrap()).unwrap();
    assert_eq!(state["sealed"], json!(true));
    let keys: BTreeSet<&str> = state
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys, BTreeSet::from(["peers", "sealed"]), "{state}");
    for peer in state["peers"].as_array().unwrap() {
        let keys: BTreeSet<&str> = peer
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(keys, BTreeSet::from(["id", "seen", "token"]), "{peer}");
    }

    let inbox = std::fs::read_to_string(room_dir.join(format!("inbox-{}", bob.id))).unwrap();
    let payloads: Vec<Value> = inbox
        .lines()
        .filter_map(|line| line.splitn(3, '\t').nth(2))
        .map(|payload| serde_json::from_str(payload).unwrap())
        .collect();
    assert_eq!(
        payloads,
        [json!({ "from": alice.id, "type": "sealed", "data": { "sealed": SEALED } })],
        "bob's inbox holds the sealed message exactly as sent: {inbox}"
    );
    let alice_inbox =
        std::fs::read_to_string(room_dir.join(format!("inbox-{}", alice.id))).unwrap();
    assert!(
        !alice_inbox.contains(SEALED),
        "the sender keeps no copy: {alice_inbox}"
    );
}
