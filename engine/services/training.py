"""Training register services (SPEC §13): effect handlers of prevent_training, the register view, the CSV import."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from .. import process_functions
from ..bootstrap import WorkflowEngine
from ..effects import Effect
from ..errors import InvalidDataError, PermissionDeniedError
from ..model import Actor
from ..tables import InstanceRecord, TrainingRecord
from ..training_import import parse_training_csv
from ..unit_of_work import UnitOfWork
from .progress import effect_handler

REGISTER_ROLES = ("admin", "prevent_lead", "senior_officer", "auditor")
IMPORT_ROLES = ("admin", "prevent_lead")
STATUSES = ("current", "refresher_overdue", "assigned", "overdue")


@dataclass(frozen=True)
class RegisterRow:
    """One person's standing on one course: the latest assignment or completion."""

    person: str
    full_name: str | None
    department: str | None
    staff_role: str | None
    manager: str | None
    course: str
    training_type: str
    status: str  # current, refresher_overdue, assigned, overdue
    completed_on: str | None
    refresher_due_on: str | None
    complete_by: str | None
    certificate_ref: str | None
    source: str
    instance_id: int | None


@effect_handler("training_assigned")
def add_assignment(engine: WorkflowEngine, uow: UnitOfWork, record: InstanceRecord, effect: Effect,
                   actor: Actor) -> None:
    """A register row with status `assigned` for this instance."""
    p = effect.payload
    uow.session.add(TrainingRecord(
        person=p["person"], full_name=p.get("full_name"), department=p.get("department"),
        staff_role=p.get("staff_role"), manager=p.get("manager"), course=p["course"],
        training_type=p["training_type"], status="assigned", assigned_on=p.get("assigned_on"),
        complete_by=p.get("complete_by"), source="process", instance_id=record.id, recorded_by=actor.username))


@effect_handler("training_completed")
def complete_assignment(engine: WorkflowEngine, uow: UnitOfWork, record: InstanceRecord, effect: Effect,
                        actor: Actor) -> None:
    """Mark this instance's register row completed, with the refresher date the diagram worked out."""
    uow.session.flush()
    row = uow.session.execute(select(TrainingRecord).where(TrainingRecord.instance_id == record.id)
                              .order_by(TrainingRecord.id.desc()).limit(1)).scalar_one()
    p = effect.payload
    row.status, row.completed_on = "completed", p["completed_on"]
    row.certificate_ref, row.refresher_due_on = p.get("certificate_ref"), p.get("refresher_due_on")
    row.recorded_by = actor.username


def training_register(engine: WorkflowEngine, actor: Actor, *, department: str | None = None,
                      staff_role: str | None = None, status: str | None = None) -> list[RegisterRow]:
    """Who is trained and what is overdue: the latest entry per person and course, filtered; by person."""
    if not actor.has_role(*REGISTER_ROLES):
        raise PermissionDeniedError("the training register is for admins, the Prevent lead, senior officers "
                                    "and auditors")
    if status and status not in STATUSES:
        raise InvalidDataError(f"status must be one of {', '.join(STATUSES)}", fields={"status": ["Unknown status."]})
    today = process_functions.today()
    with engine.new_uow(readonly=True) as uow:
        query = select(TrainingRecord).order_by(TrainingRecord.id)
        if department:
            query = query.where(TrainingRecord.department == department)
        if staff_role:
            query = query.where(TrainingRecord.staff_role == staff_role)
        latest: dict[tuple[str, str], TrainingRecord] = {}
        for row in uow.session.execute(query).scalars():
            key = (row.person.lower(), row.course)
            if key not in latest or _newer(row, latest[key]):
                latest[key] = row
        rows = [_register_row(r, today) for r in latest.values()]
    rows = [r for r in rows if status is None or r.status == status]
    return sorted(rows, key=lambda r: (r.person.lower(), r.course))


def _newer(row: TrainingRecord, other: TrainingRecord) -> bool:
    """The later entry wins: completions by completion date, open assignments by assignment date."""
    return (row.completed_on or row.assigned_on or "", row.id) >= (other.completed_on or other.assigned_on or "",
                                                                   other.id)


def _register_row(row: TrainingRecord, today: str) -> RegisterRow:
    if row.status == "completed":
        status = "refresher_overdue" if row.refresher_due_on and row.refresher_due_on <= today else "current"
    else:
        status = "overdue" if row.complete_by and row.complete_by < today else "assigned"
    return RegisterRow(person=row.person, full_name=row.full_name, department=row.department,
                       staff_role=row.staff_role, manager=row.manager, course=row.course,
                       training_type=row.training_type, status=status, completed_on=row.completed_on,
                       refresher_due_on=row.refresher_due_on, complete_by=row.complete_by,
                       certificate_ref=row.certificate_ref, source=row.source, instance_id=row.instance_id)


def import_training_records(engine: WorkflowEngine, text: str, actor: Actor, *, file_name: str = "upload") -> int:
    """Validate a CSV of past training row by row; store all of it in one transaction, or nothing.

    :raises InvalidDataError: with `fields` {"line N": [...]} (or "file") naming every bad row.
    """
    if not actor.has_role(*IMPORT_ROLES):
        raise PermissionDeniedError("only admins and the Prevent lead may import training records")
    rows, problems = parse_training_csv(text, date.fromisoformat(process_functions.today()))
    if problems:
        count = sum(1 for k in problems if k.startswith("line "))
        where = f"{count} row(s)" if count else "the file"
        raise InvalidDataError(f"{file_name}: nothing was imported; fix {where} and try again", fields=problems)
    with engine.new_uow() as uow:
        for row in rows:
            uow.session.add(TrainingRecord(status="completed", source="import", recorded_by=actor.username, **row))
        uow.audit.append("training_imported", None, actor.username, role=actor.primary_role,
                         file_name=file_name, rows=len(rows), data=rows)
        uow.commit()
    return len(rows)
