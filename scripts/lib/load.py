"""A bounded load run of webrtc.cgi: rooms of peers that hold event streams open, post to one
another at a steady rate and leave and come back, then a check that no message was lost,
duplicated, torn or misrouted and that the data directory is empty again.

    scripts/load [--seconds N] [--rooms N] [--peers N] [--rate PER_SECOND] [--hold SECONDS]
                 [--binary PATH | --url URL [--data-dir DIR] | --apache]

By default it runs the executable itself as a CGI (one process per request, the request in
environment variables and stdin), built with `cargo build --release` unless --binary names
one. --url sends the same requests over HTTP to a loopback server (for example a local Apache);
--data-dir then names that server's data directory so its size can be measured. --apache
starts a private Apache with scripts/lib/apache.sh for the run and stops it afterwards.

Every peer acknowledges what it has read with Last-Event-ID, as a browser does. A leaving peer
closes its stream, reads what is pending with one last request and then leaves; a message
counts as lost when it was answered 202 before that last read began and never arrived.
Messages answered while the recipient was already leaving are counted apart: no client could
have read them.

The run is bounded in time (the given seconds plus at most a minute to wind down) and in
requests (--max-requests), talks to loopback only, and exits 0 only when nothing went wrong.

This module is the run itself (started through the scripts/load entry point); the CGI
environment, the answer and event-stream parsers and the percentile come from webrtc_client,
which scripts/bench shares.
"""

import argparse
import http.client
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

from webrtc_client import EventParser, cgi_environment, join_answer, parse_cgi_answer, percentile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}


class Budget:
    """Counts requests and refuses more once the cap is reached, so the run stays bounded."""

    def __init__(self, limit):
        self.limit = limit
        self.count = 0
        self.lock = threading.Lock()

    def take(self):
        with self.lock:
            if self.count >= self.limit:
                raise RuntimeError("request budget exhausted")
            self.count += 1


class CgiTransport:
    """Runs the executable once per request, as a web server runs a CGI."""

    def __init__(self, binary, settings_path, budget):
        self.binary = binary
        self.settings_path = settings_path
        self.budget = budget

    def environment(self, method, query, address, body, headers):
        return cgi_environment(
            method, query, "/cgi-bin/webrtc.cgi", remote_addr=address,
            body_length=len(body) if method == "POST" else None, headers=headers,
            extra={"WEBRTC_CGI_CONFIG": self.settings_path},
        )

    def request(self, method, query, address, body=b"", headers=None):
        self.budget.take()
        env = self.environment(method, query, address, body, headers or {})
        done = subprocess.run(
            [self.binary], input=body, env=env, capture_output=True, timeout=30, check=False
        )
        if done.returncode != 0:
            return 0, {}, done.stderr
        return parse_cgi_answer(done.stdout)

    def stream(self, query, address, headers):
        self.budget.take()
        env = self.environment("GET", query, address, b"", headers)
        return CgiStream(
            subprocess.Popen(
                [self.binary],
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
            )
        )


class CgiStream:
    def __init__(self, process):
        self.process = process
        self.status = 0
        head = b""
        while not head.endswith(b"\r\n\r\n"):
            line = process.stdout.readline()
            if not line:
                break
            head += line
        self.status, _, _ = parse_cgi_answer(head)

    def readline(self):
        return self.process.stdout.readline().decode("utf-8", "replace")

    def close(self):
        """Ends the response, like a browser closing the connection; safe from any thread."""
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()

    def release(self):
        """Frees the pipe; only the thread that reads the stream may call it."""
        self.process.stdout.close()


class HttpTransport:
    """Sends each request over a fresh loopback HTTP connection."""

    def __init__(self, url, budget):
        parsed = urllib.parse.urlsplit(url)
        if parsed.scheme != "http" or parsed.hostname not in LOOPBACK_HOSTS:
            sys.exit("scripts/load: --url must be an http:// URL on 127.0.0.1, localhost or ::1")
        self.host = parsed.hostname
        self.port = parsed.port or 80
        self.path = parsed.path
        self.budget = budget

    def connect(self):
        return http.client.HTTPConnection(self.host, self.port, timeout=60)

    def request(self, method, query, address, body=b"", headers=None):
        del address  # The server takes the address from the connection.
        self.budget.take()
        connection = self.connect()
        try:
            sent = dict(headers or {})
            if method == "POST":
                sent["Content-Type"] = "application/json"
            connection.request(method, f"{self.path}?{query}", body=body or None, headers=sent)
            response = connection.getresponse()
            data = response.read()
            return response.status, {k.lower(): v for k, v in response.getheaders()}, data
        except (OSError, http.client.HTTPException) as error:
            return 0, {}, str(error).encode()
        finally:
            connection.close()

    def stream(self, query, address, headers):
        del address
        self.budget.take()
        connection = self.connect()
        return HttpStream(connection, f"{self.path}?{query}", headers)


