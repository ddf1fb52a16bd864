"""Administration services: roles, deactivation, API tokens, and the audit of refused changes.

Every admin act needs a reason and is audited in the same transaction as the change. Imports SQLAlchemy,
the audit log and the tables.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from .. import access
from ..audit import AuditEventType
from ..bootstrap import WorkflowEngine
from ..errors import InvalidDataError, NotFoundError, PermissionDeniedError
from ..model import Actor, UserView
from ..tables import ApiTokenRecord, UserRecord
from .users import _user, _user_view, add_user

ACCESS_REFUSED = "access_refused"
TOKEN_REVOKED = "token_revoked"
MIN_REASON = 5


@dataclass(frozen=True)
class TokenView:
    """An API token as an admin sees it: never the token itself."""

    id: int
    username: str
    created_at: datetime
    revoked_at: datetime | None


def require_admin(actor: Actor) -> None:
    """Refuse anyone without the admin role."""
    if not actor.has_role("admin"):
        raise PermissionDeniedError("only administrators may do this")


def check_reason(reason: str | None) -> str:
    """The stripped reason, or InvalidDataError naming the `reason` field."""
    text = (reason or "").strip()
    if len(text) < MIN_REASON or len(text) > 2000:
        raise InvalidDataError("a reason is required",
                               fields={"reason": [f"Give a reason of {MIN_REASON} to 2000 characters."]})
    return text


def set_roles(engine: WorkflowEngine, username: str, roles: list[str], actor: Actor, reason: str) -> UserView:
    """Replace a user's roles (admin only); audited with the reason."""
    require_admin(actor)
    why = check_reason(reason)
    unknown = sorted(set(roles) - set(engine.settings.roles))
    if unknown:
        raise InvalidDataError("unknown role", fields={"roles": [f"Unknown role(s): {', '.join(unknown)}."]})
    with engine.new_uow() as uow:
        user = _user(uow.session, username)
        before = sorted(user.roles)
        user.roles = sorted(set(roles))
        uow.audit.append(AuditEventType.user_changed, None, actor.username, role="admin", action="roles_changed",
                         username=username, before=before, after=user.roles, reason=why)
        uow.commit()
        return _user_view(user)


def set_active(engine: WorkflowEngine, username: str, active: bool, actor: Actor, reason: str) -> UserView:
    """Deactivate (or reactivate) an account (admin only); a deactivated user's tokens and sessions stop working."""
    require_admin(actor)
    why = check_reason(reason)
    if username == actor.username and not active:
        raise InvalidDataError("cannot deactivate yourself", fields={"username": ["You cannot deactivate yourself."]})
    with engine.new_uow() as uow:
        user = _user(uow.session, username)
        user.active = active
        uow.audit.append(AuditEventType.user_changed, None, actor.username, role="admin",
                         action="user_reactivated" if active else "user_deactivated", username=username, reason=why)
        uow.commit()
        return _user_view(user)


def list_tokens(engine: WorkflowEngine, username: str | None = None) -> list[TokenView]:
    """API tokens (newest first), optionally of one user; only ids and dates, never the secret."""
    with engine.new_uow(readonly=True) as uow:
        query = select(ApiTokenRecord, UserRecord.username).join(UserRecord, UserRecord.id == ApiTokenRecord.user_id)
        if username:
            query = query.where(UserRecord.username == username)
        rows = uow.session.execute(query.order_by(ApiTokenRecord.id.desc()))
        return [TokenView(t.id, name, t.created_at, t.revoked_at) for t, name in rows]


def revoke_token(engine: WorkflowEngine, token_id: int, actor: Actor, reason: str) -> TokenView:
    """Revoke an API token (admin, or the token's owner); audited with the reason."""
    why = check_reason(reason)
    with engine.new_uow() as uow:
        row = uow.session.execute(select(ApiTokenRecord, UserRecord.username).join(
            UserRecord, UserRecord.id == ApiTokenRecord.user_id).where(ApiTokenRecord.id == token_id)).first()
        if row is None:
            raise NotFoundError(f"no API token {token_id}")
        token, owner = row
        if owner != actor.username:
            require_admin(actor)
        if token.revoked_at is None:
            token.revoked_at = engine.now()
            uow.audit.append(TOKEN_REVOKED, None, actor.username, role=actor.primary_role, username=owner,
                             token_id=token.id, reason=why)
        uow.commit()
        return TokenView(token.id, owner, token.created_at, token.revoked_at)


def record_refusal(engine: WorkflowEngine, actor: Actor, method: str, target: str, message: str) -> None:
    """Audit a refused change in its own transaction (the refused one has rolled back)."""
    with engine.new_uow() as uow:
        uow.audit.append(ACCESS_REFUSED, None, actor.username, role=actor.primary_role, method=method,
                         target=target[:500], roles=sorted(actor.roles), reason=message[:500])
        uow.commit()


def is_read_only(actor: Actor) -> bool:
    """True for auditors (without a working role): they may read everything and change nothing."""
    return access.is_read_only(actor)


def refuse_if_read_only(actor: Actor) -> None:
    """Auditors read everything and change nothing: refuse any change before it is attempted."""
    if access.is_read_only(actor):
        raise PermissionDeniedError("auditors have read-only access and may not change anything")


def admin_add_user(engine: WorkflowEngine, username: str, roles: list[str], actor: Actor, reason: str, *,
                   display_name: str | None = None, email: str | None = None) -> tuple[UserView, str | None]:
    """Add an account from the admin pages (admin only, reason required); returns the generated password."""
    require_admin(actor)
    why = check_reason(reason)
    return add_user(engine, username.strip(), roles, display_name=display_name or None, email=email or None,
                    actor=actor, reason=why)
