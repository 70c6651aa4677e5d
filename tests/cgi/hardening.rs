//! Faults and hostile clients: writers killed half way, a full disk, an unusable data
//! directory, a lock holder that stops, a body that stalls, hostile bodies and parameters,
//! peers that try to read or speak for one another, and floods that the rate limits stop.
//!
//! Every test runs the real executable as a web server would (see `site`); where a fault
//! needs a different process setup (a file size limit, another user), the executable is
//! started through a small wrapper instead.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::Write;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use rand::Rng;
use serde_json::{json, Value};

use crate::site::*;

const EXECUTABLE: &str = env!("CARGO_BIN_EXE_webrtc-cgi");

/// The user the permission tests run the executable as when the tests run as root, who
/// ignores file permissions: `nobody` on Debian and most other systems.
const OTHER_USER_ID: &str = "65534";

/// Runs its argument with a file size limit of one 512-byte block, as a full disk or an
/// exhausted quota would stop it. SIGXFSZ is ignored, so that a write past the limit fails
/// with EFBIG (which the executable must handle) instead of killing the process.
const FILE_SIZE_LIMIT: &[&str] = &["sh", "-c", "trap '' XFSZ; ulimit -f 1; exec \"$0\""];

/// A CGI command started through `wrapper`, with a Content-Length for a POST.
fn wrapped_command(
    site: &Site,
    wrapper: &[&str],
    executable: &str,
    method: &str,
    query: &str,
    length: usize,
) -> Command {
    let length = length.to_string();
    let headers: &[(&str, &str)] = if method == "POST" {
        &[("CONTENT_LENGTH", length.as_str())]
    } else {
        &[]
    };
    site.command_via(wrapper, executable, method, query, headers)
}

/// The header block of a raw answer, up to the first blank line.
fn header_block(output: &[u8]) -> String {
    let text = String::from_utf8_lossy(output);
    let (head, _) = text
        .split_once("\r\n\r\n")
        .unwrap_or_else(|| panic!("no header block in {text:?}"));
    head.to_string()
}

fn query_of(peer: &Peer, mode: &str) -> String {
    format!(
        "mode={mode}&room={}&peer={}&token={}",
        peer.room, peer.id, peer.token
    )
}

fn message_query(peer: &Peer) -> String {
    query_of(peer, "post")
}

/// The message events of an event stream, as (id, data). A `data:` line that is not whole
/// JSON is a torn or corrupted message, and is returned as an error naming it.
fn message_events(body: &str) -> Result<Vec<(u64, Value)>, String> {
    let mut events = Vec::new();
    for block in body.split("\n\n") {
        let mut id = None;
        let mut data = None;
        let mut named = false;
        for line in block.lines() {
            if let Some(text) = line.strip_prefix("id: ") {
                id = Some(
                    text.parse::<u64>()
                        .map_err(|_| format!("bad id line {line:?}"))?,
                );
            } else if line.starts_with("event: ") {
                named = true;
            } else if let Some(text) = line.strip_prefix("data: ") {
                if data.is_some() {
                    return Err(format!("an event with two data lines: {block:?}"));
                }
                data = Some(
                    serde_json::from_str::<Value>(text)
                        .map_err(|error| format!("torn event data {text:?}: {error}"))?,
                );
            }
        }
        if named {
            continue;
        }
        match (id, data) {
            (Some(id), Some(data)) => events.push((id, data)),
            (None, None) => {}
            _ => return Err(format!("an event without id or data: {block:?}")),
        }
    }
    Ok(events)
}

/// Polls a peer's stream (hold 0), acknowledging `last`, and returns its message events.
fn poll_events(site: &Site, peer: &Peer, last: Option<u64>) -> Vec<(u64, Value)> {
    let answer = site.sse(peer, last, 0);
    assert_eq!(answer.status, 200, "{answer:?}");
    message_events(&answer.body).unwrap_or_else(|error| panic!("{error}"))
}

