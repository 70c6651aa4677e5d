//! A locked room: its state (`peers.json`: who is in it, their tokens, when each was last
//! seen) and the changes to it: join, touch, leave, expiry, and saving. Only code holding
//! the room's lock has a `Room`, so every change here happens under it.
//!
//! Crash safety comes from the order of writes: a peer exists once `peers.json` lists it.
//! A join creates the inbox, saves the listing and only then announces the newcomer; a
//! removal saves the shorter listing before deleting files and announcing the leave. So a
//! change refused for a full disk leaves nothing half done.

use std::fs::{self, File};
use std::io;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::files::{remove_if_present, replace_file, write_new_file};
use super::inbox::append_to_inbox;
use super::lock::LOCK_FILE;
use super::Store;
use crate::error::{Error, Result};
use crate::values::{Credentials, PeerId, Token};

const PEERS_FILE: &str = "peers.json";
const PEERS_TEMP_FILE: &str = "peers.json.tmp";
const INBOX_PREFIX: &str = "inbox-";
const RATE_PREFIX: &str = "rate-";

/// How stale a peer's saved presence may get before an SSE request renews it (at most a
/// quarter of the presence timeout).
const TOUCH_INTERVAL_SECONDS: u64 = 5;

#[derive(Serialize, Deserialize, Default)]
struct RoomState {
    peers: Vec<PeerEntry>,
    /// Set by the first joiner of a sealed room and never cleared; absent from the files of
    /// open rooms (so theirs read and write as before sealing existed).
    #[serde(default, skip_serializing_if = "is_false")]
    sealed: bool,
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
    pub token: Token,
    /// The other peers, oldest first.
    pub others: Vec<PeerId>,
}

/// A locked room. The lock is released when this value is dropped; `finish` writes what
/// changed first.
pub struct Room<'store> {
    pub(super) store: &'store Store,
    pub(super) dir: PathBuf,
    state: RoomState,
    state_changed: bool,
    // Held for its lock; closing the file releases the flock.
    _lock: File,
}

impl<'store> Room<'store> {
    /// The guard of a room whose lock `lock` holds and is still the room's own.
    pub(super) fn locked(store: &'store Store, dir: PathBuf, lock: File) -> Result<Room<'store>> {
        let state = read_state(&dir)?;
        Ok(Room {
            store,
            dir,
            state,
            state_changed: false,
            _lock: lock,
        })
    }
}

impl Room<'_> {
    pub(super) fn inbox_path(&self, peer: &str) -> PathBuf {
        self.dir.join(format!("{INBOX_PREFIX}{peer}"))
    }

    pub(super) fn rate_path(&self, peer: &str) -> PathBuf {
        self.dir.join(format!("{RATE_PREFIX}{peer}"))
    }

    fn peer_index(&self, peer: &PeerId) -> Option<usize> {
        self.state
            .peers
            .iter()
            .position(|entry| entry.id == peer.as_str())
    }

    pub(super) fn has_peer(&self, peer: &PeerId) -> bool {
        self.peer_index(peer).is_some()
    }

    /// The ids of the peers in the room, oldest first, except `except`.
    pub(super) fn peers_except(&self, except: Option<&PeerId>) -> Vec<String> {
        self.state
            .peers
            .iter()
            .filter(|entry| except.map_or(true, |peer| entry.id != peer.as_str()))
            .map(|entry| entry.id.clone())
            .collect()
    }

