"""Reads on the hot path that skip the ORM's loading: SQLAlchemy compiles the statement and converts the values
(its own bind and result processors), psycopg runs it (prepared once per connection, engine/prepared.py), and the
rows become ORM objects in the session, as if it had loaded them.

A task completion starts with one read of the instance and its open tasks. As an ORM query in a new session it
took 570 µs here, against 290 µs this way and 200 µs for a `SELECT 1` (bench notes in the commit). The objects
join the session's identity map, so a later query in the same unit of work returns the same objects (an effect
handler that changes a task row changes the one the view is built from).

Imports SQLAlchemy; psycopg through the connection SQLAlchemy holds (engine/deferred_writes.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from sqlalchemy import inspect
from sqlalchemy.orm import Session, class_mapper, make_transient_to_detached
from sqlalchemy.sql import Select

from .deferred_writes import compiled_for_driver, is_psycopg, send_message, writes_of
from .prepared import Message

Record = TypeVar("Record")


def read_rows(session: Session, statement: Select[Any], params: Mapping[str, Any]) -> list[tuple[Any, ...]]:
    """The rows of a plain SELECT (no locking clause), their values converted as `session.execute` would.

    Pending deferred writes are sent first, so the read sees them. Database errors come as SQLAlchemy's
    DBAPIError subclasses, as from `session.execute`.
    """
    writes_of(session).send()
    connection = session.connection()
    if not is_psycopg(connection):
        return [tuple(row) for row in connection.execute(statement, dict(params))]
    compiled = compiled_for_driver(statement, tuple(params), connection.dialect)
    if compiled.locks:
        raise ValueError("read_rows takes plain SELECTs: a locking read needs the transaction that session.execute "
                         "begins")
    message = Message(connection.connection.driver_connection)
    message.add(compiled.sql, compiled.bind(dict(params)))
    send_message(message, connection.dialect)
    cursor = message.cursor
    while cursor.nextset():  # the read's rows are the last result (a PREPARE may come before it)
        pass
    processors = compiled.result_processors
    return [tuple(process(value) if process else value for process, value in zip(processors, row, strict=True))
            for row in cursor.fetchall()]


def loaded(session: Session, cls: type[Record], values: Mapping[str, Any]) -> Record:
    """An ORM object of `cls` holding `values` (every column) as loaded and unmodified, in `session` (which must not
    hold that row yet: read before anything else loads it)."""
    record = holding(cls, values)
    make_transient_to_detached(record)
    session.add(record)
    return record


def holding(cls: type[Record], values: Mapping[str, Any]) -> Record:
    """A new (transient) ORM object of `cls` holding `values`, with no changes recorded: filled the way SQLAlchemy
    fills what it loads, without the attribute events of the constructor (4 us for a task row against 18 us).
    A key that is not a column of `cls` raises TypeError, as the constructor does."""
    mapper = class_mapper(cls)
    unknown = values.keys() - mapper.columns.keys()
    if unknown:
        raise TypeError(f"{cls.__name__} has no column {', '.join(sorted(unknown))}")
    record = mapper.class_manager.new_instance()
    inspect(record).dict.update(values)
    return record