/// Whether an answer reached the client whole: a header block and a complete JSON body.
fn whole_answer(output: &[u8]) -> Option<(u16, Value)> {
    let text = std::str::from_utf8(output).ok()?;
    let (head, body) = text.split_once("\r\n\r\n")?;
    let status = head.strip_prefix("Status: ")?.get(..3)?.parse().ok()?;
    let body = serde_json::from_str(body).ok()?;
    Some((status, body))
}

/// Whether the tests run as root, found without a system call: /proc/self belongs to the
/// effective user of the process that looks at it.
fn running_as_root() -> bool {
    std::fs::metadata("/proc/self").is_ok_and(|metadata| metadata.uid() == 0)
}

/// Sends a signal with kill(1); the standard library can only send SIGKILL.
fn signal(child: &Child, name: &str) {
    let status = Command::new("kill")
        .arg(format!("-{name}"))
        .arg(child.id().to_string())
        .status()
        .expect("kill(1) runs");
    assert!(status.success(), "kill -{name} failed");
}

/// Whether the process is stopped, from the state field of /proc/PID/stat.
fn is_stopped(child: &Child) -> bool {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{}/stat", child.id())) else {
        return false;
    };
    stat.rsplit_once(") ")
        .is_some_and(|(_, rest)| rest.starts_with('T') || rest.starts_with('t'))
}

/// Whether another process holds the lock at `path` right now.
fn lock_is_held(path: &Path) -> bool {
    use fs2::FileExt;
    let Ok(file) = std::fs::File::open(path) else {
        return false;
    };
    match file.try_lock_exclusive() {
        Ok(()) => {
            let _ = FileExt::unlock(&file);
            false
        }
        Err(_) => true,
    }
}

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

/// RLIMIT_FSIZE makes a write stop part way with EFBIG, as a full disk or an exhausted
/// quota does on a shared host: the POST gets a 507 that names the cause, the messages stored
/// before stay intact and are still delivered, and the store works again once space returns.
#[test]
fn a_full_disk_is_a_507_that_names_the_cause_and_keeps_earlier_messages() {
    let site = Site::new();
    let alice = site.join("r");
    let bob = site.join("r");
    for n in 0..3 {
        let answer = site.post(&alice, json!({"to": bob.id, "type": "early", "data": n}));
        assert_eq!(answer.status, 202, "{answer:?}");
    }
    // The three records fit in the limit's one block; a kilobyte more does not.
    let body = json!({"to": bob.id, "type": "big", "data": "y".repeat(1000)}).to_string();
    let mut command = wrapped_command(
        &site,
        FILE_SIZE_LIMIT,
        EXECUTABLE,
        "POST",
        &message_query(&alice),
        body.len(),
    );
    let answer = parse_answer(&run_raw(&mut command, body.as_bytes()));
    assert_eq!(answer.status, 507, "{answer:?}");
    let message = answer.error();
    assert!(
        message.contains("limit") && message.contains("not stored"),
        "the answer names the cause: {message:?}"
    );
    assert!(answer.header("Retry-After").is_some());

    let answer = site.post(&alice, json!({"to": bob.id, "type": "later", "data": 9}));
    assert_eq!(answer.status, 202, "space is back: {answer:?}");
    let events = poll_events(&site, &bob, None);
    let delivered: Vec<(String, Value)> = events
        .iter()
        .map(|(_, data)| {
            (
                data["type"].as_str().unwrap().to_string(),
                data["data"].clone(),
            )
        })
        .collect();
    assert_eq!(
        delivered,
        [
            ("early".to_string(), json!(0)),
            ("early".to_string(), json!(1)),
            ("early".to_string(), json!(2)),
            ("later".to_string(), json!(9)),
        ]
    );
}

