"""The diagram: element states from the workflow and audit, drawn as SVG from the BPMN's DI."""

from __future__ import annotations

from pathlib import Path

from engine.services.diagrams import _Flow, _mark_flows
from web.diagram import render_svg, state_of

BPMN = (Path(__file__).resolve().parents[2] / "processes" / "event_approval.bpmn").read_text()
SMALL = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" xmlns:dc="http://www.omg.org/spec/DD/20100524/DC"
  xmlns:di="http://www.omg.org/spec/DD/20100524/DI" id="d">
  <bpmn:process id="small" isExecutable="true">
    <bpmn:startEvent id="start" name="Asked"/>
    <bpmn:userTask id="check" name="Check it"/>
    <bpmn:boundaryEvent id="late" attachedToRef="check" cancelActivity="false"><bpmn:timerEventDefinition/>
    </bpmn:boundaryEvent>
    <bpmn:sequenceFlow id="to_check" sourceRef="start" targetRef="check"/>
  </bpmn:process>
  <bpmndi:BPMNDiagram id="dd"><bpmndi:BPMNPlane id="p" bpmnElement="small">
    <bpmndi:BPMNShape id="start_di" bpmnElement="start"><dc:Bounds x="100" y="100" width="36" height="36"/>
    </bpmndi:BPMNShape>
    <bpmndi:BPMNShape id="check_di" bpmnElement="check"><dc:Bounds x="200" y="78" width="100" height="80"/>
    </bpmndi:BPMNShape>
    <bpmndi:BPMNShape id="late_di" bpmnElement="late"><dc:Bounds x="232" y="140" width="36" height="36"/>
    </bpmndi:BPMNShape>
    <bpmndi:BPMNEdge id="to_check_di" bpmnElement="to_check"><di:waypoint x="136" y="118"/>
      <di:waypoint x="200" y="118"/></bpmndi:BPMNEdge>
  </bpmndi:BPMNPlane></bpmndi:BPMNDiagram>
</bpmn:definitions>"""
FLOWS = [
    _Flow("a_g", "a", "g"),
    _Flow("g_yes", "g", "yes"),
    _Flow("g_no", "g", "no"),
    _Flow("no_end", "no", "end_no"),
    _Flow("yes_end", "yes", "end_yes"),
    _Flow("t_b", "timer", "late"),
]


def test_a_gateway_branch_not_taken_is_untaken_all_the_way_down():
    done, untaken = _mark_flows(FLOWS, {"g"}, {"a", "g", "yes", "end_yes"}, set(), set(), {"g": {"yes"}})
    assert done == {"a_g", "g_yes", "yes_end"}
    assert untaken == {"g_no", "no", "no_end", "end_no"}


def test_a_cancelled_boundary_event_and_what_follows_it_are_untaken():
    _, untaken = _mark_flows(FLOWS, {"g"}, {"a"}, {"g"}, {"timer"}, {})
    assert untaken == {"timer", "t_b", "late"}


def test_active_wins_over_completed_for_an_element_run_again():
    assert state_of("x", {"x"}, {"x"}, set()) == "active"
    assert state_of("y", set(), set(), {"y"}) == "untaken"
    assert state_of("z", set(), set(), set()) is None


def test_the_svg_marks_each_state_by_colour_pattern_glyph_and_words():
    svg = str(render_svg(SMALL, completed={"start", "to_check"}, active={"check"}, untaken={"late"}, title="Small"))
    assert svg.startswith('<svg xmlns="http://www.w3.org/2000/svg" class="diagram" role="img"')
    assert '<title id="diagram-title">Small</title>' in svg
    assert '<g class="el el-active" data-element-id="check"><title>Check it (active now)</title>' in svg
    assert '<g class="el el-untaken" data-element-id="late"><title>boundaryEvent (not taken)</title>' in svg
    assert 'stroke-dasharray="8 4"' in svg and "\u25b6" in svg and "\u2713" in svg and "url(#hatch)" in svg
    assert 'marker-end="url(#arrow-completed)"' in svg
    assert "style=" not in svg and "<style" not in svg  # the CSP allows no inline styles


def test_every_shape_and_flow_of_the_event_approval_diagram_is_drawn():
    svg = str(render_svg(BPMN))
    assert svg.count("<polyline") == BPMN.count("<bpmndi:BPMNEdge")
    assert svg.count("data-element-id=") == BPMN.count("<bpmndi:BPMNEdge") + BPMN.count(
        "<bpmndi:BPMNShape"
    ) - BPMN.count('bpmnElement="Lane_') - BPMN.count('bpmnElement="Participant_')
