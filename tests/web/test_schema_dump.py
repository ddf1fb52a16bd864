"""The API's compiled dumps give exactly what marshmallow's `schema.dump` gives, for built and for real views."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from builders import event_request
from marshmallow import Schema, fields, post_dump

from engine import services
from engine.model import Actor, InstanceView, TaskView
from web import schemas

OLIVIA = Actor("olivia", frozenset({"organiser"}))
EVAN = Actor("evan", frozenset({"events_office"}))
AT = datetime(2026, 12, 6, 5, 40, 1, 123456, tzinfo=UTC)

TASK = TaskView(id="6f1c2a9e-0000-4000-8000-000000000001", instance_id=7, process_key="event_approval",
                name="Review the request", element_id="review", lane=None, candidate_groups=("events_office",),
                candidate_users=(), assignee=None, due_at=None, priority=50, form_id="review", created_at=AT)
FULL_TASK = replace(TASK, lane="Events office", candidate_users=("evan", "erin"), assignee="evan",
                    due_at=AT + timedelta(days=3), form={"components": [{"key": "decision"}]},
                    data={"title": "Talk", "nested": {"n": [1, 2]}}, title="Talk on campus")
INSTANCE = InstanceView(id=7, process_key="event_approval", process_version=3, business_key=None, status="running",
                        started_by="olivia", started_at=AT, ended_at=None, data={"title": "Talk"},
                        open_tasks=(TASK,), outcome={})
ENDED = replace(INSTANCE, business_key="EV-2026-001", status="completed", ended_at=datetime(2026, 12, 7, 9, 0),
                open_tasks=(), outcome={"decision": "approved", "conditions": ["a steward"]})
TWO_TASKS = replace(INSTANCE, open_tasks=(TASK, FULL_TASK))

CASES = [
    (schemas.dump_instance, schemas.instance_schema, INSTANCE),
    (schemas.dump_instance, schemas.instance_schema, ENDED),
    (schemas.dump_instance, schemas.instance_schema, TWO_TASKS),
    (schemas.dump_task, schemas.task_schema, TASK),
    (schemas.dump_task, schemas.task_schema, FULL_TASK),
    (schemas.dump_task_detail, schemas.task_detail, TASK),
    (schemas.dump_task_detail, schemas.task_detail, FULL_TASK),
    (schemas.dump_task_list, schemas.task_list, [TASK, FULL_TASK]),
    (schemas.dump_task_list, schemas.task_list, []),
]


@pytest.mark.parametrize(("dump", "schema", "view"), CASES)
def test_a_compiled_dump_equals_marshmallows_for_built_views(dump, schema, view):
    assert dump(view) == schema.dump(view)
    assert list(dump(view)) == list(schema.dump(view))  # and in the same order


def test_a_compiled_dump_equals_marshmallows_for_the_views_the_engine_returns(deployed):
    for name, roles in (("olivia", ["organiser"]), ("evan", ["events_office"])):
        services.add_user(deployed, name, roles, password=f"pw-{name}")
    started = services.start_instance(deployed, "event_approval", event_request(), OLIVIA)
    task_id = started.open_tasks[0].id
    claimed = services.claim_task(deployed, task_id, EVAN)
    detail = services.get_task(deployed, task_id, EVAN)
    instance = services.get_instance(deployed, started.id, EVAN)
    tasks = services.list_tasks(deployed, EVAN, "all")
    instances = services.list_instances(deployed, OLIVIA)

    assert schemas.dump_instance(started) == schemas.instance_schema.dump(started)
    assert schemas.dump_instance(instance) == schemas.instance_schema.dump(instance)
    assert schemas.dump_task(claimed) == schemas.task_schema.dump(claimed)
    assert schemas.dump_task_detail(detail) == schemas.task_detail.dump(detail)
    assert tasks and schemas.dump_task_list(tasks) == schemas.task_list.dump(tasks)
    assert instances and schemas.dump_instance_list(instances) == schemas.instance_list.dump(instances)


def test_a_mapping_is_dumped_by_marshmallow_itself():
    view = {"id": "t1", "instance_id": 7, "due_at": None, "unknown": "left out"}
    assert schemas.dump_task(view) == schemas.task_schema.dump(view) == {"id": "t1", "instance_id": 7, "due_at": None}


def test_schemas_the_compiler_cannot_reproduce_are_refused_when_compiling():
    class Hooked(Schema):
        name = fields.String()

        @post_dump
        def shout(self, data, **kwargs):  # type: ignore[no-untyped-def]
            return {k: v.upper() for k, v in data.items()}

    class Defaulted(Schema):
        name = fields.String(dump_default="nobody")

    class Computed(Schema):
        name = fields.Method("get_name")

        def get_name(self, obj):  # type: ignore[no-untyped-def]
            return "computed"

    for schema in (Hooked(), Defaulted(), Computed(), schemas.TaskSchema(only=("id",))):
        with pytest.raises(TypeError):
            schemas.compile_dump(schema)
