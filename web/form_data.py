"""HTML form posts <-> Camunda Forms data: strings to typed values (and back), dynamic-list add/remove.

A flat `Raw` mapping (input name -> list of strings) is what a browser posts and what the renderer shows.
Names: `title`, `address.street` (group with a path), `speakers[0].full_name` (dynamic list item) — the same
keys the engine uses in `InvalidTaskDataError.fields`. Date-times come as `<name>__date` + `<name>__time`
in Europe/London and go to the engine as ISO 8601 with the offset. No Flask here.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

Raw = dict[str, list[str]]
LONDON = ZoneInfo("Europe/London")
DISPLAY_TYPES = frozenset({"text", "html", "spacer", "separator", "image", "button", "iframe", "table",
                           "documentPreview", "expression"})
_INTEGER = re.compile(r"[-+]?[0-9]+")
_DECIMAL = re.compile(r"[-+]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)")


def data_components(components: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """Data-bearing components of one scope; path-less groups only lay out, so their children count here."""
    for component in components:
        kind = component.get("type")
        if kind == "group" and not component.get("path"):
            yield from data_components(component.get("components") or [])
        elif kind not in DISPLAY_TYPES and (component.get("key") or component.get("path")):
            yield component


def field_name(component: dict[str, Any], prefix: str = "") -> str:
    """The input name of a component inside `prefix` ("" or "speakers[0].")."""
    return prefix + str(component.get("key") or component.get("path"))


def is_readonly(component: dict[str, Any]) -> bool:
    """Read-only or disabled components are shown but never posted."""
    return component.get("readonly") is True or component.get("disabled") is True


def parse_post(components: list[dict[str, Any]], raw: Mapping[str, list[str]], action: str = "",
               prefix: str = "") -> dict[str, Any]:
    """Typed data for the engine from posted strings; `action` adds or removes a dynamic-list item."""
    data: dict[str, Any] = {}
    for component in data_components(components):
        if is_readonly(component):
            continue
        name, kind = field_name(component, prefix), component["type"]
        if kind == "group":
            data[component["path"]] = parse_post(component.get("components") or [], raw, action, name + ".")
        elif kind == "dynamiclist":
            data[component["path"]] = _parse_items(component, raw, action, name)
        elif kind == "checkbox":
            data[component["key"]] = name in raw
        elif kind in ("checklist", "taglist"):
            data[component["key"]] = [_option_value(component, v) for v in raw.get(name, [])]
        else:
            value = _parse_scalar(component, raw, name)
            if value is not None:
                data[component["key"]] = value
    return data


def _parse_items(component: dict[str, Any], raw: Mapping[str, list[str]], action: str,
                 name: str) -> list[dict[str, Any]]:
    count = _first(raw, f"{name}__count")
    children = component.get("components") or []
    items = [parse_post(children, raw, action, f"{name}[{i}].")
             for i in range(int(count) if count.isdigit() else 0)]
    if action == f"add:{name}":
        items.append({})
    removed = re.fullmatch(rf"remove:{re.escape(name)}\[([0-9]+)\]", action)
    if removed and int(removed.group(1)) < len(items):
        del items[int(removed.group(1))]
    return items


def _parse_scalar(component: dict[str, Any], raw: Mapping[str, list[str]], name: str) -> Any:
    kind = component["type"]
    if kind == "datetime" and component.get("subtype", "date") == "datetime":
        return london_iso(_first(raw, f"{name}__date").strip(), _first(raw, f"{name}__time").strip())
    text = _first(raw, name)
    if kind in ("textfield", "textarea"):
        return text
    text = text.strip()
    if not text:
        return None
    if kind == "number":
        return int(text) if _INTEGER.fullmatch(text) else float(text) if _DECIMAL.fullmatch(text) else text
    if kind in ("radio", "select"):
        return _option_value(component, text)
    return text


def london_iso(day: str, clock: str) -> str | None:
    """`YYYY-MM-DD` + `HH:MM` on a London wall clock as ISO 8601 with its offset; bad input passes through."""
    if not day and not clock:
        return None
    try:
        moment = datetime.combine(date.fromisoformat(day), time.fromisoformat(clock), LONDON)
    except ValueError:
        return f"{day}T{clock}"  # the engine names the field as invalid; the parts are shown again
    return moment.isoformat()


def _option_value(component: dict[str, Any], text: str) -> Any:
    """Map posted text back to the option's own value (which may be a number)."""
    for option in component.get("values") or []:
        if isinstance(option, dict) and str(option.get("value")) == text:
            return option["value"]
    return text


def _first(raw: Mapping[str, list[str]], name: str) -> str:
    values = raw.get(name) or [""]
    return values[0]


def flatten(components: list[dict[str, Any]], data: Mapping[str, Any], prefix: str = "") -> Raw:
    """The posted-strings form of typed data (for showing it in inputs); defaults fill missing keys."""
    raw: Raw = {}
    for component in data_components(components):
        name, kind = field_name(component, prefix), component["type"]
        key = component.get("key") or component.get("path")
        value = data[key] if key in data else component.get("defaultValue")
        children = component.get("components") or []
        if kind == "group":
            raw.update(flatten(children, value if isinstance(value, dict) else {}, name + "."))
        elif kind == "dynamiclist":
            items = value if isinstance(value, list) else [{}] * int(component.get("defaultRepetitions") or 0)
            raw[f"{name}__count"] = [str(len(items))]
            for index, item in enumerate(items):
                raw.update(flatten(children, item if isinstance(item, dict) else {}, f"{name}[{index}]."))
        elif kind == "datetime" and component.get("subtype", "date") == "datetime":
            raw[f"{name}__date"], raw[f"{name}__time"] = (list(p) for p in zip(london_parts(value), strict=True))
        elif kind == "checkbox":
            if value is True or value == "on":
                raw[name] = ["on"]
        elif isinstance(value, list):
            raw[name] = [str(v) for v in value]
        elif value is not None:
            raw[name] = [str(value)]
    return raw


def london_parts(value: Any) -> tuple[str, str]:
    """An ISO date-time split into London date and time (`HH:MM`); unparseable text is split at the T."""
    if not isinstance(value, str) or not value:
        return "", ""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        day, _, clock = value.partition("T")
        return day, clock
    if moment.tzinfo is not None:
        moment = moment.astimezone(LONDON)
    return moment.date().isoformat(), moment.strftime("%H:%M")
