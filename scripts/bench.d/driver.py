#!/usr/bin/env python3
"""Measures webrtc.cgi behind a running Apache instance and prints one table.

Started by scripts/bench, which builds everything and starts Apache first; see its header for
what is measured. This file only talks HTTP to 127.0.0.1, reads /proc, and runs the helpers
it is given (wrk, the peak-RSS tracer, the browser script). Every loop is bounded both in
count and in time, and every child process runs in its own process group so that it can be
ended as a whole, also when this driver is interrupted.

Python standard library only.
"""

import argparse
import asyncio
import datetime
import json
import os
import platform
import random
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time

# ---------------------------------------------------------------------------------------------
# Configuration given by scripts/bench.

ARGS = None
HOST = "127.0.0.1"
PORT = 0
CGI_PATH = ""  # e.g. /cgi-bin/webrtc.cgi
FLOOR_PATH = ""  # the do-nothing CGI beside it

# Typical signaling payload: the size of a real ICE candidate message (a few hundred bytes).
CANDIDATE = (
    "candidate:842163049 1 udp 1677729535 192.0.2.10 54321 typ srflx raddr 10.0.0.2 "
    "rport 54321 generation 0 ufrag Xb3k network-cost 999"
)

# Children started by this driver (process group ids), ended on the way out.
CHILDREN = set()


