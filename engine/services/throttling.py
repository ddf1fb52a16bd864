"""Login throttling: failed attempts per user name and address, kept in the database so every worker sees them.

After MAX_FAILURES failures within WINDOW, every attempt for that user name from that address is refused
until LOCKOUT has passed. Imports SQLAlchemy and the tables.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, select

from ..bootstrap import WorkflowEngine
from ..errors import AuthenticationError, ConcurrentChangeError
from ..tables import LoginThrottleRecord

MAX_FAILURES = 5
WINDOW = timedelta(minutes=15)
LOCKOUT = timedelta(minutes=15)


class LoginThrottledError(AuthenticationError):
    """Too many failed logins for this user name from this address."""

    code = "throttled"


def check_login_allowed(engine: WorkflowEngine, username: str, address: str) -> None:
    """Raise LoginThrottledError while the (user name, address) pair is locked out."""
    with engine.new_uow(readonly=True) as uow:
        row = _row(uow.session, username, address)
        now = engine.now()
        if row is not None and row.locked_until is not None and row.locked_until > now:
            minutes = max(1, int((row.locked_until - now).total_seconds() // 60) + 1)
            raise LoginThrottledError(f"Too many failed sign-ins. Try again in {minutes} minutes.")


def record_login_failure(engine: WorkflowEngine, username: str, address: str) -> None:
    """Count one failure; the MAX_FAILURES-th within WINDOW locks the pair out for LOCKOUT."""
    for _attempt in range(2):  # a concurrent first failure may insert the row first: count again on it
        try:
            _count_failure(engine, username[:200], address[:100])
            return
        except ConcurrentChangeError:
            continue


def _count_failure(engine: WorkflowEngine, username: str, address: str) -> None:
    now = engine.now()
    with engine.new_uow() as uow:
        row = _row(uow.session, username, address, lock=True)
        if row is None:
            row = LoginThrottleRecord(username=username, address=address, failures=0, first_failure_at=now)
            uow.session.add(row)
        elif now - row.first_failure_at > WINDOW and (row.locked_until is None or row.locked_until <= now):
            row.failures, row.first_failure_at, row.locked_until = 0, now, None
        row.failures += 1
        if row.failures >= MAX_FAILURES:
            row.locked_until = now + LOCKOUT
        uow.commit()


def clear_login_failures(engine: WorkflowEngine, username: str, address: str) -> None:
    """Forget the failures after a successful login."""
    with engine.new_uow() as uow:
        uow.session.execute(delete(LoginThrottleRecord).where(LoginThrottleRecord.username == username,
                                                              LoginThrottleRecord.address == address))
        uow.commit()


def _row(session, username: str, address: str, *, lock: bool = False) -> LoginThrottleRecord | None:  # type: ignore[no-untyped-def]
    query = select(LoginThrottleRecord).where(LoginThrottleRecord.username == username[:200],
                                              LoginThrottleRecord.address == address[:100])
    return session.execute(query.with_for_update() if lock else query).scalar_one_or_none()
