"""Fixtures of the relay-provider tests: a relay folder per session whose processes are all
stopped at the end (nothing outlives the session), unique webinar codes, a Redis client on
the suite's own database, and a moto server for the aws provider."""

import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from django.conf import settings

from events.providers import janus_proc
from events.ratelimit import redis_client
from webinars.models import CODE_ALPHABET


def new_code() -> str:
    return "W-" + "".join(secrets.choice(CODE_ALPHABET) for _ in range(8))


@pytest.fixture(scope="session")
def relay_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("relays")
    yield root
    for pid in janus_proc.find_processes(f"{root}/"):
        janus_proc.stop(pid, f"{root}/", group=True)
    leftovers = janus_proc.find_processes(f"{root}/")
    shutil.rmtree(root, ignore_errors=True)
    assert not leftovers, f"processes outlived the session: {leftovers}"


@pytest.fixture
def janus_installed():
    if not Path(settings.RELAY_JANUS_BINARY).exists() or not shutil.which("gst-launch-1.0"):
        if os.environ.get("CI") == "true":
            pytest.fail("CI=true: Janus and GStreamer must be installed (.ci/run does it)")
        pytest.skip(
            "Janus or GStreamer is not installed (apt-get install janus gstreamer1.0-tools)"
        )


@pytest.fixture
def code() -> str:
    """A fresh webinar code (providers key everything by it)."""
    return new_code()


@pytest.fixture
def janus(janus_installed, relay_root, settings, code):
    """The janus provider; `code`'s processes are torn down afterwards, leaving nothing."""
    from events.providers.janus import JanusProvider

    settings.RELAY_DATA_DIR = relay_root
    provider = JanusProvider()
    yield provider
    provider.teardown(code)
    assert provider.list_resources(code) == []


@pytest.fixture
def redis_conn():
    return redis_client()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def moto_server():
    """`moto_server` on a free loopback port for the whole session; made-up AMI ids work."""
    binary = Path(sys.executable).parent / "moto_server"
    port = _free_port()
    env = dict(os.environ, MOTO_EC2_LOAD_DEFAULT_AMIS="false")
    process = subprocess.Popen(
        [str(binary), "-H", "127.0.0.1", "-p", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            requests.get(f"{url}/moto-api/", timeout=1)
            break
        except requests.RequestException:
            if time.monotonic() > deadline or process.poll() is not None:
                process.kill()
                raise RuntimeError("moto_server did not start") from None
            time.sleep(0.2)
    yield url
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
