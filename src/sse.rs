//! The SSE handler: opens a peer's inbox (acknowledging and deleting what the client already
//! has), sends what is pending, then holds the response open for `hold_seconds`, writing each
//! new message as it is stored.
//!
//! The loop takes its writer and its clock as arguments so that tests drive it without
//! sleeping. It never holds the room's lock while it waits: `InboxTail` reads without it.
//! A failed write means the client left; the loop then ends quietly.

use std::io::{self, Write};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::config::Settings;
use crate::error::Result;
use crate::request::{Credentials, RoomName};
use crate::response::write_head;
use crate::store::{InboxTail, InboxWatch, Record, Store, TailPoll};

/// How often a held response looks for new messages when nothing wakes it. Each look is one
/// stat(2) of the inbox. With a watch (inotify) a change wakes the stream at once, and the
/// look only guards against a file system that does not report changes (a network share
/// written from another machine). Without one, a message waits 5 ms on average, and 100
/// looks a second cost a few hundredths of a percent of a core.
const POLL_INTERVAL: Duration = Duration::from_millis(10);
const WATCHED_POLL_INTERVAL: Duration = Duration::from_millis(100);
/// Comment lines keep proxies and Apache's `TimeOut` from closing a quiet response.
const KEEPALIVE_INTERVAL: Duration = Duration::from_secs(10);
/// A comment that opens every stream. mod_deflate holds back the first bytes of a response
/// until it has enough to decide whether to compress (`no-gzip` is checked only then), and
/// some proxies wait for a first block before passing anything on; 2 KiB gets the opening
/// events through all of them at once. Comments are ignored by EventSource.
const PADDING_BYTES: usize = 2048;

/// A polling client (hold 0) reconnects at least this far apart.
const MIN_POLLING_RETRY_MS: u32 = 1000;

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

/// An opened stream, ready to be written.
pub struct Stream {
    pending: Vec<Record>,
    tail: InboxTail,
    watch: Option<InboxWatch>,
    hold: Duration,
    retry_ms: u32,
}

/// Checks the peer, marks it present, acknowledges what the client has, and collects what
/// is pending. Errors here are answered as ordinary JSON errors (nothing was written yet).
pub fn open(
    store: &Store,
    settings: &Settings,
    room: &RoomName,
    credentials: &Credentials,
    last_event_id: Option<u64>,
    requested_hold_seconds: Option<u32>,
    now: u64,
) -> Result<Stream> {
    store.sweep_if_due(now);
    let mut locked = store.lock_room(room)?;
    locked.expire_stale(now);
    let opened = locked.authenticate(credentials).and_then(|()| {
        locked.touch(&credentials.peer, now);
        locked.open_inbox(&credentials.peer, last_event_id)
    });
    locked.finish()?;
    let (pending, tail) = opened?;
    let hold_seconds = requested_hold_seconds
        .unwrap_or(settings.hold_seconds)
        .min(settings.hold_seconds);
    let retry_ms = if hold_seconds == 0 {
        settings.retry_ms.max(MIN_POLLING_RETRY_MS)
    } else {
        settings.retry_ms
    };
    let watch = if hold_seconds > 0 { tail.watch() } else { None };
    Ok(Stream {
        pending,
        tail,
        watch,
        hold: Duration::from_secs(u64::from(hold_seconds)),
        retry_ms,
    })
}

impl Stream {
    /// Writes the whole response. Returns when the hold ends, the peer is removed, or the
    /// client goes away.
    pub fn run(mut self, out: &mut impl Write, clock: &impl Clock) {
        match self.write_all(out, clock) {
            Ok(()) => {}
            // The client closed the connection: an ordinary way for a stream to end.
            Err(error) if is_disconnect(&error) => {}
            Err(error) => eprintln!("webrtc.cgi: event stream: {error}"),
        }
    }

