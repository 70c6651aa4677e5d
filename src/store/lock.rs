//! The lock protocol. A room's lock is an exclusive flock on `rooms/<room>/lock`, taken by
//! every request that changes the room and held for a few small file operations only, never
//! while sleeping or streaming. Whoever deletes an empty room unlinks its lock while still
//! holding it, so whoever acquires a lock checks that it is still the file at the path, and
//! starts over if not. flock (rather than fcntl locks) is released when the descriptor
//! closes, also when a process is killed, and NFS emulates it with byte-range locks.

use std::fs::{self, File, OpenOptions};
use std::io;
use std::os::unix::fs::DirBuilderExt;
use std::path::Path;
use std::thread;
use std::time::{Duration, Instant};

use fs2::FileExt;

use super::files::{is_same_file, open_or_create};
use super::room::Room;
use super::Store;
use crate::error::{Error, Result};
use crate::values::RoomName;

/// How long a request waits for a room's lock before answering 503. Every holder of a lock
/// does a few small file operations, so only a stuck process holds one this long.
pub(super) const LOCK_TIMEOUT: Duration = Duration::from_secs(3);

pub(super) const LOCK_FILE: &str = "lock";

impl Store {
    /// Takes the lock of a room, creating the room on first use.
    pub(super) fn lock_room(&self, room: &RoomName) -> Result<Room<'_>> {
        let dir = self.room_dir(room);
        let deadline = Instant::now() + LOCK_TIMEOUT;
        loop {
            let lock = match open_lock(&dir) {
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
                return Room::locked(self, dir, lock);
            }
        }
    }

    /// Takes the lock of an existing room only if it is free right now: the sweep leaves
    /// busy rooms for its next round instead of waiting.
    pub(super) fn try_lock_room_once(&self, room: &RoomName) -> Result<Room<'_>> {
        let dir = self.room_dir(room);
        let lock = OpenOptions::new()
            .read(true)
            .write(true)
            .open(dir.join(LOCK_FILE))?;
        lock.try_lock_exclusive()?;
        if !is_same_file(&lock, &dir.join(LOCK_FILE)) {
            return Err(Error::Busy("room deleted meanwhile".to_string()));
        }
        Room::locked(self, dir, lock)
    }
}

fn open_lock(dir: &Path) -> io::Result<File> {
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)?;
    open_or_create(&dir.join(LOCK_FILE))
}

/// Waits for an exclusive flock on `lock` until `deadline`, then answers 503.
pub(super) fn wait_for_lock(lock: &File, deadline: Instant) -> Result<()> {
    let contended = fs2::lock_contended_error().raw_os_error();
    let mut pause = Duration::from_micros(500);
    loop {
        match lock.try_lock_exclusive() {
            Ok(()) => return Ok(()),
            Err(error) if error.raw_os_error() == contended => {}
            Err(error) => return Err(Error::from(error)),
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
