"""Parses and checks Camunda Forms (.form) files into FormDefinition; imports forms, feel and errors."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from .errors import DefinitionProblem, ProcessDefinitionError
from .feel import FeelError, any_of, compile_condition
from .forms import (
    CHOICE_TYPES,
    CONTAINER_TYPES,
    DATA_TYPES,
    DISPLAY_TYPES,
    LIST_TYPES,
    TEXT_TYPES,
    FormDefinition,
    FormField,
)

_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def load_form(source: str, file_name: str) -> FormDefinition:
    """Parse and check a .form file; raise ProcessDefinitionError naming file, component id and reason.

    Custom properties (Modeler's "Custom properties"; string values): `after` = the key of a datetime field in
    the same scope that this one must be strictly after; `notPast` = "true"; `minItems` / `maxItems` = N on a
    list; `maxWords` = N on text; `mustBeTrue` = "true" on a checkbox; `requiredWhen` = a condition in the
    FEEL subset of `engine.feel`. Other names are ignored (they may be display hints).
    """
    try:
        schema = json.loads(source)
    except json.JSONDecodeError as exc:
        problem = DefinitionProblem(file_name, None, f"not valid JSON: {exc.msg}", exc.lineno)
        raise ProcessDefinitionError([problem]) from exc
    loader = _Loader(file_name)
    form_id, form_fields = loader.read_form(schema)
    if loader.problems:
        raise ProcessDefinitionError(loader.problems)
    return FormDefinition(form_id, file_name, source, schema, form_fields)


def _count(text: str) -> int:
    if not re.fullmatch(r"[0-9]{1,9}", text.strip()):
        raise ValueError("must be a whole number")
    return int(text)


def _flag(text: str) -> bool:
    if text.strip().lower() not in ("true", "false"):
        raise ValueError('must be "true" or "false"')
    return text.strip().lower() == "true"


def _checked_condition(text: str) -> str:
    try:
        compile_condition(text)
    except FeelError as exc:
        raise ValueError(f"outside the supported FEEL subset: {exc}") from exc
    return text


# Each supported custom property: the component types it applies to, and its parser.
_PROPERTIES: dict[str, tuple[frozenset[str], Callable[[str], Any]]] = {
    "after": (frozenset({"datetime"}), str.strip),
    "notPast": (frozenset({"datetime"}), _flag),
    "minItems": (LIST_TYPES | {"dynamiclist"}, _count),
    "maxItems": (LIST_TYPES | {"dynamiclist"}, _count),
    "maxWords": (TEXT_TYPES, _count),
    "mustBeTrue": (frozenset({"checkbox"}), _flag),
    "requiredWhen": (DATA_TYPES - CONTAINER_TYPES - {"expression"}, _checked_condition),
}


class _Loader:
    def __init__(self, file_name: str) -> None:
        self.file_name = file_name
        self.problems: list[DefinitionProblem] = []

    def report(self, element_id: str | None, message: str) -> None:
        self.problems.append(DefinitionProblem(self.file_name, element_id, message))

    def read_form(self, schema: object) -> tuple[str, tuple[FormField, ...]]:
        if not isinstance(schema, dict):
            self.report(None, "a form must be a JSON object")
            return "", ()
        form_id = schema["id"] if isinstance(schema.get("id"), str) else ""
        if not form_id.strip():
            self.report(None, 'the form needs a non-empty "id" (camunda:formRef points at it)')
        if schema.get("type") != "default":
            self.report(form_id or None, f'top-level "type" must be "default", not {schema.get("type")!r}')
        if not isinstance(schema.get("components"), list):
            self.report(form_id or None, '"components" must be a list')
            return form_id, ()
        return form_id, self.read_scope(schema["components"])

    def read_scope(self, components: list[Any]) -> tuple[FormField, ...]:
        found: list[FormField] = []
        self._collect(components, found, None)
        seen: dict[str, FormField] = {}
        for f in found:
            if f.key in seen:
                self.report(f.id, f"key {f.key!r} is also used by {seen[f.key].id} in the same scope")
            seen.setdefault(f.key, f)
        for f in (f for f in found if "after" in f.properties):
            other = seen.get(f.properties["after"])
            if other is None or other is f or (other.type, other.subtype) != (f.type, f.subtype):
                self.report(f.id, f"after={f.properties['after']!r} names no other {f.subtype} field here")
        return tuple(found)

    def _collect(self, components: list[Any], found: list[FormField], hide: str | None) -> None:
        for index, component in enumerate(components):
            if not isinstance(component, dict):
                self.report(f"components[{index}]", "a component must be a JSON object")
                continue
            kind = component.get("type")
            element = str(component.get("id") or component.get("key") or f"components[{index}]")
            conditional = self._part(element, component, "conditional", dict).get("hide") or None
            own_hide = any_of(hide, self._condition(element, conditional, "conditional.hide"))
            if kind in DISPLAY_TYPES:
                continue
            if kind == "group" and not component.get("path"):  # a plain group only lays out its children
                self._collect(self._part(element, component, "components", list), found, own_hide)
            elif kind not in DATA_TYPES:
                self.report(element, f"unsupported component type {kind!r}")
            elif (form_field := self._read_field(element, component, own_hide)) is not None:
                found.append(form_field)

    def _read_field(self, element: str, component: dict[str, Any], hide: str | None) -> FormField | None:
        kind = component["type"]
        key_name = "path" if kind in CONTAINER_TYPES else "key"
        key = component.get(key_name)
        if not isinstance(key, str) or not _KEY.fullmatch(key):
            self.report(element, f"{kind} needs a {key_name} of letters, digits and _, not {key!r}")
            return None
        readonly, digits = component.get("readonly"), component.get("decimalDigits")
        locked = readonly is True or component.get("disabled") is True
        rules, label = self._rules(element, component), component.get("label") or component.get("dateLabel")
        children = self._part(element, component, "components", list) if key_name == "path" else []
        return FormField(
            key=key,
            type=kind,
            label=str(label or key),
            required=bool(rules.get("required")),
            id=element,
            readonly=locked or self._condition(element, readonly) or False,
            hide_when=hide,
            options=self._options(element, component),
            subtype=self._subtype(element, component),
            whole_number=type(digits) is int and digits == 0,
            default=component.get("defaultValue"),
            rules=rules,
            properties=self._properties(element, component),
            children=self.read_scope(children),
        )

    def _rules(self, element: str, component: dict[str, Any]) -> dict[str, Any]:
        rules = self._part(element, component, "validate", dict)
        rules = {name: value for name, value in rules.items() if value is not None and value != ""}
        for name in ("min", "max", "minLength", "maxLength"):
            if name in rules and (isinstance(rules[name], bool) or not isinstance(rules[name], int | float)):
                self.report(element, f"validate.{name} must be a number, not {rules.pop(name)!r}")
        if rules.get("validationType") not in (None, "custom", "email", "phone"):
            self.report(element, f"unsupported validate.validationType {rules['validationType']!r}")
        try:
            re.compile(str(rules.get("pattern", "")))
        except re.error as exc:
            self.report(element, f"validate.pattern {rules.pop('pattern')!r} is not a valid regex: {exc}")
        return rules

    def _subtype(self, element: str, component: dict[str, Any]) -> str | None:
        subtype = component.get("subtype", "date") if component["type"] == "datetime" else None
        if subtype not in (None, "date", "time", "datetime"):
            self.report(element, f"unsupported datetime subtype {subtype!r}")
        return subtype

    def _options(self, element: str, component: dict[str, Any]) -> tuple[Any, ...] | None:
        if component["type"] not in CHOICE_TYPES | LIST_TYPES:
            return None
        values = component.get("values")
        if values is None and (component.get("valuesKey") or component.get("valuesExpression")):
            return None  # dynamic options: any string is accepted here and the process checks it
        if not isinstance(values, list) or not values:
            self.report(element, "has no options: set values, valuesKey or valuesExpression")
            return ()
        options = tuple(v.get("value") if isinstance(v, dict) else None for v in values)
        if any(isinstance(o, bool) or not isinstance(o, str | int | float) for o in options):
            self.report(element, "every entry in values needs a string or number value")
        return options

    def _properties(self, element: str, component: dict[str, Any]) -> dict[str, Any]:
        parsed: dict[str, Any] = {}
        for name, text in self._part(element, component, "properties", dict).items():
            if name not in _PROPERTIES:
                continue  # not ours: display hints and the like
            kinds, parse = _PROPERTIES[name]
            kind = "time" if component.get("subtype") == "time" else component["type"]
            if kind not in kinds:  # `after` and `notPast` apply to dates and date-times, not to times
                self.report(element, f"custom property {name!r} does not apply to a {kind} field")
                continue
            try:
                parsed[name] = parse(str(text))
            except ValueError as exc:
                self.report(element, f"custom property {name}={text!r}: {exc}")
        return parsed

    def _condition(self, element: str, text: object, what: str = "readonly") -> str | None:
        if text is None or text is False:
            return None
        try:
            if not isinstance(text, str):
                raise FeelError("it must be true, false or a string")
            compile_condition(text)
        except FeelError as exc:
            self.report(element, f"{what} {text!r} is outside the supported FEEL subset: {exc}")
            return None
        return text

    def _part(self, element: str, component: dict[str, Any], name: str, kind: type) -> Any:
        value = component.get(name) or kind()
        if not isinstance(value, kind):
            self.report(element, f'"{name}" must be {"a list" if kind is list else "an object"}')
            return kind()
        return value
