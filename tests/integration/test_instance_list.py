"""The instance list and the yearly reports read through indexes; rows, order and visibility stay as they were.

Each result is compared with the plain query the list used before (one OR over the whole table), on a mixed
set of instances: several processes, organisers, statuses and decisions.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from builders import AUDITOR, EVENTS_OFFICE, ORGANISER, SECURITY, event_request
from sqlalchemy import or_, select

from engine import access, services
from engine.model import Actor, InstanceSummary
from engine.reporting.dashboard import dashboard_figures
from engine.reporting.ofs import RequestRow, academic_year_bounds, ofs_return, utc_bounds
from engine.tables import InstanceRecord, ProcessVersionRecord

OTHER_ORGANISER = Actor("oscar", frozenset({"organiser"}))
PREVENT_LEAD_WHO_ORGANISES = Actor("pat", frozenset({"prevent_lead", "organiser"}))
ADMIN = Actor("ada", frozenset({"admin"}))  # admins do not read every case
ACTORS = (ORGANISER, OTHER_ORGANISER, EVENTS_OFFICE, SECURITY, PREVENT_LEAD_WHO_ORGANISES, AUDITOR, ADMIN)
STARTERS = ("olivia", "oscar", "pat", "evan", "sam")
STATUSES = ("running", "completed", "cancelled", "error")
DECISIONS = ("approved", "rejected", None)


def _populate(engine, count: int = 240) -> None:
    """`count` instances spread over every deployed process, the starters, statuses and decisions."""
    with engine.new_uow() as uow:
        versions = uow.session.execute(select(ProcessVersionRecord.process_key, ProcessVersionRecord.id)).all()
        began = datetime(2026, 1, 5, 9, tzinfo=UTC)
        for n in range(count):
            key, version_id = versions[(n * 7) % len(versions)]
            decision = DECISIONS[n % len(DECISIONS)]
            uow.session.add(InstanceRecord(
                process_version_id=version_id, process_key=key, status=STATUSES[(n // 3) % len(STATUSES)],
                state="", summary={"title": f"case {n}", **({"decision": decision} if decision else {})},
                started_by=STARTERS[(n * 5 + n // 11) % len(STARTERS)], started_at=began + timedelta(hours=n)))
        uow.commit()


def _reference(engine, actor: Actor, *, process: str | None = None, status: str | None = None,
               decision: str | None = None, limit: int = 200, offset: int = 0) -> list[InstanceSummary]:
    """The list as a single OR query over the visibility rules (before the index-ordered branches): your own
    requests except restricted cases you may not see, and every case of a process you work on or are restricted
    to."""
    with engine.new_uow(readonly=True) as uow:
        query = select(InstanceRecord, ProcessVersionRecord.version).join(
            ProcessVersionRecord, ProcessVersionRecord.id == InstanceRecord.process_version_id)
        if not actor.has_role(*access.READ_ALL_ROLES):
            ids = uow.session.execute(select(ProcessVersionRecord.id)).scalars()
            versions = [engine.pinned_version(uow, i) for i in ids]
            staff = access.staff_roles(actor)
            worked = sorted({v.key for v in versions if (actor.has_role(*access.restricted_roles(v))
                             if access.restricted_roles(v) else staff & v.candidate_groups)})
            withheld = sorted({v.key for v in versions if access.restricted_roles(v)} - set(worked))
            query = query.where(or_((InstanceRecord.started_by == actor.username)
                                    & InstanceRecord.process_key.not_in(withheld),
                                    InstanceRecord.process_key.in_(worked)))
        if process:
            query = query.where(InstanceRecord.process_key == process)
        if status:
            query = query.where(InstanceRecord.status == status)
        if decision:
            query = query.where(InstanceRecord.summary["decision"].as_string() == decision)
        query = query.order_by(InstanceRecord.id.desc()).limit(limit).offset(offset)
        return [InstanceSummary(id=r.id, process_key=r.process_key, process_version=number, status=r.status,
                                started_by=r.started_by, started_at=r.started_at, ended_at=r.ended_at,
                                summary=dict(r.summary)) for r, number in uow.session.execute(query)]


@pytest.fixture
def populated(deployed):
    _populate(deployed)
    return deployed


def test_each_reader_sees_exactly_what_the_visibility_rules_allow(populated):
    everything = services.list_instances(populated, AUDITOR, limit=1000)
    assert len(everything) == 240 and [i.id for i in everything] == sorted((i.id for i in everything), reverse=True)
    for actor in ACTORS:
        listed = services.list_instances(populated, actor, limit=1000)
        assert listed == _reference(populated, actor, limit=1000), actor.username
    own = services.list_instances(populated, ORGANISER, limit=1000)
    assert own and {i.started_by for i in own} == {"olivia"}  # organisers: their own requests only
    assert {i.started_by for i in services.list_instances(populated, ADMIN, limit=1000)} <= {"ada"}
    staff = services.list_instances(populated, EVENTS_OFFICE, limit=1000)
    assert {i.process_key for i in staff if i.started_by != "evan"} == {"event_approval"}
    mixed = services.list_instances(populated, PREVENT_LEAD_WHO_ORGANISES, limit=1000)
    assert len({i.id for i in mixed}) == len(mixed)  # own requests of a worked process are listed once


@pytest.mark.parametrize("filters", [
    {"status": "running"}, {"status": "error"}, {"process": "event_approval"}, {"process": "information_sharing"},
    {"decision": "approved"}, {"decision": "rejected", "status": "completed"},
    {"process": "event_approval", "status": "running", "decision": "approved"}, {"process": "no_such_process"},
    {"process": "", "status": "", "decision": ""},
])
def test_filters_give_the_same_rows_for_every_reader(populated, filters):
    for actor in ACTORS:
        assert services.list_instances(populated, actor, **filters) == _reference(populated, actor, **filters), \
            actor.username


@pytest.mark.parametrize("actor", [ORGANISER, EVENTS_OFFICE, SECURITY, PREVENT_LEAD_WHO_ORGANISES, AUDITOR])
def test_offset_pages_are_consecutive_and_disjoint(populated, actor):
    whole = services.list_instances(populated, actor, limit=1000)
    pages = [services.list_instances(populated, actor, limit=7, offset=offset) for offset in range(0, 250, 7)]
    assert [i for page in pages for i in page] == whole
    for offset in (0, 7, 21, len(whole) - 3, len(whole)):
        assert services.list_instances(populated, actor, limit=7, offset=offset) == \
            _reference(populated, actor, limit=7, offset=offset)
    assert services.list_instances(populated, actor, status="completed", limit=5, offset=5) == \
        _reference(populated, actor, status="completed", limit=5, offset=5)


@pytest.mark.parametrize("actor", [ORGANISER, SECURITY, AUDITOR])
def test_keyset_pages_match_offset_pages(populated, actor):
    whole = services.list_instances(populated, actor, limit=1000)
    walked, before = [], None
    while page := services.list_instances(populated, actor, limit=9, before_id=before):
        walked.extend(page)
        before = page[-1].id
    assert walked == whole


def _event_requests(engine) -> None:
    """Decided event requests over three academic years, some decided in a later year than submitted."""
    with engine.new_uow() as uow:
        [version_id] = uow.session.execute(select(ProcessVersionRecord.id).where(
            ProcessVersionRecord.process_key == "event_approval")).scalars().all()[:1]
        for n in range(90):
            submitted = datetime(2024, 6, 1, 10, tzinfo=UTC) + timedelta(days=11 * n)
            lag = (3, 70, 400)[n % 3]  # decided soon, after the summer, or more than a year later
            decided = (submitted + timedelta(days=lag)).date().isoformat()
            summary = {"title": f"event {n}", "ofs_category": ("approved", "rejected_prevent", None)[n % 3],
                       "decision": ("approved", "rejected", "withdrawn")[n % 3], "risk_level": "LOW"}
            if n % 5:
                summary |= {"decided_on": decided, "final_decision_on": decided if n % 4 else decided + "T12:00"}
            uow.session.add(InstanceRecord(
                process_version_id=version_id, process_key="event_approval", status="completed", state="",
                summary=summary, started_by="olivia", started_at=submitted))
        uow.commit()


def _every_request(engine, until: datetime) -> list[RequestRow]:
    """Every event request submitted before `until`: what the reports read before the date bounds."""
    with engine.new_uow(readonly=True) as uow:
        rows = uow.session.execute(select(InstanceRecord.id, InstanceRecord.started_at, InstanceRecord.status,
                                          InstanceRecord.summary)
                                   .where(InstanceRecord.process_key == "event_approval",
                                          InstanceRecord.started_at < until).order_by(InstanceRecord.id))
        return [RequestRow(r.id, r.started_at, r.status, r.summary or {}) for r in rows]


@pytest.mark.parametrize("year", [2023, 2024, 2025, 2026])
def test_the_ofs_return_reads_only_its_year_and_counts_the_same(deployed, year):
    _event_requests(deployed)
    report = services.ofs_report(deployed, AUDITOR, year)
    report.pop("staff_awareness")
    _, until = utc_bounds(*academic_year_bounds(year))
    assert report == ofs_return(_every_request(deployed, until), [], [], year)


@pytest.mark.parametrize("first, last", [("2024-08-01", "2025-07-31"), ("2025-01-01", "2025-03-31"),
                                         ("2025-08-01", "2026-07-31"), ("2024-06-01", "2027-05-31")])
def test_the_dashboard_reads_only_its_range_and_counts_the_same(deployed, first, last):
    _event_requests(deployed)
    figures = services.dashboard_report(deployed, AUDITOR, first, last)
    day_from, day_to = date.fromisoformat(first), date.fromisoformat(last)
    _, until = utc_bounds(day_from, day_to)
    expected = dashboard_figures(_every_request(deployed, until), [], [], 0, day_from, day_to)
    assert figures == expected


def test_restricted_cases_are_listed_to_their_roles_and_not_to_their_raiser(deployed):
    """prevent_concern is restrictedTo the Prevent lead, DPO and auditors: they list it (the DPO works no task of
    it); the raiser gets a receipt instead of a list row, so no summary or decision filter can reveal the outcome."""
    concern = services.start_instance(deployed, "prevent_concern", {
        "subject_name": "B. Visitor", "subject_relationship": "visitor", "observed": "Leaflets of a proscribed group.",
        "observed_on": "2027-02-26"}, ORGANISER)
    request = services.start_instance(deployed, "event_approval", event_request(), ORGANISER)
    for reader in (Actor("dana", frozenset({"dpo"})), Actor("priya", frozenset({"prevent_lead"})), AUDITOR):
        assert concern.id in {i.id for i in services.list_instances(deployed, reader)}, reader.username
    assert [i.id for i in services.list_instances(deployed, ORGANISER)] == [request.id]
    assert services.list_instances(deployed, ORGANISER, process="prevent_concern") == []
    assert concern.id not in {i.id for i in services.list_instances(deployed, EVENTS_OFFICE)}
    assert services.list_instances(deployed, Actor("dana", frozenset({"dpo"})), process="event_approval") == []
