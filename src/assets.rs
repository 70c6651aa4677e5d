//! The client, embedded at compile time from `www/` (see build.rs) into the table `ASSETS`
//! with one `VERSION` hash, and the URLs and policies the pages that use it share. `www/` is
//! never read at run time.
//!
//! The page refers to its files by short names (`?asset=app.js`); `asset_href` turns those
//! into absolute, versioned URLs of this executable, so the files can be cached for a year
//! and still change with a release.

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

pub fn find_asset(name: &str) -> Option<&'static Asset> {
    ASSETS.iter().find(|asset| asset.name == name)
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
    url_path(script_name)
}

/// A file system path as a URL path: everything but letters, digits, `/._~-` is
/// percent-encoded, so the result is safe in HTML attributes and scripts alike.
pub fn url_path(path: &str) -> String {
    let mut url = String::with_capacity(path.len());
    for byte in path.bytes() {
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
}
