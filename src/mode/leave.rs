//! The leave mode (`POST ?mode=leave&room=R&peer=ID&token=T`): removes the peer; the others
//! receive `leave`. The body is ignored, so `navigator.sendBeacon` works.

use serde_json::json;

use super::query::{require_method, Input};
use super::{Context, Reply};
use crate::error::Result;
use crate::response::Response;
use crate::store::{Access, Store};
use crate::values::{Credentials, RoomName};

#[derive(Debug, PartialEq, Eq)]
pub struct Leave {
    pub room: RoomName,
    pub credentials: Credentials,
}

impl Leave {
    pub(super) fn parse(input: &Input) -> Result<Leave> {
        require_method(input.method, "POST", "leave")?;
        input.query.only(&["mode", "room", "peer", "token"])?;
        Ok(Leave {
            room: input.query.room()?,
            credentials: input.query.credentials()?,
        })
    }

    pub(super) fn run(self, context: &Context) -> Result<Reply> {
        let store = Store::open(context.settings)?;
        let peer = &self.credentials.peer;
        store.with_room(
            &self.room,
            Access::Peer(&self.credentials),
            context.now,
            |room| room.leave(peer),
        )?;
        Ok(Reply::Whole(Response::json(200, &json!({ "left": true }))))
    }
}
