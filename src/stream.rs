//! Writing an event stream: the `Clock` that held streams wait on (injected, so tests drive
//! a stream without sleeping), the stream's head and opening padding, and the framing of
//! events. Shared by the sse and probe modes; it knows nothing about rooms or files.

use std::io::{self, Write};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::response::write_head;
use crate::store::{InboxWatch, Record};

/// A comment that opens every stream. mod_deflate holds back the first bytes of a response
/// until it has enough to decide whether to compress (`no-gzip` is checked only then), and
/// some proxies wait for a first block before passing anything on; 2 KiB gets the opening
/// events through all of them at once. Comments are ignored by EventSource.
pub const PADDING_BYTES: usize = 2048;

pub trait Clock {
    /// Time since an arbitrary fixed start; never goes backwards.
    fn elapsed(&self) -> Duration;
    fn unix_millis(&self) -> u64;
    fn sleep(&self, duration: Duration);
    /// Waits up to `duration`, returning early when the watch (if any) reports a change.
    fn wait(&self, duration: Duration, watch: Option<&mut InboxWatch>);
}

pub struct SystemClock {
    start: Instant,
}

impl SystemClock {
    pub fn new() -> SystemClock {
        SystemClock {
            start: Instant::now(),
        }
    }
}

impl Default for SystemClock {
    fn default() -> SystemClock {
        SystemClock::new()
    }
}

impl Clock for SystemClock {
    fn elapsed(&self) -> Duration {
        self.start.elapsed()
    }

    fn unix_millis(&self) -> u64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |duration| duration.as_millis() as u64)
    }

    fn sleep(&self, duration: Duration) {
        std::thread::sleep(duration);
    }

    fn wait(&self, duration: Duration, watch: Option<&mut InboxWatch>) {
        match watch {
            Some(watch) => {
                watch.wait(duration);
            }
            None => self.sleep(duration),
        }
    }
}

/// The head of an event stream. `X-Accel-Buffering` asks an nginx proxy in front of Apache
/// (common on cPanel hosts) to pass each event on at once.
pub fn write_stream_head(out: &mut impl Write) -> io::Result<()> {
    write_head(
        out,
        200,
        &[
            ("Content-Type", "text/event-stream".to_string()),
            ("Cache-Control", "no-store".to_string()),
            ("X-Accel-Buffering", "no".to_string()),
        ],
    )
}

pub fn write_padding(out: &mut impl Write) -> io::Result<()> {
    let mut line = [b' '; PADDING_BYTES];
    line[0] = b':';
    line[PADDING_BYTES - 1] = b'\n';
    out.write_all(&line)
}

pub fn is_disconnect(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::BrokenPipe | io::ErrorKind::ConnectionReset | io::ErrorKind::WriteZero
    )
}

/// A message as an SSE event. Payloads are single lines (the request parser and the store
/// guarantee it), so one `data:` line carries each.
pub fn message_event(record: &Record) -> String {
    format!("id: {}\ndata: {}\n\n", record.id, record.payload)
}

/// A named event that `onmessage` does not see and that leaves `lastEventId` alone.
pub fn named_event(name: &str, data: &str) -> String {
    format!("event: {name}\ndata: {data}\n\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_are_framed_for_event_source() {
        let record = Record {
            id: 7,
            payload: "{\"from\":\"a\",\"type\":\"x\"}".to_string(),
        };
        assert_eq!(
            message_event(&record),
            "id: 7\ndata: {\"from\":\"a\",\"type\":\"x\"}\n\n"
        );
        assert_eq!(named_event("bye", "{}"), "event: bye\ndata: {}\n\n");
    }
}
