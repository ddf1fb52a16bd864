"""Script engine for diagrams: Python expressions as Camunda Modeler writes them, run under RestrictedPython.

Imports SpiffWorkflow and RestrictedPython, never the database.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Mapping
from datetime import date, datetime, timedelta, timezone
from functools import lru_cache
from types import CodeType
from typing import Any

from RestrictedPython import compile_restricted
from RestrictedPython.Eval import default_guarded_getitem
from RestrictedPython.Guards import (
    full_write_guard,
    guarded_iter_unpack_sequence,
    guarded_unpack_sequence,
    safe_builtins,
    safer_getattr,
)
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine, TaskDataEnvironment

from . import awareness_effects, lookups, process_effects, process_functions, working_days

ISO_DURATION = r"P(?!$)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+(\.\d+)?S)?)?"
ISO_DATETIME = r"\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?"
ISO_TIMER_LITERAL = re.compile(
    rf"^\s*(?:{ISO_DURATION}|{ISO_DATETIME}|R\d*/(?:(?:{ISO_DATETIME})/)?{ISO_DURATION}(?:/{ISO_DATETIME})?)\s*$"
)
_EL_WRAPPER = re.compile(r"^\s*[$#]\{(.*)\}\s*$", re.DOTALL)
# Strings first so that operators inside quotes are never rewritten.
_EL_TOKENS = re.compile(r"""("(?:\\.|[^"\\])*"|'(?:\\.|[^'\\])*')|&&|\|\||!(?!=)|\b(?:true|false|null)\b""")
_EL_MAP = {"&&": " and ", "||": " or ", "!": " not ", "true": "True", "false": "False", "null": "None"}


class InputRefused(Exception):
    """Raised by `refuse()` in a diagram script: the submitted data breaks a rule of the process."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field, self.message = field, message


def refuse(field: str, message: str) -> None:
    """For diagram scripts: reject the step's input with a message for `field`; nothing is saved."""
    raise InputRefused(str(field), str(message))


def is_iso_timer_literal(expression: str) -> bool:
    """True for a bare ISO-8601 duration, date-time or repeating interval such as `PT5M` or `R2/PT1H`."""
    return bool(ISO_TIMER_LITERAL.match(expression))


def python_expression(expression: str) -> str:
    """Turn `${a && !b}` (Camunda Modeler's habit) into the Python `a and not b`; plain Python is unchanged."""
    match = _EL_WRAPPER.match(expression)
    if not match:
        return expression.strip()
    return _EL_TOKENS.sub(lambda m: m.group(1) or _EL_MAP[m.group(0)], match.group(1)).strip()


def _inplace(op: str, left: Any, right: Any) -> Any:
    operations: dict[str, Callable[[Any, Any], Any]] = {
        "+=": lambda a, b: a + b,
        "-=": lambda a, b: a - b,
        "*=": lambda a, b: a * b,
        "/=": lambda a, b: a / b,
        "//=": lambda a, b: a // b,
        "%=": lambda a, b: a % b,
    }
    return operations[op](left, right)


SCRIPT_FUNCTIONS: dict[str, Any] = {
    "refuse": refuse,
    "add_working_days": working_days.add_working_days,
    "working_days_between": working_days.working_days_between,
    "is_working_day": working_days.is_working_day,
    "date": date,
    "datetime": datetime,
    "timedelta": timedelta,
    "timezone": timezone,
}
# Process helpers (dates in working days, scope, speaker factors), effects and read-only look-ups.
SCRIPT_FUNCTIONS.update({name: getattr(process_functions, name) for name in (
    "today", "london_date", "working_days_until", "working_day_after", "end_of_day", "at_london_time", "earliest",
    "latest", "decision_due_date", "years_after", "days_after", "is_event_in_scope", "attendance_in_person",
    "worst_speaker_factors", "unique_codes", "ofs_category_of", "notice_rejection_reasons", "new_reference",
    "speaker_ref")})
SCRIPT_FUNCTIONS.update({name: getattr(process_effects, name) for name in (
    "notify_organiser", "notify_group", "decision_notice", "appeal_notice", "out_of_scope_notice", "log_share",
    "record_speaker_history")})
SCRIPT_FUNCTIONS.update({name: getattr(lookups, name) for name in (
    "past_events_of", "shareable_facts_about", "facts_summary", "facts_for_categories")})
