"""Auditor pages: replay steps with data and changes, re-execution, tamper evidence, exports; others get 403."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime

import pytest
from high_risk import DECISION_REASONS, READER, drive_high_risk_request
from sqlalchemy import text

from engine import services
from engine.audit import event_hash

API = "/api/v1"
STAFF = {"olivia": ("organiser",), "evan": ("events_office",), "morgan": ("senior_officer",),
         "priya": ("prevent_lead",)}


@pytest.fixture
def decided(deployed) -> int:
    return drive_high_risk_request(deployed)


@pytest.fixture
def auditor(auth) -> dict[str, str]:
    return auth("audrey", "auditor")


def _body(response) -> str:
    return response.get_data(as_text=True)


def _steps(client, instance_id: int, headers) -> int:
    page = _body(client.get(f"/audit/instances/{instance_id}/replay", headers=headers))
    return page.count('class="steps__item')


def test_auditor_opens_every_audit_page(client, auditor, decided):
    for path in ("/audit/", f"/audit/instances/{decided}/replay", f"/audit/instances/{decided}/replay?step=1",
                 f"/audit/instances/{decided}/report", "/audit/verify", "/audit/verify?run=1", "/audit/export"):
        response = client.get(path, headers=auditor)
        assert response.status_code == 200, path
    assert 'href="/audit/"' in _body(client.get("/audit/", headers=auditor))  # the nav link


@pytest.mark.parametrize("username", sorted(STAFF))
def test_everyone_else_is_refused(client, auth, decided, username):
    headers = auth(username, *STAFF[username])
    for path in ("/audit/", f"/audit/instances/{decided}/replay", f"/audit/instances/{decided}/report",
                 "/audit/verify?run=1", f"/audit/export?format=jsonl&instance={decided}"):
        assert client.get(path, headers=headers).status_code == 403, path
    assert client.get(f"{API}/instances/{decided}/history?format=csv", headers=headers).status_code == 403


def test_signed_out_visitors_are_sent_to_the_login_page(client):
    response = client.get("/audit/verify")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_the_decision_step_shows_who_why_and_what_changed(client, auditor, decided):
    last = _steps(client, decided, auditor)
    page = _body(client.get(f"/audit/instances/{decided}/replay?step={last}", headers=auditor))
    assert f"Step {last} of {last}: Task completed" in page
    assert 'id="step-actor">morgan<' in page and 'id="step-role">Senior officer<' in page
    assert DECISION_REASONS.replace("&", "&amp;") in page
    assert 'class="data-row data-row--added" id="changed-decision"' in page  # the decision appears at this step
    assert "Added</strong>" in page and 'rel="prev"' in page and 'rel="next"' not in page


def test_each_step_shows_the_data_at_that_moment(client, auditor, decided):
    first = _body(client.get(f"/audit/instances/{decided}/replay?step=1", headers=auditor))
    assert "Society debate: contested questions" in first and 'id="changed-decision"' not in first
    assert "M01" not in first  # nobody had decided the conditions yet
    assert "el el-active\" data-element-id=\"check_speakers\"" in first  # the speaker check runs
    assert client.get(f"/audit/instances/{decided}/replay?step=999", headers=auditor).status_code == 404


def test_the_diagram_marks_the_state_at_the_step(deployed, decided):
    history = services.instance_history(deployed, decided, READER)
    started = next(e.seq for e in history if e.type == "task_ready")
    early = services.instance_diagram(deployed, decided, READER, at_seq=started)
    late = services.instance_diagram(deployed, decided, READER, at_seq=history[-1].seq)
    assert "decide_high_risk" not in early.completed | early.active
    assert "decide_high_risk" in late.completed and "decide_high_risk" not in late.active


def test_reexecution_proves_the_stored_state(client, auditor, decided):
    page = _body(client.get(f"/audit/instances/{decided}/replay?step=3&reexecute=1", headers=auditor))
    assert "Re-execution matches" in page and "matches the recorded data" in page


def test_every_read_of_the_case_is_audited(client, deployed, auditor, decided):
    client.get(f"/audit/instances/{decided}/replay?step=2&reexecute=1", headers=auditor)
    views = [e.details.get("view") for e in services.instance_history(deployed, decided, READER)
             if e.type == "document_viewed" and e.actor == "audrey"]
    assert {"history", f"diagram at #{_seq_of_step(deployed, decided, 2)}", "replay"} <= set(views)


def _seq_of_step(deployed, instance_id: int, number: int) -> int:
    from web.audit_pages import group_steps

    return group_steps(services.instance_history(deployed, instance_id, READER))[number - 1].last_seq


def test_exports_carry_the_chain_hashes(client, auditor, decided):
    jsonl = client.get(f"/audit/export?format=jsonl&instance={decided}", headers=auditor)
    assert jsonl.status_code == 200 and "attachment" in jsonl.headers["Content-Disposition"]
    rows = [json.loads(line) for line in _body(jsonl).splitlines()]
    assert rows and all(len(r["hash"]) == 64 and len(r["prev_hash"]) == 64 for r in rows)
    assert {r["instance_id"] for r in rows} == {decided}
    for r in rows:  # the copy verifies on its own: every row re-hashes to its stored hash
        assert event_hash(r["seq"], datetime.fromisoformat(r["at"]), r["instance_id"], r["actor"], r["role"],
                          r["type"], r["element_id"], r["details"], r["prev_hash"]) == r["hash"]
    table = list(csv.DictReader(io.StringIO(_body(client.get("/audit/export?format=csv&since=2000-01-01",
                                                             headers=auditor)))))
    assert table and {"seq", "hash", "prev_hash"} <= set(table[0])
    api = client.get(f"{API}/instances/{decided}/history?format=jsonl", headers=auditor)
    assert api.status_code == 200 and json.loads(_body(api).splitlines()[0])["hash"]


def test_a_bad_export_request_shows_the_form_again(client, auditor):
    response = client.get("/audit/export?format=xml", headers=auditor)
    assert response.status_code == 422 and "There is a problem" in _body(response)
    assert client.get("/audit/export?format=csv&since=yesterday", headers=auditor).status_code == 422


def test_the_verify_page_names_the_first_bad_event_after_tampering(client, deployed, auditor, decided):
    page = _body(client.get("/audit/verify?run=1", headers=auditor))
    seq, digest = services.chain_head(deployed)
    assert "Intact" in page and digest in page
    bad = services.instance_history(deployed, decided, READER)[3].seq
    _tamper(deployed, f"UPDATE audit_events SET actor = 'mallory' WHERE seq = {bad}")
    page = _body(client.get("/audit/verify?run=1", headers=auditor))
    assert "Altered" in page and f'id="first-bad">#{bad}<' in page
    page = _body(client.get(f"/audit/verify?run=1&instance={decided}", headers=auditor))
    assert f'id="first-bad">#{bad}<' in page


def _tamper(engine, statement: str) -> None:
    """An attacker with database access: switch off the append-only guard, then change a row."""
    with engine.db.begin() as conn:
        if engine.db.dialect.name == "postgresql":
            conn.execute(text("ALTER TABLE audit_events DISABLE TRIGGER USER"))
        else:
            conn.execute(text("DROP TRIGGER IF EXISTS audit_events_no_update"))
        conn.execute(text(statement))


def test_the_printable_report_lists_every_step_with_hashes(client, deployed, auditor, decided):
    page = _body(client.get(f"/audit/instances/{decided}/report", headers=auditor))
    history = [e for e in services.instance_history(deployed, decided, READER) if e.type != "document_viewed"]
    assert "Intact" in page and all(e.hash[:16] in page for e in history)
    with client.get("/static/audit.css") as css:
        assert "@media print" in css.get_data(as_text=True)


def test_an_auditor_can_change_nothing(client, auth, deployed, decided):
    headers = auditor_headers = auth("audrey", "auditor")
    start = client.post(f"{API}/processes/event_approval/instances", headers=headers, json={"data": {}})
    assert start.status_code == 403
    [task] = services.get_instance(deployed, decided, READER).open_tasks
    assert client.post(f"{API}/tasks/{task.id}/claim", headers=auditor_headers).status_code == 403
    assert client.post(f"{API}/tasks/{task.id}/complete", headers=headers, json={"data": {}}).status_code == 403
    assert client.get("/admin/users", headers=headers).status_code == 403
