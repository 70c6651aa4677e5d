//! The one error type of the executable, and how each kind of failure maps to an HTTP status.
//!
//! Client mistakes (4xx) carry a message that tells the client what was wrong; it is shown to
//! the client as is. Server-side faults (5xx) keep their details for the server's error log:
//! the body the client sees stays terse, except where the site owner must act (settings, data
//! directory, full disk), where the message says what to fix without exposing paths.

use std::fmt;
use std::io;

#[derive(Debug)]
pub enum Error {
    /// A malformed query, parameter or body.
    BadRequest(String),
    /// A missing or wrong token.
    Forbidden(String),
    /// The requesting peer is not (or no longer) in the room: the client joins again.
    UnknownPeer(String),
    /// No embedded file has that name.
    UnknownAsset(String),
    /// The mode exists but not with this method.
    MethodNotAllowed {
        allow: &'static str,
        message: String,
    },
    RoomFull(String),
    /// The addressed recipient is not in the room.
    RecipientGone(String),
    LengthRequired(String),
    TooLarge(String),
    /// A backlog or rate limit was reached; retrying after a while may succeed.
    TooManyRequests {
        message: String,
        retry_after_seconds: u32,
    },
    /// The settings file is missing a value, has an unknown key or a bad value.
    Settings(String),
    /// The data directory cannot be created, written or locked.
    DataDirectory(String),
    /// A room stayed locked longer than the lock timeout.
    Busy(String),
    /// ENOSPC or EDQUOT while storing.
    DiskFull(String),
    /// Any other I/O failure: details go to the error log only.
    Io(io::Error),
    /// A broken invariant: details go to the error log only.
    Internal(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn status(&self) -> u16 {
        match self {
            Error::BadRequest(_) => 400,
            Error::Forbidden(_) => 403,
            Error::UnknownPeer(_) | Error::UnknownAsset(_) => 404,
            Error::MethodNotAllowed { .. } => 405,
            Error::RoomFull(_) => 409,
            Error::RecipientGone(_) => 410,
            Error::LengthRequired(_) => 411,
            Error::TooLarge(_) => 413,
            Error::TooManyRequests { .. } => 429,
            Error::Settings(_) | Error::DataDirectory(_) | Error::Io(_) | Error::Internal(_) => 500,
            Error::Busy(_) => 503,
            Error::DiskFull(_) => 507,
        }
    }

    /// The text the client is shown.
    pub fn public_message(&self) -> String {
        match self {
            Error::Io(_) | Error::Internal(_) => {
                "internal server error; the details are in the server's error log".to_string()
            }
            other => other.to_string(),
        }
    }

    /// Server-side faults go to stderr, which the web server keeps as its error log; client
    /// mistakes are the client's to read and are not logged.
    pub fn log_if_server_fault(&self) {
        if self.status() >= 500 {
            eprintln!("webrtc.cgi: {} {}", self.status(), self);
        }
    }

    /// Seconds after which a retry may succeed, for a `Retry-After` header.
    pub fn retry_after_seconds(&self) -> Option<u32> {
        match self {
            Error::TooManyRequests {
                retry_after_seconds,
                ..
            } => Some(*retry_after_seconds),
            Error::Busy(_) => Some(1),
            Error::DiskFull(_) => Some(30),
            _ => None,
        }
    }
}

/// What an I/O failure means to the site owner. This is the one place that reads errno
/// values; every file operation of the store goes through it, so the same full disk is the
/// same 507 whether it stopped a new room, a lock, a listing or an append.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IoCause {
    /// ENOSPC: the disk is full.
    DiskFull,
    /// EDQUOT: the account's quota is used up.
    QuotaExhausted,
    /// EFBIG: a file size limit (RLIMIT_FSIZE) behaves like a full disk.
    FileSizeLimit,
    /// EACCES or EPERM.
    PermissionDenied,
    /// EROFS.
    ReadOnly,
    /// ENOTDIR or EEXIST where a folder was expected.
    NotAFolder,
    Other,
}

