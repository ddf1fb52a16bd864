"""Settings: the single place that reads CAMPUSFLOW_* environment variables. Stdlib only."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

ROLES: tuple[str, ...] = (
    "organiser",
    "events_office",
    "security",
    "prevent_lead",
    "senior_officer",
    "appeal_officer",
    "dpo",
    "auditor",
    "admin",
)


@dataclass(frozen=True)
class Settings:
    """Runtime configuration; build it directly in tests, or with `from_env()`."""

    database_url: str = "sqlite:///campusflow.db"
    processes_dir: Path = Path("processes")
    forms_dir: Path = Path("forms")
    secret_key: str | None = None
    smtp_url: str | None = None
    smtp_sender: str = "campusflow@localhost"
    trusted_user_header: str | None = None
    trusted_proxies: tuple[str, ...] = ("127.0.0.1",)
    roles: tuple[str, ...] = ROLES
    extra: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Settings:
        """Read CAMPUSFLOW_* variables, falling back to the defaults above."""
        env = os.environ if environ is None else environ

        def get(name: str, default: str | None = None) -> str | None:
            value = env.get(f"CAMPUSFLOW_{name}")
            return value if value not in (None, "") else default

        proxies = get("TRUSTED_PROXIES", "127.0.0.1") or ""
        return cls(
            database_url=get("DATABASE_URL", cls.database_url) or cls.database_url,
            processes_dir=Path(get("PROCESSES_DIR", "processes") or "processes"),
            forms_dir=Path(get("FORMS_DIR", "forms") or "forms"),
            secret_key=get("SECRET_KEY"),
            smtp_url=get("SMTP_URL"),
            smtp_sender=get("SMTP_SENDER", cls.smtp_sender) or cls.smtp_sender,
            trusted_user_header=get("TRUSTED_USER_HEADER"),
            trusted_proxies=tuple(p.strip() for p in proxies.split(",") if p.strip()),
        )
