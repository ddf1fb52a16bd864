"""Camunda Forms JSON rendered on the server as accessible HTML that works without JavaScript.

Labels on every input; fieldsets with legends for radios, checklists, date-times, groups and list items;
hints and errors tied in with aria-describedby; an error summary whose links reach each field. Values come
from a flat `Raw` mapping (see `web.form_data`). No Flask here, only markupsafe.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from markupsafe import Markup

from .display import markdown_text
from .form_data import Raw, field_name, is_readonly

Errors = Mapping[str, list[str]]


def field_id(name: str) -> str:
    """The HTML id of the (first) input for a field name; error-summary links point here."""
    return "f-" + re.sub(r"[^A-Za-z0-9_-]+", "-", name).strip("-")


@dataclass(frozen=True)
class ErrorLink:
    """One line of the error summary: where the field is, its label, and the message."""

    anchor: str | None
    label: str
    message: str


@dataclass
class RenderedForm:
    """The fields' HTML (inside the caller's <form>) and the error summary's entries, in page order."""

    html: Markup
    summary: list[ErrorLink] = field(default_factory=list)


def render_form(schema: Mapping[str, Any], raw: Raw, errors: Errors | None = None,
                context: Mapping[str, Any] | None = None) -> RenderedForm:
    """Render every component of a form; `context` fills {{var}} placeholders in text components."""
    renderer = _Renderer(raw, errors or {}, context or {})
    html = renderer.scope(schema.get("components") or [], "")
    rendered = set(renderer.labels)
    summary = [ErrorLink(field_id(name) if name in rendered else None, _summary_label(renderer.labels, name), message)
               for name, messages in renderer.ordered_errors() for message in messages]
    return RenderedForm(html, summary)


def _summary_label(labels: Mapping[str, str], name: str) -> str:
    """A field's label, prefixed with its list item's (`Speaker 2: Affiliation`) so the summary is unambiguous."""
    item = re.match(r"(.*\[[0-9]+\])\.", name)
    label = labels.get(name, "Form")
    return f"{labels[item.group(1)]}: {label}" if item and item.group(1) in labels else label


