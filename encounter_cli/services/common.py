"""Helpers every service shares: timestamps, listings, conflict-checked flushes."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from sqlalchemy import Column, ColumnElement, Dialect, Select, func, inspect, or_, type_coerce
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.types import Integer, NullType

from encounter_cli.clinic_time import now_utc
from encounter_cli.db_types import UTCDateTime
from encounter_cli.errors import EncounterError
from encounter_cli.models import fields_of

T = TypeVar("T")
STREAM_BATCH = 1000


def stamp(now: datetime | None = None) -> datetime:
    """Record timestamps in whole seconds, as MySQL's DATETIME keeps them."""
    return (now or now_utc()).replace(microsecond=0)


@dataclass(frozen=True)
class StoredColumn:
    """A column of `Listing.stored_rows`: its field name, and how a driver value becomes the ORM's value."""

    name: str
    load: Callable[[Any], Any] | None = None  # None: the driver's value is the value
    never_null_int: bool = False  # an integer column that cannot hold NULL and needs no conversion
    utc_time: bool = False  # a `UTCDateTime`: the driver gives the naive UTC time (SQLite: as ISO text)


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

    def stored_rows(self) -> tuple[list[StoredColumn], Iterator[Sequence[Any]]]:
        """The same rows as tuples of driver values, streamed: no object and no conversion per row.

        For exports of any size; each column's `load` turns a driver value into
        the ORM's value, for a caller that converts each distinct value once.
        """
        model = self.query.column_descriptions[0]["entity"]
        mapper = inspect(model)
        dialect = self.session.get_bind().dialect
        names = fields_of(model)
        columns = [_stored_column(name, mapper.columns[name], dialect) for name in names]
        raw = [type_coerce(mapper.columns[name], NullType()) for name in names]  # NullType: no processing
        query = self.query.with_only_columns(*raw).offset(self.offset or None).limit(self.limit)
        result = self.session.connection().execution_options(yield_per=STREAM_BATCH).execute(query)
        return columns, (row for batch in result.partitions() for row in batch)

    def total(self) -> int:
        """How many rows match, ignoring limit and offset.

        Call it before iterating or after the rows are read: on MySQL a
        streamed listing holds an unbuffered cursor, and a second query on
        the same connection would discard its unread rows.
        """
        counted = self.query.order_by(None).with_only_columns(func.count(), maintain_column_froms=True)
        return self.session.scalar(counted) or 0

    def total_after(self, fetched: int) -> int:
        """`total()`, for a page of this listing that fetched `fetched` rows: counted only when the page
        cannot tell, because it was full or came back empty past the start."""
        short_page = self.limit is None or fetched < self.limit
        if short_page and (fetched or not self.offset):
            return self.offset + fetched
        return self.total()


def _stored_column(name: str, column: Column[Any], dialect: Dialect) -> StoredColumn:
    load = column.type.dialect_impl(dialect).result_processor(dialect, None)
    never_null_int = isinstance(column.type, Integer) and not column.nullable and load is None
    return StoredColumn(name, load, never_null_int, utc_time=isinstance(column.type, UTCDateTime))


def contains_ignoring_case(session: Session, text: str, columns: Sequence[Any]) -> ColumnElement[bool]:
    """One of `columns` holds `text`, ignoring case (Unicode, "É" as "é"), literally: no wildcards.

    MySQL's collations fold case in the server. SQLite folds ASCII only, so it
    calls Python (registered in `db`): once per row for all the columns,
    rather than a LIKE and a lower() per column.
    """
    if session.get_bind().dialect.name == "sqlite":
        from encounter_cli.db import SQLITE_CONTAINS_FOLDED

        found: ColumnElement[bool] = getattr(func, SQLITE_CONTAINS_FOLDED)(text.lower(), *columns) == 1
        return found
    return or_(*(column.icontains(text, autoescape=True) for column in columns))


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