class HttpStream:
    def __init__(self, connection, target, headers):
        self.connection = connection
        self.response = None
        self.status = 0
        try:
            connection.request("GET", target, headers=headers)
            self.response = connection.getresponse()
            self.status = self.response.status
        except (OSError, http.client.HTTPException):
            self.status = 0

    def readline(self):
        if self.response is None:
            return ""
        try:
            return self.response.readline().decode("utf-8", "replace")
        except (OSError, http.client.HTTPException, ValueError, AttributeError):
            return ""

    def close(self):
        # Shutting the socket down wakes a reader blocked in another thread.
        sock = self.connection.sock
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self.connection.close()

    def release(self):
        pass


class Ledger:
    """Everything the clients saw, for the checks and figures at the end."""

    def __init__(self):
        self.lock = threading.Lock()
        self.errors = []
        # (sender, seq) -> {"to", "posted", "answered", "status"}
        self.posts = {}
        # recipient -> {(sender, seq): count}
        self.received = {}
        # recipient -> time its last read began (it was leaving)
        self.drained_at = {}
        self.latencies = []
        self.out_of_order = 0
        self.misrouted = 0
        self.torn = 0
        self.gone = 0
        self.joins = 0
        self.leaves = 0
        # Event-stream responses, and those of them the held-stream budget answered at once
        # (hello says hold 0): their clients poll instead, as a browser would.
        self.streams = 0
        self.unheld = 0

    def error(self, text):
        with self.lock:
            if len(self.errors) < 10_000:
                self.errors.append(text)


