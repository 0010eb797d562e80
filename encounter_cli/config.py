"""Settings from command line > environment > config file > defaults (README: Configuration).

Kept free of SQLAlchemy and Pydantic so `--help` stays fast.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from encounter_cli.errors import Conflict, InvalidInput, Unavailable
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
DEFAULT = "default"
KEYS_HINT = "config.example.toml lists every key; encounter config init --path FILE writes a copy"
OUTPUT_VARIABLE = "ENCOUNTER_OUTPUT"  # read by Typer for every -o; here only to say where a default came from


@dataclass(frozen=True)
class Settings:
    database_url: str
    password_file: Path | None
    table_prefix: str
    timezone: str  # "" means the system zone
    config_path: Path | None
    hours: WeeklyHours = NO_HOURS  # [clinic] hours: the working hours of doctors without their own
    output: str = "table"  # the default of every -o
    # Where each field's value came from (`option (--db)`, `environment (NAME)`, `file PATH`, `default`),
    # written where the value is chosen: `config show` reports it. Not part of equality.
    sources: Mapping[str, str] = field(default_factory=dict, compare=False, repr=False)


def load_settings(
    db_option: str | None = None,
    config_option: Path | None = None,
    environ: Mapping[str, str] = os.environ,
) -> Settings:
    """Resolve every setting once, in that order of precedence, noting where each value came from."""
    config_path, config_source = find_config(config_option, environ)
    file_values = _read_config(config_path) if config_path else {}
    in_file = f"file {os.path.abspath(config_path)}" if config_path else DEFAULT
    database = file_values.get("database", {})
    clinic = file_values.get("clinic", {})
    sources = {"config_path": config_source}

    def pick(name: str, *choices: tuple[str | None, str], default: str = "") -> str:
        """The first value given (an empty one counts as not given), else the default; its source noted."""
        value, sources[name] = next(((value, source) for value, source in choices if value), (default, DEFAULT))
        return value

    if db_option is not None and not db_option.strip():  # an unset variable in `--db "$DB"`: never the default
        raise Unavailable("--db is empty", hint="give a database URL or a SQLite file path, or leave --db out")
    url = pick(
        "database_url",
        (db_option, "option (--db)"),
        _variable(environ, "ENCOUNTER_DATABASE_URL"),
        (database.get("url"), in_file),
        default=default_sqlite_url(environ),
    )
    password_file = pick("password_file", (database.get("password_file"), in_file))
    prefix = pick("table_prefix", (database.get("table_prefix"), in_file))
    if prefix and not PREFIX_PATTERN.fullmatch(prefix):
        raise Unavailable(
            f'table_prefix "{prefix}" must be a letter followed by up to 29 letters or digits',
            hint=f"fix [database] table_prefix in {config_path}",
        )
    return Settings(
        database_url=url,
        password_file=_expand(password_file, config_path) if password_file else None,
        table_prefix=prefix,
        timezone=pick("timezone", _variable(environ, "ENCOUNTER_TIMEZONE"), (clinic.get("timezone"), in_file)),
        config_path=config_path,
        hours=_clinic_hours(pick("hours", (clinic.get("hours"), in_file)), config_path),
        output=pick("output", _variable(environ, OUTPUT_VARIABLE), default="table"),
        sources=sources,
    )


def _variable(environ: Mapping[str, str], name: str) -> tuple[str | None, str]:
    return environ.get(name), f"environment ({name})"


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


def default_config_path(environ: Mapping[str, str] = os.environ) -> Path:
    """Where encounter looks for a config file after ./encounter.toml, and where `config init` writes one."""
    config_home = environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(config_home) / "encounter" / "config.toml"


def find_config(option: Path | None, environ: Mapping[str, str]) -> tuple[Path | None, str]:
    """The config file to read, if any, and why that one."""
    # Opened as given, so /dev/null and `--config <(...)` work; errors come from the opening.
    if option is not None:
        return option, "option (--config)"
    if environ.get("ENCOUNTER_CONFIG"):
        return Path(environ["ENCOUNTER_CONFIG"]), "environment (ENCOUNTER_CONFIG)"
    found = (
        (Path("encounter.toml"), "found in the current directory"),
        (default_config_path(environ), "found at the XDG path"),
    )
    for candidate, why in found:
        if candidate.is_file():
            return candidate, why
    return None, DEFAULT


def write_starter_config(path: Path) -> None:
    """Write the commented starter file (the package's config_template.toml) to a new file, never over one."""
    from importlib.resources import files

    template = files("encounter_cli").joinpath("config_template.toml").read_bytes()
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as exc:  # a file in the way, no permission
        raise Unavailable(f"cannot create folder {path.parent} for the config file: {exc.strerror}") from None
    try:
        # "x": never over an existing file. Owner-only, as a URL written into it may carry a password.
        with open(path, "xb", opener=lambda name, flags: os.open(name, flags, 0o600)) as file:
            file.write(template)
    except FileExistsError:
        raise Conflict(
            f"config file {path} already exists; encounter never overwrites one",
            hint="edit it, or move it away first; encounter config show prints the settings in effect",
        ) from None
    except OSError as exc:
        raise Unavailable(f"cannot create config file {path}: {exc.strerror}") from None


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
            raise Unavailable(f"config file {path}: unknown section [{section}]", hint=KEYS_HINT)
        unknown = sorted(set(content) - allowed)
        if unknown:
            raise Unavailable(f"config file {path}: unknown key {section}.{unknown[0]}", hint=KEYS_HINT)
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
