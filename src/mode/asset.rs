//! The asset mode (`?asset=NAME[&v=VERSION]`): one embedded file of the client. A request
//! naming the current version may be cached for good; any other is revalidated by ETag.

use super::query::{require_method, Input};
use super::{Context, Reply};
use crate::assets::{find_asset, VERSION};
use crate::error::{Error, Result};
use crate::response::Response;

#[derive(Debug, PartialEq, Eq)]
pub struct Asset {
    pub name: String,
    pub version: Option<String>,
    pub if_none_match: Option<String>,
}

impl Asset {
    pub(super) fn parse(input: &Input) -> Result<Asset> {
        require_method(input.method, "GET", "the page")?;
        input.query.only(&["asset", "v"])?;
        Ok(Asset {
            name: input.query.require("asset")?.to_string(),
            version: input.query.get("v").map(str::to_string),
            if_none_match: input.optional("HTTP_IF_NONE_MATCH").map(str::to_string),
        })
    }

    pub(super) fn run(self, _context: &Context) -> Result<Reply> {
        answer(
            &self.name,
            self.version.as_deref(),
            self.if_none_match.as_deref(),
        )
        .map(Reply::Whole)
    }
}

fn answer(name: &str, version: Option<&str>, if_none_match: Option<&str>) -> Result<Response> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_client_is_one_script_without_imports() {
        if find_asset("app.js").is_none() {
            return;
        }
        let script = answer("app.js", Some(VERSION), None).unwrap();
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
        let error = answer("../webrtc.json", None, None).err().unwrap();
        assert_eq!(error.status(), 404);
        assert!(answer("index.html", None, None).is_err());
    }
}
