//! The store: rooms, their peers and each peer's inbox of pending messages, kept as files in
//! the data directory. All file access and locking live here, behind an API that speaks of
//! rooms, peers and messages; no other module builds a path inside the data directory.
//!
//! Layout: `rooms/<room>/lock` (the room's lock), `rooms/<room>/peers.json` (who is in the
//! room), `rooms/<room>/inbox-<peer>` (that peer's pending messages, one record a line).
//!
//! Invariants:
//! - Every change to a room happens while holding its lock, and no lock is held while
//!   sleeping or streaming: the SSE loop tails an inbox without the lock (see `InboxTail`).
//! - Inboxes are append-only between compactions; a compaction writes a new file and renames
//!   it over the old one, so a reader never sees a half-compacted inbox.
//! - A writer killed half way leaves at most a torn last line, which readers skip and the
//!   next writer cuts off before appending; every record carries a checksum.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::os::unix::fs::{DirBuilderExt, FileExt as _, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use fs2::FileExt;
use serde::{Deserialize, Serialize};

use crate::config::Settings;
use crate::error::{Error, Result};
use crate::request::{Credentials, PeerId, RoomName};
use crate::secret;

/// How long a request waits for a room's lock before answering 503. Every holder of a lock
/// does a few small file operations, so only a stuck process holds one this long.
const LOCK_TIMEOUT: Duration = Duration::from_secs(3);
/// How often the whole data directory is swept for abandoned rooms, at most.
const SWEEP_INTERVAL_SECONDS: u64 = 60;
/// A sweep looks at this many rooms at most, so one request never does unbounded work.
const SWEEP_MAX_ROOMS: usize = 256;

const LOCK_FILE: &str = "lock";
const PEERS_FILE: &str = "peers.json";
const PEERS_TEMP_FILE: &str = "peers.json.tmp";
const INBOX_PREFIX: &str = "inbox-";

/// Denies web access to the data directory on Apache 2.2 and 2.4 alike, for hosts where it
/// sits inside a web-served folder.
const DENY_ALL_HTACCESS: &str = "# Written by webrtc.cgi: this folder holds private call data.
<IfModule mod_authz_core.c>
    Require all denied
</IfModule>
<IfModule !mod_authz_core.c>
    Order allow,deny
    Deny from all
</IfModule>
";

pub struct Store {
    data_dir: PathBuf,
    rooms_dir: PathBuf,
    /// A short name for the data directory in messages the site owner reads.
    shown_name: String,
    peer_timeout_seconds: u64,
    max_peers: usize,
    max_backlog_bytes: u64,
    max_joins_per_minute: u64,
    max_posts_per_second: u64,
}

/// Posts are counted over windows this long, so a burst (an offer with its candidates) is
/// not punished while a sustained flood is.
const POST_WINDOW_SECONDS: u64 = 10;
/// How stale a peer's saved presence may get before an SSE request renews it (at most a
/// quarter of the presence timeout).
const TOUCH_INTERVAL_SECONDS: u64 = 5;
const JOIN_WINDOW_SECONDS: u64 = 60;

/// One stored message, as read back from an inbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub id: u64,
    /// The message as one line of JSON: `{"from": ..., "type": ..., "data": ...}`. Empty in a
    /// marker record, which only remembers the last id after a compaction emptied the inbox.
    pub payload: String,
}

#[derive(Serialize, Deserialize, Default)]
struct RoomState {
    peers: Vec<PeerEntry>,
    /// Set by the first joiner of a sealed room and never cleared; absent from the files of
    /// rooms that are not sealed (so theirs read and write as before sealing existed).
    #[serde(default, skip_serializing_if = "is_false")]
    sealed: bool,
}

fn is_false(value: &bool) -> bool {
    !*value
}

#[derive(Serialize, Deserialize, Clone)]
struct PeerEntry {
    id: String,
    token: String,
    /// Unix seconds of this peer's last SSE request (or of its join).
    seen: u64,
}

pub struct Joined {
    pub peer: PeerId,
    pub token: String,
    /// The other peers, oldest first.
    pub others: Vec<PeerId>,
}

/// A locked room. The lock is released when this value is dropped; `finish` writes what
/// changed first.
pub struct Room<'store> {
    store: &'store Store,
    dir: PathBuf,
    state: RoomState,
    state_changed: bool,
    // Held for its lock; closing the file releases the flock.
    _lock: File,
}

impl Store {
    /// Opens (and on first use creates) the data directory.
    pub fn open(settings: &Settings) -> Result<Store> {
        let data_dir = settings.data_dir.clone();
        let shown_name = data_dir
            .file_name()
            .map(|name| name.to_string_lossy().into_owned())
            .unwrap_or_else(|| "data directory".to_string());
        let store = Store {
            rooms_dir: data_dir.join("rooms"),
            data_dir,
            shown_name,
            peer_timeout_seconds: u64::from(settings.peer_timeout_seconds),
            max_peers: settings.max_peers,
            max_backlog_bytes: settings.max_backlog_bytes,
            max_joins_per_minute: u64::from(settings.max_joins_per_minute),
            max_posts_per_second: u64::from(settings.max_posts_per_second),
        };
        if !store.rooms_dir.is_dir() {
            store
                .create()
                .map_err(|error| store.data_dir_error(&error))?;
        }
        Ok(store)
    }

