"""Writes the release archives of webrtc-cgi: a zip and a tar.gz holding the same files, with
a SHA256SUMS inside and one for the archives beside them.

Every byte is fixed by the inputs: the files go in the order of `CONTENTS`, every timestamp is
SOURCE_DATE_EPOCH (the commit's time), the binary's mode is 755 and the rest 644, owner and
group are 0 with no names, and the gzip header holds no file name or clock time. It reads the
files it packs and writes only the three outputs; it builds nothing (scripts/package does).

    SOURCE_DATE_EPOCH=... python3 scripts/package.d/archive.py \
        --version 0.1.0 --binary target/dist/webrtc.cgi --out target/dist
"""

import argparse
import gzip
import hashlib
import io
import os
import stat
import sys
import tarfile
import time
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent.parent

# (name in the archive, where it comes from, mode). The binary comes first, as a reader of the
# listing looks for it; SHA256SUMS is added last, over everything before it.
CONTENTS = [
    ("webrtc.cgi", None, 0o755),
    (".htaccess", REPO / "scripts/deploy/.htaccess", 0o644),
    ("webrtc.example.json", REPO / "scripts/deploy/webrtc.example.json", 0o644),
    ("INSTALL.txt", REPO / "scripts/deploy/INSTALL.txt", 0o644),
    ("LICENSE", REPO / "LICENSE", 0o644),
]
SUMS_NAME = "SHA256SUMS"
# zip stores local time from 1980 on; an older epoch (never a real commit) is raised to it.
ZIP_EARLIEST = (1980, 1, 1, 0, 0, 0)


def sha256sums(files):
    """The `sha256sum` format, so that `sha256sum -c SHA256SUMS` checks it."""
    return "".join(f"{hashlib.sha256(data).hexdigest()}  {name}\n" for name, data, _ in files)


def zip_bytes(files, epoch):
    date_time = max(ZIP_EARLIEST, time.gmtime(epoch)[:6])
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data, mode in files:
            info = zipfile.ZipInfo(name, date_time)
            # Unix as the creator makes unzip (and cPanel's extractor) restore the mode.
            info.create_system = 3
            info.external_attr = (stat.S_IFREG | mode) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data, compresslevel=9)
    return buffer.getvalue()


def tar_gz_bytes(files, epoch):
    tar_buffer = io.BytesIO()
    with tarfile.open(fileobj=tar_buffer, mode="w", format=tarfile.USTAR_FORMAT) as archive:
        for name, data, mode in files:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mtime = epoch
            info.mode = mode
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            archive.addfile(info, io.BytesIO(data))
    gz_buffer = io.BytesIO()
    # An empty file name and the fixed mtime keep the gzip header the same on every run.
    with gzip.GzipFile(filename="", mode="wb", fileobj=gz_buffer, mtime=epoch, compresslevel=9) as out:
        out.write(tar_buffer.getvalue())
    return gz_buffer.getvalue()


def write_atomically(path, data):
    """A reader (or an upload step) never sees half an archive."""
    partial = path.with_name(path.name + ".partial")
    partial.write_bytes(data)
    os.replace(partial, path)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--version", required=True)
    parser.add_argument("--binary", required=True, type=Path)
    parser.add_argument("--out", required=True, type=Path)
    options = parser.parse_args()

    epoch_text = os.environ.get("SOURCE_DATE_EPOCH", "")
    if not epoch_text.isdigit():
        sys.exit(f"archive.py: SOURCE_DATE_EPOCH must be a number of seconds, not {epoch_text!r}")
    epoch = int(epoch_text)

    files = []
    for name, source, mode in CONTENTS:
        path = options.binary if source is None else source
        try:
            files.append((name, path.read_bytes(), mode))
        except OSError as error:
            sys.exit(f"archive.py: cannot read {name} from {path}: {error}")
    files.append((SUMS_NAME, sha256sums(files).encode(), 0o644))

    stem = f"webrtc-cgi-{options.version}-x86_64-linux"
    options.out.mkdir(parents=True, exist_ok=True)
    archives = [
        (f"{stem}.zip", zip_bytes(files, epoch), 0o644),
        (f"{stem}.tar.gz", tar_gz_bytes(files, epoch), 0o644),
    ]
    for name, data, _ in archives:
        write_atomically(options.out / name, data)
    write_atomically(options.out / SUMS_NAME, sha256sums(archives).encode())
    for name, data, _ in archives:
        print(f"{options.out / name}: {len(data)} bytes")
    print(f"{options.out / SUMS_NAME}")


if __name__ == "__main__":
    main()
