#!/usr/bin/env python3
"""Capture a scenario the way systemd-journald records a service, and render it with journalctl.

Usage (as root)::

    run_journald.py capture --version 0.19.0 --scenario tools/capture/scenarios/healthy-rotation.json \\
        --out fixtures/captured/hermes-0.19.0/healthy-rotation/journal
    run_journald.py render fixtures/captured/hermes-0.19.0/healthy-rotation/journal/plain
    run_journald.py two-host --out fixtures/captured/two-host/NAME --shift SECONDS A_DIR B_DIR

``capture`` runs the scenario twice, each time as ``run_scenario.py`` does (private network namespace,
fresh ``HERMES_HOME``, fake provider, its ``requests.log`` as ground truth), into ``<out>/plain/``
(``hermes chat -q …``) and ``<out>/verbose/`` (``hermes chat -q … -v``: logger records also go to
stderr). Each turn runs in its own PID namespace (``unshare -p -f --mount-proc``, as in a container, so
Hermes is PID 1) with stdout and stderr as pipes (not a TTY; ``PYTHONUNBUFFERED`` is not set) read by a
recorder that applies journald's stream rules and stamps each line when it arrives. The recorder writes
``hermes.export`` (Journal Export Format); ``render`` converts it with ``systemd-journal-remote`` and
writes ``journalctl --file … -o <mode>`` for every output mode into ``render/<mode>.txt``.

``two-host`` takes two ``hermes.export`` captures, gives the second one another host name and boot id
(and shifts its timestamps by ``--shift`` seconds so that the two runs are sequential or overlap), and
merges both with ONE ``systemd-journal-remote`` call.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import run_scenario  # noqa: E402

JOURNAL_REMOTE = os.environ.get("SYSTEMD_JOURNAL_REMOTE", "/lib/systemd/systemd-journal-remote")
LINE_MAX = 48 * 1024  # journald.conf LineMax= default
HOSTNAME = "hermes-gw-1"
UNIT = "hermes-gateway.service"
IDENTIFIER = "hermes"
# Every output mode of `journalctl --output=help` (systemd 252). All are deterministic for a given
# journal file except the cursor and the seqnum id (random per file), see README.md.
MODES = [
    "short", "short-full", "short-iso", "short-iso-precise", "short-precise", "short-monotonic",
    "short-delta", "short-unix", "verbose", "export", "json", "json-pretty", "json-sse", "json-seq",
    "cat", "with-unit",
]
WHITESPACE = b" \t\n\r\v\f"


def id128(*parts: str) -> str:
    """A reproducible 128-bit id (hex) for a boot or a stream."""
    return hashlib.md5("/".join(parts).encode()).hexdigest()


# --------------------------------------------------------------------------- recorder


class Stream:
    """One stdout/stderr stream connection, as journald's stdout_stream sees it."""

    def __init__(self, recorder: "Recorder", name: str, priority: int, stream_id: str):
        self.recorder = recorder
        self.name = name
        self.priority = priority
        self.stream_id = stream_id
        self.buf = b""
        self.raw: list[bytes] = []

    def feed(self, chunk: bytes) -> None:
        self.raw.append(chunk)
        self.buf += chunk
        while True:
            cut = [i for i in (self.buf.find(b"\n"), self.buf.find(b"\0")) if i >= 0]
            if cut:
                i = min(cut)
                line, brk = self.buf[:i], ("nul" if self.buf[i:i + 1] == b"\0" else None)
                self.buf = self.buf[i + 1:]
                self.line(line, brk)
            elif len(self.buf) >= LINE_MAX:
                line, self.buf = self.buf[:LINE_MAX], self.buf[LINE_MAX:]
                self.line(line, "line-max")
            else:
                return

    def eof(self) -> None:
        if self.buf:
            line, self.buf = self.buf, b""
            self.line(line, "eof")

    def line(self, line: bytes, brk: str | None) -> None:
        priority = self.priority
        # SyslogLevelPrefix=yes: a leading "<N>" sets the priority and is removed.
        if line.startswith(b"<"):
            end = line.find(b">", 1, 5)
            if end > 1 and line[1:end].isdigit():
                priority = int(line[1:end]) & 7
                line = line[end + 1:]
        line = line.rstrip(WHITESPACE)  # trailing whitespace and "\r" (terminal output)
        if not line:
            return  # empty lines are not logged
        self.recorder.add(self, line, priority, brk)