# Staff awareness (SPEC §13): training register and Prevent concern milestones.
SCRIPT_FUNCTIONS.update({name: getattr(awareness_effects, name) for name in (
    "notify_user", "course_name", "training_notice", "record_training_assigned", "record_training_completed",
    "record_concern_milestone", "concern_receipt_notice", "concern_triage_notice")})

_BUILTINS = dict(safe_builtins)
for _name in ("all", "any", "dict", "enumerate", "filter", "list", "map", "max", "min", "reversed",
              "set", "sorted", "sum", "zip"):
    _BUILTINS[_name] = __builtins__[_name] if isinstance(__builtins__, dict) else getattr(__builtins__, _name)


def _guards() -> dict[str, Any]:
    return {
        "__builtins__": _BUILTINS,
        "_getattr_": safer_getattr,
        "_getitem_": default_guarded_getitem,
        "_getiter_": iter,
        "_iter_unpack_sequence_": guarded_iter_unpack_sequence,
        "_unpack_sequence_": guarded_unpack_sequence,
        "_write_": full_write_guard,
        "_inplacevar_": _inplace,
    }


@lru_cache(maxsize=4096)
def compile_script(source: str, mode: str) -> CodeType:
    """Compile under RestrictedPython; raises SyntaxError naming the offending construct."""
    return compile_restricted(source, filename="<string>", mode=mode)


class RestrictedEnvironment(TaskDataEnvironment):
    """Task-data environment whose code is compiled by RestrictedPython (no imports, no dunder access)."""

    def evaluate(self, expression: str, context: dict[str, Any],
                 external_context: Mapping[str, Any] | None = None) -> Any:
        scope = dict(self.globals)
        scope.update(external_context or {})
        scope.update(context)
        return eval(compile_script(expression, "eval"), scope)  # noqa: S307 - restricted bytecode

    def execute(self, script: str, context: dict[str, Any], external_context: Mapping[str, Any] | None = None) -> bool:
        self.check_for_overwrite(context, external_context or {})
        code = compile_script(script, "exec")
        context.update(self.globals)
        context.update(external_context or {})
        try:
            exec(code, context)  # noqa: S102 - restricted bytecode
        finally:
            self._remove_globals_and_functions_from_context(context, external_context)
        return True


class ScriptEngine(PythonScriptEngine):
    """Evaluates conditions, timers, decisions and scripts the way process owners write them in Modeler."""

    def __init__(self, functions: Mapping[str, Any] | None = None) -> None:
        super().__init__(environment=RestrictedEnvironment({**_guards(), **SCRIPT_FUNCTIONS, **(functions or {})}))

    def evaluate(self, task: Any, expression: str, external_context: Mapping[str, Any] | None = None) -> Any:
        """Evaluate a condition or timer value; bare ISO-8601 timer literals are returned as written."""
        if is_iso_timer_literal(expression):
            return expression.strip()
        return super().evaluate(task, python_expression(expression), external_context)

    def call_service(self, task: Any, spec: Any = None, **kwargs: Any) -> Any:
        """Run a service task: evaluate its `${…}` expression, or call the named function for class/delegate."""
        if spec.implementation == "expression":
            return self.evaluate(task, spec.operation)
        name = python_expression(spec.operation)
        handler = self.environment.globals.get(name)
        if not callable(handler):
            raise WorkflowTaskException(f"No service named {name!r} is available to service tasks", task=task)
        return handler(task.data)

    def validate(self, expression: str) -> None:
        """Raise SyntaxError unless `expression` parses as Python (after `${…}` is removed)."""
        ast.parse(python_expression(expression))


def check_expression(expression: str, mode: str = "eval") -> str | None:
    """Return why `expression` cannot run here (syntax or a forbidden construct), or None when it can."""
    if mode == "eval" and is_iso_timer_literal(expression):
        return None
    source = python_expression(expression) if mode == "eval" else expression
    try:
        tree = ast.parse(source, mode=mode)
        compile_script(source, mode)
    except SyntaxError as exc:
        message = "; ".join(exc.msg) if isinstance(exc.msg, tuple) else exc.msg
        return f"{message} (line {exc.lineno})" if exc.lineno else str(message)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            return f"imports are not allowed in diagram scripts (line {node.lineno})"
    return None
