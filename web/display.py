"""Plain-words display: dates in London time, values, option labels, markdown-ish form text, request summaries.

Jinja filters are registered from here. No Flask imports beyond the app passed to `register`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from markupsafe import Markup, escape

from .form_data import LONDON, data_components

WORDS = {
    "approved": "Approved", "approved_with_conditions": "Approved with conditions", "rejected": "Rejected",
    "not_in_scope": "Not in scope", "running": "In progress", "completed": "Finished", "cancelled": "Cancelled",
    "error": "Stopped by an error", "non_prevent": "Not Prevent-related", "prevent": "Prevent-related",
    "prevent_risk": "Prevent risk", "health_and_safety": "Health and safety", "procedural": "Procedural",
    "other": "Other", "LOW": "Low", "MEDIUM": "Medium", "HIGH": "High", "REFUSE_LEGAL": "Refuse (legal bar)",
}
_PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_.]*)\s*\}\}")
_BOLD = re.compile(r"\*\*(.+?)\*\*")


def words(value: Any) -> str:
    """A code in plain words (`approved_with_conditions` -> `Approved with conditions`)."""
    if value is None:
        return ""
    text = str(value)
    return WORDS.get(text, text.replace("_", " ").capitalize() if "_" in text else text)


def sentence(value: Any) -> str:
    """Text with its first letter in capitals and the rest untouched (Jinja's `capitalize` lowercases)."""
    text = str(value or "")
    return text[:1].upper() + text[1:]


def when(value: Any) -> str:
    """A datetime (aware or ISO text) as London wall-clock text, e.g. `Tue 1 Dec 2026, 18:00`."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value) if "T" in value else date.fromisoformat(value)
        except ValueError:
            return value
    if isinstance(value, datetime):
        local = value.astimezone(LONDON) if value.tzinfo else value
        return f"{local:%a} {local.day} {local:%b %Y, %H:%M}"
    if isinstance(value, date):
        return f"{value:%a} {value.day} {value:%b %Y}"
    return "" if value is None else str(value)


def display_value(value: Any) -> str:
    """Any data value as short plain text."""
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if value is None or value == "":
        return "Not given"
    if isinstance(value, list):
        return ", ".join(display_value(v) for v in value) or "None"
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}(T.*)?", value):
        return when(value)
    return words(value) if isinstance(value, str) and value in WORDS else str(value)


def markdown_text(text: str, context: Mapping[str, Any]) -> Markup:
    """Form text: `#` headings (shifted one level down), `- ` lists, **bold**, paragraphs; {{var}} escaped."""
    blocks: list[Markup] = []
    for block in re.split(r"\n\s*\n", text.strip()):
        lines = [line.rstrip() for line in block.splitlines() if line.strip()]
        heading = re.match(r"(#{1,5})\s+(.*)", lines[0]) if lines else None
        if heading:
            level = len(heading.group(1)) + 1
            blocks.append(Markup("<h{0} class=\"form-heading\">{1}</h{0}>").format(
                level, _inline(heading.group(2), context)))
            lines = lines[1:]
        if lines and all(line.lstrip().startswith("- ") for line in lines):
            items = Markup("").join(Markup("<li>{}</li>").format(_inline(line.lstrip()[2:], context))
                                    for line in lines)
            blocks.append(Markup("<ul class=\"list\">{}</ul>").format(items))
        elif lines:
            blocks.append(Markup("<p>{}</p>").format(Markup("<br>").join(_inline(x, context) for x in lines)))
    return Markup("").join(blocks)


def _inline(line: str, context: Mapping[str, Any]) -> Markup:
    def value(match: re.Match[str]) -> str:
        found: Any = context
        for part in match.group(1).split("."):
            found = found.get(part) if isinstance(found, Mapping) else None
        return display_value(found) if found is not None else ""

    text = str(escape(_PLACEHOLDER.sub(value, line)))
    return Markup(_BOLD.sub(r"<strong>\1</strong>", text))


@dataclass(frozen=True)
class SummaryRow:
    """One answer of a form for a summary list; list items carry their own rows."""

    label: str
    value: str
    items: tuple[tuple[str, tuple[SummaryRow, ...]], ...] = field(default=())


def summary_rows(schema: Mapping[str, Any] | None, data: Mapping[str, Any]) -> list[SummaryRow]:
    """The answers given on a form, labelled as the form labels them (option values shown as their labels)."""
    return _rows((schema or {}).get("components") or [], data)


def _rows(components: list[dict[str, Any]], data: Mapping[str, Any]) -> list[SummaryRow]:
    rows = []
    for c in data_components(components):
        key = c.get("key") or c.get("path")
        label = str(c.get("label") or c.get("dateLabel") or key)
        value = data.get(key)
        if c["type"] == "dynamiclist":
            items = tuple((f"{label} {i + 1}", tuple(_rows(c.get("components") or [], item)))
                          for i, item in enumerate(value or []) if isinstance(item, Mapping))
            rows.append(SummaryRow(label, "None" if not items else f"{len(items)}", items))
        elif c["type"] == "group" and isinstance(value, Mapping):
            rows.extend(_rows(c.get("components") or [], value))
        elif key in data:
            rows.append(SummaryRow(label, display_value(_option_labels(c, value))))
    return rows


def _option_labels(component: dict[str, Any], value: Any) -> Any:
    labels = {str(o.get("value")): o.get("label") for o in component.get("values") or [] if isinstance(o, dict)}
    if isinstance(value, list):
        return [labels.get(str(v), v) for v in value]
    return labels.get(str(value), value) if labels and not isinstance(value, bool) else value


def register(app: Any) -> None:
    """Install the Jinja filters used by the templates."""
    app.jinja_env.filters.update(words=words, when=when, display=display_value, sentence=sentence)
