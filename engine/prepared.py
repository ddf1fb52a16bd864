"""Hot-path statements prepared once per PostgreSQL connection, then run by name with their values as literals.

A task completion reaches PostgreSQL as two simple queries (engine/deferred_writes.py, engine/direct_reads.py),
whose statements the server parsed and planned anew every time. Prepared once per connection, they are only
bound and run: the commit message of a completion waited 1.28 ms before, 1.10 ms after (bench notes in the
commit). A statement is prepared in the same message as its first use, so preparing costs no round trip.

psycopg's own automatic preparation is off (engine/db.py, `prepare_threshold=None`): psycopg answers a ROLLBACK
by deallocating every statement of the session it prepared itself (DEALLOCATE ALL), which would take ours too.

A connection's statements are known once a message that prepared them succeeded. A message that failed stopped
somewhere unknown, so the next one on that connection starts with DEALLOCATE ALL and prepares again.

Imports psycopg only, on connections SQLAlchemy holds.
"""

from __future__ import annotations

import hashlib
import re
import weakref
from dataclasses import dataclass
from typing import Any

PLACEHOLDER = re.compile(r"%%|%\((\w+)\)s")  # psycopg's named placeholders, and an escaped percent sign


@dataclass(frozen=True)
class _Named:
    """A statement under its name: its PREPARE text and the order of its parameters."""

    name: str
    parameters: tuple[str, ...]
    prepare: str
    execute: str


_NAMED: dict[str, _Named] = {}
# Per psycopg connection: the names prepared on it, or None after a failed message (deallocate all first).
_KNOWN: weakref.WeakKeyDictionary[Any, set[str] | None] = weakref.WeakKeyDictionary()


def _named(sql: str) -> _Named:
    """The statement `sql` (with %(name)s placeholders) under a name derived from its text."""
    found = _NAMED.get(sql)
    if found is not None:
        return found
    order: list[str] = []

    def numbered(match: re.Match[str]) -> str:
        if match.group(1) is None:
            return "%"
        if match.group(1) not in order:
            order.append(match.group(1))
        return f"${order.index(match.group(1)) + 1}"

    body = PLACEHOLDER.sub(numbered, sql)
    name = "cf_" + hashlib.blake2b(sql.encode(), digest_size=10).hexdigest()
    arguments = f"({', '.join(['%s'] * len(order))})" if order else ""
    found = _Named(name, tuple(order), f"PREPARE {name} AS {body}", f"EXECUTE {name}{arguments}")
    if len(_NAMED) < 5000:  # callers build their statements once; this only bounds a misuse
        _NAMED[sql] = found
    return found


class Message:
    """The statements of one simple query on one connection: a PREPARE before a statement's first use there,
    then EXECUTE with the values quoted by psycopg (`ClientCursor.mogrify`)."""

    def __init__(self, driver: Any) -> None:
        from psycopg import ClientCursor

        self.driver = driver
        self.cursor = ClientCursor(driver)
        self.statements: list[str] = []  # sent, one result each
        self.templates: list[str] = []  # the same with placeholders, for error messages (no values in logs)
        known = _KNOWN.get(driver, set())
        if known is None:
            self._literal("DEALLOCATE ALL")
        self._known: set[str] = known or set()
        self._new: set[str] = set()

    def add(self, sql: str, params: dict[str, Any] | None, *, prepare: bool = True) -> None:
        """Add a statement: `params` None for one without placeholders (BEGIN, COMMIT), sent as it is;
        `prepare` False for one that is seldom the same twice (its values are quoted into it)."""
        if params is None:
            self._literal(sql)
            return
        if not prepare:
            self.templates.append(sql)
            self.statements.append(self.cursor.mogrify(sql, params))
            return
        named = _named(sql)
        if named.name not in self._known and named.name not in self._new:
            self._literal(named.prepare)
            self._new.add(named.name)
        self.templates.append(sql)
        self.statements.append(self.cursor.mogrify(named.execute, [params[key] for key in named.parameters]))

    def send(self) -> None:
        """Send every statement as one query; the cursor then holds their results, first to last."""
        _KNOWN[self.driver] = None  # until the server has run them all
        self.cursor.execute(";\n".join(self.statements))
        _KNOWN[self.driver] = self._known | self._new

    def _literal(self, sql: str) -> None:
        self.templates.append(sql)
        self.statements.append(sql)