    fn create(&self) -> io::Result<()> {
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&self.data_dir)?;
        write_new_file(
            &self.data_dir.join(".htaccess"),
            DENY_ALL_HTACCESS.as_bytes(),
        )?;
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&self.rooms_dir)?;
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(self.data_dir.join("limits"))
    }

    /// Counts a join from this address, refusing it when the address made too many in the
    /// last minute. The address is kept only as a hash, in a file that the sweep removes.
    pub fn admit_join(&self, address: &str, now: u64) -> Result<()> {
        let hash = fnv1a(address.as_bytes());
        let limits_dir = self.data_dir.join("limits");
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&limits_dir)
            .map_err(|error| self.data_dir_error(&error))?;
        let path = limits_dir.join(format!("join-{hash:016x}"));
        let counter = open_or_create(&path).map_err(|error| self.data_dir_error(&error))?;
        // This lock is separate from every room lock and held for one read and one write.
        wait_for_lock(&counter, Instant::now() + LOCK_TIMEOUT)?;
        let admitted = count_in_window(
            &counter,
            now,
            JOIN_WINDOW_SECONDS,
            self.max_joins_per_minute,
        )?;
        admitted.map_err(|retry_after_seconds| Error::TooManyRequests {
            message: format!(
                "too many joins from this address: at most {} a minute",
                self.max_joins_per_minute
            ),
            retry_after_seconds,
        })
    }

    /// Explains a data directory that cannot be used in words the site owner can act on.
    fn data_dir_error(&self, error: &io::Error) -> Error {
        eprintln!(
            "webrtc.cgi: data directory {}: {error}",
            self.data_dir.display()
        );
        let name = &self.shown_name;
        let advice = match error.raw_os_error() {
            Some(13) | Some(1) => format!(
                "the data directory \"{name}\" cannot be created or written: permission denied. It must belong to the user the web server runs webrtc.cgi as (your account on suEXEC hosts) with mode 700: delete it and let webrtc.cgi create it, or chmod 700 it, or make the folder that holds it writable (chmod 755)"
            ),
            Some(30) => format!(
                "the data directory \"{name}\" is on a read-only file system; set data_dir in webrtc.json to a writable folder"
            ),
            Some(28) | Some(122) => format!(
                "the disk or quota holding the data directory \"{name}\" is full"
            ),
            Some(20) | Some(17) => format!(
                "\"{name}\" exists but is not a folder; remove it or set data_dir in webrtc.json"
            ),
            _ => format!("the data directory \"{name}\" cannot be used: {}", error.kind()),
        };
        Error::DataDirectory(advice)
    }

    /// Takes the lock of a room, creating the room on first use.
    pub fn lock_room(&self, room: &RoomName) -> Result<Room<'_>> {
        let dir = self.rooms_dir.join(room.as_str());
        let deadline = Instant::now() + LOCK_TIMEOUT;
        loop {
            let lock = match self.open_lock(&dir) {
                Ok(lock) => lock,
                // The room was deleted between creating its folder and opening its lock.
                Err(error) if error.kind() == io::ErrorKind::NotFound => {
                    if Instant::now() > deadline {
                        return Err(Error::Busy(
                            "the room could not be opened; try again".to_string(),
                        ));
                    }
                    thread::sleep(Duration::from_millis(1));
                    continue;
                }
                Err(error) => return Err(self.data_dir_error(&error)),
            };
            wait_for_lock(&lock, deadline)?;
            // Whoever deletes an empty room unlinks its lock while holding it; if that
            // happened while this request waited, the lock it now holds guards nothing.
            if is_same_file(&lock, &dir.join(LOCK_FILE)) {
                return self.locked_room(dir, lock);
            }
        }
    }

    fn open_lock(&self, dir: &Path) -> io::Result<File> {
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)?;
        open_or_create(&dir.join(LOCK_FILE))
    }

    /// Removes abandoned rooms (every peer gone without a word) once a minute at most,
    /// piggy-backed on an ordinary request so that no cron job is needed. Rooms that are
    /// busy are left for the next sweep.
    pub fn sweep_if_due(&self, now: u64) {
        let stamp = self.data_dir.join("last-sweep");
        if let Some(age) = seconds_since_modified(fs::metadata(&stamp), now) {
            if age < SWEEP_INTERVAL_SECONDS {
                return;
            }
        }
        let touched = open_or_create(&stamp).and_then(|file| file.set_modified(SystemTime::now()));
        if touched.is_err() {
            return;
        }
        self.sweep_limits(now);
        let Ok(entries) = fs::read_dir(&self.rooms_dir) else {
            return;
        };
        for entry in entries.flatten().take(SWEEP_MAX_ROOMS) {
            let Some(room) = entry
                .file_name()
                .to_str()
                .and_then(|name| RoomName::parse(name).ok())
            else {
                continue;
            };
            // Every join, leave and presence update renames peers.json into the room's
            // folder, so the folder's mtime is the room's last sign of life.
            let idle = seconds_since_modified(entry.metadata(), now).unwrap_or(0);
            if idle <= self.peer_timeout_seconds {
                continue;
            }
            if let Ok(mut room) = self.try_lock_room_once(&room) {
                room.expire_stale(now);
                if let Err(error) = room.finish() {
                    eprintln!("webrtc.cgi: sweeping room: {error}");
                }
            }
        }
    }

    /// Proves the data directory works: creates a throw-away room, locks it, writes and reads
    /// a file in it, and deletes it again. Used by the self-check page.
    pub fn self_test(&self) -> Result<()> {
        let room = RoomName::parse(&format!("self-check-{}", secret::random_name(8)))?;
        let locked = self.lock_room(&room)?;
        let probe = locked.dir.join("probe");
        write_file(&probe, b"ok").map_err(|error| self.data_dir_error(&error))?;
        let read_back = fs::read(&probe).map_err(|error| self.data_dir_error(&error))?;
        locked.finish()?;
        if read_back == b"ok" {
            Ok(())
        } else {
            Err(Error::Internal(
                "a file written to the data directory read back differently".to_string(),
            ))
        }
    }

    /// Deletes join counters whose window has long passed.
    fn sweep_limits(&self, now: u64) {
        let Ok(entries) = fs::read_dir(self.data_dir.join("limits")) else {
            return;
        };
        for entry in entries.flatten().take(SWEEP_MAX_ROOMS) {
            let idle = seconds_since_modified(entry.metadata(), now).unwrap_or(0);
            if idle > 2 * JOIN_WINDOW_SECONDS {
                let _ = fs::remove_file(entry.path());
            }
        }
    }

    fn try_lock_room_once(&self, room: &RoomName) -> Result<Room<'_>> {
        let dir = self.rooms_dir.join(room.as_str());
        let lock = OpenOptions::new()
            .read(true)
            .write(true)
            .open(dir.join(LOCK_FILE))?;
        lock.try_lock_exclusive()?;
        if !is_same_file(&lock, &dir.join(LOCK_FILE)) {
            return Err(Error::Busy("room deleted meanwhile".to_string()));
        }
        self.locked_room(dir, lock)
    }

    /// The guard of a room whose lock `lock` holds and is still the room's own.
    fn locked_room(&self, dir: PathBuf, lock: File) -> Result<Room<'_>> {
        let state = read_state(&dir)?;
        Ok(Room {
            store: self,
            dir,
            state,
            state_changed: false,
            _lock: lock,
        })
    }
}

