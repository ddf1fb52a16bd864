"""Database engine: SQLite (WAL, immediate write transactions) or PostgreSQL. Imports SQLAlchemy only."""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import DisconnectionError

# A pooled connection unused for longer than this is checked with a round trip before it is handed out.
IDLE_PING_SECONDS = 10.0


def make_engine(url: str) -> Engine:
    """Create the SQLAlchemy engine for `url`; nothing connects until first use."""
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    if not url.startswith("sqlite"):
        server = create_engine(url, pool_size=10, max_overflow=10)
        _ping_when_idle(server)
        return server
    engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

    @event.listens_for(engine, "connect")
    def _configure(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event decide how transactions start (pysqlite would defer them).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection: Any) -> None:
        # Take the write lock up front: two writers never read the same audit head or instance version.
        mode = connection.get_execution_options().get("sqlite_begin", "IMMEDIATE")
        connection.exec_driver_sql(f"BEGIN {mode}")

    return engine



def _ping_when_idle(engine: Engine) -> None:
    """Check a pooled connection before use only if it sat idle (SQLAlchemy's custom pessimistic ping).

    `pool_pre_ping` would cost a round trip on every checkout, i.e. every service call under load; a server
    restart or failover happens while connections sit idle, and those are still checked. A connection that
    fails its ping is replaced (DisconnectionError makes the pool retry with a new one).
    """

    @event.listens_for(engine, "checkin")
    def _note_last_use(dbapi_connection: Any, record: Any) -> None:
        record.info["last_used"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping_if_idle(dbapi_connection: Any, record: Any, proxy: Any) -> None:
        last = record.info.get("last_used")
        if last is None or time.monotonic() - last < IDLE_PING_SECONDS:
            return
        try:
            cursor = dbapi_connection.cursor()
            cursor.execute("SELECT 1")
            cursor.close()
            dbapi_connection.rollback()
        except Exception as exc:  # any failure means the connection is unusable
            raise DisconnectionError("stale pooled connection") from exc
