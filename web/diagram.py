"""BPMN diagram to SVG, drawn on the server from the file's DI; marks completed, active and untaken elements.

Only presentation attributes (no style attributes or elements), so the strict CSP applies to the SVG too.
Each state has its own colour, line pattern and glyph, so colour is never the only cue. Imports lxml and
engine.services.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterable
from dataclasses import dataclass

from lxml import etree
from markupsafe import Markup, escape

from engine import services
from engine.bootstrap import WorkflowEngine
from engine.model import Actor

NS = {"bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
      "bpmndi": "http://www.omg.org/spec/BPMN/20100524/DI",
      "dc": "http://www.omg.org/spec/DD/20100524/DC", "di": "http://www.omg.org/spec/DD/20100524/DI"}
INK, FONT = "#0b0c0c", "Arial, Helvetica, sans-serif"
SVG_NS = "http://www.w3.org/2000/svg"


@dataclass(frozen=True)
class StateStyle:
    """How one state is drawn, and the words the legend and tooltips use for it."""

    label: str
    stroke: str
    fill: str
    width: float
    dash: str | None
    glyph: str


STATES: dict[str, StateStyle] = {
    "completed": StateStyle("Completed", "#00703c", "#cce2d8", 3, None, "\u2713"),
    "active": StateStyle("Active now", "#1d70b8", "#d2e2f1", 4, "8 4", "\u25b6"),
    "untaken": StateStyle("Not taken", "#505a5f", "url(#hatch)", 2, "2 4", "\u2715"),
}
_DEFAULT = StateStyle("Not reached yet", INK, "#ffffff", 1.5, None, "")
_TASKS = {"task", "userTask", "scriptTask", "serviceTask", "businessRuleTask", "sendTask", "receiveTask",
          "manualTask", "callActivity", "subProcess", "transaction"}
_EVENTS = {"startEvent", "endEvent", "intermediateCatchEvent", "intermediateThrowEvent", "boundaryEvent"}
_GATEWAY_MARKS = {"exclusiveGateway": "\u00d7", "parallelGateway": "+", "inclusiveGateway": "\u25cb",
                  "eventBasedGateway": "\u2b20", "complexGateway": "*"}


def state_of(element_id: str, completed: Iterable[str], active: Iterable[str],
             untaken: Iterable[str]) -> str | None:
    """The state an element is drawn in (active wins over completed, for loops)."""
    for name, ids in (("active", active), ("completed", completed), ("untaken", untaken)):
        if element_id in ids:
            return name
    return None


def instance_svg(engine: WorkflowEngine, instance_id: int, actor: Actor) -> Markup:
    """The SVG of an instance's pinned diagram with its progress marked."""
    view = services.instance_diagram(engine, instance_id, actor)
    return render_svg(view.source, view.completed, view.active, view.untaken,
                      title=f"Diagram of {view.process_key} version {view.process_version}")


def render_svg(source: str, completed: Iterable[str] = (), active: Iterable[str] = (),
               untaken: Iterable[str] = (), *, title: str = "Process diagram") -> Markup:
    """The whole diagram as one <svg> element (usable inline in HTML or served as image/svg+xml)."""
    root = etree.fromstring(source.encode("utf-8"))
    semantic = {e.get("id"): e for e in root.iter() if isinstance(e.tag, str) and e.get("id")}
    sets = (set(completed), set(active), set(untaken))
    shapes = root.findall(".//bpmndi:BPMNShape", NS)
    edges = root.findall(".//bpmndi:BPMNEdge", NS)
    x0, y0, x1, y1 = _extent(shapes, edges)
    parts = [f'<svg xmlns="{SVG_NS}" class="diagram" role="img" aria-labelledby="diagram-title" '
             f'viewBox="{x0 - 20:g} {y0 - 20:g} {x1 - x0 + 40:g} {y1 - y0 + 40:g}" '
             f'width="{x1 - x0 + 40:g}" height="{y1 - y0 + 40:g}" font-family="{FONT}" font-size="12">',
             f'<title id="diagram-title">{escape(title)}</title>', _defs()]
    containers = [s for s in shapes if _kind(semantic, s) in ("participant", "lane")]
    for shape in containers + [s for s in shapes if s not in containers]:
        parts.append(_shape(shape, semantic, sets))
    for edge in edges:
        parts.append(_edge(edge, semantic, sets))
    parts.append("</svg>")
    return Markup("".join(parts))


def _extent(shapes: list, edges: list) -> tuple[float, float, float, float]:
    xs: list[float] = []
    ys: list[float] = []
    for bounds in (b for s in shapes for b in s.iter(f"{{{NS['dc']}}}Bounds")):
        x, y, w, h = _bounds(bounds)
        xs += [x, x + w]
        ys += [y, y + h]
    for point in (p for e in edges for p in e.findall("di:waypoint", NS)):
        xs.append(float(point.get("x", 0)))
        ys.append(float(point.get("y", 0)))
    return (min(xs), min(ys), max(xs), max(ys)) if xs else (0, 0, 100, 100)


