//! The sse mode (`GET ?mode=sse&room=R&peer=ID&token=T[&last=N][&hold=S]`): opens a peer's
//! inbox under the room's lock (marking the peer present and deleting what the client
//! acknowledged with `Last-Event-ID`), sends what is pending, then holds the response open
//! for the hold, writing each new message as it is stored.
//!
//! The hold never has the room's lock: `InboxTail` reads without it. The loop takes its
//! writer and its clock as arguments so that tests drive it without sleeping. A failed write
//! means the client left; the loop then ends quietly.

use std::io::{self, Write};
use std::time::Duration;

use super::query::{parse_number, require_method, Input};
use super::{Context, Reply, Stream};
use crate::address::ClientOrigin;
use crate::error::Result;
use crate::store::{Access, InboxTail, InboxWatch, Record, SlotUse, Store, StreamSlot, TailPoll};
use crate::stream::{
    is_disconnect, message_event, named_event, write_padding, write_stream_head, Clock,
};
use crate::values::{Credentials, RoomName};

/// How often a held response looks for new messages when nothing wakes it. Each look is one
/// stat(2) of the inbox. With a watch (inotify) a change wakes the stream at once, and the
/// look only guards against a file system that does not report changes (a network share
/// written from another machine). Without one, a message waits 5 ms on average, and 100
/// looks a second cost a few hundredths of a percent of a core.
const POLL_INTERVAL: Duration = Duration::from_millis(10);
const WATCHED_POLL_INTERVAL: Duration = Duration::from_millis(100);
/// Comment lines keep proxies and Apache's `TimeOut` from closing a quiet response.
const KEEPALIVE_INTERVAL: Duration = Duration::from_secs(10);
/// A polling client (hold 0) reconnects at least this far apart.
const MIN_POLLING_RETRY_MS: u32 = 1000;

#[derive(Debug, PartialEq, Eq)]
pub struct Sse {
    pub room: RoomName,
    pub credentials: Credentials,
    pub last_event_id: Option<u64>,
    pub hold_seconds: Option<u32>,
    pub origin: ClientOrigin,
}

impl Sse {
    pub(super) fn parse(input: &Input) -> Result<Sse> {
        require_method(input.method, "GET", "sse")?;
        let query = &input.query;
        query.only(&["mode", "room", "peer", "token", "last", "hold"])?;
        let header = input
            .optional("HTTP_LAST_EVENT_ID")
            .filter(|text| !text.trim().is_empty());
        let last_event_id = match (header, query.get("last")) {
            (Some(text), _) => Some(parse_number("Last-Event-ID", text.trim())?),
            (None, Some(text)) => Some(parse_number("last", text)?),
            (None, None) => None,
        };
        let hold_seconds = query
            .get("hold")
            .map(|text| parse_number("hold", text))
            .transpose()?;
        Ok(Sse {
            room: query.room()?,
            credentials: input.credentials()?,
            last_event_id,
            hold_seconds,
            origin: input.origin(),
        })
    }

    pub(super) fn run(self, context: &Context) -> Result<Reply> {
        let store = Store::open(context.settings)?;
        let stream = self.open(&store, context)?;
        Ok(Reply::Stream(Stream::Events(Box::new(stream))))
    }

    /// Checks the peer, marks it present, acknowledges what the client has, and collects
    /// what is pending. Errors here are answered as ordinary JSON errors (nothing was
    /// written yet).
    fn open(&self, store: &Store, context: &Context) -> Result<EventStream> {
        let settings = context.settings;
        let now = context.now;
        store.sweep_if_due(now);
        let peer = &self.credentials.peer;
        // Behind a gateway that buffers, held events would arrive only at the end of the
        // hold: the browser polls instead.
        let wanted_hold = if context.gateway.streams_held_responses() {
            self.hold_seconds
                .unwrap_or(settings.hold_seconds)
                .min(settings.hold_seconds)
        } else {
            0
        };
        // Taken before the room's lock, which it does not need; a stream that finds no
        // slot is answered at once (hold 0), and its client polls.
        let slot = if wanted_hold > 0 {
            let address = self.origin.key(&settings.trusted_proxies);
            store.take_slot(SlotUse::Stream, &address)
        } else {
            None
        };
        let hold_seconds = if slot.is_some() { wanted_hold } else { 0 };
        let (pending, tail) =
            store.with_room(&self.room, Access::Peer(&self.credentials), now, |room| {
                room.touch(peer, now);
                let (pending, mut tail) = room.open_inbox(peer, self.last_event_id)?;
                if slot.is_some() {
                    room.claim_stream(peer, &mut tail)?;
                }
                Ok((pending, tail))
            })?;
        let retry_ms = if hold_seconds == 0 {
            settings.retry_ms.max(MIN_POLLING_RETRY_MS)
        } else {
            settings.retry_ms
        };
        let watch = if hold_seconds > 0 { tail.watch() } else { None };
        Ok(EventStream {
            pending,
            tail,
            watch,
            hold: Duration::from_secs(u64::from(hold_seconds)),
            retry_ms,
            https: context.https,
            _slot: slot,
        })
    }
}

