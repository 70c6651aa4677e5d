//! Delivery: storing a peer's message in its recipients' inboxes, with the two limits that
//! keep one sender from filling the disk: each recipient's backlog (`max_backlog_bytes`),
//! checked for all recipients before any is written, and the sender's post rate
//! (`max_posts_per_second`, counted in a file beside its inbox that goes with the peer).

use std::io;

use super::files::open_or_create;
use super::inbox::InboxEnd;
use super::limits::count_in_window;
use super::record::record_len;
use super::room::Room;
use crate::error::{Error, Result};
use crate::values::{EventData, MessageType, PeerId};

/// Posts are counted over windows this long, so a burst (an offer with its candidates) is
/// not punished while a sustained flood is.
const POST_WINDOW_SECONDS: u64 = 10;

impl Room<'_> {
    /// Stores a message from `from` for `to`, or for every other peer when `to` is `None`.
    /// Either every recipient has room in its backlog and all get it, or none does.
    /// Returns how many recipients it was stored for.
    pub fn deliver(
        &mut self,
        from: &PeerId,
        to: Option<&PeerId>,
        kind: &MessageType,
        data: Option<&EventData>,
        now: u64,
    ) -> Result<usize> {
        let recipients: Vec<String> = match to {
            Some(to) if to == from => {
                return Err(Error::BadRequest(
                    "\"to\" names the sender itself".to_string(),
                ))
            }
            Some(to) if self.has_peer(to) => vec![to.as_str().to_string()],
            Some(to) => {
                return Err(Error::RecipientGone(format!(
                    "peer \"{}\" is not in this room (any more)",
                    to.as_str()
                )))
            }
            None => self.peers_except(Some(from)),
        };
        self.count_post(from, now)?;
        let payload = message_payload(from, kind, data);
        let limit = self.store.limits.max_backlog_bytes;
        let mut inboxes = Vec::with_capacity(recipients.len());
        for recipient in &recipients {
            let inbox = match InboxEnd::open(&self.inbox_path(recipient)) {
                Ok(inbox) => inbox,
                // Only a crash between saving peers.json and creating an inbox leaves a listed
                // peer without one; it counts as gone and expires with time.
                Err(error) if error.kind() == io::ErrorKind::NotFound => {
                    if to.is_some() {
                        return Err(Error::RecipientGone(format!(
                            "peer \"{recipient}\" is not in this room (any more)"
                        )));
                    }
                    continue;
                }
                Err(error) => return Err(Error::from(error)),
            };
            if inbox.valid_len + record_len(&payload) > limit {
                return Err(Error::TooManyRequests {
                    message: format!(
                        "peer \"{recipient}\" has too many unread messages ({} bytes waiting); try again when it has caught up",
                        inbox.valid_len
                    ),
                    retry_after_seconds: 2,
                });
            }
            inboxes.push(inbox);
        }
        for inbox in &mut inboxes {
            inbox.append(&payload)?;
        }
        Ok(inboxes.len())
    }

    /// Counts a post by `from`, refusing it when the peer posts faster than allowed.
    fn count_post(&self, from: &PeerId, now: u64) -> Result<()> {
        let counter = open_or_create(&self.rate_path(from.as_str()))?;
        let per_second = self.store.limits.max_posts_per_second;
        let admitted = count_in_window(
            &counter,
            now,
            POST_WINDOW_SECONDS,
            per_second * POST_WINDOW_SECONDS,
        )?;
        admitted.map_err(|retry_after_seconds| Error::TooManyRequests {
            message: format!("this peer posts too fast: at most {per_second} messages a second"),
            retry_after_seconds,
        })
    }
}

/// A message as its recipients receive it. Every part is of a JSON-safe type: peer ids and
/// types are of a quote-free alphabet, and the data is serialised JSON.
fn message_payload(from: &PeerId, kind: &MessageType, data: Option<&EventData>) -> String {
    match data {
        Some(data) => format!(
            "{{\"from\":\"{}\",\"type\":\"{}\",\"data\":{}}}",
            from.as_str(),
            kind.as_str(),
            data.as_str()
        ),
        None => format!(
            "{{\"from\":\"{}\",\"type\":\"{}\"}}",
            from.as_str(),
            kind.as_str()
        ),
    }
}
