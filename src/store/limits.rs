//! Rate limits that outlive a room: the join counter per address (`limits/join-<hash>`),
//! and the fixed-window counter file that it and the post counter share. The address is
//! kept only as a hash, in a file that the sweep removes.

use std::fs::{self, File};
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::fs::DirBuilderExt;
use std::time::Instant;

use super::files::open_or_create;
use super::lock::{wait_for_lock, LOCK_TIMEOUT};
use super::record::fnv1a;
use super::Store;
use crate::error::{Error, Result};

pub(super) const JOIN_WINDOW_SECONDS: u64 = 60;
pub(super) const LIMITS_DIR: &str = "limits";

impl Store {
    /// Counts a join from this address, refusing it when the address made too many in the
    /// last minute.
    pub fn admit_join(&self, address: &str, now: u64) -> Result<()> {
        let hash = fnv1a(address.as_bytes());
        let limits_dir = self.data_dir.join(LIMITS_DIR);
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&limits_dir)
            .map_err(|error| self.data_dir_error(&error))?;
        let path = limits_dir.join(format!("join-{hash:016x}"));
        let counter = open_or_create(&path).map_err(|error| self.data_dir_error(&error))?;
        // This lock is separate from every room lock and held for one read and one write.
        wait_for_lock(&counter, Instant::now() + LOCK_TIMEOUT)?;
        let per_minute = self.limits.max_joins_per_minute;
        let admitted = count_in_window(&counter, now, JOIN_WINDOW_SECONDS, per_minute)?;
        admitted.map_err(|retry_after_seconds| Error::TooManyRequests {
            message: format!("too many joins from this address: at most {per_minute} a minute"),
            retry_after_seconds,
        })
    }
}

/// A fixed-window counter in a small file: `window_start count`. Returns `Ok(Err(seconds))`
/// when the window's limit is reached, with the seconds until the window ends. The caller
/// holds a lock that covers the file.
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
