"""Settings from command line > environment > config file > defaults (README: Configuration).

Kept free of SQLAlchemy and Pydantic so `--help` stays fast.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from encounter_cli.errors import InvalidInput, Unavailable
from encounter_cli.working_hours import NO_HOURS, WeeklyHours, parse_hours

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised only on Python 3.10
    import tomli as tomllib

KNOWN_KEYS = {
    "database": {"url", "password_file", "table_prefix"},
    "clinic": {"timezone", "hours"},
}
# `encounter serve --no-auth` (which checked the host is loopback) tells its worker processes so.
SERVE_NO_AUTH_VARIABLE = "ENCOUNTER_SERVE_NO_AUTH"
PREFIX_PATTERN = re.compile(r"[A-Za-z][A-Za-z0-9]{0,29}")


@dataclass(frozen=True)
class Settings:
    database_url: str
    password_file: Path | None
    table_prefix: str
    timezone: str
    config_path: Path | None
    hours: WeeklyHours = NO_HOURS  # [clinic] hours: the working hours of doctors without their own


def load_settings(
    db_option: str | None = None,
    config_option: Path | None = None,
    environ: Mapping[str, str] = os.environ,
) -> Settings:
    """Resolve every setting once, in that order of precedence."""
    config_path = _find_config(config_option, environ)
    file_values = _read_config(config_path) if config_path else {}
    database = file_values.get("database", {})
    clinic = file_values.get("clinic", {})

    url = db_option or environ.get("ENCOUNTER_DATABASE_URL") or database.get("url")
    password_file = database.get("password_file")
    prefix = database.get("table_prefix", "")
    if prefix and not PREFIX_PATTERN.fullmatch(prefix):
        raise Unavailable(
            f'table_prefix "{prefix}" must be a letter followed by up to 29 letters or digits',
            hint=f"fix [database] table_prefix in {config_path}",
        )
    return Settings(
        database_url=url or default_sqlite_url(environ),
        password_file=_expand(password_file, config_path) if password_file else None,
        table_prefix=prefix,
        timezone=environ.get("ENCOUNTER_TIMEZONE") or clinic.get("timezone") or "",
        config_path=config_path,
        hours=_clinic_hours(clinic.get("hours", ""), config_path),
    )


def _clinic_hours(text: str, config_path: Path | None) -> WeeklyHours:
    """`[clinic] hours`, in the grammar of `doctor hours --set`, groups split by ";". A mistake is a
    misconfiguration (exit 6), named with its file."""
    try:
        return parse_hours([text], field="clinic.hours")
    except InvalidInput as error:
        hint = 'e.g. hours = "mon-fri 09:00-12:30,13:30-17:00; sat 09:00-12:00"'
        raise Unavailable(f"config file {config_path}: {error.message}", hint=hint) from None


def default_sqlite_path(environ: Mapping[str, str] = os.environ) -> Path:
    data_home = environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(data_home) / "encounter" / "encounter.db"


def default_sqlite_url(environ: Mapping[str, str] = os.environ) -> str:
    return f"sqlite:///{default_sqlite_path(environ)}"


def _find_config(option: Path | None, environ: Mapping[str, str]) -> Path | None:
    explicit = option or (Path(environ["ENCOUNTER_CONFIG"]) if environ.get("ENCOUNTER_CONFIG") else None)
    if explicit is not None:
        return explicit  # opened as given, so /dev/null and `--config <(...)` work; errors come from the opening
    config_home = environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    for candidate in (Path("encounter.toml"), Path(config_home) / "encounter" / "config.toml"):
        if candidate.is_file():
            return candidate
    return None


def _read_config(path: Path) -> dict:
    try:
        with path.open("rb") as handle:
            values = tomllib.load(handle)
    except FileNotFoundError:
        raise Unavailable(f"config file {path} does not exist") from None
    except OSError as exc:
        raise Unavailable(f"cannot read config file {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise Unavailable(f"config file {path} is not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise Unavailable(f"cannot read config file {path}: {exc}") from None
    for section, content in values.items():
        allowed = KNOWN_KEYS.get(section)
        if allowed is None or not isinstance(content, dict):
            raise Unavailable(f"config file {path}: unknown section [{section}]", hint="see config.example.toml")
        unknown = sorted(set(content) - allowed)
        if unknown:
            raise Unavailable(f"config file {path}: unknown key {section}.{unknown[0]}", hint="see config.example.toml")
        for key, value in content.items():
            if not isinstance(value, str):
                raise Unavailable(f"config file {path}: {section}.{key} must be a string")
    return values


def _expand(value: str, config_path: Path | None) -> Path:
    """A relative password_file is relative to the config file that names it."""
    path = Path(value).expanduser()
    if not path.is_absolute() and config_path is not None:
        path = config_path.parent / path
    return path


def read_password_file(path: Path) -> str:
    """Read a password file, refusing one that group or others could read."""
    try:
        mode = path.stat().st_mode & 0o777
    except OSError as exc:
        raise Unavailable(f"password_file {path}: {exc.strerror}") from None
    if mode & 0o077:
        raise Unavailable(
            f"password_file {path} has mode {mode:04o}; it must be 0600 or 0400",
            hint=f"run: chmod 600 {path}",
        )
    try:
        return path.read_text(encoding="utf-8").rstrip("\r\n")
    except OSError as exc:
        raise Unavailable(f"password_file {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise Unavailable(f"password_file {path} is not UTF-8 text") from None
