"""The one Python client of webrtc.cgi, shared by scripts/load and scripts/bench: the CGI
environment a web server hands the executable, the parsers of its answers (as a CGI writes them
and as HTTP brings them), the event-stream parser, and the percentile that every printed figure
uses, so that the tools agree on what a p99 is.

Pure functions and small classes without global state: this module never starts a process,
opens a connection or reads a clock. Each tool owns its transport and hands bytes in.
Python standard library only.
"""

import json

# ---------------------------------------------------------------------------------------------
# The CGI environment.


def cgi_environment(method, query, script_name, *, remote_addr="127.0.0.1", body_length=None,
                    headers=None, extra=None):
    """The variables a web server sets for one CGI request (RFC 3875), as a dict.

    `body_length` is given for a request with a body (CONTENT_LENGTH and a JSON CONTENT_TYPE, as
    the browser client sends); `headers` become HTTP_* variables; `extra` adds or overrides
    anything else (the settings path, the server's own variables)."""
    environment = {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "GATEWAY_INTERFACE": "CGI/1.1",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REQUEST_METHOD": method,
        "QUERY_STRING": query,
        "REQUEST_URI": f"{script_name}?{query}",
        "SCRIPT_NAME": script_name,
        "REMOTE_ADDR": remote_addr,
    }
    if body_length is not None:
        environment["CONTENT_LENGTH"] = str(body_length)
        environment["CONTENT_TYPE"] = "application/json"
    for name, value in (headers or {}).items():
        environment["HTTP_" + name.upper().replace("-", "_")] = value
    environment.update(extra or {})
    return environment


def apache_variables(host, port, script_filename, document_root):
    """The further variables Apache's mod_cgid sets, for a run that must look like Apache's."""
    return {
        "SERVER_SOFTWARE": "Apache",
        "SERVER_NAME": host,
        "SERVER_ADDR": host,
        "SERVER_PORT": str(port),
        "REMOTE_PORT": "40000",
        "REQUEST_SCHEME": "http",
        "SCRIPT_FILENAME": script_filename,
        "DOCUMENT_ROOT": document_root,
        "HTTP_HOST": f"{host}:{port}",
        "HTTP_USER_AGENT": "webrtc-cgi-bench",
        "HTTP_ACCEPT": "*/*",
    }


# ---------------------------------------------------------------------------------------------
# Answers.


def _split_head(raw):
    """(head text, body bytes); a CGI may end its header lines with LF alone."""
    for separator in (b"\r\n\r\n", b"\n\n"):
        head, found, body = raw.partition(separator)
        if found:
            return head.decode("latin-1").replace("\r\n", "\n"), body
    return raw.decode("latin-1").replace("\r\n", "\n"), b""


def _header_map(lines):
    headers = {}
    for line in lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return headers


def parse_cgi_answer(raw):
    """A CGI's output as (status, headers, body): the status from its Status header (0 when
    there is none), header names lower-case."""
    head, body = _split_head(raw)
    headers = _header_map(head.split("\n"))
    status_text = headers.get("status", "")[:3]
    return (int(status_text) if status_text.isdigit() else 0), headers, body


def dechunk(body):
    """The payload of a chunked HTTP body."""
    out = bytearray()
    rest = body
    while rest:
        line, _, rest = rest.partition(b"\r\n")
        size = int(line.split(b";")[0] or b"0", 16)
        if size == 0:
            break
        out += rest[:size]
        rest = rest[size + 2:]
    return bytes(out)


def parse_http_answer(raw):
    """An HTTP/1.1 response as (status, headers, body), the body de-chunked."""
    head, body = _split_head(raw)
    lines = head.split("\n")
    words = lines[0].split() if lines else []
    status = int(words[1]) if len(words) > 1 and words[1].isdigit() else 0
    headers = _header_map(lines[1:])
    if headers.get("transfer-encoding", "").lower() == "chunked":
        body = dechunk(body)
    return status, headers, body


