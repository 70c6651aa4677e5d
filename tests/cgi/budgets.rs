//! The budgets that keep one stranger with a script from taking the account: held streams
//! (each one of the host's entry processes), probes, rooms, joins, the sweep that frees
//! abandoned rooms whatever else exists, and inboxes under join/leave churn.

use std::process::Command;
use std::thread;
use std::time::{Duration, Instant};

use serde_json::json;

use crate::site::*;

/// What a concurrently run request came back with, and how long it took.
struct Timed {
    answer: Answer,
    took: Duration,
}

/// Runs all commands at once and waits for every one.
fn run_together(site: &Site, commands: Vec<Command>) -> Vec<Timed> {
    thread::scope(|scope| {
        let running: Vec<_> = commands
            .into_iter()
            .map(|mut command| {
                scope.spawn(move || {
                    let started = Instant::now();
                    let output = run_output(&mut command, b"");
                    (command, output, started.elapsed())
                })
            })
            .collect();
        running
            .into_iter()
            .map(|handle| {
                let (command, output, took) = handle.join().unwrap();
                Timed {
                    answer: site.answer(&command, &output),
                    took,
                }
            })
            .collect()
    })
}

/// The hold an event stream announced in its `hello`.
fn announced_hold(answer: &Answer) -> u64 {
    assert_eq!(answer.status, 200, "{answer:?}");
    let hello = parse_events(&answer.body)
        .into_iter()
        .find(|event| event.name.as_deref() == Some("hello"))
        .unwrap_or_else(|| panic!("no hello: {answer:?}"));
    hello.data["hold"].as_u64().unwrap()
}

/// How long the server held a stream open, by its own clock (`hello` to `bye`): unlike the
/// time the test waited, it does not grow when the machine is busy.
fn held_ms(answer: &Answer) -> u64 {
    let (opened, closed) = span(answer);
    closed - opened
}

/// The most streams that were held (announced a hold) at one moment, by the server's clock.
fn most_held_at_once(results: &[Timed]) -> i32 {
    let mut changes: Vec<(u64, i32)> = Vec::new();
    for timed in results
        .iter()
        .filter(|timed| announced_hold(&timed.answer) > 0)
    {
        let (opened, closed) = span(&timed.answer);
        changes.push((opened, 1));
        // An end sorts before an opening at the same millisecond: the slot was free again.
        changes.push((closed, -1));
    }
    changes.sort();
    let mut held = 0;
    let mut most = 0;
    for (_, change) in changes {
        held += change;
        most = most.max(held);
    }
    most
}

/// When the server opened and ended a stream, by its own clock (ms).
fn span(answer: &Answer) -> (u64, u64) {
    let events = parse_events(answer.body.as_str());
    let at = |name: &str| {
        events
            .iter()
            .find(|event| event.name.as_deref() == Some(name))
            .and_then(|event| event.data["t"].as_u64())
            .unwrap_or_else(|| panic!("no {name} with a time: {answer:?}"))
    };
    (at("hello"), at("bye"))
}

fn sse_command(site: &Site, peer: &Peer, remote: &str) -> Command {
    site.command("GET", &query_of(peer, "sse"), &[("REMOTE_ADDR", remote)])
}

/// Forty streams at once for one peer (one join, then a script): one stream per peer is
/// held, so exactly one lasts its hold and the rest end at once, and every one is a valid
/// answer that the client can follow.
#[test]
fn a_stream_flood_from_one_peer_holds_one_stream() {
    let site = Site::with_settings(json!({"hold_seconds": 3}));
    let peer = site.join("r");
    let commands = (0..40)
        .map(|_| sse_command(&site, &peer, "192.0.2.1"))
        .collect();
    let results = run_together(&site, commands);
    let held: Vec<u64> = results
        .iter()
        .map(|timed| held_ms(&timed.answer))
        .filter(|held| *held >= 2900)
        .collect();
    assert_eq!(held.len(), 1, "streams that lasted the hold: {held:?}");
    for timed in &results {
        announced_hold(&timed.answer);
        assert!(
            timed.answer.body.contains("event: bye"),
            "every stream ends with bye: {:?}",
            timed.answer
        );
    }
    // By the server's clock, no more than the address's share were held at any moment.
    let most = most_held_at_once(&results);
    assert!(most <= 4, "{most} streams of one address were held at once");
}

