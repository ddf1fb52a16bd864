"""Camunda Forms (form-js JSON from Camunda Modeler) -> FormDefinition, and checks of submitted data.

The only engine module that imports marshmallow; imports errors and feel. Rules that Camunda Forms cannot
express come from each component's custom `properties` (see `engine.form_loader.load_form`).
"""

from __future__ import annotations

import copy
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import Any

from marshmallow import ValidationError, fields, validate

from .errors import InvalidTaskDataError
from .feel import compile_condition, is_equal

DISPLAY_TYPES = frozenset(
    {"text", "html", "spacer", "separator", "image", "button", "iframe", "table", "documentPreview"}
)
TEXT_TYPES = frozenset({"textfield", "textarea"})
CHOICE_TYPES = frozenset({"radio", "select"})
LIST_TYPES = frozenset({"checklist", "taglist"})
CONTAINER_TYPES = frozenset({"group", "dynamiclist"})
SCALAR_TYPES = frozenset({"number", "checkbox", "datetime", "expression"})
DATA_TYPES = TEXT_TYPES | CHOICE_TYPES | LIST_TYPES | CONTAINER_TYPES | SCALAR_TYPES
REQUIRED = "This field is required."
Errors = dict[str, list[str]]
Data = Mapping[str, Any]
FormFields = tuple["FormField", ...]
_MISSING: Any = object()
_INTEGER = re.compile(r"[-+]?[0-9]+")
_DECIMAL = re.compile(r"[-+]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?")


@dataclass(frozen=True)
class FormField:
    """One data-bearing component (path-less groups are flattened); `children` serve path groups and lists.

    `rules` is the component's checked `validate` object; `properties` maps each supported custom property
    (`after`, `notPast`, `minItems`, `maxItems`, `maxWords`, `mustBeTrue`, `requiredWhen`) to its value.
    """

    key: str
    type: str
    label: str
    required: bool
    id: str = ""
    readonly: bool | str = False  # True, or a FEEL condition evaluated against the engine's data
    hide_when: str | None = None  # conditional.hide, combined with those of enclosing groups
    options: tuple[Any, ...] | None = None  # None: dynamic options (valuesKey / valuesExpression)
    subtype: str | None = None
    whole_number: bool = False
    default: Any = None
    rules: Mapping[str, Any] = field(default_factory=dict)
    properties: Mapping[str, Any] = field(default_factory=dict)
    children: tuple[FormField, ...] = ()


