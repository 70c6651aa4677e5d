//! Where the data folder goes when webrtc.json names none. A server that reads no .htaccess
//! (nginx, lighttpd) serves every file under the web root, and the data folder holds the
//! rooms' tokens and messages. So it goes outside the web root when the account may write
//! there (beside the web root, in the account's home folder as on cPanel hosts), and
//! otherwise beside the executable under a name no visitor can guess, made once.
//!
//! This module creates that one folder and nothing else: the store creates everything inside
//! it, and nothing here reads or writes inside it.

use std::fs::{self, File};
use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use fs2::FileExt;

use crate::secret;

/// The folder's name outside the web root.
pub const OUTSIDE_NAME: &str = "webrtc-data";
/// The start of the folder's name beside the executable; a random part follows.
pub const HIDDEN_PREFIX: &str = "webrtc-data-";
const HIDDEN_RANDOM_LENGTH: usize = 24;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placement {
    /// `data_dir` in webrtc.json.
    Configured,
    /// `webrtc-data` beside the settings, before `Settings::place_data_dir` has chosen.
    Beside,
    /// Beside the web root, where no URL leads.
    OutsideWebRoot,
    /// Beside the executable, under an unguessable name.
    Hidden,
}

/// Picks (and makes, when it is the hidden folder and none exists yet) the default data
/// folder. `web_root` is the folder the server maps this site's URLs to (CGI's
/// `CONTEXT_DOCUMENT_ROOT` or `DOCUMENT_ROOT`); `account` the id of the account this program
/// runs as.
pub fn choose(
    executable_dir: &Path,
    web_root: Option<&Path>,
    account: u32,
) -> io::Result<(PathBuf, Placement)> {
    if let Some(home) = web_root.and_then(|root| highest_own_ancestor(root, account)) {
        return Ok((home.join(OUTSIDE_NAME), Placement::OutsideWebRoot));
    }
    hidden_beside(executable_dir).map(|dir| (dir, Placement::Hidden))
}

/// The default data folder that a web server's request already made, found without making
/// one, for `webrtc.cgi --check` from a shell, which knows no web root: the folder outside
/// the web root is looked for above the executable (the web root and the executable's folder
/// share the account's home folder on a shared host), then the hidden one beside it.
pub fn find_existing(executable_dir: &Path, account: u32) -> Option<(PathBuf, Placement)> {
    let outside = highest_own_ancestor(executable_dir, account)
        .map(|home| home.join(OUTSIDE_NAME))
        .filter(|dir| dir.is_dir());
    if let Some(dir) = outside {
        return Some((dir, Placement::OutsideWebRoot));
    }
    find_hidden(executable_dir)
        .ok()
        .flatten()
        .map(|dir| (dir, Placement::Hidden))
}

/// The highest folder above `web_root` that belongs to `account` and that it may write to:
/// the account's home folder on a shared host. Going up stops at the first folder of
/// another account or one that others may write to, so /tmp or a server's /var/www is never
/// chosen; and a web root inside another one (an addon domain inside public_html) still gets
/// the home folder, which no site serves.
fn highest_own_ancestor(web_root: &Path, account: u32) -> Option<PathBuf> {
    if !web_root.is_absolute() {
        return None;
    }
    let root = fs::canonicalize(web_root).ok()?;
    let mut found = None;
    for folder in root.ancestors().skip(1) {
        if !is_own_writable_folder(folder, account) {
            break;
        }
        found = Some(folder.to_path_buf());
    }
    found
}

/// A folder of `account` with owner write and search permission, and not writable by
/// others (a shared folder like /tmp is nobody's home, whoever owns it).
fn is_own_writable_folder(folder: &Path, account: u32) -> bool {
    fs::metadata(folder).is_ok_and(|metadata| {
        metadata.is_dir()
            && metadata.uid() == account
            && metadata.mode() & 0o300 == 0o300
            && metadata.mode() & 0o002 == 0
    })
}

/// The folder beside the executable whose name starts with `HIDDEN_PREFIX`, made with a
/// fresh random name when there is none. The executable's folder is locked while it looks
/// and makes, so two first requests at the same moment agree on one folder.
fn hidden_beside(executable_dir: &Path) -> io::Result<PathBuf> {
    if let Some(found) = find_hidden(executable_dir)? {
        return Ok(found);
    }
    // A lock on the folder itself: it is released when `guard` closes. Where the file system
    // cannot lock a folder (some network shares), two first requests may each make a folder;
    // both then settle on the same one at their next request, the first in name order.
    let guard = File::open(executable_dir)?;
    let _ = guard.lock_exclusive();
    if let Some(found) = find_hidden(executable_dir)? {
        return Ok(found);
    }
    let made = executable_dir.join(format!(
        "{HIDDEN_PREFIX}{}",
        secret::random_name(HIDDEN_RANDOM_LENGTH)
    ));
    fs::create_dir(&made)?;
    Ok(made)
}

