"""Pooled PostgreSQL connections that died while idle (server restart, failover) are replaced, not failed on.

The pool pings a connection only when it sat idle (engine/db.py), not on every checkout.
"""

from __future__ import annotations

import pytest
from builders import AUDITOR, ORGANISER, event_request
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import NullPool

from engine import db, services

pytestmark = pytest.mark.postgres_only


def _kill_pooled_connections(url: str) -> int:
    """Terminate every other server process on this database, as a restart would."""
    killer = create_engine(url.replace("postgresql://", "postgresql+psycopg://"), poolclass=NullPool)
    with killer.connect() as conn:
        killed = conn.execute(text("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                                   "WHERE datname = current_database() AND pid <> pg_backend_pid()")).scalar_one()
    killer.dispose()
    return killed


def test_a_connection_killed_while_idle_is_replaced(deployed, monkeypatch):
    view = services.start_instance(deployed, "event_approval", event_request(), ORGANISER)
    assert _kill_pooled_connections(deployed.settings.database_url) >= 1
    monkeypatch.setattr(db, "IDLE_PING_SECONDS", 0.0)  # every pooled connection now counts as idle
    assert services.get_instance(deployed, view.id, AUDITOR).id == view.id


def test_without_the_idle_ping_the_dead_connection_fails_the_call(deployed, monkeypatch):
    """The control: the test above passes because of the ping, not because the pool was empty."""
    view = services.start_instance(deployed, "event_approval", event_request(), ORGANISER)
    assert _kill_pooled_connections(deployed.settings.database_url) >= 1
    monkeypatch.setattr(db, "IDLE_PING_SECONDS", float("inf"))
    with pytest.raises(OperationalError):
        services.get_instance(deployed, view.id, AUDITOR)
