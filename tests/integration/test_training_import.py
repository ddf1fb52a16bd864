"""CSV import of past training: validated row by row, all or nothing in one transaction, via service and CLI."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from engine import services
from engine.errors import InvalidDataError, PermissionDeniedError
from engine.model import Actor
from engine.tables import AuditRecord, TrainingRecord
from engine.training_import import parse_training_csv

ADMIN = Actor("ada", frozenset({"admin"}))
ROOT = Path(__file__).resolve().parents[2]
_SCRIPT = shutil.which("campusflow", path=str(Path(sys.executable).parent)) or shutil.which("campusflow")
COMMAND = [_SCRIPT] if _SCRIPT else [sys.executable, "-c", "import sys; from web.cli import main; sys.exit(main())"]
GOOD = ("person,full_name,department,staff_role,course,training_type,completed_on,certificate_ref\n"
        "ann,Ann Lee,Estates,estates,wrap_workshop,induction,2025-09-01,W-1\n"
        "bob,Bob Ray,Security,security,channel_awareness,refresher,2026-01-10,\n")


def stored(engine) -> list[tuple[str, str, str | None]]:
    with engine.new_uow(readonly=True) as uow:
        return [(r.person, r.status, r.refresher_due_on) for r in
                uow.session.execute(select(TrainingRecord).order_by(TrainingRecord.id)).scalars()]


def test_a_valid_file_is_stored_completed_with_a_default_refresher_date_and_audited(engine):
    assert services.import_training_records(engine, GOOD, ADMIN, file_name="past.csv") == 2
    assert stored(engine) == [("ann", "completed", "2028-09-01"), ("bob", "completed", "2029-01-10")]
    with engine.new_uow(readonly=True) as uow:
        assert uow.session.execute(select(AuditRecord.type).where(AuditRecord.type == "training_imported")).scalar()


@pytest.mark.parametrize("row, message", [
    ("cat,,,,knitting,induction,2025-09-01,", "course"),
    ("cat,,,,wrap_workshop,weekly,2025-09-01,", "training_type"),
    ("cat,,,,wrap_workshop,induction,01/09/2025,", "completed_on"),
    ("cat,,,,wrap_workshop,induction,2099-01-01,", "in the future"),
    (",,,,wrap_workshop,induction,2025-09-01,", "person: required"),
    ("c a t,,,,wrap_workshop,induction,2025-09-01,", "person: must be"),
])
def test_one_bad_row_is_reported_by_line_and_nothing_is_imported(engine, row, message):
    with pytest.raises(InvalidDataError) as refused:
        services.import_training_records(engine, GOOD + row + "\n", ADMIN)
    assert list(refused.value.fields) == ["line 4"]
    assert any(message in m for m in refused.value.fields["line 4"])
    assert stored(engine) == []


def test_file_level_problems_and_permissions(engine):
    for text, problem in (("", "empty"), ("person,course\nann,wrap_workshop\n", "Missing column"),
                          ("person,course,training_type,completed_on,shoe_size\n", "Unknown column"),
                          ("person,course,training_type,completed_on\n", "no training records")):
        with pytest.raises(InvalidDataError) as refused:
            services.import_training_records(engine, text, ADMIN)
        assert problem in " ".join(refused.value.fields["file"])
    with pytest.raises(PermissionDeniedError):
        services.import_training_records(engine, GOOD, Actor("olivia", frozenset({"organiser"})))
    rows, problems = parse_training_csv("person,course,training_type,completed_on,refresher_due_on\n"
                                        "ann,wrap_workshop,induction,2025-09-01,2025-01-01\n", date(2027, 1, 1))
    assert rows == [] and problems == {"line 2": ["refresher_due_on: must be after completed_on."]}


def test_cli_imports_a_file_or_reports_its_bad_lines(engine, tmp_path: Path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("CAMPUSFLOW_")}
    env.update(CAMPUSFLOW_DATABASE_URL=engine.settings.database_url, CAMPUSFLOW_SECRET_KEY="cli-test")
    good, bad = tmp_path / "good.csv", tmp_path / "bad.csv"
    good.write_text(GOOD)
    bad.write_text(GOOD + "cat,,,,knitting,induction,2025-09-01,\n")

    def run(path: Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*COMMAND, "training", "import", str(path)], cwd=ROOT, env=env, capture_output=True,
                              text=True, timeout=120)

    result = run(bad)
    assert result.returncode == 1 and "line 4" in result.stderr and "knitting" in result.stderr
    assert stored(engine) == []
    result = run(good)
    assert result.returncode == 0 and "imported 2 training records" in result.stdout
    assert len(stored(engine)) == 2
