"""Report endpoints and pages: roles, JSON/CSV shapes, field-named errors, the CLI commands."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from engine import services

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from web import create_app  # noqa: E402
from web.cli import main  # noqa: E402


@pytest.fixture
def client(deployed):
    return create_app(engine=deployed, test_config={"TESTING": True, "WTF_CSRF_ENABLED": False}).test_client()


@pytest.fixture
def bearer(deployed):
    def headers(name: str, *roles: str) -> dict[str, str]:
        services.add_user(deployed, name, list(roles), password=f"pw-{name}")
        return {"Authorization": f"Bearer {services.issue_token(deployed, name)}"}
    return headers


@pytest.mark.parametrize("role", ["auditor", "prevent_lead", "senior_officer", "dpo", "admin"])
def test_reporting_roles_get_the_return_as_json_and_csv(client, bearer, role):
    headers = bearer("reader", role)
    body = client.get("/api/v1/reports/ofs?year=2026", headers=headers).get_json()
    assert body["figures"] == {"E1": 0, "E2a": 0, "E2b": 0, "E3a": 0, "E3b": 0} and body["from"] == "2026-08-01"
    response = client.get("/api/v1/reports/ofs?year=2026&format=csv", headers=headers)
    assert response.mimetype == "text/csv" and response.text.startswith("section,figure,description,value,ids")


@pytest.mark.parametrize("role", ["organiser", "events_office", "security", "appeal_officer"])
def test_other_roles_are_refused(client, bearer, role):
    assert client.get("/api/v1/reports/ofs?year=2026", headers=bearer("nosy", role)).status_code == 403


def test_bad_or_missing_year_is_a_422_naming_the_field(client, bearer):
    headers = bearer("audrey", "auditor")
    for query in ("", "?year=abc", "?year=1850"):
        response = client.get(f"/api/v1/reports/ofs{query}", headers=headers)
        assert response.status_code == 422 and "year" in response.get_json()["fields"]
    assert client.get("/api/v1/reports/ofs?year=2026&format=xml", headers=headers).status_code == 400
    assert client.get("/api/v1/reports/ofs?year=2026").status_code == 401


def test_dashboard_and_sharing_log_endpoints(client, bearer):
    lead = bearer("priya", "prevent_lead")
    body = client.get("/api/v1/reports/dashboard?from=2026-08-01&to=2027-07-31", headers=lead).get_json()
    assert len(body["decisions_per_month"]) == 12 and body["by_status"]["running"] == 0
    bad = client.get("/api/v1/reports/dashboard?from=2027-08-01&to=2026-07-31", headers=lead)
    assert bad.status_code == 422 and "to" in bad.get_json()["fields"]
    assert client.get("/api/v1/reports/sharing-log", headers=lead).status_code == 403
    dpo = bearer("dana", "dpo")
    assert client.get("/api/v1/reports/sharing-log", headers=dpo).get_json() == {"entries": []}
    assert client.get("/api/v1/reports/sharing-log?format=csv", headers=dpo).text.startswith("id,created_at")


def _login(client, name: str, role: str, deployed) -> None:
    services.add_user(deployed, name, [role], password=f"pw-{name}")
    client.post("/login", data={"username": name, "password": f"pw-{name}"})


def test_pages_render_for_their_roles(client, deployed):
    _login(client, "dana", "dpo", deployed)
    for path in ("/reports/", "/reports/ofs?year=2026", "/reports/dashboard", "/reports/sharing-log",
                 "/reports/retention", "/reports/subject-access"):
        assert client.get(path).status_code == 200, path
    assert b"<svg" in client.get("/reports/dashboard").data
    assert client.get("/reports/ofs?year=2026&format=csv").headers["Content-Disposition"].startswith("attachment")
    bad = client.post("/reports/retention", data={"record_type": "instance", "record_id": "x", "reason": "Claim"})
    assert bad.status_code == 422 and b"Not a valid number" in bad.data
    sar = client.post("/reports/subject-access", data={"subject": "dana"})
    assert json.loads(sar.data)["accounts"][0]["username"] == "dana"


def test_organisers_cannot_open_reports(client, deployed):
    _login(client, "olivia", "organiser", deployed)
    assert client.get("/reports/ofs?year=2026").status_code == 403
    assert client.get("/reports/retention").status_code == 403


def test_cli_report_and_sar(deployed, monkeypatch):
    monkeypatch.setenv("CAMPUSFLOW_DATABASE_URL", deployed.settings.database_url)
    runner = CliRunner()
    result = runner.invoke(main, ["report", "ofs", "--year", "2026"])
    assert result.exit_code == 0 and json.loads(result.output)["academic_year"] == "2026/27"
    result = runner.invoke(main, ["report", "ofs", "--year", "2026", "--format", "csv"])
    assert result.output.startswith("section,figure")
    services.add_user(deployed, "kim", ["organiser"], password="pw-kim", email="kim.lee@example.ac.uk")
    result = runner.invoke(main, ["sar", "Kim.Lee@example.ac.uk"])
    assert result.exit_code == 0 and json.loads(result.output)["accounts"][0]["username"] == "kim"
    assert runner.invoke(main, ["sar", "k"]).exit_code == 1
