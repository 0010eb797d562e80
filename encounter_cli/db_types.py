"""Column types shared by the models."""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import DateTime, String
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator):
    """Aware datetimes in, naive UTC `DATETIME` stored, aware UTC out.

    Naive values are refused: their zone is unknown, so storing them would be
    a silent guess (callers localise input first, see `clinic_time`).
    """

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(timezone.utc).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=timezone.utc)


class ExactString(TypeDecorator):
    """VARCHAR compared byte for byte on every database.

    MySQL's default *_ci collations would make a UNIQUE index equate
    "Zoe" and "zoë"; SQLite compares exactly already. (A `with_variant`
    would do the same but imports the MySQL dialect on every start-up.)
    """

    impl = String
    cache_ok = True

    def load_dialect_impl(self, dialect):
        if dialect.name in ("mysql", "mariadb"):
            return dialect.type_descriptor(String(self.impl.length, collation="utf8mb4_bin"))
        return dialect.type_descriptor(String(self.impl.length))
