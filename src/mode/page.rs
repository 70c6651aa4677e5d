//! The page mode (no `mode` parameter): a bare URL is redirected to a fresh room, and
//! `?room=R` is the client page, its asset links made absolute and versioned.

use super::query::{require_method, Input};
use super::{Context, Reply};
use crate::assets::{asset_href, find_asset, script_url, ASSETS, CONTENT_SECURITY_POLICY};
use crate::error::Result;
use crate::response::Response;
use crate::secret;
use crate::values::RoomName;

const PERMISSIONS_POLICY: &str = "camera=(self), microphone=(self), display-capture=(self)";

/// Shown when the executable was built without a client (an empty `www/`).
const FALLBACK_PAGE: &str = "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>webrtc-cgi</title></head><body><p>This build of webrtc-cgi has no client.</p></body></html>\n";

#[derive(Debug, PartialEq, Eq)]
pub struct Page {
    /// `None` for the bare URL, which gets a fresh room.
    pub room: Option<RoomName>,
}

impl Page {
    pub(super) fn parse(input: &Input) -> Result<Page> {
        require_method(input.method, "GET", "the page")?;
        // Links shared through chat and social apps gain tracking parameters; the page
        // ignores them rather than failing for the person who clicked.
        let room = match input.query.get("room") {
            None => None,
            Some(_) => Some(input.query.room()?),
        };
        Ok(Page { room })
    }

    pub(super) fn run(self, context: &Context) -> Result<Reply> {
        Ok(Reply::Whole(match self.room {
            None => new_room(),
            Some(_) => page(context.script_name),
        }))
    }
}

/// A fresh room: `303 See Other` to `?room=NAME`.
fn new_room() -> Response {
    let room = secret::room_name();
    let body = format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>New room</title></head><body><p><a href=\"?room={room}\">Open your new room</a></p></body></html>\n"
    );
    Response::new(303, "text/html; charset=utf-8", body.into_bytes())
        .with("Location", format!("?room={room}"))
        .with("Cache-Control", "no-store")
        .with("Content-Security-Policy", "default-src 'none'")
}

/// The client page; the same for every room (the client reads the room from its URL).
fn page(script_name: &str) -> Response {
    let html = match find_asset("index.html") {
        Some(asset) => String::from_utf8_lossy(asset.bytes).into_owned(),
        None => FALLBACK_PAGE.to_string(),
    };
    let script = script_url(script_name);
    let mut linked = html;
    for asset in ASSETS {
        linked = linked.replace(
            &format!("\"?asset={}\"", asset.name),
            &format!("\"{}\"", asset_href(&script, asset.name)),
        );
    }
    Response::new(200, "text/html; charset=utf-8", linked.into_bytes())
        .with("Cache-Control", "no-cache")
        .with("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        .with("X-Frame-Options", "DENY")
        .with("Permissions-Policy", PERMISSIONS_POLICY)
}
