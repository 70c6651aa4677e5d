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
/// A sweep looks at this many rooms at most, so one request never does unbounded work.
const SWEEP_MAX_ROOMS: usize = 256;
const SWEEP_STAMP: &str = "last-sweep";

impl Store {
    /// Removes abandoned rooms, if the last sweep is a minute old.
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
            if idle <= self.limits.peer_timeout_seconds {
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

    /// Deletes join counters whose window has long passed.
    fn sweep_limits(&self, now: u64) {
        let Ok(entries) = fs::read_dir(self.data_dir.join(LIMITS_DIR)) else {
            return;
        };
        for entry in entries.flatten().take(SWEEP_MAX_ROOMS) {
            let idle = seconds_since_modified(entry.metadata(), now).unwrap_or(0);
            if idle > 2 * JOIN_WINDOW_SECONDS {
                let _ = fs::remove_file(entry.path());
            }
        }
    }
}
