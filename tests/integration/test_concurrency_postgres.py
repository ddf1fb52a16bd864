"""Two actors complete the same task at the same moment: one wins, the other gets a conflict.

The PostgreSQL races use separate OS processes (and, over HTTP, two `campusflow serve` processes); they are
marked postgres_only and run in the PostgreSQL pass of the suite.
The SQLite race uses threads on one engine and always runs.
"""

from __future__ import annotations

import http.client
import json
import multiprocessing
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from builders import AUDITOR, ORGANISER, event_request

from engine import services
from engine.bootstrap import WorkflowEngine, bootstrap
from engine.catalog import load_catalog
from engine.config import Settings
from engine.errors import ConflictError
from engine.migrate import upgrade
from engine.model import Actor

ROOT = Path(__file__).resolve().parents[2]
ROUNDS = 10
APPROVE = {"decision": "approved"}
RACERS = (Actor("evan", frozenset({"events_office"})), Actor("eve", frozenset({"events_office"})))
_SCRIPT = shutil.which("campusflow", path=str(Path(sys.executable).parent)) or shutil.which("campusflow")
CAMPUSFLOW = [_SCRIPT] if _SCRIPT else [sys.executable, "-c", "import sys; from web.cli import main; sys.exit(main())"]
# Deselected in the SQLite pass (make test); run by the PostgreSQL pass (make test-postgres, CI).
requires_postgres = pytest.mark.postgres_only

Outcome = tuple[str, str]  # ("ok" | "conflict" | "error", detail)


def attempt(engine: WorkflowEngine, task_id: str, actor: Actor) -> Outcome:
    """Complete the review as `actor`; report how it went instead of raising."""
    try:
        services.complete_task(engine, task_id, APPROVE, actor)
        return "ok", actor.username
    except ConflictError as exc:
        return "conflict", type(exc).__name__
    except Exception as exc:  # noqa: BLE001 - any other failure is a finding, reported by the test
        return "error", f"{type(exc).__name__}: {exc}"


def open_review(engine: WorkflowEngine) -> tuple[int, str]:
    instance = services.start_instance(engine, "event_approval", event_request(), ORGANISER)
    (task,) = instance.open_tasks
    return instance.id, task.id


def run_after_completion(engine: WorkflowEngine, instance_id: int) -> list[tuple[str, str | None]]:
    """What the engine recorded from the task's completion on (reads of the case left out)."""
    history = services.instance_history(engine, instance_id, AUDITOR)
    start = next((i for i, e in enumerate(history) if e.type == "task_completed"), len(history))
    return [(e.type, e.element_id) for e in history[start:] if e.type != "document_viewed"]


def assert_each_race_had_one_winner(engine: WorkflowEngine, races: dict[tuple[int, str], list[Outcome]]) -> None:
    """One success per task; the engine ran on exactly as in an uncontested completion; an intact chain;
    and every loser got a conflict."""
    instance_id, task_id = open_review(engine)
    assert attempt(engine, task_id, RACERS[0])[0] == "ok"
    uncontested = services.get_instance(engine, instance_id, AUDITOR)
    expected_run = run_after_completion(engine, instance_id)
    assert [t for t, _ in expected_run].count("task_completed") == 1
    for (instance_id, task_id), outcomes in races.items():
        assert [kind for kind, _ in outcomes].count("ok") == 1, outcomes
        instance = services.get_instance(engine, instance_id, AUDITOR)
        assert (instance.status, instance.outcome.get("decision")) == (uncontested.status, "approved")
        assert task_id not in [t.id for t in instance.open_tasks]
        history = services.instance_history(engine, instance_id, AUDITOR)
        assert [e.details["task_id"] for e in history if e.type == "task_completed"] == [task_id]
        assert run_after_completion(engine, instance_id) == expected_run
    result = services.verify_audit(engine)
    assert (result.ok, result.first_bad) == (True, None), result.reason
    assert result.events == services.chain_head(engine)[0]
    losers = [outcome for outcomes in races.values() for outcome in outcomes if outcome[0] != "ok"]
    assert all(kind == "conflict" for kind, _ in losers), losers


# --- SQLite: two threads, one engine


@pytest.fixture
def sqlite_engine(tmp_path: Path) -> Iterator[WorkflowEngine]:
    """A deployed SQLite engine, whatever database the rest of the suite uses."""
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'race.db'}",
        processes_dir=ROOT / "processes",
        forms_dir=ROOT / "forms",
    )
    upgrade(settings.database_url)
    engine = bootstrap(settings)
    services.deploy(
        engine,
        load_catalog(settings.processes_dir, settings.forms_dir, settings.roles),
        Actor("admin", frozenset({"admin"})),
    )
    yield engine
    engine.db.dispose()


def test_two_threads_completing_the_same_task_on_sqlite_give_one_success_and_one_conflict(sqlite_engine):
    races: dict[tuple[int, str], list[Outcome]] = {}
    with ThreadPoolExecutor(max_workers=2) as pool:
        for _ in range(ROUNDS):
            instance_id, task_id = open_review(sqlite_engine)
            barrier = threading.Barrier(2)

            def go(actor: Actor, task_id: str = task_id, barrier: threading.Barrier = barrier) -> Outcome:
                barrier.wait(timeout=30)
                return attempt(sqlite_engine, task_id, actor)

            races[(instance_id, task_id)] = [f.result(timeout=60) for f in [pool.submit(go, a) for a in RACERS]]

    assert_each_race_had_one_winner(sqlite_engine, races)


# --- PostgreSQL: two OS processes through the service layer


