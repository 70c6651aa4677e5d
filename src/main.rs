//! webrtc.cgi: browser video chat signaling for shared hosting, run by the web server as CGI
//! once per request.
//!
//! This file is the only one that touches the process: it collects the CGI variables, reads
//! exactly CONTENT_LENGTH bytes of body, hands both to the request parser, runs the mode and
//! writes the answer to stdout. Every path out of here, a panic included, writes valid CGI
//! headers first, so the web server never logs "Premature end of script headers". Started
//! from a shell instead (no GATEWAY_INTERFACE), it prints what `shell::run` answers to its
//! options and exits with its status.

#![no_main]

use std::collections::HashMap;
use std::io::{self, BufWriter, Read, Write};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use webrtc_cgi::config::{HandOver, Settings};
use webrtc_cgi::error::{Error, Result};
use webrtc_cgi::gateway::{self, Ending, Gateway};
use webrtc_cgi::mode::{self, Context, Reply, Request};
use webrtc_cgi::shell;
use webrtc_cgi::stream::{Clock, SystemClock};
use webrtc_cgi::Response;

/// Set once the first byte of the answer is on its way; the panic hook then knows it can no
/// longer start a clean error response.
static ANSWER_STARTED: AtomicBool = AtomicBool::new(false);

/// The C entry point, called by the C library: Rust's usual start-up (which reads
/// /proc/self/maps and installs stack-overflow handlers) is skipped, as it is a measurable
/// part of a request that lasts about a millisecond. What of it matters here is done below.
#[no_mangle]
pub extern "C" fn main(_argc: libc::c_int, _argv: *const *const libc::c_char) -> libc::c_int {
    // SAFETY: setting a signal's disposition to ignore has no preconditions. A write to a
    // closed connection must fail with EPIPE (the event stream ends on it), not kill.
    unsafe { libc::signal(libc::SIGPIPE, libc::SIG_IGN) };
    // Every web server sets GATEWAY_INTERFACE for a CGI (RFC 3875); without it, a person runs
    // the program from a shell. Inside a server the arguments are ignored: Apache passes the
    // words of a query without "=" as arguments.
    if std::env::var_os("GATEWAY_INTERFACE").is_none() {
        return answer_shell();
    }
    run()
}

/// Prints the answer to the options it was started with, and returns the exit status.
fn answer_shell() -> libc::c_int {
    let args: Vec<String> = std::env::args_os()
        .skip(1)
        .map(|arg| arg.to_string_lossy().into_owned())
        .collect();
    // SAFETY: getuid has no preconditions.
    let account = unsafe { libc::getuid() };
    let answer = shell::run(&args, &environment(), &executable_dir(), account);
    let mut stdout = io::stdout().lock();
    if let Err(error) = stdout
        .write_all(answer.stdout.as_bytes())
        .and_then(|()| stdout.flush())
    {
        eprintln!("webrtc.cgi: {error}");
    }
    eprint!("{}", answer.stderr);
    answer.status
}

/// The environment as strings; a value that is not UTF-8 is read lossily.
fn environment() -> HashMap<String, String> {
    std::env::vars_os()
        .map(|(key, value)| {
            (
                key.to_string_lossy().into_owned(),
                value.to_string_lossy().into_owned(),
            )
        })
        .collect()
}

/// Answers the request; never returns, as every answer ends in `end_output`.
fn run() -> ! {
    std::panic::set_hook(Box::new(|info| {
        eprintln!("webrtc.cgi: internal error: {info}");
        if !ANSWER_STARTED.swap(true, Ordering::SeqCst) {
            let error = Error::Internal("panic".to_string());
            error.log_if_server_fault();
            let response = Response::error_json(&error);
            let _ = response.write_to(&mut io::stdout().lock());
        }
    }));

    let env = environment();
    let stdout = io::stdout();
    let mut out = BufWriter::with_capacity(64 * 1024, stdout.lock());
    serve(&env, &mut out)
}

