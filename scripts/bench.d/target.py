"""The server under test, as the measures talk to it: `Target` (one fresh HTTP connection per
request to the bench's Apache on 127.0.0.1, join and leave), `KeepAlive` (one connection that
carries request after request, as a browser reuses one), `EventStream` (a peer's held event
stream, reconnecting as EventSource does) and the signaling payload the measures post.

It talks HTTP to loopback only and keeps no state outside its objects; the wire formats (the
answer parser, the event-stream parser) come from webrtc_client, which scripts/load shares.
"""

import asyncio
import json
import os
import random
import re
import socket
import sys
import time

from webrtc_client import (EventParser, http_answer_complete, http_request_bytes, join_answer,
                           parse_http_answer)

# Typical signaling payload: the size of a real ICE candidate message (a few hundred bytes).
CANDIDATE = (
    "candidate:842163049 1 udp 1677729535 192.0.2.10 54321 typ srflx raddr 10.0.0.2 "
    "rport 54321 generation 0 ufrag Xb3k network-cost 999"
)


def log(message):
    print(f"bench: {message}", file=sys.stderr, flush=True)


def creds(peer):
    return f"room={peer['room']}&peer={peer['peer']}&token={peer['token']}"


def message_body(to, number, sender=0):
    return json.dumps({"to": to, "type": "bench",
                       "data": {"n": number, "c": sender, "candidate": CANDIDATE,
                                "sdpMid": "0", "sdpMLineIndex": 0}},
                      separators=(",", ":")).encode()


def unique(prefix):
    return f"{prefix}-{os.getpid()}-{random.getrandbits(40):010x}"


class Target:
    """webrtc.cgi (and the do-nothing CGI beside it) behind the bench's Apache."""

    def __init__(self, url, floor_url=None):
        match = re.match(r"http://127\.0\.0\.1:(\d+)(/.*)$", url)
        if not match:
            raise SystemExit("the URL must be http://127.0.0.1:PORT/...")
        self.host = "127.0.0.1"
        self.port = int(match.group(1))
        self.cgi_path = match.group(2)  # e.g. /cgi-bin/webrtc.cgi
        self.floor_path = None
        if floor_url:
            self.floor_path = re.match(r"http://127\.0\.0\.1:\d+(/.*)$", floor_url).group(1)

    @property
    def url(self):
        return f"http://{self.host}:{self.port}{self.cgi_path}"

    def api(self, query):
        return f"{self.cgi_path}?{query}"

    def request_bytes(self, method, path, body=b"", extra_headers=()):
        return http_request_bytes(method, f"{self.host}:{self.port}", path, body, extra_headers)

    def http(self, method, path, body=b"", timeout=15.0):
        """One request on a fresh connection, as a browser's first request on a connection
        (and the sequential cost measurement) does. Returns (status, headers, body, seconds),
        the time running from before connect() to the end of the response."""
        data = self.request_bytes(method, path, body)
        started = time.perf_counter()
        with socket.create_connection((self.host, self.port), timeout=timeout) as connection:
            connection.sendall(data)
            raw = b""
            while not http_answer_complete(raw):
                part = connection.recv(65536)
                if not part:
                    break
                raw += part
            elapsed = time.perf_counter() - started
        status, headers, answer = parse_http_answer(raw)
        return status, headers, answer, elapsed

    async def apost(self, path, body, timeout=15.0):
        """The asynchronous POST of the concurrent measures: (status, seconds)."""
        data = self.request_bytes("POST", path, body)
        started = time.perf_counter()
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(self.host, self.port), timeout)
        try:
            writer.write(data)
            raw = b""
            while not http_answer_complete(raw):
                part = await asyncio.wait_for(reader.read(65536), timeout)
                if not part:
                    break
                raw += part
        finally:
            writer.close()
        elapsed = time.perf_counter() - started
        return parse_http_answer(raw)[0], elapsed

    def join(self, room):
        status, _, body, _ = self.http("POST", self.api(f"mode=join&room={room}"))
        if status != 200:
            raise RuntimeError(f"join {room}: HTTP {status} {body[:200]!r}")
        peer, token, _ = join_answer(body)
        return {"room": room, "peer": peer, "token": token}

    def leave(self, peer):
        try:
            self.http("POST", self.api(f"mode=leave&{creds(peer)}"), timeout=5)
        except OSError:
            pass