class Client:
    """One browser tab: joins a room, holds its event stream, posts, leaves and comes back."""

    def __init__(self, run, room, slot):
        self.run = run
        self.room = room
        # Each tab its own address, as in real use; the join limit is per address.
        self.address = f"10.{room // 250}.{room % 250}.{slot + 1}"
        self.room_name = f"load-{room:03d}"
        self.rng = random.Random(room * 100 + slot)
        self.peer = None
        self.token = None
        self.others = set()
        self.view_lock = threading.Lock()
        self.last_id = None
        self.seq = 0
        self.stream = None
        self.leaving = threading.Event()
        self.reader = None

    def credentials(self):
        return f"room={self.room_name}&peer={self.peer}&token={self.token}"

    def join(self):
        status, _, body = self.run.transport.request(
            "POST", f"mode=join&room={self.room_name}", self.address
        )
        if status != 200:
            self.run.ledger.error(f"join answered {status}: {body[:200]!r}")
            return False
        self.peer, self.token, others = join_answer(body)
        self.others = set(others)
        self.last_id = None
        self.seq = 0
        self.leaving.clear()
        with self.run.ledger.lock:
            self.run.ledger.joins += 1
            self.run.ledger.received.setdefault(self.peer, {})
        self.reader = threading.Thread(target=self.read_stream, daemon=True)
        self.reader.start()
        return True

    def handle_event(self, event_id, data_text):
        ledger = self.run.ledger
        try:
            data = json.loads(data_text)
        except ValueError:
            with ledger.lock:
                ledger.torn += 1
            ledger.error(f"torn event for {self.peer}: {data_text[:100]!r}")
            return
        if self.last_id is not None and event_id <= self.last_id:
            ledger.error(f"event ids went back for {self.peer}: {event_id} after {self.last_id}")
        self.last_id = event_id
        kind = data.get("type")
        sender = data.get("from")
        with self.view_lock:
            if kind == "join":
                self.others.add(sender)
                return
            if kind == "leave":
                self.others.discard(sender)
                return
        if kind != "load":
            ledger.error(f"unexpected event {data_text[:100]!r}")
            return
        seq = data["data"]["seq"]
        key = (sender, seq)
        now = time.monotonic()
        with ledger.lock:
            post = ledger.posts.get(key)
            if post is None or post["to"] != self.peer:
                ledger.misrouted += 1
            else:
                ledger.latencies.append(now - post["posted"])
            counts = ledger.received[self.peer]
            previous = max((s for (f, s) in counts if f == sender), default=-1)
            if seq < previous:
                ledger.out_of_order += 1
            counts[key] = counts.get(key, 0) + 1

    def consume(self, stream):
        """Reads events until the response ends; returns False if the peer is gone, and
        otherwise how long to wait before the next stream: the `retry` of a response the
        held-stream budget answered without a hold, as EventSource waits, else nothing."""
        parser = EventParser()
        wait = 0.0
        while True:
            line = stream.readline()
            if not line:
                return wait
            event = parser.line(line)
            if event is None:
                continue
            if event.name == "gone":
                return False
            if event.name == "hello":
                unheld = json.loads(event.data or "{}").get("hold") == 0
                with self.run.ledger.lock:
                    self.run.ledger.streams += 1
                    self.run.ledger.unheld += unheld
                if unheld:
                    wait = (event.retry or 1000) / 1000
            if event.is_message:
                self.handle_event(event.id, event.data)

    def open_stream(self, hold):
        headers = {}
        if self.last_id is not None:
            headers["Last-Event-ID"] = str(self.last_id)
        query = f"mode=sse&{self.credentials()}&hold={hold}"
        return self.run.transport.stream(query, self.address, headers)

    def read_stream(self):
        while not self.leaving.is_set() and not self.run.stopping.is_set():
            try:
                stream = self.open_stream(self.run.args.hold)
            except RuntimeError:
                return
            self.stream = stream
            if self.leaving.is_set():
                stream.close()
                stream.release()
                return
            if stream.status != 200:
                if not self.leaving.is_set():
                    self.run.ledger.error(f"sse answered {stream.status}")
                stream.close()
                stream.release()
                time.sleep(1)
                continue
            alive = self.consume(stream)
            stream.close()
            stream.release()
            if alive is False:
                if not self.leaving.is_set():
                    self.run.ledger.error(f"peer {self.peer} was removed while present")
                return
            self.leaving.wait(alive)

    def post_one(self):
        with self.view_lock:
            others = sorted(self.others)
        if not others:
            return
        to = self.rng.choice(others)
        seq = self.seq
        self.seq += 1
        body = json.dumps(
            {"to": to, "type": "load", "data": {"seq": seq, "pad": "x" * self.rng.randrange(400)}}
        ).encode()
        ledger = self.run.ledger
        key = (self.peer, seq)
        with ledger.lock:
            ledger.posts[key] = {"to": to, "posted": time.monotonic(), "status": None}
        status, _, answer = self.run.transport.request(
            "POST", f"mode=post&{self.credentials()}", self.address, body
        )
        with ledger.lock:
            ledger.posts[key]["status"] = status
            ledger.posts[key]["answered"] = time.monotonic()
            if status == 410:
                ledger.gone += 1
        if status not in (202, 410):
            ledger.error(f"post answered {status}: {answer[:200]!r}")
            if status == 429:
                time.sleep(2)

    def leave(self):
        """Closes the stream, reads what is pending, then leaves, as a closing tab would."""
        self.leaving.set()
        if self.stream is not None:
            self.stream.close()
        if self.reader is not None:
            self.reader.join(timeout=30)
        with self.run.ledger.lock:
            self.run.ledger.drained_at[self.peer] = time.monotonic()
        try:
            stream = self.open_stream(0)
        except RuntimeError:
            return
        if stream.status == 200:
            self.consume(stream)
        else:
            self.run.ledger.error(f"final read answered {stream.status}")
        stream.close()
        stream.release()
        status, _, body = self.run.transport.request(
            "POST", f"mode=leave&{self.credentials()}", self.address
        )
        if status != 200:
            self.run.ledger.error(f"leave answered {status}: {body[:200]!r}")
        with self.run.ledger.lock:
            self.run.ledger.leaves += 1

    def live(self):
        interval = 1.0 / self.run.args.rate
        # Spread the first posts so that the rooms do not all post in the same instant.
        time.sleep(self.rng.random() * interval)
        try:
            while not self.run.stopping.is_set():
                if self.peer is None and not self.join():
                    time.sleep(1)
                    continue
                started = time.monotonic()
                self.post_one()
                # About one leave per client every 40 seconds.
                if self.rng.random() < interval / 40:
                    self.leave()
                    self.peer = None
                    time.sleep(self.rng.uniform(0.5, 2))
                    continue
                time.sleep(max(0.0, interval - (time.monotonic() - started)))
            if self.peer is not None:
                self.leave()
        except RuntimeError as error:
            self.run.ledger.error(str(error))
            self.run.stopping.set()