fn serve(env: &HashMap<String, String>, out: &mut impl Write) -> ! {
    // SAFETY: getuid has no preconditions.
    let account = unsafe { libc::getuid() };
    let gateway = Gateway::detect(env, account, parent_account());
    let in_html = mode::errors_in_html(env.get("QUERY_STRING").map_or("", String::as_str));
    let answer = |error: &Error, https: bool| {
        error.log_if_server_fault();
        let response = if in_html {
            Response::error_html(error)
        } else {
            Response::error_json(error)
        };
        response.over(https)
    };

    let executable_dir = executable_dir();
    let settings = Settings::load(env, &executable_dir).and_then(|mut settings| {
        settings.place_data_dir(env, &executable_dir, account)?;
        Ok(settings)
    });
    let settings = match settings {
        Ok(settings) => settings,
        // Without settings there are no trusted proxies: only the web server's word counts,
        // and the hand-over follows the detection alone.
        Err(error) => {
            let ending = gateway.ending(HandOver::Auto);
            match mode::check_without_settings(env, &error) {
                Some(page) => {
                    error.log_if_server_fault();
                    finish(&page, out, ending)
                }
                None => finish(&answer(&error, mode::over_https(env, &[])), out, ending),
            }
        }
    };
    let ending = gateway.ending(settings.hand_over);
    let https = mode::over_https(env, &settings.trusted_proxies);
    let body = match read_body(env, settings.max_body_bytes) {
        Ok(body) => body,
        Err(error) => finish(&answer(&error, https), out, ending),
    };
    let request = match Request::parse(env, &body) {
        Ok(request) => request,
        Err(error) => finish(&answer(&error, https), out, ending),
    };
    let clock = SystemClock::new();
    let context = Context {
        settings: &settings,
        now: clock.unix_millis() / 1000,
        script_name: env.get("SCRIPT_NAME").map_or("", String::as_str),
        https,
        gateway,
    };
    match request.run(&context) {
        Ok(Reply::Whole(response)) => finish(&response.over(https), out, ending),
        Ok(Reply::Stream(stream)) => {
            ANSWER_STARTED.store(true, Ordering::SeqCst);
            stream.run(out, &clock);
            end_output(out, ending)
        }
        Err(error) => finish(&answer(&error, https), out, ending),
    }
}

fn finish(response: &Response, out: &mut impl Write, ending: Ending) -> ! {
    ANSWER_STARTED.store(true, Ordering::SeqCst);
    if let Err(error) = response.write_to(out) {
        if error.kind() != io::ErrorKind::BrokenPipe {
            eprintln!("webrtc.cgi: writing the answer: {error}");
        }
    }
    end_output(out, ending)
}

/// Ends the process the web server started once the whole answer is written, leaving a child
/// of it to hold the output open until the original process is gone.
///
/// Why: when a CGI's output ends, Apache's mod_cgid checks whether the process it started
/// still exists and, if so, sleeps 10 ms (then 20, 40...) before the connection may carry its
/// next request; mod_cgi waits in the same way. A process that has just closed its output is
/// usually still exiting at that moment, because the server thread its exit woke runs first:
/// measured through Apache, every keep-alive request took 11 ms instead of 1. Here the output
/// ends when the child exits, after the original process is gone, so the server finds nothing
/// to wait for. The answer itself is already written, so the fork adds nothing to the time a
/// client waits for it. When the fork is refused (a process limit), this process simply exits.
///
/// Only where the server starts this program as its own account (`Gateway::hand_over_helps`):
/// under suEXEC the server's check cannot see another account's process anyway, and behind a
/// FastCGI wrapper it waits with waitpid; there the child would only add one process to the
/// account's process limit until init reaps it (measured under suEXEC with RLimitNPROC 7 and
/// six held streams: with the child, 0 to 11 of 20 joins were refused with "Resource
/// temporarily unavailable" in four runs; without it, none of 60). The `hand_over` setting
/// overrules that detection (`Gateway::ending`) where it is wrong for a host; `scripts/bench
/// --only handover` measures both on one Apache.
///
/// Both processes end with `_exit`: everything is written and flushed, and the room's lock
/// and files were released before the answer was made, so no destructor has anything left to
/// do (and in the child, running them would only copy pages shared with the parent).
fn end_output(out: &mut impl Write, ending: Ending) -> ! {
    let _ = out.flush();
    if ending == Ending::Exit {
        // SAFETY: _exit has no preconditions; everything is written (see above).
        unsafe { libc::_exit(0) }
    }
    // SAFETY: getpid, fork, getppid and _exit have no preconditions. The program has one
    // thread, so the child's copy of memory holds no lock that another thread could own.
    let original = unsafe { libc::getpid() };
    if unsafe { libc::fork() } == 0 {
        // The child is handed to a new parent as the original process exits; a few hundred
        // microseconds in practice, bounded in case the system does otherwise.
        let deadline = Instant::now() + HAND_OVER_WAIT;
        while unsafe { libc::getppid() } == original && Instant::now() < deadline {
            std::thread::sleep(Duration::from_micros(20));
        }
    }
    unsafe { libc::_exit(0) }
}

