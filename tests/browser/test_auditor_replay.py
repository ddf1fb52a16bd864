"""In a real browser: an auditor steps through a decided HIGH-risk request, sees the data at each step and what
changed, re-executes it, checks the chain and prints the history; every page passes axe-core (WCAG 2.2 AA)."""

from __future__ import annotations

import re

import pytest
from high_risk import DECISION_REASONS, READER, drive_high_risk_request
from playwright.sync_api import expect

from engine import services
from engine.errors import EngineError

pytestmark = pytest.mark.browser
AUDITOR = "audra"


@pytest.fixture
def decided(live_server) -> int:
    try:
        services.add_user(live_server.engine, AUDITOR, ["auditor"], password=f"pw-{AUDITOR}")
    except EngineError:
        pass  # made by an earlier test on the same server
    return drive_high_risk_request(live_server.engine)


def test_an_auditor_steps_through_a_high_risk_request_and_sees_the_data_at_each_step(ui_factory, live_server,
                                                                                        decided):
    auditor = ui_factory()
    auditor.login(AUDITOR)
    page = auditor.page
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Audit").click()
    auditor.check("audit-index")
    page.get_by_role("link", name=f"Replay #{decided}", exact=True).click()
    auditor.check("audit-replay-last-step")
    steps = page.get_by_role("navigation", name="Steps").get_by_role("link")
    count = steps.count()
    assert count >= 8

    for number in range(1, count + 1):
        auditor.goto(f"/audit/instances/{decided}/replay?step={number}",
                     f"audit-replay-step-{number:02d}" if number in (1, 3, count) else None)
        expect(page.get_by_role("heading", level=2, name=re.compile(f"^Step {number} of {count}:"))).to_be_visible()
        table = page.get_by_role("table", name=f"Data after step {number}")
        expect(table.get_by_role("row", name=re.compile("^Title"))).to_contain_text(
            "Society debate: contested questions")
        expect(steps.nth(number - 1)).to_have_attribute("aria-current", "step")

    table = page.get_by_role("table", name=f"Data after step {count}")
    decision = table.get_by_role("row", name=re.compile(r"^Decision \(decision\)"))
    expect(decision).to_contain_text("Approved with conditions")
    expect(decision).to_contain_text("Added")  # said in words, not by colour alone
    expect(page.locator("#step-actor")).to_have_text("morgan")
    expect(page.locator("#step-role")).to_have_text("Senior officer")
    expect(page.get_by_text(DECISION_REASONS).first).to_be_visible()

    auditor.goto(f"/audit/instances/{decided}/replay?step=1")
    page.get_by_role("link", name="Next step").click()
    expect(page).to_have_url(re.compile(r"step=2$"))
    page.locator("body").press("ArrowRight")  # progressive enhancement: arrow keys follow the step links
    expect(page).to_have_url(re.compile(r"step=3$"))

    page.get_by_role("button", name="Re-execute from the pinned version").click()
    expect(page.get_by_role("status")).to_contain_text("Re-execution matches")
    auditor.check("audit-replay-reexecuted")


def test_an_auditor_checks_the_chain_exports_and_prints_the_history(ui_factory, live_server, decided):
    auditor = ui_factory()
    auditor.login(AUDITOR)
    page = auditor.goto("/audit/verify")
    head_seq, head_hash = services.chain_head(live_server.engine)
    expect(page.locator("#head-hash")).to_have_text(re.compile("^[0-9a-f]{64}$"))
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_role("status")).to_contain_text("Intact")
    auditor.check("audit-verify")
    assert head_seq > 0 and len(head_hash) == 64

    auditor.goto("/audit/export", "audit-export")
    page.get_by_label("Instance number").fill(str(decided))
    page.get_by_label("CSV").check()
    with page.expect_download() as download:
        page.get_by_role("button", name="Download").click()
    assert download.value.suggested_filename == f"audit-instance-{decided}.csv"

    auditor.goto(f"/audit/instances/{decided}/report", "audit-report")
    history = [e for e in services.instance_history(live_server.engine, decided, READER)
               if e.type != "document_viewed"]
    expect(page.get_by_text(history[-1].hash[:16])).to_be_visible()
    page.emulate_media(media="print")
    auditor.check("audit-report-print")
    expect(page.get_by_role("banner")).to_be_hidden()
