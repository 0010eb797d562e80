"""The one error tree every front end maps: data about what went wrong, not display text.

Each class names its `kind`; `STATUSES` below gives each kind its exit code
(the command line) and its HTTP status (the API), the one table both front
ends apply. The named constructor of each business rule lives in
`encounter_cli.services.rules`.
"""

from __future__ import annotations

from enum import IntEnum
from typing import Any


class ExitStatus(IntEnum):
    SUCCESS = 0
    INTERNAL = 1
    USAGE = 2
    INVALID = 3
    NOT_FOUND = 4
    CONFLICT = 5
    UNAVAILABLE = 6
    INTERRUPTED = 130


# kind -> (exit status, HTTP status). A kind not listed is a bug: exit 1, HTTP 500.
STATUSES: dict[str, tuple[ExitStatus, int]] = {
    "invalid": (ExitStatus.INVALID, 400),
    "not_found": (ExitStatus.NOT_FOUND, 404),
    "conflict": (ExitStatus.CONFLICT, 409),
    "unavailable": (ExitStatus.UNAVAILABLE, 503),
}
INTERNAL = (ExitStatus.INTERNAL, 500)


def statuses(kind: str) -> tuple[ExitStatus, int]:
    """The exit status and HTTP status of an error kind."""
    return STATUSES.get(kind, INTERNAL)


class EncounterError(Exception):
    """Base of every expected failure. `field` names the input it concerns, when one does."""

    kind = "internal"

    def __init__(self, message: str, *, field: str | None = None, hint: str | None = None, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.hint = hint
        self.details = {k: v for k, v in {"field": field, **details}.items() if v is not None}


class InvalidInput(EncounterError):
    """A value breaks a rule: `field: "value" rule`."""

    kind = "invalid"

    def __init__(self, field: str, value: Any, rule: str, *, hint: str | None = None, other: str | None = None) -> None:
        """`other`: a second input the rule compares with, written `{other}` in `rule` (`is later than {other}`)."""
        self._shown = "" if value is None else f' "{_clip(str(value))}"'
        self._rule, self.other = rule, other
        self.rule = rule.format(other=other) if other else rule
        super().__init__(self.named(field), field=field, hint=hint, value=_plain(value), other=other)

    def named(self, name: str, other: str | None = None) -> str:
        """The message with the inputs called `name` and `other`: the command line says `--dob` where the field is
        date_of_birth."""
        rule = self._rule.format(other=other or self.other) if self.other else self.rule
        return f"{name}:{self._shown} {rule}"


class NotFound(EncounterError):
    kind = "not_found"

    def __init__(self, entity: str, entity_id: Any, *, field: str = "id") -> None:
        super().__init__(f"{entity} {entity_id} does not exist", field=field, entity=entity, id=entity_id)
        self.entity = entity


class Conflict(EncounterError):
    """The request is well-formed but stored state forbids it."""

    kind = "conflict"


class Unavailable(EncounterError):
    """The database cannot be reached, is busy, or is not set up."""

    kind = "unavailable"


class DatabaseBusy(Unavailable):
    """A deadlock, lock-wait timeout or locked SQLite file: safe to retry."""


class RowsRejected(EncounterError):
    """A batch import rejected rows; its kind is the worst among them (invalid > not_found > conflict)."""

    def __init__(self, kind: str, rejected: int, read: int) -> None:
        super().__init__(f"{rejected:,} of {read:,} rows rejected", rejected=rejected, read=read)
        self.kind = kind


def _clip(text: str, limit: int = 80) -> str:
    """Keep messages one readable line even for a 10 MB field."""
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _plain(value: Any) -> Any:
    """JSON-safe form of an offending value for machine-readable details."""
    if value is None or isinstance(value, (int, float, bool)):
        return value
    return _clip(str(value))