impl IoCause {
    pub fn of(error: &io::Error) -> IoCause {
        match error.raw_os_error() {
            Some(libc::ENOSPC) => IoCause::DiskFull,
            Some(libc::EDQUOT) => IoCause::QuotaExhausted,
            Some(libc::EFBIG) => IoCause::FileSizeLimit,
            Some(libc::EACCES) | Some(libc::EPERM) => IoCause::PermissionDenied,
            Some(libc::EROFS) => IoCause::ReadOnly,
            Some(libc::ENOTDIR) | Some(libc::EEXIST) => IoCause::NotAFolder,
            _ => IoCause::Other,
        }
    }

    /// The 507 for a cause that is a lack of space, if it is one.
    pub fn disk_full(self) -> Option<Error> {
        let message = match self {
            IoCause::DiskFull => {
                "the disk holding the data directory is full; the change was not stored"
            }
            IoCause::QuotaExhausted => {
                "the hosting account's disk quota is exhausted; the change was not stored"
            }
            IoCause::FileSizeLimit => {
                "the file size limit of the hosting account was reached; the change was not stored"
            }
            _ => return None,
        };
        Some(Error::DiskFull(message.to_string()))
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::BadRequest(message)
            | Error::Forbidden(message)
            | Error::UnknownPeer(message)
            | Error::UnknownAsset(message)
            | Error::MethodNotAllowed { message, .. }
            | Error::RoomFull(message)
            | Error::RecipientGone(message)
            | Error::LengthRequired(message)
            | Error::TooLarge(message)
            | Error::TooManyRequests { message, .. }
            | Error::Settings(message)
            | Error::DataDirectory(message)
            | Error::Busy(message)
            | Error::DiskFull(message)
            | Error::Internal(message) => f.write_str(message),
            Error::Io(error) => write!(f, "I/O error: {error}"),
        }
    }
}

/// A full disk or quota is the site owner's to fix and gets its own status; everything else
/// stays an opaque server fault whose details go to the error log.
impl From<io::Error> for Error {
    fn from(error: io::Error) -> Error {
        IoCause::of(&error).disk_full().unwrap_or(Error::Io(error))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(error: Error, status: u16, public: &str) {
        assert_eq!(error.status(), status);
        assert_eq!(error.public_message(), public);
    }

    #[test]
    fn client_errors_explain_and_server_faults_stay_terse() {
        check(Error::BadRequest("bad room".into()), 400, "bad room");
        check(
            Error::Io(io::Error::other("secret path /x")),
            500,
            "internal server error; the details are in the server's error log",
        );
    }

    #[test]
    fn full_disk_and_quota_are_507() {
        assert_eq!(Error::from(io::Error::from_raw_os_error(28)).status(), 507);
        assert_eq!(Error::from(io::Error::from_raw_os_error(122)).status(), 507);
        assert_eq!(Error::from(io::Error::from_raw_os_error(13)).status(), 500);
    }

    #[test]
    fn errno_values_map_by_their_names() {
        for (errno, cause, status) in [
            (libc::ENOSPC, IoCause::DiskFull, Some(507)),
            (libc::EDQUOT, IoCause::QuotaExhausted, Some(507)),
            (libc::EFBIG, IoCause::FileSizeLimit, Some(507)),
            (libc::EACCES, IoCause::PermissionDenied, None),
            (libc::EPERM, IoCause::PermissionDenied, None),
            (libc::EROFS, IoCause::ReadOnly, None),
            (libc::ENOTDIR, IoCause::NotAFolder, None),
            (libc::EIO, IoCause::Other, None),
        ] {
            let error = io::Error::from_raw_os_error(errno);
            assert_eq!(IoCause::of(&error), cause, "errno {errno}");
            assert_eq!(cause.disk_full().map(|error| error.status()), status);
        }
    }
}
