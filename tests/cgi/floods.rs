//! Floods that the rate limits stop: joins from one address, posts from one peer. The
//! flooder gets 429 with Retry-After; everyone else carries on.

use serde_json::json;

use crate::site::*;

/// A flood of joins from one address is answered 429 with Retry-After once the per-minute
/// limit is reached, in any room, while another address still joins and the peers already
/// in other rooms still post and read.
#[test]
fn a_flood_of_joins_from_one_address_is_throttled_without_affecting_others() {
    let site = Site::with_settings(json!({"max_joins_per_minute": 5}));
    let join_from = |address: &str, room: &str| {
        site.run(
            &mut site.command(
                "POST",
                &format!("mode=join&room={room}"),
                &[("CONTENT_LENGTH", "0"), ("REMOTE_ADDR", address)],
            ),
            b"",
        )
    };
    let resident = join_from("192.0.2.1", "calm");
    let resident = Peer {
        room: "calm".into(),
        id: resident.json()["peer"].as_str().unwrap().to_string(),
        token: resident.json()["token"].as_str().unwrap().to_string(),
    };
    let neighbour = site.join("calm");
    let flooder = "198.51.100.7";
    for n in 0..5 {
        let answer = join_from(flooder, &format!("flood{}", n % 2));
        assert_eq!(
            answer.status, 200,
            "join {n} is within the limit: {answer:?}"
        );
    }
    for room in ["flood0", "flood1", "fresh"] {
        let answer = join_from(flooder, room);
        assert_eq!(answer.status, 429, "{answer:?}");
        let retry: u64 = answer
            .header("Retry-After")
            .expect("Retry-After")
            .parse()
            .unwrap();
        assert!((1..=60).contains(&retry), "{retry}");
        assert!(answer.error().contains("too many joins"), "{answer:?}");
    }
    assert_eq!(join_from("198.51.100.8", "flood0").status, 200);
    assert_eq!(join_from("2001:db8::1", "fresh").status, 200);
    assert_eq!(
        site.post(&resident, json!({"to": neighbour.id, "type": "still-here"}))
            .status,
        202
    );
    let events = poll_events(&site, &neighbour, None);
    assert_eq!(
        events.last().map(|(_, data)| data["type"].clone()),
        Some(json!("still-here"))
    );
}

/// A peer that floods posts is answered 429 with Retry-After past its per-second limit and
/// its refused messages are not stored, while another peer of the same room still posts and
/// everyone still reads.
#[test]
fn a_flood_of_posts_from_one_peer_is_throttled_without_affecting_others() {
    // Two a second, averaged over ten seconds: twenty posts fit in the window.
    let site = Site::with_settings(json!({"max_posts_per_second": 2}));
    let flooder = site.join("r");
    let calm = site.join("r");
    let reader = site.join("r");
    let mut accepted = 0;
    let mut refused = None;
    for n in 0..40 {
        let answer = site.post(
            &flooder,
            json!({"to": reader.id, "type": "flood", "data": n}),
        );
        match answer.status {
            202 => accepted += 1,
            429 => {
                refused = Some(answer);
                break;
            }
            status => panic!("post {n} answered {status}: {answer:?}"),
        }
    }
    let refused = refused.expect("the flood was never throttled");
    assert!(
        (18..=20).contains(&accepted),
        "{accepted} posts passed a limit of 20 per 10 s"
    );
    assert!(refused.header("Retry-After").is_some(), "{refused:?}");
    assert!(refused.error().contains("too fast"), "{refused:?}");
    assert_eq!(
        site.post(&flooder, json!({"to": reader.id, "type": "flood"}))
            .status,
        429,
        "still throttled"
    );
    assert_eq!(
        site.post(&calm, json!({"to": reader.id, "type": "calm"}))
            .status,
        202,
        "another peer of the room is not throttled"
    );
    let events = poll_events(&site, &reader, None);
    let flood = events
        .iter()
        .filter(|(_, data)| data["type"] == "flood")
        .count();
    assert_eq!(flood, accepted, "refused posts are not stored");
    assert!(events.iter().any(|(_, data)| data["type"] == "calm"));
    assert_eq!(
        site.poll_status(&flooder),
        200,
        "the flooder can still read"
    );
}
