"""HTTP API bearer tokens: add (shown once), list, revoke, and who holds a presented token.

Only a token's SHA-256 is stored, so a copy of the database grants no access.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from encounter_cli.models import ApiTokenColumns, models_of
from encounter_cli.services import audit, rules
from encounter_cli.services.common import Listing, conflict_guard, stamp

TOKEN_BYTES = 32  # 256 random bits
TOKEN_PREFIX = "enc_"  # makes a leaked token recognisable to secret scanners and people


def add_api_token(session: Session, name: str, now: datetime | None = None) -> tuple[ApiTokenColumns, str]:
    """Create a token for `name`: the stored record and the token itself, which is never stored."""
    token_model = models_of(session).ApiToken
    if rules.exists(session, token_model, name=name):
        raise rules.token_name_taken(name)
    token = TOKEN_PREFIX + secrets.token_urlsafe(TOKEN_BYTES)
    record = token_model(name=name, token_hash=_digest(token), created_at=stamp(now))
    with conflict_guard(session, lambda: rules.token_name_taken(name)):
        session.add(record)
    audit.added(session, "api_token.add", "api_token", record)  # its name only: never the hash
    return record, token


def list_api_tokens(session: Session) -> Listing[ApiTokenColumns]:
    token_model = models_of(session).ApiToken
    return Listing(session, select(token_model).order_by(token_model.name))


def revoke_api_token(session: Session, name: str) -> None:
    token_model = models_of(session).ApiToken
    record = session.scalars(select(token_model).where(token_model.name == name)).first()
    if record is None:
        raise rules.not_found("API token", f'"{name}"', "name")
    audit.removed(session, "api_token.revoke", "api_token", record)
    session.delete(record)
    session.flush()


def any_token(session: Session) -> bool:
    return rules.exists(session, models_of(session).ApiToken)


def token_holder(session: Session, token: str) -> str | None:
    """The name of the token's holder, or None. Compares against every stored hash in constant time."""
    token_model = models_of(session).ApiToken
    presented = _digest(token).encode()
    holder = None
    for name, stored in session.execute(select(token_model.name, token_model.token_hash)):
        if hmac.compare_digest(
            presented, stored.encode()
        ):  # no early exit either: the loop's length is the token count
            holder = name
    return holder


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()
