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
mod slots;
mod sweep;
mod watch;

use std::cell::OnceCell;
use std::fs;
use std::io;
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::PathBuf;

pub use inbox::{InboxTail, TailPoll};
pub use record::{parse_records, Record};
pub use room::{Joined, Room};
pub use slots::{SlotUse, StreamSlot};
pub use watch::InboxWatch;

use crate::address::AddressKey;
use crate::config::Settings;
use crate::error::{Error, IoCause, Result, SYMBOLIC_LINK_ADVICE};
use crate::secret;
use crate::values::{Credentials, RoomName};

/// Denies web access to the data directory on Apache 2.2 and 2.4 alike, for hosts where it
/// sits inside a web-served folder.
const SALT_FILE: &str = "salt";

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
    /// The install's random salt for address hashes, read on first use.
    salt: OnceCell<Vec<u8>>,
}

/// The settings the store enforces, in the units it counts in.
struct Limits {
    peer_timeout_seconds: u64,
    max_peers: usize,
    max_backlog_bytes: u64,
    max_joins_per_minute: u64,
    max_posts_per_second: u64,
    max_held_streams: usize,
    max_held_streams_per_address: usize,
    max_site_joins_per_minute: u64,
    max_rooms: u64,
    max_data_bytes: u64,
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
                max_held_streams: settings.max_held_streams as usize,
                max_held_streams_per_address: settings.max_held_streams_per_address as usize,
                max_site_joins_per_minute: u64::from(settings.max_site_joins_per_minute),
                max_rooms: u64::from(settings.max_rooms),
                max_data_bytes: settings.max_data_bytes,
            },
            salt: OnceCell::new(),
        };
        if !store.rooms_dir.is_dir() {
            store
                .create()
                .map_err(|error| store.data_dir_error(&error))?;
        }
        store.check_integrity()?;
        Ok(store)
    }

    /// Whether the data directory exists, without creating it: `webrtc.cgi --check` from a
    /// shell tests it only then (see `mode::check::DataDirectory`).
    pub fn data_dir_exists(settings: &Settings) -> bool {
        settings.data_dir.symlink_metadata().is_ok()
    }

    /// Refuses a data directory that other users of the host can write (they could plant
    /// links or read what they should not) and one whose own folders are links, and writes
    /// the deny-all `.htaccess` again when someone deleted it. A stat or two per request.
    fn check_integrity(&self) -> Result<()> {
        let metadata = fs::metadata(&self.data_dir).map_err(|error| self.data_dir_error(&error))?;
        if metadata.permissions().mode() & 0o022 != 0 {
            let name = &self.shown_name;
            return Err(Error::DataDirectory(format!(
                "the data directory \"{name}\" can be written by other users of this host (its mode is {:o}): chmod 700 it, or delete it and let webrtc.cgi create it",
                metadata.permissions().mode() & 0o777
            )));
        }
        for folder in [&self.rooms_dir, &self.data_dir.join(limits::LIMITS_DIR)] {
            match files::refuse_linked_folder(folder) {
                Err(error) if error.kind() != io::ErrorKind::NotFound => {
                    return Err(self.data_dir_error(&error))
                }
                _ => {}
            }
        }
        let htaccess = self.data_dir.join(".htaccess");
        if fs::symlink_metadata(&htaccess).is_err() {
            files::write_new_file(&htaccess, DENY_ALL_HTACCESS.as_bytes())
                .map_err(|error| self.data_dir_error(&error))?;
        }
        Ok(())
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

    /// An address as the store keeps it: an HMAC keyed with this install's random salt, so
    /// the data directory never holds an address, and a hash found there cannot be turned
    /// back into one by trying every address (an unkeyed hash of IPv4 can be, in seconds).
    fn address_hash(&self, address: &AddressKey) -> String {
        let salt = self.salt.get_or_init(|| self.read_or_create_salt());
        secret::keyed_hash(salt, address.as_str())
    }

    /// `<data_dir>/salt`, created once with 32 random bytes. Should it be unreadable, a
    /// fresh salt still keeps addresses out of the files, only not stable across requests.
    fn read_or_create_salt(&self) -> Vec<u8> {
        let path = self.data_dir.join(SALT_FILE);
        if let Ok(salt) = files::read_file(&path) {
            if salt.len() >= 16 {
                return salt;
            }
        }
        let fresh = secret::random_name(43).into_bytes();
        // Two first requests may race: whoever creates the file wins, the other reads it.
        if let Err(error) = files::write_new_file(&path, &fresh) {
            eprintln!("webrtc.cgi: writing the address salt: {error}");
        }
        files::read_file(&path)
            .ok()
            .filter(|salt| salt.len() >= 16)
            .unwrap_or(fresh)
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
            IoCause::SymbolicLink => SYMBOLIC_LINK_ADVICE.to_string(),
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
            files::read_file(&probe).map_err(|error| self.data_dir_error(&error))
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
