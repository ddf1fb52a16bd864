"""Writes a unit of work holds back until they are needed, so PostgreSQL receives them in one message.

A task completion updates the instance, closes and opens task rows and appends audit events: about ten
statements. Sent one at a time, each waits a network round trip and its driver overhead. Deferred, they go to
PostgreSQL as one multi-statement query; at commit the audit events (chained by the server, engine/audit.py) and
the COMMIT join them: one round trip after the reads, and one wake-up of the server process. SQLite, in-process,
runs them one at a time.

Values are bound on the client by psycopg (`ClientCursor.mogrify`, its documented client-side binding); a
psycopg pipeline would bind on the server, but it flushes and polls the socket once per statement: ten UPDATEs
took 70 µs of client CPU per statement in a pipeline and 10 µs sent this way (and 1.1 ms against 0.43 ms wall).

Pending writes are sent, in the order they were added, before anything else the session executes (a query,
an ORM flush), so code that reads after writing sees its writes. A write may expect a row count (an optimistic
version check): a different count raises ConcurrentChangeError and the transaction does not commit. On
PostgreSQL the server checks it (`campusflow_expect_rows`, migration 0012), so the COMMIT can follow in the same
message: a failed check stops the message before it.

Imports SQLAlchemy; psycopg only for its client-side binding, on the connection SQLAlchemy holds.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, Insert, bindparam, event
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.sql import Executable, Select

from .db import begin_pending, needs_transaction
from .errors import ConcurrentChangeError
from .prepared import PLACEHOLDER, Message

Params = dict[str, Any]


@dataclass(frozen=True)
class Write:
    """One statement with one parameter set, or many (executemany).

    `expect_rows`: the number of rows the statement must change with each parameter set.
    """

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

    def add(self, statement: Executable, params: Params | Sequence[Params], *, expect_rows: int | None = None,
            conflict: str | None = None) -> None:
        """Hold back one write until the session next executes anything (or `send` is called).

        `expect_rows`: the row count each parameter set must change, or the commit fails with
        ConcurrentChangeError(`conflict`).
        """
        self.pending.append(Write(statement, params, expect_rows, conflict or Write.conflict))

    def send(self, *, commit: bool = False) -> None:
        """Send the pending writes in order.

        PostgreSQL: one message, one round trip. Raises ConcurrentChangeError when a write's row count differs
        from what it expected; database errors come as SQLAlchemy's DBAPIError subclasses, as from execute.
        `commit`: the caller commits next; on PostgreSQL the COMMIT joins the message (after the checks), and the
        session's own commit then finds nothing left to do.
        """
        writes, self.pending = self.pending, []
        if not writes:
            return
        connection = self.session.connection()
        if is_psycopg(connection):
            _Batch(connection).send(writes, commit=commit)
        else:
            _send_one_by_one(connection, writes)

    @property
    def on_postgresql(self) -> bool:
        """True when the writes go to PostgreSQL as one message (where migration 0012's functions exist)."""
        return is_psycopg(self.session.get_bind())

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


def _send_one_by_one(connection: Connection, writes: list[Write]) -> None:
    for write in writes:
        if write.expect_rows is None:
            if not write.many or write.params:  # a write of no rows sends nothing
                connection.execute(write.statement, write.params)
            continue
        for params in (write.params,) if not write.many else write.params:
            if connection.execute(write.statement, params).rowcount != write.expect_rows:
                raise ConcurrentChangeError(write.conflict)


@dataclass(frozen=True)
class DriverStatement:
    """A statement as psycopg takes it: SQL text, literal defaults, and SQLAlchemy's value conversions."""

    sql: str
    locks: bool  # a SELECT ... FOR UPDATE (or SHARE): it needs a transaction (engine/db.py)
    defaults: Params
    processors: dict[str, Callable[[Any], Any]]
    result_processors: tuple[Callable[[Any], Any] | None, ...]

    def bind(self, params: Params) -> Params:
        values = {**self.defaults, **params}
        for name, process in self.processors.items():
            values[name] = process(values[name])
        return values


_COMPILED: dict[tuple[int, tuple[str, ...], int], tuple[Executable, DriverStatement]] = {}
_COMPILED_LIMIT = 1000
_VALUES_PER_INSERT = 100  # rows per multi-row INSERT: bounds the compiled variants to 100 per statement


def compiled_for_driver(statement: Executable, keys: tuple[str, ...], dialect: Any, *,
                        rows: int = 0) -> DriverStatement:
    """The statement as the driver takes it, compiled once per statement and set of parameter names (an INSERT's
    columns follow its parameters); also used by engine/direct_reads.py.

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
    sql, inlined = _constants_inline(compiled, keys, dialect)
    processors = {name: process for name, bind in compiled.binds.items()
                  if (process := bind.type.bind_processor(dialect)) is not None}
    defaults = {name: bind.value for name, bind in compiled.binds.items()
                if bind.value is not None and not bind.callable and compiled.bind_names.get(bind) not in inlined}
    columns = statement.selected_columns if isinstance(statement, Select) else ()
    # through the dialect's own type (psycopg hands JSON back decoded, for one)
    result_processors = tuple(column.type.dialect_impl(dialect).result_processor(dialect, None) for column in columns)
    result = DriverStatement(sql, bool(columns) and needs_transaction(sql), defaults, processors, result_processors)
    _COMPILED[cache_key] = (original, result)  # holds the statement, so its id is never reused
    return result


def _constants_inline(compiled: Any, keys: tuple[str, ...], dialect: Any) -> tuple[str, set[str]]:
    """The compiled SQL with the statement's own constants (`status == "open"`) written in as literals, and their
    names. The statements are prepared (engine/prepared.py) and soon run on a generic plan, made without the
    values: a constant sent as a value hides from the planner, which then cannot use a partial index whose
    predicate names it (tests/integration/test_prepared_plans.py)."""
    literals = {}
    for bind, name in compiled.bind_names.items():
        if bind.value is None or bind.callable or bind.expanding or name in keys:
            continue
        literal = bind.type.literal_processor(dialect)
        if literal is not None:
            literals[name] = literal(bind.value)  # rendered for this dialect: quotes doubled, percent signs escaped

    def written(match: re.Match[str]) -> str:
        return literals.get(match.group(1), match.group(0)) if match.group(1) else match.group(0)

    sql = PLACEHOLDER.sub(written, compiled.string)  # one pass: a literal written in is never read again
    return sql, set(literals)


def is_psycopg(bind: Connection | Engine) -> bool:
    """True for PostgreSQL through psycopg, whose connection these modules drive directly."""
    return bind.dialect.name == "postgresql" and bind.dialect.driver == "psycopg"


def send_message(message: Message, dialect: Any) -> None:
    """Send `message`; a database error comes as SQLAlchemy's DBAPIError subclass, as from execute, with the
    statements' placeholders and never their values."""
    try:
        message.send()
    except dialect.loaded_dbapi.Error as error:
        raise DBAPIError.instance(";\n".join(message.templates), {}, error, dialect.loaded_dbapi.Error,
                                  dialect=dialect) from error


class _Batch:
    """Statements sent to PostgreSQL as one simple query, prepared once per connection and run with their values
    bound by psycopg on the client (engine/prepared.py).

    The server runs them in order and stops at the first error, which leaves the COMMIT after it unsent. A write
    that expects a row count runs inside a statement that checks it (`campusflow_expect_rows`, migration 0012).
    """

    def __init__(self, connection: Connection) -> None:
        self.dialect = connection.dialect
        self.driver = connection.connection.driver_connection
        self.message = Message(self.driver)

    def send(self, writes: list[Write], *, commit: bool) -> None:
        """Run `writes`, then COMMIT if asked; one wait."""
        if begin_pending(self.driver):  # the transaction begins at its first write (engine/db.py)
            self.message.add("BEGIN", None)
        first_write = len(self.message.statements)
        for number, write in enumerate(writes):
            self._add_write(write, number)
        if len(self.message.statements) == first_write:
            return  # writes without rows: nothing to send, no transaction to begin
        if commit:
            self.message.add("COMMIT", None)
        try:
            send_message(self.message, self.dialect)
        except DBAPIError as error:
            if getattr(error.orig, "sqlstate", None) == _ROW_COUNT_DIFFERS:
                raise ConcurrentChangeError(writes[_write_number(error.orig)].conflict) from error.orig
            raise

    def _add_write(self, write: Write, number: int) -> None:
        """Add one write's statements: several for a long multi-row INSERT, one per parameter set otherwise."""
        rows = write.params if write.many else (write.params,)
        if not rows:
            return
        keys = tuple(rows[0])
        if len(rows) > 1 and isinstance(write.statement, Insert):
            # One INSERT with a VALUES list per chunk, as SQLAlchemy's own executemany does.
            # Not prepared: a statement per chunk size would pile up on every pooled connection.
            for start in range(0, len(rows), _VALUES_PER_INSERT):
                chunk = rows[start:start + _VALUES_PER_INSERT]
                compiled = compiled_for_driver(write.statement, keys, self.dialect, rows=len(chunk))
                bound = compiled.bind({f"{key}__{number_in_chunk}": values[key]
                                       for number_in_chunk, values in enumerate(chunk) for key in keys})
                self.message.add(_checked(compiled.sql, write), {**bound, **_check_values(write, number, len(chunk))},
                                 prepare=False)
            return
        compiled = compiled_for_driver(write.statement, keys, self.dialect)
        sql, check = _checked(compiled.sql, write), _check_values(write, number, 1)
        for row in rows:
            self.message.add(sql, {**compiled.bind(row), **check})


_ROW_COUNT_DIFFERS = "CF409"  # raised by campusflow_expect_rows (migration 0012)


def _checked(sql: str, write: Write) -> str:
    """`sql` as is, or wrapped so that the server raises CF409 when it changes another number of rows (the
    expected count and the write's number are parameters: one prepared statement serves every batch)."""
    if write.expect_rows is None:
        return sql
    return (f"WITH changed AS ({sql} RETURNING 1) "
            "SELECT campusflow_expect_rows(count(*), %(cf_expected)s::bigint, %(cf_write)s::int) FROM changed")


def _check_values(write: Write, number: int, parameter_sets: int) -> Params:
    """The values `_checked` adds: the rows expected and the write's number."""
    if write.expect_rows is None:
        return {}
    return {"cf_expected": write.expect_rows * parameter_sets, "cf_write": number}


def _write_number(error: Any) -> int:
    """The number of the write whose check failed, from campusflow_expect_rows' message."""
    return int(error.diag.message_primary.split()[1])