class KeepAlive:
    """One keep-alive connection to `target`, carrying one request at a time. A connection the
    server closed (after MaxKeepAliveRequests, or idle too long) is opened again, and the
    answer says so: that request's time has none of what the server did between the previous
    answer and the next request, which is what a keep-alive figure is about."""

    def __init__(self, target, timeout=15.0):
        self.target = target
        self.timeout = timeout
        self.connection = None

    def request(self, method, path, body=b""):
        """(status, body, seconds, fresh): the time runs from sending the request to the end of
        its answer; `fresh` when this request had to open the connection first."""
        data = self.target.request_bytes(method, path, body)
        for _ in range(2):
            fresh = self.connection is None
            if fresh:
                self.connection = socket.create_connection((self.target.host, self.target.port),
                                                           timeout=self.timeout)
            started = time.perf_counter()
            raw = b""
            try:
                self.connection.sendall(data)
                while not http_answer_complete(raw):
                    part = self.connection.recv(65536)
                    if not part:
                        break
                    raw += part
            except OSError:
                raw = b""
            elapsed = time.perf_counter() - started
            if raw:
                break
            # The server closed the idle connection as this request went out: once more, on a
            # new one (a fresh connection that answers nothing is a real failure).
            self.close()
            if fresh:
                raise OSError(f"no answer to {method} {path} on a new connection")
        status, headers, answer = parse_http_answer(raw)
        if headers.get("connection", "").lower() == "close" or not http_answer_complete(raw):
            self.close()
        return status, answer, elapsed, fresh

    def close(self):
        if self.connection is not None:
            self.connection.close()
            self.connection = None


class EventStream:
    """A peer's held event stream, reconnecting after `bye` with the last id it saw (as
    EventSource does) until stopped. `on_message(stream, id, payload, arrived)` is called as
    each message event arrives; `arrived` is time.perf_counter() when its bytes were read."""

    def __init__(self, target, peer, hold, on_message=None):
        self.target = target
        self.peer = peer
        self.hold = hold
        self.on_message = on_message
        self.last_id = 0
        self.ready = asyncio.Event()
        self.stopped = False
        self.gone = False
        self.connections = 0
        self.errors = 0
        self.writer = None

    async def run(self, deadline):
        while not self.stopped and not self.gone and time.monotonic() < deadline:
            try:
                await self.once(deadline)
            except (OSError, asyncio.IncompleteReadError, asyncio.TimeoutError, ValueError) as error:
                if self.stopped:
                    break
                self.errors += 1
                if self.errors <= 2:
                    log(f"event stream of {self.peer['peer']}: {error!r}")
                await asyncio.sleep(0.2)

    async def once(self, deadline):
        target = self.target
        path = target.api(f"mode=sse&{creds(self.peer)}&hold={self.hold}&last={self.last_id}")
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(target.host, target.port), 15)
        self.writer = writer
        self.connections += 1
        try:
            writer.write(target.request_bytes("GET", path,
                                              extra_headers=["Accept: text/event-stream"]))
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 15)
            status, headers, _ = parse_http_answer(head)
            if status != 200:
                raise ValueError(f"event stream answered {status}")
            chunked = headers.get("transfer-encoding", "").lower() == "chunked"
            parser = EventParser()
            while not self.stopped:
                remaining = max(1.0, deadline - time.monotonic() + self.hold + 15)
                if chunked:
                    size_line = await asyncio.wait_for(reader.readline(), remaining)
                    size = int(size_line.strip().split(b";")[0] or b"0", 16)
                    if size == 0:
                        return
                    data = await reader.readexactly(size + 2)
                    data = data[:-2]
                else:
                    data = await asyncio.wait_for(reader.read(65536), remaining)
                    if not data:
                        return
                arrived = time.perf_counter()
                for event in parser.feed(data):
                    if self.event(event, arrived):
                        return
        finally:
            self.writer = None
            writer.close()

    def event(self, event, arrived):
        """Handles one event; returns True when the response is over."""
        if event.name == "hello":
            self.ready.set()
        elif event.name == "bye":
            return True
        elif event.name == "gone":
            self.gone = True
            return True
        elif event.is_message:
            self.last_id = event.id
            if self.on_message:
                self.on_message(self, event.id, event.data, arrived)
        return False

    def stop(self):
        self.stopped = True
        if self.writer is not None:
            self.writer.close()
