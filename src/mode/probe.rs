//! The probe mode (`GET ?mode=probe`): the self-check's streaming test, a few events spaced
//! in time. The page compares their arrival times to tell a streaming host from one that
//! buffers CGI output. It touches no files.

use std::io::{self, Write};
use std::time::Duration;

use super::query::{require_method, Input};
use super::{Context, Reply, Stream};
use crate::error::Result;
use crate::stream::{is_disconnect, named_event, write_padding, write_stream_head, Clock};

#[derive(Debug, PartialEq, Eq)]
pub struct Probe;

impl Probe {
    pub(super) fn parse(input: &Input) -> Result<Probe> {
        require_method(input.method, "GET", "probe")?;
        input.query.only(&["mode"])?;
        Ok(Probe)
    }

    pub(super) fn run(self, _context: &Context) -> Result<Reply> {
        Ok(Reply::Stream(Stream::Probe))
    }
}

/// Writes the probe's events.
pub(super) fn write(out: &mut impl Write, clock: &impl Clock) {
    let written = (|| -> io::Result<()> {
        write_stream_head(out)?;
        write_padding(out)?;
        // A long retry keeps a browser that reconnects after the test from repeating it.
        out.write_all(b"retry: 60000\n\n")?;
        for tick in 0..PROBE_TICKS {
            if tick > 0 {
                clock.sleep(PROBE_SPACING);
            }
            let data = format!("{{\"n\":{tick},\"t\":{}}}", clock.unix_millis());
            out.write_all(named_event("tick", &data).as_bytes())?;
            out.flush()?;
        }
        out.write_all(named_event("done", "{}").as_bytes())?;
        out.flush()
    })();
    if let Err(error) = written {
        if !is_disconnect(&error) {
            eprintln!("webrtc.cgi: probe stream: {error}");
        }
    }
}

const PROBE_TICKS: u32 = 5;
const PROBE_SPACING: Duration = Duration::from_millis(400);