/// Thirty peers' streams at once from thirty addresses: `max_held_streams` (12) are held,
/// the others are answered at once with hold 0 (their clients poll). From one address, only
/// its share (4) is held.
#[test]
fn thirty_peers_streams_at_once_hold_no_more_than_the_budget() {
    // A long hold, so that all thirty overlap even on a busy machine.
    let site = Site::with_settings(json!({"hold_seconds": 8, "max_peers": 16}));
    let peers: Vec<Peer> = (0..30).map(|n| site.join(&format!("r{}", n % 3))).collect();
    let commands = peers
        .iter()
        .enumerate()
        .map(|(n, peer)| sse_command(&site, peer, &format!("198.51.100.{}", n + 1)))
        .collect();
    let results = run_together(&site, commands);
    let holds: Vec<u64> = results
        .iter()
        .map(|timed| announced_hold(&timed.answer))
        .collect();
    assert_eq!(most_held_at_once(&results), 12, "{holds:?}");
    for timed in results
        .iter()
        .filter(|timed| announced_hold(&timed.answer) == 0)
    {
        assert!(held_ms(&timed.answer) < 500, "hold 0 answers at once");
        assert!(
            timed.answer.body.contains("retry: 1000"),
            "{:?}",
            timed.answer
        );
    }

    let commands = peers[..10]
        .iter()
        .map(|peer| sse_command(&site, peer, "203.0.113.9"))
        .collect();
    let results = run_together(&site, commands);
    assert_eq!(
        most_held_at_once(&results),
        4,
        "one address holds its share and no more"
    );

    // Once they are done, the slots are free again.
    let answer = site.run(&mut sse_command(&site, &peers[0], "203.0.113.9"), b"");
    assert_eq!(announced_hold(&answer), 8, "{answer:?}");
}

/// Self-check probes hold their process for 1.6 s and need no join: a flood of them from one
/// address gets two at a time, the rest a 429 with Retry-After.
#[test]
fn a_probe_flood_runs_two_probes_at_a_time() {
    let site = Site::new();
    let commands = (0..10)
        .map(|_| site.command("GET", "mode=probe", &[("REMOTE_ADDR", "192.0.2.7")]))
        .collect();
    let results = run_together(&site, commands);
    let streamed = results
        .iter()
        .filter(|timed| timed.answer.status == 200)
        .count();
    assert_eq!(streamed, 2, "probes that ran");
    for timed in results.iter().filter(|timed| timed.answer.status != 200) {
        assert_eq!(timed.answer.status, 429, "{:?}", timed.answer);
        assert_eq!(timed.answer.header("retry-after"), Some("2"));
        assert!(timed.took < Duration::from_millis(1000), "refused at once");
    }
}

/// Makes a room look abandoned for an hour: every peer last seen long ago, and the room's
/// folder (whose modification time is its last sign of life) as old.
fn abandon(site: &Site, room: &str) {
    let dir = site.data_dir().join("rooms").join(room);
    let peers_file = dir.join("peers.json");
    let mut state: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&peers_file).unwrap()).unwrap();
    for peer in state["peers"].as_array_mut().unwrap() {
        peer["seen"] = json!(0);
    }
    std::fs::write(&peers_file, state.to_string()).unwrap();
    let status = Command::new("touch")
        .arg("-d")
        .arg("1 hour ago")
        .arg(&dir)
        .status()
        .unwrap();
    assert!(status.success());
}

fn room_names(site: &Site) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(site.data_dir().join("rooms"))
        .unwrap()
        .flatten()
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// The sweep frees abandoned rooms however many live rooms there are: with six hundred
/// live rooms and five abandoned ones, one sweep deletes the five and keeps every live one.
/// (It once looked at the first 256 folder entries only, live ones included.)
#[test]
fn the_sweep_frees_abandoned_rooms_behind_hundreds_of_live_ones() {
    // Rooms count as live for ten minutes, however long a busy machine takes to open 600.
    let site = Site::with_settings(json!({
        "max_joins_per_minute": 10_000,
        "max_site_joins_per_minute": 10_000,
        "max_rooms": 10_000,
        "peer_timeout_seconds": 600,
    }));
    let live: Vec<String> = (0..600).map(|n| format!("live{n:03}")).collect();
    thread::scope(|scope| {
        for part in live.chunks(150) {
            let site = &site;
            scope.spawn(move || {
                for room in part {
                    site.join(room);
                }
            });
        }
    });
    let abandoned: Vec<String> = (0..5).map(|n| format!("gone{n}")).collect();
    for room in &abandoned {
        site.join(room);
        abandon(&site, room);
    }
    assert_eq!(room_names(&site).len(), 605);

    std::fs::remove_file(site.data_dir().join("last-sweep")).unwrap();
    site.join("trigger");
    let names = room_names(&site);
    for room in &abandoned {
        assert!(!names.contains(room), "{room} is still there");
    }
    assert_eq!(names.len(), 601, "every live room stays, and the new one");
}

