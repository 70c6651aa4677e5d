//! Inboxes: one file per peer, `inbox-<peer>`, of records (see `record.rs`). Appends
//! happen under the room's lock and read only the last few KiB (`InboxEnd`); the owner's
//! request reads the inbox whole and compacts away what it acknowledged (`InboxContents`);
//! a held stream follows it without any lock (`InboxTail`).
//!
//! An inbox only grows by appends between compactions; a compaction writes a new file and
//! renames it over the old one, so a reader never sees a half-compacted inbox. A writer
//! killed half way leaves at most a torn last line, which readers skip and the next writer
//! cuts off before appending.

use std::fs::{self, File};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::os::unix::fs::{FileExt as _, MetadataExt};
use std::path::{Path, PathBuf};

use super::files::{file_identity, open_read, open_write, replace_file};
use super::record::{encode_record, parse_record, parse_records, Record};
use super::room::Room;
use super::watch::InboxWatch;
use crate::error::{Error, Result};
use crate::values::PeerId;

impl Room<'_> {
    /// Deletes the peer's messages up to `acknowledged` (the client has them), then returns
    /// the pending ones and a tail that follows the inbox for new ones.
    pub fn open_inbox(
        &mut self,
        peer: &PeerId,
        acknowledged: Option<u64>,
    ) -> Result<(Vec<Record>, InboxTail)> {
        let path = self.inbox_path(peer.as_str());
        let mut inbox = match InboxContents::read(&path) {
            Ok(inbox) => inbox,
            Err(error) if error.kind() == io::ErrorKind::NotFound => {
                return Err(Error::UnknownPeer(format!(
                    "peer \"{}\" has lost its messages: join again",
                    peer.as_str()
                )))
            }
            Err(error) => return Err(Error::from(error)),
        };
        let acknowledged = acknowledged.unwrap_or(0);
        if acknowledged > inbox.last_id {
            return Err(Error::BadRequest(format!(
                "Last-Event-ID {acknowledged} is ahead of this stream, whose last id is {}",
                inbox.last_id
            )));
        }
        if inbox.records.iter().any(|record| record.id <= acknowledged) {
            inbox = inbox.compact(&path, acknowledged)?;
        }
        let pending: Vec<Record> = inbox
            .records
            .iter()
            .filter(|record| record.id > acknowledged && !record.payload.is_empty())
            .cloned()
            .collect();
        let last_sent = pending.last().map_or(acknowledged, |record| record.id);
        let tail = InboxTail {
            identity: file_identity(&inbox.file)?,
            file: inbox.file,
            offset: inbox.valid_len,
            last_sent,
            path,
            claim: None,
        };
        Ok((pending, tail))
    }

    /// Makes `tail` the one held stream of `peer`: a fresh marker replaces that of any older
    /// stream, which then ends.
    pub fn claim_stream(&mut self, peer: &PeerId, tail: &mut InboxTail) -> Result<()> {
        let path = self.stream_marker_path(peer.as_str());
        let mut temp_name = path.as_os_str().to_owned();
        temp_name.push(".tmp");
        replace_file(&path, &PathBuf::from(temp_name), b"")?;
        let stamp = marker_stamp(&fs::metadata(&path)?);
        tail.claim = Some((path, stamp));
        Ok(())
    }
}

/// Follows an inbox without holding the room's lock, for a held SSE response.
pub struct InboxTail {
    path: PathBuf,
    file: File,
    identity: (u64, u64),
    /// Where the next unread line starts.
    offset: u64,
    last_sent: u64,
    /// The peer's `stream-<peer>` marker as this stream wrote it, once it holds a slot.
    claim: Option<(PathBuf, MarkerStamp)>,
}

/// What tells one marker file from the next: identity and modification time, as an inode
/// number alone may be reused by the very next file.
type MarkerStamp = (u64, u64, i64, i64);

fn marker_stamp(metadata: &fs::Metadata) -> MarkerStamp {
    (
        metadata.dev(),
        metadata.ino(),
        metadata.mtime(),
        metadata.mtime_nsec(),
    )
}

pub enum TailPoll {
    Records(Vec<Record>),
    /// The inbox is gone: the peer left or expired.
    Gone,
    /// A newer stream of the same peer took over.
    Replaced,
    /// A newer request of the same peer compacted the inbox: that request serves the peer
    /// now, and this stream's client has gone (a browser whose call went quiet closed it).
    Superseded,
}

