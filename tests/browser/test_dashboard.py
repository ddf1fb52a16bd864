"""In a real browser: the dashboard's SVG charts, the OfS return with drill-down, and the DPO pages pass axe."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from engine import services
from engine.process_functions import ofs_category_of
from engine.tables import InstanceRecord, ProcessVersionRecord, SharingLogRecord

pytestmark = pytest.mark.browser
OUTCOMES = (("approved", None, None), ("approved_with_conditions", "prevent", None),
            ("approved_with_conditions", "non_prevent", None), ("rejected", None, "prevent_risk"),
            ("rejected", None, "procedural"), ("not_in_scope", None, None))


def _seed(engine) -> None:
    """A year of requests (summaries as the process writes them) and a few shares, once per server."""
    rng = random.Random(7)
    with engine.new_uow() as uow:
        if uow.session.execute(select(InstanceRecord.id).where(InstanceRecord.business_key == "seed")).first():
            return
        version_id = uow.session.execute(select(ProcessVersionRecord.id).where(
            ProcessVersionRecord.process_key == "event_approval")).scalars().first()
        for i in range(240):
            submitted = date(2025, 8, 1) + timedelta(days=rng.randrange(0, 350))
            decision, condition, rejection = rng.choice(OUTCOMES)
            decided = submitted + timedelta(days=rng.randrange(0, 12))
            summary = {"title": f"Seeded event {i}", "risk_level": rng.choice(("LOW", "LOW", "MEDIUM", "HIGH")),
                       "decision": decision, "final_decision_on": decided.isoformat()}
            if decision != "not_in_scope":
                summary.update(decided_on=decided.isoformat(), condition_reason_category=condition,
                               rejection_reason_category=rejection, decision_reasons="Not mitigable in time.",
                               ofs_category=ofs_category_of(decision, condition, rejection))
            uow.session.add(InstanceRecord(process_version_id=version_id, process_key="event_approval",
                                           business_key="seed", status=rng.choice(("completed", "running")),
                                           state="{}", summary=summary, started_by="olivia", lock_version=1,
                                           started_at=datetime.combine(submitted, time(10), UTC)))
        for direction, decision in (("inbound", "shared"), ("inbound", "declined"), ("outbound", "query_sent")):
            uow.session.add(SharingLogRecord(direction=direction, decision=decision, counterpart_org="North Uni",
                                             speaker="Dr Ada Visitor", decided_by="priya", data_requested=[],
                                             data_categories_shared=["dates"], details={}, transmitted=True,
                                             created_at=datetime(2025, 11, 3, tzinfo=UTC)))
        uow.commit()
    for name, role in (("priya", "prevent_lead"), ("dana", "dpo")):
        if name not in {u.username for u in services.list_users(engine)}:
            services.add_user(engine, name, [role], password=f"pw-{name}", email=f"{name}@example.ac.uk")


def test_prevent_lead_reads_the_dashboard_charts_and_the_ofs_return(ui_factory, live_server):
    _seed(live_server.engine)
    lead = ui_factory()
    lead.login("priya")
    page = lead.goto("/reports/dashboard?from=2025-08-01&to=2026-07-31", "dashboard")
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
    expect(page.get_by_role("img", name="Decisions per month")).to_be_visible()
    expect(page.get_by_role("img", name="Requests by risk band")).to_be_visible()
    page.get_by_role("img", name="Decisions per month").screenshot(
        path=str(lead_dir() / "dashboard-decisions-per-month.png"))
    page.get_by_label("From").fill("2026-01-01")
    page.get_by_role("button", name="Show").click()
    lead.check("dashboard-filtered")
    expect(page.get_by_text("From 2026-01-01 to 2026-07-31")).to_be_visible()

    page = lead.goto("/reports/ofs?year=2025", "ofs-return")
    expect(page.get_by_role("heading", name="OfS annual return 2025/26")).to_be_visible()
    page.locator("details").first.locator("summary").click()
    lead.check("ofs-return-drilldown")
    expect(page.get_by_role("link", name="Seeded event").first).to_be_visible()


def test_dpo_uses_the_sharing_log_holds_and_subject_access(ui_factory, live_server):
    _seed(live_server.engine)
    dpo = ui_factory()
    dpo.login("dana")
    page = dpo.goto("/reports/sharing-log?from=2025-08-01&to=2026-07-31", "sharing-log")
    expect(page.get_by_text("3 entries")).to_be_visible()
    page = dpo.goto("/reports/retention", "retention")
    page.get_by_label("Record number").fill("abc")
    page.get_by_label("Reason").fill("Pending claim")
    page.get_by_role("button", name="Set legal hold").click()
    dpo.check("retention-error")
    expect(page.get_by_role("alert")).to_contain_text("Not a valid number")
    dpo.goto("/reports/subject-access", "subject-access")


def lead_dir():
    # The path, not an import: with the whole suite collected, `conftest` names tests/conftest.py.
    screenshots = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
    screenshots.mkdir(parents=True, exist_ok=True)
    return screenshots
