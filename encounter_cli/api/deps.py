"""What routes depend on, declared once: the process's `Clinic`, and the `Caller` with their token."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Annotated, TypeVar, get_args, get_origin
from zoneinfo import ZoneInfo

import anyio
import anyio.to_thread
from fastapi import Depends, Request
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from encounter_cli.clinic_time import load_zone, now_utc
from encounter_cli.config import Settings
from encounter_cli.db import Database
from encounter_cli.errors import InvalidInput
from encounter_cli.services import api_tokens
from encounter_cli.services.audit import Actor
from encounter_cli.working_hours import NO_HOURS, WeeklyHours

T = TypeVar("T")
OPEN_ACCESS_ACTOR = "no-auth"  # who a request is from when the server runs with --no-auth
# Threads of one worker process, each with a database connection of its own. Reads, writes and /health have
# their own: writers waiting for a lock (SQLite's file, a doctor's row) never hold up a read or a health check.
READ_THREADS, WRITE_THREADS, HEALTH_THREADS = 12, 6, 2
CONNECTIONS = READ_THREADS + WRITE_THREADS + HEALTH_THREADS


class Unauthorized(Exception):
    """No token, or one that is not (or no longer) valid: HTTP 401."""


@dataclass
class Clinic:
    """Per process: the database (its engine and connection pool), the clinic's zone and default hours."""

    database: Database
    zone: ZoneInfo
    open_access: bool
    threads: Threads | None = None  # made by the app's lifespan, inside the event loop
    hours: WeeklyHours = NO_HOURS  # [clinic] hours: of doctors without their own

    @classmethod
    def open(cls, settings: Settings, *, open_access: bool) -> Clinic:
        zone = load_zone(settings.timezone)  # a bad zone stops the server before it listens
        return cls(Database(settings, connections=CONNECTIONS), zone, open_access, hours=settings.hours)

    def today(self) -> date:
        return now_utc().astimezone(self.zone).date()

    async def in_thread(self, work: Callable[[], T], kind: str) -> T:
        """Run blocking `work` on a thread of `kind` ("reads", "writes" or "health")."""
        assert self.threads is not None, "the app's lifespan has not started"
        return await anyio.to_thread.run_sync(work, limiter=getattr(self.threads, kind))


@dataclass(frozen=True)
class Threads:
    reads: anyio.CapacityLimiter
    writes: anyio.CapacityLimiter
    health: anyio.CapacityLimiter

    @classmethod
    def start(cls) -> Threads:
        return cls(*(anyio.CapacityLimiter(n) for n in (READ_THREADS, WRITE_THREADS, HEALTH_THREADS)))


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

    @property
    def hours(self) -> WeeklyHours:
        return self.clinic.hours

    async def run(self, work: Callable[[Session], T], *, write: bool = True) -> T:
        """The request's unit of work, on a thread for reads or writes: one transaction that checks the token
        first (401), then does `work`. Retried on lock contention like a command's.
        """

        def authorised(session: Session) -> T:
            if self.token is not None:
                holder = api_tokens.token_holder(session, self.token)
                if holder is None:
                    raise Unauthorized("the bearer token is not valid (revoked, or never issued)")
                self.name = holder
            session.info["actor"] = Actor(self.name, "api")  # the audit trail's who, for this request
            return work(session)

        transaction = functools.partial(self.clinic.database.run, authorised, write=write)
        return await self.clinic.in_thread(transaction, "writes" if write else "reads")


async def _caller(
    request: Request,
    clinic: ClinicDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Caller:
    """401 at once without a token; a token given is checked by `Caller.run`, in the request's transaction."""
    if credentials is None and not clinic.open_access:
        raise Unauthorized("this route needs an Authorization: Bearer token")
    _ensure_known_query(request)
    return Caller(clinic, None if clinic.open_access or credentials is None else credentials.credentials)


def _ensure_known_query(request: Request) -> None:
    """A misspelt filter (`?doctor=3` for `?doctor_id=3`) is an error, not a silently wider list."""
    known, repeatable = _query_names(request.scope["route"])
    seen: set[str] = set()
    for name, value in request.query_params.multi_items():
        if name not in known:
            raise InvalidInput(name, value, "is not a query parameter of this route")
        if name in seen and name not in repeatable:  # FastAPI would keep the last silently
            raise InvalidInput(name, value, "is given twice")
        seen.add(name)


def _query_names(route: APIRoute) -> tuple[frozenset[str], frozenset[str]]:
    """The query parameters of a route and of everything it depends on (a handful: no cache needed), and
    those of them that are lists (`?doctor_id=1&doctor_id=2`)."""
    names: set[str] = set()
    lists: set[str] = set()
    pending = [route.dependant]
    while pending:
        dependant = pending.pop()
        names.update(param.alias for param in dependant.query_params)
        lists.update(param.alias for param in dependant.query_params if _is_list(param.field_info.annotation))
        pending.extend(dependant.dependencies)
    return frozenset(names), frozenset(lists)


def _is_list(annotation: object) -> bool:
    """`list[int]`, or `list[int] | None`."""
    return any(get_origin(kind) is list for kind in (annotation, *get_args(annotation)))


CallerDep = Annotated[Caller, Depends(_caller)]
