"""`make run`'s launcher: the whole product comes up, and Ctrl-C leaves no orphans."""

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import psutil
import pytest
from django.db import connection

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_serve_starts_web_worker_beat_and_ctrl_c_stops_every_child(tmp_path, catalogue):
    db = connection.settings_dict
    web_port, stripe_port = _free_port(), _free_port()
    env = dict(os.environ)
    env.update(
        {
            "DATABASE_URL": f"postgresql://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
            "LOCAL_DATA_DIR": str(tmp_path),
            "STRIPE_EMULATOR_PORT": str(stripe_port),
            "SITE_URL": f"http://127.0.0.1:{web_port}",
            "DJANGO_SECRET_KEY": "test-only",
        }
    )
    env.pop("STRIPE_SECRET_KEY", None)
    launcher = subprocess.Popen(
        [sys.executable, "-m", "devtools.run", "serve", "--port", str(web_port), "--no-demo"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 90
        body = b""
        while time.monotonic() < deadline:
            try:
                body = urllib.request.urlopen(f"http://127.0.0.1:{web_port}/", timeout=2).read()
                break
            except OSError:
                assert launcher.poll() is None, launcher.stdout.read().decode()
                time.sleep(0.5)
        assert b"Mega Webinars" in body
        time.sleep(2)  # let worker and beat finish forking their pools
        descendants = psutil.Process(launcher.pid).children(recursive=True)
        names = " ".join(" ".join(p.cmdline()) for p in descendants)
        assert "runserver" in names and "worker" in names and "beat" in names
        assert "stripe_emulator" in names
        launcher.send_signal(signal.SIGINT)
        launcher.wait(timeout=60)
    finally:
        if launcher.poll() is None:
            os.killpg(launcher.pid, signal.SIGKILL)
    time.sleep(0.5)
    alive = [p for p in descendants if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
    assert alive == [], [p.cmdline() for p in alive]
