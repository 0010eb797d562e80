"""The audit trail (README: Audit trail): every change is recorded here, in the transaction that makes it.

Who made it comes from the session: the front end names an `Actor` once per command or request
(`Database.actor`, or `session.info["actor"]` for an API request), so no service takes it as a parameter.
Services call `record` (or its helpers `added`, `changed`, `removed`) after the change and before they
return; a failed change raises first, or rolls back with its entry.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from encounter_cli.errors import InvalidInput
from encounter_cli.models import AuditEntryColumns, models_of, stored_fields_of
from encounter_cli.services import rules
from encounter_cli.services.common import Listing, stamp

ACTOR_VARIABLE = "ENCOUNTER_ACTOR"
ACTOR_MAX = 100  # the column's length, and an API token name's
SOURCES = ("cli", "api", "import")
NOT_AUDITED = frozenset({"id", "created_at", "updated_at", "token_hash"})  # the entry has them, or must not
UNKNOWN_USER = "unknown"


@dataclass(frozen=True)
class Actor:
    """Who changes the records, and through what: `cli`, `api` or `import`."""

    name: str
    source: str = "cli"

    def importing(self) -> Actor:
        return Actor(self.name, "import")


def local_actor(given: str | None = None) -> Actor:
    """A command's actor: `--actor`, else ENCOUNTER_ACTOR, else the operating-system user."""
    if given is not None:
        return Actor(_actor_name(given, "--actor"))
    from_environment = os.environ.get(ACTOR_VARIABLE)
    if from_environment is not None:
        return Actor(_actor_name(from_environment, ACTOR_VARIABLE))
    return Actor(_os_user())


def _actor_name(text: str, field: str) -> str:
    name = text.strip()
    if not name:
        raise InvalidInput(field, text, "must name who makes the change (1-100 characters)")
    if len(name) > ACTOR_MAX:
        raise InvalidInput(field, text, f"is longer than {ACTOR_MAX} characters")
    return name


def _os_user() -> str:
    import getpass  # only when neither --actor nor the environment names one

    try:  # getpass fails without a login name (a container's uid with no passwd entry)
        return getpass.getuser()[:ACTOR_MAX] or UNKNOWN_USER
    except (KeyError, OSError, ImportError):
        return UNKNOWN_USER


def actor_of(session: Session) -> Actor:
    """The session's actor; a session opened without one (a script using the services) is the local user's."""
    actor: Actor | None = session.info.get("actor")
    return actor or local_actor()


def record(
    session: Session,
    action: str,
    entity: str,
    entity_id: int | None,
    changes: Mapping[str, Any],
    *,
    source: str | None = None,
) -> AuditEntryColumns:
    """Add one entry to the session's transaction. `source` overrides the actor's (an import's batch)."""
    actor = actor_of(session)
    entry = models_of(session).AuditEntry(
        occurred_at=stamp(),
        actor=actor.name,
        source=source or actor.source,
        action=action,
        entity=entity,
        entity_id=entity_id,
        changes=json.dumps(dict(changes), default=_json_value, ensure_ascii=False, separators=(",", ":")),
    )
    session.add(entry)  # inserted by the commit's flush, with the change
    return entry


def snapshot(obj: Any, fields: Iterable[str] | None = None) -> dict[str, Any]:
    """A record's audited values (its stored fields but the id and timestamps), before a change."""
    model: type = type(obj)
    names = stored_fields_of(model) if fields is None else fields
    return {name: getattr(obj, name) for name in names if name not in NOT_AUDITED}


def added(session: Session, action: str, entity: str, obj: Any) -> None:
    """A new record: each value as [null, new]."""
    record(session, action, entity, obj.id, {name: [None, value] for name, value in snapshot(obj).items()})


def removed(session: Session, action: str, entity: str, obj: Any) -> None:
    """A deleted record: each value as [old, null]."""
    record(session, action, entity, obj.id, {name: [value, None] for name, value in snapshot(obj).items()})


def changed(session: Session, action: str, entity: str, obj: Any, before: Mapping[str, Any]) -> bool:
    """The fields of `obj` that differ from `before` as [old, new]; no entry when none does (a no-op
    such as activating an active doctor changes nothing). Returns whether an entry was written."""
    after = snapshot(obj, before)
    changes = {name: [old, after[name]] for name, old in before.items() if after[name] != old}
    if changes:
        record(session, action, entity, obj.id, changes)
    return bool(changes)