impl Room<'_> {
    fn inbox_path(&self, peer: &str) -> PathBuf {
        self.dir.join(format!("{INBOX_PREFIX}{peer}"))
    }

    fn peer_index(&self, peer: &PeerId) -> Option<usize> {
        self.state
            .peers
            .iter()
            .position(|entry| entry.id == peer.as_str())
    }

    /// Checks that the peer is in the room and that the token is its own.
    pub fn authenticate(&self, credentials: &Credentials) -> Result<()> {
        let Some(index) = self.peer_index(&credentials.peer) else {
            return Err(Error::UnknownPeer(format!(
                "peer \"{}\" is not in this room (it left or expired): join again",
                credentials.peer.as_str()
            )));
        };
        let expected = self.state.peers[index].token.as_bytes();
        if secret::constant_time_eq(expected, credentials.token.as_bytes()) {
            Ok(())
        } else {
            Err(Error::Forbidden(
                "wrong token for this peer: only the peer that joined can do this".to_string(),
            ))
        }
    }

    /// Removes peers whose last SSE request is older than the presence timeout, and tells
    /// the others they left. When the change cannot be saved (a full disk), the peers stay
    /// for a later request to expire.
    pub fn expire_stale(&mut self, now: u64) {
        let timeout = self.store.peer_timeout_seconds;
        let stale: Vec<String> = self
            .state
            .peers
            .iter()
            .filter(|entry| now.saturating_sub(entry.seen) > timeout)
            .map(|entry| entry.id.clone())
            .collect();
        if stale.is_empty() {
            return;
        }
        if let Err(error) = self.remove_peers(&stale) {
            eprintln!("webrtc.cgi: expiring peers: {error}");
        }
    }

    /// Adds a new peer. The others receive a `join` event naming it.
    pub fn join(&mut self, now: u64) -> Result<Joined> {
        if self.state.peers.len() >= self.store.max_peers {
            return Err(Error::RoomFull(format!(
                "this room is full: it holds at most {} people",
                self.store.max_peers
            )));
        }
        let mut id = secret::peer_id();
        while self.state.peers.iter().any(|entry| entry.id == id) {
            id = secret::peer_id();
        }
        let token = secret::token();
        let others: Vec<PeerId> = self
            .state
            .peers
            .iter()
            .map(|entry| PeerId::generated(entry.id.clone()))
            .collect();
        // The new peer exists once peers.json lists it; its inbox comes first so that a
        // listed peer always has one, and the others hear of it only after that, so that a
        // join refused for a full disk leaves no trace anyone could see.
        let inbox = self.inbox_path(&id);
        write_new_file(&inbox, b"").map_err(Error::from_storage)?;
        self.state.peers.push(PeerEntry {
            id: id.clone(),
            token: token.clone(),
            seen: now,
        });
        self.state_changed = true;
        if let Err(error) = self.save_state() {
            self.state.peers.pop();
            let _ = fs::remove_file(&inbox);
            return Err(error);
        }
        let event = server_event(&id, "join");
        for other in &others {
            // The newcomer makes the offers, so a peer that misses this event still meets
            // it; one full inbox must not undo a join that is already saved.
            if let Err(error) = append_to_inbox(&self.inbox_path(other.as_str()), &event) {
                eprintln!("webrtc.cgi: announcing a join: {error}");
            }
        }
        Ok(Joined {
            peer: PeerId::generated(id),
            token,
            others,
        })
    }

    /// Records that the peer is present (it opened an SSE request). The time is saved only
    /// when it is a few seconds old: polling clients ask every second, and presence is
    /// judged in tens of seconds, so rewriting peers.json each time would buy nothing.
    pub fn touch(&mut self, peer: &PeerId, now: u64) {
        if let Some(index) = self.peer_index(peer) {
            let interval = TOUCH_INTERVAL_SECONDS.min(self.store.peer_timeout_seconds / 4);
            if now.saturating_sub(self.state.peers[index].seen) >= interval {
                self.state.peers[index].seen = now;
                self.state_changed = true;
            }
        }
    }

    /// Stores a message from `from` for `to`, or for every other peer when `to` is `None`.
    /// Either every recipient has room in its backlog and all get it, or none does.
    /// Returns how many recipients it was stored for.
    pub fn deliver(
        &mut self,
        from: &PeerId,
        to: Option<&PeerId>,
        kind: &str,
        data: Option<&str>,
        now: u64,
    ) -> Result<usize> {
        let recipients: Vec<String> = match to {
            Some(to) if to == from => {
                return Err(Error::BadRequest(
                    "\"to\" names the sender itself".to_string(),
                ))
            }
            Some(to) => match self.peer_index(to) {
                Some(_) => vec![to.as_str().to_string()],
                None => {
                    return Err(Error::RecipientGone(format!(
                        "peer \"{}\" is not in this room (any more)",
                        to.as_str()
                    )))
                }
            },
            None => self
                .state
                .peers
                .iter()
                .filter(|entry| entry.id != from.as_str())
                .map(|entry| entry.id.clone())
                .collect(),
        };
        self.count_post(from, now)?;
        let payload = match data {
            Some(data) => format!(
                "{{\"from\":\"{}\",\"type\":\"{kind}\",\"data\":{data}}}",
                from.as_str()
            ),
            None => format!("{{\"from\":\"{}\",\"type\":\"{kind}\"}}", from.as_str()),
        };
        let limit = self.store.max_backlog_bytes;
        let mut inboxes = Vec::with_capacity(recipients.len());
        for recipient in &recipients {
            let inbox = match InboxEnd::open(&self.inbox_path(recipient)) {
                Ok(inbox) => inbox,
                // Only a crash between saving peers.json and creating an inbox leaves a listed
                // peer without one; it counts as gone and expires with time.
                Err(error) if error.kind() == io::ErrorKind::NotFound => {
                    if to.is_some() {
                        return Err(Error::RecipientGone(format!(
                            "peer \"{recipient}\" is not in this room (any more)"
                        )));
                    }
                    continue;
                }
                Err(error) => return Err(Error::from_storage(error)),
            };
            if inbox.valid_len + record_len(&payload) > limit {
                return Err(Error::TooManyRequests {
                    message: format!(
                        "peer \"{recipient}\" has too many unread messages ({} bytes waiting); try again when it has caught up",
                        inbox.valid_len
                    ),
                    retry_after_seconds: 2,
                });
            }
            inboxes.push(inbox);
        }
        for inbox in &mut inboxes {
            inbox.append(&payload)?;
        }
        Ok(inboxes.len())
    }

    /// Counts a post by `from`, refusing it when the peer posts faster than allowed. The
    /// counter lives beside the inbox and goes with the peer.
    fn count_post(&self, from: &PeerId, now: u64) -> Result<()> {
        let counter = open_or_create(&self.rate_path(from.as_str()))?;
        let limit = self.store.max_posts_per_second * POST_WINDOW_SECONDS;
        let admitted = count_in_window(&counter, now, POST_WINDOW_SECONDS, limit)?;
        admitted.map_err(|retry_after_seconds| Error::TooManyRequests {
            message: format!(
                "this peer posts too fast: at most {} messages a second",
                self.store.max_posts_per_second
            ),
            retry_after_seconds,
        })
    }

    fn rate_path(&self, peer: &str) -> PathBuf {
        self.dir.join(format!("rate-{peer}"))
    }

    /// Removes the peer from the room; the others receive a `leave` event.
    pub fn leave(&mut self, peer: &PeerId) -> Result<()> {
        self.remove_peers(&[peer.as_str().to_string()])
    }

    /// Removes peers: first from peers.json, and only once that is saved, their files and
    /// the `leave` events, so that a removal refused for a full disk changes nothing.
    fn remove_peers(&mut self, peers: &[String]) -> Result<()> {
        let before = self.state.peers.clone();
        self.state.peers.retain(|entry| !peers.contains(&entry.id));
        self.state_changed = true;
        // An emptied room needs no saving: `finish` deletes it, which needs no space.
        if !self.state.peers.is_empty() {
            if let Err(error) = self.save_state() {
                self.state.peers = before;
                self.state_changed = false;
                return Err(error);
            }
        }
        for peer in peers {
            for path in [self.inbox_path(peer), self.rate_path(peer)] {
                if let Err(error) = fs::remove_file(path) {
                    if error.kind() != io::ErrorKind::NotFound {
                        eprintln!("webrtc.cgi: removing a peer's file: {error}");
                    }
                }
            }
        }
        let remaining: Vec<PathBuf> = self
            .state
            .peers
            .iter()
            .map(|entry| self.inbox_path(&entry.id))
            .collect();
        for peer in peers {
            let event = server_event(peer, "leave");
            for inbox in &remaining {
                // A failure to tell one peer must not stop the others from being told; that
                // peer finds out when its connection to the one that left fails.
                if let Err(error) = append_to_inbox(inbox, &event) {
                    eprintln!("webrtc.cgi: telling a peer about a leave: {error}");
                }
            }
        }
        Ok(())
    }

    /// Deletes the peer's messages up to `acknowledged` (the client has them), then returns
    /// the pending ones and a tail that follows the inbox for new ones.
    pub fn open_inbox(
        &mut self,
        peer: &PeerId,
        acknowledged: Option<u64>,
    ) -> Result<(Vec<Record>, InboxTail)> {
        let path = self.inbox_path(peer.as_str());
        let mut inbox = match InboxContents::read(&path) {
            Ok(inbox) => inbox,
            Err(error) if error.kind() == io::ErrorKind::NotFound => {
                return Err(Error::UnknownPeer(format!(
                    "peer \"{}\" has lost its messages: join again",
                    peer.as_str()
                )))
            }
            Err(error) => return Err(Error::from_storage(error)),
        };
        let acknowledged = acknowledged.unwrap_or(0);
        if acknowledged > inbox.last_id {
            return Err(Error::BadRequest(format!(
                "Last-Event-ID {acknowledged} is ahead of this stream, whose last id is {}",
                inbox.last_id
            )));
        }
        if inbox.records.iter().any(|record| record.id <= acknowledged) {
            inbox = inbox.compact(&path, acknowledged)?;
        }
        let pending: Vec<Record> = inbox
            .records
            .iter()
            .filter(|record| record.id > acknowledged && !record.payload.is_empty())
            .cloned()
            .collect();
        let last_sent = pending.last().map_or(acknowledged, |record| record.id);
        let tail = InboxTail {
            identity: file_identity(&inbox.file)?,
            file: inbox.file,
            offset: inbox.valid_len,
            last_sent,
            path,
        };
        Ok((pending, tail))
    }

    /// Writes what changed; an empty room is deleted altogether, so abandoned rooms leave
    /// no files behind.
    pub fn finish(mut self) -> Result<()> {
        if self.state.peers.is_empty() {
            self.delete();
            return Ok(());
        }
        self.save_state()
    }

    /// Replaces peers.json with the current state, if it changed.
    fn save_state(&mut self) -> Result<()> {
        if !self.state_changed {
            return Ok(());
        }
        let text = serde_json::to_vec(&self.state)
            .map_err(|error| Error::Internal(format!("serialising peers: {error}")))?;
        let temp = self.dir.join(PEERS_TEMP_FILE);
        let written =
            write_file(&temp, &text).and_then(|()| fs::rename(&temp, self.dir.join(PEERS_FILE)));
        if let Err(error) = written {
            let _ = fs::remove_file(&temp);
            return Err(Error::from_storage(error));
        }
        self.state_changed = false;
        Ok(())
    }

    fn delete(&self) {
        if let Ok(entries) = fs::read_dir(&self.dir) {
            for entry in entries.flatten() {
                if entry.file_name() != LOCK_FILE {
                    let _ = fs::remove_file(entry.path());
                }
            }
        }
        // The lock goes last, still held, so a waiting request notices (see lock_room).
        let _ = fs::remove_file(self.dir.join(LOCK_FILE));
        // Fails harmlessly when a new request recreated the lock meanwhile.
        let _ = fs::remove_dir(&self.dir);
    }
}

