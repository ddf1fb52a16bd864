"""Instance services: start, view, list, history."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

from sqlalchemy import ColumnElement, select, true, union_all

from .. import access, runtime
from ..audit import AuditEventType, instance_payloads
from ..bootstrap import PinnedVersion, WorkflowEngine
from ..errors import InstanceNotFoundError, InvalidDataError, PermissionDeniedError
from ..model import OUTCOME_FIELDS, Actor, AuditEntry, InstanceSummary, InstanceView
from ..tables import AuditRecord, InstanceRecord, ProcessVersionRecord, TaskRecord
from ..unit_of_work import UnitOfWork
from . import idempotency
from .deployments import can_start
from .progress import save_progress, task_view


def start_instance(engine: WorkflowEngine, process_key: str, data: Any, actor: Actor,
                   business_key: str | None = None, *, idempotency_key: str | None = None) -> InstanceView:
    """Validate the start form, start the newest version of `process_key` and run it until it needs input.

    With `idempotency_key`, a retry of the same request returns the instance the first one started.
    """
    scope, digest = f"start:{process_key}", idempotency.request_digest(f"start:{process_key}", [data, business_key])
    with engine.new_uow() as uow:
        if idempotency_key and (done := idempotency.find_previous(uow, actor.username, idempotency_key, scope,
                                                                  digest)) is not None:
            return current_view(engine, uow, done, actor)
        version = engine.latest_version(uow, process_key)
        if not can_start(version, actor):
            raise PermissionDeniedError(f"you may not start {process_key!r}")
        clean = _validate_start_data(version, data, engine)
        workflow = engine.new_workflow(version)
        record = InstanceRecord(process_version_id=version.id, process_key=version.key, business_key=business_key,
                                status="running", state="", summary={}, started_by=actor.username,
                                started_at=engine.now())
        uow.session.add(record)
        uow.session.flush()  # the id is needed for the audit rows
        uow.audit.append(AuditEventType.instance_started, record.id, actor.username, role=actor.primary_role,
                         process=version.key, version=version.version, content_hash=version.content_hash,
                         data=clean)
        with runtime.tracking(workflow) as step:
            runtime.start(workflow, clean)
        open_rows = save_progress(engine, uow, record, workflow, version, actor, step, open_rows=[])
        if idempotency_key:
            idempotency.remember(uow, actor.username, idempotency_key, scope, digest, record.id)
        uow.commit()
        return _view(engine, uow, record, version, workflow, actor, open_rows, data=step.data)


def current_view(engine: WorkflowEngine, uow: UnitOfWork, instance_id: int, actor: Actor) -> InstanceView:
    """The instance as it is now (an idempotent replay: no audit, no change)."""
    record, version = load_visible(engine, uow, instance_id, actor)
    return _view(engine, uow, record, version, engine.load_workflow(record.state, version), actor)


def _validate_start_data(version: PinnedVersion, data: Any, engine: WorkflowEngine) -> dict[str, Any]:
    if version.start_form_id is None:
        if data:
            raise InvalidDataError(f"{version.key} has no start form and takes no data",
                                   fields={k: ["Unknown field."] for k in (data if isinstance(data, dict) else {})})
        return {}
    return version.forms[version.start_form_id].validate(data, now=engine.now())


def get_instance(engine: WorkflowEngine, instance_id: int, actor: Actor) -> InstanceView:
    """One instance with its current data and open tasks; the read itself is audited."""
    with engine.new_uow() as uow:
        record, version = load_visible(engine, uow, instance_id, actor)
        workflow = engine.load_workflow(record.state, version)
        uow.audit.append(AuditEventType.document_viewed, record.id, actor.username, role=actor.primary_role)
        uow.commit()
        return _view(engine, uow, record, version, workflow, actor)


def load_visible(engine: WorkflowEngine, uow: UnitOfWork, instance_id: int,
                 actor: Actor) -> tuple[InstanceRecord, PinnedVersion]:
    """The instance row and its pinned version, if `actor` may see it."""
    record = uow.session.get(InstanceRecord, instance_id)
    if record is None:
        raise InstanceNotFoundError(f"instance {instance_id} not found")
    version = engine.pinned_version(uow, record.process_version_id)
    if not access.can_view_instance(actor, record, version):
        raise PermissionDeniedError(f"you may not see instance {instance_id}")
    return record, version


def _view(engine: WorkflowEngine, uow: UnitOfWork, record: InstanceRecord, version: PinnedVersion,
          workflow: Any, actor: Actor, open_rows: list[TaskRecord] | None = None,
          data: dict[str, Any] | None = None) -> InstanceView:
    rows = open_rows if open_rows is not None else uow.session.execute(
        select(TaskRecord).where(TaskRecord.instance_id == record.id, TaskRecord.status == "open")
        .order_by(TaskRecord.created_at)).scalars()
    data = access.only_visible(data if data is not None else runtime.current_data(workflow),
                               access.visible_fields(actor, record, version))
    return InstanceView(id=record.id, process_key=record.process_key, process_version=version.version,
                        business_key=record.business_key, status=record.status, started_by=record.started_by,
                        started_at=record.started_at, ended_at=record.ended_at, data=data,
                        open_tasks=tuple(task_view(r) for r in rows),
                        outcome={k: data[k] for k in OUTCOME_FIELDS if k in data})


# What a list row needs: never the serialized workflow (`state`), which is the widest column by far.
LIST_COLUMNS = (InstanceRecord.id, InstanceRecord.process_key, InstanceRecord.status, InstanceRecord.started_by,
                InstanceRecord.started_at, InstanceRecord.ended_at, InstanceRecord.summary)


def summary_of(row: Any, version: int) -> InstanceSummary:
    """An InstanceSummary from a row of LIST_COLUMNS and its process version number."""
    return InstanceSummary(id=row.id, process_key=row.process_key, process_version=version, status=row.status,
                           started_by=row.started_by, started_at=row.started_at, ended_at=row.ended_at,
                           summary=dict(row.summary or {}))


def list_instances(engine: WorkflowEngine, actor: Actor, *, process: str | None = None, status: str | None = None,
                   decision: str | None = None, limit: int = 200, offset: int = 0,
                   before_id: int | None = None) -> list[InstanceSummary]:
    """Instances `actor` may see, newest first, filtered by process key, status and decision.

    Page with `offset`, or with `before_id` (only instances older than that id: the cost stays flat however deep).
    """
    with engine.new_uow(readonly=True) as uow:
        filters = _list_filters(process, status, decision, before_id)
        branches = _visible_branches(engine, uow, actor, process)
        if len(branches) == 1:
            query = select(*LIST_COLUMNS, ProcessVersionRecord.version).where(branches[0], *filters)
        else:  # one index range per branch, each cut at the page's end (IN drops the overlaps): no OR scan
            enough = offset + limit
            pages = [select(InstanceRecord.id).where(branch, *filters).order_by(InstanceRecord.id.desc())
                     .limit(enough).subquery() for branch in branches]
            ids = union_all(*(select(page.c.id) for page in pages)).subquery()
            query = select(*LIST_COLUMNS, ProcessVersionRecord.version).where(
                InstanceRecord.id.in_(select(ids.c.id)))
        query = (query.join(ProcessVersionRecord, ProcessVersionRecord.id == InstanceRecord.process_version_id)
                 .order_by(InstanceRecord.id.desc()).limit(limit).offset(offset))
        return [summary_of(row, row.version) for row in uow.session.execute(query)]


def _list_filters(process: str | None, status: str | None, decision: str | None,
                  before_id: int | None) -> list[ColumnElement[bool]]:
    """The list's optional filters as WHERE terms (each served by an index with the id order)."""
    filters: list[ColumnElement[bool]] = []
    if process:
        filters.append(InstanceRecord.process_key == process)
    if status:
        filters.append(InstanceRecord.status == status)
    if decision:
        filters.append(InstanceRecord.summary["decision"].as_string() == decision)
    if before_id is not None:
        filters.append(InstanceRecord.id < before_id)
    return filters


