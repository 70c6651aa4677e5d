//! The page mode: the room redirect, the client page and its assets, all embedded at
//! compile time from `www/` (see build.rs). `www/` is never read at run time.
//!
//! The page refers to its files by short names (`?asset=app.js`); this module turns those
//! into absolute, versioned URLs of this executable, so the files can be cached for a year
//! and still change with a release. `app.js` arrives bundled with the modules it imports
//! (build.rs), so the page needs one script request.

use crate::error::{Error, Result};
use crate::request::RoomName;
use crate::response::Response;
use crate::secret;

pub struct Asset {
    pub name: &'static str,
    pub content_type: &'static str,
    pub bytes: &'static [u8],
}

include!(concat!(env!("OUT_DIR"), "/assets.rs"));

/// Allows the page's own scripts, styles and media, and nothing inline or foreign.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; media-src 'self' blob: mediastream:; connect-src 'self'; manifest-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// The self-check page's script, which the client page does not need.
pub const SELF_CHECK_SCRIPT: &str = "check.js";

const PERMISSIONS_POLICY: &str = "camera=(self), microphone=(self), display-capture=(self)";

/// Shown when the executable was built without a client (an empty `www/`).
const FALLBACK_PAGE: &str = "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>webrtc-cgi</title></head><body><p>This build of webrtc-cgi has no client.</p></body></html>\n";

fn find_asset(name: &str) -> Option<&'static Asset> {
    ASSETS.iter().find(|asset| asset.name == name)
}

/// A fresh room: `303 See Other` to `?room=NAME`.
pub fn new_room() -> Response {
    let room = secret::room_name();
    let body = format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>New room</title></head><body><p><a href=\"?room={room}\">Open your new room</a></p></body></html>\n"
    );
    Response::new(303, "text/html; charset=utf-8", body.into_bytes())
        .with("Location", format!("?room={room}"))
        .with("Cache-Control", "no-store")
        .with("Content-Security-Policy", "default-src 'none'")
}

/// The client page for a room.
pub fn page(_room: &RoomName, script_name: &str) -> Response {
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

/// One embedded file. A request naming the current version may be cached for good; any
/// other is revalidated with the ETag.
pub fn asset(name: &str, version: Option<&str>, if_none_match: Option<&str>) -> Result<Response> {
    let Some(asset) = find_asset(name).filter(|asset| asset.name != "index.html") else {
        return Err(Error::UnknownAsset(format!(
            "there is no asset called \"{}\"",
            name.chars().take(40).collect::<String>()
        )));
    };
    let etag = format!("\"{VERSION}\"");
    let cache_control = if version == Some(VERSION) {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    if if_none_match.is_some_and(|tags| tags.split(',').any(|tag| tag.trim() == etag)) {
        return Ok(Response::new(304, asset.content_type, Vec::new())
            .with("ETag", etag)
            .with("Cache-Control", cache_control));
    }
    Ok(Response::new(200, asset.content_type, asset.bytes.to_vec())
        .with("ETag", etag)
        .with("Cache-Control", cache_control))
}

/// The versioned URL of an asset, written for an HTML attribute. `script` comes from
/// `script_url`.
pub fn asset_href(script: &str, name: &str) -> String {
    format!("{script}?asset={name}&amp;v={VERSION}")
}

/// The executable's own URL path, as the browser must write it. A SCRIPT_NAME with unusual
/// characters is percent-encoded; without one, the default file name is assumed.
pub fn script_url(script_name: &str) -> String {
    if script_name.is_empty() {
        return "./webrtc.cgi".to_string();
    }
    let mut url = String::with_capacity(script_name.len());
    for byte in script_name.bytes() {
        if byte.is_ascii_alphanumeric() || b"/._~-".contains(&byte) {
            url.push(char::from(byte));
        } else {
            url.push_str(&format!("%{byte:02X}"));
        }
    }
    url
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn script_urls_are_safe_in_html_and_js() {
        assert_eq!(script_url("/cgi-bin/webrtc.cgi"), "/cgi-bin/webrtc.cgi");
        assert_eq!(script_url("/a b/'x\".cgi"), "/a%20b/%27x%22.cgi");
        assert_eq!(script_url(""), "./webrtc.cgi");
    }

    #[test]
    fn the_client_is_one_script_without_imports() {
        if find_asset("app.js").is_none() {
            return;
        }
        let script = asset("app.js", Some(VERSION), None).unwrap();
        let text = String::from_utf8(script.body.clone()).unwrap();
        assert!(text.contains("const module_call = "), "call.js is bundled");
        assert!(text.contains("createCall({"), "and app.js uses it");
        assert!(
            !text.lines().any(|line| line.starts_with("import ")),
            "nothing is left to fetch"
        );
        assert!(
            find_asset("call.js").is_none(),
            "bundled modules are not kept twice"
        );
    }

    #[test]
    fn unknown_assets_are_404() {
        let error = asset("../webrtc.json", None, None).err().unwrap();
        assert_eq!(error.status(), 404);
        assert!(asset("index.html", None, None).is_err());
    }
}
