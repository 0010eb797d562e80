"""`encounter serve`: run the HTTP API (README: HTTP API) with Uvicorn.

The command line never imports the API package: Uvicorn loads it by name in
each worker process, and the settings travel in the environment.
"""

from __future__ import annotations

import os
from typing import Annotated

import typer

from encounter_cli.cli import output
from encounter_cli.cli.state import state

# Modules for serving are imported inside the command: every other command starts without them.

API_PACKAGES = ("fastapi", "uvicorn", "fastapi_offline")
INSTALL_HINT = "install it with: pip install 'encounter[api]'"
APP_FACTORY = "encounter_cli.api.app:app_from_environment"
HTTP_PROTOCOL = "encounter_cli.api.server:NoDelayHTTPProtocol"


def serve(
    ctx: typer.Context,
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="TCP port.")] = 8000,
    workers: Annotated[int, typer.Option("--workers", min=1, max=64, metavar="N", help="Worker processes.")] = 1,
    no_auth: Annotated[
        bool, typer.Option("--no-auth", help="Accept requests without a token (loopback hosts only).")
    ] = False,
) -> None:
    """Serve the HTTP API: every route but /health, /docs and /openapi.json needs a bearer token.

    Tokens come from encounter api-token add NAME. Stops gracefully on Ctrl-C or SIGTERM.

    Example: encounter serve --host 127.0.0.1 --port 8000 --workers 4
    """
    from encounter_cli.db import INIT_HINT
    from encounter_cli.errors import Unavailable
    from encounter_cli.loopback import is_loopback
    from encounter_cli.services import api_tokens

    missing = [name for name in API_PACKAGES if not _installed(name)]
    if missing:
        raise Unavailable(f"the HTTP API is not installed (missing: {', '.join(missing)})", hint=INSTALL_HINT)
    if no_auth and not is_loopback(host):
        raise typer.BadParameter(
            f"is only allowed on a loopback host such as 127.0.0.1, not {host}", param_hint="--no-auth"
        )
    _ensure_port_free(host, port)
    database = state(ctx).database()
    missing_tables = database.missing_tables()
    if missing_tables:
        raise Unavailable(
            f"missing tables in {database.display_url}: {', '.join(missing_tables)}",
            hint=INIT_HINT,
        )
    if not no_auth and not database.run(api_tokens.any_token, write=False):
        output.note("no API tokens exist yet, so every request but /health gets 401: run encounter api-token add NAME")
    _run(ctx, host, port, workers, no_auth)


def _run(ctx: typer.Context, host: str, port: int, workers: int, no_auth: bool) -> None:
    import uvicorn

    from encounter_cli.config import SERVE_NO_AUTH_VARIABLE

    app_state = state(ctx)
    # Each worker reads its settings as any command would: options become the environment they outrank.
    if app_state.db_url:
        os.environ["ENCOUNTER_DATABASE_URL"] = app_state.db_url
    if app_state.config_path:
        os.environ["ENCOUNTER_CONFIG"] = str(app_state.config_path)
    os.environ[SERVE_NO_AUTH_VARIABLE] = "1" if no_auth else ""
    app_state.close()  # the workers open their own engines
    uvicorn.run(
        APP_FACTORY,
        factory=True,
        http=HTTP_PROTOCOL,
        host=host.strip("[]"),  # an IPv6 address as a URL writes it: [::1]
        port=port,
        workers=workers,
        server_header=False,
    )


def _installed(name: str) -> bool:
    import importlib.util

    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):  # a package present but broken, or blocked in sys.modules
        return False


def _ensure_port_free(host: str, port: int) -> None:
    """Say so now if the port is taken, rather than let the server fail after start-up."""
    import errno
    import socket

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as Uvicorn binds: TIME_WAIT is no obstacle
        try:
            probe.bind((host.strip("[]"), port))
        except OSError as error:
            reason = "is in use" if error.errno == errno.EADDRINUSE else f"cannot be used ({error.strerror})"
            raise typer.BadParameter(f"{host}:{port} {reason}", param_hint="--host/--port") from None
