"""`encounter db ...`: create tables and describe the configured database.

encounter db init
encounter --db mysql+pymysql://clinic@db.example/clinic db info
"""

from __future__ import annotations

import typer

from encounter_cli.cli import output
from encounter_cli.cli.options import Output, OutputFormat
from encounter_cli.cli.state import state

app = typer.Typer(help="Set up and inspect the database.", no_args_is_help=True)


@app.command("init")
def init(ctx: typer.Context) -> None:
    """Create the missing encounter tables and indexes. Never drops or alters anything.

    Example: encounter db init
    """
    database = state(ctx).database()
    created = database.create_missing()
    if created:
        output.saved(ctx, f"created {', '.join(created)}")
        output.print_lines([f"created {', '.join(created)} in {database.display_url}"])
    else:
        output.print_lines([f"all tables and indexes already exist in {database.display_url}"])


@app.command("check")
def check(ctx: typer.Context, fmt: Output = OutputFormat.table) -> None:
    """Compare the live schema with the models; exit 6 with one line per difference. Changes nothing.

    Example: encounter db check
    """
    from encounter_cli.errors import Unavailable

    database = state(ctx).database()
    differences = database.schema_differences()
    facts = {"url": database.display_url, "matches": not differences, "differences": differences}
    lines = differences or [f"schema matches the models in {database.display_url}"]
    output.show_facts(facts, fmt, "Schema check", for_people=lines)
    if differences:
        raise Unavailable(
            f"schema differs from the models in {len(differences)} place(s)",
            hint="encounter never alters tables: fix them by hand or with your migration tool",
        )


@app.command("info")
def info(ctx: typer.Context, fmt: Output = OutputFormat.table) -> None:
    """Show the database URL (password hidden), dialect, the clinic's time zone and row counts.

    Example: encounter db info -o json
    """
    app_state = state(ctx)
    database, zone = app_state.database(), app_state.zone()
    tables = database.table_counts()
    dialect = database.engine.dialect.name
    facts = {"url": database.display_url, "dialect": dialect, "timezone": zone.key, "tables": tables}
    missing = "missing (run: encounter db init)"
    counts = {table: missing if count is None else count for table, count in tables.items()}
    # An unset zone is easy to miss on a UTC server: say where this one came from.
    shown_zone = zone.key if app_state.settings().timezone else f"{zone.key} (the system zone)"
    for_people = {"url": database.display_url, "dialect": dialect, "timezone": shown_zone, **counts}
    output.show_facts(facts, fmt, "Database", for_people=for_people)
