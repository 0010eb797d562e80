"""`encounter config ...`: the settings in effect and where each came from; a starter config file.

encounter config show
encounter config init
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from encounter_cli.cli import output
from encounter_cli.cli.options import Output, OutputFormat
from encounter_cli.cli.state import AppState, state

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

    from encounter_cli.config import Settings

app = typer.Typer(help="Show the settings in effect; write a starter config file.", no_args_is_help=True)

SYSTEM_ZONE = "default (the system zone)"
UTC_NAMES = {"UTC", "UCT", "Universal", "Zulu", "GMT", "GMT0", "GMT+0", "GMT-0", "Greenwich"}  # with or without Etc/


@app.command("show")
def show(ctx: typer.Context, fmt: Output = OutputFormat.table) -> None:
    """Print each effective setting and where it came from: option, environment, which file, or default.

    Checks the config file, the URL's form and the time zone (exit 6 if one is broken) but connects to
    nothing and never reads the password file. json: {"SETTING": {"value": ..., "source": ...}, ...}.

    Example: encounter config show -o json
    """
    app_state = state(ctx)
    settings, zone = app_state.settings(), app_state.zone()
    facts = {
        name: {"value": value, "source": settings.sources[name]} for name, value in _shown(app_state, zone).items()
    }
    if not settings.timezone:
        facts["timezone"]["source"] = SYSTEM_ZONE
        _warn_if_utc(zone)
    # For people, one `setting  value  [source]` line each, long values folded, never cut.
    people = {name: " ".join(filter(None, [fact["value"], f"[{fact['source']}]"])) for name, fact in facts.items()}
    output.show_facts(facts, fmt, "Settings", for_people=people)


def _warn_if_utc(system_zone: ZoneInfo) -> None:
    """A UTC server with no zone configured books a typed 09:00 as 09:00 UTC, unnoticed until a zone is set."""
    if system_zone.key.removeprefix("Etc/") in UTC_NAMES:
        output.note(
            "note: no clinic time zone is set and this machine's zone is UTC, so a time typed without an "
            "offset (09:00) is stored as 09:00 UTC; set [clinic] timezone or ENCOUNTER_TIMEZONE if the "
            "clinic is elsewhere"
        )


def _shown(app_state: AppState, zone: ZoneInfo) -> dict[str, Any]:
    """Each setting's value as shown: the database URL as `db info` shows it, the zone's IANA name."""
    from dataclasses import replace

    from encounter_cli.db import redacted, resolve_url
    from encounter_cli.working_hours import format_hours

    settings: Settings = app_state.settings()
    # Without the password file: the URL is only shown, and a password is never needed for that.
    url = redacted(resolve_url(replace(settings, password_file=None)))
    return {
        "database_url": url,
        "password_file": os.path.abspath(settings.password_file) if settings.password_file else None,
        "table_prefix": settings.table_prefix,
        "timezone": zone.key,
        "hours": "; ".join(format_hours(settings.hours)) or None,
        "output": settings.output,
        "config_path": os.path.abspath(settings.config_path) if settings.config_path else None,
    }


@app.command("init")
def init(
    ctx: typer.Context,
    path: Annotated[
        Path | None,
        typer.Option("--path", metavar="PATH", help="Write here instead ($XDG_CONFIG_HOME/encounter/config.toml)."),
    ] = None,
) -> None:
    """Write a commented starter config file and print its path; never overwrites a file (exit 5).

    Every setting in it is commented out, so it changes nothing until you edit it.

    Example: encounter config init
    """
    from encounter_cli.config import default_config_path, find_config, write_starter_config

    target = Path(os.path.abspath(path or default_config_path()))
    write_starter_config(target)
    output.print_lines([str(target)])
    in_use, source = find_config(state(ctx).config_path, os.environ)
    if in_use is None:
        output.note(f"note: encounter reads this file only when named: --config {target} or ENCOUNTER_CONFIG")
    elif Path(os.path.abspath(in_use)) != target:
        output.note(f"note: encounter reads {os.path.abspath(in_use)} instead ({source})")
