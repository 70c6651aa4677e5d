//! The POST handler: join, post and leave (and ice, which renews TURN credentials). Each
//! takes the room's lock, does its change and returns at once; none of them sleeps or
//! streams.

use serde_json::{json, Value};

use crate::config::Settings;
use crate::error::{Error, Result};
use crate::request::{Credentials, OutgoingMessage, PeerId, RoomName};
use crate::response::Response;
use crate::secret;
use crate::store::Store;

/// The ICE servers for one peer: the configured ones, plus time-limited TURN credentials
/// when a shared secret is configured. Returns the list and when the credentials expire.
fn ice_servers(settings: &Settings, peer: &PeerId, now: u64) -> (Value, Option<u64>) {
    let mut servers = settings.ice_servers.clone();
    let Some(turn) = &settings.turn else {
        return (servers, None);
    };
    let expires_at = now + u64::from(turn.ttl_seconds);
    let username = format!("{expires_at}:{}", peer.as_str());
    let credential = secret::turn_password(&turn.secret, &username);
    if let Value::Array(list) = &mut servers {
        list.push(json!({ "urls": turn.urls, "username": username, "credential": credential }));
    }
    (servers, Some(expires_at))
}

/// Adds a new peer to the room and tells the others.
pub fn join(
    store: &Store,
    settings: &Settings,
    room: &RoomName,
    address: &str,
    sealed: bool,
    now: u64,
) -> Result<Response> {
    store.admit_join(address, now)?;
    store.sweep_if_due(now);
    let mut locked = store.lock_room(room)?;
    locked.expire_stale(now);
    locked.seal_if_empty(sealed);
    let joined = locked.join(now);
    let room_sealed = locked.is_sealed();
    // Expired peers are written away even when the room turns out to be full.
    locked.finish()?;
    let joined = joined?;
    let others: Vec<&str> = joined.others.iter().map(|peer| peer.as_str()).collect();
    let (ice_servers, ice_expires_at) = ice_servers(settings, &joined.peer, now);
    Ok(Response::json(
        200,
        &json!({
            "peer": joined.peer.as_str(),
            "token": joined.token,
            "peers": others,
            "iceServers": ice_servers,
            "iceServersExpireAt": ice_expires_at,
            "iceTransportPolicy": settings.ice_transport_policy.as_str(),
            "retryMs": settings.retry_ms,
            "holdSeconds": settings.hold_seconds,
            "peerTimeoutSeconds": settings.peer_timeout_seconds,
            "maxPeers": settings.max_peers,
            "sealed": room_sealed,
        }),
    ))
}

/// Why a sealed room refuses a post that is not sealed.
const UNSEALED_POST: &str = "this room is sealed: every message must be sealed, \
    {\"type\": \"sealed\", \"data\": {\"sealed\": BASE64}} (see PROTOCOL.md, \"Sealed rooms\")";

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
        if locked.is_sealed() && !message.sealed {
            return Err(Error::BadRequest(UNSEALED_POST.to_string()));
        }
        locked.deliver(
            &credentials.peer,
            message.to.as_ref(),
            &message.kind,
            message.data.as_deref(),
            now,
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
    let left = locked
        .authenticate(credentials)
        .and_then(|()| locked.leave(&credentials.peer));
    locked.finish()?;
    left?;
    Ok(Response::json(200, &json!({ "left": true })))
}

/// Fresh ICE servers (new TURN credentials) for a peer whose call outlives their lifetime.
pub fn ice(
    store: &Store,
    settings: &Settings,
    room: &RoomName,
    credentials: &Credentials,
    now: u64,
) -> Result<Response> {
    let locked = store.lock_room(room)?;
    let authenticated = locked.authenticate(credentials);
    locked.finish()?;
    authenticated?;
    let (ice_servers, ice_expires_at) = ice_servers(settings, &credentials.peer, now);
    Ok(Response::json(
        200,
        &json!({ "iceServers": ice_servers, "iceServersExpireAt": ice_expires_at }),
    ))
}
