"""The application factory: one `Clinic` (database engine and zone) per process, routers, handlers, limits."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio.to_thread
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi_offline import FastAPIOffline

from encounter_cli import __version__
from encounter_cli.api import errors, middleware
from encounter_cli.api.deps import THREADS, Clinic
from encounter_cli.api.routes import appointments, doctors, health, patients
from encounter_cli.config import Settings, load_settings

NO_AUTH_VARIABLE = "ENCOUNTER_SERVE_NO_AUTH"  # set by `encounter serve --no-auth`, which checked the host
DESCRIPTION = """Patients, doctors and appointments of an outpatient clinic, with the rules of the command line.

Every route but `/health` needs `Authorization: Bearer <token>` (`encounter api-token add NAME`).
Times are RFC 3339 with an offset; errors are `{"detail": ..., "error": {"type", "message", "details"}}`.
"""


def create_app(settings: Settings, *, open_access: bool = False) -> FastAPI:
    """The API over the database `settings` name; `open_access` serves requests without a token."""
    # Swagger UI's scripts and styles come from the installed package: /docs works with no internet.
    app = FastAPIOffline(
        title="encounter",
        version=__version__,
        description=DESCRIPTION,
        redoc_url=None,
        generate_unique_id_function=_operation_id,
        lifespan=_lifespan,
    )
    app.state.clinic = Clinic.open(settings, open_access=open_access)
    for routes in (patients, doctors, appointments, health):
        app.include_router(routes.router)
    errors.install(app)
    middleware.install(app)
    return app


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    # Routes run in the thread pool; as many threads as the database keeps connections, so none waits for one.
    anyio.to_thread.current_default_thread_limiter().total_tokens = THREADS
    yield
    app.state.clinic.database.dispose()


def _operation_id(route: APIRoute) -> str:
    """`add_patient` rather than FastAPI's `add_patient_patients_post`: client generators name methods after it."""
    return route.name


def app_from_environment() -> FastAPI:
    """What `encounter serve` runs in each worker: settings as any command reads them."""
    return create_app(load_settings(), open_access=os.environ.get(NO_AUTH_VARIABLE) == "1")
