//! Hostile input: bodies built to hurt the parser, and line breaks (raw or encoded) in every
//! parameter of every mode and every CGI variable, which must never reach the header block.

use serde_json::{json, Value};

use crate::site::*;

/// Bodies built to hurt (nesting past the parser's limit, not JSON, not UTF-8, ten thousand
/// keys, a NUL) are refused with a 400 that says what was wrong, store nothing, and leave
/// the sender able to post; deep nesting within the limit arrives intact.
#[test]
fn hostile_bodies_are_refused_with_a_400_and_store_nothing() {
    let site = Site::new();
    let alice = site.join("r");
    let bob = site.join("r");
    let many_keys: String = format!(
        "{{\"type\":\"x\",{}}}",
        (0..10_000)
            .map(|n| format!("\"k{n}\":1"))
            .collect::<Vec<_>>()
            .join(",")
    );
    let deep = |depth: usize| {
        format!(
            "{{\"to\":\"{}\",\"type\":\"deep\",\"data\":{}{}}}",
            bob.id,
            "[".repeat(depth),
            "]".repeat(depth)
        )
    };
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (deep(100_000).into_bytes(), "recursion limit"),
        (deep(5_000).into_bytes(), "recursion limit"),
        (b"not json at all".to_vec(), "not valid JSON"),
        (b"<?xml version=\"1.0\"?><x/>".to_vec(), "not valid JSON"),
        (b"{\"type\":\"x\",\"data\":\"\xff\xfe\"}".to_vec(), "UTF-8"),
        (b"\xc3\x28".to_vec(), "UTF-8"),
        (b"{\"type\":\"x\"}\x00".to_vec(), "not valid JSON"),
        (
            b"{\"type\":\"x\"} {\"type\":\"y\"}".to_vec(),
            "not valid JSON",
        ),
        (b"[]".to_vec(), "not valid JSON"),
        (b"null".to_vec(), "not valid JSON"),
        (many_keys.into_bytes(), "unknown field"),
        (
            b"{\"type\":\"x\",\"type\":\"y\"}".to_vec(),
            "duplicate field",
        ),
        (b"{\"type\":\"x\\ny\"}".to_vec(), "\"type\""),
    ];
    for (body, fragment) in &cases {
        let answer = site.run(
            &mut site.command(
                "POST",
                &message_query(&alice),
                &[("CONTENT_LENGTH", &body.len().to_string())],
            ),
            body,
        );
        let shown = String::from_utf8_lossy(&body[..body.len().min(60)]).into_owned();
        // A body over the size limit is refused before it is read, with its own status.
        if body.len() as u64 > 64 * 1024 {
            assert_eq!(answer.status, 413, "{shown}: {answer:?}");
            continue;
        }
        assert_eq!(answer.status, 400, "{shown}: {answer:?}");
        assert!(
            answer.error().contains(fragment),
            "{shown}: {:?} lacks {fragment:?}",
            answer.error()
        );
    }
    assert!(poll_events(&site, &bob, None).is_empty(), "nothing stored");

    let answer = site.run(
        &mut site.command(
            "POST",
            &message_query(&alice),
            &[("CONTENT_LENGTH", &deep(100).len().to_string())],
        ),
        deep(100).as_bytes(),
    );
    assert_eq!(answer.status, 202, "{answer:?}");
    let events = poll_events(&site, &bob, None);
    let expected: Value =
        serde_json::from_str(&format!("{}{}", "[".repeat(100), "]".repeat(100))).unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].1["data"], expected);

    // Join and leave ignore their bodies, whatever they hold.
    let answer = site.request("POST", "mode=join&room=r", b"\xff\x00{{{{");
    assert_eq!(answer.status, 200, "{answer:?}");
}

/// Checks that a raw answer's header block is well formed and carries nothing injected.
fn check_header_block(label: &str, output: &[u8]) {
    let head = header_block(output);
    assert!(head.starts_with("Status: "), "{label}: {head:?}");
    for line in head.split("\r\n") {
        let (name, value) = line
            .split_once(": ")
            .unwrap_or_else(|| panic!("{label}: a broken header line {line:?} in {head:?}"));
        assert!(
            !name.is_empty()
                && name
                    .bytes()
                    .all(|byte| byte.is_ascii_alphanumeric() || byte == b'-'),
            "{label}: a header name {name:?}"
        );
        assert!(
            !value.contains('\r') && !value.contains('\n'),
            "{label}: {line:?}"
        );
        assert!(
            !name.eq_ignore_ascii_case("set-cookie") && !name.eq_ignore_ascii_case("x-injected"),
            "{label}: a header was injected: {head:?}"
        );
        assert!(
            !value.contains("injected"),
            "{label}: request text reached a header: {line:?}"
        );
    }
}