/// Follows an inbox without holding the room's lock, for a held SSE response.
pub struct InboxTail {
    path: PathBuf,
    file: File,
    identity: (u64, u64),
    /// Where the next unread line starts.
    offset: u64,
    last_sent: u64,
}

pub enum TailPoll {
    Records(Vec<Record>),
    /// The inbox is gone: the peer left or expired.
    Gone,
}

impl InboxTail {
    /// Returns the records stored since the last call, in id order, each once.
    pub fn poll(&mut self) -> io::Result<TailPoll> {
        let metadata = match fs::metadata(&self.path) {
            Ok(metadata) => metadata,
            Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(TailPoll::Gone),
            Err(error) => return Err(error),
        };
        if (metadata.dev(), metadata.ino()) != self.identity {
            // Compacted by a newer request of the same peer: start over in the new file;
            // ids already sent are skipped below.
            self.file = File::open(&self.path)?;
            self.identity = file_identity(&self.file)?;
            self.offset = 0;
        } else if metadata.len() == self.offset {
            return Ok(TailPoll::Records(Vec::new()));
        } else if metadata.len() < self.offset {
            self.offset = 0;
        }
        let mut bytes = Vec::new();
        self.file.seek(SeekFrom::Start(self.offset))?;
        (&self.file).read_to_end(&mut bytes)?;
        let (records, consumed) = parse_records(&bytes);
        self.offset += consumed as u64;
        let fresh: Vec<Record> = records
            .into_iter()
            .filter(|record| record.id > self.last_sent && !record.payload.is_empty())
            .collect();
        if let Some(record) = fresh.last() {
            self.last_sent = record.id;
        }
        Ok(TailPoll::Records(fresh))
    }