def dir_size(path):
    total_bytes = 0
    files = 0
    for folder, _, names in os.walk(path):
        for name in names:
            try:
                total_bytes += os.lstat(os.path.join(folder, name)).st_size
                files += 1
            except OSError:
                pass
    return total_bytes, files


class Run:
    def __init__(self, args, transport, data_dir):
        self.args = args
        self.transport = transport
        self.data_dir = data_dir
        self.ledger = Ledger()
        self.stopping = threading.Event()
        self.peak = (0, 0)

    def watch_size(self, done):
        while not done.is_set():
            if self.data_dir and os.path.isdir(self.data_dir):
                size = dir_size(self.data_dir)
                self.peak = (max(self.peak[0], size[0]), max(self.peak[1], size[1]))
            done.wait(0.5)

    def go(self):
        clients = [Client(self, room, slot) for room in range(self.args.rooms) for slot in range(self.args.peers)]
        watcher_done = threading.Event()
        watcher = threading.Thread(target=self.watch_size, args=(watcher_done,), daemon=True)
        watcher.start()
        threads = [threading.Thread(target=client.live, daemon=True) for client in clients]
        started = time.monotonic()
        for thread in threads:
            thread.start()
        deadline = started + self.args.seconds
        while time.monotonic() < deadline and not self.stopping.is_set():
            time.sleep(0.2)
        self.stopping.set()
        wind_down = time.monotonic() + 60
        for thread in threads:
            thread.join(timeout=max(0.1, wind_down - time.monotonic()))
        stuck = sum(thread.is_alive() for thread in threads)
        if stuck:
            self.ledger.error(f"{stuck} clients did not finish within a minute of the end")
        for client in clients:
            if client.stream is not None:
                client.stream.close()
        watcher_done.set()
        watcher.join()
        return time.monotonic() - started

    def report(self, elapsed):
        ledger = self.ledger
        answered = {key: post for key, post in ledger.posts.items() if post["status"] == 202}
        lost = 0
        unreadable = 0
        for (sender, seq), post in answered.items():
            recipient = post["to"]
            count = ledger.received.get(recipient, {}).get((sender, seq), 0)
            if count:
                continue
            drained = ledger.drained_at.get(recipient)
            if drained is not None and post["answered"] >= drained:
                unreadable += 1
            else:
                lost += 1
        duplicated = sum(
            count - 1 for counts in ledger.received.values() for count in counts.values() if count > 1
        )
        delivered = sum(len(counts) for counts in ledger.received.values())
        final = dir_size(self.data_dir) if self.data_dir else None
        rooms_left = []
        if self.data_dir and os.path.isdir(os.path.join(self.data_dir, "rooms")):
            rooms_left = os.listdir(os.path.join(self.data_dir, "rooms"))
        latencies = [value * 1000 for value in ledger.latencies]

        def ms_text(value):
            return "-" if value is None else f"{value:.1f} ms"

        def size_text(size):
            return "n/a (no --data-dir)" if size is None else f"{size[0]} bytes in {size[1]} files"

        print(f"duration:            {elapsed:.1f} s, {self.args.rooms} rooms x {self.args.peers} peers, "
              f"hold {self.args.hold} s, {self.args.rate}/s per peer")
        print(f"requests:            {self.transport.budget.count} "
              f"({self.transport.budget.count / max(elapsed, 1e-9):.0f}/s)")
        print(f"joins / leaves:      {ledger.joins} / {ledger.leaves}")
        print(f"event streams:       {ledger.streams}, answered without a hold (budget): {ledger.unheld}")
        print(f"posts answered 202:  {len(answered)} (410 recipient gone: {ledger.gone})")
        print(f"delivered:           {delivered}")
        print(f"errors:              {len(ledger.errors)}")
        print(f"lost:                {lost}")
        print(f"duplicated:          {duplicated}")
        print(f"torn / misrouted / out of order: {ledger.torn} / {ledger.misrouted} / {ledger.out_of_order}")
        print(f"answered while the recipient was leaving (unreadable): {unreadable}")
        print(f"delivery latency:    p50 {ms_text(percentile(latencies, 0.5))}, "
              f"p99 {ms_text(percentile(latencies, 0.99))}, max {ms_text(max(latencies, default=None))}")
        print(f"peak data dir:       {size_text(self.peak if self.data_dir else None)}")
        print(f"final data dir:      {size_text(final)}; rooms left: {len(rooms_left)}")
        for text in ledger.errors[:10]:
            print(f"  error: {text}")
        if any("429" in text and "join" in text for text in ledger.errors) and self.args.url:
            print("  hint: behind a web server every client shares one address; raise "
                  "max_joins_per_minute in the site's webrtc.json for a load run")
        failed = (
            ledger.errors or lost or duplicated or ledger.torn or ledger.misrouted
            or ledger.out_of_order or rooms_left or len(answered) == 0
            # Near zero: no rooms, only the deny-all .htaccess, the sweep stamp and the
            # per-address join counters (a few bytes each) may stay.
            or (final is not None and final[0] > 64 * 1024)
        )
        print("result:              " + ("FAILED" if failed else "ok"))
        return 1 if failed else 0


