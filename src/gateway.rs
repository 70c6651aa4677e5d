//! What runs this program, as far as the CGI environment and the parent process tell: the
//! server itself as the same account (Apache's mod_cgi and mod_cgid, lighttpd), the server as
//! another account (suEXEC, and hosts that switch accounts the same way), or a FastCGI
//! wrapper (nginx's fcgiwrap) that passes the output on only when the program ends.
//!
//! It decides two things from that: whether an event stream may be held open, and whether
//! the end-of-request hand-over of `main.rs` helps (which the `hand_over` setting may
//! overrule). It reads nothing by itself: `main.rs` gathers the facts (the environment, the
//! two accounts, the settings) and passes them in.

use std::collections::HashMap;

use crate::config::HandOver;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gateway {
    /// The web server started this program as its own account.
    SameAccount,
    /// The web server's account differs from this program's: suEXEC (or an account switch
    /// like it) sits between them.
    OtherAccount,
    /// A FastCGI wrapper such as fcgiwrap, which sets `FCGI_ROLE` and writes the program's
    /// output through libfcgi's buffer, flushed only at the end.
    FastCgiWrapper,
}

impl Gateway {
    /// `own_uid` is this process's real user id, `parent_uid` that of the process that
    /// started it (None when it could not be read).
    pub fn detect(env: &HashMap<String, String>, own_uid: u32, parent_uid: Option<u32>) -> Gateway {
        if env.contains_key("FCGI_ROLE") {
            return Gateway::FastCgiWrapper;
        }
        match parent_uid {
            Some(parent) if parent != own_uid => Gateway::OtherAccount,
            // Unknown counts as the same account: the hand-over is then kept, as before.
            _ => Gateway::SameAccount,
        }
    }

    /// Whether a held event stream reaches the browser as it is written. Behind a FastCGI
    /// wrapper every event would arrive only when the hold ends (measured with Debian's
    /// fcgiwrap: `fastcgi_buffering off` in nginx changes nothing), and each held stream
    /// would also keep one of the wrapper's few processes (Debian starts one) from answering
    /// anything else; answering at once and letting the browser poll works there.
    pub fn streams_held_responses(self) -> bool {
        self != Gateway::FastCgiWrapper
    }

    /// Whether handing the end of the output to a child process saves the server a wait.
    /// Only Apache's own check of the process it started (a signal 0 to it) gains: as another
    /// account that check fails with EPERM and the server does not wait anyway, while every
    /// left-behind child counts against the account's process limit until init reaps it; a
    /// FastCGI wrapper waits for the program with waitpid, where a child only adds a process.
    pub fn hand_over_helps(self) -> bool {
        self == Gateway::SameAccount
    }

    /// How this request's process ends once its answer is written: the detection of
    /// `hand_over_helps`, unless the `hand_over` setting forces it one way for a host where
    /// the detection is wrong (or for the bench, which compares both on one server).
    pub fn ending(self, setting: HandOver) -> Ending {
        let hand_over = match setting {
            HandOver::Auto => self.hand_over_helps(),
            HandOver::On => true,
            HandOver::Off => false,
        };
        if hand_over {
            Ending::HandOver
        } else {
            Ending::Exit
        }
    }

    /// How the self-check page names it.
    pub fn describe(self) -> &'static str {
        match self {
            Gateway::SameAccount => "run by the web server as its own account",
            Gateway::OtherAccount => "run as this account by suEXEC (or a similar account switch)",
            Gateway::FastCgiWrapper => "run through a FastCGI wrapper (fcgiwrap)",
        }
    }
}

/// How `main.rs` ends the process after the answer (ARCHITECTURE.md, "Ending a request").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    /// A child holds the output open until the original process is gone, then exits.
    HandOver,
    /// The process exits; its exit ends the output.
    Exit,
}

/// The real user id in the text of `/proc/<pid>/status` (its "Uid:" line lists the real,
/// effective, saved and file-system ids).
pub fn real_uid_in_status(status: &str) -> Option<u32> {
    status
        .lines()
        .find_map(|line| line.strip_prefix("Uid:"))
        .and_then(|ids| ids.split_whitespace().next())
        .and_then(|uid| uid.parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(variables: &[(&str, &str)], own_uid: u32, parent_uid: Option<u32>, expected: Gateway) {
        let env = variables
            .iter()
            .map(|(key, value)| (key.to_string(), value.to_string()))
            .collect();
        assert_eq!(Gateway::detect(&env, own_uid, parent_uid), expected);
    }

    #[test]
    fn fcgiwrap_is_recognised_by_its_fcgi_role_whoever_runs_it() {
        check(
            &[("FCGI_ROLE", "RESPONDER")],
            33,
            Some(33),
            Gateway::FastCgiWrapper,
        );
        check(
            &[("FCGI_ROLE", "RESPONDER")],
            1001,
            Some(33),
            Gateway::FastCgiWrapper,
        );
    }

    #[test]
    fn suexec_is_a_parent_of_another_account() {
        check(
            &[("GATEWAY_INTERFACE", "CGI/1.1")],
            1001,
            Some(33),
            Gateway::OtherAccount,
        );
    }

    #[test]
    fn the_same_account_or_an_unknown_parent_keeps_the_default() {
        check(&[], 33, Some(33), Gateway::SameAccount);
        check(&[], 33, None, Gateway::SameAccount);
    }

    #[test]
    fn only_a_fastcgi_wrapper_refuses_held_streams_and_only_the_same_account_forks() {
        assert!(Gateway::SameAccount.streams_held_responses());
        assert!(Gateway::OtherAccount.streams_held_responses());
        assert!(!Gateway::FastCgiWrapper.streams_held_responses());
        assert!(Gateway::SameAccount.hand_over_helps());
        assert!(!Gateway::OtherAccount.hand_over_helps());
        assert!(!Gateway::FastCgiWrapper.hand_over_helps());
    }

    #[test]
    fn the_hand_over_setting_overrules_the_detection_either_way() {
        let all = [
            Gateway::SameAccount,
            Gateway::OtherAccount,
            Gateway::FastCgiWrapper,
        ];
        for gateway in all {
            assert_eq!(
                gateway.ending(HandOver::On),
                Ending::HandOver,
                "{gateway:?}"
            );
            assert_eq!(gateway.ending(HandOver::Off), Ending::Exit, "{gateway:?}");
        }
        assert_eq!(
            Gateway::SameAccount.ending(HandOver::Auto),
            Ending::HandOver
        );
        assert_eq!(Gateway::OtherAccount.ending(HandOver::Auto), Ending::Exit);
        assert_eq!(Gateway::FastCgiWrapper.ending(HandOver::Auto), Ending::Exit);
    }

    #[test]
    fn the_real_uid_is_read_from_proc_status() {
        let status = "Name:\tapache2\nUmask:\t0022\nState:\tS (sleeping)\nUid:\t33\t34\t35\t36\nGid:\t33\t33\t33\t33\n";
        assert_eq!(real_uid_in_status(status), Some(33));
        assert_eq!(real_uid_in_status("Name:\tx\n"), None);
        assert_eq!(real_uid_in_status("Uid:\tnope\n"), None);
        assert_eq!(real_uid_in_status(""), None);
    }
}
