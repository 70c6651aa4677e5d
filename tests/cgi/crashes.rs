//! Process faults: writers killed half way (SIGKILL at random moments, as a host kills a
//! CGI over its limits), a line torn by one, a request stopped while it holds a room's lock,
//! and a body that stalls. Nothing answered may be lost, doubled or torn, and one stuck
//! process costs its room a 503 and no more.

use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use rand::Rng;
use serde_json::{json, Value};

use crate::site::*;

/// Many writers post to one reader; about half of them are killed with SIGKILL after a
/// random delay, as a host kills a CGI over its limits, and a third of the reader's requests
/// are killed too. Every POST that was answered 202 is delivered exactly once, every
/// delivered event is whole JSON equal to what was posted, and nothing is left on disk.
#[test]
fn writers_killed_at_random_moments_lose_no_answered_message_and_tear_none() {
    const SENDERS: usize = 6;
    const POSTS: usize = 40;
    let site = Arc::new(Site::with_settings(json!({
        "hold_seconds": 0,
        "max_peers": 8,
        "max_backlog_bytes": 16 << 20,
    })));
    let reader = site.join("killed");
    let senders: Vec<Peer> = (0..SENDERS).map(|_| site.join("killed")).collect();
    let last_join_id = poll_events(&site, &reader, None).last().map(|(id, _)| *id);

    // Per sender: the data of each attempted post, and which posts were answered 202.
    type Outcome = (BTreeMap<u64, Value>, Vec<u64>, usize);
    let writers: Vec<thread::JoinHandle<Outcome>> = senders
        .iter()
        .cloned()
        .map(|sender| {
            let site = site.clone();
            let to = reader.id.clone();
            thread::spawn(move || {
                let mut rng = rand::thread_rng();
                let mut attempted = BTreeMap::new();
                let mut answered = Vec::new();
                let mut cut_short = 0;
                for n in 0..POSTS as u64 {
                    // Sizes from a few bytes to several pages, so that some kills land in
                    // the middle of writing the record.
                    let pad = "x".repeat(rng.gen_range(0..12_000));
                    let data = json!({"n": n, "pad": pad});
                    let body = json!({"to": to, "type": "seq", "data": data}).to_string();
                    attempted.insert(n, data);
                    let mut command = site.command(
                        "POST",
                        &message_query(&sender),
                        &[("CONTENT_LENGTH", &body.len().to_string())],
                    );
                    let mut child = command.spawn().unwrap();
                    let mut stdin = child.stdin.take().unwrap();
                    let _ = stdin.write_all(body.as_bytes());
                    drop(stdin);
                    let killed = rng.gen_bool(0.5);
                    if killed {
                        thread::sleep(Duration::from_micros(rng.gen_range(0..4000)));
                        let _ = child.kill();
                    }
                    let output = child.wait_with_output().unwrap();
                    match whole_answer(&output.stdout) {
                        Some((202, _)) => answered.push(n),
                        Some((status, body)) => panic!("post answered {status}: {body}"),
                        None if killed => cut_short += 1,
                        None => panic!(
                            "no whole answer from a post that was not killed: {:?}",
                            String::from_utf8_lossy(&output.stdout)
                        ),
                    }
                }
                (attempted, answered, cut_short)
            })
        })
        .collect();

    // The reader polls throughout; a killed poll is discarded unread, as a browser whose
    // response broke off reconnects with the last id it saw.
    let mut last = last_join_id;
    let mut delivered: Vec<(u64, Value)> = Vec::new();
    let poll_once = |kill_after: Option<Duration>,
                     last: &mut Option<u64>,
                     delivered: &mut Vec<(u64, Value)>| {
        let id_text = last.map(|id| id.to_string()).unwrap_or_default();
        let headers: Vec<(&str, &str)> = match last {
            Some(_) => vec![("HTTP_LAST_EVENT_ID", id_text.as_str())],
            None => vec![],
        };
        let query = format!("{}&hold=0", query_of(&reader, "sse"));
        let mut child = site.command("GET", &query, &headers).spawn().unwrap();
        drop(child.stdin.take());
        if let Some(delay) = kill_after {
            thread::sleep(delay);
            let _ = child.kill();
            let _ = child.wait();
            return;
        }
        let output = child.wait_with_output().unwrap();
        let answer = parse_answer(&output.stdout);
        assert_eq!(answer.status, 200, "{answer:?}");
        let events = message_events(&answer.body).unwrap_or_else(|error| panic!("{error}"));
        for (id, data) in events {
            assert!(last.is_none_or(|last| id > last), "ids go up");
            *last = Some(id);
            delivered.push((id, data));
        }
    };
    let mut rng = rand::thread_rng();
    while !writers.iter().all(|writer| writer.is_finished()) {
        let kill_after = rng
            .gen_bool(1.0 / 3.0)
            .then(|| Duration::from_micros(rng.gen_range(0..3000)));
        poll_once(kill_after, &mut last, &mut delivered);
    }
    let outcomes: Vec<Outcome> = writers
        .into_iter()
        .map(|writer| writer.join().unwrap())
        .collect();
    // Two polls in a row that bring nothing: everything stored has been read.
    let mut quiet = 0;
    while quiet < 2 {
        let before = delivered.len();
        poll_once(None, &mut last, &mut delivered);
        quiet = if delivered.len() == before {
            quiet + 1
        } else {
            0
        };
    }

    let cut_short: usize = outcomes.iter().map(|(_, _, cut)| cut).sum();
    assert!(
        cut_short >= 5,
        "only {cut_short} kills landed before an answer; the test exercised too little"
    );
    let mut seen: HashMap<(String, u64), usize> = HashMap::new();
    for (sender, (attempted, answered, _)) in senders.iter().zip(&outcomes) {
        let mine: Vec<&Value> = delivered
            .iter()
            .filter(|(_, data)| data["from"] == sender.id.as_str())
            .map(|(_, data)| data)
            .collect();
        let mut previous = None;
        for event in &mine {
            let n = event["data"]["n"]
                .as_u64()
                .unwrap_or_else(|| panic!("{event}"));
            assert_eq!(
                attempted.get(&n),
                Some(&event["data"]),
                "a delivered message differs from the posted one"
            );
            assert_eq!(event["type"], "seq");
            assert!(previous < Some(n), "one sender's messages stay in order");
            previous = Some(n);
            *seen.entry((sender.id.clone(), n)).or_default() += 1;
        }
        for n in answered {
            assert_eq!(
                seen.get(&(sender.id.clone(), *n)),
                Some(&1),
                "message {n} of {} was answered 202 but delivered {:?} times",
                sender.id,
                seen.get(&(sender.id.clone(), *n))
            );
        }
    }
    assert!(
        seen.values().all(|count| *count == 1),
        "a message was delivered twice"
    );
    for peer in senders.iter().chain([&reader]) {
        assert_eq!(site.leave(peer).status, 200);
    }
    assert!(
        site.files_under(&site.data_dir().join("rooms")).is_empty(),
        "killed writers left files behind: {:?}",
        site.files_under(&site.data_dir().join("rooms"))
    );
}

