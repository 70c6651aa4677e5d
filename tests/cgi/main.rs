//! Black-box tests of the built executable, run as a web server runs it. One integration
//! binary; each module is one concern, and all of them go through `site`, the one harness.
//!
//! - `api`: the interface of PROTOCOL.md, mode by mode.
//! - `budgets`: held streams, probes, rooms, joins and the sweep against floods.
//! - `access`: who may read and do what; tokens and security headers.
//! - `hostile`: bodies and parameters built to hurt.
//! - `crashes`: processes killed, stopped or stalled half way.
//! - `storage`: full disks and unusable data directories.
//! - `floods`: the rate limits.
//! - `gateways`: FastCGI wrappers, the end-of-request hand-over, and the default data
//!   folder's place.
//! - `sealed`: sealed rooms: the join parameter, refused unsealed posts, what is stored.

mod access;
mod api;
mod budgets;
mod crashes;
mod floods;
mod gateways;
mod hostile;
mod sealed;
mod shell;
mod site;
mod storage;
