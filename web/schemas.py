"""marshmallow request and response schemas for the JSON API (the OpenAPI document is built from these)."""

from __future__ import annotations

from marshmallow import EXCLUDE, RAISE, Schema, fields, validate


class DataBodySchema(Schema):
    """`{"data": {...}}` — the body of start and complete."""

    class Meta:
        unknown = RAISE

    data = fields.Dict(keys=fields.String(), required=True)
    business_key = fields.String(load_default=None)


class ProcessSchema(Schema):
    key = fields.String()
    name = fields.String()
    version = fields.Integer()
    content_hash = fields.String()
    start_form_id = fields.String(allow_none=True, data_key="start_form")
    can_start = fields.Boolean()
    deployed_at = fields.DateTime()


class TaskSchema(Schema):
    id = fields.String()
    instance_id = fields.Integer()
    process_key = fields.String()
    name = fields.String()
    element_id = fields.String()
    lane = fields.String(allow_none=True)
    candidate_groups = fields.List(fields.String())
    candidate_users = fields.List(fields.String())
    assignee = fields.String(allow_none=True)
    due_at = fields.DateTime(allow_none=True)
    priority = fields.Integer()
    form_id = fields.String(allow_none=True)
    created_at = fields.DateTime()
    title = fields.String(allow_none=True)


class TaskDetailSchema(TaskSchema):
    form = fields.Dict(allow_none=True)
    data = fields.Dict()


class InstanceSchema(Schema):
    id = fields.Integer()
    process_key = fields.String()
    process_version = fields.Integer()
    business_key = fields.String(allow_none=True)
    status = fields.String()
    started_by = fields.String()
    started_at = fields.DateTime()
    ended_at = fields.DateTime(allow_none=True)
    data = fields.Dict()
    open_tasks = fields.List(fields.Nested(TaskSchema))
    outcome = fields.Dict()


class InstanceSummarySchema(Schema):
    id = fields.Integer()
    process_key = fields.String()
    process_version = fields.Integer()
    status = fields.String()
    started_by = fields.String()
    started_at = fields.DateTime()
    ended_at = fields.DateTime(allow_none=True)
    summary = fields.Dict()


class AuditEntrySchema(Schema):
    seq = fields.Integer()
    at = fields.DateTime()
    actor = fields.String()
    role = fields.String(allow_none=True)
    type = fields.String()
    element_id = fields.String(allow_none=True)
    details = fields.Dict()
    hash = fields.String()
    prev_hash = fields.String()


class VerifySchema(Schema):
    ok = fields.Boolean()
    events = fields.Integer()
    first_bad = fields.Integer(allow_none=True)
    reason = fields.String(allow_none=True)


class ErrorSchema(Schema):
    """SPEC §12 error body."""

    error = fields.String(required=True)
    message = fields.String(required=True)
    fields_ = fields.Dict(keys=fields.String(), values=fields.List(fields.String()), data_key="fields",
                          required=True)


class PageQuerySchema(Schema):
    """`limit` (1–1000) and `offset` (0 or more); more pages are announced by a `Link: <…>; rel="next"` header."""

    class Meta:
        unknown = EXCLUDE

    limit = fields.Integer(load_default=200, validate=validate.Range(min=1, max=1000))
    offset = fields.Integer(load_default=0, validate=validate.Range(min=0, max=10_000_000))


class InstanceQuerySchema(PageQuerySchema):
    """Filters of `GET /instances`."""

    process = fields.String(load_default=None, validate=validate.Length(max=200))
    status = fields.String(load_default=None, validate=validate.OneOf(["running", "completed", "cancelled", "error"]))
    decision = fields.String(load_default=None, validate=validate.Length(max=100))


class TaskQuerySchema(PageQuerySchema):
    """Filters of `GET /tasks`."""

    scope = fields.String(load_default="all", validate=validate.OneOf(["mine", "groups", "all"]))
    process = fields.String(load_default=None, validate=validate.Length(max=200))


class VerifyQuerySchema(Schema):
    """`GET /audit/verify?instance=ID` checks one instance's events only."""

    class Meta:
        unknown = EXCLUDE

    instance = fields.Integer(load_default=None, validate=validate.Range(min=1, max=2**31 - 1))


data_body = DataBodySchema()
instance_query = InstanceQuerySchema()
task_query = TaskQuerySchema()
verify_query = VerifyQuerySchema()
process_list = ProcessSchema(many=True)
task_list = TaskSchema(many=True)
task_schema = TaskSchema()
task_detail = TaskDetailSchema()
instance_schema = InstanceSchema()
instance_list = InstanceSummarySchema(many=True)
history_schema = AuditEntrySchema(many=True)
verify_schema = VerifySchema()
