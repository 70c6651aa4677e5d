//! Black-box tests of the built executable, run as a web server runs it (see `site`).
//! One integration binary; each module is one concern.

mod api;
mod hardening;
mod sealed;
mod site;
