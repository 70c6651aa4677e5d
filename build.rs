//! Embeds the browser client (`www/`) into the executable, so that `webrtc.cgi` alone is the
//! whole install. Generates a table of the files with their MIME types and one version
//! string, a hash of every file, that the page uses to version asset URLs.
//!
//! The client's entry module, `app.js`, is embedded bundled with every module it imports,
//! each in a scope of its own: the page then needs one script request instead of one per
//! module (each request is a CGI process). The imported modules are not embedded on their
//! own. Only the forms the client uses are accepted (`import { a, b } from './x.js';` on one
//! line, where the path is relative and may go down into a folder (`./net/x.js`) or up out of
//! one (`../x.js`) but never out of `www/`; `export` before a function, class or const);
//! anything else stops the build. A module's exports live in a variable named after its file
//! (`module_call` for `rtc/call.js`), so two bundled modules may not share a file name.

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

/// The module the page loads; it is served bundled with what it imports.
const ENTRY: &str = "app.js";

struct Bundle {
    code: String,
    /// Modules already in `code`, in the order they were added.
    done: Vec<String>,
}

/// The name of the variable holding a module's exports in the bundle. `name` is the module's
/// path inside `www/`; only its file name counts (see the module doc).
fn module_variable(name: &str) -> String {
    let file = name.rsplit_once('/').map_or(name, |(_, file)| file);
    let stem = file.strip_suffix(".js").unwrap_or(file);
    let safe: String = stem
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    format!("module_{safe}")
}

/// Resolves the path of an import written in module `from` (a path inside `www/`) to a path
/// inside `www/`. Accepts `./` and `../` paths of plain names ending in `.js`; refuses bare
/// names, absolute paths, URLs and anything that would leave `www/`.
fn resolve_import(from: &str, spec: &str, place: &str) -> String {
    assert!(
        spec.starts_with("./") || spec.starts_with("../"),
        "{place}: import a relative path (`./x.js`, `./folder/x.js`, `../x.js`), not `{spec}`"
    );
    let mut parts: Vec<&str> = from.split('/').collect();
    parts.pop();
    let segments: Vec<&str> = spec.split('/').collect();
    let last = segments.len() - 1;
    for (index, segment) in segments.into_iter().enumerate() {
        match segment {
            "." if index == 0 => {}
            ".." => {
                assert!(parts.pop().is_some(), "{place}: `{spec}` leaves www/");
            }
            _ => {
                let stem = if index == last {
                    segment
                        .strip_suffix(".js")
                        .unwrap_or_else(|| panic!("{place}: `{spec}` does not name a .js file"))
                } else {
                    segment
                };
                assert!(
                    !stem.is_empty()
                        && stem
                            .bytes()
                            .all(|b| b.is_ascii_alphanumeric() || b"_-".contains(&b)),
                    "{place}: `{spec}` has a path segment that is not a plain name"
                );
                parts.push(segment);
            }
        }
    }
    parts.join("/")
}

/// Adds `name` to the bundle after the modules it imports. `path` lists the modules being
/// added, to refuse an import cycle.
fn add_module(www: &Path, name: &str, bundle: &mut Bundle, path: &mut Vec<String>) {
    if bundle.done.iter().any(|done| done == name) {
        return;
    }
    let variable = module_variable(name);
    if let Some(other) = bundle
        .done
        .iter()
        .find(|done| module_variable(done) == variable)
    {
        panic!("www/{name} and www/{other} need distinct file names in the bundle");
    }
    assert!(
        !path.iter().any(|open| open == name),
        "www/{name}: import cycle through {path:?}"
    );
    path.push(name.to_string());
    let file = www.join(name);
    println!("cargo:rerun-if-changed={}", file.display());
    let source = fs::read_to_string(&file)
        .unwrap_or_else(|error| panic!("www/{name} cannot be read: {error}"));
    let mut body = String::new();
    let mut exports = Vec::new();
    for (number, line) in source.lines().enumerate() {
        let place = format!("www/{name}:{}", number + 1);
        if let Some(rest) = line.strip_prefix("import ") {
            let (names, spec) = rest
                .strip_suffix("';")
                .and_then(|rest| rest.split_once(" from '"))
                .filter(|(names, _)| names.starts_with('{') && names.ends_with('}'))
                .unwrap_or_else(|| {
                    panic!("{place}: write imports as `import {{ a, b }} from './x.js';`")
                });
            assert!(
                !names.contains(" as "),
                "{place}: renaming imports is not supported"
            );
            let imported = resolve_import(name, spec, &place);
            add_module(www, &imported, bundle, path);
            writeln!(body, "const {names} = {};", module_variable(&imported)).expect("string");
        } else if let Some(rest) = line.strip_prefix("export ") {
            let declared = ["async function ", "function ", "class ", "const "]
                .iter()
                .find_map(|keyword| rest.strip_prefix(keyword))
                .unwrap_or_else(|| panic!("{place}: export a function, class or const"));
            let export: String = declared
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '$')
                .collect();
            assert!(!export.is_empty(), "{place}: no name after export");
            exports.push(export);
            writeln!(body, "{rest}").expect("string");
        } else {
            let comment = ["*", "/*", "//"]
                .iter()
                .any(|start| line.trim_start().starts_with(start));
            assert!(
                comment || !line.contains("import(") && !line.trim_start().starts_with("export"),
                "{place}: only static imports and exports at the start of a line are supported"
            );
            writeln!(body, "{line}").expect("string");
        }
    }
    path.pop();
    if name == ENTRY {
        writeln!(bundle.code, "// www/{name}\n{{\n{body}}}").expect("string");
    } else {
        writeln!(
            bundle.code,
            "// www/{name}\nconst {} = (() => {{\n{body}return {{ {} }};\n}})();\n",
            variable,
            exports.join(", ")
        )
        .expect("string");
    }
    bundle.done.push(name.to_string());
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

    let out_dir = PathBuf::from(env::var("OUT_DIR").expect("set by cargo"));
    let mut bundle = Bundle {
        code: format!(
            "// webrtc-cgi client: www/{ENTRY} bundled with the modules it imports (see build.rs).\n"
        ),
        done: Vec::new(),
    };
    if www.join(ENTRY).is_file() {
        add_module(&www, ENTRY, &mut bundle, &mut Vec::new());
    }
    let bundle_path = out_dir.join(ENTRY);
    fs::write(&bundle_path, &bundle.code).expect("OUT_DIR writable");

    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let mut table = String::new();
    for (name, path) in &files {
        println!("cargo:rerun-if-changed={}", path.display());
        if bundle.done.contains(name) && name != ENTRY {
            continue;
        }
        let embedded = if name == ENTRY { &bundle_path } else { path };
        let bytes = fs::read(embedded).expect("www file readable");
        fnv1a(&mut hash, name.as_bytes());
        fnv1a(&mut hash, &bytes);
        writeln!(
            table,
            "    Asset {{ name: {name:?}, content_type: {:?}, bytes: include_bytes!({:?}) }},",
            content_type(name),
            embedded.display().to_string()
        )
        .expect("write to string");
    }
    let generated = format!(
        "/// A hash of every embedded file: changes whenever any of them does.\npub const VERSION: &str = \"{:012x}\";\n\npub static ASSETS: &[Asset] = &[\n{table}];\n",
        hash & 0xffff_ffff_ffff
    );
    fs::write(out_dir.join("assets.rs"), generated).expect("OUT_DIR writable");
}
