"""Runs the suite against a real Forja server, started once per session from the built CLI."""

from __future__ import annotations

import os
import queue
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator, List

import forja
import httpx
import pytest

REPO = Path(__file__).resolve().parents[2]
ADMIN_PASSWORD = "secret-pass-for-tests"
ADMIN_TOKEN = "python-sdk-admin-token-0123456789"
BANNER = re.compile(r"Forja is running at (https?://\S+)")
START_TIMEOUT = 60.0
# Wheels the test servers' builds may install from (FORJA_WHEELHOUSE): builds run in the sandbox and
# see no other local path, so the SDK of this checkout reaches a batch environment as a wheel here.
WHEELHOUSE = Path(tempfile.mkdtemp(prefix="forja-wheelhouse-"))
# mkdtemp makes it private (0700); a root server's builds run as unprivileged users, who must read it.
WHEELHOUSE.chmod(0o755)
# One package cache for every test server, kept between runs (production's default is one per group).
UV_CACHE = os.environ.get("FORJA_UV_CACHE_DIR") or str(Path.home() / ".cache" / "forja-test-uv")


class Server:
    def __init__(self, url: str, output: List[str]) -> None:
        self.url = url
        self.output = output


def _pump(stream, lines: List[str], seen: "queue.Queue[str]") -> None:
    # Drains the pipe for the whole session: a full pipe would block the server's writes.
    for line in iter(stream.readline, ""):
        lines.append(line)
        seen.put(line)
    stream.close()


def _start(extra_env: dict) -> "tuple[subprocess.Popen, Server, str]":
    main_js = REPO / "cli" / "dist" / "main.js"
    if not main_js.exists():
        pytest.fail(f"{main_js} does not exist: build the server first with `npx tsc -b` in {REPO}", pytrace=False)
    node = shutil.which("node")
    if node is None:
        pytest.fail("`node` is not on PATH; the tests need Node 20+ to run the Forja server", pytrace=False)

    data_dir = tempfile.mkdtemp(prefix="forja-pytest-")
    env = {k: v for k, v in os.environ.items() if not k.startswith("FORJA_")}
    env.update(
        FORJA_DATA_DIR=data_dir,
        FORJA_PORT="0",
        FORJA_HOST="127.0.0.1",
        FORJA_ADMIN_PASSWORD=ADMIN_PASSWORD,
        FORJA_ADMIN_TOKEN=ADMIN_TOKEN,
        FORJA_LOG_LEVEL="warn",
        FORJA_WHEELHOUSE=str(WHEELHOUSE),
        FORJA_UV_CACHE_DIR=UV_CACHE,
        **extra_env,
    )
    proc = subprocess.Popen(
        [node, str(REPO / "cli" / "bin" / "forja.js"), "server"],
        cwd=str(REPO),
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        bufsize=1,
    )
    lines: List[str] = []
    seen: "queue.Queue[str]" = queue.Queue()
    threading.Thread(target=_pump, args=(proc.stdout, lines, seen), daemon=True).start()
    try:
        url = _wait_for_banner(proc, seen, lines)
        _wait_until_ready(proc, url, lines)
    except BaseException:
        _stop(proc)
        shutil.rmtree(data_dir, ignore_errors=True)
        raise
    return proc, Server(url, lines), data_dir


@pytest.fixture(scope="session")
def server() -> Iterator[Server]:
    proc, srv, data_dir = _start({})
    try:
        yield srv
    finally:
        _stop(proc)
        shutil.rmtree(data_dir, ignore_errors=True)


@contextmanager
def _fresh_pg_database(prefix: str) -> Iterator[str]:
    """A new database on the test cluster, dropped afterwards; yields its URL."""
    base = os.environ.get("FORJA_TEST_PG_URL")
    if not base:
        pytest.fail("FORJA_TEST_PG_URL is not set: `npm test` starts a PostgreSQL cluster and sets it", pytrace=False)
    import psycopg2

    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = psycopg2.connect(base)
    admin.autocommit = True
    admin.cursor().execute(f'CREATE DATABASE "{name}"')
    try:
        yield base.rsplit("/", 1)[0] + "/" + name
    finally:
        admin.cursor().execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


@contextmanager
def _server_with(extra_env: dict) -> Iterator[Server]:
    proc, srv, data_dir = _start(extra_env)
    try:
        yield srv
    finally:
        _stop(proc)
        shutil.rmtree(data_dir, ignore_errors=True)


@pytest.fixture(scope="session")
def pg_lake_server() -> Iterator[Server]:
    """A second server whose lake is PostgreSQL (a fresh database on the test cluster)."""
    with _fresh_pg_database("forja_pylake") as url, _server_with({"FORJA_LAKE_URL": url}) as srv:
        yield srv


@pytest.fixture(scope="session")
def pg_server() -> Iterator[Server]:
    """A server whose own database (tracking store, registry, users) is PostgreSQL, in a fresh database."""
    with _fresh_pg_database("forja_pydb") as url, _server_with({"FORJA_DATABASE_URL": url}) as srv:
        yield srv


@pytest.fixture(scope="module", autouse=True)
def _mlflow_fluent_state_reset() -> Iterator[None]:
    """MLflow's fluent API keeps the tracking URI and the active experiment in process globals: a
    module that set them must not leave them to the next (a start_run(run_id=…) there is refused
    when the run's experiment is not the active one)."""
    yield
    if "mlflow" in sys.modules:
        import mlflow
        from mlflow.tracking import fluent

        mlflow.set_tracking_uri(None)
        fluent._active_experiment_id = None


