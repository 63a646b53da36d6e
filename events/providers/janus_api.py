"""A small client for Janus's HTTP API (core requests and plugin messages).

Janus answers every POST with HTTP 200; errors come in two shapes, both raised here as
JanusError: core errors (`{"janus": "error", "error": {"code", "reason"}}`) and plugin
errors inside a success (`plugindata.data.error_code`). Provisioned objects (rooms,
mountpoints, forwarders) belong to the plugin, not to the session, so each operation uses a
short session that is destroyed afterwards.
"""

from __future__ import annotations

import http.client
import json
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any
from urllib.parse import urlsplit

from events.providers.base import ProviderError

VIDEOROOM = "janus.plugin.videoroom"
STREAMING = "janus.plugin.streaming"


class JanusError(ProviderError):
    def __init__(self, message: str, code: int | None = None) -> None:
        super().__init__(message)
        self.code = code


class Handle:
    def __init__(self, client: JanusClient, url: str) -> None:
        self._client, self.url = client, url

    def request(self, body: dict[str, Any]) -> dict[str, Any]:
        """A synchronous plugin request; returns `plugindata.data`."""
        answer = self._client.post(self.url, {"janus": "message", "body": body})
        data = answer.get("plugindata", {}).get("data", {})
        if "error_code" in data:
            raise JanusError(f"{body.get('request')}: {data.get('error')}", data["error_code"])
        return data


