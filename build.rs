//! Embeds the browser client (`www/`) into the executable, so that `webrtc.cgi` alone is the
//! whole install. Generates a table of the files with their MIME types and one version
//! string, a hash of every file, that the page uses to version asset URLs.

use std::env;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

fn content_type(name: &str) -> &'static str {
    match name.rsplit_once('.').map(|(_, extension)| extension) {
        Some("html") => "text/html; charset=utf-8",
        Some("js" | "mjs") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("ico") => "image/x-icon",
        Some("json") => "application/json",
        Some("webmanifest") => "application/manifest+json",
        Some("txt") => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

fn fnv1a(hash: &mut u64, bytes: &[u8]) {
    for byte in bytes {
        *hash ^= u64::from(*byte);
        *hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
}

fn main() {
    let manifest_dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let www = manifest_dir.join("www");
    println!("cargo:rerun-if-changed=www");

    let mut files: Vec<(String, PathBuf)> = fs::read_dir(&www)
        .map(|entries| {
            entries
                .flatten()
                .filter(|entry| {
                    entry
                        .file_type()
                        .map(|kind| kind.is_file())
                        .unwrap_or(false)
                })
                .filter_map(|entry| {
                    let name = entry.file_name().into_string().ok()?;
                    let plain = !name.starts_with('.')
                        && name
                            .bytes()
                            .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b));
                    plain.then(|| (name, entry.path()))
                })
                .collect()
        })
        .unwrap_or_default();
    files.sort();

    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let mut table = String::new();
    for (name, path) in &files {
        println!("cargo:rerun-if-changed={}", path.display());
        let bytes = fs::read(path).expect("www file readable");
        fnv1a(&mut hash, name.as_bytes());
        fnv1a(&mut hash, &bytes);
        writeln!(
            table,
            "    Asset {{ name: {name:?}, content_type: {:?}, bytes: include_bytes!({:?}) }},",
            content_type(name),
            path.display().to_string()
        )
        .expect("write to string");
    }
    let generated = format!(
        "/// A hash of every embedded file: changes whenever any of them does.\npub const VERSION: &str = \"{:012x}\";\n\npub static ASSETS: &[Asset] = &[\n{table}];\n",
        hash & 0xffff_ffff_ffff
    );
    let out = Path::new(&env::var("OUT_DIR").expect("set by cargo")).join("assets.rs");
    fs::write(out, generated).expect("OUT_DIR writable");
}