    fn write_all(&mut self, out: &mut impl Write, clock: &impl Clock) -> io::Result<()> {
        let start = clock.elapsed();
        write_stream_head(out)?;
        let hello = format!(
            "{{\"hold\":{},\"t\":{}}}",
            self.hold.as_secs(),
            clock.unix_millis()
        );
        write_padding(out)?;
        out.write_all(format!("retry: {}\n", self.retry_ms).as_bytes())?;
        out.write_all(named_event("hello", &hello).as_bytes())?;
        for record in &self.pending {
            out.write_all(message_event(record).as_bytes())?;
        }
        out.flush()?;

        let deadline = start + self.hold;
        let mut next_keepalive = start + KEEPALIVE_INTERVAL;
        loop {
            let now = clock.elapsed();
            if now >= deadline {
                break;
            }
            let interval = if self.watch.is_some() {
                WATCHED_POLL_INTERVAL
            } else {
                POLL_INTERVAL
            };
            clock.wait(interval.min(deadline - now), self.watch.as_mut());
            match self.tail.poll()? {
                TailPoll::Gone => {
                    out.write_all(named_event("gone", "{}").as_bytes())?;
                    return out.flush();
                }
                TailPoll::Records(records) if !records.is_empty() => {
                    for record in &records {
                        out.write_all(message_event(record).as_bytes())?;
                    }
                    out.flush()?;
                }
                TailPoll::Records(_) => {}
            }
            if clock.elapsed() >= next_keepalive {
                out.write_all(b":\n\n")?;
                out.flush()?;
                next_keepalive += KEEPALIVE_INTERVAL;
            }
        }
        let bye = format!("{{\"t\":{}}}", clock.unix_millis());
        out.write_all(named_event("bye", &bye).as_bytes())?;
        out.flush()
    }
}

/// The self-check's streaming test: a few events spaced in time. The page compares their
/// arrival times to tell a streaming host from one that buffers CGI output.
pub fn probe(out: &mut impl Write, clock: &impl Clock) {
    let written = (|| -> io::Result<()> {
        write_stream_head(out)?;
        write_padding(out)?;
        // A long retry keeps a browser that reconnects after the test from repeating it.
        out.write_all(b"retry: 60000\n\n")?;
        for tick in 0..PROBE_TICKS {
            if tick > 0 {
                clock.sleep(PROBE_SPACING);
            }
            let data = format!("{{\"n\":{tick},\"t\":{}}}", clock.unix_millis());
            out.write_all(named_event("tick", &data).as_bytes())?;
            out.flush()?;
        }
        out.write_all(named_event("done", "{}").as_bytes())?;
        out.flush()
    })();
    if let Err(error) = written {
        if !is_disconnect(&error) {
            eprintln!("webrtc.cgi: probe stream: {error}");
        }
    }
}

const PROBE_TICKS: u32 = 5;
const PROBE_SPACING: Duration = Duration::from_millis(400);

