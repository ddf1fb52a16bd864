"""Wiring: bootstrap(settings) -> WorkflowEngine, the object every service function takes first."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, select

from . import runtime, serializer
from .clock import now as clock_now
from .config import OWNER_ROLES, Settings
from .db import begin_at_first_write, make_engine
from .errors import ProcessNotFoundError
from .form_loader import load_form
from .forms import FormDefinition
from .scripting import ScriptEngine
from .tables import ProcessVersionRecord
from .unit_of_work import UnitOfWork, make_session_factory


@dataclass(frozen=True)
class PinnedVersion:
    """An immutable, cached copy of a deployed process version."""

    id: int
    key: str
    name: str
    version: int
    content_hash: str
    spec_json: str
    sources: dict[str, str]
    start_form_id: str | None
    candidate_groups: frozenset[str]
    starter_groups: frozenset[str]
    forms: dict[str, FormDefinition]
    shared_specs: tuple[Any, dict[str, Any]] | None = None
    owner_form_ids: frozenset[str] = frozenset()  # forms of steps offered to requesters (accept conditions...)


class WorkflowEngine:
    """The wired engine: settings, database, script engine, and caches of pinned versions."""

    def __init__(self, settings: Settings, db: Engine, clock: Callable[[], datetime] = clock_now) -> None:
        self.settings = settings
        self.db = db
        self.clock = clock
        self.script_engine = ScriptEngine()
        self._sessions = make_session_factory(begin_at_first_write(db))
        self._read_sessions = make_session_factory(db.execution_options(sqlite_begin="DEFERRED"))
        # A lone read needs no transaction on PostgreSQL: without one it costs one round trip, not three.
        self._single_reads = begin_at_first_write(db.execution_options(sqlite_begin="DEFERRED"))
        self._versions: dict[int, PinnedVersion] = {}
        self._lock = threading.Lock()

    def new_uow(self, *, readonly: bool = False) -> UnitOfWork:
        """A unit of work; read-only ones do not take SQLite's write lock."""
        return UnitOfWork(self._read_sessions if readonly else self._sessions)

    def single_read(self) -> Connection:
        """A connection for one read statement (`with engine.single_read() as connection:`); on PostgreSQL it
        runs outside any transaction, which saves the BEGIN and ROLLBACK round trips around it."""
        return self._single_reads.connect()

    def now(self) -> datetime:
        """The engine's clock (aware UTC); tests may inject a fake one."""
        return self.clock()

    def pinned_version(self, uow: UnitOfWork, version_id: int) -> PinnedVersion:
        """The cached, immutable process version `version_id`."""
        cached = self._versions.get(version_id)
        if cached is not None:
            return cached
        record = uow.session.get(ProcessVersionRecord, version_id)
        if record is None:
            raise ProcessNotFoundError(f"process version {version_id} not found")
        pinned = _pin(record)
        with self._lock:
            self._versions[version_id] = pinned
        return pinned

    def latest_version(self, uow: UnitOfWork, process_key: str) -> PinnedVersion:
        """The newest deployed version of `process_key`."""
        version_id = uow.session.execute(
            select(ProcessVersionRecord.id).where(ProcessVersionRecord.process_key == process_key)
            .order_by(ProcessVersionRecord.version.desc()).limit(1)
        ).scalar_one_or_none()
        if version_id is None:
            raise ProcessNotFoundError(f"no process {process_key!r} is deployed")
        return self.pinned_version(uow, version_id)

    def new_workflow(self, version: PinnedVersion) -> Any:
        """A fresh workflow of `version`, on its shared spec objects when it has them."""
        return runtime.new_workflow(version.spec_json, self.script_engine, version.shared_specs)

    def load_workflow(self, state: str, version: PinnedVersion) -> Any:
        """Deserialize an instance's workflow against its pinned spec."""
        return serializer.loads(state, version.spec_json, self.script_engine, version.shared_specs)


def _pin(record: ProcessVersionRecord) -> PinnedVersion:
    forms = {}
    for name, text in record.sources.items():
        if name.endswith(".form"):
            form = load_form(text, name)
            forms[form.id] = form
    specs = serializer.load_specs(record.spec_json)
    owner_forms = {ext.get("formRef") for process in (specs[0], *specs[1].values())
                   for ext in (getattr(t, "extensions", None) or {} for t in process.task_specs.values())
                   if OWNER_ROLES & {g.strip() for g in str(ext.get("candidateGroups") or "").split(",")}}
    return PinnedVersion(
        owner_form_ids=frozenset(f for f in owner_forms if f),
        shared_specs=specs if serializer.specs_are_shareable(*specs) else None,
        id=record.id, key=record.process_key, name=record.name, version=record.version,
        content_hash=record.content_hash, spec_json=record.spec_json, sources=dict(record.sources),
        start_form_id=record.start_form_id, candidate_groups=frozenset(record.candidate_groups or ()),
        starter_groups=frozenset(record.starter_groups or ()), forms=forms)


def bootstrap(settings: Settings | None = None, *, clock: Callable[[], datetime] = clock_now) -> WorkflowEngine:
    """Build the engine from settings (environment by default). Does not touch the database yet."""
    settings = settings or Settings.from_env()
    return WorkflowEngine(settings, make_engine(settings.database_url), clock=clock)