    /// A watch on this inbox, or None where the system offers none (not Linux, or the
    /// account's inotify instances are used up): the stream then polls more often instead.
    pub fn watch(&self) -> Option<InboxWatch> {
        InboxWatch::new(&self.path)
    }
}

/// Wakes a held stream as soon as its inbox changes, through inotify on the room's folder:
/// an append, the rename of a compaction, or a deletion. A message then waits microseconds
/// instead of half a poll interval, and an idle stream wakes rarely.
pub struct InboxWatch {
    fd: std::os::fd::OwnedFd,
    name: Vec<u8>,
}

impl InboxWatch {
    fn new(inbox: &Path) -> Option<InboxWatch> {
        use std::os::fd::FromRawFd as _;
        use std::os::unix::ffi::OsStrExt as _;

        let folder = std::ffi::CString::new(inbox.parent()?.as_os_str().as_bytes()).ok()?;
        let name = inbox.file_name()?.as_bytes().to_vec();
        // SAFETY: inotify_init1 takes flags only; a valid descriptor is owned from here on.
        let raw = unsafe { libc::inotify_init1(libc::IN_NONBLOCK | libc::IN_CLOEXEC) };
        if raw < 0 {
            return None;
        }
        // SAFETY: `raw` is a fresh descriptor that nothing else owns.
        let fd = unsafe { std::os::fd::OwnedFd::from_raw_fd(raw) };
        let events = libc::IN_MODIFY | libc::IN_MOVED_TO | libc::IN_DELETE | libc::IN_DELETE_SELF;
        // SAFETY: the descriptor is open and `folder` is a NUL-terminated path.
        let added = unsafe { libc::inotify_add_watch(raw, folder.as_ptr(), events) };
        (added >= 0).then_some(InboxWatch { fd, name })
    }