class JanusClient:
    """JSON over one kept-alive loopback HTTP connection (the standard library's: the
    provider needs no HTTP package at run time)."""

    def __init__(self, base_url: str, *, timeout: float = 2.0) -> None:
        parts = urlsplit(base_url)
        self.base_url = base_url.rstrip("/")
        self._host, self._port = parts.hostname or "127.0.0.1", parts.port or 80
        self._path = parts.path.rstrip("/")
        self.timeout = timeout
        self._conn: http.client.HTTPConnection | None = None

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def _json(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        if self._conn is None:
            self._conn = http.client.HTTPConnection(self._host, self._port, timeout=self.timeout)
        payload = None if body is None else json.dumps(body).encode()
        headers = {"Content-Type": "application/json"} if payload else {}
        try:
            self._conn.request(method, path, body=payload, headers=headers)
            response = self._conn.getresponse()
            raw = response.read()
            if response.status != 200:
                raise JanusError(f"HTTP {response.status} from {path}")
            return json.loads(raw)
        except (OSError, http.client.HTTPException, ValueError) as exc:
            self.close()
            raise JanusError(f"not answering: {type(exc).__name__}") from exc

    def info(self) -> dict[str, Any]:
        """GET /info: liveness without a session; also lists the loaded plugins."""
        data = self._json("GET", f"{self._path}/info")
        if not isinstance(data, dict) or data.get("janus") != "server_info":
            raise JanusError("unexpected answer to /info")
        return data

    def post(self, url: str, body: dict[str, Any]) -> dict[str, Any]:
        path = self._path + url[len(self.base_url) :]
        answer = self._json("POST", path, dict(body, transaction=secrets.token_hex(6)))
        if not isinstance(answer, dict):
            raise JanusError("unexpected answer")
        if answer.get("janus") == "error":
            error = answer.get("error", {})
            raise JanusError(f"janus: {error.get('reason')}", error.get("code"))
        return answer

    @contextmanager
    def plugin(self, name: str) -> Iterator[Handle]:
        session = self.post(self.base_url, {"janus": "create"})["data"]["id"]
        session_url = f"{self.base_url}/{session}"
        try:
            handle = self.post(session_url, {"janus": "attach", "plugin": name})["data"]["id"]
            yield Handle(self, f"{session_url}/{handle}")
        finally:
            with suppress(ProviderError):
                self.post(session_url, {"janus": "destroy"})


# --- what the relay provider asks of each node -------------------------------------------

ROOM = PUBLISHER = MOUNTPOINT = 1  # one room or mountpoint per process
# mid, media type, payload type, SSRC: a remote publisher maps SSRC 1000 + 10 x mindex.
STREAMS = (("0", "video", 96, 1000), ("1", "audio", 111, 1010))


def await_info(client: JanusClient, timeout: float = 10.0) -> None:
    """Wait until a fresh process answers, with both plugins loaded."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            info = client.info()
            break
        except JanusError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.03)
    missing = {VIDEOROOM, STREAMING} - set(info.get("plugins", {}))
    if missing:
        raise JanusError(f"plugins not loaded: {sorted(missing)}")


def create_feed(client: JanusClient, *, secret: str, port: int, rtcp_port: int) -> None:
    """Origin and relay: a room whose remote publisher takes plain RTP on `port`."""
    streams = [
        {"type": "video", "mindex": 0, "mid": "0", "codec": "vp8"},
        {"type": "audio", "mindex": 1, "mid": "1", "codec": "opus"},
    ]
    with client.plugin(VIDEOROOM) as room:
        room.request(
            {"request": "create", "room": ROOM, "publishers": 4, "secret": secret}
            | {"videocodec": "vp8", "audiocodec": "opus"}
        )
        room.request(
            {"request": "add_remote_publisher", "room": ROOM, "secret": secret}
            | {"id": PUBLISHER, "display": "feed", "iface": "127.0.0.1"}
            | {"port": port, "rtcp_port": rtcp_port, "streams": streams}
        )


def create_mountpoint(
    client: JanusClient, *, name: str, secret: str, video: int, audio: int
) -> None:
    """Edge and spare: a Streaming RTP mountpoint on the two ports, loopback only."""
    media = [
        {"type": "video", "mid": "v", "port": video, "pt": 96, "codec": "vp8"},
        {"type": "audio", "mid": "a", "port": audio, "pt": 111, "codec": "opus"},
    ]
    with client.plugin(STREAMING) as streaming:
        streaming.request(
            {"request": "create", "type": "rtp", "id": MOUNTPOINT, "name": name}
            | {"secret": secret, "media": [m | {"iface": "127.0.0.1"} for m in media]}
        )


def check_engine(client: JanusClient, *, feed: bool) -> None:
    """Answers, has both plugins, and (origin, relay) still holds its remote publisher."""
    missing = {VIDEOROOM, STREAMING} - set(client.info().get("plugins", {}))
    if missing:
        raise JanusError(f"plugins not loaded: {sorted(missing)}")
    if feed:
        with client.plugin(VIDEOROOM) as room:
            people = room.request({"request": "listparticipants", "room": ROOM})
        if not any(p.get("id") == PUBLISHER for p in people.get("participants", [])):
            raise JanusError("the remote publisher is gone")


def media_age(handle: Handle, secret: str) -> int:
    """Milliseconds since the mountpoint's stalest medium last got a packet."""
    info = handle.request({"request": "info", "id": MOUNTPOINT, "secret": secret})["info"]
    ages = [int(m.get("age_ms", 1 << 30)) for m in info.get("media", [])]
    return max(ages) if ages else 1 << 30


def set_forwards(
    client: JanusClient, *, secret: str, targets: set[tuple[int, str]]
) -> tuple[int, int]:
    """Make the remote publisher's forwarders exactly `targets` ((port, media type) pairs);
    returns (added, removed). SSRCs are rewritten to 1000/1010 so a relay's remote
    publisher accepts them; a mountpoint takes any."""
    added = removed = 0
    with client.plugin(VIDEOROOM) as room:
        listed = room.request({"request": "listforwarders", "room": ROOM, "secret": secret})
        have: set[tuple[int, str]] = set()
        for publisher in listed.get("publishers", []):
            for forwarder in publisher.get("forwarders", []):
                target = (int(forwarder["port"]), forwarder["type"])
                if target in targets and target not in have:
                    have.add(target)
                    continue
                room.request(
                    {"request": "stop_rtp_forward", "room": ROOM, "secret": secret}
                    | {"publisher_id": PUBLISHER, "stream_id": forwarder["stream_id"]}
                )
                removed += 1
        missing = targets - have
        for port in sorted({p for p, _kind in missing}):
            streams = [
                {"mid": mid, "port": port, "pt": pt, "ssrc": ssrc}
                for mid, kind, pt, ssrc in STREAMS
                if (port, kind) in missing
            ]
            room.request(
                {"request": "rtp_forward", "room": ROOM, "secret": secret}
                | {"publisher_id": PUBLISHER, "host": "127.0.0.1", "streams": streams}
            )
            added += 1
    return added, removed
