"""Idempotency keys for start and complete: look up a retried request, record a new one in the same unit of work.

Imports SQLAlchemy, the audit helpers (canonical JSON) and the tables; the caller commits.
"""

from __future__ import annotations

import hashlib
from typing import Any

from sqlalchemy import select

from ..audit import canonical_json
from ..errors import ConflictError, InvalidDataError
from ..tables import IdempotencyKeyRecord
from ..unit_of_work import UnitOfWork

MAX_KEY_LENGTH = 200


class IdempotencyKeyReusedError(ConflictError):
    """The same key was sent before with a different request."""

    code = "idempotency_key_reused"


def request_digest(scope: str, body: Any) -> str:
    """SHA-256 over the operation and its body: two requests are "the same" when this matches."""
    return hashlib.sha256(canonical_json({"scope": scope, "body": body}).encode("utf-8")).hexdigest()


def check_key(key: str) -> None:
    """Refuse an empty or over-long key (nothing has been done yet)."""
    if not key or not key.strip() or len(key) > MAX_KEY_LENGTH:
        raise InvalidDataError("invalid Idempotency-Key",
                               fields={"Idempotency-Key": [f"Send 1 to {MAX_KEY_LENGTH} characters."]})


def find_previous(uow: UnitOfWork, actor: str, key: str, scope: str, digest: str) -> int | None:
    """The instance id a previous identical request produced, None if the key is new.

    :raises IdempotencyKeyReusedError: the key was used for a different request.
    """
    check_key(key)
    row = uow.session.execute(select(IdempotencyKeyRecord).where(
        IdempotencyKeyRecord.actor == actor, IdempotencyKeyRecord.key == key)).scalar_one_or_none()
    if row is None:
        return None
    if row.scope != scope or row.request_digest != digest:
        raise IdempotencyKeyReusedError(
            "this Idempotency-Key was already used for a different request; send a new key")
    return row.instance_id


def remember(uow: UnitOfWork, actor: str, key: str, scope: str, digest: str, instance_id: int) -> None:
    """Record the key with the state change; a concurrent twin fails on the unique (actor, key) at commit."""
    uow.session.add(IdempotencyKeyRecord(actor=actor, key=key, scope=scope, request_digest=digest,
                                         instance_id=instance_id))