    /// Returns once the inbox may have changed (true), or after `timeout` (false).
    pub fn wait(&mut self, timeout: Duration) -> bool {
        use std::os::fd::AsRawFd as _;

        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            let mut ready = libc::pollfd {
                fd: self.fd.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            };
            let millis = left.as_micros().div_ceil(1000).min(i32::MAX as u128) as i32;
            // SAFETY: one valid pollfd, and its count.
            match unsafe { libc::poll(&mut ready, 1, millis) } {
                0 => return false,
                // Interrupted, or something unexpected: the caller had better look.
                n if n < 0 => return true,
                _ => {}
            }
            if self.read_events() {
                return true;
            }
        }
    }

    /// Reads what is queued; true if any of it may concern this inbox.
    fn read_events(&mut self) -> bool {
        use std::os::fd::AsRawFd as _;

        // Room for many events; names in a room folder are short.
        let mut buffer = [0u8; 4096];
        let mut relevant = false;
        loop {
            // SAFETY: the buffer is valid for its length; the descriptor is open.
            let read = unsafe {
                libc::read(
                    self.fd.as_raw_fd(),
                    buffer.as_mut_ptr().cast(),
                    buffer.len(),
                )
            };
            let Ok(read) = usize::try_from(read) else {
                // EAGAIN: drained. Any other error: look at the inbox to be safe.
                return relevant || io::Error::last_os_error().kind() != io::ErrorKind::WouldBlock;
            };
            if read == 0 {
                return true;
            }
            relevant |= events_concern(&buffer[..read], &self.name);
        }
    }
}

/// Whether inotify events (as read from the descriptor) concern the file `name`: an event
/// naming it, one about the watched folder itself, or a lost-events overflow.
fn events_concern(mut events: &[u8], name: &[u8]) -> bool {
    const HEADER: usize = 16;
    while events.len() >= HEADER {
        let field = |at: usize| {
            u32::from_ne_bytes([events[at], events[at + 1], events[at + 2], events[at + 3]])
        };
        let mask = field(4);
        let length = field(12) as usize;
        let Some(event_name) = events.get(HEADER..HEADER + length) else {
            return true;
        };
        let event_name = event_name
            .split(|byte| *byte == 0)
            .next()
            .unwrap_or_default();
        if event_name == name || event_name.is_empty() || mask & libc::IN_Q_OVERFLOW != 0 {
            return true;
        }
        events = &events[HEADER + length..];
    }
    false
}

/// The end of an inbox, for appending: where the complete lines end and the last id, found
/// by reading only the last few KiB, so a post costs the same however much is waiting.
struct InboxEnd {
    file: File,
    /// Length of the complete lines; anything after it is a torn write.
    valid_len: u64,
    len: u64,
    /// The highest id ever stored here (markers included), 0 for none.
    last_id: u64,
}

/// How much of an inbox's end is read first to find its last record; doubled (four times)
/// until a whole record is in view.
const END_WINDOW_BYTES: u64 = 4096;

impl InboxEnd {
    fn open(path: &Path) -> io::Result<InboxEnd> {
        let file = OpenOptions::new().read(true).write(true).open(path)?;
        let len = file.metadata()?.len();
        let mut window = END_WINDOW_BYTES;
        loop {
            let start = len.saturating_sub(window);
            let mut bytes = vec![0; (len - start) as usize];
            file.read_exact_at(&mut bytes, start)?;
            let complete = bytes
                .iter()
                .rposition(|&byte| byte == b'\n')
                .map(|end| &bytes[..end]);
            if let Some(complete) = complete {
                let valid_len = start + complete.len() as u64 + 1;
                // The window's first line may begin before the window; it is not trusted.
                let skip = usize::from(start > 0);
                let last = complete
                    .split(|&byte| byte == b'\n')
                    .skip(skip)
                    .filter_map(parse_record)
                    .last();
                if let Some(record) = last {
                    return Ok(InboxEnd {
                        file,
                        valid_len,
                        len,
                        last_id: record.id,
                    });
                }
                if start == 0 {
                    return Ok(InboxEnd {
                        file,
                        valid_len,
                        len,
                        last_id: 0,
                    });
                }
            } else if start == 0 {
                // No complete line at all: empty, or one torn line.
                return Ok(InboxEnd {
                    file,
                    valid_len: 0,
                    len,
                    last_id: 0,
                });
            }
            window *= 4;
        }
    }

    fn append(&mut self, payload: &str) -> Result<u64> {
        if self.len != self.valid_len {
            // A writer died half way through a line; nobody has read it as a record.
            self.file.set_len(self.valid_len)?;
            self.len = self.valid_len;
        }
        let id = self.last_id + 1;
        let line = encode_record(id, payload);
        self.file.seek(SeekFrom::Start(self.valid_len))?;
        if let Err(error) = self.file.write_all(line.as_bytes()) {
            // Leave no partial line behind, so the inbox stays clean for the next writer.
            let _ = self.file.set_len(self.valid_len);
            return Err(Error::from_storage(error));
        }
        self.valid_len += line.len() as u64;
        self.len = self.valid_len;
        self.last_id = id;
        Ok(id)
    }
}

/// An inbox read whole, for its owner's event stream.
struct InboxContents {
    file: File,
    records: Vec<Record>,
    /// Length of the complete lines; anything after it is a torn write.
    valid_len: u64,
    /// The highest id ever stored here (markers included), 0 for none.
    last_id: u64,
}

impl InboxContents {
    fn read(path: &Path) -> io::Result<InboxContents> {
        let mut file = File::open(path)?;
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes)?;
        let (records, consumed) = parse_records(&bytes);
        let last_id = records.iter().map(|record| record.id).max().unwrap_or(0);
        Ok(InboxContents {
            file,
            records,
            valid_len: consumed as u64,
            last_id,
        })
    }

    /// Rewrites the inbox without the records up to `acknowledged`, keeping the last id.
    fn compact(self, path: &Path, acknowledged: u64) -> Result<InboxContents> {
        let records: Vec<Record> = self
            .records
            .into_iter()
            .filter(|record| record.id > acknowledged && !record.payload.is_empty())
            .collect();
        let mut text = String::new();
        if records.is_empty() {
            text.push_str(&encode_record(self.last_id, ""));
        }
        for record in &records {
            text.push_str(&encode_record(record.id, &record.payload));
        }
        let mut temp_name = path.as_os_str().to_owned();
        temp_name.push(".tmp");
        let temp = PathBuf::from(temp_name);
        let written = write_file(&temp, text.as_bytes()).and_then(|()| fs::rename(&temp, path));
        if let Err(error) = written {
            let _ = fs::remove_file(&temp);
            return Err(Error::from_storage(error));
        }
        // Opened after the rename under the room's lock, so this is the file just written.
        let file = File::open(path).map_err(Error::from_storage)?;
        Ok(InboxContents {
            file,
            records,
            valid_len: text.len() as u64,
            last_id: self.last_id,
        })
    }
}