/// A line torn half way (as a writer killed mid-write leaves it) is never delivered, and the
/// next message is stored after the last whole one and delivered intact.
#[test]
fn a_torn_last_line_is_skipped_and_cut_off_by_the_next_writer() {
    let site = Site::new();
    let alice = site.join("r");
    let bob = site.join("r");
    assert_eq!(
        site.post(&alice, json!({"to": bob.id, "type": "a", "data": 1}))
            .status,
        202
    );
    let inbox = site
        .data_dir()
        .join("rooms/r")
        .join(format!("inbox-{}", bob.id));
    let whole = std::fs::read(&inbox).unwrap();
    let torn_record = b"2\t0123456789abcdef\t{\"from\":\"x\",\"type\":\"forged";
    std::fs::OpenOptions::new()
        .append(true)
        .open(&inbox)
        .unwrap()
        .write_all(torn_record)
        .unwrap();
    let events = poll_events(&site, &bob, None);
    assert_eq!(
        events.len(),
        1,
        "the torn line is not a message: {events:?}"
    );
    assert_eq!(
        site.post(&alice, json!({"to": bob.id, "type": "b", "data": 2}))
            .status,
        202
    );
    let events = poll_events(&site, &bob, None);
    let types: Vec<&str> = events
        .iter()
        .map(|(_, data)| data["type"].as_str().unwrap())
        .collect();
    assert_eq!(types, ["a", "b"]);
    let stored = std::fs::read(&inbox).unwrap();
    assert!(
        stored.starts_with(&whole) && !stored.windows(6).any(|window| window == b"forged"),
        "the torn tail was cut off before the append"
    );
}