# A loaded machine (CI's two cores) can take minutes to start MLflow's server.
MLFLOW_START_TIMEOUT = 600.0


@dataclass
class RealMlflow:
    url: str
    log: Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def real_mlflow() -> Iterator[RealMlflow]:
    """The anchor of side-by-side tests: a real ``mlflow server`` (the version pinned in
    requirements-test.txt) on a free port with a temporary SQLite store, shared by the session (each
    test names its experiments and models uniquely, so modules do not see each other's); or
    the one already running at FORJA_TEST_MLFLOW_URL (a developer's, to skip a slow start)."""
    running = os.environ.get("FORJA_TEST_MLFLOW_URL")
    if running:
        yield RealMlflow(running.rstrip("/"), Path(os.devnull))
        return
    work = Path(tempfile.mkdtemp(prefix="mlflow-anchor-"))
    port = free_port()
    log = work / "server.log"
    # The developer's MLflow variables must not change what the server does; no background job
    # runner (GenAI jobs): it only takes CPU from the runs under test.
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
    env["MLFLOW_SERVER_ENABLE_JOB_EXECUTION"] = "false"
    with open(log, "w") as out:
        proc = subprocess.Popen(
            [
                sys.executable, "-m", "mlflow", "server",
                "--backend-store-uri", f"sqlite:///{work / 'mlflow.db'}",
                "--artifacts-destination", str(work / "artifacts"),
                "--host", "127.0.0.1", "--port", str(port),
                "--workers", "1",
            ],
            cwd=str(work), env=env, stdout=out, stderr=subprocess.STDOUT,
            # Its own process group: whatever the server starts stops with it.
            start_new_session=True,
        )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + MLFLOW_START_TIMEOUT
        while True:
            if proc.poll() is not None:
                pytest.fail(f"mlflow server exited with {proc.returncode}:\n{log.read_text()[-3000:]}", pytrace=False)
            try:
                if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"mlflow server did not answer /health within {MLFLOW_START_TIMEOUT:.0f}s:\n{log.read_text()[-3000:]}", pytrace=False)
            time.sleep(0.3)
        yield RealMlflow(url, log)
    finally:
        _stop_group(proc)
        shutil.rmtree(work, ignore_errors=True)


def _stop_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        pass
    except ProcessLookupError:
        return
    try:
        os.killpg(proc.pid, signal.SIGKILL)  # whatever of the group still runs
    except ProcessLookupError:
        pass
    proc.wait(timeout=5)


def _wait_for_banner(proc: subprocess.Popen, seen: "queue.Queue[str]", lines: List[str]) -> str:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        try:
            line = seen.get(timeout=0.2)
        except queue.Empty:
            if proc.poll() is not None:
                pytest.fail(f"forja server exited with {proc.returncode}:\n{''.join(lines)}", pytrace=False)
            continue
        match = BANNER.search(line)
        if match:
            return match.group(1)
    _stop(proc)
    pytest.fail(f"forja server printed no URL within {START_TIMEOUT:.0f}s:\n{''.join(lines)}", pytrace=False)
    raise AssertionError  # pytest.fail raises; this keeps type checkers content


def _wait_until_ready(proc: subprocess.Popen, url: str, lines: List[str]) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    last = "no answer"
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"forja server exited with {proc.returncode}:\n{''.join(lines)}", pytrace=False)
        try:
            r = httpx.get(f"{url}/ready", timeout=2)
            if r.status_code == 200:
                return
            last = f"HTTP {r.status_code}: {r.text[:200]}"
        except httpx.TransportError as err:
            last = repr(err)
        time.sleep(0.1)
    _stop(proc)
    pytest.fail(f"forja server at {url} never became ready ({last}):\n{''.join(lines)}", pytrace=False)


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=5)


@pytest.fixture(autouse=True)
def _no_forja_env(monkeypatch: pytest.MonkeyPatch) -> None:
    # The developer's own FORJA_* settings must not leak into what the tests configure.
    for name in ("FORJA_URL", "FORJA_TOKEN", "FORJA_GROUP"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def admin(server: Server) -> Iterator[forja.Client]:
    """A client acting as the bootstrap admin through FORJA_ADMIN_TOKEN."""
    with forja.Client(server.url, token=ADMIN_TOKEN) as client:
        yield client


def unique(prefix: str) -> str:
    """A name no other test uses: one server lives for the whole session."""
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


@dataclass
class TestUser:
    username: str
    password: str
    client: forja.Client  # logged in as this user

    __test__ = False  # not a test class, despite the name


@pytest.fixture
def new_user(server: Server, admin: forja.Client) -> Iterator[Callable[..., TestUser]]:
    """Creates users on demand, each with a client logged in as them."""
    opened: List[forja.Client] = []

    def make(prefix: str = "user") -> TestUser:
        username = unique(prefix)
        password = f"pw-{uuid.uuid4().hex}"
        admin.users.create(username, password)
        client = forja.Client(server.url)
        opened.append(client)
        client.login(username, password)
        return TestUser(username, password, client)

    yield make
    for client in opened:
        client.close()


class CountingTransport(httpx.BaseTransport):
    """Counts every attempt that reaches the network layer, then does the real HTTP call."""

    def __init__(self) -> None:
        self.requests: List[httpx.Request] = []
        self._inner = httpx.HTTPTransport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self._inner.handle_request(request)

    def close(self) -> None:
        self._inner.close()


@pytest.fixture
def counting() -> CountingTransport:
    return CountingTransport()