fn append_to_inbox(path: &Path, payload: &str) -> Result<()> {
    let mut inbox = InboxEnd::open(path)?;
    inbox.append(payload).map(|_| ())
}

/// A fixed-window counter in a small file: `window_start count`. Returns `Ok(Err(seconds))`
/// when the window's limit is reached, with the seconds until the window ends. The caller
/// holds a lock that covers the file.
fn count_in_window(
    mut counter: &File,
    now: u64,
    window_seconds: u64,
    limit: u64,
) -> Result<Result<(), u32>> {
    let mut text = String::new();
    counter.read_to_string(&mut text)?;
    let mut fields = text
        .split_whitespace()
        .map(|field| field.parse::<u64>().ok());
    let (mut start, mut count) = match (fields.next().flatten(), fields.next().flatten()) {
        (Some(start), Some(count)) if start <= now => (start, count),
        _ => (now, 0),
    };
    if now >= start + window_seconds {
        start = now;
        count = 0;
    }
    if count >= limit {
        let wait = (start + window_seconds - now).max(1);
        return Ok(Err(u32::try_from(wait).unwrap_or(u32::MAX)));
    }
    let updated = format!("{start} {}\n", count + 1);
    counter.seek(SeekFrom::Start(0))?;
    counter.set_len(0)?;
    counter.write_all(updated.as_bytes())?;
    Ok(Ok(()))
}

fn server_event(peer: &str, kind: &str) -> String {
    format!("{{\"from\":\"{peer}\",\"type\":\"{kind}\"}}")
}

/// FNV-1a, 64 bits, over `id TAB payload`: enough to tell a damaged line from a whole one.
fn checksum(id: u64, payload: &str) -> u64 {
    // The id's decimal digits, without allocating: this runs for every record read.
    let mut digits = [0u8; 20];
    let mut start = digits.len();
    let mut rest = id;
    loop {
        start -= 1;
        digits[start] = b'0' + (rest % 10) as u8;
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    fnv1a(
        digits[start..]
            .iter()
            .chain(b"\t")
            .chain(payload.as_bytes()),
    )
}

/// FNV-1a, 64 bits: cheap, and good enough to spread addresses and catch damaged lines.
fn fnv1a<'a>(bytes: impl IntoIterator<Item = &'a u8>) -> u64 {
    bytes.into_iter().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// One record a line: `id TAB checksum TAB payload LF`. The payload never holds a line
/// break (the request parser guarantees it).
fn encode_record(id: u64, payload: &str) -> String {
    format!("{id}\t{:016x}\t{payload}\n", checksum(id, payload))
}

fn record_len(payload: &str) -> u64 {
    // id (up to 20 digits), checksum, two tabs, newline.
    payload.len() as u64 + 40
}

/// Parses the complete lines of an inbox. Returns the valid records and the length of the
/// complete lines; a damaged line is skipped, a torn last line (no newline) is not counted.
pub fn parse_records(bytes: &[u8]) -> (Vec<Record>, usize) {
    let consumed = bytes
        .iter()
        .rposition(|&byte| byte == b'\n')
        .map_or(0, |position| position + 1);
    let records = bytes[..consumed]
        .split(|&byte| byte == b'\n')
        .filter_map(parse_record)
        .collect();
    (records, consumed)
}

fn parse_record(line: &[u8]) -> Option<Record> {
    let line = std::str::from_utf8(line).ok()?;
    let mut fields = line.splitn(3, '\t');
    let id_text = fields.next()?;
    let checksum_text = fields.next()?;
    let payload = fields.next()?;
    if id_text.is_empty() || !id_text.bytes().all(|byte| byte.is_ascii_digit()) {
        return None;
    }
    let id: u64 = id_text.parse().ok()?;
    let expected = u64::from_str_radix(checksum_text, 16).ok()?;
    if checksum_text.len() != 16 || checksum(id, payload) != expected || id == 0 {
        return None;
    }
    Some(Record {
        id,
        payload: payload.to_string(),
    })
}

fn read_state(dir: &Path) -> Result<RoomState> {
    match fs::read(dir.join(PEERS_FILE)) {
        Ok(bytes) => serde_json::from_slice(&bytes).map_err(|error| {
            Error::Internal(format!("{PEERS_FILE} of a room is damaged: {error}"))
        }),
        Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(RoomState::default()),
        Err(error) => Err(Error::Io(error)),
    }
}

fn wait_for_lock(lock: &File, deadline: Instant) -> Result<()> {
    let contended = fs2::lock_contended_error().raw_os_error();
    let mut pause = Duration::from_micros(500);
    loop {
        match lock.try_lock_exclusive() {
            Ok(()) => return Ok(()),
            Err(error) if error.raw_os_error() == contended => {}
            Err(error) => {
                return Err(Error::Io(error));
            }
        }
        if Instant::now() >= deadline {
            return Err(Error::Busy(format!(
                "this room has been locked by another request for over {} seconds; try again shortly",
                LOCK_TIMEOUT.as_secs()
            )));
        }
        // Sleeping (never spinning) keeps CPU-second limits of shared hosts intact; the cap
        // keeps the wait short once the holder, typically done in well under a millisecond,
        // lets go.
        thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(8));
    }
}

fn file_identity(file: &File) -> io::Result<(u64, u64)> {
    let metadata = file.metadata()?;
    Ok((metadata.dev(), metadata.ino()))
}

