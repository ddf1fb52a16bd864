"""The real `campusflow` console script (SPEC §12 commands) against a temporary SQLite file."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from builders import AUDITOR
from lxml import etree

from engine import services
from engine.bootstrap import WorkflowEngine, bootstrap
from engine.config import Settings

ROOT = Path(__file__).resolve().parents[2]
BPMN = "processes/event_approval.bpmn"
_SCRIPT = shutil.which("campusflow", path=str(Path(sys.executable).parent)) or shutil.which("campusflow")
COMMAND = [_SCRIPT] if _SCRIPT else [sys.executable, "-c", "import sys; from web.cli import main; sys.exit(main())"]

Run = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def database_file(tmp_path: Path) -> Path:
    return tmp_path / "cli.db"


@pytest.fixture
def cli(database_file: Path) -> Run:
    """`cli("users", "add", ...)` runs the command in the project folder with only this database set."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CAMPUSFLOW_")}
    env.update(CAMPUSFLOW_DATABASE_URL=f"sqlite:///{database_file}", CAMPUSFLOW_SECRET_KEY="cli-test")

    def run(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*COMMAND, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120)

    return run


@pytest.fixture
def reader(database_file: Path) -> Iterator[Callable[[], WorkflowEngine]]:
    """An in-process engine on the CLI's database, for checking what the commands stored."""
    engines: list[WorkflowEngine] = []

    def make() -> WorkflowEngine:
        engines.append(bootstrap(Settings(database_url=f"sqlite:///{database_file}")))
        return engines[-1]

    yield make
    for engine in engines:
        engine.db.dispose()


@pytest.fixture
def deployed_cli(cli: Run) -> Run:
    """The CLI after `db upgrade` and a first deploy of processes/ and forms/."""
    for args in (("db", "upgrade"), ("deploy", "processes", "--forms", "forms")):
        result = cli(*args)
        assert result.returncode == 0, result.stderr
    return cli


def versions(engine: WorkflowEngine) -> list[tuple[str, int]]:
    return [(p.key, p.version) for p in services.list_processes(engine, AUDITOR)]


def test_db_upgrade_and_deploy_register_each_process_once(cli, reader):
    upgraded = cli("db", "upgrade")
    first = cli("deploy", "processes", "--forms", "forms")
    second = cli("deploy", "processes", "--forms", "forms")

    assert upgraded.returncode == 0, upgraded.stderr
    assert first.returncode == 0, first.stderr
    assert "deployed event_approval version 1" in first.stdout
    assert second.returncode == 0, second.stderr
    assert "unchanged event_approval" in second.stdout
    assert "deployed event_approval" not in second.stdout
    assert ("event_approval", 1) in versions(reader())
    assert all(version == 1 for _, version in versions(reader()))


def test_db_upgrade_twice_is_harmless(cli):
    assert cli("db", "upgrade").returncode == 0
    again = cli("db", "upgrade")
    assert again.returncode == 0, again.stderr


def test_users_add_without_a_password_prints_one_and_the_token_authenticates(deployed_cli, reader):
    added = deployed_cli("users", "add", "nadia", "--role", "organiser")
    token = deployed_cli("users", "token", "nadia")

    assert added.returncode == 0, added.stderr
    (password_line,) = [line for line in added.stdout.splitlines() if line.startswith("password:")]
    password = password_line.split(":", 1)[1].strip()
    assert len(password) >= 12
    engine = reader()
    assert services.authenticate_password(engine, "nadia", password).roles == frozenset({"organiser"})
    assert token.returncode == 0, token.stderr
    actor = services.authenticate_token(engine, token.stdout.strip().splitlines()[-1])
    assert (actor.username, actor.roles) == ("nadia", frozenset({"organiser"}))


def test_users_add_with_several_roles_and_a_password_prints_no_password(deployed_cli, reader):
    added = deployed_cli(
        "users", "add", "pat", "--role", "security", "--role", "prevent_lead", "--password", "s3cret-pw"
    )

    assert added.returncode == 0, added.stderr
    assert "password:" not in added.stdout
    assert services.authenticate_password(reader(), "pat", "s3cret-pw").roles == frozenset({"security", "prevent_lead"})


def test_users_add_with_an_unknown_role_exits_1_and_adds_nobody(deployed_cli, reader):
    added = deployed_cli("users", "add", "zed", "--role", "wizard")

    assert added.returncode == 1
    assert "wizard" in added.stderr
    assert "zed" not in [u.username for u in services.list_users(reader())]


def test_users_token_for_an_unknown_user_exits_1(deployed_cli):
    result = deployed_cli("users", "token", "nobody")

    assert result.returncode == 1
    assert "nobody" in result.stderr


def test_audit_verify_prints_ok_json_and_exits_0(deployed_cli):
    deployed_cli("users", "add", "nadia", "--role", "organiser")

    result = deployed_cli("audit", "verify")

    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["ok"] is True
    assert report["first_bad"] is None
    assert report["events"] >= 2


def test_audit_verify_exits_1_and_names_the_first_bad_event_after_tampering(deployed_cli, database_file):
    deployed_cli("users", "add", "nadia", "--role", "organiser")
    conn = sqlite3.connect(database_file)
    with conn:  # someone with file access removes the append-only guard first
        conn.execute("DROP TRIGGER audit_events_no_update")
        conn.execute("UPDATE audit_events SET actor = 'mallory' WHERE seq = 1")
    conn.close()

    result = deployed_cli("audit", "verify")

    assert result.returncode == 1
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert (report["ok"], report["first_bad"]) == (False, 1)


