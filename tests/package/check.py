"""Tests the release archives that scripts/package writes, as a host user receives them.

    python3 tests/package/check.py

- Contents: both archives hold exactly the shipped files, in the shipped order, with the
  modes a host needs (755 for the program, 644 for the rest), the commit's timestamp and
  owner 0; the SHA256SUMS inside and beside them are right; the files are the repository's.
- Reproducibility: a second run gives the same bytes, and so does a build from a copy of the
  sources in another folder with a fresh target folder; the program names neither folder.
- The unpacked archive works: its webrtc.cgi names its build (--version), accepts the example
  settings renamed to webrtc.json, passes --check, and, served by the test Apache with its
  .htaccess, passes the end-to-end two-peer call and the self-check page's streaming test.

It starts Apache and Chromium (through tests/e2e), so run it alone, as scripts/test does. It
writes only target/dist (scripts/package's output) and temporary folders it removes.
"""

import hashlib
import io
import os
import re
import shutil
import stat
import subprocess
import sys
import tarfile
import tempfile
import time
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent.parent
DIST = REPO / "target/dist"
# What each archive must hold, in this order, with these modes; `None` is the built program.
EXPECTED = [
    ("webrtc.cgi", None, 0o755),
    (".htaccess", "scripts/deploy/.htaccess", 0o644),
    ("webrtc.example.json", "scripts/deploy/webrtc.example.json", 0o644),
    ("INSTALL.txt", "scripts/deploy/INSTALL.txt", 0o644),
    ("LICENSE", "LICENSE", 0o644),
    ("SHA256SUMS", None, 0o644),
]
# The end-to-end scenarios that the unpacked archive must pass.
E2E_FILES = ["tests/e2e/call.test.mjs", "tests/e2e/check.test.mjs"]
E2E_TESTS = "two peers in one room connect|finds streaming and a working data directory"


class Failure(Exception):
    pass


def check(condition, message):
    if not condition:
        raise Failure(message)


def run(command, cwd, env=None):
    """Runs a command; on failure, the error names it and shows its output."""
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise Failure(
            f"{' '.join(map(str, command))} (in {cwd}) exited with {done.returncode}\n"
            f"--- stdout\n{done.stdout}\n--- stderr\n{done.stderr}"
        )
    return done.stdout


class Package:
    """One scripts/package run's output: the binary, both archives, the outer SHA256SUMS."""

    def __init__(self, root, stdout):
        dist = root / "target/dist"
        self.root = root
        self.stdout = stdout
        self.binary = (dist / "webrtc.cgi").read_bytes()
        self.sums = (dist / "SHA256SUMS").read_bytes()
        self.archives = {}
        for path in sorted(dist.glob("webrtc-cgi-*-x86_64-linux.*")):
            if path.name.endswith((".zip", ".tar.gz")):
                self.archives[path.name] = path.read_bytes()

    def identity(self):
        """The build scripts/package announced: (version, commit, epoch)."""
        match = re.search(r"webrtc-cgi (\S+), commit (\S+), SOURCE_DATE_EPOCH (\d+)", self.stdout)
        check(match, f"scripts/package did not say what it built:\n{self.stdout}")
        return match.group(1), match.group(2), int(match.group(3))


def package(root, env=None):
    return Package(root, run([root / "scripts/package"], cwd=root, env=env))


def sha256(data):
    return hashlib.sha256(data).hexdigest()


def expected_sums(members):
    return "".join(f"{sha256(data)}  {name}\n" for name, data in members)


def zip_members(data, epoch):
    # zip stores time in 2-second steps.
    dated = time.gmtime(epoch - epoch % 2)[:6]
    members = []
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for info in archive.infolist():
            mode = info.external_attr >> 16
            check(info.create_system == 3, f"zip: {info.filename} is not marked as made on Unix, so unzip drops its mode")
            check(stat.S_ISREG(mode), f"zip: {info.filename} is not a plain file ({mode:o})")
            check(info.date_time == dated, f"zip: {info.filename} is dated {info.date_time}, not the commit's {dated}")
            members.append((info.filename, stat.S_IMODE(mode), archive.read(info)))
    return members


def tar_members(data, epoch):
    members = []
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as archive:
        for info in archive.getmembers():
            check(info.isfile(), f"tar: {info.name} is not a plain file")
            check((info.uid, info.gid) == (0, 0), f"tar: {info.name} belongs to {info.uid}:{info.gid}, not 0:0")
            check(info.uname == "" and info.gname == "", f"tar: {info.name} names {info.uname}:{info.gname}")
            check(info.mtime == epoch, f"tar: {info.name} is dated {info.mtime}, not the commit's {epoch}")
            members.append((info.name, info.mode, archive.extractfile(info).read()))
    # The gzip header's time must be the commit's too, and it must name no build file.
    check(data[:3] == b"\x1f\x8b\x08", "tar.gz: not gzip")
    check(int.from_bytes(data[4:8], "little") == epoch, "tar.gz: the gzip header holds another time than the commit's")
    check(data[3] & 0x08 == 0, "tar.gz: the gzip header holds a file name")
    return members


