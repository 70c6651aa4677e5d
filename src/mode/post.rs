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
    /// Whether it has the form a sealed room takes (PROTOCOL.md, "Sealed rooms").
    pub sealed: bool,
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
                refuse_unsealed(room.is_sealed(), message)?;
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
    let sealed = is_sealed_form(&message.kind, message.data.as_ref());
    let kind = MessageType::parse(&message.kind)?;
    let to = message.to.as_deref().map(PeerId::parse).transpose()?;
    // Parsing the data first puts serde_json's nesting limit between a hostile sender and
    // the other browsers; `EventData` makes it one compact line.
    let data = message.data.and_then(EventData::from_json);
    Ok(OutgoingMessage {
        to,
        kind,
        data,
        sealed,
    })
}

/// A sealed room takes sealed messages only, so that nothing readable is stored in it.
fn refuse_unsealed(room_sealed: bool, message: &OutgoingMessage) -> Result<()> {
    if room_sealed && !message.sealed {
        return Err(Error::BadRequest(
            "this room is sealed: every message must be sealed, {\"type\": \"sealed\", \"data\": {\"sealed\": BASE64}} (PROTOCOL.md, \"Sealed rooms\")".to_string(),
        ));
    }
    Ok(())
}

/// The one form a sealed room accepts: type `sealed`, and data an object whose only key
/// `sealed` holds base64 text.
fn is_sealed_form(kind: &str, data: Option<&Value>) -> bool {
    let Some(object) = data.and_then(Value::as_object) else {
        return false;
    };
    let base64 = |text: &str| {
        !text.is_empty()
            && text.len() % 4 == 0
            && text
                .bytes()
                .all(|byte| byte.is_ascii_alphanumeric() || b"+/=".contains(&byte))
    };
    kind == "sealed"
        && object.len() == 1
        && object
            .get("sealed")
            .and_then(Value::as_str)
            .is_some_and(base64)
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