/// Join/leave churn against a small backlog. Server events count toward it like messages:
/// a peer that keeps reading sees every join and leave and can always be sent to, and a
/// peer that stopped reading is reset (it joins again) instead of having its inbox grow
/// past the limit and its real messages refused.
#[test]
fn join_and_leave_churn_stays_within_a_small_backlog() {
    let site = Site::with_settings(json!({
        "max_body_bytes": 1024,
        "max_backlog_bytes": 2048,
        "max_joins_per_minute": 10_000,
        "max_site_joins_per_minute": 10_000,
        "max_peers": 16,
    }));
    let reader = site.join("r");
    let idle = site.join("r");
    let partner = site.join("r");
    let inbox_of = |peer: &Peer| {
        site.data_dir()
            .join("rooms/r")
            .join(format!("inbox-{}", peer.id))
    };
    let mut last = None;
    let mut partner_last = None;
    let mut seen = Vec::new();
    for cycle in 0..100 {
        let ghost = site.join("r");
        assert_eq!(site.leave(&ghost).status, 200);
        if let Ok(metadata) = std::fs::metadata(inbox_of(&idle)) {
            assert!(
                metadata.len() <= 2048,
                "cycle {cycle}: {} bytes",
                metadata.len()
            );
        }
        if cycle % 5 == 4 {
            let events = poll_events(&site, &reader, last);
            last = events.last().map(|(id, _)| *id).or(last);
            seen.extend(events);
            let events = poll_events(&site, &partner, partner_last);
            partner_last = events.last().map(|(id, _)| *id).or(partner_last);
        }
    }
    let kinds = |kind: &str| seen.iter().filter(|(_, data)| data["type"] == kind).count();
    assert_eq!(
        kinds("join"),
        102,
        "the reader saw every join (the idle peer's and the partner's too)"
    );
    assert_eq!(
        kinds("leave"),
        100 + 1,
        "every ghost's leave, and the idle peer's reset"
    );

    let answer = site.post(
        &partner,
        json!({"to": reader.id, "type": "real", "data": 1}),
    );
    assert_eq!(answer.status, 202, "{answer:?}");
    assert_eq!(
        site.poll_status(&idle),
        404,
        "the idle peer was reset and joins again"
    );
    let idle = site.join("r");
    let answer = site.post(&partner, json!({"to": idle.id, "type": "real", "data": 2}));
    assert_eq!(answer.status, 202, "{answer:?}");
    let events = poll_events(&site, &idle, None);
    assert_eq!(events.last().unwrap().1["type"], "real");
}

fn join_from(site: &Site, room: &str, remote: &str) -> Answer {
    site.run(
        &mut site.command(
            "POST",
            &format!("mode=join&room={room}"),
            &[("CONTENT_LENGTH", "0"), ("REMOTE_ADDR", remote)],
        ),
        b"",
    )
}

