"""Unit of work: one Session per service call; rolls back unless committed. Imports SQLAlchemy, audit, tables."""

from __future__ import annotations

from collections.abc import Sequence
from types import TracebackType
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError
from sqlalchemy.sql import Executable

from .audit import AuditLog
from .deferred_writes import DeferredWrites, attach, writes_of
from .errors import ConcurrentChangeError


class UnitOfWork:
    """`with engine.new_uow() as uow: ...; uow.commit()` — state, task rows and audit rows commit together."""

    session: Session
    audit: AuditLog
    writes: DeferredWrites

    def __init__(self, session_factory: sessionmaker[Session]) -> None:
        self._session_factory = session_factory
        self.committed = False

    def __enter__(self) -> UnitOfWork:
        self.session = self._session_factory()
        self.audit = AuditLog()
        self.writes = writes_of(self.session)
        self.committed = False
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        # close() rolls back anything uncommitted without expiring what was read, so views built from
        # loaded rows stay usable after the unit of work ends.
        self.writes.discard()
        self.session.close()

    def write(self, statement: Executable, params: dict[str, Any] | Sequence[dict[str, Any]], *,
              expect_rows: int | None = None, conflict: str | None = None) -> None:
        """Add a Core write, sent with the others before the next query or at commit (engine/deferred_writes.py).

        `expect_rows`: the row count each parameter set must change, or the commit fails with
        ConcurrentChangeError (`conflict`).
        """
        self.writes.add(statement, params, expect_rows=expect_rows, conflict=conflict)

    def commit(self) -> None:
        """Flush state, chain the audit events onto the head, and commit in one transaction.

        Deferred writes, the ORM flush and the audit rows go in that order; on PostgreSQL the writes, the audit
        rows (chained by the server) and the COMMIT are one message (engine/deferred_writes.py).
        """
        try:
            self.session.flush()
            if self.audit.pending or self.writes.pending:
                self.audit.write_to(self.writes)
                self.writes.send(commit=True)
            self.session.commit()
        except StaleDataError as exc:
            self.session.rollback()
            raise ConcurrentChangeError(
                "someone else changed this instance at the same time; reload and retry") from exc
        except (IntegrityError, OperationalError) as exc:
            self.session.rollback()
            if _is_lock_conflict(exc):
                raise ConcurrentChangeError("a concurrent change won; reload and retry") from exc
            raise
        self.committed = True

    def rollback(self) -> None:
        """Discard everything done in this unit of work."""
        self.writes.discard()
        self.session.rollback()
        self.audit.pending.clear()


def _is_lock_conflict(exc: Exception) -> bool:
    text = str(getattr(exc, "orig", exc)).lower()
    return any(s in text for s in ("unique", "duplicate key", "deadlock", "could not serialize", "database is locked"))


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions that keep loaded objects usable after commit (views are built after commit)."""
    factory = sessionmaker(bind=engine, expire_on_commit=False, autoflush=False)
    attach(factory)
    return factory