def _defs() -> str:
    markers = "".join(
        f'<marker id="arrow-{name}" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" '
        f'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="{style.stroke}"/></marker>'
        for name, style in [("default", _DEFAULT), *STATES.items()])
    hatch = ('<pattern id="hatch" width="8" height="8" patternUnits="userSpaceOnUse" '
             'patternTransform="rotate(45)"><rect width="8" height="8" fill="#f3f2f1"/>'
             '<line x1="0" y1="0" x2="0" y2="8" stroke="#b1b4b6" stroke-width="3"/></pattern>')
    return f"<defs>{markers}{hatch}</defs>"


def _kind(semantic: dict, node: etree._Element) -> str:
    element = semantic.get(node.get("bpmnElement"))
    return etree.QName(element).localname if element is not None else ""


def _bounds(bounds: etree._Element | None) -> tuple[float, float, float, float]:
    if bounds is None:
        return 0, 0, 0, 0
    return tuple(float(bounds.get(k, 0)) for k in ("x", "y", "width", "height"))  # type: ignore[return-value]


def _stroke(style: StateStyle) -> str:
    dash = f' stroke-dasharray="{style.dash}"' if style.dash else ""
    return f'stroke="{style.stroke}" stroke-width="{style.width:g}"{dash}'


def _shape(shape: etree._Element, semantic: dict, sets: tuple[set[str], ...]) -> str:
    element_id = shape.get("bpmnElement", "")
    element = semantic.get(element_id)
    kind = _kind(semantic, shape)
    x, y, w, h = _bounds(shape.find("dc:Bounds", NS))
    name = (element.get("name") or "") if element is not None else ""
    if kind in ("participant", "lane"):
        band = (f'<text transform="translate({x + 15:g},{y + h / 2:g}) rotate(-90)" text-anchor="middle" '
                f'fill="{INK}">{escape(name)}</text>')
        return (f'<g><rect x="{x:g}" y="{y:g}" width="{w:g}" height="{h:g}" fill="none" stroke="{INK}" '
                f'stroke-width="1"/>{band}</g>')
    state = state_of(element_id, *sets)
    style = STATES[state] if state else _DEFAULT
    tooltip = f"{name or kind} ({style.label.lower()})"
    body = _figure(kind, element, x, y, w, h, style)
    label = _label(shape, kind, name, x, y, w, h)
    badge = _badge(style, x + w, y) if state else ""
    css = f' class="el el-{state}"' if state else ' class="el"'
    return (f'<g{css} data-element-id="{escape(element_id)}"><title>{escape(tooltip)}</title>'
            f"{body}{label}{badge}</g>")


def _figure(kind: str, element: etree._Element | None, x: float, y: float, w: float, h: float,
            style: StateStyle) -> str:
    fill, stroke = style.fill, _stroke(style)
    cx, cy = x + w / 2, y + h / 2
    if kind in _EVENTS:
        r = min(w, h) / 2
        width = style.width + (2 if kind == "endEvent" else 0)
        dash = f' stroke-dasharray="{style.dash}"' if style.dash else ""
        outer = (f'<circle cx="{cx:g}" cy="{cy:g}" r="{r:g}" fill="{fill}" stroke="{style.stroke}" '
                 f'stroke-width="{width:g}"{dash}/>')
        inner = ""
        if kind.startswith("intermediate") or kind == "boundaryEvent":
            interrupting = element is None or element.get("cancelActivity") != "false"
            inner_dash = "" if interrupting else ' stroke-dasharray="3 2"'
            inner = (f'<circle cx="{cx:g}" cy="{cy:g}" r="{r - 3:g}" fill="none" '
                     f'stroke="{style.stroke}"{inner_dash}/>')
        return outer + inner + _event_marker(element, cx, cy, r)
    if kind in _GATEWAY_MARKS:
        points = f"{cx:g},{y:g} {x + w:g},{cy:g} {cx:g},{y + h:g} {x:g},{cy:g}"
        mark = _GATEWAY_MARKS[kind]
        return (f'<polygon points="{points}" fill="{fill}" {stroke}/>'
                f'<text x="{cx:g}" y="{cy + 8:g}" text-anchor="middle" font-size="24" '
                f'fill="{INK}">{mark}</text>')
    if kind in _TASKS:
        outline = f'<rect x="{x:g}" y="{y:g}" width="{w:g}" height="{h:g}" rx="10" fill="{fill}" {stroke}/>'
        if kind == "callActivity":
            outline += (f'<rect x="{x + 3:g}" y="{y + 3:g}" width="{w - 6:g}" height="{h - 6:g}" rx="8" '
                        f'fill="none" stroke="{style.stroke}"/>')
        if element is not None and element.find("bpmn:multiInstanceLoopCharacteristics", NS) is not None:
            bars = " ".join(f"M{cx + dx:g},{y + h - 16:g} v10" for dx in (-5, 0, 5))
            outline += f'<path d="{bars}" stroke="{INK}" stroke-width="2"/>'
        return outline
    if kind == "textAnnotation":
        bracket = f"M{x + 10:g},{y:g} L{x:g},{y:g} L{x:g},{y + h:g} L{x + 10:g},{y + h:g}"
        return f'<path d="{bracket}" fill="none" stroke="{INK}"/>'
    return f'<rect x="{x:g}" y="{y:g}" width="{w:g}" height="{h:g}" fill="{fill}" {stroke}/>'