def _json_value(value: Any) -> Any:
    """Times as ISO 8601 (UTC, with its offset), dates as ISO, a TIME as HH:MM."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, time):
        return value.strftime("%H:%M")
    raise TypeError(f"{type(value).__name__} is not audited")


@dataclass(frozen=True)
class AuditFilter:
    """All given conditions hold; `occurred_from` inclusive, `occurred_before` exclusive (UTC)."""

    entity: str | None = None
    entity_id: int | None = None
    actor: str | None = None
    action: str | None = None
    occurred_from: datetime | None = None
    occurred_before: datetime | None = None


def audit_filter(zone: ZoneInfo, **conditions: Any) -> AuditFilter:
    """What a list request means, for every front end: a --from later than --to is a typo (invalid)."""
    where = AuditFilter(**conditions)
    rules.ensure_range(where.occurred_from, where.occurred_before, zone)
    return where


def list_entries(
    session: Session, where: AuditFilter, limit: int | None = None, offset: int = 0
) -> Listing[AuditEntryColumns]:
    """Entries oldest first, by id (the order they were committed in), as a log reads."""
    entry = models_of(session).AuditEntry
    query: Select[Any] = select(entry).order_by(entry.id)
    conditions = {
        entry.entity: where.entity,
        entry.entity_id: where.entity_id,
        entry.actor: where.actor,
        entry.action: where.action,
    }
    for column, value in conditions.items():
        if value is not None:
            query = query.where(column == value)
    if where.occurred_from is not None:
        query = query.where(entry.occurred_at >= where.occurred_from)
    if where.occurred_before is not None:
        query = query.where(entry.occurred_at < where.occurred_before)
    return Listing(session, query, limit, offset)


class CreatedIds:
    """The ids one import transaction inserted, as inclusive [first, last] ranges: an import of new records
    is one range, however many rows.

    Before each batch's INSERT `before_insert` notes the highest id; after it, `after_insert` reads the
    ids above that which carry the import's `created_at`, and adds the batch's explicit ids below it.
    On SQLite the transaction holds the only write lock, so these are exactly the import's rows; on MySQL
    a record another client adds to the same table in the same second would be counted too (README).
    """

    def __init__(self) -> None:
        self._ranges: list[list[int]] = []
        self.count = 0
        self._ceiling = 0

    def before_insert(self, session: Session, model: Any) -> None:
        self._ceiling = session.scalar(select(func.max(model.id))) or 0

    def after_insert(self, session: Session, model: Any, created: datetime, rows: Iterable[Mapping[str, Any]]) -> None:
        below = sorted(row["id"] for row in rows if row.get("id") is not None and row["id"] <= self._ceiling)
        ours = (model.id > self._ceiling, model.created_at == created)
        # Usually one run of ids: three numbers say so, rather than thousands of rows read back.
        first, last, count = session.execute(
            select(func.min(model.id), func.max(model.id), func.count()).where(*ours)
        ).one()
        if count and last - first + 1 == count:
            above = [[first, last]]
        else:
            above = _ranges(list(session.scalars(select(model.id).where(*ours).order_by(model.id))))
        self.count += len(below) + count
        self._ranges += _ranges(below) + above

    @property
    def ranges(self) -> list[list[int]]:
        return _ranges_merged(self._ranges)


def _ranges(ids: list[int]) -> list[list[int]]:
    """Sorted ids as ranges: [1, 2, 3, 7] -> [[1, 3], [7, 7]]."""
    spans: list[list[int]] = []
    for new_id in ids:
        if spans and new_id == spans[-1][1] + 1:
            spans[-1][1] = new_id
        else:
            spans.append([new_id, new_id])
    return spans


def _ranges_merged(spans: list[list[int]]) -> list[list[int]]:
    """Ranges of several batches as one sorted list, adjacent ones joined."""
    merged: list[list[int]] = []
    for first, last in sorted(spans):
        if merged and first <= merged[-1][1] + 1:
            merged[-1][1] = max(merged[-1][1], last)
        else:
            merged.append([first, last])
    return merged


def record_import(session: Session, entity: str, created: CreatedIds) -> None:
    """One entry for a committed import batch: how many records it created, and their ids as ranges."""
    if created.count:
        changes = {"created": created.count, "ids": created.ranges}
        record(session, f"{entity}.import", entity, None, changes, source="import")
