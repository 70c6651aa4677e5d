//! The join mode (`POST ?mode=join&room=R`): counts the join against the address's limit,
//! adds a new peer to the room (the others receive `join`) and hands it its id, its token
//! and everything the client needs to connect, including whether the room is sealed
//! (`sealed=1` asks for a sealed room: PROTOCOL.md, "Sealed rooms"). The body is ignored.

use serde_json::json;

use super::ice::ice_servers;
use super::query::{require_method, Input};
use super::{Context, Reply};
use crate::error::{Error, Result};
use crate::response::Response;
use crate::store::{Access, Store};
use crate::values::RoomName;

#[derive(Debug, PartialEq, Eq)]
pub struct Join {
    pub room: RoomName,
    /// REMOTE_ADDR, for the per-address join limit.
    pub address: String,
    /// The joiner asks for a sealed room.
    pub sealed: bool,
}

impl Join {
    pub(super) fn parse(input: &Input) -> Result<Join> {
        require_method(input.method, "POST", "join")?;
        input.query.only(&["mode", "room", "sealed"])?;
        Ok(Join {
            room: input.query.room()?,
            address: input.variable("REMOTE_ADDR").to_string(),
            sealed: sealed_parameter(input.query.get("sealed"))?,
        })
    }

    pub(super) fn run(self, context: &Context) -> Result<Reply> {
        let settings = context.settings;
        let store = Store::open(settings)?;
        store.admit_join(&self.address, context.now)?;
        store.sweep_if_due(context.now);
        let (joined, sealed) =
            store.with_room(&self.room, Access::Anyone, context.now, |room| {
                room.seal_if_empty(self.sealed);
                let joined = room.join(context.now)?;
                Ok((joined, room.is_sealed()))
            })?;
        let others: Vec<&str> = joined.others.iter().map(|peer| peer.as_str()).collect();
        let (ice_servers, ice_expires_at) = ice_servers(settings, &joined.peer, context.now);
        Ok(Reply::Whole(Response::json(
            200,
            &json!({
                "peer": joined.peer.as_str(),
                "token": joined.token.as_str(),
                "peers": others,
                "iceServers": ice_servers,
                "iceServersExpireAt": ice_expires_at,
                "iceTransportPolicy": settings.ice_transport_policy.as_str(),
                "retryMs": settings.retry_ms,
                "holdSeconds": settings.hold_seconds,
                "peerTimeoutSeconds": settings.peer_timeout_seconds,
                "maxPeers": settings.max_peers,
                "sealed": sealed,
            }),
        )))
    }
}

/// Reads the `sealed` parameter: absent, or `1`.
fn sealed_parameter(value: Option<&str>) -> Result<bool> {
    match value {
        None => Ok(false),
        Some("1") => Ok(true),
        Some(_) => Err(Error::BadRequest(
            "\"sealed\" takes only the value 1 (leave it out for a room that is not sealed)"
                .to_string(),
        )),
    }
}
