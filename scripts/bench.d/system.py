"""What the bench reads of the machine and how it runs helpers: the webrtc.cgi processes of
this instance and their CPU and memory from /proc, the machine's CPU use, and `Children`, which
starts each helper (wrk, node, the tracer) in its own process group so it can be ended as a
whole, also when the driver is interrupted.

It never signals a process it did not start, and finds CGI processes only by the path of this
instance's executable, so other servers on the machine are never counted.
"""

import os
import signal
import subprocess
import time


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



class Children:
    """The helpers this driver started (by process group id), ended on the way out."""

    def __init__(self):
        self.groups = set()

    def start(self, command, **options):
        process = subprocess.Popen(command, start_new_session=True, **options)
        self.groups.add(process.pid)
        return process

    def end(self, process):
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
        self.groups.discard(process.pid)

    def end_all(self):
        for group in list(self.groups):
            try:
                os.killpg(group, signal.SIGKILL)
            except OSError:
                pass
        self.groups.clear()

    def run(self, command, timeout, **options):
        """Runs a helper to its end (or `timeout`), returning (stdout, stderr); either may be
        "" when it timed out."""
        process = self.start(command, **options)
        try:
            return process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            return "", "timed out"
        finally:
            self.end(process)
