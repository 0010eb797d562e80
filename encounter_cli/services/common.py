"""Helpers every service shares: timestamps, listings, conflict-checked flushes."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, TypeVar

from sqlalchemy import (
    Column,
    ColumnElement,
    Dialect,
    Select,
    SQLColumnExpression,
    and_,
    func,
    inspect,
    or_,
    type_coerce,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, with_expression
from sqlalchemy.types import Integer, NullType

from encounter_cli.clinic_time import now_utc
from encounter_cli.db_types import UTCDateTime
from encounter_cli.errors import EncounterError
from encounter_cli.models import output_fields_of, stored_fields_of

T = TypeVar("T")
STREAM_BATCH = 1000
# A search for a phone: digits and the punctuation people type in numbers, with at least 3 digits.
PHONE_LIKE, PHONE_MIN_DIGITS = re.compile(r"[0-9 +\-().]+"), 3
PHONE_MARKS = " +-()"  # what a stored phone holds besides digits (schemas.PHONE_PATTERN)


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


@dataclass(frozen=True)
class OutputFields:
    """How a model's output-only fields (`models.output_fields_of`) are computed: in the query that loads
    the records, by a join, never by a query per record.

    `join` adds the tables `expressions` read to a query of the model; `expressions` maps each output-only
    field to its SQL expression. The default is for models without such fields.
    """

    join: Callable[[Select[Any]], Select[Any]] = lambda query: query  # no tables to add
    expressions: Mapping[str, SQLColumnExpression[Any]] = field(default_factory=dict)

    def loaded(self, query: Select[Any]) -> Select[Any]:
        """`query` (of one model's objects) with the output-only fields loaded onto the objects.

        `populate_existing`: an object already in the session (just booked or changed) gets them too.
        """
        model = query.column_descriptions[0]["entity"]
        options = [with_expression(getattr(model, name), expression) for name, expression in self.expressions.items()]
        return self.join(query).options(*options).execution_options(populate_existing=True)

    def check(self, model: type) -> None:
        """Every output-only field of `model` has an expression: a listing that left one out would print it
        as null."""
        if set(self.expressions) != set(output_fields_of(model)):
            raise ValueError(f"{model.__name__}: output fields {output_fields_of(model)}, given {[*self.expressions]}")


@dataclass
class Listing(Generic[T]):
    """Rows matching a query, streamed in batches so memory stays flat.

    `outputs` computes the model's output-only fields (appointments: patient and doctor names) in the same
    query: the objects carry them, and `stored_rows` appends them after the stored columns.
    """

    session: Session
    query: Select[Any]
    limit: int | None = None
    offset: int = 0
    outputs: OutputFields = field(default_factory=OutputFields)

    def __post_init__(self) -> None:
        self.outputs.check(self.query.column_descriptions[0]["entity"])

    def __iter__(self) -> Iterator[T]:
        query = self.outputs.loaded(self.query).offset(self.offset or None).limit(self.limit)
        if self.limit is not None and self.limit <= STREAM_BATCH:
            return iter(self.session.scalars(query).all())  # one page: fetched whole, the cursor is free again
        return iter(self.session.scalars(query.execution_options(yield_per=STREAM_BATCH)))

    def stored_rows(self) -> tuple[list[StoredColumn], Iterator[Sequence[Any]]]:
        """The same rows as tuples of driver values, streamed: no object and no conversion per row.

        For exports of any size; each column's `load` turns a driver value into
        the ORM's value, for a caller that converts each distinct value once.
        Output-only fields come last, as `models.fields_of` lists them.
        """
        model = self.query.column_descriptions[0]["entity"]
        mapper = inspect(model)
        dialect = self.session.get_bind().dialect
        stored: dict[str, ColumnElement[Any]] = {name: mapper.columns[name] for name in stored_fields_of(model)}
        outputs: dict[str, ColumnElement[Any]] = {
            name: self.outputs.expressions[name].label(name) for name in output_fields_of(model)
        }
        fields = {**stored, **outputs}
        columns = [_stored_column(name, column, dialect) for name, column in fields.items()]
        # NullType: the driver's values, unprocessed
        raw = [type_coerce(column, NullType()).label(name) for name, column in fields.items()]
        query = self.outputs.join(self.query).with_only_columns(*raw).offset(self.offset or None).limit(self.limit)
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


def _stored_column(name: str, column: ColumnElement[Any], dialect: Dialect) -> StoredColumn:
    """`column`: a table's column, or an output-only field's expression (which may be NULL)."""
    load = column.type.dialect_impl(dialect).result_processor(dialect, None)
    nullable = not isinstance(column, Column) or column.nullable
    never_null_int = isinstance(column.type, Integer) and not nullable and load is None
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


def every_word_in(session: Session, text: str, columns: Sequence[Any]) -> ColumnElement[bool]:
    """Each whitespace-separated word of `text` is in one of `columns` (as `contains_ignoring_case`), so
    "lovelace ada" finds Ada Lovelace. One word is exactly `contains_ignoring_case`: no slower search."""
    words = text.split()
    if len(words) == 1:
        return contains_ignoring_case(session, words[0], columns)
    return and_(*(contains_ignoring_case(session, word, columns) for word in words))


def phone_digits_hold(column: Any, text: str) -> ColumnElement[bool] | None:
    """The stored phone's digits hold the digits of `text` ("(555) 123" finds "+1 (555) 123-4567");
    None unless `text` is phone-like, so other searches never run this expression."""
    digits = "".join(ch for ch in text if "0" <= ch <= "9")
    if len(digits) < PHONE_MIN_DIGITS or not PHONE_LIKE.fullmatch(text):
        return None
    for mark in PHONE_MARKS:  # portable nested REPLACE: same result on SQLite and MySQL
        column = func.replace(column, mark, "")
    found: ColumnElement[bool] = column.contains(digits)
    return found


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
