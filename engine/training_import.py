"""Parse and validate a CSV of existing training records, row by row (pure; the training service stores them).

Columns (header row required, order free): person, full_name, department, staff_role, manager, course,
training_type, completed_on, certificate_ref, refresher_due_on. `person`, `course`, `training_type` and
`completed_on` are required; `refresher_due_on` defaults to DEFAULT_REFRESHER_YEARS after completion.
Every problem is reported with its line number; the caller stores nothing unless there are none.
Imports awareness_counting and process_functions only.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import date
from typing import Any

from .awareness_counting import COURSES, TRAINING_TYPES
from .process_functions import years_after

DEFAULT_REFRESHER_YEARS = 3

COLUMNS = ("person", "full_name", "department", "staff_role", "manager", "course", "training_type",
           "completed_on", "certificate_ref", "refresher_due_on")
REQUIRED = ("person", "course", "training_type", "completed_on")
USERNAME = re.compile(r"^[A-Za-z0-9._@-]{1,200}$")
MAX_LENGTH = {"full_name": 300, "department": 200, "staff_role": 100, "manager": 200, "certificate_ref": 200}
MAX_ROWS = 20000


def parse_training_csv(text: str, today: date) -> tuple[list[dict[str, Any]], dict[str, list[str]]]:
    """The valid rows (as register fields) and the problems by line ("line 3") or "file"; rows only if no problems."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = [h.strip() for h in (reader.fieldnames or [])]
    problems: dict[str, list[str]] = {}
    missing = [c for c in REQUIRED if c not in header]
    unknown = [h for h in header if h and h not in COLUMNS]
    if not header:
        problems["file"] = ["The file is empty: it needs a header row (" + ", ".join(COLUMNS) + ")."]
    elif missing or unknown:
        problems["file"] = ([f"Missing column: {c}." for c in missing] + [f"Unknown column: {c}." for c in unknown])
    if problems:
        return [], problems
    reader.fieldnames = header
    rows: list[dict[str, Any]] = []
    for row in reader:
        line = reader.line_num
        if len(rows) >= MAX_ROWS:
            problems["file"] = [f"Too many rows: at most {MAX_ROWS} per file."]
            break
        if None in row:
            problems[f"line {line}"] = ["More values than columns."]
            continue
        clean, messages = _check_row({k: (v or "").strip() for k, v in row.items()}, today)
        if messages:
            problems[f"line {line}"] = messages
        elif clean is not None:
            rows.append(clean)
    if not rows and not problems:
        problems["file"] = ["The file has no training records below its header."]
    return ([] if problems else rows), problems


def _check_row(row: dict[str, str], today: date) -> tuple[dict[str, Any] | None, list[str]]:
    if not any(row.values()):
        return None, []  # a blank line
    messages = [f"{c}: required." for c in REQUIRED if not row.get(c)]
    if row.get("person") and not USERNAME.match(row["person"]):
        messages.append("person: must be a campusflow user name (letters, digits, . _ @ -).")
    if row.get("manager") and not USERNAME.match(row["manager"]):
        messages.append("manager: must be a campusflow user name (letters, digits, . _ @ -).")
    if row.get("course") and row["course"] not in COURSES:
        messages.append(f"course: {row['course']!r} is not one of {', '.join(COURSES)}.")
    if row.get("training_type") and row["training_type"] not in TRAINING_TYPES:
        messages.append(f"training_type: {row['training_type']!r} is not one of {', '.join(TRAINING_TYPES)}.")
    completed = _date(row.get("completed_on"))
    if row.get("completed_on") and completed is None:
        messages.append(f"completed_on: {row['completed_on']!r} is not a date (YYYY-MM-DD).")
    elif completed is not None and completed > today:
        messages.append(f"completed_on: {completed.isoformat()} is in the future.")
    refresher = _date(row.get("refresher_due_on"))
    if row.get("refresher_due_on") and refresher is None:
        messages.append(f"refresher_due_on: {row['refresher_due_on']!r} is not a date (YYYY-MM-DD).")
    elif refresher is not None and completed is not None and refresher <= completed:
        messages.append("refresher_due_on: must be after completed_on.")
    for column, limit in MAX_LENGTH.items():
        if len(row.get(column) or "") > limit:
            messages.append(f"{column}: at most {limit} characters.")
    if messages:
        return None, messages
    clean: dict[str, Any] = {c: (row.get(c) or None) for c in COLUMNS}
    clean["person"] = row["person"]
    clean["completed_on"] = completed.isoformat() if completed else None
    clean["refresher_due_on"] = (refresher.isoformat() if refresher
                                 else years_after(clean["completed_on"], DEFAULT_REFRESHER_YEARS))
    return clean, []


def _date(value: str | None) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None