impl InboxTail {
    /// Returns the records stored since the last call, in id order, each once.
    pub fn poll(&mut self) -> io::Result<TailPoll> {
        if let Some((path, stamp)) = &self.claim {
            match fs::metadata(path) {
                Ok(metadata) if marker_stamp(&metadata) == *stamp => {}
                Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(TailPoll::Gone),
                _ => return Ok(TailPoll::Replaced),
            }
        }
        let metadata = match fs::metadata(&self.path) {
            Ok(metadata) => metadata,
            Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(TailPoll::Gone),
            Err(error) => return Err(error),
        };
        if (metadata.dev(), metadata.ino()) != self.identity {
            // Only the owner's own requests compact an inbox. A held stream's process would
            // otherwise live on until its next write fails, holding an entry process for a
            // client that left.
            return Ok(TailPoll::Superseded);
        } else if metadata.len() == self.offset {
            return Ok(TailPoll::Records(Vec::new()));
        } else if metadata.len() < self.offset {
            self.offset = 0;
        }
        let mut bytes = Vec::new();
        self.file.seek(SeekFrom::Start(self.offset))?;
        (&self.file).read_to_end(&mut bytes)?;
        let (records, consumed) = parse_records(&bytes);
        self.offset += consumed as u64;
        let fresh: Vec<Record> = records
            .into_iter()
            .filter(|record| record.id > self.last_sent && !record.payload.is_empty())
            .collect();
        if let Some(record) = fresh.last() {
            self.last_sent = record.id;
        }
        Ok(TailPoll::Records(fresh))
    }

    /// A watch on this inbox, or None where the system offers none (not Linux, or the
    /// account's inotify instances are used up): the stream then polls more often instead.
    pub fn watch(&self) -> Option<InboxWatch> {
        InboxWatch::new(&self.path)
    }
}

/// The end of an inbox, for appending: where the complete lines end and the last id, found
/// by reading only the last few KiB, so a post costs the same however much is waiting.
pub(super) struct InboxEnd {
    file: File,
    /// Length of the complete lines; anything after it is a torn write.
    pub(super) valid_len: u64,
    len: u64,
    /// The highest id ever stored here (markers included), 0 for none.
    last_id: u64,
}

/// How much of an inbox's end is read first to find its last record; doubled (four times)
/// until a whole record is in view.
const END_WINDOW_BYTES: u64 = 4096;

impl InboxEnd {
    pub(super) fn open(path: &Path) -> io::Result<InboxEnd> {
        let file = open_write(path)?;
        let len = file.metadata()?.len();
        let mut window = END_WINDOW_BYTES;
        loop {
            let start = len.saturating_sub(window);
            let mut bytes = vec![0; (len - start) as usize];
            file.read_exact_at(&mut bytes, start)?;
            let complete = bytes
                .iter()
                .rposition(|&byte| byte == b'\n')
                .map(|end| &bytes[..end]);
            if let Some(complete) = complete {
                let valid_len = start + complete.len() as u64 + 1;
                // The window's first line may begin before the window; it is not trusted.
                let skip = usize::from(start > 0);
                let last = complete
                    .split(|&byte| byte == b'\n')
                    .skip(skip)
                    .filter_map(parse_record)
                    .last();
                if let Some(record) = last {
                    return Ok(InboxEnd {
                        file,
                        valid_len,
                        len,
                        last_id: record.id,
                    });
                }
                if start == 0 {
                    return Ok(InboxEnd {
                        file,
                        valid_len,
                        len,
                        last_id: 0,
                    });
                }
            } else if start == 0 {
                // No complete line at all: empty, or one torn line.
                return Ok(InboxEnd {
                    file,
                    valid_len: 0,
                    len,
                    last_id: 0,
                });
            }
            window *= 4;
        }
    }

    pub(super) fn append(&mut self, payload: &str) -> Result<u64> {
        if self.len != self.valid_len {
            // A writer died half way through a line; nobody has read it as a record.
            self.file.set_len(self.valid_len)?;
            self.len = self.valid_len;
        }
        let id = self.last_id + 1;
        let line = encode_record(id, payload);
        self.file.seek(SeekFrom::Start(self.valid_len))?;
        if let Err(error) = self.file.write_all(line.as_bytes()) {
            // Leave no partial line behind, so the inbox stays clean for the next writer.
            let _ = self.file.set_len(self.valid_len);
            return Err(Error::from(error));
        }
        self.valid_len += line.len() as u64;
        self.len = self.valid_len;
        self.last_id = id;
        Ok(id)
    }
}