def check_contents(built):
    version, _, epoch = built.identity()
    stem = f"webrtc-cgi-{version}-x86_64-linux"
    check(
        sorted(built.archives) == sorted([f"{stem}.tar.gz", f"{stem}.zip"]),
        f"target/dist holds {sorted(built.archives)}, not the zip and tar.gz of {stem}",
    )
    outer = [(name, built.archives[name]) for name in (f"{stem}.zip", f"{stem}.tar.gz")]
    check(
        built.sums.decode() == expected_sums(outer),
        f"target/dist/SHA256SUMS does not match the archives:\n{built.sums.decode()}",
    )
    readers = {f"{stem}.zip": zip_members, f"{stem}.tar.gz": tar_members}
    for name, data in built.archives.items():
        members = readers[name](data, epoch)
        listing = [(member_name, mode) for member_name, mode, _ in members]
        check(
            listing == [(expected_name, mode) for expected_name, _, mode in EXPECTED],
            f"{name} holds {[(n, oct(m)) for n, m in listing]}",
        )
        contents = {member_name: body for member_name, _, body in members}
        check(contents["webrtc.cgi"] == built.binary, f"{name}: webrtc.cgi is not the built program")
        for member_name, source, _ in EXPECTED:
            if source is not None:
                check(
                    contents[member_name] == (REPO / source).read_bytes(),
                    f"{name}: {member_name} differs from {source}",
                )
        inner = [(member_name, body) for member_name, body in contents.items() if member_name != "SHA256SUMS"]
        check(
            contents["SHA256SUMS"].decode() == expected_sums(inner),
            f"{name}: its SHA256SUMS does not match its files:\n{contents['SHA256SUMS'].decode()}",
        )
    print(f"ok: contents, modes, timestamps and checksums of {', '.join(sorted(built.archives))}")


def check_no_build_paths(built, *folders):
    """Paths of the build machine would make builds differ and show where it was built."""
    for folder in folders:
        needle = str(folder).encode()
        check(needle not in built.binary, f"webrtc.cgi holds the build path {folder}")
    print(f"ok: webrtc.cgi holds none of {', '.join(map(str, folders))}")


def copy_sources(destination):
    """The files git would commit (tracked and new ones, not ignored ones), as they are now."""
    listing = run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=REPO)
    for name in sorted(set(filter(None, listing.split("\0")))):
        source = REPO / name
        if not source.is_file():
            continue  # deleted in the working tree, not yet committed
        target = destination / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target)


def check_reproducible(first, scratch):
    again = package(REPO)
    check(again.binary == first.binary, "a second scripts/package run built another binary")
    check(again.archives == first.archives, "a second scripts/package run wrote other archives")
    check(again.sums == first.sums, "a second scripts/package run wrote another SHA256SUMS")

    _, commit, epoch = first.identity()
    elsewhere = scratch / "another-folder/webrtc-cgi"
    copy_sources(elsewhere)
    # Its own target folder: everything is compiled again, from another path.
    env = {key: value for key, value in os.environ.items() if key != "CARGO_TARGET_DIR"}
    # The copy has no .git: it is told what git said for the first build.
    env.update(SOURCE_DATE_EPOCH=str(epoch), WEBRTC_CGI_COMMIT=commit)
    copied = package(elsewhere, env)
    check(copied.identity() == first.identity(), f"the copy built {copied.identity()}, not {first.identity()}")
    check(copied.binary == first.binary, f"a build in {elsewhere} gave another binary than in {REPO}")
    check(copied.archives == first.archives, f"a build in {elsewhere} gave other archives than in {REPO}")
    check(copied.sums == first.sums, f"a build in {elsewhere} gave another SHA256SUMS")
    check_no_build_paths(copied, elsewhere.resolve())
    print(f"ok: identical bytes from a second run and from a fresh build in another folder (sha256 {sha256(first.binary)[:16]}…)")


def unpack(built, destination):
    destination.mkdir()
    name = next(name for name in built.archives if name.endswith(".zip"))
    with zipfile.ZipFile(io.BytesIO(built.archives[name])) as archive:
        for info in archive.infolist():
            target = destination / info.filename
            target.write_bytes(archive.read(info))
            target.chmod(stat.S_IMODE(info.external_attr >> 16))
    return destination


def cgi_request(folder, query):
    """Runs the unpacked webrtc.cgi as a web server runs a CGI; returns (status, body)."""
    env = {
        "PATH": "/usr/bin:/bin",
        "GATEWAY_INTERFACE": "CGI/1.1",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REQUEST_METHOD": "GET",
        "QUERY_STRING": query,
        "SCRIPT_NAME": "/cgi-bin/webrtc.cgi",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTPS": "on",
    }
    done = subprocess.run([folder / "webrtc.cgi"], cwd=folder, env=env, capture_output=True, timeout=30)
    head, _, body = done.stdout.partition(b"\r\n\r\n")
    status = re.search(rb"^Status: (\d+)", head, re.MULTILINE)
    check(status, f"webrtc.cgi?{query} answered no status:\n{done.stdout[:500]!r}\n{done.stderr!r}")
    return int(status.group(1)), body.decode("utf-8", "replace")


