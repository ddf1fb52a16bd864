"""Checks on BPMN and DMN documents that the XSD and SpiffWorkflow's parser do not make.

Every finding names the file, the element id, the line, and what to do. Imports lxml only.
"""

from __future__ import annotations

import ast
import re

from lxml import etree

from .errors import DefinitionProblem
from .scripting import check_expression, is_iso_timer_literal, python_expression

BPMN = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"
CAMUNDA = "{http://camunda.org/schema/1.0/bpmn}"
DMN_NAMESPACES = (
    "https://www.omg.org/spec/DMN/20191111/MODEL/",
    "http://www.omg.org/spec/DMN/20180521/MODEL/",
    "http://www.omg.org/spec/DMN/20151101/dmn.xsd",
)
_DMN_PLACEHOLDER = re.compile(r"\?(?=(?:[^'\"]|['\"][^'\"]*['\"])*$)")


def decision_ids(doc: etree._Element) -> list[str]:
    """Ids of the decisions in a DMN document."""
    return [d.get("id") for ns in DMN_NAMESPACES for d in doc.iterfind(f"{{{ns}}}decision")]


def check_bpmn_document(name: str, doc: etree._Element, *, forms: set[str], decisions: set[str],
                        processes: set[str], roles: set[str]) -> list[DefinitionProblem]:
    """Cross-reference and expression checks for one BPMN file."""
    problems: list[DefinitionProblem] = []

    def problem(element: etree._Element, message: str) -> None:
        problems.append(DefinitionProblem(name, element.get("id"), message, element.sourceline))

    for process in doc.iterfind(f"{BPMN}process"):
        for element in process.iter():
            tag = etree.QName(element).localname if isinstance(element.tag, str) else ""
            checker = _ELEMENT_CHECKS.get(tag)
            if checker:
                checker(element, problem, forms=forms, decisions=decisions, processes=processes, roles=roles)
    return problems


def _check_user_task(element: etree._Element, problem, *, forms: set[str], roles: set[str], **_: object) -> None:
    form = element.get(f"{CAMUNDA}formRef")
    if not form:
        problem(element, "user task has no form: set camunda:formRef to the id of a form in forms/")
    elif form not in forms:
        problem(element, f"camunda:formRef {form!r} matches no form in forms/ (known: {', '.join(sorted(forms))})")
    groups = [g.strip() for g in (element.get(f"{CAMUNDA}candidateGroups") or "").split(",") if g.strip()]
    if not groups:
        problem(element, "user task has no candidate groups: set camunda:candidateGroups to one or more roles")
    for group in groups:
        if group not in roles:
            problem(element, f"candidate group {group!r} is not a known role (roles: {', '.join(sorted(roles))})")
    due = element.get(f"{CAMUNDA}dueDate")
    if due and (reason := check_expression(due)):
        problem(element, f"camunda:dueDate {due!r} is neither ISO-8601 nor a valid expression: {reason}")


def _check_start_event(element: etree._Element, problem, *, forms: set[str], **_: object) -> None:
    form = element.get(f"{CAMUNDA}formRef")
    if form and form not in forms:
        problem(element, f"camunda:formRef {form!r} matches no form in forms/")


def _check_business_rule(element: etree._Element, problem, *, decisions: set[str], **_: object) -> None:
    ref = element.get(f"{CAMUNDA}decisionRef")
    if not ref:
        problem(element, "business rule task has no camunda:decisionRef: name a decision id from processes/*.dmn")
    elif ref not in decisions:
        problem(element, f"camunda:decisionRef {ref!r} matches no decision in processes/*.dmn")


def _check_call_activity(element: etree._Element, problem, *, processes: set[str], **_: object) -> None:
    called = element.get("calledElement")
    if not called or called not in processes:
        problem(element, f"calledElement {called!r} matches no process id in processes/*.bpmn")


def _check_condition(element: etree._Element, problem, **_: object) -> None:
    body = (element.text or "").strip()
    if not body:
        problem(element.getparent(), "empty condition: write a Python expression such as decision == \"rejected\"")
    elif reason := check_expression(body):
        problem(element.getparent(), f"condition {body!r} is not a valid expression: {reason}")


def _check_script(element: etree._Element, problem, **_: object) -> None:
    script = element.find(f"{BPMN}script")
    if script is None or not (script.text or "").strip():
        problem(element, "script task has no inline script")
    elif reason := check_expression(script.text, "exec"):
        problem(element, f"script is not valid restricted Python: {reason}")


def _check_timer(element: etree._Element, problem, **_: object) -> None:
    values = [child for child in element if etree.QName(child).localname in ("timeDate", "timeDuration", "timeCycle")]
    if len(values) != 1 or not (values[0].text or "").strip():
        problem(element.getparent(), "a timer needs exactly one of timeDate, timeDuration or timeCycle, with a value")
        return
    text = values[0].text.strip()
    if not is_iso_timer_literal(text) and (reason := check_expression(text)):
        problem(element.getparent(), f"timer value {text!r} is neither ISO-8601 (e.g. PT5M, R2/PT1H, "
                                     f"2031-01-01T09:00:00Z) nor a valid expression: {reason}")


def _check_service_task(element: etree._Element, problem, **_: object) -> None:
    expression = element.get(f"{CAMUNDA}expression")
    if expression and (reason := check_expression(python_expression(expression))):
        problem(element, f"camunda:expression {expression!r} is not a valid expression: {reason}")


_ELEMENT_CHECKS = {
    "userTask": _check_user_task,
    "startEvent": _check_start_event,
    "businessRuleTask": _check_business_rule,
    "callActivity": _check_call_activity,
    "conditionExpression": _check_condition,
    "scriptTask": _check_script,
    "timerEventDefinition": _check_timer,
    "serviceTask": _check_service_task,
}


def check_dmn_document(name: str, doc: etree._Element) -> list[DefinitionProblem]:
    """One decision per file; every input expression and cell must be a Python expression SpiffWorkflow can run."""
    problems: list[DefinitionProblem] = []
    ids = decision_ids(doc)
    if len(ids) != 1:
        problems.append(DefinitionProblem(name, None, f"a DMN file must hold exactly one decision (found {len(ids)}); "
                                                      "split the decisions into one file each", doc.sourceline))
    for element in doc.iter():
        if not isinstance(element.tag, str):
            continue
        tag = etree.QName(element).localname
        text_node = next((c for c in element if isinstance(c.tag, str) and etree.QName(c).localname == "text"), None)
        text = (text_node.text or "").strip() if text_node is not None else ""
        if not text or text == "-":
            continue
        owner = element.getparent() if tag == "inputExpression" else element
        reason = _dmn_cell_problem(text, tag)
        if reason:
            problems.append(DefinitionProblem(name, owner.get("id"), f"{tag} {text!r}: {reason} "
                                              "(cells are Python: write \"LOW\", <= 2, ? >= 3 and ? <= 5)",
                                              element.sourceline))
    return problems


def _dmn_cell_problem(text: str, tag: str) -> str | None:
    if tag == "inputEntry":
        candidate = _DMN_PLACEHOLDER.sub("dmninputexpr", text)
        for source in (candidate, f"v {candidate}"):
            try:
                ast.parse(source, mode="eval")
                return None
            except SyntaxError:
                continue
        return "not a Python comparison"
    if tag in ("outputEntry", "inputExpression"):
        return check_expression(text)
    return None