/// An inbox read whole, for its owner's event stream.
struct InboxContents {
    file: File,
    records: Vec<Record>,
    /// Length of the complete lines; anything after it is a torn write.
    valid_len: u64,
    /// The highest id ever stored here (markers included), 0 for none.
    last_id: u64,
}

impl InboxContents {
    fn read(path: &Path) -> io::Result<InboxContents> {
        let mut file = open_read(path)?;
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes)?;
        let (records, consumed) = parse_records(&bytes);
        let last_id = records.iter().map(|record| record.id).max().unwrap_or(0);
        Ok(InboxContents {
            file,
            records,
            valid_len: consumed as u64,
            last_id,
        })
    }

    /// Rewrites the inbox without the records up to `acknowledged`, keeping the last id.
    fn compact(self, path: &Path, acknowledged: u64) -> Result<InboxContents> {
        let records: Vec<Record> = self
            .records
            .into_iter()
            .filter(|record| record.id > acknowledged && !record.payload.is_empty())
            .collect();
        let mut text = String::new();
        if records.is_empty() {
            text.push_str(&encode_record(self.last_id, ""));
        }
        for record in &records {
            text.push_str(&encode_record(record.id, &record.payload));
        }
        let mut temp_name = path.as_os_str().to_owned();
        temp_name.push(".tmp");
        replace_file(path, &PathBuf::from(temp_name), text.as_bytes())?;
        // Opened after the rename under the room's lock, so this is the file just written.
        let file = open_read(path)?;
        Ok(InboxContents {
            file,
            records,
            valid_len: text.len() as u64,
            last_id: self.last_id,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_end(text: &str, expected_valid_len: usize, expected_last_id: u64) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("inbox");
        fs::write(&path, text).unwrap();
        let end = InboxEnd::open(&path).unwrap();
        assert_eq!(end.valid_len, expected_valid_len as u64);
        assert_eq!(end.last_id, expected_last_id);
        assert_eq!(end.len, text.len() as u64);
    }

    #[test]
    fn the_end_of_an_inbox_is_found_from_its_last_lines() {
        check_end("", 0, 0);
        let small = encode_record(1, "{}") + &encode_record(2, "{\"a\":1}");
        check_end(&small, small.len(), 2);
        // A torn tail is not part of the valid length, and does not count as the last id.
        let torn = small.clone() + "3\tdeadbeef";
        check_end(&torn, small.len(), 2);
        check_end("3\tdeadbeef", 0, 0);
        // A last record far larger than the first window read.
        let huge = small.clone() + &encode_record(9, &format!("\"{}\"", "x".repeat(40_000)));
        check_end(&huge, huge.len(), 9);
        // A damaged last line: the id before it is the last one that counts.
        let damaged = small.clone() + &encode_record(3, "{}").replace("{}", "{]");
        check_end(&damaged, damaged.len(), 2);
        // Many small records: only the end is read, and the first line of the window, which
        // may start before it, is not trusted.
        let many: String = (1..=500)
            .map(|id| encode_record(id, "{\"n\":12345}"))
            .collect();
        check_end(&many, many.len(), 500);
    }

    #[test]
    fn a_tail_reads_appends_and_ends_when_a_newer_request_compacts_the_inbox() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("inbox-p");
        fs::write(&path, encode_record(1, "{}")).unwrap();
        let file = File::open(&path).unwrap();
        let mut tail = InboxTail {
            identity: file_identity(&file).unwrap(),
            offset: encode_record(1, "{}").len() as u64,
            file,
            last_sent: 1,
            path: path.clone(),
            claim: None,
        };
        InboxEnd::open(&path).unwrap().append("{\"n\":2}").unwrap();
        match tail.poll().unwrap() {
            TailPoll::Records(records) => assert_eq!(records.len(), 1, "the append is read"),
            _ => panic!("expected the appended record"),
        }
        replace_file(
            &path,
            &dir.path().join("inbox-p.tmp"),
            encode_record(2, "").as_bytes(),
        )
        .unwrap();
        assert!(
            matches!(tail.poll().unwrap(), TailPoll::Superseded),
            "a compaction ends the tail"
        );
        fs::remove_file(&path).unwrap();
        assert!(matches!(tail.poll().unwrap(), TailPoll::Gone));
    }
}
