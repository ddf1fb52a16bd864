"""Engine error tree; the web edge maps each class to an HTTP status in one table. Imports nothing."""

from __future__ import annotations


class EngineError(Exception):
    """Base of every error the engine raises on purpose."""

    code = "engine_error"

    def __init__(self, message: str, *, fields: dict[str, list[str]] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.fields = fields or {}


class NotFoundError(EngineError):
    code = "not_found"


class ProcessNotFoundError(NotFoundError):
    code = "process_not_found"


class InstanceNotFoundError(NotFoundError):
    code = "instance_not_found"


class TaskNotFoundError(NotFoundError):
    code = "task_not_found"


class FormNotFoundError(NotFoundError):
    code = "form_not_found"


class UserNotFoundError(NotFoundError):
    code = "user_not_found"


class ConflictError(EngineError):
    code = "conflict"


class TaskNotReadyError(ConflictError):
    code = "task_not_open"


class ConcurrentChangeError(ConflictError):
    code = "concurrent_change"


class InstanceClosedError(ConflictError):
    code = "instance_closed"


class PermissionDeniedError(EngineError):
    code = "forbidden"


class AuthenticationError(EngineError):
    code = "unauthenticated"


class InvalidDataError(EngineError):
    """Submitted data does not satisfy a form or a rule; `fields` maps each field to its messages."""

    code = "invalid_data"


class InvalidTaskDataError(InvalidDataError):
    code = "invalid_data"


class ProcessDefinitionError(EngineError):
    """A BPMN, DMN or form file cannot be deployed; `problems` lists every finding."""

    code = "invalid_definition"

    def __init__(self, problems: list[DefinitionProblem]) -> None:
        self.problems = problems
        super().__init__("; ".join(str(p) for p in problems) or "invalid process definition")


class DefinitionProblem:
    """One finding in a deployable file: where it is and what to do about it."""

    def __init__(self, file: str, element_id: str | None, message: str, line: int | None = None) -> None:
        self.file = file
        self.element_id = element_id
        self.message = message
        self.line = line

    def __str__(self) -> str:
        where = self.file + (f":{self.line}" if self.line else "")
        element = f" [{self.element_id}]" if self.element_id else ""
        return f"{where}{element}: {self.message}"

    def __repr__(self) -> str:
        return f"DefinitionProblem({str(self)!r})"


class ScriptTaskError(EngineError):
    """A script, condition or decision failed while the engine ran; the instance is left unchanged."""

    code = "workflow_error"

    def __init__(self, message: str, *, element_id: str | None = None, line: int | None = None) -> None:
        super().__init__(message)
        self.element_id = element_id
        self.line = line
