"""Single sign-on behind a reverse proxy: trust the user (and roles) header only from configured proxy addresses.

`CAMPUSFLOW_TRUSTED_USER_HEADER` names the header carrying the user name; it is honoured only when the
request comes straight from an address in `CAMPUSFLOW_TRUSTED_PROXIES` (addresses or networks) and ignored
from anyone else. Roles come from `CAMPUSFLOW_TRUSTED_ROLES_HEADER` (a comma list of entitlements mapped by
`CAMPUSFLOW_TRUSTED_ROLE_MAP`), or else from the local user record.
"""

from __future__ import annotations

import ipaddress
import logging
from functools import lru_cache

from flask import request

from engine import services
from engine.config import Settings
from engine.errors import AuthenticationError, UserNotFoundError
from engine.model import Actor

from .context import get_engine

log = logging.getLogger(__name__)


@lru_cache(maxsize=32)
def _networks(proxies: tuple[str, ...]) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(p, strict=False) for p in proxies)


def is_trusted_proxy(address: str | None, settings: Settings) -> bool:
    """True when `address` (the TCP peer, never a forwarded header) is one of the configured proxies."""
    if not address:
        return False
    try:
        peer = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(peer in network for network in _networks(settings.trusted_proxies))


def trusted_username(settings: Settings) -> str | None:
    """The user name the proxy vouches for; None when SSO is off, the header is absent or not from a proxy."""
    if not settings.trusted_user_header:
        return None
    value = request.headers.get(settings.trusted_user_header)
    if value is None:
        return None
    if not is_trusted_proxy(request.remote_addr, settings):
        log.warning("ignored %s header from untrusted address %s", settings.trusted_user_header, request.remote_addr)
        return None
    value = value.strip()
    return value if value and len(value) <= 200 else None


def map_roles(entitlements: str, settings: Settings) -> frozenset[str]:
    """Map the roles header's entitlements to known roles; an entitlement that is already a role name maps to itself."""
    roles = set()
    for item in (e.strip() for e in entitlements.split(",")):
        role = settings.role_map.get(item) or (item if item in settings.roles else None)
        if role in settings.roles:
            roles.add(role)
    return frozenset(roles)


def sso_actor() -> Actor | None:
    """The actor for a request the proxy authenticated, or None to fall back to tokens and sessions."""
    settings = get_engine().settings
    username = trusted_username(settings)
    if username is None:
        return None
    try:
        local = services.get_actor(get_engine(), username)  # a deactivated account stays refused
    except UserNotFoundError:
        local = None
    if settings.trusted_roles_header:
        return Actor(username, map_roles(request.headers.get(settings.trusted_roles_header, ""), settings))
    if local is None:
        raise AuthenticationError(f"the single sign-on user {username!r} has no account here")
    return local
