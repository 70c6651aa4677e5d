//! The post mode (`POST ?mode=post&room=R&peer=ID&token=T` with a JSON body): stores a
//! message for one peer or for every other peer of the room. The answer comes once it is
//! stored for every recipient, or for none.

use serde::Deserialize;
use serde_json::{json, Value};

use super::query::{require_method, Input};
use super::{Context, Reply};
use crate::error::{Error, Result};
use crate::response::Response;
use crate::store::{Access, Store};
use crate::values::{Credentials, EventData, MessageType, PeerId, RoomName};

#[derive(Debug, PartialEq, Eq)]
pub struct Post {
    pub room: RoomName,
    pub credentials: Credentials,
    pub message: OutgoingMessage,
}

#[derive(Debug, PartialEq, Eq)]
pub struct OutgoingMessage {
    pub to: Option<PeerId>,
    pub kind: MessageType,
    pub data: Option<EventData>,
}

impl Post {
    pub(super) fn parse(input: &Input) -> Result<Post> {
        require_method(input.method, "POST", "post")?;
        input.query.only(&["mode", "room", "peer", "token"])?;
        let room = input.query.room()?;
        let credentials = input.query.credentials()?;
        if input.optional("CONTENT_LENGTH").map_or(true, str::is_empty) {
            return Err(Error::LengthRequired(
                "post needs a JSON body with a Content-Length".to_string(),
            ));
        }
        Ok(Post {
            room,
            credentials,
            message: parse_message(input.body)?,
        })
    }

    pub(super) fn run(self, context: &Context) -> Result<Reply> {
        let store = Store::open(context.settings)?;
        let from = &self.credentials.peer;
        let message = &self.message;
        let stored = store.with_room(
            &self.room,
            Access::Peer(&self.credentials),
            context.now,
            |room| {
                room.deliver(
                    from,
                    message.to.as_ref(),
                    &message.kind,
                    message.data.as_ref(),
                    context.now,
                )
            },
        )?;
        Ok(Reply::Whole(Response::json(
            202,
            &json!({ "stored": stored }),
        )))
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MessageBody {
    #[serde(default)]
    to: Option<String>,
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    data: Option<Value>,
}

fn parse_message(body: &[u8]) -> Result<OutgoingMessage> {
    if body.is_empty() {
        return Err(Error::BadRequest(
            "the body is empty: send {\"to\": ID, \"type\": \"...\", \"data\": ...}".to_string(),
        ));
    }
    let text = std::str::from_utf8(body)
        .map_err(|_| Error::BadRequest("the body is not valid UTF-8".to_string()))?;
    let message: MessageBody = serde_json::from_str(text).map_err(body_error)?;
    let kind = MessageType::parse(&message.kind)?;
    let to = message.to.as_deref().map(PeerId::parse).transpose()?;
    // Parsing the data first puts serde_json's nesting limit between a hostile sender and
    // the other browsers; `EventData` makes it one compact line.
    let data = message.data.and_then(EventData::from_json);
    Ok(OutgoingMessage { to, kind, data })
}

/// Says which way a body failed: not JSON at all, or JSON of the wrong shape.
fn body_error(error: serde_json::Error) -> Error {
    use serde_json::error::Category;
    match error.classify() {
        Category::Syntax | Category::Eof => {
            Error::BadRequest(format!("the body is not valid JSON: {error}"))
        }
        Category::Data => Error::BadRequest(format!(
            "the body is not valid JSON for a message, an object {{\"to\", \"type\", \"data\"}}: {error}"
        )),
        // Parsing from memory does no I/O; should it ever, it is not the client's fault.
        Category::Io => Error::Internal(format!("reading a message body: {error}")),
    }
}
