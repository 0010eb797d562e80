"""What routes depend on, declared once: the process's `Clinic`, the `Caller` and its token, a parsed JSON body."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any, TypeVar
from zoneinfo import ZoneInfo

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel
from sqlalchemy.orm import Session

from encounter_cli import schemas
from encounter_cli.clinic_time import load_zone, now_utc
from encounter_cli.config import Settings
from encounter_cli.db import Database
from encounter_cli.errors import InvalidInput
from encounter_cli.services import api_tokens

M = TypeVar("M", bound=BaseModel)
T = TypeVar("T")
OPEN_ACCESS_ACTOR = "no-auth"  # who a request is from when the server runs with --no-auth
THREADS = 20  # requests of one worker process served at once, each on a database connection of its own


class Unauthorized(Exception):
    """No token, or one that is not (or no longer) valid: HTTP 401."""


@dataclass
class Clinic:
    """Per process: the database (its engine and connection pool) and the clinic's zone."""

    database: Database
    zone: ZoneInfo
    open_access: bool

    @classmethod
    def open(cls, settings: Settings, *, open_access: bool) -> Clinic:
        zone = load_zone(settings.timezone)  # a bad zone stops the server before it listens
        return cls(Database(settings, connections=THREADS), zone, open_access)

    def today(self) -> date:
        return now_utc().astimezone(self.zone).date()


async def _clinic(request: Request) -> Clinic:  # async: no thread-pool hop for a dictionary look-up
    clinic: Clinic = request.app.state.clinic
    return clinic


ClinicDep = Annotated[Clinic, Depends(_clinic)]
_bearer = HTTPBearer(auto_error=False, description="A token made by `encounter api-token add NAME`.")


@dataclass
class Caller:
    """Who sent the request: their token, checked in the same transaction as the request's work."""

    clinic: Clinic
    token: str | None  # None when the server runs with --no-auth
    name: str = OPEN_ACCESS_ACTOR  # the token's name once checked: the audit actor

    @property
    def zone(self) -> ZoneInfo:
        return self.clinic.zone

    def run(self, work: Callable[[Session], T], *, write: bool = True) -> T:
        """The request's unit of work: one transaction that checks the token first (401), then does `work`.

        Retried on lock contention like a command's.
        """

        def authorised(session: Session) -> T:
            if self.token is not None:
                holder = api_tokens.token_holder(session, self.token)
                if holder is None:
                    raise Unauthorized("the bearer token is not valid (revoked, or never issued)")
                self.name = holder
            return work(session)

        return self.clinic.database.run(authorised, write=write)


async def _caller(
    clinic: ClinicDep, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> Caller:
    """401 at once without a token; a token given is checked by `Caller.run`, in the request's transaction."""
    if clinic.open_access:
        return Caller(clinic, None)
    if credentials is None:
        raise Unauthorized("this route needs an Authorization: Bearer token")
    return Caller(clinic, credentials.credentials)


CallerDep = Annotated[Caller, Depends(_caller)]


def json_body(model: type[M]) -> Any:
    """A dependency parsing the request's JSON object into `model` with the rules of the command line.

    The clinic's today and zone take part (birth dates, supported years), so
    the body is validated here and not by FastAPI; `body_schema` documents it.
    """

    async def parse(request: Request, clinic: ClinicDep) -> M:
        raw = await request.body()
        try:
            data = json.loads(raw) if raw.strip() else {}
        except ValueError:  # UnicodeDecodeError included
            raise InvalidInput("body", None, "is not valid JSON") from None
        if not isinstance(data, dict):
            raise InvalidInput("body", None, "must be a JSON object")
        return schemas.parse(model, data, today=clinic.today(), zone=clinic.zone)

    return Depends(parse)


def body_schema(model: type[BaseModel], *, required: bool = True) -> dict[str, Any]:
    """The OpenAPI request body of a route whose body `json_body(model)` parses."""
    content = {"application/json": {"schema": model.model_json_schema()}}
    return {"requestBody": {"required": required, "content": content}}
