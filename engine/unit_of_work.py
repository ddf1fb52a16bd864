"""Unit of work: one Session per service call; rolls back unless committed. Imports SQLAlchemy, audit, tables."""

from __future__ import annotations

from types import TracebackType

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from .audit import AuditLog
from .errors import ConcurrentChangeError


class UnitOfWork:
    """`with engine.new_uow() as uow: ...; uow.commit()` — state, task rows and audit rows commit together."""

    session: Session
    audit: AuditLog

    def __init__(self, session_factory: sessionmaker[Session]) -> None:
        self._session_factory = session_factory
        self.committed = False

    def __enter__(self) -> UnitOfWork:
        self.session = self._session_factory()
        self.audit = AuditLog()
        self.committed = False
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        # close() rolls back anything uncommitted without expiring what was read, so views built from
        # loaded rows stay usable after the unit of work ends.
        self.session.close()

    def commit(self) -> None:
        """Flush state, chain the audit events onto the head, and commit in one transaction."""
        try:
            self.session.flush()
            self.audit.flush(self.session)
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
        self.session.rollback()
        self.audit.pending.clear()


def _is_lock_conflict(exc: Exception) -> bool:
    text = str(getattr(exc, "orig", exc)).lower()
    return any(s in text for s in ("unique", "duplicate key", "deadlock", "could not serialize", "database is locked"))


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions that keep loaded objects usable after commit (views are built after commit)."""
    return sessionmaker(bind=engine, expire_on_commit=False, autoflush=False)