/// The head of an event stream. `X-Accel-Buffering` asks an nginx proxy in front of Apache
/// (common on cPanel hosts) to pass each event on at once.
fn write_stream_head(out: &mut impl Write) -> io::Result<()> {
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

fn write_padding(out: &mut impl Write) -> io::Result<()> {
    let mut line = [b' '; PADDING_BYTES];
    line[0] = b':';
    line[PADDING_BYTES - 1] = b'\n';
    out.write_all(&line)
}

fn is_disconnect(error: &io::Error) -> bool {
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
    use std::cell::{Cell, RefCell};

    use crate::request::PeerId;

    /// A clock that advances only when the loop sleeps, and runs an action at each sleep.
    struct FakeClock<'a> {
        now: Cell<Duration>,
        on_sleep: RefCell<Box<dyn FnMut(Duration) + 'a>>,
    }

    impl Clock for FakeClock<'_> {
        fn elapsed(&self) -> Duration {
            self.now.get()
        }
        fn unix_millis(&self) -> u64 {
            1_700_000_000_000 + self.now.get().as_millis() as u64
        }
        fn sleep(&self, duration: Duration) {
            self.now.set(self.now.get() + duration);
            (self.on_sleep.borrow_mut())(self.now.get());
        }
        /// Time passes only here, so a watch could not wake the loop early anyway.
        fn wait(&self, duration: Duration, _watch: Option<&mut InboxWatch>) {
            self.sleep(duration);
        }
    }

    struct Fixture {
        _dir: tempfile::TempDir,
        settings: Settings,
    }

    fn fixture(hold_seconds: u32) -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let text = format!(
            "{{\"data_dir\": \"data\", \"hold_seconds\": {hold_seconds}, \"peer_timeout_seconds\": 60}}"
        );
        let settings = Settings::parse(&text, dir.path(), None).unwrap();
        Fixture {
            _dir: dir,
            settings,
        }
    }

    fn join(store: &Store, room: &RoomName) -> Credentials {
        let mut locked = store.lock_room(room).unwrap();
        let joined = locked.join(0).unwrap();
        locked.finish().unwrap();
        Credentials {
            peer: joined.peer,
            token: joined.token,
        }
    }

    fn send(store: &Store, room: &RoomName, from: &PeerId, kind: &str) {
        let mut locked = store.lock_room(room).unwrap();
        locked.deliver(from, None, kind, None, 0).unwrap();
        locked.finish().unwrap();
    }

    #[test]
    fn a_held_stream_writes_messages_as_they_come_with_keepalives_between() {
        let fixture = fixture(25);
        let store = Store::open(&fixture.settings).unwrap();
        let room = RoomName::parse("r").unwrap();
        let alice = join(&store, &room);
        let bob = join(&store, &room);
        let stream = open(&store, &fixture.settings, &room, &bob, None, None, 0).unwrap();
        let sent_at = Cell::new(None);
        let clock = FakeClock {
            now: Cell::new(Duration::ZERO),
            on_sleep: RefCell::new(Box::new(|now: Duration| {
                if now >= Duration::from_secs(12) && sent_at.get().is_none() {
                    send(&store, &room, &alice.peer, "late");
                    sent_at.set(Some(now));
                }
            })),
        };
        let mut out = Vec::new();
        stream.run(&mut out, &clock);
        let text = String::from_utf8(out).unwrap();
        let body = text.split_once("\r\n\r\n").unwrap().1;
        let (padding, body) = body.split_once('\n').unwrap();
        assert!(padding.starts_with(':') && padding.len() == PADDING_BYTES - 1);
        assert!(
            body.starts_with("retry: 500\nevent: hello\ndata: {\"hold\":25,"),
            "{body}"
        );
        let late = body
            .find("\"type\":\"late\"")
            .expect("the message was streamed");
        let first_keepalive = body.find(":\n\n").unwrap();
        assert!(
            first_keepalive < late,
            "a keepalive at 10 s came before the message at 12 s"
        );
        assert_eq!(
            body.matches(":\n\n").count(),
            2,
            "keepalives at 10 s and 20 s: {body}"
        );
        assert!(
            body.ends_with("event: bye\ndata: {\"t\":1700000025000}\n\n"),
            "{body}"
        );
        assert_eq!(
            clock.elapsed(),
            Duration::from_secs(25),
            "the hold lasted exactly its time"
        );
    }

    #[test]
    fn a_stream_ends_with_gone_when_its_peer_is_removed() {
        let fixture = fixture(20);
        let store = Store::open(&fixture.settings).unwrap();
        let room = RoomName::parse("r").unwrap();
        let _alice = join(&store, &room);
        let bob = join(&store, &room);
        let stream = open(&store, &fixture.settings, &room, &bob, None, None, 0).unwrap();
        let clock = FakeClock {
            now: Cell::new(Duration::ZERO),
            on_sleep: RefCell::new(Box::new(|now: Duration| {
                if now == Duration::from_secs(1) {
                    let mut locked = store.lock_room(&room).unwrap();
                    locked.leave(&bob.peer).unwrap();
                    locked.finish().unwrap();
                }
            })),
        };
        let mut out = Vec::new();
        stream.run(&mut out, &clock);
        let text = String::from_utf8(out).unwrap();
        assert!(text.ends_with("event: gone\ndata: {}\n\n"), "{text}");
        assert!(clock.elapsed() < Duration::from_secs(2));
    }

    /// A writer whose reader has gone away.
    struct ClosedPipe;

    impl Write for ClosedPipe {
        fn write(&mut self, _: &[u8]) -> io::Result<usize> {
            Err(io::ErrorKind::BrokenPipe.into())
        }
        fn flush(&mut self) -> io::Result<()> {
            Err(io::ErrorKind::BrokenPipe.into())
        }
    }

    #[test]
    fn a_client_that_left_ends_the_stream_at_once() {
        let fixture = fixture(20);
        let store = Store::open(&fixture.settings).unwrap();
        let room = RoomName::parse("r").unwrap();
        let bob = join(&store, &room);
        let stream = open(&store, &fixture.settings, &room, &bob, None, None, 0).unwrap();
        let clock = FakeClock {
            now: Cell::new(Duration::ZERO),
            on_sleep: RefCell::new(Box::new(|_| {})),
        };
        stream.run(&mut ClosedPipe, &clock);
        assert_eq!(
            clock.elapsed(),
            Duration::ZERO,
            "no waiting for a client that is gone"
        );
    }

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