fn is_same_file(file: &File, path: &Path) -> bool {
    match (file_identity(file), fs::metadata(path)) {
        (Ok(identity), Ok(metadata)) => identity == (metadata.dev(), metadata.ino()),
        _ => false,
    }
}

/// Opens a small state file (a lock or a counter) for reading and writing, creating it empty.
fn open_or_create(path: &Path) -> io::Result<File> {
    OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .open(path)
}

fn write_file(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(bytes)
}

/// Creates a file that must not exist yet; an existing one is left as it is.
fn write_new_file(path: &Path, bytes: &[u8]) -> io::Result<()> {
    match OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
    {
        Ok(mut file) => file.write_all(bytes),
        Err(error) if error.kind() == io::ErrorKind::AlreadyExists => Ok(()),
        Err(error) => Err(error),
    }
}

/// How long ago (in seconds before `now`) a file or folder was last modified.
fn seconds_since_modified(metadata: io::Result<fs::Metadata>, now: u64) -> Option<u64> {
    let modified = metadata.and_then(|metadata| metadata.modified()).ok()?;
    Some(now.saturating_sub(unix_seconds(modified)))
}

fn unix_seconds(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH)
        .map_or(0, |duration| duration.as_secs())
}

/// Sealing (PROTOCOL.md, "Sealed rooms"): the first joiner of an empty room may seal it, and
/// a sealed room stays sealed.
impl Room<'_> {
    /// Seals the room when the joiner asks and nobody is in it yet; saved with the join.
    pub fn seal_if_empty(&mut self, sealed: bool) {
        if sealed && !self.state.sealed && self.state.peers.is_empty() {
            self.state.sealed = true;
            self.state_changed = true;
        }
    }

    pub fn is_sealed(&self) -> bool {
        self.state.sealed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_parse(input: &str, expected_ids: &[u64], expected_consumed: usize) {
        let (records, consumed) = parse_records(input.as_bytes());
        let ids: Vec<u64> = records.iter().map(|record| record.id).collect();
        assert_eq!(ids, expected_ids, "{input:?}");
        assert_eq!(consumed, expected_consumed, "{input:?}");
    }

    #[test]
    fn records_round_trip() {
        let text = encode_record(1, "{\"a\":1}") + &encode_record(2, "");
        check_parse(&text, &[1, 2], text.len());
    }

    #[test]
    fn a_torn_tail_is_not_a_record() {
        let whole = encode_record(1, "{}");
        let torn = encode_record(2, "{\"x\":2}");
        let text = whole.clone() + &torn[..torn.len() - 3];
        check_parse(&text, &[1], whole.len());
    }

    fn check_end(text: &str, expected_valid_len: usize, expected_last_id: u64) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("inbox");
        fs::write(&path, text).unwrap();
        let end = InboxEnd::open(&path).unwrap();
        assert_eq!(end.valid_len, expected_valid_len as u64);
        assert_eq!(end.last_id, expected_last_id);
        assert_eq!(end.len, text.len() as u64);
    }

    #[test]
    fn the_end_of_an_inbox_is_found_from_its_last_lines() {
        check_end("", 0, 0);
        let small = encode_record(1, "{}") + &encode_record(2, "{\"a\":1}");
        check_end(&small, small.len(), 2);
        // A torn tail is not part of the valid length, and does not count as the last id.
        let torn = small.clone() + "3\tdeadbeef";
        check_end(&torn, small.len(), 2);
        check_end("3\tdeadbeef", 0, 0);
        // A last record far larger than the first window read.
        let huge = small.clone() + &encode_record(9, &format!("\"{}\"", "x".repeat(40_000)));
        check_end(&huge, huge.len(), 9);
        // A damaged last line: the id before it is the last one that counts.
        let damaged = small.clone() + &encode_record(3, "{}").replace("{}", "{]");
        check_end(&damaged, damaged.len(), 2);
        // Many small records: only the end is read, and the first line of the window, which
        // may start before it, is not trusted.
        let many: String = (1..=500)
            .map(|id| encode_record(id, "{\"n\":12345}"))
            .collect();
        check_end(&many, many.len(), 500);
    }

    #[test]
    fn a_damaged_line_is_skipped() {
        let damaged = encode_record(2, "{\"x\":2}").replace("x", "y");
        let text = encode_record(1, "{}") + &damaged + &encode_record(3, "{}");
        check_parse(&text, &[1, 3], text.len());
        let junk = "\n\n\t\t\n0\t0000000000000000\t\n";
        check_parse(junk, &[], junk.len());
        check_parse("\u{0}\u{ff}garbage", &[], 0);
    }

    #[test]
    fn a_watch_wakes_for_its_own_inbox_only() {
        let dir = tempfile::tempdir().unwrap();
        let inbox = dir.path().join("inbox-a");
        fs::write(&inbox, "").unwrap();
        let Some(mut watch) = InboxWatch::new(&inbox) else {
            // No inotify here: streams poll, which the other tests cover.
            return;
        };
        fs::write(dir.path().join("inbox-b"), encode_record(1, "{}")).unwrap();
        fs::write(dir.path().join("rate-a"), "1 1\n").unwrap();
        assert!(
            !watch.wait(Duration::from_millis(20)),
            "other files of the room do not wake it"
        );
        let mut file = OpenOptions::new().append(true).open(&inbox).unwrap();
        file.write_all(encode_record(1, "{}").as_bytes()).unwrap();
        assert!(watch.wait(Duration::from_secs(60)), "an append wakes it");
        let replacement = dir.path().join("inbox-a.new");
        fs::write(&replacement, encode_record(1, "")).unwrap();
        fs::rename(&replacement, &inbox).unwrap();
        assert!(watch.wait(Duration::from_secs(60)), "a compaction wakes it");
        fs::remove_file(&inbox).unwrap();
        assert!(watch.wait(Duration::from_secs(60)), "a deletion wakes it");
    }
}