def _visible_branches(engine: WorkflowEngine, uow: UnitOfWork, actor: Actor,
                      process: str | None) -> list[ColumnElement[bool]]:
    """Conditions whose union is what `actor` may list: everything (readers of all), else their own requests
    and, one condition per process they work on, that process's requests (overlaps are listed once)."""
    if actor.has_role(*access.READ_ALL_ROLES):
        return [true()]
    worked, withheld = _worked_processes(engine, uow, actor)
    own = InstanceRecord.started_by == actor.username
    if withheld:  # a restricted case's raiser gets a receipt, not a list row (its summary and decision filter)
        own = own & InstanceRecord.process_key.not_in(withheld)
    return [own, *(InstanceRecord.process_key == key for key in worked if process in (None, "", key))]


def _worked_processes(engine: WorkflowEngine, uow: UnitOfWork, actor: Actor) -> tuple[list[str], list[str]]:
    """Keys of the processes whose cases the actor sees as staff (a staff role works on a version's tasks, or,
    for a `restrictedTo` process, the actor holds one of its roles), and of the restricted processes they may not
    see at all."""
    ids = uow.session.execute(select(ProcessVersionRecord.id)).scalars()
    staff = access.staff_roles(actor)
    worked, withheld = set(), set()
    for version in (engine.pinned_version(uow, i) for i in ids):
        restricted = access.restricted_roles(version)
        if restricted:
            (worked if actor.has_role(*restricted) else withheld).add(version.key)
        elif staff & version.candidate_groups:
            worked.add(version.key)
    return sorted(worked), sorted(withheld - worked)


def instance_history(engine: WorkflowEngine, instance_id: int, actor: Actor) -> list[AuditEntry]:
    """The instance's audit events in order; the read itself is audited (after it, so it is not in the list)."""
    with engine.new_uow(readonly=True) as uow:
        record, version = load_visible(engine, uow, instance_id, actor)
        fields = access.visible_fields(actor, record, version)
        instance_payloads(uow.session, instance_id)  # one query for all payloads, not one per event
        rows = uow.session.execute(select(AuditRecord).where(AuditRecord.instance_id == instance_id)
                                   .order_by(AuditRecord.seq)).scalars()
        entries = [_visible_entry(audit_entry(r), fields) for r in rows]
    record_view(engine, instance_id, actor, "history")
    return entries


def _visible_entry(entry: AuditEntry, fields: frozenset[str] | None) -> AuditEntry:
    """The entry with case data the reader may not see left out of its details."""
    if fields is None:
        return entry
    details = dict(entry.details)
    for key in ("data", "changes", "outcome"):
        if isinstance(details.get(key), dict):
            details[key] = access.only_visible(details[key], fields)
    return replace(entry, details=details)


def record_view(engine: WorkflowEngine, instance_id: int, actor: Actor, view: str) -> None:
    """Audit a read of case data (`view`: history, diagram, replay, export...) in one small unit of work."""
    with engine.new_uow() as uow:
        uow.audit.append(AuditEventType.document_viewed, instance_id, actor.username, role=actor.primary_role,
                         view=view)
        uow.commit()


def audit_entry(row: AuditRecord) -> AuditEntry:
    """An AuditEntry from a stored row."""
    return AuditEntry(seq=row.seq, at=row.at, actor=row.actor, role=row.role, type=row.type,
                      element_id=row.element_id, details=json.loads(row.details), hash=row.hash,
                      prev_hash=row.prev_hash, instance_id=row.instance_id)
