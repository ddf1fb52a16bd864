"""Outbox service: send queued notifications by email (SMTP) when CAMPUSFLOW_SMTP_URL is set.

Each row is claimed by a conditional update, sent, then marked sent; a failed send keeps the row unsent with
its error and attempt count, so the next worker run retries it. Nothing is ever deleted. Imports smtplib.
"""

from __future__ import annotations

import logging
import smtplib
from email.message import EmailMessage
from urllib.parse import unquote, urlsplit

from sqlalchemy import select, update

from ..bootstrap import WorkflowEngine
from ..tables import OutboxRecord, UserRecord

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 50


def send_pending_notifications(engine: WorkflowEngine, limit: int = 100) -> int:
    """Send every unsent notification; returns how many were sent. Without SMTP settings nothing is sent."""
    if not engine.settings.smtp_url:
        return 0
    with engine.new_uow(readonly=True) as uow:
        ids = list(uow.session.execute(select(OutboxRecord.id).where(
            OutboxRecord.sent_at.is_(None), OutboxRecord.attempts < MAX_ATTEMPTS)
            .order_by(OutboxRecord.id).limit(limit)).scalars())
    return sum(send_notification(engine, row_id) for row_id in ids)


def send_notification(engine: WorkflowEngine, row_id: int) -> int:
    """Send one notification (1 when it went out now)."""
    with engine.new_uow() as uow:
        row = uow.session.get(OutboxRecord, row_id)
        if row is None or row.sent_at is not None:
            return 0
        claimed = uow.session.execute(update(OutboxRecord).where(
            OutboxRecord.id == row_id, OutboxRecord.sent_at.is_(None), OutboxRecord.attempts == row.attempts)
            .values(attempts=row.attempts + 1).execution_options(synchronize_session=False)).rowcount
        if claimed != 1:
            return 0
        addresses = recipients(uow.session, row)
        try:
            if addresses:
                deliver(engine.settings.smtp_url, engine.settings.smtp_sender, addresses, row.subject, row.body,
                        message_id=f"<outbox-{row.id}@campusflow>")
        except (OSError, smtplib.SMTPException) as exc:
            uow.session.execute(update(OutboxRecord).where(OutboxRecord.id == row_id).values(
                last_error=f"{type(exc).__name__}: {exc}"[:2000]).execution_options(synchronize_session=False))
            uow.commit()
            log.warning("notification %s not sent (%s); it will be retried", row_id, exc)
            return 0
        uow.session.execute(update(OutboxRecord).where(OutboxRecord.id == row_id).values(
            sent_at=engine.now(), last_error=None if addresses else "no email address: in-app only")
            .execution_options(synchronize_session=False))
        uow.commit()
        return 1


def recipients(session, row: OutboxRecord) -> list[str]:  # type: ignore[no-untyped-def]
    """Email addresses for a row: its own address, the user's, or everyone holding `role:<name>`."""
    if row.email:
        return [row.email]
    users = session.execute(select(UserRecord).where(UserRecord.active.is_(True))).scalars()
    if row.recipient.startswith("role:"):
        role = row.recipient[5:]
        return sorted({u.email for u in users if u.email and role in (u.roles or [])})
    return sorted({u.email for u in users if u.email and u.username == row.recipient})


def deliver(smtp_url: str, sender: str, to: list[str], subject: str, body: str, message_id: str | None = None) -> None:
    """Send one email through `smtp://[user:password@]host:port` (or `smtps://`, `smtp+starttls://`).

    `message_id` is stable per outbox row: if a worker dies after sending but before recording it, the
    retry carries the same Message-ID, so mail systems (and people) can recognise the repeat.
    """
    url = urlsplit(smtp_url)
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = sender, ", ".join(to), subject
    if message_id:
        message["Message-ID"] = message_id
    message.set_content(body)
    client_class = smtplib.SMTP_SSL if url.scheme == "smtps" else smtplib.SMTP
    with client_class(url.hostname or "localhost", url.port or (465 if url.scheme == "smtps" else 25),
                      timeout=10) as client:
        if url.scheme == "smtp+starttls":
            client.starttls()
        if url.username:
            client.login(unquote(url.username), unquote(url.password or ""))
        client.send_message(message)
