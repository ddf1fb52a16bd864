"""Audit export formats: JSON Lines and CSV, with the chain hashes, so a copy can be verified elsewhere."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator

from .tables import AuditRecord

COLUMNS = ("seq", "at", "instance_id", "actor", "role", "type", "element_id", "details", "prev_hash", "hash",
           "readable_details")
FORMATS = ("jsonl", "csv")


def _row(record: AuditRecord) -> dict[str, object]:
    """`details` is the stored text the hash covers (personal values as their payload digest), so the copy can be
    verified elsewhere; `readable_details` has the personal values merged back while they are still held."""
    stored = getattr(record, "stored_details", None) or record.details
    return {"seq": record.seq, "at": record.at.isoformat(timespec="microseconds"), "instance_id": record.instance_id,
            "actor": record.actor, "role": record.role, "type": record.type, "element_id": record.element_id,
            "details": stored, "prev_hash": record.prev_hash, "hash": record.hash,
            "readable_details": record.details if record.details != stored else None}


def export_lines(records: Iterable[AuditRecord], fmt: str) -> Iterator[str]:
    """Lines of the export (details stay the exact canonical JSON that was hashed)."""
    if fmt == "jsonl":
        for record in records:
            yield json.dumps(_row(record), ensure_ascii=False) + "\n"
        return
    if fmt != "csv":
        raise ValueError(f"format must be one of {', '.join(FORMATS)}")
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS)
    writer.writeheader()
    for record in records:
        writer.writerow(_row(record))
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    yield buffer.getvalue()