def http_answer_complete(raw):
    """Whether `raw` holds a whole HTTP response, judged by its framing (Content-Length or the
    last chunk), as a browser judges it. Waiting for the server to close instead would time
    the client's own second wake-up, not the server."""
    head_end = raw.find(b"\r\n\r\n")
    if head_end < 0:
        return False
    _, headers, _ = parse_http_answer(raw[:head_end + 4])
    body = raw[head_end + 4:]
    if "content-length" in headers:
        return len(body) >= int(headers["content-length"])
    if headers.get("transfer-encoding", "").lower() != "chunked":
        return False
    position = 0
    while True:
        line_end = body.find(b"\r\n", position)
        if line_end < 0:
            return False
        size = int(body[position:line_end].split(b";")[0] or b"0", 16)
        if size == 0:
            return body.find(b"\r\n", line_end + 2) >= 0
        position = line_end + 2 + size + 2
        if position > len(body):
            return False


def http_request_bytes(method, host_port, path, body=b"", extra_headers=()):
    """One HTTP/1.1 request. No "Connection: close": the end of a response is known from its
    framing, as in a browser."""
    head = [f"{method} {path} HTTP/1.1", f"Host: {host_port}", "User-Agent: webrtc-cgi-bench"]
    if method == "POST":
        head += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
    head += list(extra_headers)
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


def join_answer(body):
    """(peer, token, peers already there) from a join's JSON body; ValueError when it is not one."""
    try:
        answer = json.loads(body)
        return answer["peer"], answer["token"], answer.get("peers", [])
    except (TypeError, KeyError) as error:
        raise ValueError(f"not a join answer: {body[:200]!r}") from error


# ---------------------------------------------------------------------------------------------
# Event streams.


class Event:
    """One server-sent event: `name` ("message" unless an `event:` line says otherwise), `id`
    (an int, or None), `data` (the data lines joined, or None) and `retry` (ms, or None)."""

    __slots__ = ("name", "id", "data", "retry")

    def __init__(self, name="message", event_id=None, data=None, retry=None):
        self.name = name
        self.id = event_id
        self.data = data
        self.retry = retry

    @property
    def is_message(self):
        """A stored message with its id, as opposed to hello, bye, gone or a comment."""
        return self.name == "message" and self.id is not None and self.data is not None


class EventParser:
    """Cuts an event stream into events as its bytes arrive, in whatever pieces: feed it bytes
    (`feed`) or whole decoded lines (`line`); each returns the events those complete."""

    def __init__(self):
        self._pending = b""
        self._fields = {}
        self._data = []

    def feed(self, chunk):
        self._pending += chunk
        events = []
        while b"\n" in self._pending:
            raw_line, self._pending = self._pending.split(b"\n", 1)
            event = self.line(raw_line.decode("utf-8", "replace"))
            if event is not None:
                events.append(event)
        return events

    def line(self, text):
        text = text.rstrip("\r\n")
        if text == "":
            if not self._fields and not self._data:
                return None
            event = Event(self._fields.get("event", "message"),
                          int(self._fields["id"]) if self._fields.get("id", "").isdigit() else None,
                          "\n".join(self._data) if self._data else None,
                          int(self._fields["retry"]) if self._fields.get("retry", "").isdigit() else None)
            self._fields, self._data = {}, []
            return event
        if text.startswith(":"):
            return None
        field, _, value = text.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if field == "data":
            self._data.append(value)
        else:
            self._fields[field] = value
        return None


def events_in(body):
    """Every complete event of a whole (ended) event-stream body."""
    parser = EventParser()
    return parser.feed(body if body.endswith(b"\n\n") else body + b"\n\n")


def last_event_id(body, default):
    """The id of the last event with an id in an event-stream body (what EventSource would send
    as Last-Event-ID next), or `default` when there is none."""
    ids = [event.id for event in events_in(body) if event.id is not None]
    return ids[-1] if ids else default


# ---------------------------------------------------------------------------------------------
# Figures.


def percentile(values, fraction):
    """Linear interpolation between the closest ranks (the common "type 7" definition, as in
    numpy's default); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * fraction
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def summary(values):
    """median, p90, p99, max and the number of values, as the bench's JSON records them."""
    return {
        "median": percentile(values, 0.5),
        "p90": percentile(values, 0.9),
        "p99": percentile(values, 0.99),
        "max": max(values) if values else None,
        "runs": len(values),
    }
