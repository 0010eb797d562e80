"""The Typer front end: a thin client of `encounter_cli.services`."""
