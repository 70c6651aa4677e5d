//! The store: rooms, their peers and each peer's inbox of pending messages, kept as files in
//! the data directory. All file access and locking live here, behind an API that speaks of
//! rooms, peers and messages; no other module builds a path inside the data directory.
//!
//! Layout: `rooms/<room>/lock` (the room's lock), `rooms/<room>/peers.json` (who is in the
//! room), `rooms/<room>/inbox-<peer>` (that peer's pending messages, one record a line),
//! `rooms/<room>/rate-<peer>` (its post counter), `limits/join-<hash>` (join counters),
//! `last-sweep` (when abandoned rooms were last looked for).
//!
//! Every handler goes through `Store::with_room`, which owns the order that makes a change
//! safe: lock, expire stale peers, authenticate, act, save, and only then the act's result.

mod delivery;
mod files;
mod inbox;
mod limits;
pub mod location;
mod lock;
mod record;
mod room;
mod sweep;
mod watch;

use std::fs;
use std::io;
use std::os::unix::fs::DirBuilderExt;
use std::path::PathBuf;

pub use inbox::{InboxTail, TailPoll};
pub use record::{parse_records, Record};
pub use room::{Joined, Room};
pub use watch::InboxWatch;

use crate::config::Settings;
use crate::error::{Error, IoCause, Result};
use crate::secret;
use crate::values::{Credentials, RoomName};

/// Denies web access to the data directory on Apache 2.2 and 2.4 alike, for hosts where it
/// sits inside a web-served folder.
const DENY_ALL_HTACCESS: &str = "# Written by webrtc.cgi: this folder holds private call data.
<IfModule mod_authz_core.c>
    Require all denied
</IfModule>
<IfModule !mod_authz_core.c>
    Order allow,deny
    Deny from all
</IfModule>
";

/// The file in the data directory that the self-check page asks the web server for.
pub const SELF_CHECK_FILE: &str = "self-check";

pub struct Store {
    data_dir: PathBuf,
    rooms_dir: PathBuf,
    /// A short name for the data directory in messages the site owner reads.
    shown_name: String,
    limits: Limits,
}

/// The settings the store enforces, in the units it counts in.
struct Limits {
    peer_timeout_seconds: u64,
    max_peers: usize,
    max_backlog_bytes: u64,
    max_joins_per_minute: u64,
    max_posts_per_second: u64,
}

/// Who asks to act on a room.
pub enum Access<'a> {
    /// Anyone: a join.
    Anyone,
    /// A peer of the room, proven by its token.
    Peer(&'a Credentials),
}

impl Store {
    /// Opens (and on first use creates) the data directory.
    pub fn open(settings: &Settings) -> Result<Store> {
        let data_dir = settings.data_dir.clone();
        let shown_name = data_dir
            .file_name()
            .map(|name| name.to_string_lossy().into_owned())
            .unwrap_or_else(|| "data directory".to_string());
        let store = Store {
            rooms_dir: data_dir.join("rooms"),
            data_dir,
            shown_name,
            limits: Limits {
                peer_timeout_seconds: u64::from(settings.peer_timeout_seconds),
                max_peers: settings.max_peers,
                max_backlog_bytes: settings.max_backlog_bytes,
                max_joins_per_minute: u64::from(settings.max_joins_per_minute),
                max_posts_per_second: u64::from(settings.max_posts_per_second),
            },
        };
        if !store.rooms_dir.is_dir() {
            store
                .create()
                .map_err(|error| store.data_dir_error(&error))?;
        }
        Ok(store)
    }

    /// Whether the data directory exists, without creating it: `webrtc.cgi --check` from a
    /// shell tests it only then (see `mode::check::DataDirectory`).
    pub fn data_dir_exists(settings: &Settings) -> bool {
        settings.data_dir.symlink_metadata().is_ok()
    }

    fn create(&self) -> io::Result<()> {
        let mut folder = fs::DirBuilder::new();
        folder.recursive(true).mode(0o700);
        folder.create(&self.data_dir)?;
        files::write_new_file(
            &self.data_dir.join(".htaccess"),
            DENY_ALL_HTACCESS.as_bytes(),
        )?;
        folder.create(&self.rooms_dir)?;
        folder.create(self.data_dir.join(limits::LIMITS_DIR))
    }

    fn room_dir(&self, room: &RoomName) -> PathBuf {
        self.rooms_dir.join(room.as_str())
    }

    /// The one way to change a room: takes its lock, expires stale peers, checks `access`,
    /// runs `act`, saves, and only then returns what `act` returned. Saving comes before the
    /// act's result is looked at, so peers expired on the way are written away even when
    /// the act is refused (a full room, a wrong token); and every act leaves the room in a
    /// state that can be saved, so a refusal never leaves half a change on disk.
    pub fn with_room<T>(
        &self,
        room: &RoomName,
        access: Access<'_>,
        now: u64,
        act: impl FnOnce(&mut Room<'_>) -> Result<T>,
    ) -> Result<T> {
        let mut locked = self.lock_room(room)?;
        locked.expire_stale(now);
        let result = match access {
            Access::Anyone => Ok(()),
            Access::Peer(credentials) => locked.authenticate(credentials),
        }
        .and_then(|()| act(&mut locked));
        locked.finish()?;
        result
    }

    /// Explains a data directory that cannot be used in words the site owner can act on. A
    /// full disk is the same 507 as anywhere else.
    fn data_dir_error(&self, error: &io::Error) -> Error {
        eprintln!(
            "webrtc.cgi: data directory {}: {error}",
            self.data_dir.display()
        );
        let cause = IoCause::of(error);
        if let Some(full) = cause.disk_full() {
            return full;
        }
        let name = &self.shown_name;
        let advice = match cause {
            IoCause::PermissionDenied => format!(
                "the data directory \"{name}\" cannot be created or written: permission denied. It must belong to the user the web server runs webrtc.cgi as (your account on suEXEC hosts) with mode 700: delete it and let webrtc.cgi create it, or chmod 700 it, or make the folder that holds it writable (chmod 755)"
            ),
            IoCause::ReadOnly => format!(
                "the data directory \"{name}\" is on a read-only file system; set data_dir in webrtc.json to a writable folder"
            ),
            IoCause::NotAFolder => format!(
                "\"{name}\" exists but is not a folder; remove it or set data_dir in webrtc.json"
            ),
            _ => format!("the data directory \"{name}\" cannot be used: {}", error.kind()),
        };
        Error::DataDirectory(advice)
    }

    /// Proves the data directory works: creates a throw-away room, locks it, writes and reads
    /// a file in it, and deletes it again. Used by the self-check page.
    pub fn self_test(&self) -> Result<()> {
        // A file that stays, for the self-check page to try to download: where the server
        // serves it, it serves the rooms' tokens too.
        files::write_file(&self.data_dir.join(SELF_CHECK_FILE), b"private\n")
            .map_err(|error| self.data_dir_error(&error))?;
        let room = RoomName::parse(&format!("self-check-{}", secret::random_name(8)))?;
        let read_back = self.with_room(&room, Access::Anyone, 0, |locked| {
            let probe = locked.dir.join("probe");
            files::write_file(&probe, b"ok").map_err(|error| self.data_dir_error(&error))?;
            fs::read(&probe).map_err(|error| self.data_dir_error(&error))
        })?;
        if read_back == b"ok" {
            Ok(())
        } else {
            Err(Error::Internal(
                "a file written to the data directory read back differently".to_string(),
            ))
        }
    }
}
