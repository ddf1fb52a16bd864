"""1,000 random tamperings of a real audit trail (edit a field, delete, insert, swap): verify catches every one."""

from __future__ import annotations

import random
from datetime import timedelta

from builders import EVENTS_OFFICE, ORGANISER, event_request
from sqlalchemy import select

from engine import services
from engine.audit import verify_chain
from engine.tables import AuditHeadRecord, AuditRecord

FIELDS = ("at", "instance_id", "actor", "role", "type", "element_id", "details", "prev_hash", "hash")


def _copy(record: AuditRecord, **changes) -> AuditRecord:
    values = {name: getattr(record, name) for name in ("seq", *FIELDS)}
    values.update(changes)
    return AuditRecord(**values)


def _changed(rng: random.Random, record: AuditRecord) -> AuditRecord:
    name = rng.choice(FIELDS)
    value = getattr(record, name)
    if name == "at":
        new = value + timedelta(microseconds=rng.randint(1, 10**9))
    elif name == "instance_id":
        new = (value or 0) + rng.randint(1, 5)
    elif name in ("prev_hash", "hash"):
        new = f"{rng.getrandbits(256):064x}"
    else:
        text = value or ""
        position = rng.randint(0, len(text))
        new = text[:position] + rng.choice("xyz{}\"0 ") + text[position:]
    return _copy(record, **{name: new})


def _tamper(rng: random.Random, chain: list[AuditRecord]) -> tuple[str, list[AuditRecord], int]:
    """Tamper once; return the kind, the tampered chain and the first sequence number that is no longer genuine."""
    rows = list(chain)
    kind = rng.choice(("edit", "delete", "insert", "swap"))
    k = rng.randrange(len(rows))
    if kind == "edit":
        rows[k] = _changed(rng, rows[k])
    elif kind == "delete":
        del rows[k]
        if rng.random() < 0.5:  # and renumber what follows, to hide the gap
            rows = rows[:k] + [_copy(r, seq=r.seq - 1) for r in rows[k:]]
    elif kind == "insert":
        forged = _copy(rng.choice(rows), actor="mallory")
        rows = rows[:k] + [_copy(forged, seq=k + 1)] + [_copy(r, seq=r.seq + 1) for r in rows[k:]]
    else:
        j = rng.choice([i for i in range(len(rows)) if rows[i].details != rows[k].details])
        rows[k], rows[j] = _copy(rows[j], seq=rows[k].seq), _copy(rows[k], seq=rows[j].seq)
        return kind, rows, min(k, j) + 1
    return kind, rows, k + 1


def test_every_one_of_1000_random_tamperings_is_detected(deployed):
    for title in ("One", "Two", "Three"):
        view = services.start_instance(deployed, "event_approval", event_request(title=title), ORGANISER)
        task = next(t for t in services.list_tasks(deployed, EVENTS_OFFICE) if t.instance_id == view.id)
        services.get_instance(deployed, view.id, EVENTS_OFFICE)
        services.complete_task(deployed, task.id, {"decision": "approved"}, EVENTS_OFFICE)
    with deployed.new_uow(readonly=True) as uow:
        chain = list(uow.session.execute(select(AuditRecord).order_by(AuditRecord.seq)).scalars())
        stored_head = uow.session.get(AuditHeadRecord, 1)
        head = AuditHeadRecord(id=1, seq=stored_head.seq, hash=stored_head.hash)
    assert len(chain) > 30
    assert verify_chain(chain, head).ok
    rng = random.Random(20261124)
    kinds: dict[str, int] = {}
    for attempt in range(1000):
        kind, tampered, first_bad = _tamper(rng, chain)
        result = verify_chain(tampered, head)
        assert not result.ok, f"tampering {attempt} ({kind}) went unnoticed"
        assert result.first_bad == first_bad, f"tampering {attempt} ({kind}): {result}"
        kinds[kind] = kinds.get(kind, 0) + 1
    assert set(kinds) == {"edit", "delete", "insert", "swap"}