/// A join refused for a full disk must not announce a peer that never got in: the others
/// would wait for it forever, as no `leave` for it ever comes.
#[test]
fn a_join_refused_for_a_full_disk_announces_no_one() {
    let site = Site::with_settings(json!({"max_peers": 12}));
    let peers: Vec<Peer> = (0..8).map(|_| site.join("r")).collect();
    // Everyone reads its join events, so every inbox is one short marker line.
    for peer in &peers {
        let events = poll_events(&site, peer, None);
        if let Some((last, _)) = events.last() {
            poll_events(&site, peer, Some(*last));
        }
    }
    let peers_file = site.data_dir().join("rooms/r/peers.json");
    assert!(
        std::fs::metadata(&peers_file).unwrap().len() > 512,
        "the room's state must outgrow the limit for this test to mean anything"
    );
    let mut command = wrapped_command(
        &site,
        FILE_SIZE_LIMIT,
        EXECUTABLE,
        "POST",
        "mode=join&room=r",
        0,
    );
    let answer = parse_answer(&run_raw(&mut command, b""));
    assert_eq!(answer.status, 507, "{answer:?}");
    let events = poll_events(&site, &peers[0], None);
    assert!(
        events.is_empty(),
        "the others were told about a peer that is not in the room: {events:?}"
    );
}

/// A leave refused for a full disk must leave the room usable: the peer that tried to leave
/// is either gone or still whole, and the others can still broadcast once space returns.
#[test]
fn a_leave_refused_for_a_full_disk_leaves_the_room_usable() {
    let site = Site::with_settings(json!({"max_peers": 12}));
    let peers: Vec<Peer> = (0..8).map(|_| site.join("r")).collect();
    for peer in &peers {
        let events = poll_events(&site, peer, None);
        if let Some((last, _)) = events.last() {
            poll_events(&site, peer, Some(*last));
        }
    }
    let leaving = &peers[7];
    let mut command = wrapped_command(
        &site,
        FILE_SIZE_LIMIT,
        EXECUTABLE,
        "POST",
        &query_of(leaving, "leave"),
        0,
    );
    let answer = parse_answer(&run_raw(&mut command, b""));
    assert!(answer.status == 507 || answer.status == 200, "{answer:?}");
    let answer = site.post(&peers[0], json!({"type": "hello"}));
    assert_eq!(
        answer.status, 202,
        "a broadcast after the failed leave: {answer:?}"
    );
    let status = site.poll_status(leaving);
    assert!(
        status == 200 || status == 404,
        "the peer that tried to leave is neither in the room nor gone: {status}"
    );
}

/// A data directory that does not exist yet, nor its parents, is created on first use,
/// private to the user the executable runs as.
#[test]
fn a_missing_data_directory_is_created_with_its_parents() {
    let site = Site::with_settings(json!({"data_dir": "private/chat/data"}));
    let data_dir = site.dir.path().join("private/chat/data");
    assert!(!site.dir.path().join("private").exists());
    site.join("r");
    let mode = std::fs::metadata(&data_dir).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o700);
    assert!(data_dir.join(".htaccess").is_file());
}

