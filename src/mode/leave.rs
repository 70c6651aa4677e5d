//! The leave mode (`POST ?mode=leave&room=R&peer=ID`, with the token in `X-Peer-Token`, the
//! query or a body `{"token": T}`): removes the peer; the others receive `leave`. A page that
//! is closing can only use `navigator.sendBeacon`, which sends no headers but a body, so the
//! body is where such a client puts the token; otherwise the body is ignored.

use serde_json::json;

use super::query::{require_method, Input};
use super::{Context, Reply};
use crate::error::Result;
use crate::response::Response;
use crate::store::{Access, Store};
use crate::values::{Credentials, PeerId, RoomName, Token};

#[derive(Debug, PartialEq, Eq)]
pub struct Leave {
    pub room: RoomName,
    pub credentials: Credentials,
}

impl Leave {
    pub(super) fn parse(input: &Input) -> Result<Leave> {
        require_method(input.method, "POST", "leave")?;
        input.query.only(&["mode", "room", "peer", "token"])?;
        let room = input.query.room()?;
        let has_token =
            input.optional("HTTP_X_PEER_TOKEN").is_some() || input.query.get("token").is_some();
        let credentials = match body_token(input.body) {
            Some(token) if !has_token => Credentials {
                peer: PeerId::parse(input.query.require("peer")?)?,
                token: Token::parse(&token)?,
            },
            _ => input.credentials()?,
        };
        Ok(Leave { room, credentials })
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

/// The token of a body `{"token": "..."}`; any other body is ignored, as it always was.
fn body_token(body: &[u8]) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct TokenBody {
        token: String,
    }
    serde_json::from_slice::<TokenBody>(body)
        .ok()
        .map(|parsed| parsed.token)
}