    /// Checks that the peer is in the room and that the token is its own.
    pub(super) fn authenticate(&self, credentials: &Credentials) -> Result<()> {
        let Some(entry) = self
            .state
            .peers
            .iter()
            .find(|entry| entry.id == credentials.peer.as_str())
        else {
            return Err(Error::UnknownPeer(format!(
                "peer \"{}\" is not in this room (it left or expired): join again",
                credentials.peer.as_str()
            )));
        };
        if credentials
            .token
            .matches(&Token::stored(entry.token.clone()))
        {
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
    pub(super) fn expire_stale(&mut self, now: u64) {
        let timeout = self.store.limits.peer_timeout_seconds;
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
        let max_peers = self.store.limits.max_peers;
        if self.state.peers.len() >= max_peers {
            return Err(Error::RoomFull(format!(
                "this room is full: it holds at most {max_peers} people"
            )));
        }
        let mut peer = PeerId::generate();
        while self.has_peer(&peer) {
            peer = PeerId::generate();
        }
        let token = Token::generate();
        let others: Vec<PeerId> = self
            .peers_except(None)
            .into_iter()
            .map(PeerId::stored)
            .collect();
        // The new peer exists once peers.json lists it; its inbox comes first so that a
        // listed peer always has one, and the others hear of it only after that, so that a
        // join refused for a full disk leaves no trace anyone could see.
        let inbox = self.inbox_path(peer.as_str());
        write_new_file(&inbox, b"")?;
        self.state.peers.push(PeerEntry {
            id: peer.as_str().to_string(),
            token: token.as_str().to_string(),
            seen: now,
        });
        self.state_changed = true;
        if let Err(error) = self.save_state() {
            self.state.peers.pop();
            let _ = fs::remove_file(&inbox);
            return Err(error);
        }
        let event = server_event(&peer, "join");
        for other in &others {
            // The newcomer makes the offers, so a peer that misses this event still meets
            // it; one full inbox must not undo a join that is already saved.
            if let Err(error) = append_to_inbox(&self.inbox_path(other.as_str()), &event) {
                eprintln!("webrtc.cgi: announcing a join: {error}");
            }
        }
        Ok(Joined {
            peer,
            token,
            others,
        })
    }

    /// Records that the peer is present (it opened an SSE request). The time is saved only
    /// when it is a few seconds old: polling clients ask every second, and presence is
    /// judged in tens of seconds, so rewriting peers.json each time would buy nothing.
    pub fn touch(&mut self, peer: &PeerId, now: u64) {
        let interval = TOUCH_INTERVAL_SECONDS.min(self.store.limits.peer_timeout_seconds / 4);
        if let Some(index) = self.peer_index(peer) {
            if let Some(entry) = self.state.peers.get_mut(index) {
                if now.saturating_sub(entry.seen) >= interval {
                    entry.seen = now;
                    self.state_changed = true;
                }
            }
        }
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
                if let Err(error) = remove_if_present(&path) {
                    eprintln!("webrtc.cgi: removing a peer's file: {error}");
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
            let event = server_event(&PeerId::stored(peer.clone()), "leave");
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

    /// Writes what changed; an empty room is deleted altogether, so abandoned rooms leave
    /// no files behind.
    pub(super) fn finish(mut self) -> Result<()> {
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
        replace_file(
            &self.dir.join(PEERS_FILE),
            &self.dir.join(PEERS_TEMP_FILE),
            &text,
        )?;
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
        // The lock goes last, still held, so a waiting request notices (see lock.rs).
        let _ = fs::remove_file(self.dir.join(LOCK_FILE));
        // Fails harmlessly when a new request recreated the lock meanwhile.
        let _ = fs::remove_dir(&self.dir);
    }
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

fn is_false(value: &bool) -> bool {
    !*value
}

/// A join or leave announced by the server. Peer ids are of a JSON-safe alphabet.
fn server_event(peer: &PeerId, kind: &str) -> String {
    format!("{{\"from\":\"{}\",\"type\":\"{kind}\"}}", peer.as_str())
}

fn read_state(dir: &Path) -> Result<RoomState> {
    match fs::read(dir.join(PEERS_FILE)) {
        Ok(bytes) => serde_json::from_slice(&bytes).map_err(|error| {
            Error::Internal(format!("{PEERS_FILE} of a room is damaged: {error}"))
        }),
        Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(RoomState::default()),
        Err(error) => Err(Error::from(error)),
    }
}