def build_release():
    subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=ROOT, check=True)
    return os.path.join(ROOT, "target", "release", "webrtc-cgi")


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def settings_for(args, data_dir):
    return {
        "data_dir": data_dir,
        "hold_seconds": args.hold,
        "peer_timeout_seconds": max(30, args.hold + 10),
        "max_peers": max(6, args.peers + 1),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=120, help="length of the run (default 120)")
    parser.add_argument("--rooms", type=int, default=20)
    parser.add_argument("--peers", type=int, default=3, help="peers per room")
    parser.add_argument("--rate", type=float, default=2.0, help="posts per second per peer")
    parser.add_argument("--hold", type=int, default=5, help="hold_seconds of each event stream")
    parser.add_argument("--max-requests", type=int, default=200_000)
    target = parser.add_mutually_exclusive_group()
    target.add_argument("--binary", help="the executable to run as a CGI (default: a release build)")
    target.add_argument("--url", help="a loopback http:// URL of the executable behind a server")
    target.add_argument("--apache", action="store_true", help="start a private Apache for the run")
    parser.add_argument("--data-dir", help="with --url: the server's data directory, to measure")
    args = parser.parse_args()
    if not (0 < args.seconds <= 3600 and 1 <= args.rooms <= 200 and 2 <= args.peers <= 16
            and 0 < args.rate <= 20 and 0 <= args.hold <= 50):
        parser.error("out of the bounds this run allows")

    budget = Budget(args.max_requests)
    workdir = tempfile.mkdtemp(prefix="webrtc-load-")
    apache_dir = None
    try:
        if args.url:
            transport = HttpTransport(args.url, budget)
            data_dir = args.data_dir
        elif args.apache:
            subprocess.run([os.path.join(ROOT, "scripts", "build")], check=True)
            # Apache runs the executable as an unprivileged account, which must reach the
            # instance folder.
            os.chmod(workdir, 0o755)
            apache_dir = os.path.join(workdir, "apache")
            data_dir = os.path.join(apache_dir, "state", "webrtc-data")
            settings = settings_for(args, data_dir)
            # Every client reaches Apache from 127.0.0.1, so the per-address join limit must
            # allow the whole run's joins.
            settings["max_joins_per_minute"] = 100_000
            up = subprocess.run(
                [os.path.join(ROOT, "scripts", "lib", "apache.sh"), "up", "--dir", apache_dir,
                 "--port", str(free_port()), "--settings", json.dumps(settings)],
                check=False, capture_output=True, text=True,
            )
            if up.returncode != 0:
                sys.exit(f"scripts/load: Apache did not start:\n{up.stderr}")
            url = up.stdout.strip().splitlines()[-1]
            print(f"apache: {url}")
            args.url = url
            transport = HttpTransport(url, budget)
        else:
            binary = args.binary or build_release()
            data_dir = os.path.join(workdir, "data")
            settings_path = os.path.join(workdir, "webrtc.json")
            with open(settings_path, "w", encoding="utf-8") as file:
                json.dump(settings_for(args, data_dir), file)
            transport = CgiTransport(os.path.abspath(binary), settings_path, budget)
        run = Run(args, transport, data_dir)
        elapsed = run.go()
        return run.report(elapsed)
    finally:
        if apache_dir:
            subprocess.run([os.path.join(ROOT, "scripts", "lib", "apache.sh"), "down",
                            "--dir", apache_dir], check=False, capture_output=True)
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
