//! webrtc-cgi as a library: everything but the process edge (`main.rs`), so that the
//! executable, the unit tests and the fuzz targets share one implementation.
//!
//! Layers, from the edge inwards: `mode` (one file per mode: its request, its parse and its
//! run) over `store` (files and locks in the data directory) and `stream` (writing event
//! streams); `values` holds the checked values that travel between them, `response` the
//! answer as plain data. `shell` answers the program's options when it runs outside a web
//! server. Only what `main.rs`, the tests and the fuzz targets use is public here: the
//! request and its run, the shell's answer, the settings, the error, and the record reader.

pub mod address;
mod assets;
pub mod config;
pub mod error;
pub mod gateway;
pub mod mode;
mod response;
mod secret;
pub mod shell;
pub mod store;
pub mod stream;
pub mod values;

pub use response::Response;
