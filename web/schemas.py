"""marshmallow request and response schemas for the JSON API (the OpenAPI document is built from these)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from marshmallow import EXCLUDE, RAISE, Schema, fields, missing, validate


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


Dump = Callable[[Any], Any]
_PLAIN_FIELDS = (fields.String, fields.Integer, fields.Boolean, fields.DateTime, fields.Dict)


def compile_dump(schema: Schema) -> Dump:
    """`schema.dump` for the views the API returns, compiled once: each field's own formatting (`_serialize`,
    the method marshmallow has custom fields override) without marshmallow's per-field lookups on every call.

    Every API answer dumps a view: marshmallow spent ~29 us on an instance with one open task. Only plain
    fields, lists and nesting are compiled; a schema with hooks or defaults is refused when compiling, and an
    object that marshmallow would index rather than read attributes from (a dict) is left to `schema.dump`.
    """
    if schema._hooks or schema.only or schema.exclude:
        raise TypeError(f"{type(schema).__name__}: hooks, only and exclude are not compiled")
    steps = [(field.data_key if field.data_key is not None else name, _attribute(field, name), name,
              _field_dump(field)) for name, field in schema.dump_fields.items()]

    def dump_one(obj: Any) -> Any:
        if obj is None or hasattr(obj, "__getitem__"):
            return schema.dump(obj, many=False)
        out = {}
        for key, attribute, name, convert in steps:
            value = getattr(obj, attribute, missing)
            if value is not missing:  # marshmallow leaves out what the object lacks (no field has a default)
                out[key] = convert(value, name, obj)
        return out

    if schema.many:
        return lambda objs: schema.dump(objs) if objs is None else [dump_one(obj) for obj in objs]
    return dump_one


def _attribute(field: fields.Field, name: str) -> str:
    attribute = field.attribute or name
    if "." in attribute:
        raise TypeError(f"{field!r}: dotted attributes are not compiled")
    return attribute


def _field_dump(field: fields.Field) -> Callable[[Any, str, Any], Any]:
    if field.dump_default is not missing:
        raise TypeError(f"{field!r}: dump defaults are not compiled")
    if isinstance(field, fields.Nested) and not field.many:
        nested = compile_dump(field.schema)
        return lambda value, name, obj: None if value is None else nested(value)
    if isinstance(field, fields.List) and isinstance(field.inner, fields.Nested | fields.List):
        inner = _field_dump(field.inner)
        return lambda value, name, obj: None if value is None else [inner(v, name, obj) for v in value]
    if isinstance(field, _PLAIN_FIELDS) or (isinstance(field, fields.List) and isinstance(field.inner, _PLAIN_FIELDS)):
        return field._serialize
    raise TypeError(f"{field!r} is not compiled")


dump_instance = compile_dump(instance_schema)
dump_instance_list = compile_dump(instance_list)
dump_task = compile_dump(task_schema)
dump_task_detail = compile_dump(task_detail)
dump_task_list = compile_dump(task_list)
