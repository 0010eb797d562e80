"""Exception handlers, registered once: every error becomes `{"detail", "error": {"type", "message", "details"}}`.

Statuses come from `errors.STATUSES`, the table the exit codes come from.
Validation failures of path, query and body are 400 (never FastAPI's 422),
named by field as the command line names them.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from pydantic import BaseModel
from starlette.exceptions import HTTPException

from encounter_cli.api.deps import Unauthorized
from encounter_cli.errors import STATUSES, DatabaseBusy, EncounterError, Unavailable, statuses
from encounter_cli.schemas import invalid_input

REQUEST_PARTS = {"body", "query", "path", "header", "cookie"}  # where FastAPI says a value came from
# Starlette's own errors (404, 405) get the kind of their status, read back from the one table.
KIND_OF_STATUS = {http: kind for kind, (_, http) in STATUSES.items()} | {401: "unauthorized"}
INTERNAL_MESSAGE = "internal error: this is a bug in encounter; the server log has the details"
# A client is not told the database's URL or its server's words: the server log is.
UNAVAILABLE_MESSAGE = "the database is unavailable; the server log says why"
BUSY_MESSAGE = "the database is busy; nothing was written; retry"
RETRY_AFTER_S = "1"
log = logging.getLogger("uvicorn.error")  # Uvicorn's log, which `encounter serve` shows


class ErrorInfo(BaseModel):
    type: str
    message: str
    details: dict[str, Any]


class ErrorBody(BaseModel):
    """Every error response: `detail` is the command line's message, `error` the same as data."""

    detail: str
    error: ErrorInfo


def error_response(status: int, kind: str, message: str, details: dict[str, Any], **headers: str) -> Response:
    body = {"detail": message, "error": {"type": kind, "message": message, "details": details}}
    # backslashreplace: a lone surrogate quoted from the input becomes a JSON escape, not an encoding error
    text = json.dumps(body, ensure_ascii=False, default=str).encode("utf-8", "backslashreplace")
    return Response(text, status_code=status, headers=headers or None, media_type="application/json")


def install(app: FastAPI) -> None:
    app.add_exception_handler(EncounterError, _on_encounter_error)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, _on_validation_error)  # type: ignore[arg-type]
    app.add_exception_handler(Unauthorized, _on_unauthorized)
    app.add_exception_handler(HTTPException, _on_http_exception)  # type: ignore[arg-type]
    app.add_exception_handler(Exception, _on_bug)


async def _on_encounter_error(request: Request, error: EncounterError) -> Response:
    status = statuses(error.kind)[1]
    if isinstance(error, DatabaseBusy):
        return error_response(status, error.kind, BUSY_MESSAGE, {}, **{"Retry-After": RETRY_AFTER_S})
    if isinstance(error, Unavailable):
        log.warning("%s %s: %s", request.method, request.url.path, error.message)
        return error_response(status, error.kind, UNAVAILABLE_MESSAGE, {})
    return error_response(status, error.kind, error.message, error.details)


async def _on_validation_error(request: Request, error: RequestValidationError) -> Response:
    first = dict(error.errors()[0])
    location = tuple(first.get("loc", ()))
    first["loc"] = location[1:] if location[:1] and location[0] in REQUEST_PARTS else location
    return await _on_encounter_error(request, invalid_input(first))


async def _on_unauthorized(request: Request, error: Exception) -> Response:
    return error_response(401, "unauthorized", str(error), {}, **{"WWW-Authenticate": "Bearer"})


async def _on_http_exception(request: Request, error: HTTPException) -> Response:
    """Starlette's own: an unknown path (404), a method the path lacks (405)."""
    kind = KIND_OF_STATUS.get(error.status_code, "invalid")
    return error_response(error.status_code, kind, str(error.detail), {}, **(error.headers or {}))


async def _on_bug(request: Request, error: Exception) -> Response:
    """500 with no details; the server logs the traceback (Starlette re-raises to it)."""
    return error_response(500, "internal", INTERNAL_MESSAGE, {})