def shell_run(folder, *args):
    """Runs the unpacked webrtc.cgi from a shell (no CGI variables) in its folder."""
    done = subprocess.run(
        [folder / "webrtc.cgi", *args], cwd=folder, env={"PATH": "/usr/bin:/bin"}, capture_output=True, text=True, timeout=30
    )
    return done.returncode, done.stdout, done.stderr


def check_unpacked_program(folder, identity):
    """INSTALL.txt's steps: rename webrtc.example.json to webrtc.json, open ?mode=check (here
    as a CGI run), and over SSH, --version and --check."""
    version, commit, _ = identity
    status, stdout, stderr = shell_run(folder, "--version")
    check(
        status == 0 and stdout.startswith(f"webrtc-cgi {version} (commit {commit}, client "),
        f"--version of the release names another build than {version}, {commit}: {status} {stdout!r} {stderr!r}",
    )
    (folder / "webrtc.example.json").rename(folder / "webrtc.json")
    try:
        status, body = cgi_request(folder, "mode=check")
        check(status == 200, f"the self-check with the renamed example answered {status}:\n{body[:2000]}")
        check("webrtc.json found and valid" in body, f"the self-check did not accept the renamed example:\n{body[:2000]}")
        check("writable, and locking works" in body, f"the self-check found no working data folder:\n{body[:2000]}")
        check(f"commit {commit}" in body, f"the self-check page does not name the build {commit}:\n{body[:2000]}")
        # Without DOCUMENT_ROOT the program cannot know the web root, so the data folder goes
        # beside it under an unguessable name.
        hidden = [entry for entry in folder.iterdir() if entry.is_dir() and entry.name.startswith("webrtc-data-")]
        check(len(hidden) == 1, f"the default data folder was not created beside webrtc.cgi: {sorted(folder.iterdir())}")
        status, stdout, stderr = shell_run(folder, "--check")
        for line in [
            "ok       Build: static",
            "ok       Settings: webrtc.json found and valid",
            "ok       Data directory: writable, and locking works",
        ]:
            check(status == 0 and line in stdout, f"--check of the release: {line!r} missing, or status {status}:\n{stdout}{stderr}")
    finally:
        for entry in folder.glob("webrtc-data*"):
            shutil.rmtree(entry, ignore_errors=True)
        (folder / "webrtc.json").rename(folder / "webrtc.example.json")
    print("ok: the unpacked webrtc.cgi names its build, accepts the renamed example, and passes --check")


def check_unpacked_call(folder):
    """The e2e harness serves WEBRTC_CGI_BIN with the repository's .htaccess; the archive's
    .htaccess is byte-identical to that one (checked above), so this serves the archive."""
    check(
        (folder / ".htaccess").read_bytes() == (REPO / "scripts/deploy/.htaccess").read_bytes(),
        "the unpacked .htaccess differs from the one the test Apache installs",
    )
    env = dict(os.environ, WEBRTC_CGI_BIN=str(folder / "webrtc.cgi"))
    output = run(
        ["node", "--test", "--test-concurrency=1", f"--test-name-pattern={E2E_TESTS}", *E2E_FILES],
        cwd=REPO,
        env=env,
    )
    passed = re.search(r"^# pass (\d+)$", output, re.MULTILINE)
    failed = re.search(r"^# fail (\d+)$", output, re.MULTILINE)
    # A pattern that matched nothing would "pass" by running no test at all.
    check(passed and int(passed.group(1)) >= 2 and failed and failed.group(1) == "0", f"end-to-end run:\n{output}")
    print(f"ok: the unpacked webrtc.cgi behind Apache: a two-peer call and the streaming self-check ({passed.group(1)} tests)")


def timed(action, *args):
    """Runs one check and says how long it took (the rebuild elsewhere dominates)."""
    started = time.monotonic()
    result = action(*args)
    print(f"   ({action.__name__}: {time.monotonic() - started:.0f} s)")
    return result


def main():
    # Each line as it happens: the run takes minutes, and its output usually goes to a pipe.
    sys.stdout.reconfigure(line_buffering=True)
    scratch = Path(tempfile.mkdtemp(prefix="webrtc-cgi-package-"))
    try:
        built = timed(package, REPO)
        print("built webrtc-cgi %s, commit %s, SOURCE_DATE_EPOCH %d" % built.identity())
        check_contents(built)
        cargo_home = Path(os.environ.get("CARGO_HOME", Path.home() / ".cargo")).resolve()
        check_no_build_paths(built, REPO.resolve(), cargo_home)
        timed(check_reproducible, built, scratch)
        folder = unpack(built, scratch / "unpacked")
        check_unpacked_program(folder, built.identity())
        timed(check_unpacked_call, folder)
    except Failure as failure:
        print(f"tests/package/check.py: FAILED: {failure}", file=sys.stderr)
        return 1
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    print("tests/package/check.py: all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
