"""Who may do what: viewer (browse, Live, Upload), annotator (+ change labels), admin (+ import,
train, export, delete). Enforced here, in the core services, whatever the UI shows.

AFFECTLAB_AUTH=off (default): a single local user with admin rights, no login. AFFECTLAB_AUTH=on
(a hosted instance): the web app calls `serve_visitors()`, after which a core call made without
an identity is an anonymous viewer's; a visitor signs in with an account (core.store.users,
passwords hashed with Argon2) or a token from AFFECTLAB_TOKENS. Command-line and worker processes
run as the local operator (admin) either way.
"""
from __future__ import annotations

import hmac
import os
from dataclasses import dataclass
from enum import IntEnum


class Role(IntEnum):
    VIEWER = 0
    ANNOTATOR = 1
    ADMIN = 2

    @classmethod
    def parse(cls, name: str) -> Role:
        try:
            return cls[str(name).strip().upper()]
        except KeyError:
            raise ValueError(f"unknown role {name!r}: viewer, annotator or admin") from None


@dataclass(frozen=True)
class Identity:
    name: str
    role: Role
    authenticated: bool = False  # signed in (an account or a token), not the local default


LOCAL_OPERATOR = Identity("local", Role.ADMIN)
ANONYMOUS = Identity("anonymous", Role.VIEWER)
_state = {"default": LOCAL_OPERATOR}


class AccessDenied(PermissionError):
    """An action above the caller's role; the message says which role it needs."""


def auth_enabled() -> bool:
    """AFFECTLAB_AUTH=on|1|true: a hosted instance with logins; anything else: local, no login."""
    return os.environ.get("AFFECTLAB_AUTH", "off").strip().lower() in ("on", "1", "true", "yes")


def serve_visitors() -> None:
    """Called by the web app on each run: with AUTH on, a call without identity is anonymous."""
    _state["default"] = ANONYMOUS if auth_enabled() else LOCAL_OPERATOR


def default_identity() -> Identity:
    """Who a core call without an identity acts as in this process."""
    return _state["default"]


def require(identity: Identity | None, role: Role, action: str) -> Identity:
    """The identity (the process default when None) if its role allows `action`; AccessDenied else."""
    who = identity or default_identity()
    if who.role < role:
        raise AccessDenied(f"{action} needs the {role.name.lower()} role; {who.name} is a "
                           f"{who.role.name.lower()}" + ("" if who.authenticated else ": sign in first"))
    return who


def recorded_name(identity: Identity | None, typed: str) -> str:
    """The annotator name an edit records: the signed-in identity's, else the name typed."""
    who = identity or default_identity()
    return who.name if who.authenticated else typed


def token_identity(token: str) -> Identity | None:
    """The identity of a token in AFFECTLAB_TOKENS ("name:role:token,..."), compared in constant time."""
    for entry in os.environ.get("AFFECTLAB_TOKENS", "").split(","):
        parts = entry.strip().split(":", 2)
        if len(parts) == 3 and parts[2] and hmac.compare_digest(parts[2].encode(), token.strip().encode()):
            return Identity(parts[0], Role.parse(parts[1]), authenticated=True)
    return None
