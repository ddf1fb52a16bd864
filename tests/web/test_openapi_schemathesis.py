"""The OpenAPI document is generated from the marshmallow schemas, and schemathesis, run against a live server
from that document, finds no 5xx and no response that breaks the document (bounded: few examples per operation)."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
import schemathesis
from builders import event_request
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from werkzeug.serving import make_server

from engine import services
from web import create_app

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance,
          response_headers_conformance]
EXAMPLES = 12


@pytest.fixture
def live(deployed) -> Iterator[tuple[str, tuple[int, str]]]:
    """The app on a free port, with a user holding the organiser and events-office roles and a running request."""
    services.add_user(deployed, "fuzz", ["organiser", "events_office"], password="pw-fuzz")
    view = services.start_instance(deployed, "event_approval", event_request(), services.get_actor(deployed, "fuzz"))
    server = make_server("127.0.0.1", 0, create_app(engine=deployed, test_config={"TESTING": True}), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", (view.id, view.open_tasks[0].id)
    server.shutdown()
    server.server_close()
    thread.join(timeout=10)


def test_the_document_describes_every_spec_operation(client):
    spec = client.get("/api/v1/openapi.json").json

    assert spec["openapi"].startswith("3.")
    assert {(m.upper(), p) for p, ops in spec["paths"].items() for m in ops} >= {
        ("GET", "/processes"), ("GET", "/forms/{form_id}"), ("POST", "/processes/{key}/instances"),
        ("GET", "/instances"), ("GET", "/instances/{instance_id}"), ("GET", "/instances/{instance_id}/history"),
        ("GET", "/instances/{instance_id}/diagram.svg"), ("GET", "/tasks"), ("GET", "/tasks/{task_id}"),
        ("POST", "/tasks/{task_id}/claim"), ("POST", "/tasks/{task_id}/unclaim"),
        ("POST", "/tasks/{task_id}/complete"), ("GET", "/audit/verify"), ("GET", "/openapi.json")}
    instance = spec["components"]["schemas"]["Instance"]["properties"]
    assert {"id", "process_key", "status", "open_tasks", "outcome"} <= set(instance)
    start = spec["paths"]["/processes/{key}/instances"]["post"]
    assert "Idempotency-Key" in {p["name"] for p in start["parameters"]}


def test_the_docs_page_lists_the_operations_without_external_assets(client):
    page = client.get("/api/docs")

    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "/tasks/{task_id}/complete" in html
    assert "http://" not in html and "https://" not in html


@pytest.mark.timeout(240)
def test_schemathesis_finds_no_server_error_and_no_schema_violation(live, deployed):
    live, (instance_id, task_id) = live
    token = services.issue_token(deployed, "fuzz")
    schema = schemathesis.openapi.from_url(f"{live}/api/v1/openapi.json")
    failures: list[str] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 13

    real = {"instance_id": instance_id, "task_id": task_id}
    # each operation twice: random path parameters, then the running request's real ids (so 200s are checked too)
    for operation, known in [(op, None) for op in operations] + [(op, real) for op in operations]:
        names = {p.name for p in operation.path_parameters}
        if known is not None and not names:
            continue
        strategy = operation.as_strategy(path_parameters={k: v for k, v in real.items() if k in names}
                                         if known else None)

        @given(case=strategy)
        @settings(max_examples=EXAMPLES, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        def run(case) -> None:  # type: ignore[no-untyped-def]
            try:
                case.call_and_validate(base_url=f"{live}/api/v1", headers={"Authorization": f"Bearer {token}"},
                                       checks=CHECKS)
            except AssertionError as exc:  # collect every operation's failure, then report them together
                failures.append(f"{case.operation.label}: {exc}")
                raise

        try:
            run()
        except AssertionError:
            pass
    assert failures == []