/// Prepares a site that another user can run: the executable copied into the site's folder
/// (as on a host) and the folder and settings readable by everyone.
fn site_for_another_user(settings: Value) -> (Site, PathBuf) {
    let site = Site::with_settings(settings);
    let executable = site.dir.path().join("webrtc.cgi");
    std::fs::copy(EXECUTABLE, &executable).unwrap();
    std::fs::set_permissions(&executable, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::set_permissions(site.dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::set_permissions(
        site.dir.path().join("webrtc.json"),
        std::fs::Permissions::from_mode(0o644),
    )
    .unwrap();
    (site, executable)
}

/// Runs a join as a user other than the data directory's owner: `nobody` via setpriv when
/// the tests run as root, else the current user against a directory made inaccessible.
fn join_as_other_user(site: &Site, executable: &Path) -> Answer {
    let user = format!("--reuid={OTHER_USER_ID}");
    let group = format!("--regid={OTHER_USER_ID}");
    let wrapper: Vec<&str> = if running_as_root() {
        vec!["setpriv", &user, &group, "--clear-groups"]
    } else {
        vec!["env"]
    };
    let mut command = wrapped_command(
        site,
        &wrapper,
        executable.to_str().unwrap(),
        "POST",
        "mode=join&room=r",
        0,
    );
    parse_answer(&run_raw(&mut command, b""))
}

fn check_data_dir_error(answer: &Answer, site: &Site, fragments: &[&str]) {
    assert_eq!(answer.status, 500, "{answer:?}");
    let message = answer.error();
    for fragment in fragments {
        assert!(
            message.contains(fragment),
            "{message:?} does not say {fragment:?}"
        );
    }
    assert!(
        !answer
            .body
            .contains(site.dir.path().to_string_lossy().as_ref()),
        "the answer shows the server's paths: {message:?}"
    );
}

/// A data directory that belongs to another user (mode 700) is a 500 whose message says
/// what to chmod, not a bare "Internal Server Error".
#[test]
fn a_data_directory_owned_by_another_user_is_a_500_that_says_what_to_chmod() {
    let (site, executable) = site_for_another_user(json!({}));
    std::fs::create_dir(site.data_dir()).unwrap();
    let mode = if running_as_root() { 0o700 } else { 0o000 };
    std::fs::set_permissions(site.data_dir(), std::fs::Permissions::from_mode(mode)).unwrap();
    let answer = join_as_other_user(&site, &executable);
    // Restored first, so that the temporary folder can be removed whatever the outcome.
    std::fs::set_permissions(site.data_dir(), std::fs::Permissions::from_mode(0o700)).unwrap();
    check_data_dir_error(&answer, &site, &["\"data\"", "permission denied", "chmod"]);
}

/// A data directory that its owner cannot write (mode 500, created earlier with its rooms
/// folder) is a 500 whose message says what to chmod.
#[test]
fn a_read_only_data_directory_is_a_500_that_says_what_to_chmod() {
    let (site, executable) = site_for_another_user(json!({}));
    site.join("warmup");
    assert_eq!(site.leave(&site.join("warmup")).status, 200);
    if running_as_root() {
        let status = Command::new("chown")
            .args(["-R", &format!("{OTHER_USER_ID}:{OTHER_USER_ID}")])
            .arg(site.data_dir())
            .status()
            .unwrap();
        assert!(status.success());
    }
    for dir in [site.data_dir().join("rooms"), site.data_dir()] {
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o500)).unwrap();
    }
    let answer = join_as_other_user(&site, &executable);
    for dir in [site.data_dir(), site.data_dir().join("rooms")] {
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).unwrap();
    }
    check_data_dir_error(&answer, &site, &["permission denied", "chmod"]);
}