class Recorder:
    """Collects the entries of one service, stamping each line when it arrives."""

    def __init__(self, hostname: str, boot_id: str, comm: str, exe: str):
        self.hostname = hostname
        self.boot_id = boot_id
        self.comm = comm
        self.exe = exe
        self.entries: list[list[tuple[str, bytes]]] = []
        self.lock = threading.Lock()
        self.pid = 1

    def add(self, stream: Stream, message: bytes, priority: int, brk: str | None) -> None:
        with self.lock:
            realtime = time.time_ns() // 1000
            monotonic = time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
            fields = [
                ("__REALTIME_TIMESTAMP", str(realtime).encode()),
                ("__MONOTONIC_TIMESTAMP", str(monotonic).encode()),
                ("_BOOT_ID", self.boot_id.encode()),
                ("_TRANSPORT", b"stdout"),
                ("_STREAM_ID", stream.stream_id.encode()),
                ("PRIORITY", str(priority).encode()),
                ("SYSLOG_FACILITY", b"3"),
                ("SYSLOG_IDENTIFIER", IDENTIFIER.encode()),
                ("_PID", str(self.pid).encode()),
                ("_UID", b"0"),
                ("_GID", b"0"),
                ("_COMM", self.comm.encode()),
                ("_EXE", self.exe.encode()),
                ("_SYSTEMD_UNIT", UNIT.encode()),
                ("_HOSTNAME", self.hostname.encode()),
            ]
            if brk:
                fields.append(("_LINE_BREAK", brk.encode()))
            fields.append(("MESSAGE", message))
            self.entries.append(fields)

    def run(self, cmd: list[str], env: dict, cwd: Path, tag: str) -> tuple[int, str, str]:
        proc = subprocess.Popen(cmd, env=env, cwd=cwd, stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        # systemd gives the service's stdout and stderr their own stream connections here; the
        # stream priority is 6 (info) for stdout and 3 (err) for stderr.
        streams = [Stream(self, "stdout", 6, id128(self.hostname, tag, "stdout")),
                   Stream(self, "stderr", 3, id128(self.hostname, tag, "stderr"))]

        def pump(fd: int, stream: Stream) -> None:
            while True:
                chunk = os.read(fd, 65536)
                if not chunk:
                    stream.eof()
                    return
                stream.feed(chunk)

        threads = [threading.Thread(target=pump, args=(proc.stdout.fileno(), streams[0])),
                   threading.Thread(target=pump, args=(proc.stderr.fileno(), streams[1]))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        rc = proc.wait()
        return (rc, b"".join(streams[0].raw).decode(errors="replace"),
                b"".join(streams[1].raw).decode(errors="replace"))


def export_bytes(entries: list[list[tuple[str, bytes]]]) -> bytes:
    """Journal Export Format: FIELD=value lines, binary-safe form for values that need it."""
    out = bytearray()
    for fields in entries:
        for name, value in fields:
            text_ok = b"\n" not in value and all(b >= 0x20 or b == 0x09 for b in value)
            try:
                value.decode("utf-8")
            except UnicodeDecodeError:
                text_ok = False
            if text_ok:
                out += name.encode() + b"=" + value + b"\n"
            else:
                out += name.encode() + b"\n" + len(value).to_bytes(8, "little") + value + b"\n"
        out += b"\n"
    return bytes(out)


def parse_export(data: bytes) -> list[list[tuple[str, bytes]]]:
    entries, fields, i = [], [], 0
    while i < len(data):
        j = data.index(b"\n", i)
        line = data[i:j]
        if not line:
            if fields:
                entries.append(fields)
            fields, i = [], j + 1
            continue
        if b"=" in line:
            name, value = line.split(b"=", 1)
            fields.append((name.decode(), value))
            i = j + 1
        else:
            n = int.from_bytes(data[j + 1:j + 9], "little")
            fields.append((line.decode(), data[j + 9:j + 9 + n]))
            i = j + 9 + n + 1
    if fields:
        entries.append(fields)
    return entries


# --------------------------------------------------------------------------- capture


class JournaldRunner(run_scenario.Runner):
    def __init__(self, args, sc: dict):
        super().__init__(args, sc)
        self.mode = args.mode
        exe = os.path.realpath(self.venv / "bin" / "python")
        self.recorder = Recorder(args.hostname, id128("boot", args.hostname), "hermes", exe)

    def run_turn(self, n: int, query: str, timeout: int) -> subprocess.CompletedProcess:
        argv = [str(self.hermes), "chat", "-q", query] + (["-v"] if self.mode == "verbose" else [])
        # Hermes is the first process of a fresh PID namespace, as in a container.
        cmd = ["timeout", "--kill-after=10", str(timeout),
               "unshare", "-p", "-f", "--kill-child", "--mount-proc", "--", *argv]
        tag = f"{self.sc['name']}/{self.mode}/turn{n}"
        rc, out, err = self.recorder.run(cmd, self.env, self.home, tag)
        return subprocess.CompletedProcess(cmd, rc, out, err)

    def finish(self) -> None:
        (self.out / "hermes.export").write_bytes(export_bytes(self.recorder.entries))


def convert(exports: list[Path], journal: Path) -> None:
    if journal.exists():
        journal.unlink()
    subprocess.run([JOURNAL_REMOTE, "--split-mode=none", "-o", str(journal), *map(str, exports)],
                   check=True, capture_output=True)


def convert_live(exports: list[list[list[tuple[str, bytes]]]], journal: Path, tmp: Path) -> None:
    """ONE systemd-journal-remote reading several sources at once, as from hosts sending live: each
    source is a FIFO, and the entries are written in time order, one at a time, so the journal holds
    them in the order they would have arrived."""
    fifos = []
    for n in range(len(exports)):
        fifo = tmp / f"source-{n}.export"
        os.mkfifo(fifo)
        fifos.append(fifo)
    proc = subprocess.Popen([JOURNAL_REMOTE, "--split-mode=none", "-o", str(journal),
                             *map(str, fifos)], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    writers = [open(f, "wb") for f in fifos]  # in the order journal-remote opens them
    order = sorted(((int(dict(e)["__REALTIME_TIMESTAMP"]), n, i) for n, entries in enumerate(exports)
                    for i, e in enumerate(entries)))
    for _, n, i in order:
        writers[n].write(export_bytes([exports[n][i]]))
        writers[n].flush()
        time.sleep(0.003)
    for w in writers:
        w.close()
    _, err = proc.communicate(timeout=60)
    if proc.returncode != 0:
        raise SystemExit(f"systemd-journal-remote failed: {err.decode(errors='replace')}")


def render_journal(journal: Path, dest: Path, modes: list[str]) -> None:
    dest.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, TZ="UTC", LANG="C.UTF-8", LC_ALL="C.UTF-8", SYSTEMD_COLORS="0",
               SYSTEMD_PAGER="")
    version = subprocess.run(["journalctl", "--version"], capture_output=True, text=True, check=True)
    (dest / "SYSTEMD_VERSION").write_text(version.stdout.splitlines()[0] + "\n")
    for mode in modes:
        res = subprocess.run(["journalctl", "--file", str(journal), "--utc", "--no-pager", "-o", mode],
                             capture_output=True, env=env, check=True)
        (dest / f"{mode}.txt").write_bytes(res.stdout)


def render(capture: Path) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        journal = Path(tmp) / "hermes.journal"
        convert([capture / "hermes.export"], journal)
        render_journal(journal, capture / "render", MODES)


def cmd_capture(args) -> int:
    sc = run_scenario.json.loads(Path(args.scenario).read_text())
    if args.inside:
        subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
        return JournaldRunner(args, sc).run()
    if os.geteuid() != 0:
        raise SystemExit("needs root (unshare -n, unshare -p)")
    total = 120 + sum(int(sc.get("turn_timeout", 240)) + 30 for _ in sc["turns"])
    rc = 0
    for mode in args.modes.split(","):
        out = Path(args.out) / mode
        work = f"/tmp/hermes-capture/{args.version}/{sc['name']}-journal-{mode}"
        print(f"[{args.version}] {sc['name']} journal/{mode}", flush=True)
        cmd = ["timeout", "--kill-after=15", str(total), "unshare", "-n", "--", sys.executable,
               str(Path(__file__).resolve()), "capture", "--inside", "--mode", mode,
               "--version", args.version, "--scenario", args.scenario, "--out", str(out),
               "--venvs", args.venvs, "--work", work, "--hostname", args.hostname]
        r = subprocess.run(cmd).returncode
        if r == 0:
            render(out)
        rc = rc or r
    return rc


# --------------------------------------------------------------------------- two hosts


def cmd_two_host(args) -> int:
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    a = parse_export((Path(args.a) / "hermes.export").read_bytes())
    b = parse_export((Path(args.b) / "hermes.export").read_bytes())
    a_start = int(dict(a[0])["__REALTIME_TIMESTAMP"])
    b_start = int(dict(b[0])["__REALTIME_TIMESTAMP"])
    shift = a_start + int(args.shift * 1_000_000) - b_start
    host_b = args.hostname_b
    boot_b = id128("boot", host_b)
    moved = []
    for fields in b:
        new = []
        for name, value in fields:
            if name == "__REALTIME_TIMESTAMP":
                value = str(int(value) + shift).encode()
            elif name == "__MONOTONIC_TIMESTAMP":  # another machine, booted at another time
                value = str(int(value) - 3_600_000_000).encode()
            elif name == "_HOSTNAME":
                value = host_b.encode()
            elif name == "_BOOT_ID":
                value = boot_b.encode()
            elif name == "_STREAM_ID":
                value = id128(host_b, value.decode()).encode()
            new.append((name, value))
        moved.append(new)
    (out / "host-a.export").write_bytes(export_bytes(a))
    (out / "host-b.export").write_bytes(export_bytes(moved))
    with tempfile.TemporaryDirectory() as tmp:
        journal = Path(tmp) / "merged.journal"
        convert_live([a, moved], journal, Path(tmp))
        render_journal(journal, out / "render", ["short-iso", "json"])
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("capture", help="capture one scenario as journald records it")
    c.add_argument("--version", required=True)
    c.add_argument("--scenario", required=True)
    c.add_argument("--out", required=True, help="directory receiving plain/ and verbose/")
    c.add_argument("--modes", default="plain,verbose")
    c.add_argument("--venvs", default=str(run_scenario.DEFAULT_VENVS))
    c.add_argument("--hostname", default=HOSTNAME)
    c.add_argument("--work")
    c.add_argument("--mode", help=argparse.SUPPRESS)
    c.add_argument("--inside", action="store_true", help=argparse.SUPPRESS)
    r = sub.add_parser("render", help="(re)write render/<mode>.txt from hermes.export")
    r.add_argument("captures", nargs="+")
    t = sub.add_parser("two-host", help="merge two captures as two hosts with one journal-remote")
    t.add_argument("--out", required=True)
    t.add_argument("--shift", type=float, required=True,
                   help="seconds after the start of A at which B starts (negative or small: overlap)")
    t.add_argument("--hostname-b", default="hermes-gw-2")
    t.add_argument("a")
    t.add_argument("b")
    args = ap.parse_args()
    if args.cmd == "capture":
        return cmd_capture(args)
    if args.cmd == "render":
        for cap in args.captures:
            render(Path(cap))
        return 0
    return cmd_two_host(args)


if __name__ == "__main__":
    sys.exit(main())
