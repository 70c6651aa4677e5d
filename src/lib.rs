//! webrtc-cgi as a library: everything but the process edge (`main.rs`), so that the
//! executable, the unit tests and the fuzz targets share one implementation.
//!
//! The modules mirror the three parts of the original: `page` (the client page), `post` (the
//! POST handler) and `sse` (the SSE handler), over `store` (files and locks) and `request` /
//! `response` (the CGI edge, as pure functions).

pub mod check;
pub mod config;
pub mod error;
pub mod page;
pub mod post;
pub mod request;
pub mod response;
pub mod secret;
pub mod sse;
pub mod store;
