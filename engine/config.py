"""Settings: the single place that reads CAMPUSFLOW_* environment variables. Stdlib only."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# Roles that act only on their own requests: a task offered to such a group belongs to the requester.
OWNER_ROLES = frozenset({"organiser"})

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
    # SSO: a header carrying entitlements (comma list) and how each maps to a role; unset = roles from local records.
    trusted_roles_header: str | None = None
    role_map: dict[str, str] = field(default_factory=dict)
    # Secure (HTTPS-only) session cookie and HSTS; off automatically in debug and testing, or with COOKIE_SECURE=0.
    cookie_secure: bool = True
    roles: tuple[str, ...] = ROLES
    extra: dict[str, str] = field(default_factory=dict)
    # SPEC §5 retention: sharing log rows, information received about speakers (after the case closes),
    # event files (after the end of the event's academic year).
    retention_sharing_log_years: int = 6
    retention_speaker_info_months: int = 12
    retention_event_years: int = 6

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
            trusted_roles_header=get("TRUSTED_ROLES_HEADER"),
            role_map=parse_role_map(get("TRUSTED_ROLE_MAP", "") or ""),
            cookie_secure=(get("COOKIE_SECURE", "1") or "1").lower() not in ("0", "false", "no", "off"),
            retention_sharing_log_years=_count(get, "RETENTION_SHARING_LOG_YEARS", cls.retention_sharing_log_years),
            retention_speaker_info_months=_count(get, "RETENTION_SPEAKER_INFO_MONTHS",
                                                 cls.retention_speaker_info_months),
            retention_event_years=_count(get, "RETENTION_EVENT_YEARS", cls.retention_event_years),
        )


def _count(get: Any, name: str, default: int) -> int:
    """A non-negative whole number setting; a bad value names the variable."""
    value = get(name)
    if value is None:
        return default
    if not str(value).isdigit():
        raise ValueError(f"CAMPUSFLOW_{name} must be a whole number, not {value!r}")
    return int(value)


def parse_role_map(text: str) -> dict[str, str]:
    """`entitlement=role` pairs separated by `;` or new lines (entitlements may contain `=`, `,` and `:`)."""
    pairs = (item.rsplit("=", 1) for item in text.replace("\n", ";").split(";") if "=" in item)
    return {entitlement.strip(): role.strip() for entitlement, role in pairs if entitlement.strip() and role.strip()}
