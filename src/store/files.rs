//! Small file helpers for the rest of `store/`: opening state files, writing whole files,
//! file identity and ages. They return `io::Error`; the caller maps it (through
//! `Error::from`, the one errno mapping) where it knows what the file was for.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

/// Opens a small state file (a lock or a counter) for reading and writing, creating it empty.
pub(super) fn open_or_create(path: &Path) -> io::Result<File> {
    OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .open(path)
}

/// Writes a whole file, replacing what it held.
pub(super) fn write_file(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(bytes)
}

/// Creates a file that must not exist yet; an existing one is left as it is.
pub(super) fn write_new_file(path: &Path, bytes: &[u8]) -> io::Result<()> {
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

/// Writes `bytes` to a temporary file beside `path` and renames it over `path`, so a reader
/// sees the old file or the new one, never half of one. The temporary file is removed when
/// anything fails.
pub(super) fn replace_file(path: &Path, temp: &Path, bytes: &[u8]) -> io::Result<()> {
    let written = write_file(temp, bytes).and_then(|()| fs::rename(temp, path));
    if written.is_err() {
        let _ = fs::remove_file(temp);
    }
    written
}

/// Removes a file; one that is already gone is not an error.
pub(super) fn remove_if_present(path: &Path) -> io::Result<()> {
    match fs::remove_file(path) {
        Err(error) if error.kind() != io::ErrorKind::NotFound => Err(error),
        _ => Ok(()),
    }
}

pub(super) fn file_identity(file: &File) -> io::Result<(u64, u64)> {
    let metadata = file.metadata()?;
    Ok((metadata.dev(), metadata.ino()))
}

/// Whether `file` is (still) the file at `path`.
pub(super) fn is_same_file(file: &File, path: &Path) -> bool {
    match (file_identity(file), fs::metadata(path)) {
        (Ok(identity), Ok(metadata)) => identity == (metadata.dev(), metadata.ino()),
        _ => false,
    }
}

/// How long ago (in seconds before `now`) a file or folder was last modified.
pub(super) fn seconds_since_modified(metadata: io::Result<fs::Metadata>, now: u64) -> Option<u64> {
    let modified = metadata.and_then(|metadata| metadata.modified()).ok()?;
    Some(now.saturating_sub(unix_seconds(modified)))
}

fn unix_seconds(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH)
        .map_or(0, |duration| duration.as_secs())
}
