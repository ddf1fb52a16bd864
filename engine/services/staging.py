"""Deployments from the admin pages: stage uploaded files, validate them with what is deployed, diff, deploy.

Uploaded files overlay the newest deployed sources (matched by file name), so an admin may upload just the
files that changed. Imports difflib, SQLAlchemy, the catalog and the tables.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from datetime import datetime
from pathlib import PurePosixPath

from sqlalchemy import func, select

from ..bootstrap import WorkflowEngine
from ..catalog import Catalog, SourceFile, build_catalog
from ..errors import ConflictError, DefinitionProblem, InvalidDataError, NotFoundError, ProcessDefinitionError
from ..model import Actor, DeployResult
from ..tables import FormRecord, ProcessVersionRecord, StagedDeploymentRecord
from ..unit_of_work import UnitOfWork
from .admin import check_reason, require_admin
from .deployments import deploy

KINDS = {"bpmn": "processes", "dmn": "processes", "form": "forms"}
MAX_FILE_CHARS = 2_000_000


@dataclass(frozen=True)
class StagedReview:
    """What an admin sees before deploying: the problems found and a unified diff per uploaded file."""

    id: int
    uploaded_by: str
    uploaded_at: datetime
    deployed_at: datetime | None
    files: tuple[str, ...]
    problems: tuple[DefinitionProblem, ...]
    diffs: dict[str, str]

    @property
    def valid(self) -> bool:
        return not self.problems


def stage_upload(engine: WorkflowEngine, uploads: dict[str, str], actor: Actor) -> int:
    """Keep uploaded BPMN, DMN and form files for review; returns the staging id."""
    require_admin(actor)
    problems: dict[str, list[str]] = {}
    files: dict[str, str] = {}
    for name, text in uploads.items():
        base = PurePosixPath(name.replace("\\", "/")).name
        kind = base.rsplit(".", 1)[-1].lower() if "." in base else ""
        if kind not in KINDS:
            problems.setdefault("files", []).append(f"{base or '(no name)'}: only .bpmn, .dmn and .form files.")
        elif len(text) > MAX_FILE_CHARS:
            problems.setdefault("files", []).append(f"{base}: larger than {MAX_FILE_CHARS} characters.")
        else:
            files[base] = text
    if not files and not problems:
        problems["files"] = ["Choose at least one .bpmn, .dmn or .form file."]
    if problems:
        raise InvalidDataError("the upload cannot be staged", fields=problems)
    with engine.new_uow() as uow:
        row = StagedDeploymentRecord(files=files, uploaded_by=actor.username, uploaded_at=engine.now())
        uow.session.add(row)
        uow.commit()
        return row.id


def review_staged(engine: WorkflowEngine, staged_id: int, actor: Actor) -> StagedReview:
    """Validate the staged files together with everything deployed, and diff each against its running version."""
    require_admin(actor)
    with engine.new_uow(readonly=True) as uow:
        row = _staged(uow, staged_id)
        current = deployed_sources(uow)
    merged = _merge(current, row.files)
    problems: tuple[DefinitionProblem, ...] = ()
    try:
        build_catalog(merged, engine.settings.roles)
    except ProcessDefinitionError as exc:
        problems = tuple(exc.problems)
    diffs = {}
    for base, text in sorted(row.files.items()):
        old_name = _deployed_name(current, base)
        old = current.get(old_name, "") if old_name else ""
        diffs[base] = "".join(difflib.unified_diff(
            old.splitlines(keepends=True), text.splitlines(keepends=True),
            fromfile=f"running/{base}" if old_name else "/dev/null", tofile=f"uploaded/{base}"))
    return StagedReview(row.id, row.uploaded_by, row.uploaded_at, row.deployed_at, tuple(sorted(row.files)),
                        problems, diffs)


def deploy_staged(engine: WorkflowEngine, staged_id: int, actor: Actor, reason: str) -> DeployResult:
    """Validate again and deploy the staged files; the deploy and its reason are audited together."""
    require_admin(actor)
    why = check_reason(reason)
    with engine.new_uow(readonly=True) as uow:
        row = _staged(uow, staged_id)
        if row.deployed_at is not None:
            raise ConflictError(f"staged deployment {staged_id} was already deployed")
        files = _merge(deployed_sources(uow), row.files)
    catalog: Catalog = build_catalog(files, engine.settings.roles)
    result = deploy(engine, catalog, actor, reason=why)
    with engine.new_uow() as uow:
        _staged(uow, staged_id).deployed_at = engine.now()
        uow.commit()
    return result


def deployed_sources(uow: UnitOfWork) -> dict[str, str]:
    """The newest deployed text of every file (`processes/x.bpmn`, `forms/y.form`)."""
    newest = select(ProcessVersionRecord.process_key, func.max(ProcessVersionRecord.version).label("v")) \
        .group_by(ProcessVersionRecord.process_key).subquery()
    versions = uow.session.execute(select(ProcessVersionRecord.sources).join(
        newest, (ProcessVersionRecord.process_key == newest.c.process_key)
        & (ProcessVersionRecord.version == newest.c.v)).order_by(ProcessVersionRecord.deployed_at)).scalars()
    files: dict[str, str] = {}
    for sources in versions:
        files.update(sources)
    for form in uow.session.execute(select(FormRecord).order_by(FormRecord.id)).scalars():
        files[form.file_name] = form.source
    return files


def _staged(uow: UnitOfWork, staged_id: int) -> StagedDeploymentRecord:
    row = uow.session.get(StagedDeploymentRecord, staged_id)
    if row is None:
        raise NotFoundError(f"no staged deployment {staged_id}")
    return row


def _deployed_name(current: dict[str, str], base: str) -> str | None:
    return next((name for name in current if PurePosixPath(name).name == base), None)


def _merge(current: dict[str, str], uploaded: dict[str, str]) -> list[SourceFile]:
    files = dict(current)
    for base, text in uploaded.items():
        files[_deployed_name(current, base) or f"{KINDS[base.rsplit('.', 1)[-1].lower()]}/{base}"] = text
    return [SourceFile(name, text) for name, text in sorted(files.items())]