def _event_marker(element: etree._Element | None, cx: float, cy: float, r: float) -> str:
    if element is None:
        return ""
    if element.find("bpmn:timerEventDefinition", NS) is not None:
        return (f'<circle cx="{cx:g}" cy="{cy:g}" r="{r - 8:g}" fill="#ffffff" stroke="{INK}"/>'
                f'<path d="M{cx:g},{cy:g} L{cx:g},{cy - r + 11:g} M{cx:g},{cy:g} L{cx + 5:g},{cy:g}" '
                f'stroke="{INK}"/>')
    if element.find("bpmn:escalationEventDefinition", NS) is not None:
        return (f'<path d="M{cx:g},{cy - 9:g} L{cx + 6:g},{cy + 8:g} L{cx:g},{cy + 2:g} L{cx - 6:g},{cy + 8:g} z" '
                f'fill="none" stroke="{INK}"/>')
    if element.find("bpmn:messageEventDefinition", NS) is not None:
        return (f'<rect x="{cx - 8:g}" y="{cy - 5:g}" width="16" height="10" fill="#ffffff" stroke="{INK}"/>'
                f'<path d="M{cx - 8:g},{cy - 5:g} L{cx:g},{cy + 1:g} L{cx + 8:g},{cy - 5:g}" fill="none" '
                f'stroke="{INK}"/>')
    return ""


def _label(shape: etree._Element, kind: str, name: str, x: float, y: float, w: float, h: float) -> str:
    if not name:
        return ""
    label_bounds = shape.find("bpmndi:BPMNLabel/dc:Bounds", NS)
    if kind in _TASKS or kind == "textAnnotation":
        lines = textwrap.wrap(name, max(8, int(w / 6.6))) or [name]
        top = y + h / 2 - (len(lines) - 1) * 7 if kind in _TASKS else y + 14
        anchor, tx = ("middle", x + w / 2) if kind in _TASKS else ("start", x + 6)
    else:
        lx, ly, lw, _ = _bounds(label_bounds) if label_bounds is not None else (x - 20, y + h + 4, w + 40, 14)
        lines = textwrap.wrap(name, max(8, int(max(lw, 60) / 6.2))) or [name]
        top, anchor, tx = ly + 11, "middle", lx + lw / 2
    spans = "".join(f'<tspan x="{tx:g}" y="{top + i * 14:g}">{escape(line)}</tspan>'
                    for i, line in enumerate(lines))
    return f'<text text-anchor="{anchor}" fill="{INK}">{spans}</text>'


def _badge(style: StateStyle, right: float, top: float) -> str:
    return (f'<circle cx="{right - 2:g}" cy="{top + 2:g}" r="9" fill="{style.stroke}" stroke="#ffffff" '
            f'stroke-width="1.5"/><text x="{right - 2:g}" y="{top + 6:g}" text-anchor="middle" '
            f'font-size="11" font-weight="bold" fill="#ffffff">{style.glyph}</text>')


def _edge(edge: etree._Element, semantic: dict, sets: tuple[set[str], ...]) -> str:
    element_id = edge.get("bpmnElement", "")
    kind = _kind(semantic, edge)
    points = " ".join(f'{float(p.get("x", 0)):g},{float(p.get("y", 0)):g}'
                      for p in edge.findall("di:waypoint", NS))
    state = state_of(element_id, *sets)
    style = STATES[state] if state else _DEFAULT
    dash = style.dash or ("6 4" if kind in ("messageFlow", "association") else None)
    stroke = f'stroke="{style.stroke}" stroke-width="{max(style.width - 1, 1.5):g}"' + \
        (f' stroke-dasharray="{dash}"' if dash else "")
    end = "" if kind == "association" else f' marker-end="url(#arrow-{state or "default"})"'
    element = semantic.get(element_id)
    name = (element.get("name") or "") if element is not None else ""
    label = ""
    label_bounds = edge.find("bpmndi:BPMNLabel/dc:Bounds", NS)
    if name and label_bounds is not None:
        lx, ly, lw, _ = _bounds(label_bounds)
        label = (f'<text x="{lx + lw / 2:g}" y="{ly + 11:g}" text-anchor="middle" '
                 f'fill="{INK}">{escape(name)}</text>')
    tooltip = f"{name or 'flow'} ({style.label.lower()})"
    return (f'<g class="flow" data-element-id="{escape(element_id)}"><title>{escape(tooltip)}</title>'
            f'<polyline points="{points}" fill="none" {stroke}{end}/>{label}</g>')