/// One subscriber holds an IPv6 /64 (or more), so the per-address join limit counts the
/// whole /64: a script walking through its addresses is stopped at the limit, while an
/// address of another /64 still joins. No address is stored, only salted hashes.
#[test]
fn joins_across_one_ipv6_64_share_one_limit() {
    let site = Site::with_settings(json!({"max_joins_per_minute": 10, "max_peers": 16}));
    let statuses: Vec<u16> = (1..=15)
        .map(|n| join_from(&site, &format!("r{n}"), &format!("2001:db8:1:2::{n:x}")).status)
        .collect();
    assert_eq!(
        statuses.iter().filter(|status| **status == 200).count(),
        10,
        "{statuses:?}"
    );
    assert!(
        statuses[10..].iter().all(|status| *status == 429),
        "{statuses:?}"
    );
    let answer = join_from(&site, "r1", "2001:db8:1:3::1");
    assert_eq!(answer.status, 200, "another /64: {answer:?}");
    let answer = join_from(&site, "r1", "::ffff:192.0.2.1");
    assert_eq!(answer.status, 200, "{answer:?}");

    for path in site.files_under(&site.data_dir()) {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let text = String::from_utf8_lossy(&std::fs::read(&path).unwrap()).into_owned();
        for shown in [&name, &text] {
            assert!(
                !shown.contains("2001:db8") && !shown.contains("192.0.2.1"),
                "{} holds an address",
                path.display()
            );
        }
    }
}

/// A flood of new rooms stops at `max_rooms` with a 503 that says so, while the rooms that
/// exist keep taking joins; once a room is gone, a new one can open.
#[test]
fn a_room_flood_stops_at_max_rooms() {
    let site = Site::with_settings(json!({"max_rooms": 20, "max_joins_per_minute": 1000}));
    let mut peers = Vec::new();
    for n in 0..20 {
        peers.push(site.join(&format!("flood{n}")));
    }
    for n in 20..30 {
        let answer = join_from(&site, &format!("flood{n}"), "192.0.2.1");
        assert_eq!(answer.status, 503, "{answer:?}");
        assert!(answer.error().contains("rooms"), "{answer:?}");
        assert_eq!(answer.header("retry-after"), Some("1"));
    }
    assert_eq!(
        std::fs::read_dir(site.data_dir().join("rooms"))
            .unwrap()
            .count(),
        20
    );
    let answer = join_from(&site, "flood3", "192.0.2.2");
    assert_eq!(
        answer.status, 200,
        "an open room still takes joins: {answer:?}"
    );
    assert_eq!(site.leave(&peers[0]).status, 200);
    let answer = join_from(&site, "fresh", "192.0.2.3");
    assert_eq!(answer.status, 200, "{answer:?}");
}

/// All addresses together get `max_site_joins_per_minute`, so many addresses (a botnet, or
/// one /48 walked /64 by /64) cannot create rooms and files without end.
#[test]
fn joins_from_many_addresses_stop_at_the_site_budget() {
    let site = Site::with_settings(json!({"max_site_joins_per_minute": 12, "max_peers": 16}));
    let statuses: Vec<u16> = (1..=16)
        .map(|n| join_from(&site, "r", &format!("198.51.100.{n}")).status)
        .collect();
    assert_eq!(
        statuses.iter().filter(|status| **status == 200).count(),
        12,
        "{statuses:?}"
    );
    let refused = join_from(&site, "r", "203.0.113.1");
    assert_eq!(refused.status, 429, "{refused:?}");
    assert!(
        refused.error().contains("this site takes at most 12 joins"),
        "{refused:?}"
    );
}

/// The data directory's byte budget: once the sweep finds the rooms holding more than
/// `max_data_bytes`, posts are refused with 507 until enough has been read.
#[test]
fn posts_stop_at_the_data_directory_budget_until_messages_are_read() {
    let site = Site::with_settings(json!({
        "max_data_bytes": 1 << 20,
        "max_backlog_bytes": 4 << 20,
        "max_posts_per_second": 1000,
    }));
    let alice = site.join("r");
    let bob = site.join("r");
    let data = "x".repeat(60_000);
    for _ in 0..20 {
        let answer = site.post(&alice, json!({"to": bob.id, "type": "big", "data": data}));
        assert_eq!(answer.status, 202, "{answer:?}");
    }
    let sweep = || {
        std::fs::remove_file(site.data_dir().join("last-sweep")).unwrap();
        site.join("other");
    };
    sweep();
    let answer = site.post(&alice, json!({"to": bob.id, "type": "big", "data": data}));
    assert_eq!(answer.status, 507, "{answer:?}");
    assert!(answer.error().contains("storage"), "{answer:?}");

    let events = poll_events(&site, &bob, None);
    poll_events(&site, &bob, events.last().map(|(id, _)| *id));
    sweep();
    let answer = site.post(&alice, json!({"to": bob.id, "type": "small", "data": 1}));
    assert_eq!(answer.status, 202, "{answer:?}");
}
