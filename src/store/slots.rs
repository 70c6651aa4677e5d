//! The held-stream budget. A held response keeps one of the account's entry processes busy
//! for its whole hold, and a host that counts them (often 20) answers 508 to every site of
//! the account once they are used up. So a held stream (or a self-check probe) first takes
//! one of `max_held_streams` slots: files `slots/slot-<n>` that it holds an exclusive flock
//! on. A flock is released when its process ends, however it ends, so a killed stream frees
//! its slot at once. A slot file holds what took it (`stream` or `probe`, and the salted
//! hash of the address), so that one address can be held to its share.
//!
//! One held stream per peer: a stream that takes a slot also claims its peer's
//! `stream-<peer>` marker in the room (a fresh file each time), and an older stream of the
//! same peer that finds the marker replaced ends (see `InboxTail`).

use std::fs::{self, File};
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::fs::DirBuilderExt;
use std::time::Instant;

use fs2::FileExt;

use super::files::open_or_create;
use super::lock::{wait_for_lock, LOCK_TIMEOUT};
use super::Store;
use crate::address::AddressKey;

const SLOTS_DIR: &str = "slots";

/// What a slot is taken for; probes have a share of their own.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum SlotUse {
    Stream,
    Probe,
}

/// How many probes one address may run at once: the self-check opens one, a reload a second.
const PROBES_PER_ADDRESS: usize = 2;

/// A taken slot; dropping it (or the process ending) frees it.
pub struct StreamSlot {
    _file: File,
}

impl Store {
    /// Takes a slot for `address`, or returns `None` when all are taken or this address
    /// holds its share already. Never waits.
    pub fn take_slot(&self, slot_use: SlotUse, address: &AddressKey) -> Option<StreamSlot> {
        let budget = self.limits.max_held_streams;
        if budget == 0 {
            return None;
        }
        let dir = self.data_dir.join(SLOTS_DIR);
        let _ = fs::DirBuilder::new().mode(0o700).create(&dir);
        let holder = format!(
            "{} {}\n",
            match slot_use {
                SlotUse::Stream => "stream",
                SlotUse::Probe => "probe",
            },
            self.address_hash(address)
        );
        let share = match slot_use {
            SlotUse::Stream => self.limits.max_held_streams_per_address,
            SlotUse::Probe => PROBES_PER_ADDRESS,
        };
        // Taking a slot is one short critical section under `slots/lock`, so that two
        // requests of one address cannot both count the other's slot as not yet theirs.
        let guard = open_or_create(&dir.join("lock")).ok()?;
        wait_for_lock(&guard, Instant::now() + LOCK_TIMEOUT).ok()?;
        let mut free: Option<File> = None;
        let mut held_by_address = 0;
        for index in 0..budget {
            let Ok(mut file) = open_or_create(&dir.join(format!("slot-{index}"))) else {
                continue;
            };
            if file.try_lock_exclusive().is_ok() {
                if free.is_none() {
                    free = Some(file);
                }
                // Any other free slot is released as `file` is dropped here.
                continue;
            }
            let mut text = String::new();
            if file.read_to_string(&mut text).is_ok() && text == holder {
                held_by_address += 1;
            }
        }
        if held_by_address >= share {
            return None;
        }
        let mut file = free?;
        let written = file
            .set_len(0)
            .and_then(|()| file.seek(SeekFrom::Start(0)))
            .and_then(|_| file.write_all(holder.as_bytes()));
        // A slot whose holder could not be written still counts against the budget.
        if let Err(error) = written {
            eprintln!("webrtc.cgi: writing a stream slot: {error}");
        }
        Some(StreamSlot { _file: file })
    }
}
