//! The URLs at which the settings file and the data folder would be downloadable, if the
//! web server serves them: the self-check page asks for them from the browser and fails when
//! one answers. nginx and lighttpd read no .htaccess, so only a request shows whether a
//! host's configuration protects them.
//!
//! Pure path arithmetic on what the server said (SCRIPT_FILENAME, SCRIPT_NAME, the document
//! root and its URL prefix); it touches no file.

use std::path::{Component, Path, PathBuf};

use crate::assets::url_path;

/// Where this request's files are, as the web server reported them.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct WebPaths {
    /// SCRIPT_FILENAME: the executable as the server sees it.
    pub script_filename: PathBuf,
    /// SCRIPT_NAME: the executable's URL path.
    pub script_name: String,
    /// CONTEXT_DOCUMENT_ROOT (or DOCUMENT_ROOT) and the URL path it is served at
    /// (CONTEXT_PREFIX, or "/").
    pub web_root: Option<(PathBuf, String)>,
}

impl WebPaths {
    /// The URL path at which `file` would be served, or None when no URL leads to it (it is
    /// outside both the executable's folder and the web root).
    pub fn url_of(&self, file: &Path) -> Option<String> {
        let file = normalize(file);
        let script_dir = normalize(self.script_filename.parent()?);
        let url_dir = self.script_name.rsplit_once('/').map_or("", |(dir, _)| dir);
        if let Ok(relative) = file.strip_prefix(&script_dir) {
            return Some(join_url(url_dir, relative));
        }
        let (root, prefix) = self.web_root.as_ref()?;
        let relative = file.strip_prefix(normalize(root)).ok()?;
        Some(join_url(prefix.trim_end_matches('/'), relative))
    }
}

/// Removes `.` and resolves `..` without asking the file system (a `data_dir` of
/// "../private" is relative to the settings file).
fn normalize(path: &Path) -> PathBuf {
    let mut normal = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                normal.pop();
            }
            other => normal.push(other),
        }
    }
    normal
}

/// `dir` (a URL path without a trailing slash) and the path segments of `relative`,
/// percent-encoded where they are not plain characters.
fn join_url(dir: &str, relative: &Path) -> String {
    let mut url = dir.to_string();
    for component in relative.components() {
        url.push('/');
        url.push_str(&url_path(&component.as_os_str().to_string_lossy()));
    }
    url
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paths(web_root: Option<(&str, &str)>) -> WebPaths {
        WebPaths {
            script_filename: PathBuf::from("/home/u/public_html/video/webrtc.cgi"),
            script_name: "/video/webrtc.cgi".to_string(),
            web_root: web_root.map(|(root, prefix)| (PathBuf::from(root), prefix.to_string())),
        }
    }

    fn check(web_root: Option<(&str, &str)>, file: &str, expected: Option<&str>) {
        assert_eq!(
            paths(web_root).url_of(Path::new(file)).as_deref(),
            expected,
            "{file}"
        );
    }

    #[test]
    fn files_beside_the_executable_are_under_its_url() {
        check(
            None,
            "/home/u/public_html/video/webrtc.json",
            Some("/video/webrtc.json"),
        );
        check(
            None,
            "/home/u/public_html/video/webrtc-data-a_b/self-check",
            Some("/video/webrtc-data-a_b/self-check"),
        );
    }

    #[test]
    fn files_elsewhere_in_the_web_root_are_under_its_prefix() {
        let root = Some(("/home/u/public_html", "/"));
        check(
            root,
            "/home/u/public_html/video/../private/x",
            Some("/private/x"),
        );
        check(
            Some(("/home/u/public_html", "/~u")),
            "/home/u/public_html/data/x",
            Some("/~u/data/x"),
        );
    }

    #[test]
    fn files_outside_the_web_root_have_no_url() {
        check(
            Some(("/home/u/public_html", "/")),
            "/home/u/webrtc-data/self-check",
            None,
        );
        check(None, "/home/u/public_html/video/../../private/x", None);
    }

    #[test]
    fn odd_characters_are_percent_encoded() {
        check(
            None,
            "/home/u/public_html/video/my data/x",
            Some("/video/my%20data/x"),
        );
    }
}