/// The real user id of the process that started this one (the web server, suexec's caller,
/// or a FastCGI wrapper), read from /proc; None where /proc is missing.
fn parent_account() -> Option<u32> {
    // SAFETY: getppid has no preconditions.
    let parent = unsafe { libc::getppid() };
    let status = std::fs::read_to_string(format!("/proc/{parent}/status")).ok()?;
    gateway::real_uid_in_status(&status)
}

/// How long the child waits at most for the original process to be gone.
const HAND_OVER_WAIT: Duration = Duration::from_millis(50);

/// The folder of the running executable, where `webrtc.json` and the default data directory
/// live. The web server starts a CGI in its own folder, so the working directory is the
/// fallback.
fn executable_dir() -> PathBuf {
    std::env::current_exe()
        .ok()
        .and_then(|path| path.parent().map(PathBuf::from))
        .unwrap_or_else(|| PathBuf::from("."))
}

/// How much of an oversized body is read (and dropped) so that its 413 reaches the client.
const DRAIN_LIMIT_BYTES: u64 = 8 << 20;

/// Reads exactly CONTENT_LENGTH bytes of body, whatever the method: a body left unread can
/// make the connection end in a reset that hides the answer. The length is checked against
/// the limit before anything is read; reading to the end instead could hang, as some servers
/// keep the pipe open.
fn read_body(env: &HashMap<String, String>, max_body_bytes: u64) -> Result<Vec<u8>> {
    let Some(length) = env.get("CONTENT_LENGTH").filter(|text| !text.is_empty()) else {
        return Ok(Vec::new());
    };
    if length.len() > 19 || !length.bytes().all(|byte| byte.is_ascii_digit()) {
        return Err(Error::BadRequest(
            "Content-Length is not a whole number".to_string(),
        ));
    }
    let length: u64 = length
        .parse()
        .map_err(|_| Error::BadRequest("Content-Length is out of range".to_string()))?;
    if length > max_body_bytes {
        // A body that is not read makes the connection end in a reset, and the browser then
        // sees a network error instead of this answer; a moderately large one is read and
        // dropped first. Larger ones are refused unread (Apache's LimitRequestBody usually
        // stops them before they get here).
        if length <= DRAIN_LIMIT_BYTES {
            let _ = io::copy(&mut io::stdin().lock().take(length), &mut io::sink());
        }
        return Err(Error::TooLarge(format!(
            "the body is {length} bytes; the limit is {max_body_bytes}"
        )));
    }
    let mut body = Vec::with_capacity(length as usize);
    io::stdin()
        .lock()
        .take(length)
        .read_to_end(&mut body)
        .map_err(|error| Error::BadRequest(format!("the body could not be read: {error}")))?;
    if (body.len() as u64) < length {
        return Err(Error::BadRequest(format!(
            "the body ended after {} of its {length} bytes",
            body.len()
        )));
    }
    Ok(body)
}
