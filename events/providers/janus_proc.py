"""Processes of the local Janus provider: per-node config, port blocks, start, find, stop,
and the GStreamer test studio.

Each node is one Janus process started as a daemon (`janus -b`: the parent returns once the
daemon is initialised, rc 1 on failure), so nodes outlive the worker that started them and
any worker can find them again: by the pid recorded in the database, checked against
/proc/<pid>/cmdline (which names the node's own config, so a reused pid is never mistaken
for it), and by scanning /proc for command lines under a webinar's folder (strays left by a
worker killed mid-start). A zombie counts as dead: orphans re-parented to an init that does
not reap them stay zombies, but hold no ports.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from events.providers.base import ProviderError

BLOCK = 10  # ports per node; the layout is in Ports
PLUGINS = "/usr/lib/x86_64-linux-gnu/janus"
# Everything but the HTTP transport and the VideoRoom and Streaming plugins is disabled:
# the Debian defaults would also open WebSockets and nanomsg and sample mountpoints.
_DISABLED_PLUGINS = ",".join(
    f"libjanus_{p}.so"
    for p in (
        "audiobridge", "duktape", "echotest", "lua", "nosip",
        "recordplay", "sip", "textroom", "videocall", "voicemail",
    )
)  # fmt: skip
_DISABLED_TRANSPORTS = ",".join(
    f"libjanus_{t}.so" for t in ("websockets", "pfunix", "nanomsg", "mqtt", "rabbitmq")
)


@dataclass(frozen=True)
class Ports:
    """A leased block: HTTP API, admin API, remote-publisher RTP and RTCP (origin, relay),
    mountpoint video and audio (edge, spare), and a small range Janus must be given for
    ICE and automatic mountpoint ports (unused: all media here is plain RTP)."""

    first: int

    @property
    def http(self) -> int:
        return self.first

    @property
    def admin(self) -> int:
        return self.first + 1

    @property
    def ingest(self) -> int:
        return self.first + 2

    @property
    def ingest_rtcp(self) -> int:
        return self.first + 3

    @property
    def video(self) -> int:
        return self.first + 4

    @property
    def audio(self) -> int:
        return self.first + 5

    @property
    def spare_range(self) -> str:
        return f"{self.first + 6}-{self.first + BLOCK - 1}"


def port_blocks(spec: str) -> tuple[int, int]:
    """`"20000-29999"` -> (first port, number of whole blocks)."""
    low, high = (int(x) for x in spec.split("-"))
    if not 1024 <= low < high <= 65535:
        raise ValueError(f"bad port range {spec!r}")
    return low, (high - low + 1) // BLOCK


def ports_free(ports: Ports) -> bool:
    """Whether nothing on this host (another checkout, another program) holds the block."""
    for port in range(ports.first, ports.first + BLOCK):
        for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
            with socket.socket(socket.AF_INET, kind) as sock:
                if kind == socket.SOCK_STREAM:
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                try:
                    sock.bind(("127.0.0.1", port))
                except OSError:
                    return False
    return True


def write_config(folder: Path, ports: Ports, *, name: str, admin_secret: str) -> Path:
    etc = folder / "etc"
    etc.mkdir(parents=True, exist_ok=True)
    (etc / "janus.jcfg").write_text(
        "general: {\n"
        f'  configs_folder = "{etc}"\n'
        f'  plugins_folder = "{PLUGINS}/plugins"\n'
        f'  transports_folder = "{PLUGINS}/transports"\n'
        f'  events_folder = "{PLUGINS}/events"\n'
        f'  loggers_folder = "{PLUGINS}/loggers"\n'
        "  log_to_stdout = false\n"
        f'  log_to_file = "{folder}/janus.log"\n'
        "  debug_level = 4\n"
        "  debug_colors = false\n"
        "  debug_timestamps = true\n"
        f'  admin_secret = "{admin_secret}"\n'
        f'  server_name = "{name}"\n'
        '  interface = "127.0.0.1"\n'
        "  session_timeout = 60\n"
        "}\n"
        f'media: {{\n  rtp_port_range = "{ports.spare_range}"\n}}\n'
        "nat: {\n  ignore_mdns = true\n}\n"
        f'plugins: {{\n  disable = "{_DISABLED_PLUGINS}"\n}}\n'
        f'transports: {{\n  disable = "{_DISABLED_TRANSPORTS}"\n}}\n'
        'loggers: {\n  disable = "libjanus_jsonlog.so"\n}\n'
        "events: {\n  broadcast = false\n}\n"
    )
    (etc / "janus.transport.http.jcfg").write_text(
        "general: {\n"
        '  json = "compact"\n  base_path = "/janus"\n  http = true\n'
        f'  port = {ports.http}\n  ip = "127.0.0.1"\n'
        "}\n"
        "admin: {\n"
        '  admin_base_path = "/admin"\n  admin_http = true\n'
        f'  admin_port = {ports.admin}\n  admin_ip = "127.0.0.1"\n'
        "}\n"
    )
    # Own ranges, and no sample mountpoints or rooms from the Debian defaults.
    (etc / "janus.plugin.streaming.jcfg").write_text(
        f'general: {{\n  rtp_port_range = "{ports.spare_range}"\n}}\n'
    )
    (etc / "janus.plugin.videoroom.jcfg").write_text("general: {\n}\n")
    return etc / "janus.jcfg"


def spawn_janus(binary: str, folder: Path, config: Path) -> int:
    """Start the daemon and return its pid once it is initialised."""
    pidfile = folder / "janus.pid"
    with open(folder / "stdout.log", "wb") as out:
        try:
            done = subprocess.run(  # noqa: S603 - fixed binary, our own paths
                [binary, "-b", "-C", str(config), "-F", str(config.parent), "-p", str(pidfile)],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                timeout=20,
                start_new_session=True,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise ProviderError(f"janus did not start: {exc}") from exc
    if done.returncode != 0:
        raise ProviderError(f"janus exited with {done.returncode}: {log_tail(folder)}")
    try:
        return int(pidfile.read_text().strip())
    except (OSError, ValueError) as exc:
        raise ProviderError("janus started but wrote no pid file") from exc


def log_tail(folder: Path, lines: int = 3) -> str:
    try:
        text = (folder / "janus.log").read_text(errors="replace").strip().splitlines()
    except OSError:
        return "no log"
    fatal = [line for line in text if "[FATAL]" in line or "[ERR]" in line]
    return " | ".join((fatal or text)[-lines:])[-400:]


def alive(pid: int | None, marker: str) -> bool:
    """Whether `pid` is running (not a zombie) with `marker` in its command line."""
    if not pid:
        return False
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
    except OSError:
        return False
    return stat.rsplit(")", 1)[-1].split()[0] not in ("Z", "X") and marker in cmdline


def find_processes(marker: str) -> list[int]:
    """Live processes whose command line mentions `marker` (a node or webinar folder)."""
    found = []
    for entry in Path("/proc").iterdir():
        pid = int(entry.name) if entry.name.isdigit() else 0
        if pid and pid != os.getpid() and alive(pid, marker):
            found.append(pid)
    return found


def stop(pid: int | None, marker: str, *, group: bool = False, grace: float = 3.0) -> bool:
    """SIGTERM, then SIGKILL after `grace` seconds; True once the process is gone."""
    if not alive(pid, marker):
        return True
    assert pid is not None
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 2.0)):
        if group:  # the studio's shell leads a group holding GStreamer
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pid, sig)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, sig)
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            if not alive(pid, marker):
                return True
            time.sleep(0.05)
    return not alive(pid, marker)


def nudge(pid: int | None, marker: str) -> None:
    """SIGTERM without waiting (many processes then stop side by side)."""
    if pid and alive(pid, marker):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGTERM)


def remove_folder(folder: Path) -> None:
    shutil.rmtree(folder, ignore_errors=True)


def start_studio(folder: Path, targets: list[int]) -> int:
    """A GStreamer test source (moving ball, tone) sending VP8 + Opus RTP to every target
    port, with the SSRCs a VideoRoom remote publisher expects (1000 + 10 x mindex). The
    wrapping shell carries the folder in its command line so the studio can be found
    again, and leads its own process group so stopping it stops GStreamer too."""
    folder.mkdir(parents=True, exist_ok=True)
    clients = ",".join(f"127.0.0.1:{port}" for port in targets)
    pipeline = [
        "videotestsrc", "is-live=true", "pattern=ball", "!",
        "video/x-raw,width=320,height=180,framerate=15/1", "!",
        "vp8enc", "deadline=1", "target-bitrate=300000", "keyframe-max-dist=30", "!",
        "rtpvp8pay", "pt=96", "ssrc=1000", "mtu=1200", "!",
        "multiudpsink", f"clients={clients}",
        "audiotestsrc", "is-live=true", "wave=sine", "!", "audioconvert", "!",
        "audioresample", "!", "opusenc", "!", "rtpopuspay", "pt=111", "ssrc=1010", "!",
        "multiudpsink", f"clients={clients}",
    ]  # fmt: skip
    with open(folder / "studio.log", "wb") as out:
        process = subprocess.Popen(  # noqa: S603
            ["/bin/sh", "-c", 'gst-launch-1.0 -q "$@"; :', str(folder / "studio"), *pipeline],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return process.pid


def ensure_studio(folder: Path, targets: list[int], *, enabled: bool) -> None:
    """One test studio per webinar, sending to exactly `targets`; restarted when they
    change (multiudpsink clients cannot be changed from outside), stopped when empty.
    Its pid and targets are kept in <webinar folder>/studio.json for the next worker."""
    record = folder / "studio.json"
    marker = f"{folder}/studio"
    try:
        current = json.loads(record.read_text())
    except (OSError, ValueError):
        current = {"pid": None, "targets": []}
    if alive(current["pid"], marker) and current["targets"] == targets:
        return
    for pid in {current["pid"], *find_processes(marker)} - {None}:
        stop(pid, marker, group=True)
    record.unlink(missing_ok=True)
    if targets and enabled:
        pid = start_studio(folder, targets)
        record.write_text(json.dumps({"pid": pid, "targets": targets}))
