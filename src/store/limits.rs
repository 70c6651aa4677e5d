//! Rate limits that outlive a room: the join counters (`limits/join-<hash>` per address,
//! keyed by a salted hash, and `limits/join-site` for all addresses together), the room and
//! storage budgets, and the two-window counter file that the join and post counters share.
//! No address is ever stored: only its keyed hash, in a file that the sweep removes.

use std::fs::{self, File};
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::fs::DirBuilderExt;
use std::time::Instant;

use super::files::{open_or_create, read_file, write_file};
use super::lock::{wait_for_lock, LOCK_TIMEOUT};
use super::Store;
use crate::address::AddressKey;
use crate::error::{Error, Result};
use crate::values::RoomName;

pub(super) const JOIN_WINDOW_SECONDS: u64 = 60;
pub(super) const LIMITS_DIR: &str = "limits";
/// What the last sweep found the rooms to take, in bytes.
pub(super) const USAGE_FILE: &str = "usage";

impl Store {
    /// Counts a join from this address and one for the whole site, refusing it when either
    /// made too many in the last minute.
    pub fn admit_join(&self, address: &AddressKey, now: u64) -> Result<()> {
        let limits_dir = self.data_dir.join(LIMITS_DIR);
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&limits_dir)
            .map_err(|error| self.data_dir_error(&error))?;
        let per_address = self.limits.max_joins_per_minute;
        let name = format!("join-{}", self.address_hash(address));
        self.count(&limits_dir.join(name), now, per_address)?
            .map_err(|retry_after_seconds| Error::TooManyRequests {
                message: format!(
                    "too many joins from this address: at most {per_address} a minute"
                ),
                retry_after_seconds,
            })?;
        let site = self.limits.max_site_joins_per_minute;
        self.count(&limits_dir.join("join-site"), now, site)?
            .map_err(|retry_after_seconds| Error::TooManyRequests {
                message: format!(
                    "this site takes at most {site} joins a minute, and that many came; try again shortly"
                ),
                retry_after_seconds,
            })
    }

    fn count(&self, path: &std::path::Path, now: u64, limit: u64) -> Result<Result<(), u32>> {
        let counter = open_or_create(path).map_err(|error| self.data_dir_error(&error))?;
        // This lock is separate from every room lock and held for one read and one write.
        wait_for_lock(&counter, Instant::now() + LOCK_TIMEOUT)?;
        count_in_window(&counter, now, JOIN_WINDOW_SECONDS, limit)
    }

    /// Refuses a new room once `max_rooms` exist; joining a room that exists is not limited
    /// here. Counting is one read of the rooms folder, done only for a room not yet there.
    pub fn admit_room(&self, room: &RoomName) -> Result<()> {
        if fs::symlink_metadata(self.room_dir(room)).is_ok() {
            return Ok(());
        }
        let rooms = fs::read_dir(&self.rooms_dir)
            .map_err(|error| self.data_dir_error(&error))?
            .count();
        if rooms as u64 >= self.limits.max_rooms {
            return Err(Error::Busy(format!(
                "this site has as many rooms open as it allows ({}); try again later, or join a room that is already open",
                self.limits.max_rooms
            )));
        }
        Ok(())
    }

    /// Refuses to store more once the data directory holds `max_data_bytes`, as the last
    /// sweep measured it (at most a minute ago; the rate limits bound what can come in
    /// between).
    pub(super) fn admit_bytes(&self) -> Result<()> {
        let used = read_file(&self.data_dir.join(USAGE_FILE))
            .ok()
            .and_then(|bytes| String::from_utf8(bytes).ok())
            .and_then(|text| text.trim().parse::<u64>().ok())
            .unwrap_or(0);
        if used > self.limits.max_data_bytes {
            return Err(Error::DiskFull(
                "the storage this site allows for calls is used up; try again when others have read their messages"
                    .to_string(),
            ));
        }
        Ok(())
    }

    /// Records what the rooms take, for `admit_bytes`.
    pub(super) fn record_usage(&self, bytes: u64) {
        let path = self.data_dir.join(USAGE_FILE);
        if let Err(error) = write_file(&path, format!("{bytes}\n").as_bytes()) {
            eprintln!("webrtc.cgi: recording storage use: {error}");
        }
    }
}

