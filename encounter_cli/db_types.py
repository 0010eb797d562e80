"""Column types shared by the models."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, cast

from sqlalchemy import DateTime, Dialect, String, Text
from sqlalchemy.types import TypeDecorator, TypeEngine


class UTCDateTime(TypeDecorator[datetime]):
    """Aware datetimes in, naive UTC `DATETIME` stored, aware UTC out.

    Naive values are refused: their zone is unknown, so storing them would be
    a silent guess (callers localise input first, see `clinic_time`).
    """

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(timezone.utc).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=timezone.utc)


class ExactString(TypeDecorator[str]):
    """VARCHAR compared byte for byte on every database.

    MySQL's default *_ci collations would make a UNIQUE index equate
    "Zoe" and "zoë"; SQLite compares exactly already. (A `with_variant`
    would do the same but imports the MySQL dialect on every start-up.)
    """

    impl = String
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        length = cast(String, self.impl_instance).length
        if dialect.name in ("mysql", "mariadb"):
            return dialect.type_descriptor(String(length, collation="utf8mb4_bin"))
        return dialect.type_descriptor(String(length))


class LongText(TypeDecorator[str]):
    """Unbounded text: MySQL's TEXT stops at 64 KB, so there it is LONGTEXT (an import's ids can pass that).

    The MySQL type is imported only for MySQL, as `ExactString` avoids loading that dialect on SQLite.
    """

    impl = Text
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name in ("mysql", "mariadb"):
            from sqlalchemy.dialects.mysql import LONGTEXT

            return dialect.type_descriptor(LONGTEXT())
        return dialect.type_descriptor(Text())
