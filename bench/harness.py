"""Shared bench plumbing: a throwaway database, a deployed linear process, users and tokens, a live server."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from engine import services  # noqa: E402
from engine.bootstrap import WorkflowEngine, bootstrap  # noqa: E402
from engine.catalog import load_catalog  # noqa: E402
from engine.config import Settings  # noqa: E402
from engine.migrate import upgrade  # noqa: E402
from engine.model import Actor  # noqa: E402

DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/postgres"
ADMIN = Actor("bench-admin", frozenset({"admin"}))


@contextmanager
def postgres_database(server_url: str = DEFAULT_POSTGRES) -> Iterator[str]:
    """A fresh database on the server, dropped afterwards."""
    name = f"cf_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(server_url.replace("postgresql://", "postgresql+psycopg://"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield f"{server_url.rsplit('/', 1)[0]}/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def prepared_engine(url: str, processes: Path, forms: Path) -> WorkflowEngine:
    """Migrate, bootstrap and deploy `processes` and `forms`."""
    upgrade(url)
    engine = bootstrap(Settings(database_url=url, processes_dir=processes, forms_dir=forms))
    services.deploy(engine, load_catalog(processes, forms, engine.settings.roles), ADMIN)
    return engine


def analyze(engine: WorkflowEngine) -> None:
    """Give PostgreSQL's planner statistics, as autovacuum does within a minute of a database's first writes.

    A throwaway database measured seconds after its creation has none: PostgreSQL then guesses, and took a task
    row by its primary key through a partial index of every open task (0.4 ms instead of 0.01 ms at 300 open).
    """
    if engine.db.dialect.name != "postgresql":
        return
    with engine.db.connect() as conn:
        conn.exec_driver_sql("ANALYZE")
        conn.commit()  # an uncommitted ANALYZE is rolled back


def free_port() -> int:
    """A TCP port nobody listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass(frozen=True)
class LiveServer:
    """A running gunicorn: its base URL and the master's process id (workers are its children)."""

    base: str
    pid: int


@contextmanager
def gunicorn_server(url: str, processes: Path, forms: Path, workers: int = 2, **options: Any) -> Iterator[LiveServer]:
    """Serve the app as `campusflow serve` does (web.server's production settings; `options` override them).

    The access log is off unless `options` asks for it (the benches print their own figures), and so is
    gunicorn's control socket (one fixed path per user: two servers at once would contend for it).
    """
    port = free_port()
    env = {**os.environ, "CAMPUSFLOW_DATABASE_URL": url, "CAMPUSFLOW_PROCESSES_DIR": str(processes),
           "CAMPUSFLOW_FORMS_DIR": str(forms), "CAMPUSFLOW_SECRET_KEY": "bench"}
    settings = {"accesslog": None, "loglevel": "warning", "control_socket_disable": True, **options}
    launcher = f"from web.server import serve; serve('127.0.0.1', {port}, {workers}, **{settings!r})"
    server = subprocess.Popen([sys.executable, "-c", launcher], cwd=ROOT, env=env, start_new_session=True)
    try:
        wait_for_port(port)
        yield LiveServer(f"http://127.0.0.1:{port}", server.pid)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


@contextmanager
def gunicorn(url: str, processes: Path, forms: Path, workers: int = 2, **options: Any) -> Iterator[str]:
    """Serve the app with gunicorn (see `gunicorn_server`); yields the base URL."""
    with gunicorn_server(url, processes, forms, workers, **options) as server:
        yield server.base


def wait_for_port(port: int, timeout: float = 30.0) -> None:
    """Block until something accepts connections on `port`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"nothing listens on port {port}")


def percentile(values: list[float], share: float) -> float:
    """The `share` (0..1) percentile of `values` (nearest rank)."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]
