"""Limits and logging around every request: bodies over 1 MB are refused (413); logs carry no query strings."""

from __future__ import annotations

import logging

from fastapi import FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from encounter_cli.api.errors import error_response

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


class _WithoutQuery(logging.Filter):
    """Uvicorn's access log without query strings: a search for a patient's name is no business of the log."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) == 5 and isinstance(args[2], str):
            record.args = (*args[:2], args[2].split("?", 1)[0], *args[3:])
        return True


def install(app: FastAPI) -> None:
    app.add_middleware(BodyLimit)
    access_log = logging.getLogger("uvicorn.access")
    if not any(isinstance(known, _WithoutQuery) for known in access_log.filters):
        access_log.addFilter(_WithoutQuery())
