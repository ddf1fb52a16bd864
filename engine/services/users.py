"""User services: accounts, roles, API tokens, and authentication."""

from __future__ import annotations

from sqlalchemy import bindparam, select

from .. import passwords
from ..audit import AuditEventType
from ..bootstrap import WorkflowEngine
from ..errors import AuthenticationError, ConflictError, InvalidDataError, UserNotFoundError
from ..model import Actor, UserView
from ..tables import ApiTokenRecord, UserRecord


def add_user(engine: WorkflowEngine, username: str, roles: list[str], *, password: str | None = None,
             display_name: str | None = None, email: str | None = None,
             actor: Actor | None = None, reason: str | None = None) -> tuple[UserView, str | None]:
    """Create an account; returns the view and the generated password when none was given.

    `reason` (required on the admin pages) is kept in the audit event.
    """
    unknown = sorted(set(roles) - set(engine.settings.roles))
    problems: dict[str, list[str]] = {}
    if unknown:
        problems["roles"] = [f"Unknown role(s): {', '.join(unknown)}. Known: {', '.join(engine.settings.roles)}."]
    if not username or not username.strip() or len(username) > 200:
        problems["username"] = ["A user name of 1 to 200 characters is required."]
    if problems:
        raise InvalidDataError("invalid user", fields=problems)
    generated = None if password else passwords.new_password()
    with engine.new_uow() as uow:
        if uow.session.execute(select(UserRecord.id).where(UserRecord.username == username)).first():
            raise ConflictError(f"user {username!r} already exists")
        record = UserRecord(username=username, display_name=display_name or username, email=email,
                            password_hash=passwords.hash_password(password or generated), roles=sorted(set(roles)),
                            active=True)
        uow.session.add(record)
        uow.audit.append(AuditEventType.user_changed, None, (actor.username if actor else "system"),
                         role=actor.primary_role if actor else "admin", element_id=None, action="user_added",
                         username=username, roles=sorted(set(roles)), **({"reason": reason} if reason else {}))
        uow.commit()
        return _user_view(record), generated


def issue_token(engine: WorkflowEngine, username: str) -> str:
    """Create a new API token for `username`; only its hash is kept."""
    token = passwords.new_token()
    with engine.new_uow() as uow:
        user = _user(uow.session, username)
        uow.session.add(ApiTokenRecord(user_id=user.id, token_hash=passwords.token_hash(token)))
        uow.audit.append(AuditEventType.token_issued, None, username, role=None, username=username)
        uow.commit()
    return token


def authenticate_token(engine: WorkflowEngine, token: str) -> Actor:
    """The actor behind a bearer token, or AuthenticationError."""
    with engine.single_read() as connection:
        user = connection.execute(_TOKEN_OWNER, {"token_hash": passwords.token_hash(token)}).first()
        if user is None or not user.active:
            raise AuthenticationError("invalid or revoked API token")
        return Actor(user.username, frozenset(user.roles))


# Built once, Core not ORM: this runs on every API request.
_TOKEN_OWNER = (
    select(UserRecord.username, UserRecord.roles, UserRecord.active)
    .join(ApiTokenRecord, ApiTokenRecord.user_id == UserRecord.id)
    .where(ApiTokenRecord.token_hash == bindparam("token_hash"), ApiTokenRecord.revoked_at.is_(None)))


def authenticate_password(engine: WorkflowEngine, username: str, password: str) -> Actor:
    """The actor for a correct user name and password, or AuthenticationError."""
    with engine.new_uow(readonly=True) as uow:
        user = uow.session.execute(select(UserRecord).where(UserRecord.username == username)).scalar_one_or_none()
        if user is None or not user.active or not passwords.check_password(user.password_hash, password):
            raise AuthenticationError("wrong user name or password")
        return Actor(user.username, frozenset(user.roles))


def get_actor(engine: WorkflowEngine, username: str) -> Actor:
    """The current roles of an active user (sessions re-read them on every request)."""
    with engine.new_uow(readonly=True) as uow:
        user = _user(uow.session, username)
        if not user.active:
            raise AuthenticationError("account disabled")
        return Actor(user.username, frozenset(user.roles))


def list_users(engine: WorkflowEngine) -> list[UserView]:
    """Every account."""
    with engine.new_uow(readonly=True) as uow:
        return [_user_view(u) for u in uow.session.execute(select(UserRecord).order_by(UserRecord.username)).scalars()]


def _user(session, username: str) -> UserRecord:  # type: ignore[no-untyped-def]
    user = session.execute(select(UserRecord).where(UserRecord.username == username)).scalar_one_or_none()
    if user is None:
        raise UserNotFoundError(f"no user {username!r}")
    return user


def _user_view(user: UserRecord) -> UserView:
    return UserView(id=user.id, username=user.username, display_name=user.display_name, email=user.email,
                    roles=tuple(user.roles), active=user.active)