/// CR and LF, raw or percent-encoded, in every parameter of every mode and in every CGI
/// variable taken from the request never reach the header block: it stays well formed and
/// carries no injected header.
#[test]
fn line_breaks_in_any_parameter_or_variable_never_reach_the_header_block() {
    let site = Site::new();
    let alice = site.join("r");
    let bob = site.join("r");
    let injections = [
        "%0d%0aSet-Cookie:%20injected=1",
        "%0aX-Injected:%201",
        "%0d%0a%0d%0a<p>injected</p>",
        "\r\nSet-Cookie: injected=1",
        "\nX-Injected: 1",
        "x%00%0d%0aSet-Cookie:injected",
    ];
    let modes: Vec<(&str, Vec<(&str, String)>)> = vec![
        ("GET", vec![("room", "r".into())]),
        ("GET", vec![("asset", "app.js".into()), ("v", "1".into())]),
        ("GET", vec![("mode", "check".into())]),
        ("GET", vec![("mode", "probe".into())]),
        ("POST", vec![("mode", "join".into()), ("room", "r".into())]),
        (
            "POST",
            vec![
                ("mode", "post".into()),
                ("room", "r".into()),
                ("peer", alice.id.clone()),
                ("token", alice.token.clone()),
            ],
        ),
        (
            "GET",
            vec![
                ("mode", "sse".into()),
                ("room", "r".into()),
                ("peer", bob.id.clone()),
                ("token", bob.token.clone()),
                ("hold", "0".into()),
                ("last", "0".into()),
            ],
        ),
        (
            "GET",
            vec![
                ("mode", "ice".into()),
                ("room", "r".into()),
                ("peer", bob.id.clone()),
                ("token", bob.token.clone()),
            ],
        ),
    ];
    let body = json!({"to": bob.id, "type": "x"}).to_string();
    for (method, parameters) in &modes {
        for target in 0..=parameters.len() {
            for injection in injections {
                let mut pairs: Vec<String> = parameters
                    .iter()
                    .enumerate()
                    .map(|(index, (key, value))| {
                        if index == target {
                            format!("{key}={value}{injection}")
                        } else {
                            format!("{key}={value}")
                        }
                    })
                    .collect();
                // One past the last parameter: the injection as a parameter name.
                if target == parameters.len() {
                    pairs.push(format!("{injection}=1"));
                }
                let query = pairs.join("&");
                let output = run_raw(
                    &mut site.command(
                        method,
                        &query,
                        &[("CONTENT_LENGTH", &body.len().to_string())],
                    ),
                    body.as_bytes(),
                );
                check_header_block(&query, &output);
            }
        }
    }
    // Variables the web server fills from request headers and the request line.
    let sse_query = format!("{}&hold=0", query_of(&bob, "sse"));
    let variables: Vec<(&str, &str, String)> = vec![
        ("HTTP_LAST_EVENT_ID", "GET", sse_query.clone()),
        ("HTTP_IF_NONE_MATCH", "GET", "asset=app.js".into()),
        ("HTTP_HOST", "GET", "mode=check".into()),
        ("SCRIPT_NAME", "GET", "room=r".into()),
        ("SCRIPT_NAME", "GET", "".into()),
        ("REMOTE_ADDR", "POST", "mode=join&room=r".into()),
        ("REQUEST_METHOD", "", "mode=join&room=r".into()),
        ("CONTENT_LENGTH", "POST", message_query(&alice)),
        ("HTTP_X_FORWARDED_PROTO", "GET", "mode=check".into()),
        ("SERVER_SOFTWARE", "GET", "mode=check".into()),
    ];
    for (name, method, query) in &variables {
        for value in ["1\r\nSet-Cookie: injected=1", "\"x\"\nX-Injected: 1"] {
            let mut command = site.command(method, query, &[]);
            command.env(name, value);
            let output = run_raw(&mut command, b"");
            check_header_block(&format!("{name}={value:?}"), &output);
        }
    }

    // A message whose data holds line breaks reaches the other side as one event.
    let data = "line one\r\nid: 999\r\n\r\nevent: injected\ndata: {}";
    assert_eq!(
        site.post(&alice, json!({"to": bob.id, "type": "x", "data": data}))
            .status,
        202
    );
    let answer = site.sse(&bob, None, 0);
    assert!(!answer.body.contains("\nid: 999"), "{:?}", answer.body);
    assert!(
        !answer.body.contains("\nevent: injected"),
        "{:?}",
        answer.body
    );
    let events = message_events(&answer.body).unwrap();
    assert_eq!(
        events.last().map(|(_, event)| event["data"].clone()),
        Some(json!(data))
    );
}
