//! The ice mode (`GET ?mode=ice&room=R&peer=ID&token=T`): fresh ICE servers, with new TURN
//! credentials, for a peer whose call outlives the ones its join gave it. Also the one
//! place that builds the ICE server list, which join hands out too.

use serde_json::{json, Value};

use super::query::{require_method, Input};
use super::{Context, Reply};
use crate::config::Settings;
use crate::error::Result;
use crate::response::Response;
use crate::secret;
use crate::store::{Access, Store};
use crate::values::{Credentials, PeerId, RoomName};

#[derive(Debug, PartialEq, Eq)]
pub struct Ice {
    pub room: RoomName,
    pub credentials: Credentials,
}

impl Ice {
    pub(super) fn parse(input: &Input) -> Result<Ice> {
        require_method(input.method, "GET", "ice")?;
        input.query.only(&["mode", "room", "peer", "token"])?;
        Ok(Ice {
            room: input.query.room()?,
            credentials: input.query.credentials()?,
        })
    }

    pub(super) fn run(self, context: &Context) -> Result<Reply> {
        let store = Store::open(context.settings)?;
        store.with_room(
            &self.room,
            Access::Peer(&self.credentials),
            context.now,
            |_| Ok(()),
        )?;
        let (ice_servers, ice_expires_at) =
            ice_servers(context.settings, &self.credentials.peer, context.now);
        Ok(Reply::Whole(Response::json(
            200,
            &json!({ "iceServers": ice_servers, "iceServersExpireAt": ice_expires_at }),
        )))
    }
}

/// The ICE servers for one peer: the configured ones, plus time-limited TURN credentials
/// when a shared secret is configured. Returns the list and when the credentials expire.
pub(super) fn ice_servers(settings: &Settings, peer: &PeerId, now: u64) -> (Value, Option<u64>) {
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
