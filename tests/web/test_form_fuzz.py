"""Hypothesis fuzzes form submissions (API start, complete, and the HTML start form): every bad input is 422
naming the fields, never a 5xx, and changes nothing (instance count and audit count unchanged)."""

from __future__ import annotations

from typing import Any

import pytest
from builders import event_request
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from engine.tables import AuditRecord, InstanceRecord
from web import create_app

START = "/api/v1/processes/event_approval/instances"
FUZZ = settings(max_examples=40, deadline=None, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
VALID = event_request()
WRONG = {  # for each kind of valid value, non-empty values of another type that no form field accepts
    str: st.one_of(st.integers(), st.lists(st.integers(), min_size=1, max_size=2),
                   st.dictionaries(st.text(max_size=3), st.integers(), min_size=1, max_size=2)),
    bool: st.one_of(st.text(alphabet="qwxz", min_size=2, max_size=8), st.lists(st.booleans(), min_size=1, max_size=2)),
    int: st.one_of(st.text(alphabet="abcxyz", min_size=1, max_size=6), st.lists(st.integers(), min_size=1, max_size=2)),
    list: st.one_of(st.text(alphabet="abc", min_size=1, max_size=5), st.integers(),
                    st.dictionaries(st.text(min_size=1, max_size=3), st.integers(), min_size=1, max_size=2)),
}


def counts(engine) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    with engine.new_uow(readonly=True) as uow:
        return (uow.session.execute(select(func.count()).select_from(InstanceRecord)).scalar_one(),
                uow.session.execute(select(func.count()).select_from(AuditRecord)).scalar_one())


@st.composite
def corrupted_request(draw: st.DrawFn) -> tuple[dict[str, Any], str]:
    """A valid request with one field removed, given a value of the wrong type, or an unknown field added."""
    data = dict(VALID)
    field = draw(st.sampled_from(sorted(data)))
    how = draw(st.sampled_from(["remove", "wrong_type", "unknown"]))
    if how == "remove":
        del data[field]
    elif how == "wrong_type":
        data[field] = draw(WRONG[type(VALID[field])])
    else:
        field = draw(st.text(alphabet="abcdefghij_", min_size=3, max_size=12).filter(lambda k: k not in data))
        data[field] = draw(st.text(max_size=10))
    return data, field


@pytest.fixture
def organiser(auth) -> dict[str, str]:
    return auth("olivia", "organiser")


def test_a_required_field_is_required():
    # guard for the "remove" branch below: every field the fuzzer removes must be one the form requires
    assert {"title", "start_at", "venue_mode", "code_of_practice_ack"} <= set(VALID)


@FUZZ
@given(case=corrupted_request())
def test_a_corrupted_start_request_is_422_naming_fields_and_changes_nothing(client, deployed, organiser, case):
    data, field = case
    before = counts(deployed)

    response = client.post(START, json={"data": data}, headers=organiser)

    assert response.status_code in (201, 422), response.get_data(as_text=True)
    if response.status_code == 422:
        assert response.json["fields"] and all(response.json["fields"].values())
        assert counts(deployed) == before
    else:  # only an optional field may be left out
        assert field not in data and counts(deployed)[0] == before[0] + 1


def test_omitting_the_optional_speakers_list_is_not_a_server_error(client, organiser):
    data = {k: v for k, v in VALID.items() if k != "speakers"}

    response = client.post(START, json={"data": data}, headers=organiser)

    assert response.status_code in (201, 422)


@FUZZ
@given(data=st.dictionaries(st.text(max_size=12), st.one_of(st.none(), st.booleans(), st.integers(), st.text(
    max_size=20), st.lists(st.integers(), max_size=3)), max_size=6))
def test_arbitrary_task_data_is_422_and_the_task_stays_open(client, deployed, auth, data):
    olivia, evan = auth("olivia", "organiser"), auth("evan", "events_office")
    started = client.post(START, json={"data": VALID}, headers=olivia).json
    task = started["open_tasks"][0]["id"]
    before = counts(deployed)

    response = client.post(f"/api/v1/tasks/{task}/complete", json={"data": data}, headers=evan)

    assert response.status_code in (200, 422), response.get_data(as_text=True)
    if response.status_code == 422:
        assert response.json["fields"] and counts(deployed) == before
        assert client.get(f"/api/v1/tasks/{task}", headers=evan).status_code == 200


@FUZZ
@given(form=st.dictionaries(st.sampled_from(sorted(VALID) + ["junk", "start_at-date", "start_at-time"]),
                            st.text(max_size=30), max_size=8))
def test_an_arbitrary_html_start_form_is_422_with_errors_shown_and_changes_nothing(deployed, auth, form):
    auth("olivia", "organiser")
    client = create_app(engine=deployed, test_config={"TESTING": True, "WTF_CSRF_ENABLED": False}).test_client()
    client.post("/login", data={"username": "olivia", "password": "pw-olivia"})
    before = counts(deployed)

    response = client.post("/start/event_approval", data=form)

    assert response.status_code == 422, response.status_code
    assert b"There is a problem" in response.data
    assert counts(deployed)[0] == before[0]
