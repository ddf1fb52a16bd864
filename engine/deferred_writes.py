"""Writes a unit of work holds back until they are needed, so PostgreSQL receives them in one pipeline.

A task completion updates the instance, closes and opens task rows and appends audit events: about ten
statements. Sent one at a time, each waits a network round trip and its driver overhead. Deferred, they go to
PostgreSQL in a psycopg pipeline, together with the audit head lock that must be read before the events can be
chained, and the unit of work waits once for all of them. SQLite, in-process, runs them one at a time.

Pending writes are sent, in the order they were added, before anything else the session executes (a query,
an ORM flush), so code that reads after writing sees its writes. A write may expect a row count (an optimistic
version check): a different count raises ConcurrentChangeError, before the transaction commits.

Imports SQLAlchemy only; psycopg is reached through the connection SQLAlchemy holds.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, Insert, bindparam, event
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.sql import Executable, Select

from .db import begin_pending
from .errors import ConcurrentChangeError

Params = dict[str, Any]


@dataclass(frozen=True)
class Write:
    """One statement with one parameter set, or many (executemany); `expect_rows` checks the count it changed."""

    statement: Executable
    params: Params | Sequence[Params]
    expect_rows: int | None = None
    conflict: str = "a concurrent change won; reload and retry"

    @property
    def many(self) -> bool:
        return not isinstance(self.params, dict)


class DeferredWrites:
    """The writes of one session that have not been sent yet."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.pending: list[Write] = []
        self._pipeline: _Pipeline | None = None

    def add(self, statement: Executable, params: Params | Sequence[Params], *, expect_rows: int | None = None,
            conflict: str | None = None) -> None:
        """Hold back one write until the session next executes anything (or `send` is called)."""
        self.pending.append(Write(statement, params, expect_rows, conflict or Write.conflict))

    def send(self, then_read: Select[Any] | None = None, *, commit: bool = False) -> Any:
        """Send the pending writes in order, then `then_read` (its first row is returned, or None).

        PostgreSQL: one pipeline, one wait. Raises ConcurrentChangeError when a write's row count differs
        from what it expected; database errors come as SQLAlchemy's DBAPIError subclasses, as from execute.
        `commit`: the caller commits next. Inside `one_pipeline` the COMMIT then joins the pipeline, unless a
        write in it has a row count to check (a check must come before the commit); the session's own commit
        then finds nothing left to do.
        """
        writes, self.pending = self.pending, []
        if not writes and then_read is None and not (commit and self._pipeline):
            return None
        if self._pipeline is not None:
            return self._pipeline.send(writes, then_read, commit=commit)
        connection = self.session.connection()
        if not _is_psycopg(connection):
            return _send_one_by_one(connection, writes, then_read)
        with _Pipeline(connection) as pipeline:
            return pipeline.send(writes, then_read, commit=False)

    @contextmanager
    def one_pipeline(self) -> Iterator[None]:
        """On PostgreSQL, everything sent inside goes through one pipeline, which ends with a single sync."""
        if self._pipeline is not None or not _is_psycopg(self.session.get_bind()):
            yield
            return
        with _Pipeline(self.session.connection()) as self._pipeline:
            try:
                yield
            finally:
                self._pipeline = None

    def discard(self) -> None:
        """Forget the pending writes (the unit of work rolls back)."""
        self.pending.clear()


def attach(factory: sessionmaker[Session]) -> None:
    """Give every session of `factory` its DeferredWrites (`session.info["writes"]`), sent before it executes."""

    @event.listens_for(factory, "do_orm_execute")
    def _send_before_query(state: Any) -> None:
        writes_of(state.session).send()

    @event.listens_for(factory, "before_flush")
    def _send_before_flush(session: Session, _context: Any, _instances: Any) -> None:
        writes_of(session).send()


def writes_of(session: Session) -> DeferredWrites:
    """The session's deferred writes (created on first use)."""
    writes = session.info.get("writes")
    if writes is None:
        writes = session.info["writes"] = DeferredWrites(session)
    return writes


def _check(write: Write, rowcount: int) -> None:
    if write.expect_rows is not None and rowcount != write.expect_rows:
        raise ConcurrentChangeError(write.conflict)


def _send_one_by_one(connection: Connection, writes: list[Write], then_read: Select[Any] | None) -> Any:
    for write in writes:
        _check(write, connection.execute(write.statement, write.params).rowcount)
    return connection.execute(then_read).first() if then_read is not None else None


@dataclass(frozen=True)
class _Compiled:
    """A statement as psycopg takes it: SQL text, literal defaults, and SQLAlchemy's value conversions."""

    sql: str
    defaults: Params
    processors: dict[str, Callable[[Any], Any]]
    result_processors: tuple[Callable[[Any], Any] | None, ...]

    def bind(self, params: Params) -> Params:
        values = {**self.defaults, **params}
        for name, process in self.processors.items():
            values[name] = process(values[name])
        return values


_COMPILED: dict[tuple[int, tuple[str, ...], int], tuple[Executable, _Compiled]] = {}
_COMPILED_LIMIT = 1000
_VALUES_PER_INSERT = 100  # rows per multi-row INSERT: bounds the compiled variants to 100 per statement