/// An opened stream, ready to be written.
pub struct EventStream {
    pending: Vec<Record>,
    tail: InboxTail,
    watch: Option<InboxWatch>,
    hold: Duration,
    retry_ms: u32,
    https: bool,
    /// Held for as long as the stream is.
    _slot: Option<StreamSlot>,
}

impl EventStream {
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
        write_stream_head(out, self.https)?;
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
                TailPoll::Superseded => return out.flush(),
                TailPoll::Records(records) if !records.is_empty() => {
                    for record in &records {
                        out.write_all(message_event(record).as_bytes())?;
                    }
                    out.flush()?;
                }
                TailPoll::Records(_) => {}
                // A newer stream of this peer holds now; this one ends like a finished
                // hold, and the client (if it is still there) reconnects.
                TailPoll::Replaced => break,
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::{Cell, RefCell};

    use crate::config::Settings;
    use crate::gateway::Gateway;
    use crate::stream::PADDING_BYTES;
    use crate::values::{EventData, MessageType, PeerId};

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
        let joined = store
            .with_room(room, Access::Anyone, 0, |room| room.join(0))
            .unwrap();
        Credentials {
            peer: joined.peer,
            token: joined.token,
        }
    }

    fn send(store: &Store, room: &RoomName, from: &PeerId, kind: &str) {
        let kind = MessageType::parse(kind).unwrap();
        store
            .with_room(room, Access::Anyone, 0, |room| {
                room.deliver(from, None, &kind, None::<&EventData>, 0)
            })
            .unwrap();
    }

    /// Opens a stream as the sse mode does, at time 0, run by the server itself.
    fn open(
        store: &Store,
        settings: &Settings,
        room: &RoomName,
        peer: &Credentials,
    ) -> EventStream {
        open_through(store, settings, room, peer, Gateway::SameAccount)
    }

    fn open_through(
        store: &Store,
        settings: &Settings,
        room: &RoomName,
        peer: &Credentials,
        gateway: Gateway,
    ) -> EventStream {
        let request = Sse {
            room: room.clone(),
            credentials: peer.clone(),
            last_event_id: None,
            hold_seconds: None,
            origin: ClientOrigin::default(),
        };
        let context = Context {
            settings,
            now: 0,
            script_name: "",
            https: false,
            gateway,
        };
        request.open(store, &context).unwrap()
    }

    #[test]
    fn behind_a_fastcgi_wrapper_a_stream_answers_at_once_and_the_browser_polls() {
        let fixture = fixture(25);
        let store = Store::open(&fixture.settings).unwrap();
        let room = RoomName::parse("r").unwrap();
        let alice = join(&store, &room);
        let bob = join(&store, &room);
        send(&store, &room, &alice.peer, "early");
        let stream = open_through(
            &store,
            &fixture.settings,
            &room,
            &bob,
            Gateway::FastCgiWrapper,
        );
        let clock = FakeClock {
            now: Cell::new(Duration::ZERO),
            on_sleep: RefCell::new(Box::new(|_| {})),
        };
        let mut out = Vec::new();
        stream.run(&mut out, &clock);
        let text = String::from_utf8(out).unwrap();
        assert!(
            text.contains("retry: 1000\nevent: hello\ndata: {\"hold\":0,"),
            "{text}"
        );
        assert!(
            text.contains("\"type\":\"early\""),
            "pending messages still go out"
        );
        assert!(
            text.ends_with("\n\n") && text.contains("event: bye"),
            "{text}"
        );
        assert_eq!(clock.elapsed(), Duration::ZERO, "no hold at all");
    }

    #[test]
    fn a_held_stream_writes_messages_as_they_come_with_keepalives_between() {
        let fixture = fixture(25);
        let store = Store::open(&fixture.settings).unwrap();
        let room = RoomName::parse("r").unwrap();
        let alice = join(&store, &room);
        let bob = join(&store, &room);
        let stream = open(&store, &fixture.settings, &room, &bob);
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
        let stream = open(&store, &fixture.settings, &room, &bob);
        let clock = FakeClock {
            now: Cell::new(Duration::ZERO),
            on_sleep: RefCell::new(Box::new(|now: Duration| {
                if now == Duration::from_secs(1) {
                    store
                        .with_room(&room, Access::Anyone, 0, |room| room.leave(&bob.peer))
                        .unwrap();
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
        let stream = open(&store, &fixture.settings, &room, &bob);
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
}
