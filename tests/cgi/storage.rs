//! Storage faults: a full disk or quota (a file size limit, and a real full file system
//! mounted for the test), and data directories that are missing, another user's, read-only
//! or a file. Each is an answer the site owner can act on, and none leaves half a change.
//!
//! Where a fault needs a different process setup (a file size limit, another user, a small
//! file system), the executable is started through a small wrapper.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{json, Value};

use crate::site::*;

/// The user the permission tests run the executable as when the tests run as root, who
/// ignores file permissions: `nobody` on Debian and most other systems.
const OTHER_USER_ID: &str = "65534";

/// Runs its argument with a file size limit of one 512-byte block, as a full disk or an
/// exhausted quota would stop it. SIGXFSZ is ignored, so that a write past the limit fails
/// with EFBIG (which the executable must handle) instead of killing the process.
const FILE_SIZE_LIMIT: &[&str] = &["sh", "-c", "trap '' XFSZ; ulimit -f 1; exec \"$0\""];

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
    let answer = site.run(&mut command, body.as_bytes());
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

/// Eight peers in room `r` that have read (and acknowledged) their join events, so every
/// inbox is one short marker line while the room's state outgrows a 512-byte file limit.
fn room_of_eight_that_read_everything() -> (Site, Vec<Peer>) {
    let site = Site::with_settings(json!({"max_peers": 12}));
    let peers: Vec<Peer> = (0..8).map(|_| site.join("r")).collect();
    for peer in &peers {
        let events = poll_events(&site, peer, None);
        if let Some((last, _)) = events.last() {
            poll_events(&site, peer, Some(*last));
        }
    }
    (site, peers)
}

/// A join refused for a full disk must not announce a peer that never got in: the others
/// would wait for it forever, as no `leave` for it ever comes.
#[test]
fn a_join_refused_for_a_full_disk_announces_no_one() {
    let (site, peers) = room_of_eight_that_read_everything();
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
    let answer = site.run(&mut command, b"");
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
    let (site, peers) = room_of_eight_that_read_everything();
    let leaving = &peers[7];
    let mut command = wrapped_command(
        &site,
        FILE_SIZE_LIMIT,
        EXECUTABLE,
        "POST",
        &query_of(leaving, "leave"),
        0,
    );
    let answer = site.run(&mut command, b"");
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
    site.run(&mut command, b"")
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

/// Runs its argument with the site's data directory on a tmpfs of its own (in a new user
/// and mount namespace, so no privilege is needed and nothing outlives the process) that
/// is full before the executable starts: `fill` is `inodes` (no file can be created) or
/// `blocks` (no byte can be written). The rooms and limits folders exist, as on a site in
/// use, so the first thing that needs space is the request's own.
fn full_file_system(site: &Site, fill: &str) -> Vec<String> {
    let data = site.data_dir();
    std::fs::create_dir_all(&data).unwrap();
    let (options, filler) = match fill {
        "inodes" => (
            "size=1m,nr_inodes=16",
            "i=0; while touch \"$D/fill$i\" 2>/dev/null; do i=$((i+1)); done",
        ),
        _ => (
            "size=64k",
            "dd if=/dev/zero of=\"$D/fill\" bs=4k 2>/dev/null; true",
        ),
    };
    let script = format!(
        "D='{}'; mount -t tmpfs -o {options} tmpfs \"$D\" && mkdir \"$D/rooms\" \"$D/limits\" && {filler} && exec \"$0\"",
        data.display()
    );
    [
        "unshare",
        "--user",
        "--map-root-user",
        "--mount",
        "sh",
        "-c",
        &script,
    ]
    .iter()
    .map(|part| part.to_string())
    .collect()
}

fn check_disk_full(answer: &Answer) {
    assert_eq!(answer.status, 507, "{answer:?}");
    assert!(answer.error().contains("full"), "{answer:?}");
    assert_eq!(answer.header("retry-after"), Some("30"), "{answer:?}");
}

/// ENOSPC is the same 507 wherever it stops a request: creating a room's folder or its
/// lock (once a 500 "data directory" error), the join counter, or a write. The file
/// system is really full here, not simulated by a file size limit (which gives EFBIG).
#[test]
fn enospc_creating_a_room_or_its_lock_is_a_507_like_any_full_disk() {
    let site = Site::new();
    let executable = EXECUTABLE;

    let wrapper = full_file_system(&site, "inodes");
    let wrapper: Vec<&str> = wrapper.iter().map(String::as_str).collect();
    let post = "mode=post&room=fresh&peer=abc&token=def";
    let mut command = wrapped_command(&site, &wrapper, executable, "POST", post, 13);
    check_disk_full(&site.run(&mut command, b"{\"type\":\"x\"}\n"));
    let sse = "mode=sse&room=fresh&peer=abc&token=def&hold=0";
    let mut command = wrapped_command(&site, &wrapper, executable, "GET", sse, 0);
    check_disk_full(&site.run(&mut command, b""));
    let join = "mode=join&room=fresh";
    let mut command = wrapped_command(&site, &wrapper, executable, "POST", join, 0);
    check_disk_full(&site.run(&mut command, b""));

    let wrapper = full_file_system(&site, "blocks");
    let wrapper: Vec<&str> = wrapper.iter().map(String::as_str).collect();
    let mut command = wrapped_command(&site, &wrapper, executable, "POST", join, 0);
    check_disk_full(&site.run(&mut command, b""));
}