/// A request stopped (SIGSTOP) while it holds a room's lock costs that room a 503 with
/// Retry-After and no more: other rooms carry on, and once the stopped process is killed the
/// room answers at once and nothing stored is lost or doubled.
#[test]
fn a_request_stopped_while_holding_the_lock_costs_the_room_a_503_and_no_more() {
    let site = Site::with_settings(json!({
        "max_backlog_bytes": 4 << 20,
        "max_posts_per_second": 1000,
    }));
    let alice = site.join("r");
    let bob = site.join("r");
    let carol = site.join("r");
    let lock = site.data_dir().join("rooms/r/lock");
    // Messages already waiting for Bob, which must all still arrive once the stuck request
    // is gone.
    let mut answered = Vec::new();
    for n in 0..40 {
        let data = json!({"n": n, "pad": "z".repeat(8000)});
        assert_eq!(
            site.post(&alice, json!({"to": bob.id, "type": "m", "data": data}))
                .status,
            202
        );
        answered.push(n);
    }

    let mut rng = rand::thread_rng();
    let mut caught = None;
    for n in 40..400 {
        let body = json!({"to": bob.id, "type": "m", "data": {"n": n, "pad": ""}}).to_string();
        let (mut child, mut stdin) = site.spawn_post(&alice, body.len());
        stdin.write_all(body.as_bytes()).unwrap();
        drop(stdin);
        thread::sleep(Duration::from_micros(rng.gen_range(0..2500)));
        signal(&child, "STOP");
        let deadline = Instant::now() + Duration::from_secs(2);
        let mut exited = false;
        while !is_stopped(&child) && Instant::now() < deadline {
            // A post that finished before the stop arrived has been reaped here; its pid may
            // no longer be signalled.
            if child.try_wait().unwrap().is_some() {
                exited = true;
                break;
            }
            thread::sleep(Duration::from_micros(200));
        }
        if !exited && is_stopped(&child) && lock_is_held(&lock) {
            caught = Some((n, child));
            break;
        }
        if !exited {
            signal(&child, "CONT");
        }
        let output = child.wait_with_output().unwrap();
        assert_eq!(
            whole_answer(&output.stdout).map(|(status, _)| status),
            Some(202)
        );
        answered.push(n);
    }
    let (stopped_n, mut stopped) = caught.expect("no stop landed while the lock was held");

    let started = Instant::now();
    let answer = site.post(&carol, json!({"to": bob.id, "type": "blocked"}));
    assert_eq!(answer.status, 503, "{answer:?}");
    assert_eq!(answer.header("Retry-After"), Some("1"));
    assert!(
        started.elapsed() < Duration::from_secs(8),
        "the wait is bounded"
    );

    let started = Instant::now();
    let elsewhere = site.join("elsewhere");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "another room waited for this room's lock"
    );
    assert_eq!(site.leave(&elsewhere).status, 200);

    stopped.kill().unwrap();
    stopped.wait().unwrap();
    let started = Instant::now();
    let answer = site.post(&carol, json!({"to": bob.id, "type": "after"}));
    assert_eq!(answer.status, 202, "{answer:?}");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "the killed holder's lock was released with it"
    );

    let events = poll_events(&site, &bob, None);
    let numbers: Vec<u64> = events
        .iter()
        .filter(|(_, data)| data["type"] == "m")
        .map(|(_, data)| data["data"]["n"].as_u64().unwrap())
        .collect();
    let mut expected: Vec<u64> = answered.iter().map(|n| *n as u64).collect();
    if numbers.last() == Some(&(stopped_n as u64)) {
        // The stop landed after the record was written: stored once, never answered.
        expected.push(stopped_n as u64);
    }
    assert_eq!(numbers, expected);
    assert_eq!(
        events.last().map(|(_, data)| data["type"].clone()),
        Some(json!("after"))
    );
}

/// A POST whose body stalls after its Content-Length was sent holds no lock: meanwhile the
/// other peers of the same room join, post and read as usual, and the slow message is
/// stored once its body arrives.
#[test]
fn a_stalled_body_does_not_hold_the_room() {
    let site = Site::new();
    let alice = site.join("r");
    let bob = site.join("r");
    let body = json!({"to": bob.id, "type": "slow", "data": "s".repeat(200)}).to_string();
    let (mut slow, mut stdin) = site.spawn_post(&alice, body.len());
    stdin.write_all(&body.as_bytes()[..50]).unwrap();
    stdin.flush().unwrap();

    let started = Instant::now();
    let carol = site.join("r");
    assert_eq!(
        site.post(&carol, json!({"to": bob.id, "type": "quick"}))
            .status,
        202
    );
    let events = poll_events(&site, &bob, None);
    assert_eq!(events.len(), 2, "carol's join and message: {events:?}");
    assert_eq!(site.leave(&carol).status, 200);
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "the room waited for the stalled body"
    );
    assert!(
        slow.try_wait().unwrap().is_none(),
        "still waiting for its body"
    );

    stdin.write_all(&body.as_bytes()[50..]).unwrap();
    drop(stdin);
    let output = slow.wait_with_output().unwrap();
    assert_eq!(parse_answer(&output.stdout).status, 202);
    let last = events.last().map(|(id, _)| *id);
    let events = poll_events(&site, &bob, last);
    let types: Vec<&str> = events
        .iter()
        .map(|(_, data)| data["type"].as_str().unwrap())
        .collect();
    assert_eq!(types, ["leave", "slow"]);
}
