"""API keys for Open311 clients: issued once in clear, stored as SHA-256, revoked by name."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import ApiKey, utcnow

KEY_PREFIX = "h311_"
MAX_NAME = 80  # leaves room for "open311:" in a case event's actor column (100)


class ApiKeyError(ValueError):
    """A key cannot be issued or revoked as asked; the message says why."""


def hash_key(token: str) -> str:
    """SHA-256 of the key: the token is 256 random bits, so a slow password hash would add nothing."""
    return hashlib.sha256(token.encode()).hexdigest()


def issue_key(session: Session, name: str, by: str, now: datetime | None = None) -> str:
    """Create a key for a named client; the returned token is shown once and never stored."""
    name = name.strip()
    if not name or len(name) > MAX_NAME:
        raise ApiKeyError(f"give the key a name of 1 to {MAX_NAME} characters")
    if session.scalars(select(ApiKey).where(ApiKey.name == name)).first() is not None:
        # Revoked names are not reused either: the audit trail's "open311:<name>" must name one application.
        raise ApiKeyError(f"a key named {name!r} already exists; choose another name")
    token = KEY_PREFIX + secrets.token_urlsafe(32)
    session.add(ApiKey(name=name, key_hash=hash_key(token), created_at=now or utcnow(), created_by=by))
    session.flush()
    return token


def revoke_key(session: Session, name: str, by: str, now: datetime | None = None) -> ApiKey:
    """Revoke a key by name: it stops working at once for every worker."""
    key = session.scalars(select(ApiKey).where(ApiKey.name == name)).first()
    if key is None:
        raise ApiKeyError(f"no key named {name!r}")
    if key.revoked_at is not None:
        raise ApiKeyError(f"the key {name!r} was already revoked")
    key.revoked_at, key.revoked_by = now or utcnow(), by
    session.flush()
    return key


def all_keys(session: Session) -> list[ApiKey]:
    """Every key, oldest first, revoked ones included."""
    return list(session.scalars(select(ApiKey).order_by(ApiKey.id)))


def active_key(session: Session, token: str | None) -> ApiKey | None:
    """The unrevoked key a client presented, or None."""
    if not token:
        return None
    digest = hash_key(token)
    key = session.scalars(select(ApiKey).where(ApiKey.key_hash == digest)).first()
    # The lookup is by an indexed hash; compare_digest keeps the final comparison constant-time all the same.
    if key is None or key.revoked_at is not None or not hmac.compare_digest(key.key_hash, digest):
        return None
    return key


def actor(key: ApiKey) -> str:
    """How the audit trail names a change made with this key."""
    return f"open311:{key.name}"