/// The first (in name order) folder beside the executable that this module made.
fn find_hidden(executable_dir: &Path) -> io::Result<Option<PathBuf>> {
    let mut names: Vec<String> = fs::read_dir(executable_dir)?
        .flatten()
        .filter(|entry| entry.file_type().is_ok_and(|kind| kind.is_dir()))
        .filter_map(|entry| entry.file_name().into_string().ok())
        .filter(|name| is_hidden_name(name))
        .collect();
    names.sort();
    Ok(names.first().map(|name| executable_dir.join(name)))
}

fn is_hidden_name(name: &str) -> bool {
    name.strip_prefix(HIDDEN_PREFIX).is_some_and(|random| {
        random.len() == HIDDEN_RANDOM_LENGTH
            && random
                .bytes()
                .all(|byte| byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_')
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn own_account() -> u32 {
        // SAFETY: getuid has no preconditions.
        unsafe { libc::getuid() }
    }

    #[test]
    fn the_home_folder_above_the_web_root_is_chosen_when_it_is_the_accounts() {
        let home = tempfile::tempdir().unwrap();
        let web_root = home.path().join("public_html");
        let app = web_root.join("video");
        fs::create_dir_all(&app).unwrap();
        let (dir, placement) = choose(&app, Some(&web_root), own_account()).unwrap();
        assert_eq!(placement, Placement::OutsideWebRoot);
        assert!(
            !dir.starts_with(fs::canonicalize(&web_root).unwrap()),
            "{dir:?}"
        );
        assert_eq!(dir.file_name().unwrap(), OUTSIDE_NAME);
    }

    #[test]
    fn a_web_root_whose_parent_is_another_accounts_gets_a_hidden_folder_made_once() {
        let home = tempfile::tempdir().unwrap();
        let web_root = home.path().join("htdocs");
        let app = web_root.join("video");
        fs::create_dir_all(&app).unwrap();
        // Another account's id stands for a parent this account does not own.
        let stranger = own_account().wrapping_add(1);
        let (first, placement) = choose(&app, Some(&web_root), stranger).unwrap();
        assert_eq!(placement, Placement::Hidden);
        assert_eq!(first.parent().unwrap(), app);
        assert!(first.is_dir());
        let name = first.file_name().unwrap().to_str().unwrap().to_string();
        assert!(is_hidden_name(&name), "{name}");
        let (again, _) = choose(&app, Some(&web_root), stranger).unwrap();
        assert_eq!(again, first, "later requests find the same folder");
    }

    #[test]
    fn no_web_root_or_a_read_only_parent_means_a_hidden_folder() {
        let home = tempfile::tempdir().unwrap();
        let app = home.path().join("video");
        fs::create_dir_all(&app).unwrap();
        let (_, placement) = choose(&app, None, own_account()).unwrap();
        assert_eq!(placement, Placement::Hidden);

        let locked_home = tempfile::tempdir().unwrap();
        let web_root = locked_home.path().join("www");
        let app = web_root.join("video");
        fs::create_dir_all(&app).unwrap();
        fs::set_permissions(locked_home.path(), fs::Permissions::from_mode(0o555)).unwrap();
        let chosen = choose(&app, Some(&web_root), own_account());
        fs::set_permissions(locked_home.path(), fs::Permissions::from_mode(0o755)).unwrap();
        assert_eq!(chosen.unwrap().1, Placement::Hidden);
    }

    /// Regression: `--check` from a shell reported "not created yet" for a data folder that
    /// the web server had made outside the web root or under a hidden name.
    #[test]
    fn a_shell_finds_the_folder_a_request_made_and_makes_none() {
        let home = tempfile::tempdir().unwrap();
        let web_root = home.path().join("public_html");
        let app = web_root.join("video");
        fs::create_dir_all(&app).unwrap();
        assert_eq!(find_existing(&app, own_account()), None, "nothing made yet");
        assert!(!home.path().join(OUTSIDE_NAME).exists());
        let (made, _) = choose(&app, Some(&web_root), own_account()).unwrap();
        fs::create_dir(&made).unwrap();
        assert_eq!(
            find_existing(&app, own_account()),
            Some((made, Placement::OutsideWebRoot))
        );

        let stranger = own_account().wrapping_add(1);
        let (hidden, _) = choose(&app, Some(&web_root), stranger).unwrap();
        assert_eq!(
            find_existing(&app, stranger),
            Some((hidden, Placement::Hidden))
        );
    }

    #[test]
    fn only_names_this_module_makes_count_as_hidden_folders() {
        assert!(is_hidden_name("webrtc-data-abcdefghijklmnopqrstuvwx"));
        assert!(!is_hidden_name("webrtc-data"));
        assert!(!is_hidden_name("webrtc-data-short"));
        assert!(is_hidden_name("webrtc-data-abc-efghijklmnopqrstuv_x"));
        assert!(!is_hidden_name("webrtc-data-abcdefghijklmnopqrstuv.x"));
    }
}
