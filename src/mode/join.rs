//! The join mode (`POST ?mode=join&room=R`): counts the join against the address's limit,
//! adds a new peer to the room (the others receive `join`) and hands it its id, its token
//! and everything the client needs to connect. The body is ignored.

use serde_json::json;

use super::ice::ice_servers;
use super::query::{require_method, Input};
use super::{Context, Reply};
use crate::error::Result;
use crate::response::Response;
use crate::store::{Access, Store};
use crate::values::RoomName;

#[derive(Debug, PartialEq, Eq)]
pub struct Join {
    pub room: RoomName,
    /// REMOTE_ADDR, for the per-address join limit.
    pub address: String,
}

impl Join {
    pub(super) fn parse(input: &Input) -> Result<Join> {
        require_method(input.method, "POST", "join")?;
        input.query.only(&["mode", "room"])?;
        Ok(Join {
            room: input.query.room()?,
            address: input.variable("REMOTE_ADDR").to_string(),
        })
    }

    pub(super) fn run(self, context: &Context) -> Result<Reply> {
        let settings = context.settings;
        let store = Store::open(settings)?;
        store.admit_join(&self.address, context.now)?;
        store.sweep_if_due(context.now);
        let joined = store.with_room(&self.room, Access::Anyone, context.now, |room| {
            room.join(context.now)
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
                "quietPollSeconds": settings.quiet_poll_seconds,
                "maxPeers": settings.max_peers,
            }),
        )))
    }
}