def log(message):
    print(f"bench: {message}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------------
# Statistics.


def percentile(values, fraction):
    """Linear interpolation between the closest ranks (the common 'type 7' definition)."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * fraction
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def summary(values):
    return {
        "median": percentile(values, 0.5),
        "p90": percentile(values, 0.9),
        "p99": percentile(values, 0.99),
        "max": max(values) if values else None,
        "runs": len(values),
    }


# ---------------------------------------------------------------------------------------------
# HTTP over plain sockets: one fresh connection per request, as a browser's first request on a
# connection (and the sequential cost measurement) does.


def dechunk(body):
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


def parse_response(raw):
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1]) if lines and len(lines[0].split()) > 1 else 0
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    if headers.get("transfer-encoding", "").lower() == "chunked":
        body = dechunk(body)
    return status, headers, body


def response_complete(raw):
    """Whether `raw` holds a whole response, judged by its framing (Content-Length or the
    last chunk), as a browser judges it. Waiting for the server to close instead would time
    the client's own second wake-up, not the server."""
    head_end = raw.find(b"\r\n\r\n")
    if head_end < 0:
        return False
    _, headers, _ = parse_response(raw[:head_end + 4])
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


def request_bytes(method, path, body=b"", extra_headers=()):
    # No "Connection: close": the end of a response is known from its framing, as in a browser.
    head = [f"{method} {path} HTTP/1.1", f"Host: {HOST}:{PORT}", "User-Agent: webrtc-cgi-bench"]
    if method == "POST":
        head += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
    head += list(extra_headers)
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


def http(method, path, body=b"", timeout=15.0):
    """One request on a fresh connection. Returns (status, headers, body, seconds), the time
    running from before connect() to the end of the response."""
    data = request_bytes(method, path, body)
    started = time.perf_counter()
    with socket.create_connection((HOST, PORT), timeout=timeout) as connection:
        connection.sendall(data)
        raw = b""
        while not response_complete(raw):
            part = connection.recv(65536)
            if not part:
                break
            raw += part
        elapsed = time.perf_counter() - started
    status, headers, answer = parse_response(raw)
    return status, headers, answer, elapsed


def api(query):
    return f"{CGI_PATH}?{query}"


def join(room):
    status, _, body, _ = http("POST", api(f"mode=join&room={room}"))
    if status != 200:
        raise RuntimeError(f"join {room}: HTTP {status} {body[:200]!r}")
    answer = json.loads(body)
    return {"room": room, "peer": answer["peer"], "token": answer["token"]}


def creds(peer):
    return f"room={peer['room']}&peer={peer['peer']}&token={peer['token']}"


def leave(peer):
    try:
        http("POST", api(f"mode=leave&{creds(peer)}"), timeout=5)
    except OSError:
        pass


def message_body(to, number, sender=0):
    return json.dumps({"to": to, "type": "bench",
                       "data": {"n": number, "c": sender, "candidate": CANDIDATE,
                                "sdpMid": "0", "sdpMLineIndex": 0}},
                      separators=(",", ":")).encode()


def unique(prefix):
    return f"{prefix}-{os.getpid()}-{random.getrandbits(40):010x}"


# ---------------------------------------------------------------------------------------------
# /proc: the webrtc.cgi processes of this instance (found by their executable's path, so that
# other servers on the machine are never counted).


def cgi_processes(executable):
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            if os.readlink(f"/proc/{name}/exe") == executable:
                found.append(int(name))
        except OSError:
            continue
    return found


def cpu_sample(pid):
    """(start time, CPU ns from schedstat, utime+stime ticks), or None when the process is
    gone. schedstat counts nanoseconds on the CPU; stat's utime+stime only whole ticks."""
    try:
        with open(f"/proc/{pid}/stat") as file:
            fields = file.read().rpartition(")")[2].split()
        with open(f"/proc/{pid}/schedstat") as file:
            ns = int(file.read().split()[0])
    except (OSError, ValueError, IndexError):
        return None
    # Fields after the command name start at field 3 (state): utime is 14, stime 15, start 22.
    return int(fields[19]), ns, int(fields[11]) + int(fields[12])


def machine_cpu():
    """(total jiffies, busy jiffies, runnable tasks) from /proc/stat."""
    with open("/proc/stat") as file:
        lines = file.read().splitlines()
    fields = [int(value) for value in lines[0].split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    running = next((int(line.split()[1]) for line in lines if line.startswith("procs_running")), 0)
    return sum(fields[:8]), sum(fields[:8]) - idle, running


def status_kib(pid, name):
    try:
        with open(f"/proc/{pid}/status") as file:
            for line in file:
                if line.startswith(name + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def wait_for_no_processes(executable, seconds):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not cgi_processes(executable):
            return True
        time.sleep(0.2)
    return False


# ---------------------------------------------------------------------------------------------
# 1. Cost of one request per mode, sequential, fresh connection each, against the floor.


def measure_request_cost(iterations, warmup):
    log(f"cost of one request: {iterations} rounds of floor, page, join, post, sse (+{warmup} warm-up)")
    samples = {mode: [] for mode in ("floor", "page", "join", "post", "sse")}
    unexpected = {mode: 0 for mode in samples}
    expected = {"floor": 200, "page": 200, "join": 200, "post": 202, "sse": 200}

    pair_room = unique("cost")
    sender = join(pair_room)
    recipient = join(pair_room)
    # The recipient acknowledges what it read (as a browser does with Last-Event-ID), so its
    # inbox stays as small as in a real call.
    last_id = 0
    join_room = None
    join_peers = []
    deadline = time.monotonic() + max(60.0, iterations * 0.2)

    for index in range(warmup + iterations):
        if time.monotonic() > deadline:
            log("cost of one request: time limit reached, stopping early")
            break
        counted = index >= warmup
        steps = ["floor", "page", "join", "post", "sse"]
        random.shuffle(steps)
        for mode in steps:
            if mode == "floor":
                result = http("GET", FLOOR_PATH)
            elif mode == "page":
                result = http("GET", api(f"room={pair_room}"))
            elif mode == "join":
                # Every other join is a room's first, the others a second: the two kinds of
                # join a call makes. Full rooms are left untimed afterwards.
                if join_room is None:
                    join_room = unique("cj")
                result = http("POST", api(f"mode=join&room={join_room}"))
                if result[0] == 200:
                    answer = json.loads(result[2])
                    join_peers.append({"room": join_room, "peer": answer["peer"],
                                       "token": answer["token"]})
            elif mode == "post":
                result = http("POST", api(f"mode=post&{creds(sender)}"),
                              message_body(recipient["peer"], index))
            else:
                result = http("GET", api(f"mode=sse&{creds(recipient)}&hold=0&last={last_id}"))
                ids = re.findall(rb"^id: (\d+)$", result[2], re.M)
                if ids:
                    last_id = int(ids[-1])
            if result[0] != expected[mode]:
                unexpected[mode] += 1
            if counted:
                samples[mode].append(result[3] * 1000.0)
        if len(join_peers) >= 2:
            for peer in join_peers:
                leave(peer)
            join_peers = []
            join_room = None
    for peer in join_peers + [sender, recipient]:
        leave(peer)

    results = {}
    floor = percentile(samples["floor"], 0.5)
    for mode, values in samples.items():
        entry = summary(values)
        entry["unexpected_status"] = unexpected[mode]
        entry["unit"] = "ms"
        if mode != "floor" and floor:
            entry["ratio_to_floor"] = entry["median"] / floor
        results[mode] = entry
    return results


# ---------------------------------------------------------------------------------------------
# Asynchronous HTTP for the concurrent measurements: event-stream readers and posts.


async def apost(path, body, timeout=15.0):
    data = request_bytes("POST", path, body)
    started = time.perf_counter()
    reader, writer = await asyncio.wait_for(asyncio.open_connection(HOST, PORT), timeout)
    try:
        writer.write(data)
        raw = b""
        while not response_complete(raw):
            part = await asyncio.wait_for(reader.read(65536), timeout)
            if not part:
                break
            raw += part
    finally:
        writer.close()
    elapsed = time.perf_counter() - started
    status = parse_response(raw)[0]
    return status, elapsed


class EventStream:
    """A peer's held event stream, reconnecting after `bye` with the last id it saw (as
    EventSource does) until stopped. `on_message(stream, id, payload, arrived)` is called as
    each message event arrives; `arrived` is time.perf_counter() when its bytes were read."""

    def __init__(self, peer, hold, on_message=None):
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
        path = api(f"mode=sse&{creds(self.peer)}&hold={self.hold}&last={self.last_id}")
        reader, writer = await asyncio.wait_for(asyncio.open_connection(HOST, PORT), 15)
        self.writer = writer
        self.connections += 1
        try:
            writer.write(request_bytes("GET", path, extra_headers=["Accept: text/event-stream"]))
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 15)
            status, headers, _ = parse_response(head)
            if status != 200:
                raise ValueError(f"event stream answered {status}")
            chunked = headers.get("transfer-encoding", "").lower() == "chunked"
            buffer = b""
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
                buffer += data
                while b"\n\n" in buffer:
                    block, buffer = buffer.split(b"\n\n", 1)
                    if self.event(block, arrived):
                        return
        finally:
            self.writer = None
            writer.close()

    def event(self, block, arrived):
        """Handles one event; returns True when the response is over."""
        name, event_id, data = "message", None, None
        for line in block.decode("utf-8", "replace").split("\n"):
            if line.startswith("event: "):
                name = line[7:]
            elif line.startswith("id: "):
                event_id = int(line[4:])
            elif line.startswith("data: "):
                data = line[6:]
        if name == "hello":
            self.ready.set()
        elif name == "bye":
            return True
        elif name == "gone":
            self.gone = True
            return True
        elif event_id is not None and data is not None:
            self.last_id = event_id
            if self.on_message:
                self.on_message(self, event_id, data, arrived)
        return False

    def stop(self):
        self.stopped = True
        if self.writer is not None:
            self.writer.close()


# ---------------------------------------------------------------------------------------------
# 2. Throughput of post with 4 concurrent clients (wrk), recipients reading as they go.


def start_child(command, **options):
    process = subprocess.Popen(command, start_new_session=True, **options)
    CHILDREN.add(process.pid)
    return process


def end_child(process):
    if process.poll() is None:
        try:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=5)
        except (OSError, subprocess.TimeoutExpired):
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except OSError:
                pass
            process.wait()
    CHILDREN.discard(process.pid)


def run_wrk(pairs, seconds, clients):
    specs = [f"{s['room']},{s['peer']},{s['token']},{r['peer']}" for s, r in pairs]
    command = [ARGS.wrk, f"-t{clients}", f"-c{clients}", f"-d{seconds}s", "--timeout", "10s",
               "-s", os.path.join(ARGS.here, "post.lua"), f"http://{HOST}:{PORT}{CGI_PATH}",
               "--"] + specs
    process = start_child(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        output, _ = process.communicate(timeout=seconds + 60)
    finally:
        end_child(process)
    return output


def parse_wrk(output):
    threads = []
    totals = {}
    for line in output.splitlines():
        if not line.startswith("BENCH "):
            continue
        fields = dict(item.split("=", 1) for item in line[6:].split())
        if "thread" in fields:
            threads.append(fields)
        else:
            totals = fields
    return threads, totals


async def throughput_round(seconds, clients, label):
    pairs = []
    for _ in range(clients):
        room = unique("tp")
        pairs.append((join(room), join(room)))
    received = {index: [] for index in range(clients)}

    def on_message(stream, _id, data, _arrived):
        message = json.loads(data)
        if message.get("type") == "bench":
            received[stream.sender_index].append(message["data"]["n"])

    readers = []
    deadline = time.monotonic() + seconds + 60
    for index, (_, recipient) in enumerate(pairs):
        # A short hold makes each reader reconnect with Last-Event-ID every few seconds, so
        # the inbox is acknowledged and compacted as a browser's is, and never grows without
        # bound during the run.
        stream = EventStream(recipient, hold=5, on_message=on_message)
        stream.sender_index = index
        readers.append(stream)
    tasks = [asyncio.ensure_future(stream.run(deadline)) for stream in readers]
    try:
        await asyncio.wait_for(asyncio.gather(*(s.ready.wait() for s in readers)), 20)
        log(f"throughput ({label}): wrk, {clients} clients, {seconds} s")
        output = await asyncio.get_running_loop().run_in_executor(
            None, run_wrk, pairs, seconds, clients)
        # Let the held streams deliver what was stored last, then collect what is left over
        # with one final read per recipient.
        await asyncio.sleep(1.5)
    finally:
        for stream in readers:
            stream.stop()
        await asyncio.gather(*tasks, return_exceptions=True)
    for index, (sender, recipient) in enumerate(pairs):
        status, _, body, _ = http(
            "GET", api(f"mode=sse&{creds(recipient)}&hold=0&last={readers[index].last_id}"))
        for block in body.split(b"\n\n"):
            for line in block.split(b"\n"):
                if line.startswith(b"data: "):
                    message = json.loads(line[6:])
                    if message.get("type") == "bench":
                        received[index].append(message["data"]["n"])
        leave(sender)
        leave(recipient)

    threads, totals = parse_wrk(output)
    if not totals:
        raise RuntimeError(f"wrk gave no result:\n{output}")
    accepted_total = rejected_total = lost = duplicated = in_flight = 0
    details = []
    for fields in threads:
        index = int(fields["thread"])
        responses = int(fields["responses"])
        rejected = {int(n) for n in fields.get("rejected_n", "").split(",") if n}
        answered = set(range(int(fields["first"]), int(fields["last"]) + 1)) if responses else set()
        accepted = answered - rejected
        if len(answered) != responses:
            log(f"throughput: client {index} answered {responses} but numbered {len(answered)}")
        got = received[index]
        got_set = set(got)
        accepted_total += len(accepted)
        rejected_total += len(rejected)
        lost += len(accepted - got_set)
        details.append({"client": index, "sent": int(fields["sent"]), "responses": responses,
                        "received": len(got), "missing": sorted(accepted - got_set)[:20],
                        "unanswered": sorted(got_set - accepted)[:20]})
        duplicated += len(got) - len(got_set)
        # Requests still in flight when wrk stopped may have been stored without an answer.
        in_flight += len(got_set - accepted)
    duration = int(totals["duration_us"]) / 1e6
    socket_errors = sum(int(totals[key]) for key in
                        ("connect", "read", "write", "timeout"))
    return {
        "clients": clients,
        "seconds": duration,
        "requests": int(totals["requests"]),
        "posts_per_second": int(totals["requests"]) / duration if duration else 0.0,
        "accepted": accepted_total,
        "rejected": rejected_total,
        "non_2xx": int(totals["status"]),
        "socket_errors": socket_errors,
        "lost": lost,
        "duplicated": duplicated,
        "stored_but_unanswered_at_stop": in_flight,
        "latency_ms": {"median": int(totals["p50"]) / 1000, "p90": int(totals["p90"]) / 1000,
                       "p99": int(totals["p99"]) / 1000, "runs": int(totals["requests"])},
        "reader_reconnects": sum(stream.connections for stream in readers),
        "reader_errors": sum(stream.errors for stream in readers),
        "per_client": details,
    }


def floor_throughput(seconds, clients):
    """Requests per second of the do-nothing CGI under the same load shape: what this server
    and machine can do at best, right now."""
    log(f"throughput (do-nothing CGI): wrk, {clients} clients, {seconds} s")
    command = [ARGS.wrk, f"-t{clients}", f"-c{clients}", f"-d{seconds}s", "--timeout", "10s",
               f"http://{HOST}:{PORT}{FLOOR_PATH}"]
    process = start_child(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        output, _ = process.communicate(timeout=seconds + 60)
    finally:
        end_child(process)
    match = re.search(r"Requests/sec:\s+([\d.]+)", output)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return {"requests_per_second": float(match.group(1)) if match else None,
            "non_2xx": int(errors.group(1)) if errors else 0, "clients": clients,
            "seconds": seconds}


def measure_throughput(seconds):
    asyncio.run(throughput_round(2, 4, "warm-up"))
    result = asyncio.run(throughput_round(seconds, 4, "4 rooms, one sender each"))
    result["floor"] = floor_throughput(max(3, seconds // 2), 4)
    if result["floor"]["requests_per_second"]:
        result["ratio_to_floor"] = result["posts_per_second"] / result["floor"]["requests_per_second"]
    return result


# ---------------------------------------------------------------------------------------------
# 3. Peak memory of one process per mode: the executable run directly as a CGI, as the web
# server's account, with the environment Apache gives it, under a tracer that reads VmHWM
# from /proc just before the process exits.


def cgi_environment(method, query, body_length=None):
    script = os.path.join(ARGS.instance, "cgi-bin", "webrtc.cgi")
    environment = {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "GATEWAY_INTERFACE": "CGI/1.1",
        "SERVER_SOFTWARE": "Apache",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "SERVER_NAME": HOST,
        "SERVER_ADDR": HOST,
        "SERVER_PORT": str(PORT),
        "REMOTE_ADDR": HOST,
        "REMOTE_PORT": "40000",
        "REQUEST_SCHEME": "http",
        "REQUEST_METHOD": method,
        "QUERY_STRING": query,
        "REQUEST_URI": f"{CGI_PATH}?{query}",
        "SCRIPT_NAME": CGI_PATH,
        "SCRIPT_FILENAME": script,
        "DOCUMENT_ROOT": os.path.join(ARGS.instance, "htdocs"),
        "HTTP_HOST": f"{HOST}:{PORT}",
        "HTTP_USER_AGENT": "webrtc-cgi-bench",
        "HTTP_ACCEPT": "*/*",
    }
    if body_length is not None:
        environment["CONTENT_LENGTH"] = str(body_length)
        environment["CONTENT_TYPE"] = "application/json"
    return environment


def run_cgi_direct(method, query, body=b"", tracer=None, wrapper=()):
    """Runs the instance's webrtc.cgi once as Apache would (same file, settings and data, as
    the server's account, in its folder). Returns (stdout, peak RSS KiB or None)."""
    script = os.path.join(ARGS.instance, "cgi-bin", "webrtc.cgi")
    environment = cgi_environment(method, query, len(body) if method == "POST" else None)
    with tempfile.NamedTemporaryFile(prefix="bench-rss-", delete=False) as report:
        report_path = report.name
    try:
        if tracer:
            command = [tracer, report_path, str(ARGS.run_uid), str(ARGS.run_gid), script]
        else:
            command = list(wrapper) + [script]
        completed = subprocess.run(command, input=body, env=environment, capture_output=True,
                                   cwd=os.path.dirname(script), timeout=30,
                                   **({} if tracer or os.getuid() != 0 else
                                      {"user": ARGS.run_uid, "group": ARGS.run_gid,
                                       "extra_groups": []}))
        peak = None
        if tracer:
            with open(report_path) as file:
                fields = file.read().split()
            peak = int(fields[1]) if len(fields) > 1 else None
        return completed.stdout, peak
    finally:
        os.unlink(report_path)


def direct_requests():
    """The four modes as direct invocations, with a room of two peers for them to act on."""
    room = unique("mem")
    sender = join(room)
    recipient = join(room)
    state = {"last": 0, "n": 0, "join_room": unique("mj"), "joined": []}

    def page():
        return ("GET", f"room={room}", b"")

    def join_request():
        return ("POST", f"mode=join&room={state['join_room']}", b"")

    def post():
        state["n"] += 1
        return ("POST", f"mode=post&{creds(sender)}", message_body(recipient["peer"], state["n"]))

    def sse():
        return ("GET", f"mode=sse&{creds(recipient)}&hold=0&last={state['last']}", b"")

    def after(mode, output):
        if mode == "sse":
            ids = re.findall(rb"^id: (\d+)$", output, re.M)
            if ids:
                state["last"] = int(ids[-1])
        if mode == "join":
            body = output.partition(b"\r\n\r\n")[2] or output.partition(b"\n\n")[2]
            try:
                answer = json.loads(body)
                state["joined"].append({"room": state["join_room"], "peer": answer["peer"],
                                        "token": answer["token"]})
            except ValueError:
                pass
            if len(state["joined"]) >= 2:
                for peer in state["joined"]:
                    leave(peer)
                state["joined"] = []
                state["join_room"] = unique("mj")

    def cleanup():
        for peer in state["joined"] + [sender, recipient]:
            leave(peer)

    return {"page": page, "join": join_request, "post": post, "sse": sse}, after, cleanup


def floor_peak_rss(runs):
    values = []
    for _ in range(runs):
        with tempfile.NamedTemporaryFile(prefix="bench-rss-", delete=False) as report:
            path = report.name
        try:
            subprocess.run([ARGS.peakrss, path, str(ARGS.run_uid), str(ARGS.run_gid),
                            ARGS.floor_binary], capture_output=True, timeout=10,
                           env={"PATH": "/usr/bin:/bin", "REQUEST_METHOD": "GET"})
            with open(path) as file:
                values.append(int(file.read().split()[1]))
        finally:
            os.unlink(path)
    return values


def measure_memory(runs):
    log(f"peak memory: {runs} direct runs per mode under the exit tracer")
    makers, after, cleanup = direct_requests()
    values = {mode: [] for mode in makers}
    try:
        for _ in range(runs):
            for mode, make in makers.items():
                method, query, body = make()
                output, peak = run_cgi_direct(method, query, body, tracer=ARGS.peakrss)
                after(mode, output)
                if peak and peak > 0:
                    values[mode].append(peak)
    finally:
        cleanup()
    results = {mode: dict(summary(kib), unit="KiB") for mode, kib in values.items()}
    results["floor"] = dict(summary(floor_peak_rss(min(runs, 10))), unit="KiB")
    return results


# ---------------------------------------------------------------------------------------------
# 4. Signaling latency: POST start to the recipient's held stream yielding the message, with
# 1, 10 and 30 rooms of two peers, all holding streams, messages flowing in every room.


async def latency_round(rooms, seconds, gap_ms, per_room_cap):
    peers = []
    for _ in range(rooms):
        room = unique("lat")
        peers.append((join(room), join(room)))

    sent = {}  # (room index, sequence) -> perf_counter at the POST's start
    latencies = []
    loop_lag = []
    round_start = time.perf_counter()
    slowest = []
    arrivals = {}
    post_ms = []
    failures = {"post_errors": 0, "not_delivered": 0, "post_status": 0}

    def on_message(stream, _id, data, arrived):
        message = json.loads(data)
        if message.get("type") != "bench":
            return
        key = (message["data"]["c"], message["data"]["n"])
        if key in sent and key not in arrivals:
            arrivals[key] = arrived
            latencies.append((arrived - sent[key]) * 1000.0)
            slowest.append((latencies[-1], sent[key] - round_start))
            waiter = waiting.pop(key, None)
            if waiter and not waiter.done():
                waiter.set_result(True)

    waiting = {}
    streams = []
    hold_deadline = time.monotonic() + seconds + 120
    for first, second in peers:
        streams.append(EventStream(first, hold=ARGS.hold_seconds, on_message=on_message))
        streams.append(EventStream(second, hold=ARGS.hold_seconds, on_message=on_message))
    tasks = [asyncio.ensure_future(stream.run(hold_deadline)) for stream in streams]
    loop = asyncio.get_running_loop()
    try:
        await asyncio.wait_for(asyncio.gather(*(s.ready.wait() for s in streams)), 30)

        async def room_loop(index, first, second):
            # Ping-pong inside the room, one message at a time (as a client sends its
            # messages in order), with a random pause so that rooms do not move in step.
            await asyncio.sleep(random.uniform(0, gap_ms / 1000.0))
            end = time.monotonic() + seconds
            number = 0
            while time.monotonic() < end and number < per_room_cap:
                number += 1
                sender, recipient = (first, second) if number % 2 else (second, first)
                key = (index, number)
                future = loop.create_future()
                waiting[key] = future
                sent[key] = time.perf_counter()
                try:
                    status, elapsed = await apost(api(f"mode=post&{creds(sender)}"),
                                                  message_body(recipient["peer"], number, index))
                    post_ms.append(elapsed * 1000.0)
                    if status != 202:
                        failures["post_status"] += 1
                except (OSError, asyncio.TimeoutError):
                    failures["post_errors"] += 1
                try:
                    await asyncio.wait_for(future, 5)
                except asyncio.TimeoutError:
                    failures["not_delivered"] += 1
                    waiting.pop(key, None)
                await asyncio.sleep(random.uniform(gap_ms * 0.5, gap_ms * 1.5) / 1000.0)

        async def cpu_monitor(end):
            # The whole machine's CPU use and run queue: on a shared machine, other work
            # competes with the server, and a busy second explains a slow one.
            previous = machine_cpu()
            while time.monotonic() < end:
                await asyncio.sleep(0.5)
                current = machine_cpu()
                total = current[0] - previous[0]
                if total > 0:
                    machine.append({"at_s": round(time.perf_counter() - round_start, 1),
                                    "busy_pct": round(100.0 * (current[1] - previous[1]) / total),
                                    "running": current[2]})
                previous = current

        machine = []
        cpu_task = asyncio.ensure_future(cpu_monitor(time.monotonic() + seconds))

        async def lag_monitor(end):
            # How late this driver's own event loop wakes up: a measured latency includes it.
            while time.monotonic() < end:
                before = time.perf_counter()
                await asyncio.sleep(0.01)
                loop_lag.append((time.perf_counter() - before - 0.01) * 1000.0)

        monitor = asyncio.ensure_future(lag_monitor(time.monotonic() + seconds))
        await asyncio.gather(*(room_loop(index, first, second)
                               for index, (first, second) in enumerate(peers)))
        await monitor
        await cpu_task
        # Memory of held streams that have carried messages for the whole round.
        held_kib = [kib for kib in (status_kib(pid, "VmHWM") for pid in
                                    cgi_processes(ARGS.executable)) if kib]
    finally:
        for stream in streams:
            stream.stop()
        await asyncio.gather(*tasks, return_exceptions=True)
        for first, second in peers:
            leave(first)
            leave(second)
    result = dict(summary(latencies), unit="ms")
    result.update(failures)
    result["rooms"] = rooms
    result["posts"] = len(sent)
    result["post_round_trip_ms"] = summary(post_ms)
    result["held_stream_reconnects"] = sum(s.connections for s in streams) - len(streams)
    result["held_peak_rss_kib"] = summary(held_kib)
    result["driver_loop_lag_ms"] = summary(loop_lag)
    result["machine_cpu_busy_pct"] = summary([m["busy_pct"] for m in machine])
    result["machine_samples"] = machine
    result["slowest"] = [{"ms": round(ms, 1), "at_s": round(at, 2)}
                         for ms, at in sorted(slowest, reverse=True)[:10]]
    return result


def measure_latency(seconds, gap_ms):
    results = {}
    for rooms in (1, 10, 30):
        log(f"signaling latency: {rooms} room(s) of 2 peers, {seconds} s, a message every "
            f"~{gap_ms} ms per room")
        results[str(rooms)] = asyncio.run(latency_round(rooms, seconds, gap_ms, 100_000))
        wait_for_no_processes(ARGS.executable, 15)
    return results


# ---------------------------------------------------------------------------------------------
# 5. Idle cost of held event streams, and their memory after 20 s.


async def idle_batch(peers, hold, window, rss_at):
    """Opens one held stream per peer, then measures CPU between `start` and `start + window`,
    inside the hold, so the request's start-up and its end are not counted (section 1
    measures those). Returns (cpu ns, ticks, process seconds, processes, VmHWM samples)."""
    streams = [EventStream(peer, hold=hold) for peer in peers]
    deadline = time.monotonic() + hold + 30
    tasks = [asyncio.ensure_future(stream.run(deadline)) for stream in streams]
    try:
        await asyncio.wait_for(asyncio.gather(*(s.ready.wait() for s in streams)), 30)
        opened = time.monotonic()
        await asyncio.sleep(1.0)
        pids = cgi_processes(ARGS.executable)
        before = {pid: cpu_sample(pid) for pid in pids}
        before = {pid: sample for pid, sample in before.items() if sample}
        started = time.monotonic()
        rss = []
        if rss_at is not None:
            await asyncio.sleep(max(0.0, opened + rss_at - time.monotonic()))
            rss = [kib for kib in (status_kib(pid, "VmHWM") for pid in before) if kib]
        await asyncio.sleep(max(0.0, started + window - time.monotonic()))
        after = {pid: cpu_sample(pid) for pid in before}
        elapsed = time.monotonic() - started
    finally:
        for stream in streams:
            stream.stop()
        await asyncio.gather(*tasks, return_exceptions=True)
    ns = ticks = counted = 0
    for pid, first in before.items():
        last = after.get(pid)
        if not last or last[0] != first[0]:
            continue  # ended during the window: not a held stream
        counted += 1
        ns += last[1] - first[1]
        ticks += last[2] - first[2]
    return ns, ticks, elapsed * counted, counted, rss


def measure_idle(connections, batches):
    log(f"idle cost: {connections} held streams, windows {batches}")
    wait_for_no_processes(ARGS.executable, 15)
    peers = []
    for _ in range(connections // 2):
        room = unique("idle")
        peers += [join(room), join(room)]
    total_ns = total_ticks = 0
    process_seconds = 0.0
    counts = []
    rss = []
    try:
        for hold, window, rss_at in batches:
            ns, ticks, seconds, counted, kib = asyncio.run(idle_batch(peers, hold, window, rss_at))
            total_ns += ns
            total_ticks += ticks
            process_seconds += seconds
            counts.append(counted)
            rss += kib
            wait_for_no_processes(ARGS.executable, hold + 15)
    finally:
        for peer in peers:
            leave(peer)
    tick = os.sysconf("SC_CLK_TCK")
    return {
        "connections": connections,
        "processes_measured": counts,
        "held_seconds_per_connection": process_seconds / max(1, max(counts or [1])),
        "cpu_percent_per_connection": 100.0 * total_ns / 1e9 / process_seconds if process_seconds else None,
        "cpu_percent_per_connection_ticks": 100.0 * total_ticks / tick / process_seconds if process_seconds else None,
        "cpu_ms_total": total_ns / 1e6,
        "held_peak_rss_kib": summary(rss),
    }


# ---------------------------------------------------------------------------------------------
# 6. Browser handshake in headless Chromium.


def measure_handshake(runs):
    log(f"browser handshake: {runs} runs (+1 warm-up) in headless Chromium")
    command = [ARGS.node, os.path.join(ARGS.here, "handshake.mjs"),
               f"http://{HOST}:{PORT}{CGI_PATH}", str(runs), ARGS.chromium]
    environment = dict(os.environ, NODE_PATH=ARGS.node_modules)
    process = start_child(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          env=environment, cwd=os.path.dirname(ARGS.node_modules))
    try:
        output, errors = process.communicate(timeout=60 + runs * 40)
    except subprocess.TimeoutExpired:
        output, errors = "", "timed out"
    finally:
        end_child(process)
    lines = [line for line in output.splitlines() if line.startswith("{")]
    if not lines:
        return {"error": (errors or output)[-2000:]}
    answer = json.loads(lines[-1])
    result = dict(summary(answer["ms"]), unit="ms")
    result["connected"] = answer["connected"]
    result["attempted"] = answer["attempted"]
    result["failures"] = answer.get("failures", [])
    result["from_load_event_ms"] = summary(answer.get("afterLoadMs", []))
    return result


# ---------------------------------------------------------------------------------------------
# The table.

PHP = {
    "cost": "17 ms", "throughput": "91/s", "rss": "20 MB", "latency": "up to 1 s",
    "handshake": "1.1-2.3 s",
}
C_CGI = {"cost": "1.7 ms", "throughput": "~800/s", "rss": "0.5 MB"}

MB = 1_000_000


def fmt_ms(value):
    if value is None:
        return "-"
    return f"{value:.2f} ms" if value < 100 else f"{value:.0f} ms"


def fmt_kib(value):
    return "-" if value is None else f"{value * 1024 / MB:.2f} MB"


def build_rows(results):
    """(label, median, p90, p99, runs, goal text, met or None, PHP, C CGI) for every figure,
    and the list of goals for the JSON."""
    rows = []
    goals = []

    def goal(name, text, met, value):
        goals.append({"goal": name, "target": text, "met": met, "value": value})
        return text, met

    cost = results.get("cost")
    if cost:
        floor = cost["floor"]
        rows.append(("request: do-nothing CGI (floor)", fmt_ms(floor["median"]),
                     fmt_ms(floor["p90"]), fmt_ms(floor["p99"]), floor["runs"], "reference",
                     None, "", C_CGI["cost"]))
        for mode, label in (("page", "request: page ?room=R"), ("join", "request: join"),
                            ("post", "request: post"), ("sse", "request: sse hold=0")):
            entry = cost[mode]
            ratio = entry["ratio_to_floor"]
            text, met = goal(f"cost of {mode} within 1.5x the floor", "<= 1.5x floor",
                             ratio <= 1.5, ratio)
            rows.append((f"{label}  ({ratio:.2f}x floor)", fmt_ms(entry["median"]),
                         fmt_ms(entry["p90"]), fmt_ms(entry["p99"]), entry["runs"], text, met,
                         PHP["cost"], ""))
    throughput = results.get("throughput")
    if throughput:
        rate = throughput["posts_per_second"]
        clean = throughput["lost"] == 0 and throughput["non_2xx"] == 0 and \
            throughput["socket_errors"] == 0
        text, met = goal("at least 600 posts/s, no errors, none lost", ">= 600/s, 0 err/lost",
                         rate >= 600 and clean, rate)
        latency = throughput["latency_ms"]
        floor_rate = throughput.get("floor", {}).get("requests_per_second")
        if floor_rate:
            rows.append(("requests/s, do-nothing CGI, 4 clients", f"{floor_rate:.0f}/s", "", "",
                         "", "reference", None, "", C_CGI["throughput"]))
        ratio = throughput.get("ratio_to_floor")
        rows.append((f"posts/s, 4 clients (err {throughput['non_2xx'] + throughput['socket_errors']},"
                     f" lost {throughput['lost']})", f"{rate:.0f}/s",
                     f"{ratio:.2f}x floor" if ratio else "", "", throughput["requests"],
                     text, met, PHP["throughput"], C_CGI["throughput"]))
        rows.append(("  post latency under that load", fmt_ms(latency["median"]),
                     fmt_ms(latency["p90"]), fmt_ms(latency["p99"]), latency["runs"], "", None,
                     "", ""))
    memory = results.get("memory")
    if memory:
        rows.append(("peak RSS: do-nothing CGI", fmt_kib(memory["floor"]["median"]),
                     fmt_kib(memory["floor"]["p90"]), fmt_kib(memory["floor"]["max"]),
                     memory["floor"]["runs"], "reference", None, "", C_CGI["rss"]))
        for mode in ("page", "join", "post", "sse"):
            entry = memory[mode]
            worst = entry["max"]
            text, met = goal(f"RSS of {mode} under 2 MB", "< 2 MB",
                             worst is not None and worst * 1024 < 2 * MB, worst)
            rows.append((f"peak RSS: {mode} (max in p99 col)", fmt_kib(entry["median"]),
                         fmt_kib(entry["p90"]), fmt_kib(entry["max"]), entry["runs"], text, met,
                         PHP["rss"], ""))
    idle = results.get("idle")
    if idle and idle.get("held_peak_rss_kib", {}).get("runs"):
        entry = idle["held_peak_rss_kib"]
        text, met = goal("RSS of a held stream after 20 s under 2 MB", "< 2 MB",
                         entry["max"] * 1024 < 2 * MB, entry["max"])
        rows.append(("peak RSS: held sse after 20 s", fmt_kib(entry["median"]),
                     fmt_kib(entry["p90"]), fmt_kib(entry["max"]), entry["runs"], text, met,
                     PHP["rss"], ""))
    latency = results.get("latency")
    if latency:
        for rooms, entry in latency.items():
            label = f"latency post->sse, {rooms} room{'s' if rooms != '1' else ''}"
            if entry.get("not_delivered") or entry.get("post_errors") or entry.get("post_status"):
                label += (f" (undelivered {entry['not_delivered']}, errors "
                          f"{entry['post_errors'] + entry['post_status']})")
            text, met = "", None
            if rooms == "30":
                met_value = (entry["median"] is not None and entry["median"] < 20
                             and entry["p99"] < 100 and entry["not_delivered"] == 0)
                text, met = goal("latency at 30 rooms: p50 < 20 ms, p99 < 100 ms",
                                 "p50<20 p99<100 ms", met_value,
                                 {"p50": entry["median"], "p99": entry["p99"]})
            rows.append((label, fmt_ms(entry["median"]), fmt_ms(entry["p90"]),
                         fmt_ms(entry["p99"]), entry["runs"], text, met, PHP["latency"], ""))
            trip = entry.get("post_round_trip_ms", {})
            if trip.get("runs"):
                rows.append(("  POST round trip, same rooms", fmt_ms(trip["median"]),
                             fmt_ms(trip["p90"]), fmt_ms(trip["p99"]), trip["runs"], "", None,
                             "", ""))
        last = latency.get("30") or list(latency.values())[-1]
        held = last.get("held_peak_rss_kib", {})
        if held.get("runs"):
            rows.append(("peak RSS: held sse carrying messages", fmt_kib(held["median"]),
                         fmt_kib(held["p90"]), fmt_kib(held["max"]), held["runs"], "", None,
                         "", ""))
    if idle:
        value = idle["cpu_percent_per_connection"]
        text, met = goal("idle held stream under 0.2% of a core", "< 0.2% core",
                         value is not None and value < 0.2, value)
        rows.append((f"idle CPU per held stream ({idle['connections']} held)",
                     f"{value:.3f}% core" if value is not None else "-", "", "",
                     f"{idle['held_seconds_per_connection']:.0f} s", text, met, "", ""))
    handshake = results.get("handshake")
    if handshake:
        if "error" in handshake:
            rows.append(("browser handshake", "failed", "", "", 0, "< 300 ms, all", False, "", ""))
            goals.append({"goal": "handshake", "met": False, "value": handshake["error"][:300]})
        else:
            # The issue names the time "from the second peer's page load" (its PHP figure:
            # "from the second peer's load"), so the goal is judged from the load event. The
            # stricter count from navigation start, which adds the page's own loading, is
            # shown beside it with its own mark.
            all_connected = handshake["connected"] == handshake["attempted"]
            after_load = handshake.get("from_load_event_ms", {})
            label = f"handshake 2 peers ({handshake['connected']}/{handshake['attempted']} connected)"
            if after_load.get("runs"):
                met_value = (after_load["median"] is not None and after_load["median"] < 300
                             and all_connected)
                text, met = goal("two-peer handshake median under 300 ms from the second page's "
                                 "load event, every run connects",
                                 "< 300 ms, all", met_value, after_load["median"])
                rows.append((label + ", from load", fmt_ms(after_load["median"]),
                             fmt_ms(after_load["p90"]), fmt_ms(after_load["p99"]),
                             after_load["runs"], text, met, PHP["handshake"], ""))
            strict_met = (handshake["median"] is not None and handshake["median"] < 300
                          and all_connected)
            text, met = goal("two-peer handshake median under 300 ms from the second page's "
                             "navigation start (stricter reading)",
                             "< 300 ms, all", strict_met, handshake["median"])
            rows.append(("  counted from navigation start", fmt_ms(handshake["median"]),
                         fmt_ms(handshake["p90"]), fmt_ms(handshake["p99"]), handshake["runs"],
                         text, met, "", ""))
    size = results.get("size")
    if size:
        text, met = goal("release binary under 1.5 MB", "< 1.5 MB", size["bytes"] < 1.5 * MB,
                         size["bytes"])
        rows.append(("release binary size", f"{size['bytes'] / MB:.2f} MB",
                     f"{size['bytes']} B", "", 1, text, met, "", ""))
    return rows, goals


def print_table(rows, meta):
    headers = ("measure", "median", "p90", "p99", "runs", "goal", "", "PHP original",
               "C CGI ref")
    cells = [headers] + [tuple("" if v is None else ("✓" if v is True else "✗" if v is False
                                                     else str(v)) for v in row) for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    out = []
    out.append(f"webrtc-cgi benchmark ({meta['run']} run, {meta['when']}, {meta['apache']}, "
               f"{meta['cpus']} cores, load before {meta['load_before']})")
    out.append("bench settings (webrtc.json): " + meta["settings_note"])
    if meta["server_note"]:
        out.append("server: " + meta["server_note"])
    out.append("")
    line = "  ".join(h.ljust(widths[i]) for i, h in enumerate(headers))
    out.append(line)
    out.append("-" * len(line))
    for row in cells[1:]:
        out.append("  ".join(cell.ljust(widths[i]) if i in (0, 5, 6, 7, 8) else
                             cell.rjust(widths[i]) for i, cell in enumerate(row)).rstrip())
    out.append("")
    for note in meta["notes"]:
        out.append(f"- {note}")
    print("\n".join(out), flush=True)


# ---------------------------------------------------------------------------------------------


def probe_streaming(url):
    """Whether the server passes a held event stream on as it is written: `hello` must arrive
    well before the end of a 3 s hold. Prints 'streams' or 'buffers'."""
    global PORT, CGI_PATH
    match = re.match(r"http://127\.0\.0\.1:(\d+)(/.*)$", url)
    PORT, CGI_PATH = int(match.group(1)), match.group(2)
    peer = join(unique("probe"))
    started = time.perf_counter()
    with socket.create_connection((HOST, PORT), timeout=10) as connection:
        connection.sendall(request_bytes("GET", api(f"mode=sse&{creds(peer)}&hold=3"),
                                         extra_headers=["Accept: text/event-stream"]))
        raw = b""
        while b"event: hello" not in raw:
            part = connection.recv(65536)
            if not part:
                break
            raw += part
    waited = time.perf_counter() - started
    leave(peer)
    print("streams" if waited < 1.5 else "buffers", f"{waited:.2f}")


def main():
    global ARGS, PORT, CGI_PATH, FLOOR_PATH
    if len(sys.argv) == 3 and sys.argv[1] == "--probe-streaming":
        return probe_streaming(sys.argv[2])
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True, help="the executable's URL on 127.0.0.1")
    parser.add_argument("--floor-url", required=True)
    parser.add_argument("--instance", required=True)
    parser.add_argument("--binary", required=True, help="the release artifact")
    parser.add_argument("--floor-binary", required=True)
    parser.add_argument("--peakrss", required=True)
    parser.add_argument("--wrk", required=True)
    parser.add_argument("--node", default="node")
    parser.add_argument("--node-modules", required=True)
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    parser.add_argument("--run-user", required=True)
    parser.add_argument("--hold-seconds", type=int, required=True)
    parser.add_argument("--settings-note", required=True)
    parser.add_argument("--server-note", default="")
    parser.add_argument("--apache", default="Apache")
    parser.add_argument("--out", required=True)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--only", default="cost,throughput,memory,latency,idle,handshake,size")
    ARGS = parser.parse_args()
    ARGS.here = os.path.dirname(os.path.abspath(__file__))
    ARGS.executable = os.path.join(ARGS.instance, "cgi-bin", "webrtc.cgi")
    import pwd
    account = pwd.getpwnam(ARGS.run_user)
    ARGS.run_uid, ARGS.run_gid = account.pw_uid, account.pw_gid

    match = re.match(r"http://127\.0\.0\.1:(\d+)(/.*)$", ARGS.url)
    if not match:
        raise SystemExit("the URL must be http://127.0.0.1:PORT/...")
    PORT, CGI_PATH = int(match.group(1)), match.group(2)
    FLOOR_PATH = re.match(r"http://127\.0\.0\.1:\d+(/.*)$", ARGS.floor_url).group(1)

    def interrupted(number, _frame):
        raise KeyboardInterrupt(f"signal {number}")

    signal.signal(signal.SIGTERM, interrupted)
    signal.signal(signal.SIGHUP, interrupted)

    quick = ARGS.quick
    plan = {
        "cost": {"iterations": 200 if quick else 1000, "warmup": 20 if quick else 50},
        "throughput": {"seconds": 5 if quick else 15},
        "memory": {"runs": 10 if quick else 30},
        "latency": {"seconds": 6 if quick else 20, "gap_ms": 100},
        # (hold, window, when to read VmHWM): 60 s of held time per connection in full runs
        # (hold_seconds is at most 50, so in two holds), 20 s in quick runs.
        "idle": {"connections": 30,
                 "batches": [(25, 21, 20)] if quick else [(50, 45, 20), (20, 15, None)]},
        "handshake": {"runs": 10 if quick else 20},
    }
    only = set(ARGS.only.split(","))
    results = {}
    load_before = os.getloadavg()[0]
    started = time.monotonic()
    try:
        if "size" in only:
            results["size"] = {"bytes": os.stat(ARGS.binary).st_size, "path": ARGS.binary}
        if "cost" in only:
            results["cost"] = measure_request_cost(**plan["cost"])
        if "memory" in only:
            results["memory"] = measure_memory(**plan["memory"])
        if "throughput" in only:
            results["throughput"] = measure_throughput(**plan["throughput"])
        if "latency" in only:
            results["latency"] = measure_latency(**plan["latency"])
        if "idle" in only:
            results["idle"] = measure_idle(**plan["idle"])
        if "handshake" in only:
            results["handshake"] = measure_handshake(**plan["handshake"])
    finally:
        for pid in list(CHILDREN):
            try:
                os.killpg(pid, signal.SIGKILL)
            except OSError:
                pass

    rows, goals = build_rows(results)
    meta = {
        "run": "quick" if quick else "full",
        "when": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "apache": ARGS.apache,
        "cpus": os.cpu_count(),
        "load_before": f"{load_before:.2f}",
        "load_after": f"{os.getloadavg()[0]:.2f}",
        "kernel": platform.release(),
        "seconds": round(time.monotonic() - started, 1),
        "settings_note": ARGS.settings_note,
        "server_note": ARGS.server_note,
        "plan": plan,
        "notes": [
            "request cost: sequential, a fresh TCP connection per request, timed from connect() "
            "to the end of the response; ratio = median / median of the do-nothing static C "
            "CGI under the same Apache, interleaved in random order.",
            "posts/s: wrk, 4 connections (keep-alive), each posting to its own 2-peer room; "
            "recipients read through held streams (hold 5 s, reconnecting with Last-Event-ID) "
            "and a final read; lost = answered 202 but never delivered.",
            "peak RSS: VmHWM of the webrtc.cgi process read at its exit (ptrace exit stop), run "
            "directly as a CGI with Apache's variables, as the server's account, on the same "
            "data; held streams: VmHWM from /proc of the processes Apache started.",
            "latency: POST start (before connect) to the recipient's held stream yielding the "
            "message; each room ping-pongs one message at a time with ~100 ms pauses.",
            "idle CPU: /proc/PID/schedstat run time of the held webrtc.cgi processes over "
            "windows inside their holds (start-up and end excluded), per connection, as % of "
            "one core; utime+stime ticks in the JSON as a cross-check.",
            "handshake: from the second peer's load event (goal judged on this; also shown from "
            "its navigation start) to both peers' remote tile data-state=connected "
            "(MutationObserver timestamps), one browser context per peer; one warm-up run not "
            "counted.",
            f"load average before {load_before:.2f}, after {os.getloadavg()[0]:.2f}: other "
            "work on the machine shows up in the figures.",
        ],
    }
    print_table(rows, meta)
    os.makedirs(os.path.dirname(ARGS.out), exist_ok=True)
    with open(ARGS.out + ".tmp", "w") as file:
        json.dump({"meta": meta, "goals": goals, "results": results}, file, indent=2)
        file.write("\n")
    # The previous run's figures stay beside the new ones, for comparison.
    if os.path.exists(ARGS.out):
        os.replace(ARGS.out, re.sub(r"\.json$", "", ARGS.out) + ".prev.json")
    os.replace(ARGS.out + ".tmp", ARGS.out)
    print(f"\nfigures written to {ARGS.out}", flush=True)


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        log("interrupted")
        sys.exit(130)