SPEC_COMMANDS = [
    (),
    ("db",),
    ("db", "upgrade"),
    ("deploy",),
    ("users",),
    ("users", "add"),
    ("users", "token"),
    ("serve",),
    ("worker",),
    ("audit",),
    ("audit", "verify"),
    ("audit", "export"),
    ("replay",),
    ("report",),
    ("report", "ofs"),
    ("demo",),
]


@pytest.mark.parametrize("command", SPEC_COMMANDS, ids=lambda c: " ".join(c) or "campusflow")
def test_every_spec_command_has_help(cli, command):
    result = cli(*command, "--help")

    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Usage: ")
    assert " ".join(command) in result.stdout.splitlines()[0]


BPMN_NS = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"
CAMUNDA_NS = "{http://camunda.org/schema/1.0/bpmn}"


def _edit_xml(path: Path, change: Callable[[etree._Element], str]) -> str:
    """Apply `change` to the parsed document, write it back, and return the element id it names."""
    doc = etree.parse(str(path))
    element_id = change(doc.getroot())
    doc.write(str(path), xml_declaration=True, encoding="UTF-8")
    return element_id


def _first(root: etree._Element, path: str) -> etree._Element:
    found = root.find(f".//{path}")
    assert found is not None, f"the process no longer has {path}; update this test's breaks"
    return found


def _user_task_form(root: etree._Element) -> str:
    task = _first(root, f"{BPMN_NS}userTask")
    task.set(f"{CAMUNDA_NS}formRef", "no_such_form")
    return task.get("id")


def _start_form(root: etree._Element) -> str:
    start = _first(root, f"{BPMN_NS}startEvent[@{CAMUNDA_NS}formRef]")
    start.set(f"{CAMUNDA_NS}formRef", "no_such_start_form")
    return start.get("id")


def _candidate_group(root: etree._Element) -> str:
    task = _first(root, f"{BPMN_NS}userTask")
    task.set(f"{CAMUNDA_NS}candidateGroups", "events_team")
    return task.get("id")


def _condition(root: etree._Element) -> str:
    condition = _first(root, f"{BPMN_NS}conditionExpression")
    condition.text = 'decision === "rejected"'
    return condition.getparent().get("id")


def _timer(root: etree._Element) -> str:
    definition = _first(root, f"{BPMN_NS}timerEventDefinition")
    (value,) = [child for child in definition if isinstance(child.tag, str)]
    value.text = "ten working days"
    return definition.getparent().get("id")


def _script(root: etree._Element) -> str:
    task = _first(root, f"{BPMN_NS}scriptTask")
    script = _first(task, f"{BPMN_NS}script")
    script.text = (script.text or "") + "\nrisk_score = (("
    return task.get("id")


def _dmn_cell(root: etree._Element) -> str:
    entry = _first(root, "{*}inputEntry")
    _first(entry, "{*}text").text = "at most two"
    return entry.get("id")


def _break_bpmn(change: Callable[[etree._Element], str]) -> Callable[[Path], tuple[str, str | None]]:
    return lambda copy: (BPMN, _edit_xml(copy / BPMN, change))


def _break_dmn(copy: Path) -> tuple[str, str | None]:
    return "processes/risk_band.dmn", _edit_xml(copy / "processes/risk_band.dmn", _dmn_cell)


def _break_xml(copy: Path) -> tuple[str, str | None]:
    path = copy / BPMN
    path.write_text(path.read_text(encoding="utf-8").replace("</bpmn:definitions>", ""), encoding="utf-8")
    return BPMN, None


def _break_form(copy: Path) -> tuple[str, str | None]:
    path = copy / "forms/review_decision.form"
    path.write_text(path.read_text(encoding="utf-8").replace("{", "", 1), encoding="utf-8")
    return "forms/review_decision.form", None


BREAKS: dict[str, Callable[[Path], tuple[str, str | None]]] = {
    "user task form unknown": _break_bpmn(_user_task_form),
    "start form unknown": _break_bpmn(_start_form),
    "candidate group not a role": _break_bpmn(_candidate_group),
    "condition syntax error": _break_bpmn(_condition),
    "timer neither ISO nor Python": _break_bpmn(_timer),
    "script syntax error": _break_bpmn(_script),
    "decision cell not Python": _break_dmn,
    "malformed XML": _break_xml,
    "form not JSON": _break_form,
}


@pytest.mark.parametrize("breaks", BREAKS.values(), ids=BREAKS.keys())
def test_a_broken_definition_is_refused_naming_file_and_element_and_nothing_is_deployed(
    deployed_cli, reader, tmp_path, breaks
):
    copy = tmp_path / "copy"
    for folder in ("processes", "forms"):
        shutil.copytree(ROOT / folder, copy / folder)
    file, element_id = breaks(copy)
    before = versions(reader())

    result = deployed_cli("deploy", str(copy / "processes"), "--forms", str(copy / "forms"))

    assert result.returncode == 1, result.stdout
    assert file in result.stderr
    if element_id:
        assert f"[{element_id}]" in result.stderr
    assert "nothing was deployed" in result.stderr
    assert "deployed event_approval" not in result.stdout
    assert versions(reader()) == before
    assert ("event_approval", 1) in before
