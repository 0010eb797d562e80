"""Helpers every service shares: timestamps, listings, conflict-checked flushes."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, func
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from encounter_cli.clinic_time import now_utc
from encounter_cli.errors import EncounterError

T = TypeVar("T")
STREAM_BATCH = 1000


def stamp(now: datetime | None = None) -> datetime:
    """Record timestamps in whole seconds, as MySQL's DATETIME keeps them."""
    return (now or now_utc()).replace(microsecond=0)


@dataclass
class Listing(Generic[T]):
    """Rows matching a query, streamed in batches so memory stays flat."""

    session: Session
    query: Select[Any]
    limit: int | None = None
    offset: int = 0

    def __iter__(self) -> Iterator[T]:
        query = self.query.offset(self.offset or None).limit(self.limit)
        if self.limit is not None and self.limit <= STREAM_BATCH:
            return iter(self.session.scalars(query).all())  # one page: fetched whole, the cursor is free again
        return iter(self.session.scalars(query.execution_options(yield_per=STREAM_BATCH)))

    def total(self) -> int:
        """How many rows match, ignoring limit and offset.

        Call it before iterating or after the rows are read: on MySQL a
        streamed listing holds an unbuffered cursor, and a second query on
        the same connection would discard its unread rows.
        """
        counted = self.query.order_by(None).with_only_columns(func.count(), maintain_column_froms=True)
        return self.session.scalar(counted) or 0


@contextmanager
def conflict_guard(session: Session, explain: Callable[[], EncounterError]) -> Iterator[None]:
    """Make the changes of the block in a savepoint and flush them; if a UNIQUE
    or primary key rejects them (a concurrent writer won), raise `explain()`.

    The changes must be made inside the block: the savepoint rollback then
    undoes exactly them and leaves the session usable, so `explain` can look
    up which stored row is in the way.
    """
    try:
        with session.begin_nested():
            yield
            session.flush()
    except IntegrityError:
        raise explain() from None
