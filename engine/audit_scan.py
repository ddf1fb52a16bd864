"""The hot path of `verify`: hash text, scan runs of rows, read the chain fast, and check big chains in parallel.

Standard library only (psycopg is imported lazily), so a worker process starts quickly. The hash definition
lives in `engine.audit.event_hash`; `text_hash` is the same function with the timestamp already written out.
Rows are plain tuples `(seq, at_iso, instance_id, actor, role, type, element_id, details, prev_hash, hash)`
where `at_iso` is the ISO-8601 text with microseconds and offset that the hash covers, and the two hashes are
either hex text (ORM records) or the 32 bytes the database stores (raw rows; the hash covers their hex text).
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from multiprocessing import get_context
from typing import Any

GENESIS_HASH = "0" * 64
PARALLEL_MIN_EVENTS = 150_000  # below this, starting worker processes costs more than it saves
BATCH = 50_000
_sha256 = hashlib.sha256
# The stored timestamp as text: SQLite keeps "YYYY-MM-DD HH:MM:SS.ffffff" (naive UTC, rewritten in `scan_rows`),
# PostgreSQL writes the hashed ISO-8601 text itself.
_AT_SQL = {"sqlite": "at", "postgresql": "to_char(at, 'YYYY-MM-DD\"T\"HH24:MI:SS.US') || '+00:00'"}
_PARAM = {"sqlite": "?", "postgresql": "%s"}


def text_hash(seq: int, at_iso: str, instance_id: int | None, actor: str, role: str | None, type_: str,
              element_id: str | None, details: str, prev_hash: str) -> str:
    """`event_hash` with `at` already as ISO-8601 text (see its docstring for the definition)."""
    return text_digest(seq, at_iso, instance_id, actor, role, type_, element_id, details, prev_hash).hexdigest()


def text_digest(seq: int, at_iso: str, instance_id: int | None, actor: str, role: str | None, type_: str,
                element_id: str | None, details: str, prev_hash: str) -> Any:
    """The hash object of `text_hash`: `.digest()` compares with stored bytes without writing hex."""
    s = str(seq)
    i = "" if instance_id is None else str(instance_id)
    r = role or ""
    e = element_id or ""
    return _sha256(f"{len(s)}\x1f{s}\x1e{len(at_iso)}\x1f{at_iso}\x1e{len(i)}\x1f{i}\x1e{len(actor)}\x1f{actor}\x1e"
                   f"{len(r)}\x1f{r}\x1e{len(type_)}\x1f{type_}\x1e{len(e)}\x1f{e}\x1e"
                   f"{len(details)}\x1f{details}\x1e{len(prev_hash)}\x1f{prev_hash}".encode())


def hex_text(value: Any) -> Any:
    """A stored hash as the hex text the chain covers (bytes are written out; text and NULL pass unchanged)."""
    return value.hex() if isinstance(value, bytes | memoryview) else value


def iso_text(value: Any) -> str | None:
    """A stored timestamp (datetime or SQLite text) as the hashed ISO-8601 text, or None if it is not one."""
    try:
        at = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    except ValueError:
        return None
    at = at.replace(tzinfo=UTC) if at.tzinfo is None else at
    return at.isoformat(timespec="microseconds")


@dataclass(frozen=True)
class RunResult:
    """A scanned run of consecutive rows: its ends (to link to its neighbours) and its first bad row, if any."""

    count: int  # rows read, up to and including the first bad one
    first_seq: int | None = None
    first_prev: str | None = None
    last_seq: int = 0
    last_hash: str = GENESIS_HASH
    bad: int | None = None
    reason: str | None = None


def scan_rows(rows: Iterable[Sequence[Any]], sqlite_text: bool = False,
              normalise: Callable[[Any], str | None] = iso_text) -> RunResult:
    """Check each row's hash and the seq and prev_hash links between consecutive rows.

    The first row's own seq and prev_hash are returned, not checked: they link to the run before (`combine`).
    `sqlite_text`: `at` is SQLite's stored text, turned into the hashed form by slicing (the common case).
    `normalise` rewrites an unusually stored timestamp before a mismatch is declared (never on the fast path).
    Hashes stored as bytes are compared as bytes; only `prev_hash` is written out as hex, for the hashed text.
    """
    count, first_seq, first_prev = 0, None, None
    expected_seq: int | None = None
    expected_prev: Any = ""
    for seq, at, instance_id, actor, role, type_, element_id, details, prev, digest in rows:
        count += 1
        if expected_seq is None:
            first_seq, first_prev = seq, hex_text(prev)
        elif seq != expected_seq:
            return RunResult(count, first_seq, first_prev, bad=min(seq, expected_seq),
                             reason=f"sequence gap: expected {expected_seq}")
        elif prev != expected_prev and hex_text(prev) != hex_text(expected_prev):
            return RunResult(count, first_seq, first_prev, bad=seq,
                             reason="prev_hash does not match the previous event")
        try:
            iso = f"{at[:10]}T{at[11:]}+00:00" if sqlite_text else at
            if digest.__class__ is bytes:
                ok = text_digest(seq, iso, instance_id, actor, role, type_, element_id, details,
                                 prev.hex()).digest() == digest
            else:
                ok = text_hash(seq, iso, instance_id, actor, role, type_, element_id, details, prev) == digest
        except (TypeError, AttributeError):  # a NULL where text belongs, or text where bytes belong: tampered
            ok = False
        if not ok and not _matches_after_normalising(normalise, seq, at, instance_id, actor, role, type_,
                                                     element_id, details, prev, digest):
            return RunResult(count, first_seq, first_prev, bad=seq, reason="content does not match its hash")
        expected_seq, expected_prev = seq + 1, digest
    return RunResult(count, first_seq, first_prev, (expected_seq or 1) - 1, hex_text(expected_prev) or GENESIS_HASH)


def _matches_after_normalising(normalise: Callable[[Any], str | None], seq: int, at: Any, *rest: Any) -> bool:
    """The slow path: the timestamp in its hashed form and both hashes as hex text (however they were stored)."""
    iso = normalise(at)
    *fields, prev, digest = rest
    prev, digest = hex_text(prev), hex_text(digest)
    if iso is None or (iso == at and (prev, digest) == rest[-2:]):
        return False
    try:
        return text_hash(seq, iso, *fields, prev) == digest
    except TypeError:
        return False


@dataclass(frozen=True)
class Snapshot:
    """The chain head and the stored seq range, read in one statement so they agree with each other."""

    head_seq: int
    head_hash: str
    min_seq: int | None
    max_seq: int | None
    rows: int


def read_snapshot(cursor: Any) -> Snapshot:
    """One consistent look at the head and the events table."""
    cursor.execute("SELECT (SELECT seq FROM audit_head WHERE id = 1), (SELECT hash FROM audit_head WHERE id = 1), "
                   "(SELECT min(seq) FROM audit_events), (SELECT max(seq) FROM audit_events), "
                   "(SELECT count(*) FROM audit_events)")
    head_seq, head_hash, low, high, rows = cursor.fetchone()
    return Snapshot(head_seq or 0, head_hash or GENESIS_HASH, low, high, rows)


def iter_rows(connection: Any, dialect: str, low: int | None, high: int, batch: int = BATCH) -> Iterator[tuple]:
    """Rows with low < seq <= high (no lower bound when low is None) in seq order, streamed in batches.

    One query read as it goes (a server-side cursor on PostgreSQL): paging with LIMIT re-plans and re-sorts.
    """
    p = _PARAM[dialect]
    sql = (f"SELECT seq, {_AT_SQL[dialect]}, instance_id, actor, role, type, element_id, details, prev_hash, hash "
           f"FROM audit_events WHERE seq > {p} AND seq <= {p} ORDER BY seq")
    # binary results on PostgreSQL: the hashes arrive as their bytes, not as hex text to parse (a fifth less CPU)
    cursor = connection.cursor(name="audit_verify", binary=True) if dialect == "postgresql" else connection.cursor()
    try:
        # rows before the chain's start (seq <= 0) are tampering too, so the open lower bound reads them
        cursor.execute(sql, (-(2**62) if low is None else low, high))
        while rows := cursor.fetchmany(batch):
            yield from rows
    finally:
        cursor.close()


def _connect(dialect: str, url: str) -> Any:
    if dialect == "sqlite":
        import sqlite3

        path = url.split("///", 1)[1]
        return sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
    import psycopg

    return psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://", 1))


def scan_range(dialect: str, url: str, low: int | None, high: int) -> RunResult:
    """Worker: read and scan one seq range on its own connection."""
    connection = _connect(dialect, url)
    try:
        return scan_rows(iter_rows(connection, dialect, low, high), sqlite_text=dialect == "sqlite")
    finally:
        connection.close()


def scan_parallel(dialect: str, url: str, snapshot: Snapshot, workers: int | None = None) -> list[RunResult]:
    """Split the seq range into one chunk per CPU and scan them in worker processes (results in seq order)."""
    assert snapshot.min_seq is not None and snapshot.max_seq is not None
    workers = workers or min(os.cpu_count() or 1, 8)
    step = max(1, (snapshot.max_seq - max(snapshot.min_seq, 0)) // workers + 1)
    bounds = [min(max(snapshot.min_seq, 0) + k * step, snapshot.max_seq) for k in range(1, workers)]
    lows: list[int | None] = [None, *bounds]
    highs = [*bounds, snapshot.max_seq]
    # fork is cheap, but only safe while no other thread might hold a lock; otherwise a fresh interpreter
    method = "fork" if threading.active_count() == 1 and os.name == "posix" else "spawn"
    with ProcessPoolExecutor(max_workers=workers, mp_context=get_context(method)) as pool:
        return list(pool.map(scan_range, [dialect] * workers, [url] * workers, lows, highs))


def parallel_possible(dialect: str, url: str, rows: int) -> bool:
    """Big chain, more than one CPU, a database a second process can open, and workers that start cheaply (fork,
    so only in a single-threaded process such as the CLI; a threaded web server verifies in one process)."""
    in_memory = dialect == "sqlite" and (url in ("sqlite://", "sqlite:///:memory:") or "mode=memory" in url)
    return (dialect in _AT_SQL and not in_memory and rows >= PARALLEL_MIN_EVENTS and (os.cpu_count() or 1) > 1
            and threading.active_count() == 1 and os.name == "posix")