def _compiled(statement: Executable, keys: tuple[str, ...], dialect: Any, *, rows: int = 0) -> _Compiled:
    """Compile once per statement and set of parameter names (an INSERT's columns follow its parameters).

    `rows`: an INSERT of that many rows in one VALUES list, whose parameters are named `<key>__<row number>`.
    """
    cache_key = (id(statement), keys, rows)
    found = _COMPILED.get(cache_key)
    if found is not None and found[0] is statement:
        return found[1]
    original = statement
    if len(_COMPILED) >= _COMPILED_LIMIT:  # callers build their statements once; this only bounds a misuse
        _COMPILED.clear()
    if rows:
        columns = statement.table.c  # type: ignore[attr-defined]
        statement = statement.values([{key: bindparam(f"{key}__{number}", type_=columns[key].type)  # type: ignore[attr-defined]
                                       for key in keys} for number in range(rows)])
    compiled = statement.compile(dialect=dialect, column_keys=None if rows else list(keys))  # type: ignore[attr-defined]
    processors = {name: process for name, bind in compiled.binds.items()
                  if (process := bind.type.bind_processor(dialect)) is not None}
    defaults = {name: bind.value for name, bind in compiled.binds.items()
                if bind.value is not None and not bind.callable}
    columns = statement.selected_columns if isinstance(statement, Select) else ()
    result_processors = tuple(column.type.result_processor(dialect, None) for column in columns)
    result = _Compiled(compiled.string, defaults, processors, result_processors)
    _COMPILED[cache_key] = (original, result)  # holds the statement, so its id is never reused
    return result


def _is_psycopg(bind: Connection | Engine) -> bool:
    return bind.dialect.name == "postgresql" and bind.dialect.driver == "psycopg"


class _Pipeline:
    """A psycopg pipeline on the session's connection; driver errors leave it as SQLAlchemy's exceptions."""

    def __init__(self, connection: Connection) -> None:
        self.dialect = connection.dialect
        self.driver = connection.connection.driver_connection
        self.last_sql: str = ""

    def __enter__(self) -> _Pipeline:
        begin = begin_pending(self.driver)
        self._context = self.driver.pipeline()
        self._psycopg_pipeline = self._context.__enter__()
        if begin:
            self._execute_sql("BEGIN", None)  # the transaction begins at its first write (engine/db.py)
        return self

    def __exit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> None:
        try:
            self._context.__exit__(exc_type, exc, tb)  # the final sync: waits for what is left
        except self.dialect.loaded_dbapi.Error as error:
            raise self._translated(error) from error

    def _translated(self, error: Exception) -> DBAPIError:
        return DBAPIError.instance(self.last_sql, {}, error, self.dialect.loaded_dbapi.Error, dialect=self.dialect)

    def send(self, writes: list[Write], then_read: Select[Any] | None, *, commit: bool) -> Any:
        try:
            return self._send(writes, then_read, commit)
        except self.dialect.loaded_dbapi.Error as error:
            raise self._translated(error) from error

    def _send(self, writes: list[Write], then_read: Select[Any] | None, commit: bool) -> Any:
        sent = [(write, self._execute(write)) for write in writes]
        row = None
        if then_read is not None:
            compiled = _compiled(then_read, (), self.dialect)
            fetched = self._execute_sql(compiled.sql, compiled.bind({})).fetchone()  # waits for all before it
            if fetched is not None:
                row = tuple(process(value) if process else value
                            for process, value in zip(compiled.result_processors, fetched, strict=True))
        elif any(write.expect_rows is not None for write in writes):
            self._psycopg_pipeline.sync()
        for write, cursor in sent:
            _check(write, cursor.rowcount)
        if commit:
            # Sent as a statement, so it travels with the final sync; psycopg follows the server's transaction
            # status, so the session's commit afterwards has nothing to do.
            self._execute_sql("COMMIT", None)
        return row

    def _execute(self, write: Write) -> Any:
        rows = write.params if write.many else (write.params,)
        if not rows:
            return _Sent(())
        keys = tuple(rows[0])
        if len(rows) > 1 and isinstance(write.statement, Insert):
            # One INSERT with a VALUES list per chunk, as SQLAlchemy's own executemany does.
            return _Sent(tuple(self._insert_chunk(write.statement, keys, rows[start:start + _VALUES_PER_INSERT])
                               for start in range(0, len(rows), _VALUES_PER_INSERT)))
        compiled = _compiled(write.statement, keys, self.dialect)
        if write.many:
            cursor = self.driver.cursor()
            self.last_sql = compiled.sql
            cursor.executemany(compiled.sql, [compiled.bind(row) for row in rows])
            return cursor
        return self._execute_sql(compiled.sql, compiled.bind(rows[0]))

    def _insert_chunk(self, statement: Insert, keys: tuple[str, ...], rows: Sequence[Params]) -> Any:
        compiled = _compiled(statement, keys, self.dialect, rows=len(rows))
        return self._execute_sql(compiled.sql, compiled.bind(
            {f"{key}__{number}": row[key] for number, row in enumerate(rows) for key in keys}))

    def _execute_sql(self, sql: str, params: Params | None) -> Any:
        self.last_sql = sql
        cursor = self.driver.cursor()
        cursor.execute(sql, params)
        return cursor


@dataclass(frozen=True)
class _Sent:
    """The cursors of a write sent as several statements; their row counts add up."""

    cursors: tuple[Any, ...]

    @property
    def rowcount(self) -> int:
        return sum(cursor.rowcount for cursor in self.cursors)
