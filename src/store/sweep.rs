//! Sweeps: what a daemon would do on a timer, done as a side effect of ordinary requests
//! (at most once a minute, timed by `last-sweep`), so that no cron job is needed. Abandoned
//! rooms (every peer gone without a word) are expired and deleted; old join counters go.
//! A sweep never waits for a lock: busy rooms are left for the next one.

use std::fs;
use std::time::SystemTime;

use super::files::{open_or_create, seconds_since_modified};
use super::limits::{JOIN_WINDOW_SECONDS, LIMITS_DIR};
use super::Store;
use crate::values::RoomName;

/// How often the whole data directory is swept for abandoned rooms, at most.
const SWEEP_INTERVAL_SECONDS: u64 = 60;
/// A sweep frees at most this many abandoned rooms (each takes a lock and a few file
/// operations), the longest idle first; the rest go at the next sweep. Live rooms cost
/// one stat each and never count against it, so abandoned rooms are always found however
/// many live ones there are.
const SWEEP_MAX_ROOMS: usize = 64;
/// The most folder entries one sweep looks at, so a data directory filled some other way
/// cannot make a request do unbounded work; `max_rooms` keeps real use far below it.
const SWEEP_MAX_ENTRIES: usize = 100_000;
const SWEEP_STAMP: &str = "last-sweep";

impl Store {
    /// Removes abandoned rooms and old join counters, if the last sweep is a minute old.
    pub fn sweep_if_due(&self, now: u64) {
        let stamp = self.data_dir.join(SWEEP_STAMP);
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
        self.sweep_rooms(now);
    }

    fn sweep_rooms(&self, now: u64) {
        let Ok(entries) = fs::read_dir(&self.rooms_dir) else {
            return;
        };
        // Every join, leave and presence update renames peers.json into the room's
        // folder, so the folder's mtime is the room's last sign of life.
        let mut used_bytes = 0;
        let mut idle: Vec<(u64, RoomName)> = entries
            .flatten()
            .take(SWEEP_MAX_ENTRIES)
            .filter_map(|entry| {
                used_bytes += folder_bytes(&entry.path());
                let room = RoomName::parse(entry.file_name().to_str()?).ok()?;
                let idle = seconds_since_modified(entry.metadata(), now)?;
                (idle > self.limits.peer_timeout_seconds).then_some((idle, room))
            })
            .collect();
        self.record_usage(used_bytes);
        idle.sort_by_key(|(seconds, _)| std::cmp::Reverse(*seconds));
        for (_, room) in idle.into_iter().take(SWEEP_MAX_ROOMS) {
            if let Ok(mut room) = self.try_lock_room_once(&room) {
                room.expire_stale(now);
                if let Err(error) = room.finish() {
                    eprintln!("webrtc.cgi: sweeping room: {error}");
                }
            }
        }
    }

    /// Deletes counters whose windows have long passed (a counter is read over its own
    /// window and the one before).
    fn sweep_limits(&self, now: u64) {
        let Ok(entries) = fs::read_dir(self.data_dir.join(LIMITS_DIR)) else {
            return;
        };
        for entry in entries.flatten().take(SWEEP_MAX_ENTRIES) {
            let idle = seconds_since_modified(entry.metadata(), now).unwrap_or(0);
            if idle > 3 * JOIN_WINDOW_SECONDS {
                let _ = fs::remove_file(entry.path());
            }
        }
    }
}

/// The bytes of the files in one room's folder (rooms hold no subfolders).
fn folder_bytes(dir: &std::path::Path) -> u64 {
    let Ok(entries) = fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .filter_map(|entry| entry.metadata().ok())
        .map(|metadata| metadata.len())
        .sum()
}
