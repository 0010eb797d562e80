"""The application factory: one `Clinic` (database engine and zone) per process, routers, handlers, limits."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi_offline import FastAPIOffline

from encounter_cli import __version__
from encounter_cli.api import errors, middleware
from encounter_cli.api.bodies import JsonBody
from encounter_cli.api.deps import Clinic, Threads
from encounter_cli.api.routes import appointments, audit, availability, doctors, health, patients, schedule
from encounter_cli.config import SERVE_NO_AUTH_VARIABLE, Settings, load_settings

DESCRIPTION = """Patients, doctors and appointments of an outpatient clinic, with the rules of the command line.

Every route but `/health`, `/docs` and `/openapi.json` needs `Authorization: Bearer <token>`
(`encounter api-token add NAME`). Times are RFC 3339 with an offset; errors are
`{"detail": ..., "error": {"type", "message", "details"}}`.
"""
ROUTERS = (patients, doctors, availability, appointments, schedule, audit, health)
FRAMEWORK_SCHEMAS = ("HTTPValidationError", "ValidationError")  # of FastAPI's 422, which this API never sends


def create_app(settings: Settings, *, open_access: bool = False) -> FastAPI:
    """The API over the database `settings` name; `open_access` serves requests without a token."""
    # Swagger UI's scripts and styles come from the installed package: /docs works with no internet.
    app = FastAPIOffline(
        title="encounter",
        version=__version__,
        description=DESCRIPTION,
        redoc_url=None,
        redirect_slashes=False,  # "/patients/" is 404 with the error body, not a redirect a POST won't follow
        generate_unique_id_function=_operation_id,
        lifespan=_lifespan,
    )
    app.state.clinic = Clinic.open(settings, open_access=open_access)
    for routes in ROUTERS:
        app.include_router(routes.router)
    errors.install(app)
    middleware.install(app, loopback_only=open_access)
    app.openapi = lambda: _schema(app)  # type: ignore[method-assign]
    return app


def app_from_environment() -> FastAPI:
    """What `encounter serve` runs in each worker: settings as any command reads them."""
    return create_app(load_settings(), open_access=os.environ.get(SERVE_NO_AUTH_VARIABLE) == "1")


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    app.state.clinic.threads = Threads.start()
    yield
    app.state.clinic.database.dispose()


def _operation_id(route: APIRoute) -> str:
    """`add_patient` rather than FastAPI's `add_patient_patients_post`: client generators name methods after it."""
    return route.name


def _schema(app: FastAPI) -> dict[str, Any]:
    """FastAPI's schema, with each route's request body (validated by `JsonBody`, not by FastAPI) and
    without the 422 responses FastAPI adds: this API answers invalid input with 400."""
    if app.openapi_schema is None:
        schema = FastAPI.openapi(app)
        for route in (route for routes in ROUTERS for route in routes.router.routes):
            if isinstance(route, APIRoute):
                for method in route.methods or ():
                    operation = schema["paths"][route.path_format][method.lower()]
                    operation["responses"].pop("422", None)
                    body = next((d.call for d in route.dependant.dependencies if isinstance(d.call, JsonBody)), None)
                    if body is not None:
                        operation["requestBody"] = body.openapi()
        for name in FRAMEWORK_SCHEMAS:
            schema.get("components", {}).get("schemas", {}).pop(name, None)
        app.openapi_schema = schema
    return app.openapi_schema