/// A file where the data directory should be is a 500 that says so.
#[test]
fn a_data_directory_that_is_a_file_is_a_500_that_says_so() {
    let site = Site::new();
    std::fs::write(site.data_dir(), "not a folder").unwrap();
    let answer = site.request("POST", "mode=join&room=r", b"");
    check_data_dir_error(&answer, &site, &["not a folder"]);
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
        let mut child = site
            .command(
                "POST",
                &message_query(&alice),
                &[("CONTENT_LENGTH", &body.len().to_string())],
            )
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
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
    let mut slow = site
        .command(
            "POST",
            &message_query(&alice),
            &[("CONTENT_LENGTH", &body.len().to_string())],
        )
        .spawn()
        .unwrap();
    let mut stdin = slow.stdin.take().unwrap();
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

/// Bodies built to hurt (nesting past the parser's limit, not JSON, not UTF-8, ten thousand
/// keys, a NUL) are refused with a 400 that says what was wrong, store nothing, and leave
/// the sender able to post; deep nesting within the limit arrives intact.
#[test]
fn hostile_bodies_are_refused_with_a_400_and_store_nothing() {
    let site = Site::new();
    let alice = site.join("r");
    let bob = site.join("r");
    let many_keys: String = format!(
        "{{\"type\":\"x\",{}}}",
        (0..10_000)
            .map(|n| format!("\"k{n}\":1"))
            .collect::<Vec<_>>()
            .join(",")
    );
    let deep = |depth: usize| {
        format!(
            "{{\"to\":\"{}\",\"type\":\"deep\",\"data\":{}{}}}",
            bob.id,
            "[".repeat(depth),
            "]".repeat(depth)
        )
    };
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (deep(100_000).into_bytes(), "recursion limit"),
        (deep(5_000).into_bytes(), "recursion limit"),
        (b"not json at all".to_vec(), "not valid JSON"),
        (b"<?xml version=\"1.0\"?><x/>".to_vec(), "not valid JSON"),
        (b"{\"type\":\"x\",\"data\":\"\xff\xfe\"}".to_vec(), "UTF-8"),
        (b"\xc3\x28".to_vec(), "UTF-8"),
        (b"{\"type\":\"x\"}\x00".to_vec(), "not valid JSON"),
        (
            b"{\"type\":\"x\"} {\"type\":\"y\"}".to_vec(),
            "not valid JSON",
        ),
        (b"[]".to_vec(), "not valid JSON"),
        (b"null".to_vec(), "not valid JSON"),
        (many_keys.into_bytes(), "unknown field"),
        (
            b"{\"type\":\"x\",\"type\":\"y\"}".to_vec(),
            "duplicate field",
        ),
        (b"{\"type\":\"x\\ny\"}".to_vec(), "\"type\""),
    ];
    for (body, fragment) in &cases {
        let answer = site.run(
            &mut site.command(
                "POST",
                &message_query(&alice),
                &[("CONTENT_LENGTH", &body.len().to_string())],
            ),
            body,
        );
        let shown = String::from_utf8_lossy(&body[..body.len().min(60)]).into_owned();
        // A body over the size limit is refused before it is read, with its own status.
        if body.len() as u64 > 64 * 1024 {
            assert_eq!(answer.status, 413, "{shown}: {answer:?}");
            continue;
        }
        assert_eq!(answer.status, 400, "{shown}: {answer:?}");
        assert!(
            answer.error().contains(fragment),
            "{shown}: {:?} lacks {fragment:?}",
            answer.error()
        );
    }
    assert!(poll_events(&site, &bob, None).is_empty(), "nothing stored");

    let answer = site.run(
        &mut site.command(
            "POST",
            &message_query(&alice),
            &[("CONTENT_LENGTH", &deep(100).len().to_string())],
        ),
        deep(100).as_bytes(),
    );
    assert_eq!(answer.status, 202, "{answer:?}");
    let events = poll_events(&site, &bob, None);
    let expected: Value =
        serde_json::from_str(&format!("{}{}", "[".repeat(100), "]".repeat(100))).unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].1["data"], expected);

    // Join and leave ignore their bodies, whatever they hold.
    let answer = site.request("POST", "mode=join&room=r", b"\xff\x00{{{{");
    assert_eq!(answer.status, 200, "{answer:?}");
}

/// Checks that a raw answer's header block is well formed and carries nothing injected.
fn check_header_block(label: &str, output: &[u8]) {
    let head = header_block(output);
    assert!(head.starts_with("Status: "), "{label}: {head:?}");
    for line in head.split("\r\n") {
        let (name, value) = line
            .split_once(": ")
            .unwrap_or_else(|| panic!("{label}: a broken header line {line:?} in {head:?}"));
        assert!(
            !name.is_empty()
                && name
                    .bytes()
                    .all(|byte| byte.is_ascii_alphanumeric() || byte == b'-'),
            "{label}: a header name {name:?}"
        );
        assert!(
            !value.contains('\r') && !value.contains('\n'),
            "{label}: {line:?}"
        );
        assert!(
            !name.eq_ignore_ascii_case("set-cookie") && !name.eq_ignore_ascii_case("x-injected"),
            "{label}: a header was injected: {head:?}"
        );
        assert!(
            !value.contains("injected"),
            "{label}: request text reached a header: {line:?}"
        );
    }
}

