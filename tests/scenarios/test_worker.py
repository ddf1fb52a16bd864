"""The worker: each due timer fires exactly once with several workers; the outbox goes out over real SMTP."""

from __future__ import annotations

import dataclasses
import socket
import threading
from datetime import timedelta

from aiosmtpd.controller import Controller
from scenario_driver import AUDITOR, Driver, event_data
from sqlalchemy import select

from engine import services
from engine.bootstrap import bootstrap
from engine.tables import OutboxRecord


def test_two_workers_fire_a_due_timer_exactly_once(driver, clock):
    driver.start(event_data(20))
    clock.move_to(driver.task("review_request").due_at + timedelta(minutes=5))
    engines = [bootstrap(driver.engine.settings), bootstrap(driver.engine.settings)]
    barrier, fired, errors = threading.Barrier(2), [], []

    def work(engine) -> None:
        barrier.wait()
        try:
            fired.append(services.run_worker_once(engine).timers)
        except Exception as exc:  # noqa: BLE001 - surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(e,)) for e in engines]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    for engine in engines:
        engine.db.dispose()
    assert errors == [] and sorted(fired) in ([0, 1], [1, 1]) and sum(fired) >= 1
    history = services.instance_history(driver.engine, driver.instance_id, AUDITOR)
    assert [e.element_id for e in history if e.type == "timer_fired"] == ["review_request_overdue"]
    assert [e.type for e in history].count("task_escalated") == 1


class Inbox:
    def __init__(self) -> None:
        self.messages: list[object] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        self.messages.append(envelope)
        return "250 OK"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_notifications_go_out_over_smtp_and_a_failed_send_is_retried(driver):
    driver.start(event_data(20, venue_mode="off_campus", organiser_type="external_hirer",
                            uses_university_brand=False))  # out of scope: one letter to the organiser
    port = free_port()
    mailer = bootstrap(dataclasses.replace(driver.engine.settings, smtp_url=f"smtp://127.0.0.1:{port}"))
    assert services.send_pending_notifications(mailer) == 0  # nobody listens yet
    with driver.engine.new_uow(readonly=True) as uow:
        (row,) = uow.session.execute(select(OutboxRecord)).scalars()
        assert (row.sent_at, row.attempts, row.email) == (None, 1, "o.reed@example.ac.uk")
        assert row.last_error
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        assert services.run_worker_once(mailer).notifications == 1
        assert services.run_worker_once(mailer).notifications == 0  # sent once, never again
    finally:
        controller.stop()
        mailer.db.dispose()
    (envelope,) = inbox.messages
    assert envelope.rcpt_tos == ["o.reed@example.ac.uk"]
    assert b"outside the scope" in envelope.content.replace(b"\r\n", b" ")
    with driver.engine.new_uow(readonly=True) as uow:
        row = uow.session.execute(select(OutboxRecord)).scalar_one()
        assert (row.attempts, row.last_error) == (2, None) and row.sent_at is not None


def test_without_smtp_settings_notifications_stay_in_the_app(driver: Driver):
    driver.start(event_data(20, venue_mode="off_campus", organiser_type="external_hirer",
                            uses_university_brand=False))
    assert services.run_worker_once(driver.engine).notifications == 0
    (note,) = services.list_notifications(driver.engine, __import__("scenario_driver").ORGANISER)
    assert note.subject.startswith("Event request outside the policy")
