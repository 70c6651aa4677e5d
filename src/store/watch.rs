//! The inotify watch that wakes a held stream when its inbox changes, with all of the
//! `unsafe` of the store: the descriptor, the watch on the room's folder, `poll(2)` and the
//! event buffer. Where inotify is missing (not Linux) or the account's instances are used
//! up, there is no watch and the stream polls more often instead.

use std::io;
use std::path::Path;
use std::time::{Duration, Instant};

/// Wakes a held stream as soon as its inbox changes, through inotify on the room's folder:
/// an append, the rename of a compaction, or a deletion. A message then waits microseconds
/// instead of half a poll interval, and an idle stream wakes rarely.
pub struct InboxWatch {
    fd: std::os::fd::OwnedFd,
    name: Vec<u8>,
}

impl InboxWatch {
    pub(super) fn new(inbox: &Path) -> Option<InboxWatch> {
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

#[cfg(test)]
mod tests {
    use std::fs::{self, OpenOptions};
    use std::io::Write;

    use super::*;
    use crate::store::record::encode_record;

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