/// CR and LF, raw or percent-encoded, in every parameter of every mode and in every CGI
/// variable taken from the request never reach the header block: it stays well formed and
/// carries no injected header.
#[test]
fn line_breaks_in_any_parameter_or_variable_never_reach_the_header_block() {
    let site = Site::new();
    let alice = site.join("r");
    let bob = site.join("r");
    let injections = [
        "%0d%0aSet-Cookie:%20injected=1",
        "%0aX-Injected:%201",
        "%0d%0a%0d%0a<p>injected</p>",
        "\r\nSet-Cookie: injected=1",
        "\nX-Injected: 1",
        "x%00%0d%0aSet-Cookie:injected",
    ];
    let modes: Vec<(&str, Vec<(&str, String)>)> = vec![
        ("GET", vec![("room", "r".into())]),
        ("GET", vec![("asset", "app.js".into()), ("v", "1".into())]),
        ("GET", vec![("mode", "check".into())]),
        ("GET", vec![("mode", "probe".into())]),
        ("POST", vec![("mode", "join".into()), ("room", "r".into())]),
        (
            "POST",
            vec![
                ("mode", "post".into()),
                ("room", "r".into()),
                ("peer", alice.id.clone()),
                ("token", alice.token.clone()),
            ],
        ),
        (
            "GET",
            vec![
                ("mode", "sse".into()),
                ("room", "r".into()),
                ("peer", bob.id.clone()),
                ("token", bob.token.clone()),
                ("hold", "0".into()),
                ("last", "0".into()),
            ],
        ),
        (
            "GET",
            vec![
                ("mode", "ice".into()),
                ("room", "r".into()),
                ("peer", bob.id.clone()),
                ("token", bob.token.clone()),
            ],
        ),
    ];
    let body = json!({"to": bob.id, "type": "x"}).to_string();
    for (method, parameters) in &modes {
        for target in 0..=parameters.len() {
            for injection in injections {
                let mut pairs: Vec<String> = parameters
                    .iter()
                    .enumerate()
                    .map(|(index, (key, value))| {
                        if index == target {
                            format!("{key}={value}{injection}")
                        } else {
                            format!("{key}={value}")
                        }
                    })
                    .collect();
                // One past the last parameter: the injection as a parameter name.
                if target == parameters.len() {
                    pairs.push(format!("{injection}=1"));
                }
                let query = pairs.join("&");
                let output = run_raw(
                    &mut site.command(
                        method,
                        &query,
                        &[("CONTENT_LENGTH", &body.len().to_string())],
                    ),
                    body.as_bytes(),
                );
                check_header_block(&query, &output);
            }
        }
    }
    // Variables the web server fills from request headers and the request line.
    let sse_query = format!("{}&hold=0", query_of(&bob, "sse"));
    let variables: Vec<(&str, &str, String)> = vec![
        ("HTTP_LAST_EVENT_ID", "GET", sse_query.clone()),
        ("HTTP_IF_NONE_MATCH", "GET", "asset=app.js".into()),
        ("HTTP_HOST", "GET", "mode=check".into()),
        ("SCRIPT_NAME", "GET", "room=r".into()),
        ("SCRIPT_NAME", "GET", "".into()),
        ("REMOTE_ADDR", "POST", "mode=join&room=r".into()),
        ("REQUEST_METHOD", "", "mode=join&room=r".into()),
        ("CONTENT_LENGTH", "POST", message_query(&alice)),
        ("HTTP_X_FORWARDED_PROTO", "GET", "mode=check".into()),
        ("SERVER_SOFTWARE", "GET", "mode=check".into()),
    ];
    for (name, method, query) in &variables {
        for value in ["1\r\nSet-Cookie: injected=1", "\"x\"\nX-Injected: 1"] {
            let mut command = site.command(method, query, &[]);
            command.env(name, value);
            let output = run_raw(&mut command, b"");
            check_header_block(&format!("{name}={value:?}"), &output);
        }
    }

    // A message whose data holds line breaks reaches the other side as one event.
    let data = "line one\r\nid: 999\r\n\r\nevent: injected\ndata: {}";
    assert_eq!(
        site.post(&alice, json!({"to": bob.id, "type": "x", "data": data}))
            .status,
        202
    );
    let answer = site.sse(&bob, None, 0);
    assert!(!answer.body.contains("\nid: 999"), "{:?}", answer.body);
    assert!(
        !answer.body.contains("\nevent: injected"),
        "{:?}",
        answer.body
    );
    let events = message_events(&answer.body).unwrap();
    assert_eq!(
        events.last().map(|(_, event)| event["data"].clone()),
        Some(json!(data))
    );
}

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
