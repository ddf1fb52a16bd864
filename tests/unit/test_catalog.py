"""Deploy validation: each kind of bad file is refused with file, element, line and reason; nothing is deployed."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from engine import services
from engine.catalog import load_catalog
from engine.config import ROLES
from engine.errors import ProcessDefinitionError
from engine.model import Actor

MINI = Path(__file__).resolve().parent.parent / "fixtures" / "mini"
ADMIN = Actor("admin", frozenset({"admin"}))


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A writable copy of the small fixture project."""
    shutil.copytree(MINI, tmp_path / "mini")
    return tmp_path / "mini"


def _edit(project: Path, name: str, old: str, new: str) -> None:
    path = project / name
    text = path.read_text()
    assert old in text, f"fixture no longer contains {old!r}"
    path.write_text(text.replace(old, new, 1))


def _problems(project: Path) -> list:
    with pytest.raises(ProcessDefinitionError) as refused:
        load_catalog(project / "processes", project / "forms", ROLES)
    return refused.value.problems


def test_valid_project_builds_one_bundle_with_its_sources(project):
    catalog = load_catalog(project / "processes", project / "forms", ROLES)
    [bundle] = catalog.bundles
    assert bundle.key == "leave_request" and bundle.start_form_id == "leave_form"
    assert set(bundle.sources) == {"processes/leave_request.bpmn", "processes/leave_band.dmn",
                                   "forms/leave_form.form", "forms/review_form.form"}
    assert bundle.starter_groups == ("organiser",)
    assert set(bundle.candidate_groups) == {"events_office", "security"}


BAD_FILES = [
    ("unknown form", "processes/leave_request.bpmn", 'camunda:formRef="review_form"', 'camunda:formRef="nope"',
     "review", "matches no form"),
    ("unknown role", "processes/leave_request.bpmn", 'camunda:candidateGroups="events_office, security"',
     'camunda:candidateGroups="janitors"', "review", "not a known role"),
    ("no candidate groups", "processes/leave_request.bpmn", 'camunda:candidateGroups="events_office, security" ', "",
     "review", "no candidate groups"),
    ("unknown decision", "processes/leave_request.bpmn", 'camunda:decisionRef="leave_band"',
     'camunda:decisionRef="nothing"', "band", "matches no decision"),
    ("condition syntax", "processes/leave_request.bpmn", "${approved &amp;&amp; band != null}", "approved ==",
     "to_granted", "not a valid expression"),
    ("script syntax", "processes/leave_request.bpmn", "days_score = days * 2", "days_score = = 2",
     "score", "script is not valid"),
    ("script import", "processes/leave_request.bpmn", "days_score = days * 2", "import os", "score", "imports"),
    ("dunder access", "processes/leave_request.bpmn", "days_score = days * 2", "x = days.__class__",
     "score", "invalid attribute"),
    ("timer value", "processes/leave_request.bpmn", "R2/PT1H", "every hour please", "remind", "timer value"),
    ("due date", "processes/leave_request.bpmn", 'camunda:dueDate="${due_day}"', 'camunda:dueDate="${due_day +}"',
     "review", "dueDate"),
    ("malformed XML", "processes/leave_request.bpmn", "</bpmn:process>", "</bpmn:proces>", None, "not well-formed"),
    ("schema violation", "processes/leave_request.bpmn",
     '<bpmn:sequenceFlow id="to_band" sourceRef="score" targetRef="band" />',
     '<bpmn:sequenceFlow id="to_band" sourceRef="score" />', None, "BPMN schema"),
    ("dmn cell", "processes/leave_band.dmn", "<text>&gt; 4</text>", "<text>&gt; (4</text>", "rule_long_in",
     "not a Python comparison"),
    ("form JSON", "forms/review_form.form", '"type": "checkbox"}', '"type": "checkbox"', None, "JSON"),
    ("form field type", "forms/review_form.form", '"type": "checkbox"', '"type": "slider3d"', "Field_approved", ""),
]


@pytest.mark.parametrize(("kind", "name", "old", "new", "element", "reason"), BAD_FILES, ids=[b[0] for b in BAD_FILES])
def test_bad_file_is_refused_with_file_element_and_reason(project, kind, name, old, new, element, reason):
    _edit(project, name, old, new)
    problems = _problems(project)
    matching = [p for p in problems if p.file == name and (element is None or p.element_id == element)]
    assert matching, f"{kind}: no problem reported for {name} [{element}]: {problems}"
    assert reason.lower() in str(matching[0]).lower()
    if name.endswith((".bpmn", ".dmn")) and kind not in ("malformed XML",):
        assert matching[0].line is not None, "the line is known for XML findings"


def test_refused_deploy_leaves_the_database_unchanged(engine, project):
    good = load_catalog(project / "processes", project / "forms", ROLES)
    services.deploy(engine, good, ADMIN)
    before = services.list_processes(engine, ADMIN)
    _edit(project, "processes/leave_band.dmn", '"long"', '"longer"')  # a real change ...
    _edit(project, "forms/review_form.form", '"type": "checkbox"', '"type": "slider3d"')  # ... and a broken file
    _problems(project)
    assert services.list_processes(engine, ADMIN) == before
    assert services.verify_audit(engine).events == 1


def test_redeploying_unchanged_files_is_a_no_op_and_a_change_makes_a_new_version(engine, project):
    catalog = load_catalog(project / "processes", project / "forms", ROLES)
    first = services.deploy(engine, catalog, ADMIN)
    again = services.deploy(engine, load_catalog(project / "processes", project / "forms", ROLES), ADMIN)
    assert first.deployed == (("leave_request", 1),) and again.deployed == () and again.unchanged == ("leave_request",)
    _edit(project, "processes/leave_band.dmn", "&lt;= 4", "&lt;= 5")
    _edit(project, "processes/leave_band.dmn", "&gt; 4", "&gt; 5")
    changed = services.deploy(engine, load_catalog(project / "processes", project / "forms", ROLES), ADMIN)
    assert changed.deployed == (("leave_request", 2),)
    [view] = services.list_processes(engine, ADMIN)
    assert view.version == 2


def test_two_decisions_in_one_dmn_file_are_refused(project):
    _edit(project, "processes/leave_band.dmn", "</definitions>",
          '<decision id="other" name="Other"><decisionTable id="t2"><output id="o2" name="x" typeRef="string" />'
          "</decisionTable></decision></definitions>")
    assert any("exactly one decision" in str(p) for p in _problems(project))
