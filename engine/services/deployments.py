"""Deploy service: register new, content-hashed process versions and form versions."""

from __future__ import annotations

import hashlib
import json

from sqlalchemy import func, select

from ..audit import AuditEventType
from ..bootstrap import PinnedVersion, WorkflowEngine
from ..catalog import Catalog
from ..errors import FormNotFoundError
from ..model import Actor, DeployResult, ProcessView
from ..tables import FormRecord, ProcessVersionRecord


def deploy(engine: WorkflowEngine, catalog: Catalog, actor: Actor, *, reason: str | None = None) -> DeployResult:
    """Store every changed process and form as a new version; unchanged ones are a no-op. One transaction.

    `reason` (required on the admin pages) is audited as `deployment_approved` with what was registered.
    """
    deployed: list[tuple[str, int]] = []
    unchanged: list[str] = []
    forms_deployed: list[str] = []
    with engine.new_uow() as uow:
        session = uow.session
        for form in catalog.forms.values():
            digest = hashlib.sha256(form.source.encode("utf-8")).hexdigest()
            exists = session.execute(select(FormRecord.id).where(
                FormRecord.form_id == form.id, FormRecord.content_hash == digest)).first()
            if not exists:
                session.add(FormRecord(form_id=form.id, content_hash=digest, file_name=form.file_name,
                                       source=form.source))
                forms_deployed.append(form.id)
        for bundle in catalog.bundles:
            exists = session.execute(select(ProcessVersionRecord.version).where(
                ProcessVersionRecord.process_key == bundle.key,
                ProcessVersionRecord.content_hash == bundle.content_hash)).first()
            if exists:
                unchanged.append(bundle.key)
                continue
            latest = session.execute(select(func.max(ProcessVersionRecord.version)).where(
                ProcessVersionRecord.process_key == bundle.key)).scalar_one_or_none() or 0
            session.add(ProcessVersionRecord(
                process_key=bundle.key, version=latest + 1, name=bundle.name, content_hash=bundle.content_hash,
                sources=bundle.sources, spec_json=bundle.spec_json, start_form_id=bundle.start_form_id,
                candidate_groups=list(bundle.candidate_groups), starter_groups=list(bundle.starter_groups),
                deployed_by=actor.username))
            deployed.append((bundle.key, latest + 1))
            uow.audit.append(AuditEventType.process_deployed, None, actor.username, role=actor.primary_role,
                             element_id=bundle.key, version=latest + 1, content_hash=bundle.content_hash,
                             files=sorted(bundle.sources))
        if reason is not None:
            uow.audit.append("deployment_approved", None, actor.username, role=actor.primary_role, reason=reason,
                             deployed=[f"{k} v{v}" for k, v in deployed], unchanged=unchanged, forms=forms_deployed)
        uow.commit()
    return DeployResult(tuple(deployed), tuple(unchanged), tuple(forms_deployed))

def can_start(version: PinnedVersion, actor: Actor) -> bool:
    """Starter groups from `camunda:candidateStarterGroups`; none set means any organiser."""
    allowed = version.starter_groups or frozenset({"organiser"})
    return actor.has_role(*allowed)

def list_processes(engine: WorkflowEngine, actor: Actor) -> list[ProcessView]:
    """The newest version of every deployed process, and whether `actor` may start it."""
    with engine.new_uow(readonly=True) as uow:
        newest = select(ProcessVersionRecord.process_key, func.max(ProcessVersionRecord.version).label("v")) \
            .group_by(ProcessVersionRecord.process_key).subquery()
        rows = uow.session.execute(select(ProcessVersionRecord).join(
            newest, (ProcessVersionRecord.process_key == newest.c.process_key)
            & (ProcessVersionRecord.version == newest.c.v)).order_by(ProcessVersionRecord.process_key)).scalars()
        views = []
        for record in rows:
            version = engine.pinned_version(uow, record.id)
            views.append(ProcessView(key=record.process_key, name=record.name, version=record.version,
                                     version_id=record.id, content_hash=record.content_hash,
                                     start_form_id=record.start_form_id, can_start=can_start(version, actor),
                                     deployed_at=record.deployed_at))
        return views

def get_form(engine: WorkflowEngine, form_id: str) -> dict:
    """The newest deployed definition of a form (Camunda Forms JSON)."""

    with engine.new_uow(readonly=True) as uow:
        source = uow.session.execute(select(FormRecord.source).where(FormRecord.form_id == form_id)
                                     .order_by(FormRecord.id.desc()).limit(1)).scalar_one_or_none()
    if source is None:
        raise FormNotFoundError(f"no form {form_id!r} is deployed")
    return json.loads(source)