class _Renderer:
    def __init__(self, raw: Raw, errors: Errors, context: Mapping[str, Any]) -> None:
        self.raw, self.errors, self.context = raw, errors, context
        self.labels: dict[str, str] = {}

    def ordered_errors(self) -> list[tuple[str, list[str]]]:
        order = list(self.labels)
        return sorted(self.errors.items(), key=lambda kv: order.index(kv[0]) if kv[0] in order else len(order))

    def scope(self, components: list[dict[str, Any]], prefix: str) -> Markup:
        return Markup("").join(self.component(c, prefix) for c in components)

    def component(self, c: dict[str, Any], prefix: str) -> Markup:
        kind = c.get("type")
        if kind == "text":
            return Markup('<div class="form-text">{}</div>').format(markdown_text(str(c.get("text", "")),
                                                                               self.context))
        if kind == "group":
            return self.group(c, prefix)
        if kind == "dynamiclist":
            return self.dynamic_list(c, prefix)
        handler = getattr(self, f"input_{kind}", None)
        if handler is None or not (c.get("key")):
            return Markup("")
        name = field_name(c, prefix)
        self.labels[name] = str(c.get("label") or c.get("dateLabel") or c["key"])
        return handler(c, name)

    # ---------------------------------------------------------------- pieces shared by every field
    def describe(self, c: dict[str, Any], name: str) -> tuple[Markup, str]:
        """Hint and error paragraphs, and the ids for aria-describedby."""
        fid, parts, ids = field_id(name), [], []
        if c.get("description"):
            parts.append(Markup('<p class="hint" id="{}-hint">{}</p>').format(fid, c["description"]))
            ids.append(f"{fid}-hint")
        messages = self.errors.get(name)
        if messages:
            parts.append(Markup('<p class="error-message" id="{}-error"><span class="visually-hidden">Error:'
                                '</span> {}</p>').format(fid, " ".join(messages)))
            ids.append(f"{fid}-error")
        return Markup("").join(parts), " ".join(ids)

    def wrap(self, name: str, inner: Markup) -> Markup:
        css = "field field--error" if name in self.errors else "field"
        return Markup('<div class="{}">{}</div>').format(css, inner)

    def attrs(self, c: dict[str, Any], name: str, described: str) -> Markup:
        out = Markup(' aria-describedby="{}"').format(described) if described else Markup("")
        if name in self.errors:
            out += Markup(' aria-invalid="true"')
        if (c.get("validate") or {}).get("required"):
            out += Markup(' aria-required="true"')
        return out

    def value(self, name: str) -> str:
        return (self.raw.get(name) or [""])[0]

    # ---------------------------------------------------------------- single inputs
    def input_textfield(self, c: dict[str, Any], name: str, kind: str = "text", extra: str = "") -> Markup:
        notes, described = self.describe(c, name)
        email = (c.get("validate") or {}).get("validationType") == "email"
        kind = "email" if email else kind
        readonly = Markup(" readonly") if is_readonly(c) else Markup("")
        return self.wrap(name, Markup(
            '<label class="label" for="{id}">{label}</label>{notes}<input class="input" id="{id}" name="{name}" '
            'type="{kind}" value="{value}"{attrs}{extra}{readonly}{auto}>').format(
            id=field_id(name), label=self.labels[name], notes=notes, name=name, kind=kind, value=self.value(name),
            attrs=self.attrs(c, name, described), extra=Markup(extra), readonly=readonly,
            auto=Markup(' autocomplete="email"') if email else Markup("")))

    def input_number(self, c: dict[str, Any], name: str) -> Markup:
        mode = "numeric" if c.get("decimalDigits") == 0 else "decimal"
        return self.input_textfield(c, name, "text", f' inputmode="{mode}" spellcheck="false"')

    def input_textarea(self, c: dict[str, Any], name: str) -> Markup:
        notes, described = self.describe(c, name)
        readonly = Markup(" readonly") if is_readonly(c) else Markup("")
        return self.wrap(name, Markup(
            '<label class="label" for="{id}">{label}</label>{notes}<textarea class="textarea" id="{id}" '
            'name="{name}" rows="5"{attrs}{readonly}>{value}</textarea>').format(
            id=field_id(name), label=self.labels[name], notes=notes, name=name, value=self.value(name),
            attrs=self.attrs(c, name, described), readonly=readonly))

    def input_checkbox(self, c: dict[str, Any], name: str) -> Markup:
        notes, described = self.describe(c, name)
        checked = Markup(" checked") if self.value(name) == "on" else Markup("")
        disabled = Markup(" disabled") if is_readonly(c) else Markup("")
        return self.wrap(name, Markup(
            '{notes}<div class="choice"><input class="choice__input" id="{id}" name="{name}" type="checkbox" '
            'value="on"{checked}{attrs}{disabled}><label class="choice__label" for="{id}">{label}</label></div>'
        ).format(notes=notes, id=field_id(name), name=name, checked=checked, label=self.labels[name],
                 attrs=self.attrs(c, name, described), disabled=disabled))

    def input_select(self, c: dict[str, Any], name: str) -> Markup:
        notes, described = self.describe(c, name)
        current = self.value(name)
        options = Markup('<option value="">Choose an option</option>') + Markup("").join(
            Markup('<option value="{}"{}>{}</option>').format(
                value, Markup(" selected") if str(value) == current else Markup(""), label)
            for value, label in self.options(c))
        disabled = Markup(" disabled") if is_readonly(c) else Markup("")
        return self.wrap(name, Markup(
            '<label class="label" for="{id}">{label}</label>{notes}<select class="select" id="{id}" '
            'name="{name}"{attrs}{disabled}>{options}</select>').format(
            id=field_id(name), label=self.labels[name], notes=notes, name=name,
            attrs=self.attrs(c, name, described), disabled=disabled, options=options))

    def input_radio(self, c: dict[str, Any], name: str, kind: str = "radio") -> Markup:
        notes, described = self.describe(c, name)
        chosen = set(self.raw.get(name) or [])
        disabled = Markup(" disabled") if is_readonly(c) else Markup("")
        choices = Markup("").join(Markup(
            '<div class="choice"><input class="choice__input" id="{id}" name="{name}" type="{kind}" '
            'value="{value}"{checked}{disabled}><label class="choice__label" for="{id}">{label}</label></div>'
        ).format(id=field_id(name) + (f"-{i}" if i else ""), name=name, kind=kind, value=value, label=label,
                 checked=Markup(" checked") if str(value) in chosen else Markup(""), disabled=disabled)
            for i, (value, label) in enumerate(self.options(c)))
        return self.fieldset(name, self.labels[name], notes, described,
                             Markup('<div class="choices">{}</div>').format(choices))

    def input_checklist(self, c: dict[str, Any], name: str) -> Markup:
        return self.input_radio(c, name, "checkbox")

    input_taglist = input_checklist

    def input_datetime(self, c: dict[str, Any], name: str) -> Markup:
        subtype = c.get("subtype", "date")
        if subtype != "datetime":
            return self.input_textfield(c, name, "date" if subtype == "date" else "time")
        notes, described = self.describe(c, name)
        legend = c.get("label") or f"{c.get('dateLabel') or 'Date'} and time"
        self.labels[name] = str(legend)
        invalid = Markup(' aria-invalid="true"') if name in self.errors else Markup("")
        parts = Markup("").join(Markup(
            '<div class="datetime__part"><label class="label" for="{id}">{label}</label>'
            '<input class="input input--{part}" id="{id}" name="{name}__{part}" type="{part}" value="{value}"{inv}>'
            '</div>').format(id=field_id(name) + ("" if part == "date" else "-time"), label=label, name=name,
                             part=part, value=self.value(f"{name}__{part}"), inv=invalid)
            for part, label in (("date", c.get("dateLabel") or "Date"), ("time", c.get("timeLabel") or "Time")))
        return self.fieldset(name, legend, notes, described, Markup('<div class="datetime">{}</div>').format(parts))

    def options(self, c: dict[str, Any]) -> list[tuple[Any, Any]]:
        values = c.get("values")
        if values is None and c.get("valuesKey"):
            values = self.context.get(c["valuesKey"]) or []
        return [(v.get("value"), v.get("label", v.get("value"))) if isinstance(v, dict) else (v, v)
                for v in values or []]

    # ---------------------------------------------------------------- containers
    def fieldset(self, name: str, legend: Any, notes: Markup, described: str, body: Markup) -> Markup:
        aria = Markup(' aria-describedby="{}"').format(described) if described else Markup("")
        return self.wrap(name, Markup('<fieldset class="fieldset"{aria}><legend class="legend">{legend}'
                                      '</legend>{notes}{body}</fieldset>').format(
            aria=aria, legend=legend, notes=notes, body=body))

    def group(self, c: dict[str, Any], prefix: str) -> Markup:
        inner_prefix = prefix + c["path"] + "." if c.get("path") else prefix
        body = self.scope(c.get("components") or [], inner_prefix)
        if not c.get("label"):
            return Markup('<div class="group">{}</div>').format(body)
        return Markup('<fieldset class="fieldset group"><legend class="legend">{}</legend>{}</fieldset>').format(
            c["label"], body)

    def dynamic_list(self, c: dict[str, Any], prefix: str) -> Markup:
        name = field_name(c, prefix)
        label = str(c.get("label") or c["path"])
        self.labels[name] = label
        noun = label[:-1].lower() if label.endswith("s") else label.lower()
        count_text = self.value(f"{name}__count")
        count = int(count_text) if count_text.isdigit() else 0
        items = Markup("").join(self.list_item(c, name, noun, i) for i in range(count))
        if not count:
            items = Markup('<p class="hint">No {} added.</p>').format(noun + "s")
        notes, described = self.describe(c, name)
        add = Markup('<button class="button button--secondary" type="submit" name="_action" value="add:{}">'
                     'Add {} {}</button>').format(name, "another" if count else "a", noun)
        hidden = Markup('<input type="hidden" name="{}__count" value="{}">').format(name, count)
        return self.fieldset(name, label, notes, described, hidden + items + add)

    def list_item(self, c: dict[str, Any], name: str, noun: str, index: int) -> Markup:
        item = f"{name}[{index}]"
        self.labels[item] = f"{noun.capitalize()} {index + 1}"
        body = self.scope(c.get("components") or [], item + ".")
        remove = Markup('<button class="button button--warning" type="submit" name="_action" value="remove:{}">'
                        'Remove {} {}</button>').format(item, noun, index + 1)
        return Markup('<fieldset class="fieldset list-item" id="{}"><legend class="legend">{} {}</legend>{}{}'
                      '</fieldset>').format(field_id(item), noun.capitalize(), index + 1, body, remove)
