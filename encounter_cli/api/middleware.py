"""Around every request: bodies over 1 MB are refused (413); logs carry no query strings; and without
tokens (`--no-auth`), only this machine's own clients are served (no web page, no rebound DNS name)."""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from fastapi import FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from encounter_cli.api.errors import error_response
from encounter_cli.loopback import is_loopback

MAX_BODY_BYTES = 1024 * 1024
TOO_LARGE = f"the request body is larger than {MAX_BODY_BYTES} bytes"


class _TooLarge(Exception):
    pass


class BodyLimit:
    """Refuse a body over `limit` bytes, whether announced by Content-Length or sent in chunks."""

    def __init__(self, app: ASGIApp, limit: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length", b"0")
        if declared.isdigit() and int(declared) > self.limit:
            await self._refuse(scope, receive, send)
            return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > self.limit:
                raise _TooLarge
            return message

        try:
            await self.app(scope, counted, send)
        except _TooLarge:  # raised while the route read its body: nothing was sent yet
            await self._refuse(scope, receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = error_response(413, "invalid", TOO_LARGE, {"limit": self.limit}, Connection="close")
        await response(scope, receive, send)


class LoopbackOnly:
    """For a server without tokens: refuse a Host that is not a loopback name (a DNS name rebound to
    127.0.0.1) and a request another web page sent (its Origin is not this server), so a page open in a
    browser on this machine can neither read nor change the clinic's records; /docs' own requests pass."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            headers = dict(scope["headers"])
            origin = headers.get(b"origin")
            host = headers.get(b"host", b"").decode("latin-1")
            if not is_loopback(urlsplit(f"//{host}").hostname):
                problem = f"Host {host!r} is not this machine: a server without tokens answers only loopback names"
            elif origin is not None and urlsplit(origin.decode("latin-1")).netloc.lower() != host.lower():
                problem = "requests from other web pages than this server's own are refused without tokens"
            else:
                problem = ""
            if problem:
                await error_response(403, "forbidden", problem, {})(scope, receive, send)
                return
        await self.app(scope, receive, send)


class _WithoutQuery(logging.Filter):
    """Uvicorn's access log without query strings: a search for a patient's name is no business of the log."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) == 5 and isinstance(args[2], str):
            record.args = (*args[:2], args[2].split("?", 1)[0], *args[3:])
        return True


def install(app: FastAPI, *, loopback_only: bool) -> None:
    app.add_middleware(BodyLimit)
    if loopback_only:
        app.add_middleware(LoopbackOnly)
    access_log = logging.getLogger("uvicorn.access")
    if not any(isinstance(known, _WithoutQuery) for known in access_log.filters):
        access_log.addFilter(_WithoutQuery())
