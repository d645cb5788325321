"""Accounts of a hosted instance: name, role and an Argon2 hash of the password (never the password)."""
from __future__ import annotations

import functools
from datetime import datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.auth import Identity, Role, require
from core.store.models import User

_HASHER = PasswordHasher()  # argon2id, the library's recommended parameters
MIN_PASSWORD = 8


def add_user(session: Session, name: str, role: str | Role, password: str, *,
             identity: Identity | None = None, replace: bool = False) -> User:
    """Create an account (or, with replace, reset its role and password); admins only."""
    require(identity, Role.ADMIN, "managing accounts")
    name, role = name.strip(), Role.parse(role.name if isinstance(role, Role) else role)
    if not 1 <= len(name) <= 100:
        raise ValueError("user name must be 1 to 100 characters")
    if len(password) < MIN_PASSWORD:
        raise ValueError(f"password must be at least {MIN_PASSWORD} characters")
    user = session.scalar(select(User).where(User.name == name))
    if user is not None and not replace:
        raise ValueError(f"user {name!r} exists (use --replace to reset it)")
    if user is None:
        user = User(name=name)
        session.add(user)
    user.role, user.password_hash = role.name.lower(), _HASHER.hash(password)
    session.flush()
    return user


def sign_in(session: Session, name: str, password: str) -> Identity | None:
    """The account's identity when the password matches (the hash is upgraded if its parameters
    are outdated); None otherwise, with the same work done for unknown names."""
    user = session.scalar(select(User).where(User.name == name.strip()))
    try:
        if user is None:
            _HASHER.verify(_dummy_hash(), password)  # same cost: no timing hint that the name is unknown
            return None
        _HASHER.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return None
    if _HASHER.check_needs_rehash(user.password_hash):
        user.password_hash = _HASHER.hash(password)
    user.last_login_at = datetime.now()
    return Identity(user.name, Role.parse(user.role), authenticated=True)


def list_users(session: Session) -> list[dict]:
    return [{"name": u.name, "role": u.role, "created_at": u.created_at, "last_login_at": u.last_login_at}
            for u in session.scalars(select(User).order_by(User.name))]


@functools.cache
def _dummy_hash() -> str:
    return _HASHER.hash("not the password of anyone")