def race_worker(
    database_url: str, actor: Actor, tasks: multiprocessing.Queue, results: multiprocessing.Queue, barrier: Any
) -> None:
    """Runs in a spawned process: for each task id received, wait for the other racer, then complete it."""
    engine = bootstrap(Settings(database_url=database_url))
    services.list_processes(engine, actor)  # warm the pinned-version cache so both start level
    try:
        for task_id in iter(tasks.get, None):
            barrier.wait(timeout=60)
            results.put((task_id, attempt(engine, task_id, actor)))
    finally:
        engine.db.dispose()


@pytest.fixture
def racers(deployed: WorkflowEngine) -> Iterator[tuple[list[multiprocessing.Queue], multiprocessing.Queue]]:
    """Two spawned processes on the test database, each with its own task queue; one shared result queue."""
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(2)
    results: multiprocessing.Queue = ctx.Queue()
    inboxes: list[multiprocessing.Queue] = [ctx.Queue() for _ in RACERS]
    workers = [
        ctx.Process(
            target=race_worker,
            args=(deployed.settings.database_url, actor, inbox, results, barrier),
            daemon=True,
        )
        for actor, inbox in zip(RACERS, inboxes, strict=True)
    ]
    for worker in workers:
        worker.start()
    yield inboxes, results
    for inbox in inboxes:
        inbox.put(None)
    for worker in workers:
        worker.join(timeout=30)
        if worker.is_alive():
            worker.terminate()
            worker.join(timeout=10)
    for q in (results, *inboxes):
        q.close()
        q.join_thread()


@pytest.mark.postgres
@requires_postgres
def test_two_processes_completing_the_same_task_give_one_success_and_one_conflict(deployed, racers):
    inboxes, results = racers
    races: dict[tuple[int, str], list[Outcome]] = {}
    for _ in range(ROUNDS):
        instance_id, task_id = open_review(deployed)
        for inbox in inboxes:
            inbox.put(task_id)
        outcomes = [results.get(timeout=120) for _ in RACERS]
        assert {t for t, _ in outcomes} == {task_id}
        races[(instance_id, task_id)] = [outcome for _, outcome in outcomes]

    assert_each_race_had_one_winner(deployed, races)


# --- PostgreSQL: two `campusflow serve` processes, two concurrent POST /complete


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def call(port: int, method: str, path: str, token: str | None = None, body: dict | None = None) -> tuple[int, dict]:  # type: ignore[type-arg]
    """One HTTP request straight to 127.0.0.1 (no proxies); returns the status and the JSON body."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        headers = {"Content-Type": "application/json"} if body is not None else {}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        conn.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers)
        response = conn.getresponse()
        payload = response.read()
        return response.status, json.loads(payload) if payload else {}
    finally:
        conn.close()


def wait_until_serving(port: int, server: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert server.poll() is None, f"campusflow serve exited with {server.returncode}:\n{log.read_text()}"
        try:
            call(port, "GET", "/api/v1/processes")
            return
        except OSError:
            time.sleep(0.2)
    pytest.fail(f"campusflow serve did not answer on port {port}:\n{log.read_text()}")


@pytest.fixture
def servers(deployed: WorkflowEngine, tmp_path: Path) -> Iterator[list[int]]:
    """Two threaded werkzeug servers (`campusflow serve`), each its own process, sharing the test database."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CAMPUSFLOW_", "FLASK_"))}
    env.update(CAMPUSFLOW_DATABASE_URL=deployed.settings.database_url, CAMPUSFLOW_SECRET_KEY="race-test")
    started: list[tuple[int, subprocess.Popen[bytes], Path]] = []
    try:
        for n in range(2):
            port, log = free_port(), tmp_path / f"server{n}.log"
            with log.open("wb") as out:
                server = subprocess.Popen(
                    [*CAMPUSFLOW, "serve", "--host", "127.0.0.1", "--port", str(port)],
                    cwd=tmp_path,
                    env=env,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                )
            started.append((port, server, log))
        for port, server, log in started:
            wait_until_serving(port, server, log)
        yield [port for port, _, _ in started]
    finally:
        for _, server, _ in started:
            server.terminate()
            try:
                server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait(timeout=15)


@pytest.mark.postgres
@requires_postgres
def test_two_servers_completing_the_same_task_answer_200_and_409(deployed, servers):
    tokens = []
    for actor in RACERS:
        services.add_user(deployed, actor.username, sorted(actor.roles))
        tokens.append(services.issue_token(deployed, actor.username))
    races: dict[tuple[int, str], list[Outcome]] = {}
    statuses = []
    with ThreadPoolExecutor(max_workers=2) as pool:
        for _ in range(ROUNDS):
            instance_id, task_id = open_review(deployed)
            barrier = threading.Barrier(2)

            def go(
                port: int, token: str, task_id: str = task_id, barrier: threading.Barrier = barrier
            ) -> tuple[int, dict]:  # type: ignore[type-arg]
                barrier.wait(timeout=30)
                return call(port, "POST", f"/api/v1/tasks/{task_id}/complete", token, {"data": APPROVE})

            answers = [
                f.result(timeout=120)
                for f in [pool.submit(go, port, token) for port, token in zip(servers, tokens, strict=True)]
            ]
            statuses.append(sorted(status for status, _ in answers))
            races[(instance_id, task_id)] = [
                ("ok", "")
                if status == 200
                else ("conflict", body["error"])
                if status == 409
                else ("error", f"{status} {body}")
                for status, body in answers
            ]
            (refusal,) = [body for status, body in answers if status != 200] or [{}]
            assert set(refusal) == {"error", "message", "fields"}, answers

    assert_each_race_had_one_winner(deployed, races)
    assert statuses == [[200, 409]] * ROUNDS
