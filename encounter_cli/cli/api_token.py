"""`encounter api-token ...`: bearer tokens for HTTP API clients (`encounter serve`).

encounter api-token add reception-desk
encounter api-token revoke reception-desk
"""

from __future__ import annotations

from typing import Annotated

import typer

from encounter_cli.cli import output
from encounter_cli.cli.options import Output, OutputFormat
from encounter_cli.cli.state import state

app = typer.Typer(help="Manage the bearer tokens of HTTP API clients.", no_args_is_help=True)

TokenName = Annotated[str, typer.Argument(metavar="NAME", help="Who uses the token, e.g. reception-desk.")]
LISTED = ("id", "name", "created_at")  # never the hash: it is nobody's business


@app.command("add")
def add(ctx: typer.Context, name: TokenName, fmt: Output = OutputFormat.table) -> None:
    """Create a token and print it once: only its SHA-256 is stored.

    Example: encounter api-token add reception-desk  (in a script: TOKEN=$(encounter api-token add NAME))
    """
    from encounter_cli import schemas
    from encounter_cli.services import api_tokens

    data = schemas.parse(schemas.ApiTokenName, {"name": name})
    record, token = state(ctx).database().run(lambda session: api_tokens.add_api_token(session, data.name))
    output.saved(ctx, f'API token "{data.name}" added')
    if fmt == OutputFormat.table:
        output.note(f'API token "{data.name}" added; it is shown only now, so store it in a safe place:')
        output.print_lines([token])
    else:
        item = {**output.record(record, LISTED), "token": token}
        output.print_one(item, fmt, state(ctx).zone(), "API token")


@app.command("list")
def list_(ctx: typer.Context, fmt: Output = OutputFormat.table) -> None:
    """List the tokens' names and when they were created (never the tokens).

    Example: encounter api-token list
    """
    from encounter_cli.services import api_tokens

    zone = state(ctx).zone()
    with state(ctx).database().session() as session:
        records = (output.record(token, LISTED) for token in api_tokens.list_api_tokens(session))
        output.print_many(records, fmt, zone, fields=LISTED, columns=LISTED, title="API tokens", limit=None)


@app.command("revoke")
def revoke(ctx: typer.Context, name: TokenName) -> None:
    """Revoke a token: requests with it get 401 from then on.

    Example: encounter api-token revoke reception-desk
    """
    from encounter_cli import schemas
    from encounter_cli.services import api_tokens

    data = schemas.parse(schemas.ApiTokenName, {"name": name})
    state(ctx).database().run(lambda session: api_tokens.revoke_api_token(session, data.name))
    output.note(f'API token "{data.name}" revoked')