/// A two-window counter in a small file: `window_start count previous_count`, windows
/// aligned to multiples of `window_seconds`. What counts is the current window's count plus
/// the previous window's, weighted by how much of it still lies within the last
/// `window_seconds`: a fixed window would let twice the limit through across a boundary.
/// Returns `Ok(Err(seconds))` when the limit is reached, with the seconds after which a
/// retry may pass. The caller holds a lock that covers the file.
pub(super) fn count_in_window(
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
    let window_start = now - now % window_seconds;
    let (count, previous) = match (
        fields.next().flatten(),
        fields.next().flatten(),
        fields.next().flatten(),
    ) {
        (Some(start), Some(count), previous) if start == window_start => {
            (count, previous.unwrap_or(0))
        }
        // The counter is of the window just before: it becomes the previous one.
        (Some(start), Some(count), _) if start + window_seconds == window_start => (0, count),
        _ => (0, 0),
    };
    let elapsed = now - window_start;
    let weighted_previous = previous * (window_seconds - elapsed) / window_seconds;
    if count + weighted_previous >= limit {
        let wait = if count >= limit || previous == 0 {
            window_seconds - elapsed
        } else {
            // The previous window's weight falls by previous/window a second.
            let excess = count + weighted_previous + 1 - limit;
            (excess * window_seconds).div_ceil(previous)
        };
        return Ok(Err(u32::try_from(wait.max(1)).unwrap_or(u32::MAX)));
    }
    let updated = format!("{window_start} {} {previous}\n", count + 1);
    counter.seek(SeekFrom::Start(0))?;
    counter.set_len(0)?;
    counter.write_all(updated.as_bytes())?;
    Ok(Ok(()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Counts `times` events at `now` in the counter file, returning how many passed.
    fn count(file: &File, now: u64, times: u32, limit: u64) -> u32 {
        (0..times)
            .filter(|_| {
                let mut handle = file;
                handle.seek(SeekFrom::Start(0)).unwrap();
                count_in_window(file, now, 60, limit).unwrap().is_ok()
            })
            .count() as u32
    }

    #[test]
    fn two_windows_let_no_double_burst_across_a_boundary() {
        let dir = tempfile::tempdir().unwrap();
        let file = open_or_create(&dir.path().join("counter")).unwrap();
        // Ten in the last second of a window, then ten in the first second of the next:
        // a fixed window would take all twenty.
        assert_eq!(count(&file, 119, 10, 10), 10);
        assert_eq!(
            count(&file, 120, 10, 10),
            0,
            "the previous minute still counts"
        );
        // Half a minute later half of the previous window's weight is gone.
        assert_eq!(count(&file, 150, 10, 10), 5);
        // Two windows later nothing of it is left.
        assert_eq!(count(&file, 240, 12, 10), 10);
        let mut text = String::new();
        let mut handle = &file;
        handle.seek(SeekFrom::Start(0)).unwrap();
        handle.read_to_string(&mut text).unwrap();
        assert_eq!(text, "240 10 0\n");
    }

    #[test]
    fn a_refusal_says_when_to_retry() {
        let dir = tempfile::tempdir().unwrap();
        let file = open_or_create(&dir.path().join("counter")).unwrap();
        assert_eq!(count(&file, 60, 10, 10), 10);
        let mut handle = &file;
        handle.seek(SeekFrom::Start(0)).unwrap();
        assert_eq!(count_in_window(&file, 70, 60, 10).unwrap(), Err(50));
        handle.seek(SeekFrom::Start(0)).unwrap();
        // In the next window, one slot frees as the previous count's weight drops by one.
        assert_eq!(count_in_window(&file, 120, 60, 10).unwrap(), Err(6));
    }
}
