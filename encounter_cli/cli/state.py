"""Per-invocation state: global options, and the database and clinic zone opened on demand."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:  # heavy modules are imported only by commands that use them
    from datetime import date
    from zoneinfo import ZoneInfo

    from encounter_cli.config import Settings
    from encounter_cli.db import Database


@dataclass
class AppState:
    db_url: str | None = None
    config_path: Path | None = None
    debug: bool = False
    actor: str | None = None  # --actor
    _settings: Settings | None = field(default=None, repr=False)
    _database: Database | None = field(default=None, repr=False)
    _zone: ZoneInfo | None = field(default=None, repr=False)

    def settings(self) -> Settings:
        if self._settings is None:
            from encounter_cli.config import load_settings

            self._settings = load_settings(self.db_url, self.config_path)
        return self._settings

    def database(self) -> Database:
        if self._database is None:
            from encounter_cli.db import Database

            self.zone()  # a bad time zone must stop a command before it writes, not after
            hint = four_slash_hint(self.settings().database_url)  # before the file and its folders exist
            from encounter_cli.services.audit import local_actor

            actor = local_actor(self.actor)  # a bad --actor stops a command before it writes
            self._database = Database(self.settings())
            self._database.actor = actor
            if self._database.created_file:
                from encounter_cli.cli.output import note

                note(f"created a new SQLite database: {os.path.abspath(str(self._database.url.database))}")
                if hint:
                    note(hint)
        return self._database

    def zone(self) -> ZoneInfo:
        if self._zone is None:
            from encounter_cli.clinic_time import load_zone

            self._zone = load_zone(self.settings().timezone)
        return self._zone

    def today(self) -> date:
        """The clinic's calendar date, which may differ from the machine's near midnight."""
        from encounter_cli.clinic_time import now_utc

        return now_utc().astimezone(self.zone()).date()

    def close(self) -> None:
        if self._database is not None:
            self._database.dispose()


def four_slash_hint(url: str) -> str | None:
    """`sqlite:///tmp/x.db` is tmp/x.db under the current directory. When tmp/ is not here but /tmp is, the
    user most likely meant the absolute path, which takes four slashes: say so next to the new file."""
    relative = url.removeprefix("sqlite:///")
    if relative == url or relative.startswith("/") or "/" not in relative:
        return None
    top = relative.split("/", 1)[0]
    if not os.path.isdir(os.path.join("/", top)) or os.path.exists(top):
        return None
    return f"hint: {url} is relative to the current directory; for /{relative} write sqlite:////{relative}"


def state(ctx: typer.Context) -> AppState:
    return ctx.find_root().obj
