"""Page models for the staff UI: what each page shows, assembled from engine.services calls. No Flask here."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Generic, TypeVar

from engine import services
from engine.bootstrap import WorkflowEngine
from engine.errors import InvalidDataError, PermissionDeniedError, ProcessNotFoundError
from engine.model import OUTCOME_FIELDS, Actor, AuditEntry, ProcessView, TaskView

from .display import SummaryRow, display_value, sentence, summary_rows, when, words
from .form_data import Raw, flatten, parse_post

DUE_SOON = timedelta(days=2)
GROUP_WORDS = {"organiser": "you (the organiser)", "events_office": "the events office", "security": "security",
               "prevent_lead": "the Prevent lead", "senior_officer": "a senior officer",
               "appeal_officer": "the appeal officer", "dpo": "the data protection officer"}
T = TypeVar("T")
NO_FORM: dict[str, Any] = {"components": []}


@dataclass(frozen=True)
class TaskRow:
    """One inbox line: the task, what it is about, and how urgent it is."""

    task: TaskView
    title: str
    urgency: str | None  # "overdue", "due_soon" or None


@dataclass(frozen=True)
class Inbox:
    """The inbox: tasks assigned to me, tasks offered to my groups, and the processes to filter by."""

    mine: list[TaskRow]
    groups: list[TaskRow]
    processes: list[ProcessView]
    process: str | None


def urgency(due_at: datetime | None, now: datetime) -> str | None:
    """`overdue` once the due time has passed, `due_soon` within two days of it."""
    if due_at is None:
        return None
    return "overdue" if due_at < now else "due_soon" if due_at - now <= DUE_SOON else None


def load_inbox(engine: WorkflowEngine, actor: Actor, process: str | None) -> Inbox:
    """My open tasks and my groups' unclaimed ones, by due date, optionally for one process."""
    now = engine.now()

    def rows(scope: str) -> list[TaskRow]:
        return [TaskRow(t, str(t.title or f"{t.process_key} #{t.instance_id}"), urgency(t.due_at, now))
                for t in services.list_tasks(engine, actor, scope, process=process)
                if scope == "mine" or t.assignee is None]

    return Inbox(rows("mine"), rows("groups"), services.list_processes(engine, actor), process)


def startable_process(engine: WorkflowEngine, actor: Actor, key: str) -> ProcessView:
    """The newest version of `key`, if `actor` may start it and it has a start form."""
    for process in services.list_processes(engine, actor):
        if process.key == key:
            if not process.can_start:
                raise PermissionDeniedError(f"you may not start {process.name}")
            return process
    raise ProcessNotFoundError(f"no process {key!r} is deployed")


def start_schema(engine: WorkflowEngine, process: ProcessView) -> dict[str, Any]:
    """The start form of a process (an empty form when it has none)."""
    if process.start_form_id is None:
        return {"components": []}
    return services.get_form(engine, process.start_form_id)


@dataclass
class FormOutcome(Generic[T]):
    """What a form post led to: the service result, or the values and errors to show again."""

    result: T | None
    raw: Raw = field(default_factory=dict)
    errors: dict[str, list[str]] = field(default_factory=dict)


def initial_form(schema: Mapping[str, Any] | None, data: Mapping[str, Any] | None) -> FormOutcome[Any]:
    """A form as first shown: the engine's current data (or the form's defaults) and no errors."""
    return FormOutcome(None, flatten((schema or NO_FORM).get("components") or [], data or {}))


def submit_form(schema: Mapping[str, Any] | None, posted: Mapping[str, list[str]],
                call: Callable[[dict], T]) -> FormOutcome[T]:
    """Convert the post; an add/remove button re-renders, otherwise call the service and keep its field errors."""
    components = (schema or NO_FORM).get("components") or []
    action = (posted.get("_action") or ["submit"])[0]
    data = parse_post(components, posted, action)
    if action != "submit":
        return FormOutcome(None, flatten(components, data))
    try:
        return FormOutcome(call(data))
    except InvalidDataError as exc:
        return FormOutcome(None, flatten(components, data), exc.fields or {"_schema": [exc.message]})


@dataclass(frozen=True)
class Decision:
    """An earlier completed step: who did it, when, and the answers given."""

    name: str
    actor: str
    at: datetime
    answers: list[tuple[str, str]]


@dataclass(frozen=True)
class CaseContext:
    """What a reviewer needs beside the form: the request as submitted, the risk, the earlier decisions."""

    request: list[SummaryRow]
    risk: list[tuple[str, str]]
    decisions: list[Decision]


def case_context(engine: WorkflowEngine, actor: Actor, process_key: str, data: Mapping[str, Any],
                 history: list[AuditEntry]) -> CaseContext:
    """The instance's request, risk and earlier decisions, in plain words."""
    process = next((p for p in services.list_processes(engine, actor) if p.key == process_key), None)
    schema = start_schema(engine, process) if process else None
    risk = [(label, display_value(data[key])) for key, label in (
        ("risk_level", "Risk level"), ("risk_score", "Risk score"), ("required_mitigations", "Required mitigations"),
        ("notice_working_days", "Notice (working days)")) if key in data]
    decisions = [Decision(str(e.details.get("name") or e.element_id), e.actor, e.at,
                          [(sentence(words(k)), display_value(v)) for k, v in (e.details.get("data") or {}).items()
                           if v not in (None, "", [])])
                 for e in history if e.type == "task_completed"]
    return CaseContext(summary_rows(schema, data), risk, decisions)


@dataclass(frozen=True)
class RequestRow:
    """One of my requests in plain words, with the tasks of it that I can open."""

    instance_id: int
    title: str
    status: str
    outcome: list[tuple[str, str]]
    next_step: str
    my_tasks: list[TaskView]


def my_requests(engine: WorkflowEngine, actor: Actor) -> list[RequestRow]:
    """The requests I started, newest first."""
    rows = []
    for item in services.list_my_requests(engine, actor):
        summary, instance = item.instance.summary, item.instance
        outcome = [(sentence(words(k)), display_value(summary[k])) for k in OUTCOME_FIELDS
                   if summary.get(k) not in (None, "", [])]
        mine = [t for t in item.open_tasks if t.assignee == actor.username or actor.username in t.candidate_users
                or (t.assignee is None and actor.has_role(*t.candidate_groups))]
        rows.append(RequestRow(instance.id, str(summary.get("title") or f"{instance.process_key} #{instance.id}"),
                               words(instance.status), outcome,
                               next_step(instance.status, instance.ended_at, item.open_tasks, actor), mine))
    return rows


def next_step(status: str, ended_at: datetime | None, tasks: tuple[TaskView, ...], actor: Actor) -> str:
    """What happens next, in one sentence."""
    if status != "running":
        return f"Nothing more to do: finished {when(ended_at)}." if ended_at else "Nothing more to do."
    if not tasks:
        return "The system is processing the request; nobody needs to act yet."
    parts = []
    for task in tasks:
        who = ("you" if task.assignee == actor.username else task.assignee) or \
            " or ".join(GROUP_WORDS.get(g, words(g)) for g in task.candidate_groups) or "you"
        due = f", due {when(task.due_at)}" if task.due_at else ""
        parts.append(f"{task.name}: waiting for {who}{due}")
    return "; ".join(parts) + "."