@dataclass(frozen=True)
class FormDefinition:
    """A loaded form: its id, exact source (for pinning), parsed JSON and data fields."""

    id: str
    file_name: str
    source: str
    schema: dict[str, Any]
    fields: tuple[FormField, ...]

    def field_keys(self) -> frozenset[str]:
        """Return the top-level data keys of the form, read-only ones included."""
        return frozenset(f.key for f in self.fields)

    def validate(
        self, data: object, *, now: datetime | None = None, partial_defaults: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """Return the cleaned data or raise InvalidTaskDataError naming each bad field.

        :param now: the moment `notPast` compares with (default: now; naive means UTC).
        :param partial_defaults: data the engine already holds (e.g. the task's data). A field the submitter
            leaves out takes its value from here before its `defaultValue`; all of it is visible to conditions
            and `after`, and read-only conditions see only this, so a submitter cannot unlock a field.
            Fields with dynamic options accept any string: the process must check those values.
        """
        if not isinstance(data, dict):
            problem = {"_schema": ["Must be a JSON object."]}
            raise InvalidTaskDataError("Form data must be an object.", fields=problem)
        moment = now or datetime.now(UTC)
        context = dict(partial_defaults or {})
        scope = _Scope(context, context, context, "", moment if moment.tzinfo else moment.replace(tzinfo=UTC))
        cleaned, errors = _clean_scope(self.fields, data, scope)
        if errors:
            raise InvalidTaskDataError(f"The data does not satisfy form {self.id}.", fields=errors)
        return cleaned


# ---------------------------------------------------------------------------------------------- validation
@dataclass(frozen=True)
class _Scope:
    context: Data  # partial_defaults: the engine's data, which read-only conditions see
    defaults: Data  # the part of the context at this nesting level
    env: Data  # what conditions see: the context and every enclosing scope's cleaned values
    prefix: str
    now: datetime

    def path(self, key: object) -> str:
        return f"{self.prefix}.{key}" if self.prefix else str(key)

    def inner(self, prefix: str, defaults: object, env: Data) -> _Scope:
        return _Scope(self.context, defaults if isinstance(defaults, dict) else {}, env, prefix, self.now)


def _clean_scope(form_fields: FormFields, raw: Data, scope: _Scope) -> tuple[dict[str, Any], Errors]:
    known = {f.key for f in form_fields}
    errors: Errors = {scope.path(k): ["Unknown field."] for k in raw if k not in known}
    accepted = [f for f in form_fields if _is_accepted(f, scope.context)]
    values: dict[str, Any] = {}
    field_errors: dict[str, Errors] = {}
    # Containers last, so conditions inside them can read this scope's plain values.
    for f in sorted(accepted, key=lambda f: f.type in CONTAINER_TYPES):
        env = {**scope.env, **values}
        value, field_errors[f.key] = _clean_field(f, _pick(f, raw, scope.defaults), scope, env)
        if value is not _MISSING:
            values[f.key] = value
    env = {**scope.env, **values}
    for f in accepted:
        if f.hide_when and compile_condition(f.hide_when)(env):
            values.pop(f.key, None)  # hidden: not required, and its value is not taken
            continue
        errors.update(field_errors[f.key])
        if scope.path(f.key) not in errors:
            errors.update(_check_rules(f, values, env, scope))
    return values, errors


def _is_accepted(form_field: FormField, context: Data) -> bool:
    if form_field.type == "expression" or form_field.readonly is True:  # the engine fills (or computes) these
        return False
    return not (isinstance(form_field.readonly, str) and compile_condition(form_field.readonly)(context))


def _pick(form_field: FormField, raw: Data, defaults: Data) -> Any:
    if form_field.key in raw:
        return raw[form_field.key]
    if form_field.key in defaults:
        return copy.deepcopy(defaults[form_field.key])
    if form_field.default is not None:
        return copy.deepcopy(form_field.default)
    if form_field.type == "checkbox":
        return False  # HTML forms omit unchecked boxes
    return [] if form_field.type == "dynamiclist" else _MISSING  # an omitted list is an empty one


def _is_empty(value: Any) -> bool:
    return value is None or (isinstance(value, str | list) and len(value) == 0)


def _clean_field(form_field: FormField, value: Any, scope: _Scope, env: Data) -> tuple[Any, Errors]:
    path = scope.path(form_field.key)
    if form_field.type == "group":
        return _clean_group(form_field, value, scope.inner(path, scope.defaults.get(form_field.key), env))
    if value is _MISSING or (value is None and form_field.type != "checkbox"):
        return _MISSING, {}
    if form_field.type == "dynamiclist":
        return _clean_items(form_field, value, scope.inner(path, {}, env))
    if _is_empty(value):  # kept as sent where the type allows it; `required` decides later
        keep = form_field.type in (TEXT_TYPES if value == "" else LIST_TYPES)
        return (False if form_field.type == "checkbox" else value if keep else _MISSING), {}
    if form_field.type in LIST_TYPES and isinstance(value, str):
        value = [value]  # an HTML form sends a single ticked box as a plain string
    try:
        cleaned = _marshmallow_field(form_field).deserialize(value)
    except ValidationError as exc:
        return _MISSING, {path: _messages(exc.messages)}
    return (cleaned.isoformat() if isinstance(cleaned, date) else cleaned), {}


def _clean_group(form_field: FormField, value: Any, scope: _Scope) -> tuple[Any, Errors]:
    if value is not _MISSING and value is not None and not isinstance(value, dict):
        return _MISSING, {scope.prefix: ["Not a valid object."]}
    cleaned, errors = _clean_scope(form_field.children, value if isinstance(value, dict) else {}, scope)
    return (cleaned if cleaned or isinstance(value, dict) else _MISSING), errors


def _clean_items(form_field: FormField, value: Any, scope: _Scope) -> tuple[Any, Errors]:
    if not isinstance(value, list):
        return _MISSING, {scope.prefix: ["Not a valid list."]}
    items: list[dict[str, Any]] = []
    errors: Errors = {}
    for index, item in enumerate(value):
        item_scope = scope.inner(f"{scope.prefix}[{index}]", {}, scope.env)
        if not isinstance(item, dict):
            errors[item_scope.prefix] = ["Not a valid object."]
            continue
        cleaned, item_errors = _clean_scope(form_field.children, item, item_scope)
        items.append(cleaned)
        errors.update(item_errors)
    return items, errors


def _check_rules(form_field: FormField, values: dict[str, Any], env: Data, scope: _Scope) -> Errors:
    value, props = values.get(form_field.key, _MISSING), form_field.properties
    condition = props.get("requiredWhen")
    required = form_field.required or bool(condition and compile_condition(condition)(env))
    if required and (value is _MISSING or _is_empty(value) or value is False):  # False: an unticked box
        return {scope.path(form_field.key): [REQUIRED]}
    messages: list[str] = []
    if props.get("mustBeTrue") and value is False:
        messages.append("Must be checked.")
    count = len(value) if isinstance(value, list) else 0
    if count < props.get("minItems", 0):
        messages.append(f"Must have at least {_items(props['minItems'])}.")
    if count > props.get("maxItems", math.inf):
        messages.append(f"Must have at most {_items(props['maxItems'])}.")
    if form_field.type == "datetime" and isinstance(value, str):
        messages.extend(_moment_messages(form_field, value, env, scope.now))
    return {scope.path(form_field.key): messages} if messages else {}


def _items(count: int) -> str:
    return f"{count} item" if count == 1 else f"{count} items"


def _moment_messages(form_field: FormField, value: str, env: Data, now: datetime) -> list[str]:
    moment, after = _moment(form_field.subtype, value), form_field.properties.get("after")
    messages = []
    if moment is not None and form_field.properties.get("notPast"):
        if moment < (now.date() if form_field.subtype == "date" else now):
            messages.append("Must not be in the past.")
    other = _moment(form_field.subtype, env.get(after)) if after else None
    if moment is not None and other is not None and not moment > other:
        messages.append(f"Must be after {after}.")
    return messages


def _moment(subtype: str | None, value: object) -> date | datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = date.fromisoformat(value) if subtype == "date" else datetime.fromisoformat(value)
    except ValueError:
        return None
    if isinstance(moment, datetime) and moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment


def _messages(messages: object) -> list[str]:
    if isinstance(messages, dict | list):
        inner = messages.values() if isinstance(messages, dict) else messages
        return list(dict.fromkeys(m for part in inner for m in _messages(part)))
    return [str(messages)]


# -------------------------------------------------------------------------------------- marshmallow fields
def _parse_number(whole: bool) -> Callable[[Any], int | float]:
    def parse(value: Any) -> int | float:
        if isinstance(value, str) and _INTEGER.fullmatch(value.strip()) and len(value) < 1000:
            value = int(value)  # HTML forms send numbers as text
        elif isinstance(value, str) and _DECIMAL.fullmatch(value.strip()):
            value = float(value)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValidationError("Not a valid number.")
        if isinstance(value, float) and not math.isfinite(value):  # nan and infinities
            raise ValidationError("Not a valid number.")
        if whole and isinstance(value, float) and not value.is_integer():
            raise ValidationError("Must be a whole number.")
        return int(value) if whole else value

    return parse


def _parse_time(value: Any) -> str:
    try:
        return time.fromisoformat(value).isoformat()
    except (TypeError, ValueError) as exc:
        raise ValidationError("Not a valid time (ISO 8601).") from exc


def _rule(test: Callable[[Any], bool], message: str) -> Callable[[Any], None]:
    def check(value: Any) -> None:
        if not test(value):
            raise ValidationError(message)

    return check


def _marshmallow_field(form_field: FormField) -> fields.Field:
    rules = form_field.rules
    if form_field.type in TEXT_TYPES:
        return fields.String(validate=_text_validators(form_field))
    if form_field.type == "number":
        ranges = [validate.Range(min=rules.get("min")), validate.Range(max=rules.get("max"))]
        return fields.Function(deserialize=_parse_number(form_field.whole_number), validate=ranges)
    if form_field.type == "checkbox":
        return fields.Boolean(truthy={True, "on", "true", "1"}, falsy={False, "off", "false", "0"})
    if form_field.subtype == "date":
        return fields.Date(error_messages={"invalid": "Not a valid date (YYYY-MM-DD)."})
    if form_field.subtype == "time":
        return fields.Function(deserialize=_parse_time)
    if form_field.type == "datetime":
        invalid = "Not a valid date-time (ISO 8601)."
        return fields.AwareDateTime(default_timezone=UTC, error_messages={"invalid": invalid})
    item: fields.Field = fields.String()
    if (options := form_field.options) is not None:
        message = f"Must be one of: {', '.join(str(o) for o in options)}."
        item = fields.Raw(validate=_rule(lambda v: any(is_equal(v, o) for o in options), message))
    return fields.List(item) if form_field.type in LIST_TYPES else item


def _text_validators(form_field: FormField) -> list[Callable[[Any], Any]]:
    rules, checks = form_field.rules, list[Callable[[Any], Any]]()
    if "minLength" in rules:
        checks.append(validate.Length(min=rules["minLength"], error="Must be at least {min} characters."))
    if "maxLength" in rules:
        checks.append(validate.Length(max=rules["maxLength"], error="Must be at most {max} characters."))
    if "pattern" in rules:
        pattern = re.compile(f"(?:{rules['pattern']})\\Z")
        checks.append(validate.Regexp(pattern, error=f"Must match the pattern {rules['pattern']}."))
    if rules.get("validationType") == "email":
        checks.append(validate.Email(error="Not a valid email address."))
    if rules.get("validationType") == "phone":
        message = "Not a valid international phone number (e.g. +441632960961)."
        checks.append(validate.Regexp(r"\+[1-9][0-9]{6,14}\Z", error=message))
    if "maxWords" in form_field.properties:
        limit = form_field.properties["maxWords"]
        checks.append(_rule(lambda v: len(v.split()) <= limit, f"Must be at most {limit} words."))
    return checks
