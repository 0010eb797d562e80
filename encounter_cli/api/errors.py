"""Exception handlers, registered once: every error becomes `{"detail", "error": {"type", "message", "details"}}`.

Statuses come from `errors.STATUSES`, the table the exit codes come from.
Validation failures of path, query and body are 400 (never FastAPI's 422),
named by field as the command line names them.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException

from encounter_cli.api.deps import Unauthorized
from encounter_cli.errors import EncounterError, statuses
from encounter_cli.schemas import invalid_input

REQUEST_PARTS = {"body", "query", "path", "header", "cookie"}  # where FastAPI says a value came from
KIND_OF_STATUS = {401: "unauthorized", 404: "not_found", 409: "conflict", 503: "unavailable"}
INTERNAL_MESSAGE = "internal error: this is a bug in encounter; the server log has the details"


class ErrorInfo(BaseModel):
    type: str
    message: str
    details: dict[str, Any]


class ErrorBody(BaseModel):
    """Every error response: `detail` is the command line's message, `error` the same as data."""

    detail: str
    error: ErrorInfo


def error_response(status: int, kind: str, message: str, details: dict[str, Any], **headers: str) -> JSONResponse:
    body = {"detail": message, "error": {"type": kind, "message": message, "details": details}}
    return JSONResponse(body, status_code=status, headers=headers or None)


def install(app: FastAPI) -> None:
    app.add_exception_handler(EncounterError, _on_encounter_error)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, _on_validation_error)  # type: ignore[arg-type]
    app.add_exception_handler(Unauthorized, _on_unauthorized)
    app.add_exception_handler(HTTPException, _on_http_exception)  # type: ignore[arg-type]
    app.add_exception_handler(Exception, _on_bug)


async def _on_encounter_error(request: Request, error: EncounterError) -> JSONResponse:
    return error_response(statuses(error.kind)[1], error.kind, error.message, error.details)


async def _on_validation_error(request: Request, error: RequestValidationError) -> JSONResponse:
    first = dict(error.errors()[0])
    location = tuple(first.get("loc", ()))
    first["loc"] = location[1:] if location[:1] and location[0] in REQUEST_PARTS else location
    return await _on_encounter_error(request, invalid_input(first))


async def _on_unauthorized(request: Request, error: Exception) -> JSONResponse:
    return error_response(401, "unauthorized", str(error), {}, **{"WWW-Authenticate": "Bearer"})


async def _on_http_exception(request: Request, error: HTTPException) -> JSONResponse:
    """Starlette's own: an unknown path (404), a method the path lacks (405)."""
    kind = KIND_OF_STATUS.get(error.status_code, "invalid")
    return error_response(error.status_code, kind, str(error.detail), {}, **(error.headers or {}))


async def _on_bug(request: Request, error: Exception) -> JSONResponse:
    """500 with no details; the server logs the traceback (Starlette re-raises to it)."""
    return error_response(500, "internal", INTERNAL_MESSAGE, {})
