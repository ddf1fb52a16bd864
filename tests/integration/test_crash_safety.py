"""Crash safety under load on PostgreSQL: web workers, the whole web server and the background worker are
killed with SIGKILL at random moments while clients start and complete requests; everything is restarted,
and afterwards no instance is inconsistent and no completion or notification is lost or duplicated."""

from __future__ import annotations

import http.client
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from engine import runtime, services
from engine.tables import AuditRecord, InstanceRecord, OutboxRecord, TaskRecord

ROOT = Path(__file__).resolve().parents[2]
CRASH = ROOT / "tests" / "fixtures" / "crash"
LOAD_SECONDS = 20
CLIENTS = 6
pytestmark = [pytest.mark.timeout(240), pytest.mark.postgres_only]


class Mailbox:
    """aiosmtpd handler: keeps every Message-ID received."""

    def __init__(self) -> None:
        self.message_ids: list[str] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        for line in envelope.content.decode("utf-8", "replace").splitlines():
            if line.lower().startswith("message-id:"):
                self.message_ids.append(line.split(":", 1)[1].strip())
        return "250 OK"


class Supervised:
    """A child process we can kill with SIGKILL and start again."""

    def __init__(self, args: list[str], env: dict[str, str]) -> None:
        self.args, self.env, self.process = args, env, None
        self.start()

    def start(self) -> None:
        self.process = subprocess.Popen(self.args, cwd=ROOT, env=self.env, start_new_session=True,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def kill(self) -> None:
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def kill_one_child(self) -> bool:
        """SIGKILL one gunicorn worker (the master starts a new one)."""
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        pids = [int(p) for p in children.read_text().split()] if children.exists() else []
        if not pids:
            return False
        os.kill(random.choice(pids), signal.SIGKILL)
        return True


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _request(port: int, method: str, path: str, token: str, body: dict | None = None) -> tuple[int, dict]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request(method, path, body=json.dumps(body) if body is not None else None,
                           headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
        response = connection.getresponse()
        return response.status, json.loads(response.read() or b"{}")
    finally:
        connection.close()


def _client(port: int, token: str, stop: float, acknowledged: list[str], started: list[int]) -> None:
    """Start flows and complete their steps, retrying through crashes; record every 200 it was given."""
    while time.monotonic() < stop:
        try:
            status, view = _request(port, "POST", "/api/v1/processes/crash_flow/instances", token, {"data": {}})
            if status != 201:
                time.sleep(0.2)
                continue
            started.append(view["id"])
            for _ in range(2):
                task_id = _next_task(port, token, view["id"], stop)
                if task_id is None:
                    break
                _complete(port, token, task_id, stop, acknowledged)
        except OSError:
            time.sleep(0.3)  # the server is down: try again


def _next_task(port: int, token: str, instance_id: int, stop: float) -> str | None:
    while time.monotonic() < stop + 10:
        try:
            status, view = _request(port, "GET", f"/api/v1/instances/{instance_id}", token)
            if status == 200 and view["open_tasks"]:
                return view["open_tasks"][0]["id"]
            if status == 200 and view["status"] != "running":
                return None
        except OSError:
            pass
        time.sleep(0.3)
    return None


def _complete(port: int, token: str, task_id: str, stop: float, acknowledged: list[str]) -> None:
    while time.monotonic() < stop + 10:
        try:
            status, _ = _request(port, "POST", f"/api/v1/tasks/{task_id}/complete", token, {"data": {"note": "x"}})
        except OSError:
            time.sleep(0.3)
            continue  # unknown outcome: ask again (a repeat gets 409 if the first one landed)
        if status == 200:
            acknowledged.append(task_id)
        if status in (200, 409):
            return
        time.sleep(0.3)


def test_killing_web_and_worker_processes_loses_and_duplicates_nothing(engine):
    if engine.db.dialect.name != "postgresql":
        pytest.fail("this test needs PostgreSQL: run it with CAMPUSFLOW_TEST_POSTGRES_URL set (make test-postgres)")
    services.deploy(engine, services_catalog(engine), _admin())
    services.add_user(engine, "sec", ["security"], password="pw-123456", email="security@example.ac.uk")
    tokens = []
    for i in range(CLIENTS):
        services.add_user(engine, f"c{i}", ["organiser", "events_office"], password="pw-123456")
        tokens.append(services.issue_token(engine, f"c{i}"))
    mailbox = Mailbox()
    smtp = Controller(mailbox, hostname="127.0.0.1", port=_free_port())
    smtp.start()
    port = _free_port()
    env = {**os.environ, "CAMPUSFLOW_DATABASE_URL": engine.settings.database_url, "CAMPUSFLOW_SECRET_KEY": "x",
           "CAMPUSFLOW_SMTP_URL": f"smtp://127.0.0.1:{smtp.port}"}
    web = Supervised([sys.executable, "-m", "gunicorn", "-w", "2", "-b", f"127.0.0.1:{port}", "web:create_app()"], env)
    worker = Supervised([sys.executable, "-c", "from web.cli import main; main()", "worker", "--interval", "0.2"], env)
    acknowledged: list[str] = []
    started: list[int] = []
    stop = time.monotonic() + LOAD_SECONDS
    clients = [threading.Thread(target=_client, args=(port, t, stop, acknowledged, started)) for t in tokens]
    kills = Counter()
    try:
        for thread in clients:
            thread.start()
        rng = random.Random(7)
        while time.monotonic() < stop:
            time.sleep(rng.uniform(0.5, 1.5))
            victim = rng.choice(("web worker", "web worker", "web server", "background worker"))
            if victim == "web worker" and web.kill_one_child():
                kills[victim] += 1
            elif victim == "web server":
                web.kill(), web.start()
                kills[victim] += 1
            elif victim == "background worker":
                worker.kill(), worker.start()
                kills[victim] += 1
        for thread in clients:
            thread.join(timeout=60)
        _drain(engine, env)
    finally:
        web.kill()
        worker.kill()
        smtp.stop()
    assert sum(kills.values()) >= 8, kills
    assert len(started) >= 10, "the load did not get going"
    _assert_consistent(engine, acknowledged, mailbox)


def services_catalog(engine):
    from engine.catalog import load_catalog

    return load_catalog(CRASH / "processes", CRASH / "forms", engine.settings.roles)


def _admin():
    from engine.model import Actor

    return Actor("admin", frozenset({"admin"}))


def _drain(engine, env: dict[str, str]) -> None:
    """After the chaos: fire what is due and send what is unsent, with a fresh worker."""
    time.sleep(1.5)  # let the last one-second timers fall due
    for _ in range(5):
        subprocess.run([sys.executable, "-c", "from web.cli import main; main()", "worker", "--once"], cwd=ROOT,
                       env=env, check=True, capture_output=True, timeout=120)


def _assert_consistent(engine, acknowledged: list[str], mailbox: Mailbox) -> None:
    assert services.verify_audit(engine).ok
    with engine.new_uow(readonly=True) as uow:
        s = uow.session
        completed_events = Counter(json.loads(d)["task_id"] for d in s.execute(
            select(AuditRecord.details).where(AuditRecord.type == "task_completed")).scalars())
        timer_events = Counter(s.execute(select(AuditRecord.instance_id).where(
            AuditRecord.type == "timer_fired")).scalars())
        for record in s.execute(select(InstanceRecord)).scalars():
            workflow = engine.load_workflow(record.state, engine.pinned_version(uow, record.process_version_id))
            ready = {str(t.id) for t in runtime.ready_user_tasks(workflow)}
            open_rows = set(s.execute(select(TaskRecord.id).where(TaskRecord.instance_id == record.id,
                                                                  TaskRecord.status == "open")).scalars())
            assert ready == open_rows, f"instance {record.id}: projection disagrees with the state"
            assert record.status == runtime.status(workflow)
            assert timer_events[record.id] <= 1
        done_rows = set(s.execute(select(TaskRecord.id).where(TaskRecord.status == "completed")).scalars())
        finished = s.execute(select(InstanceRecord.id).where(InstanceRecord.status == "completed")).scalars().all()
        outbox = s.execute(select(OutboxRecord)).scalars().all()
    assert max(completed_events.values()) == 1, "a task was completed twice"
    assert set(completed_events) == done_rows
    assert set(acknowledged) <= done_rows, "a completion the client was told about is missing"
    assert len(outbox) == len(finished), "one notification per finished flow, no more, no less"
    assert all(row.sent_at is not None for row in outbox), "a notification was never sent"
    received = set(mailbox.message_ids)
    assert {f"<outbox-{row.id}@campusflow>" for row in outbox} <= received, "a notification was lost"
    assert len(received) == len(outbox)
