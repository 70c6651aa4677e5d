//! The POST handler: join, post and leave. Each takes the room's lock, does its change and
//! returns at once; none of them sleeps or streams.

use serde_json::json;

use crate::config::Settings;
use crate::error::Result;
use crate::request::{Credentials, OutgoingMessage, RoomName};
use crate::response::Response;
use crate::store::Store;

/// Adds a new peer to the room and tells the others.
pub fn join(store: &Store, settings: &Settings, room: &RoomName, now: u64) -> Result<Response> {
    store.sweep_if_due(now);
    let mut locked = store.lock_room(room)?;
    locked.expire_stale(now);
    let joined = locked.join(now);
    // Expired peers are written away even when the room turns out to be full.
    locked.finish()?;
    let joined = joined?;
    let others: Vec<&str> = joined.others.iter().map(|peer| peer.as_str()).collect();
    Ok(Response::json(
        200,
        &json!({
            "peer": joined.peer.as_str(),
            "token": joined.token,
            "peers": others,
            "iceServers": settings.ice_servers,
            "retryMs": settings.retry_ms,
            "holdSeconds": settings.hold_seconds,
            "peerTimeoutSeconds": settings.peer_timeout_seconds,
            "maxPeers": settings.max_peers,
        }),
    ))
}

/// Stores a message for one peer or for everyone else in the room.
pub fn post(
    store: &Store,
    room: &RoomName,
    credentials: &Credentials,
    message: &OutgoingMessage,
    now: u64,
) -> Result<Response> {
    let mut locked = store.lock_room(room)?;
    locked.expire_stale(now);
    let delivered = locked.authenticate(credentials).and_then(|()| {
        locked.deliver(
            &credentials.peer,
            message.to.as_ref(),
            &message.kind,
            message.data.as_deref(),
        )
    });
    locked.finish()?;
    let stored = delivered?;
    Ok(Response::json(202, &json!({ "stored": stored })))
}

/// Removes the peer; the others receive `leave`.
pub fn leave(
    store: &Store,
    room: &RoomName,
    credentials: &Credentials,
    now: u64,
) -> Result<Response> {
    let mut locked = store.lock_room(room)?;
    locked.expire_stale(now);
    let authenticated = locked.authenticate(credentials);
    if authenticated.is_ok() {
        locked.leave(&credentials.peer);
    }
    locked.finish()?;
    authenticated?;
    Ok(Response::json(200, &json!({ "left": true })))
}
