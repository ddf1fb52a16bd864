"""Database engine: SQLite (WAL, immediate write transactions) or PostgreSQL. Imports SQLAlchemy only."""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import DisconnectionError

# A pooled connection unused for longer than this is checked with a round trip before it is handed out.
IDLE_PING_SECONDS = 10.0
_IDLE = 0  # psycopg.pq.TransactionStatus.IDLE: connected, no transaction open


def make_engine(url: str) -> Engine:
    """Create the SQLAlchemy engine for `url`; nothing connects until first use."""
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    if not url.startswith("sqlite"):
        # psycopg's automatic preparation off: it would deallocate engine/prepared.py's statements on ROLLBACK.
        server = create_engine(url, pool_size=10, max_overflow=10, connect_args={"prepare_threshold": None})
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



_LOCKING_CLAUSES = (" FOR UPDATE", " FOR NO KEY UPDATE", " FOR SHARE", " FOR KEY SHARE")


def needs_transaction(statement: str) -> bool:
    """False only for a plain SELECT: one that neither writes nor locks rows."""
    head = statement.lstrip()[:6].upper()
    return head != "SELECT" or any(clause in statement.upper() for clause in _LOCKING_CLAUSES)


def begin_at_first_write(engine: Engine) -> Engine:
    """The engine for units of work that change state: on PostgreSQL, the reads that come before a
    transaction's first write run outside it, and BEGIN goes just before that write (SQLite: `engine`).

    At READ COMMITTED, PostgreSQL's default, every statement sees its own snapshot whether or not a transaction
    surrounds it, so a read that comes before any write or lock sees the same rows either way; it just no longer
    waits for a BEGIN first (a task completion: 3 round trips instead of 4). What follows the first write is one
    transaction as before: SQLAlchemy's commit and rollback reach psycopg, which commits or rolls back whenever
    the server is in a transaction. The connections are in psycopg's autocommit mode, so psycopg itself never
    sends BEGIN; this engine's hook does, and engine/deferred_writes.py puts it at the head of its batch.
    """
    if engine.dialect.name != "postgresql":
        return engine
    lazy = engine.execution_options(isolation_level="AUTOCOMMIT")  # its own listeners; `engine` keeps none

    @event.listens_for(lazy, "before_cursor_execute")
    def _begin(connection: Any, cursor: Any, statement: str, parameters: Any, context: Any,
               executemany: bool) -> None:
        driver = connection.connection.driver_connection
        # A named (server-side) cursor is a DECLARE, which PostgreSQL allows only inside a transaction.
        if begin_pending(driver) and (needs_transaction(statement) or getattr(cursor, "name", None)):
            driver.execute("BEGIN")

    return lazy


def begin_pending(driver: Any) -> bool:
    """True for a psycopg connection of `begin_at_first_write` that has no transaction open yet: its next
    write must send BEGIN first."""
    return bool(driver.autocommit) and driver.info.transaction_status == _IDLE


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
